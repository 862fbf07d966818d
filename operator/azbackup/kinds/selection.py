"""Which VMs a VMBackupSelector selects, and the ProtectedVM children that follow (pure).

Unlike Azure Policy's built-in "configure backup on VMs with a tag", matching does not depend on an
allow-list of marketplace images: a VM from a custom image matches like any other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azbackup import API_GROUP, API_VERSION
from azbackup.api.specs import SelectorSpec, TagRequirement
from azbackup.toolkit import ids

SELECTOR_LABEL = f"{API_GROUP}/selector"


@dataclass(frozen=True)
class Candidate:
    vm_id: str
    name: str
    resource_group: str
    location: str
    os_type: str
    tags: Mapping[str, str]

    @classmethod
    def from_vm(cls, vm: Mapping[str, Any]) -> Candidate:
        vm_id = str(vm.get("id", ""))
        rg = ids.resource_group(vm_id)
        os_type = (((vm.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {}).get("osType", "")
        return cls(vm_id, str(vm.get("name", "")), rg, str(vm.get("location", "")), str(os_type),
                   {str(k): str(v) for k, v in (vm.get("tags") or {}).items()})


def _tag(tags: Mapping[str, str], key: str) -> str | None:
    """Azure tag names are case-insensitive; values are compared as written."""
    lowered = key.lower()
    return next((v for k, v in tags.items() if k.lower() == lowered), None)


def _requirement_holds(tags: Mapping[str, str], req: TagRequirement) -> bool:
    value = _tag(tags, req.key)
    match req.operator:
        case "In":
            return value is not None and value in req.values
        case "NotIn":
            return value is None or value not in req.values
        case "Exists":
            return value is not None
        case "DoesNotExist":
            return value is None
    return False


def excluded(spec: SelectorSpec, vm: Candidate) -> bool:
    names = {e.lower() for e in spec.exclude}
    return vm.name.lower() in names or vm.vm_id.lower() in names


def matches(spec: SelectorSpec, vm: Candidate, vault_location: str) -> bool:
    """Region, resource group, OS type and tags; exclusions are counted apart (see `excluded`)."""
    if vm.location.replace(" ", "").lower() != vault_location.replace(" ", "").lower():
        return False
    if spec.resource_groups and vm.resource_group.lower() not in {g.lower() for g in spec.resource_groups}:
        return False
    if spec.os_types and vm.os_type.lower() not in {o.lower() for o in spec.os_types}:
        return False
    if any(_tag(vm.tags, k) != v for k, v in spec.match_tags.items()):
        return False
    return all(_requirement_holds(vm.tags, req) for req in spec.match_expressions)


def child_name(selector: str, vm: Candidate) -> str:
    """Deterministic and collision-safe: readable prefix, and a hash of the selector and the VM id."""
    digest = hashlib.sha256(f"{selector}/{vm.vm_id.lower()}".encode()).hexdigest()[:8]
    base = re.sub(r"[^a-z0-9-]+", "-", f"{selector}-{vm.name}".lower()).strip("-")[:52].rstrip("-")
    return f"{base}-{digest}"


def child_manifest(selector: str, uid: str, namespace: str, spec: SelectorSpec, vm: Candidate) -> dict[str, Any]:
    child_spec: dict[str, Any] = {"vaultRef": {"name": spec.vault}, "vm": vm.vm_id, **spec.template}
    if spec.policy:
        child_spec["policyRef"] = {"name": spec.policy}
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": "ProtectedVM",
        "metadata": {
            "name": child_name(selector, vm), "namespace": namespace,
            "labels": {SELECTOR_LABEL: selector},
            "ownerReferences": [{"apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": "VMBackupSelector",
                                 "name": selector, "uid": uid, "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": child_spec,
    }


def spec_differs(want: Mapping[str, Any], have: Mapping[str, Any]) -> bool:
    """Whether a child's spec lacks what the selector asks for (fields the API defaulted are ignored)."""
    for key, value in want.items():
        if isinstance(value, Mapping) and isinstance(have.get(key), Mapping):
            if spec_differs(value, have[key]):
                return True
        elif have.get(key) != value:
            return True
    return "policyRef" in have and "policyRef" not in want


@dataclass(frozen=True)
class Plan:
    create: Sequence[dict[str, Any]]
    update: Sequence[tuple[str, dict[str, Any]]]  # (child name, full wanted spec)
    delete: Sequence[str]  # child names
    matched: int
    excluded: int

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def plan(selector: str, uid: str, namespace: str, spec: SelectorSpec, vault_location: str,
         vms: Sequence[Candidate], children: Mapping[str, Mapping[str, Any]]) -> Plan:
    """Children to create, update and delete so that each matched VM has exactly one.

    `children` maps each existing child's name to its spec.
    """
    want: dict[str, dict[str, Any]] = {}
    excluded_count = 0
    for vm in vms:
        if not matches(spec, vm, vault_location):
            continue
        if excluded(spec, vm):
            excluded_count += 1
            continue
        manifest = child_manifest(selector, uid, namespace, spec, vm)
        want[manifest["metadata"]["name"]] = manifest
    create = [m for name, m in sorted(want.items()) if name not in children]
    update = [(name, m["spec"]) for name, m in sorted(want.items())
              if name in children and spec_differs(m["spec"], children[name])]
    delete = sorted(name for name in children if name not in want)
    return Plan(create, update, delete, len(want), excluded_count)
