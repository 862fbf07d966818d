"""ProtectedVM's client over a fake ARM and fake shared snapshots: the branches before the checks, every
write it sends, deletion by onDelete, and each error class of the item PUT.

The prerequisite checks themselves are tables of their own (tests/unit/checks, test_protectedvm_conditions);
here the VM is absent from the fleet or never reached, so no VM facts are needed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from azbackup.api.specs import ProtectedVMSpec, VaultSpec
from azbackup.azure import errors
from azbackup.azure import protection_body as pb
from azbackup.azure.inventory import VaultItems
from azbackup.checks.facts import PolicyType
from azbackup.kinds.protectedvm import MIGRATION_KIND, Freshness, ProtectedVMClient
from azbackup.kinds.references import DEFAULT_POLICY, PolicyRef
from azbackup.managed import Observation, Resource
from azbackup.reasons import Reason

from tests.unit.kinds.fake_arm import ERROR_CLASSES, OPERATION_URL, FakeArm, http_error

SUB = "00000000-0000-0000-0000-000000000001"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web"
VAULT = VaultSpec.parse("vault", {"subscriptionId": SUB, "resourceGroup": "rg-backup", "location": "westeurope"})
PUT, DELETE = "backup.protected_items.begin_create_or_update", "backup.protected_items.delete"
POLICY_ID = f"{VAULT.vault_id}/backupPolicies/{DEFAULT_POLICY.name}"


class Snapshot:
    def __init__(self, value: Any) -> None:
        self.value, self.loaded_at, self.age, self.invalidated = value, 0.0, 0.0, False

    async def get(self, max_age: float) -> Any:
        return self.value

    def invalidate(self) -> None:
        self.invalidated = True


@dataclass
class Inventory:
    """The shared snapshots the client reads: the vault's items, the fleet, running configure jobs."""

    item: Mapping[str, Any] | None = None
    running: frozenset[str] = frozenset()
    configures: Snapshot = field(init=False)
    invalidated: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.configures = Snapshot(self.running)

    def vault_items(self, *args: Any) -> Snapshot:
        return Snapshot(VaultItems({VM.lower(): self.item} if self.item else {}))

    def max_age(self, key: str, default: float) -> float:
        return default

    def fleet(self, clients: Any) -> Snapshot:
        return Snapshot({})  # the VM is not in its subscription's fleet

    def running_configures(self, *args: Any) -> Snapshot:
        return self.configures

    def protectable(self, *args: Any) -> Snapshot:
        return Snapshot(frozenset({VM.lower()}))

    def invalidate_vault(self, vault_id: str) -> None:
        self.invalidated.append("items")

    def forget_protection(self, vm_id: str) -> None:
        self.invalidated.append("protection")


def item(state: str, soft_deleted: bool = False, **props: Any) -> dict[str, Any]:
    return {"id": f"{VAULT.vault_id}/backupFabrics/Azure/protectionContainers/c/protectedItems/i",
            "properties": {"sourceResourceId": VM, "protectionState": state, "policyId": POLICY_ID,
                           "isScheduledForDeferredDelete": soft_deleted, **props}}


def client(arm: FakeArm, inventory: Inventory, **spec: Any) -> ProtectedVMClient:
    parsed = ProtectedVMSpec.parse({"vaultRef": {"name": "vault"}, "vm": VM, **spec})
    return ProtectedVMClient(arm.clients(), cast(Any, inventory), VAULT, {}, DEFAULT_POLICY, parsed, Freshness(),
                             dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


def pvm(deleting: bool = False, status: Mapping[str, Any] | None = None) -> Resource:
    return Resource("ProtectedVM", "ns", "web", generation=2, deleting=deleting, status=dict(status or {}))


@dataclass(frozen=True)
class Case:
    id: str
    item: Mapping[str, Any] | None
    spec: Mapping[str, Any] = field(default_factory=dict)
    running: frozenset[str] = frozenset()
    deleting: bool = False
    vm: str = VM
    status: Mapping[str, Any] = field(default_factory=dict)
    want_exists: bool = True
    want_reason: Reason | None = None


OTHER_SUB = VM.replace(SUB, "00000000-0000-0000-0000-000000000002")
CASES = [
    Case("a-vm-of-another-subscription-is-refused", None, vm=OTHER_SUB, want_exists=False,
         want_reason=Reason.SUBSCRIPTION_MISMATCH),
    Case("a-vm-missing-from-the-fleet-is-not-found", None, want_exists=False, want_reason=Reason.VM_NOT_FOUND),
    Case("a-missing-vm-with-an-item-still-exists", item("Protected"), want_reason=Reason.VM_NOT_FOUND),
    Case("deleting-with-no-item-is-done", None, deleting=True, want_exists=False),
    # What Azure keeps is reported (status and an Event) in one last pass before the object goes.
    Case("deleting-a-soft-deleted-item-reports-what-azure-keeps", item("ProtectionStopped", soft_deleted=True),
         deleting=True, want_reason=Reason.KEPT_SOFT_DELETED),
    Case("deleting-a-soft-deleted-item-is-done-once-reported", item("ProtectionStopped", soft_deleted=True),
         deleting=True, status={"retainedInAzure": {"what": "SoftDeleted"}}, want_exists=False),
    Case("deleting-a-protected-item-has-work-left", item("Protected"), deleting=True),
    Case("deleting-with-data-kept-reports-it-once-protection-is-stopped", item("ProtectionStopped"),
         spec={"onDelete": "RetainData"}, deleting=True, want_reason=Reason.KEPT_PROTECTION_STOPPED),
    Case("deleting-with-data-kept-is-done-once-reported", item("ProtectionStopped"), spec={"onDelete": "RetainData"},
         deleting=True, status={"retainedInAzure": {"what": "ProtectionStopped"}}, want_exists=False),
    Case("deleting-with-data-kept-waits-for-a-configure-job-that-may-resume-it", item("ProtectionStopped"),
         spec={"onDelete": "RetainData"}, running=frozenset({"rg-web;web"}), deleting=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_observe(case: Case) -> None:
    spec = {**case.spec, "vm": case.vm}
    observed = client(FakeArm(), Inventory(case.item, case.running), **spec)
    seen = asyncio.run(observed.observe(pvm(case.deleting, case.status)))
    reason = seen.blocked.reason if seen.blocked is not None else None
    assert (seen.exists, reason) == (case.want_exists, case.want_reason)


@dataclass(frozen=True)
class Write:
    id: str
    write: str  # create, update or delete
    item: Mapping[str, Any] | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    seen_diff: tuple[str, ...] = ()
    want_call: str | None = PUT
    want_kind: str | None = "ConfigureProtection"
    want_body: Mapping[str, Any] | None = None


ON_WEB = {"vaultRef": {"name": "vault"}, "vm": VM}
WRITES = [
    Write("create-protects-with-the-policy", "create", want_body=pb.protect_body(ProtectedVMSpec.parse(ON_WEB),
                                                                                  POLICY_ID)),
    Write("create-with-protection-stopped-writes-nothing", "create", spec={"state": "ProtectionStopped"},
          want_call=None, want_kind=None),
    Write("update-re-protects-a-soft-deleted-item", "update", item("ProtectionStopped", soft_deleted=True),
          want_kind="Rehydrate",
          want_body=pb.protect_body(ProtectedVMSpec.parse(ON_WEB), POLICY_ID, rehydrate=True)),
    Write("update-stops-protection-and-keeps-data", "update", item("Protected"), spec={"state": "ProtectionStopped"},
          want_kind="StopProtection", want_body=pb.stop_body(ProtectedVMSpec.parse(ON_WEB))),
    Write("update-re-policies-a-protected-item", "update", item("Protected"),
          want_body=pb.protect_body(ProtectedVMSpec.parse(ON_WEB), POLICY_ID)),
    Write("delete-with-data-deleted-deletes-the-item", "delete", item("Protected"), spec={"onDelete": "DeleteData"},
          want_call=DELETE, want_kind="DeleteBackupData"),
    Write("delete-with-data-kept-stops-protection", "delete", item("Protected"), spec={"onDelete": "RetainData"},
          want_kind="StopProtection", want_body=pb.stop_body(ProtectedVMSpec.parse(ON_WEB))),
]


@pytest.mark.parametrize("case", WRITES, ids=lambda c: c.id)
def test_writes(case: Write) -> None:
    calls = {PUT, DELETE}
    arm = FakeArm(accepted=calls)
    inventory = Inventory(case.item)
    got = asyncio.run(getattr(client(arm, inventory, **case.spec), case.write)(
        pvm(), Observation(exists=case.item is not None, diff=case.seen_diff)))
    assert (arm.calls, got and (got.kind, got.url, got.generation), arm.sent.get(PUT)) == (
        [case.want_call] if case.want_call else [],
        (case.want_kind, OPERATION_URL, 2) if case.want_kind else None, case.want_body)
    assert inventory.invalidated == (["items", "protection"] if case.want_call == PUT else
                                     ["items"] if case.want_call else [])


def test_the_policy_moving_an_item_from_standard_to_enhanced_is_a_migration() -> None:
    arm = FakeArm(accepted={PUT})
    enhanced = ProtectedVMClient(arm.clients(), cast(Any, Inventory(item("Protected", policyType="V1"))), VAULT, {},
                                 PolicyRef("EnhancedPolicy", PolicyType.ENHANCED),
                                 ProtectedVMSpec.parse(ON_WEB), Freshness(), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    got = asyncio.run(enhanced.update(pvm(), Observation(exists=True)))
    assert (got and got.kind) == MIGRATION_KIND


@pytest.mark.parametrize(("status", "code", "want"), ERROR_CLASSES, ids=[row[2] for row in ERROR_CLASSES])
def test_a_failed_put_is_translated_and_the_next_look_for_its_job_reads_azure_again(status: int, code: str,
                                                                                    want: str) -> None:
    inventory = Inventory(None)
    with pytest.raises(getattr(errors, want)):
        asyncio.run(client(FakeArm(answers={PUT: http_error(status, code)}), inventory).create(
            pvm(), Observation(exists=False)))
    assert (inventory.configures.invalidated, inventory.invalidated) == (True, [])
