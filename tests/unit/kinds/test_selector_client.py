"""VMBackupSelector's client over a fake fleet and a fake Kubernetes: children created, kept, updated, deleted.

A selector owns ProtectedVM children and starts no Azure operation (its contract has no poll).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from azbackup.api.specs import SelectorSpec, VaultSpec
from azbackup.kinds import selection
from azbackup.kinds.selector import SelectorClient
from azbackup.managed import OperationClient, Resource
from azbackup.reasons import Reason
from azbackup.reconcile.runtime import RuntimeSettings

VAULT = VaultSpec("sub", "rg", "westeurope", "vault")
SPEC = {"vaultRef": {"name": "vault"}, "policyRef": {"name": "daily"}, "matchTags": {"backup": "daily"}}
SELECTOR = Resource("VMBackupSelector", "ns", "tagged", uid="u-1", generation=1, spec=SPEC)


def vm(name: str, tags: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"id": f"/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{name}",
            "name": name, "location": "westeurope", "tags": dict(tags or {"backup": "daily"}),
            "properties": {"storageProfile": {"osDisk": {"osType": "Linux"}}}}


def child_of(vm_raw: Mapping[str, Any], ready: str | None = None, **spec: Any) -> Resource:
    manifest = selection.child_manifest("tagged", "u-1", "ns", SelectorSpec.parse(SPEC),
                                        selection.Candidate.from_vm(vm_raw))
    status = ({"observedGeneration": 1, "conditions": [{"type": "Ready", "status": ready, "reason": "Protected"}]}
              if ready else {})
    return Resource("ProtectedVM", "ns", manifest["metadata"]["name"], generation=1,
                    spec={**manifest["spec"], **spec}, status=status,
                    owner_references=manifest["metadata"]["ownerReferences"])


@dataclass
class World:
    vms: list[dict[str, Any]]
    children: list[Resource] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)

    async def create(self, manifest: Mapping[str, Any]) -> Mapping[str, Any]:
        self.writes.append(("create", manifest["metadata"]["name"]))
        return manifest

    async def patch(self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]) -> None:
        self.writes.append(("patch", name))

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        self.writes.append(("delete", name))

    def client(self) -> SelectorClient:
        async def get(max_age: float) -> Any:
            return SimpleNamespace(raw={v["id"]: v for v in self.vms})

        inventory = SimpleNamespace(fleet=lambda clients: SimpleNamespace(get=get))
        objects = SimpleNamespace(of_kind=lambda kind, namespace=None: list(self.children))
        ctx = SimpleNamespace(objects=objects, inventory=inventory, kube=self, settings=RuntimeSettings())
        return SelectorClient(cast(Any, ctx), cast(Any, None), VAULT, SelectorSpec.parse(SPEC))


WEB, DB, OLD = vm("web"), vm("db"), vm("old", {"backup": "never"})


@dataclass(frozen=True)
class Case:
    id: str
    vms: list[dict[str, Any]]
    children: list[Resource]
    want_up_to_date: bool
    want_reason: Reason  # pending while working, else the ready one
    want_writes: list[str]  # "verb" of each write update() makes, in order


CASES = [
    Case("matched-vms-without-children-are-created", [WEB, DB], [], False, Reason.SELECTING,
         ["create", "create"]),
    Case("ready-children-of-every-match-are-all-protected", [WEB], [child_of(WEB, "True")], True,
         Reason.ALL_PROTECTED, []),
    Case("a-child-whose-vm-no-longer-matches-is-deleted", [OLD], [child_of(OLD, "True")], False,
         Reason.ALL_PROTECTED, ["delete"]),
    Case("a-child-whose-spec-drifted-is-patched", [WEB], [child_of(WEB, "True", policyRef={"name": "other"})],
         False, Reason.ALL_PROTECTED, ["patch"]),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_observe_then_update(case: Case) -> None:
    world = World(list(case.vms), list(case.children))
    client = world.client()
    seen = asyncio.run(client.observe(SELECTOR))
    reason = seen.ready[0] if seen.usable and seen.ready else seen.pending[0] if seen.pending else None
    asyncio.run(client.update(SELECTOR, seen))
    assert (seen.up_to_date, reason, [verb for verb, _ in world.writes]) == (
        case.want_up_to_date, case.want_reason, case.want_writes)


def test_a_selector_follows_no_azure_operation() -> None:
    assert not isinstance(World([]).client(), OperationClient)
