"""Who takes over a deleted ProtectedVM's VM as it is protected, and whose vault deletion must wait."""

from __future__ import annotations

from typing import Any

import pytest
from azbackup.kinds import BY_NAME
from azbackup.managed import Resource
from azbackup.reconcile import handover, teardown
from azbackup.reconcile.registry import Registry

VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1"


def pvm(name: str, vault: str = "vault-a", *, vm: str = VM, namespace: str = "ns",
        created: str = "2026-01-01T00:00:00Z", deleting: bool = False,
        status: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "uid": name, "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-02T00:00:00Z"
    return {"kind": "ProtectedVM", "metadata": meta, "spec": {"vaultRef": {"name": vault}, "vm": vm},
            "status": status or {}}


def registry(*bodies: dict[str, Any]) -> Registry:
    reg = Registry(BY_NAME)
    for body in bodies:
        reg.upsert(body)
    return reg


def deleted_first(*others: dict[str, Any]) -> tuple[Resource, Registry]:
    reg = registry(pvm("first", deleting=True), *others)
    obj = reg.get(("ProtectedVM", "ns", "first"))
    assert obj is not None
    return obj, reg


@pytest.mark.parametrize(("others", "heir"), [
    pytest.param([pvm("second", created="2026-01-01T00:01:00Z")], "second",
                 id="a duplicate in the same vault takes over"),
    pytest.param([pvm("third", created="2026-01-01T00:02:00Z"), pvm("second", created="2026-01-01T00:01:00Z")],
                 "second", id="the oldest duplicate takes over"),
    pytest.param([pvm("second", "vault-b")], None, id="a duplicate in another vault does not: protection stops first"),
    pytest.param([pvm("second", namespace="other")], None, id="a duplicate in another namespace does not"),
    pytest.param([pvm("second", deleting=True)], None, id="a duplicate being deleted too does not"),
    pytest.param([pvm("second", vm=VM + "-x")], None, id="another VM is no duplicate"),
    pytest.param([], None, id="alone: onDelete applies"),
])
def test_successor(others: list[dict[str, Any]], heir: str | None) -> None:
    obj, reg = deleted_first(*others)
    found = handover.successor(obj, reg)
    assert (found.name if found else None) == heir


def test_a_vault_waits_only_for_members_following_an_operation() -> None:
    reg = registry(pvm("busy", status={"operation": {"kind": "ConfigureProtection", "url": "https://arm/op"}}),
                   pvm("idle", vm=VM + "-2"), pvm("elsewhere", "vault-b", vm=VM + "-3",
                                                  status={"operation": {"url": "https://arm/op2"}}))
    assert teardown.in_flight(reg, ("ns", "vault-a")) == [("ProtectedVM", "ns", "busy")]
