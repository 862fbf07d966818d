"""BackupVault's client over a fake ARM: what observe reports and reads, what each write sends, each error class.

One row per behaviour. The vault Azure holds is the body the operator would send, plus what Azure fills in,
changed only where a row says so.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from azbackup.api.specs import OWNER_TAG, VaultSpec
from azbackup.azure import errors, vault_body
from azbackup.kinds.vault import VaultClient, owner_of
from azbackup.managed import Observation, Operation, OperationResult, OperationState, Resource
from azbackup.reasons import Reason

from tests.unit.kinds.fake_arm import ERROR_CLASSES, OPERATION_URL, FakeArm, http_error, reason_of

SPEC = {"subscriptionId": "sub", "resourceGroup": "rg", "location": "westeurope"}
OBJ = Resource("BackupVault", "ns", "vault", generation=3, spec=SPEC)
OWNER = owner_of(OBJ)
GET = "vaults.vaults.get"
LOCK = "backup.backup_resource_storage_configs_non_crr.get"
VAULT_ID = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/vault"


def spec(**changes: Any) -> VaultSpec:
    return VaultSpec.parse("vault", {**SPEC, **changes})


def azure_vault(change: Callable[[dict[str, Any]], None] | None = None, state: str = "Succeeded") -> dict[str, Any]:
    """The vault as Azure returns it after the operator's PUT, then changed by `change`."""
    body = copy.deepcopy(vault_body.desired_body(spec(), OWNER))
    body.update(id=VAULT_ID, name="vault", identity={"type": "None", "principalId": None})
    body["properties"]["provisioningState"] = state
    if change is not None:
        change(body)
    return body


def set_path(*path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        node = body
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return change


LOCRS = set_path("properties", "redundancySettings", "standardTierStorageRedundancy", value="LocallyRedundant")


def locked(state: str) -> dict[str, Any]:
    return {"properties": {"storageTypeState": state}}


@dataclass(frozen=True)
class Case:
    id: str
    answers: Mapping[str, Any]
    deleting: bool = False
    want_exists: bool = True
    want_up_to_date: bool = True
    want_usable: bool = True
    want_reason: Reason | None = None
    want_diff: tuple[str, ...] = ()
    want_calls: tuple[str, ...] = (GET,)
    want_status: Mapping[str, Any] = field(default_factory=dict)  # fields of status the row is about


CASES = [
    Case("absent-vault-does-not-exist", {GET: http_error(404, "ResourceNotFound")}, want_exists=False,
         want_up_to_date=True),
    Case("converged-vault-is-usable-with-one-read", {GET: azure_vault()},
         want_status={"vaultId": VAULT_ID, "storageRedundancy": "GeoRedundant", "provisioningState": "Succeeded"}),
    Case("a-vault-still-provisioning-is-not-usable", {GET: azure_vault(state="Creating")}, want_usable=False,
         want_reason=Reason.PROVISIONING),
    Case("another-objects-vault-is-left-alone",
         {GET: azure_vault(set_path("tags", OWNER_TAG, value="other/vault"))},
         want_reason=Reason.OWNED_BY_ANOTHER_OBJECT),
    Case("public-access-drift-is-a-diff",
         {GET: azure_vault(set_path("properties", "publicNetworkAccess", value="Disabled"))},
         want_up_to_date=False, want_diff=("publicNetworkAccess: Azure 'Disabled', spec 'Enabled'",)),
    Case("an-untagged-vault-is-adopted-by-a-tag-diff", {GET: azure_vault(set_path("tags", value={}))},
         want_up_to_date=False, want_diff=(f"tags: {OWNER_TAG} (adopting an untagged vault)",)),
    Case("other-redundancy-asks-whether-it-is-locked-and-is-a-diff-when-not",
         {GET: azure_vault(LOCRS), LOCK: locked("Unlocked")}, want_up_to_date=False,
         want_diff=("storageRedundancy: Azure 'LocallyRedundant', spec 'GeoRedundant'",), want_calls=(GET, LOCK),
         want_status={"storageRedundancyLocked": False}),
    Case("locked-redundancy-is-a-limitation-not-a-write", {GET: azure_vault(LOCRS), LOCK: locked("Locked")},
         want_reason=Reason.STORAGE_REDUNDANCY_LOCKED, want_calls=(GET, LOCK),
         want_status={"storageRedundancyLocked": True}),
    Case("soft-delete-always-on-is-a-limitation",
         {GET: azure_vault(set_path("properties", "securitySettings", "softDeleteSettings", "softDeleteState",
                                    value="AlwaysON"))},
         want_reason=Reason.SOFT_DELETE_ALWAYS_ON),
    Case("a-deleting-vault-reports-no-drift",
         {GET: azure_vault(set_path("properties", "publicNetworkAccess", value="Disabled"))}, deleting=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_observe(case: Case) -> None:
    arm = FakeArm(answers=dict(case.answers))
    obj = Resource("BackupVault", "ns", "vault", generation=3, spec=SPEC, deleting=case.deleting)
    seen = asyncio.run(VaultClient(arm.clients(), spec(), OWNER).observe(obj))
    got = (seen.exists, seen.up_to_date, seen.usable or not seen.exists, reason_of(seen), seen.diff,
           tuple(arm.calls), {k: seen.status.get(k) for k in case.want_status})
    assert got == (case.want_exists, case.want_up_to_date, case.want_usable, case.want_reason, case.want_diff,
                   case.want_calls, dict(case.want_status))


def test_a_missing_resource_group_is_its_own_failure_not_an_absent_vault() -> None:
    arm = FakeArm(answers={GET: http_error(404, "ResourceGroupNotFound")})
    with pytest.raises(errors.ResourceGroupMissing):
        asyncio.run(VaultClient(arm.clients(), spec(), OWNER).observe(OBJ))


@pytest.mark.parametrize(("status", "code", "want"), ERROR_CLASSES, ids=[row[2] for row in ERROR_CLASSES])
def test_errors_reading_the_vault_are_translated(status: int, code: str, want: str) -> None:
    arm = FakeArm(answers={GET: http_error(status, code)})
    with pytest.raises(getattr(errors, want)):
        asyncio.run(VaultClient(arm.clients(), spec(), OWNER).observe(OBJ))


@pytest.mark.parametrize(("accepted", "want"), [
    pytest.param(True, Operation("CreateVault", OPERATION_URL, "", 3), id="accepted-create-is-followed-by-url"),
    pytest.param(False, None, id="synchronous-create-has-nothing-to-follow"),
])
def test_create_sends_the_desired_body(accepted: bool, want: Operation | None) -> None:
    put = "vaults.vaults.begin_create_or_update"
    arm = FakeArm(accepted={put} if accepted else set())
    got = asyncio.run(VaultClient(arm.clients(), spec(), OWNER).create(OBJ, Observation(exists=False)))
    started = got and Operation(got.kind, got.url, "", got.generation)
    assert (started, arm.calls, arm.sent[put]) == (want, [put], vault_body.desired_body(spec(), OWNER))


@dataclass(frozen=True)
class UpdateCase:
    id: str
    actual: dict[str, Any] | Exception
    seen_status: Mapping[str, Any] = field(default_factory=dict)
    want_calls: tuple[str, ...] = ()
    want_patch: Mapping[str, Any] | None = None


PATCH = "vaults.vaults.begin_update"
UPDATES = [
    UpdateCase("drift-is-patched-with-only-what-differs",
               azure_vault(set_path("properties", "publicNetworkAccess", value="Disabled")),
               want_calls=(GET, PATCH), want_patch={"properties": {"publicNetworkAccess": "Enabled"}}),
    UpdateCase("a-vault-converged-since-observe-gets-no-write", azure_vault(), want_calls=(GET,)),
    UpdateCase("locked-redundancy-is-never-patched", azure_vault(LOCRS), {"storageRedundancyLocked": True},
               want_calls=(GET,)),
    UpdateCase("a-vault-gone-since-observe-is-created-again", http_error(404, "ResourceNotFound"),
               want_calls=(GET, "vaults.vaults.begin_create_or_update")),
]


@pytest.mark.parametrize("case", UPDATES, ids=lambda c: c.id)
def test_update(case: UpdateCase) -> None:
    arm = FakeArm(answers={GET: case.actual})
    seen = Observation(exists=True, up_to_date=False, status=case.seen_status)
    asyncio.run(VaultClient(arm.clients(), spec(), OWNER).update(OBJ, seen))
    assert (tuple(arm.calls), arm.sent.get(PATCH)) == (case.want_calls, case.want_patch)


def test_delete_is_followed_by_its_operation_url() -> None:
    arm = FakeArm(accepted={"vaults.vaults.begin_delete"})
    got = asyncio.run(VaultClient(arm.clients(), spec(), OWNER).delete(OBJ, Observation(exists=True)))
    assert (got and (got.kind, got.url), arm.calls) == (("DeleteVault", OPERATION_URL), ["vaults.vaults.begin_delete"])


@pytest.mark.parametrize(("status", "code", "want"), ERROR_CLASSES, ids=[row[2] for row in ERROR_CLASSES])
def test_errors_of_a_write_are_translated(status: int, code: str, want: str) -> None:
    arm = FakeArm(answers={"vaults.vaults.begin_delete": http_error(status, code)})
    with pytest.raises(getattr(errors, want)):
        asyncio.run(VaultClient(arm.clients(), spec(), OWNER).delete(OBJ, Observation(exists=True)))


def test_a_vault_with_items_refuses_deletion_as_its_own_failure() -> None:
    arm = FakeArm(answers={"vaults.vaults.begin_delete": http_error(400, "ServiceResourceNotEmpty")})
    with pytest.raises(errors.DeleteBlocked):
        asyncio.run(VaultClient(arm.clients(), spec(), OWNER).delete(OBJ, Observation(exists=True)))


@pytest.mark.parametrize(("kind", "want"), [
    pytest.param("DeleteVault", Reason.DELETE_BLOCKED, id="failed-delete-is-blocked"),
    pytest.param("CreateVault", Reason.AZURE_ERROR, id="failed-create-is-an-azure-error"),
])
def test_failed_operation(kind: str, want: Reason) -> None:
    result = OperationResult(OperationState.FAILED, "ServiceResourceNotEmpty", "items left")
    hold = VaultClient(FakeArm().clients(), spec(), OWNER).failed_operation(OBJ, Operation(kind, "u", ""), result)
    assert (hold.reason, hold.message) == (want, f"{kind} failed in Azure: ServiceResourceNotEmpty: items left")


@pytest.mark.parametrize(("policy", "want"), [
    pytest.param({}, True, id="retained-by-default"),
    pytest.param({"deletionPolicy": "Delete"}, False, id="deleted-when-asked"),
])
def test_deletion_policy_decides_whether_azure_keeps_the_vault(policy: Mapping[str, str], want: bool) -> None:
    client = VaultClient(FakeArm().clients(), spec(**policy), OWNER)
    assert client.keeps_azure_on_delete(OBJ) is want


def test_poll_reads_the_saved_operation_url() -> None:
    arm = FakeArm(urls={OPERATION_URL.split("?")[0]: {"status": "Succeeded"}})
    got = asyncio.run(VaultClient(arm.clients(), spec(), OWNER).poll(OBJ, Operation("CreateVault", OPERATION_URL, "")))
    assert (got.state, arm.calls) == (OperationState.SUCCEEDED, [f"GET {OPERATION_URL.split('?')[0]}"])
