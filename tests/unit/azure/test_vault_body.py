"""BackupVault spec vs the vault Azure returns: diffs, the PATCH, one-way rules and ownership."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from azbackup.api.specs import OWNER_TAG, VaultSpec
from azbackup.azure import vault_body
from azbackup.kinds import vault_diff
from azbackup.reasons import Reason

OWNER = "team-a/vault-a"
SPEC = VaultSpec.parse("vault-a", {"subscriptionId": "00000000-0000-0000-0000-000000000001",
                                   "resourceGroup": "rg", "location": "westeurope",
                                   "storageRedundancy": "LocallyRedundant", "tags": {"team": "a"}})


def azure(change: Callable[[dict[str, Any]], None] | None = None, spec: VaultSpec = SPEC) -> dict[str, Any]:
    """What Azure returns for a vault created from `spec`, then changed."""
    body = copy.deepcopy(vault_body.desired_body(spec, OWNER))
    body["properties"]["provisioningState"] = "Succeeded"
    if change:
        change(body)
    return body


def props(**kw: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        for path, value in kw.items():
            node = body["properties"]
            keys = path.split("__")
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = value
    return change


def test_vault_created_from_the_spec_has_no_diff() -> None:
    diff = vault_diff.compare(SPEC, OWNER, azure(), redundancy_locked=False)
    assert (diff.diffs, diff.patch, diff.limitation, diff.owner_conflict) == ((), {}, None, None)


def test_rs0_and_standard_are_the_same_sku() -> None:
    assert vault_diff.compare(SPEC, OWNER, azure(lambda b: b.update(sku={"name": "RS0", "tier": "Standard"})),
                              False).diffs == ()


@pytest.mark.parametrize(("change", "field", "patch"), [
    pytest.param(props(publicNetworkAccess="Disabled"), "publicNetworkAccess",
                 {"properties": {"publicNetworkAccess": "Enabled"}}, id="public-network-access"),
    pytest.param(props(redundancySettings__standardTierStorageRedundancy="GeoRedundant"), "storageRedundancy",
                 {"properties": {"redundancySettings": {"standardTierStorageRedundancy": "LocallyRedundant"}}},
                 id="redundancy-before-lock"),
    pytest.param(props(securitySettings__softDeleteSettings__softDeleteRetentionPeriodInDays=30),
                 "softDelete.retentionDays",
                 {"properties": {"securitySettings": {"softDeleteSettings": {"softDeleteRetentionPeriodInDays": 14}}}},
                 id="soft-delete-days"),
    pytest.param(props(monitoringSettings__azureMonitorAlertSettings__alertsForAllJobFailures="Disabled"),
                 "jobFailureAlerts",
                 {"properties": {"monitoringSettings": {"azureMonitorAlertSettings": {"alertsForAllJobFailures":
                                                                                      "Enabled"}}}},
                 id="alerts"),
])
def test_drift_is_found_and_patched(change: Callable[[dict[str, Any]], None], field: str,
                                    patch: dict[str, Any]) -> None:
    diff = vault_diff.compare(SPEC, OWNER, azure(change), redundancy_locked=False)
    assert len(diff.diffs) == 1
    assert field in diff.diffs[0]
    assert diff.patch == patch


def test_untagged_vault_is_adopted_keeping_foreign_tags() -> None:
    diff = vault_diff.compare(SPEC, OWNER, azure(lambda b: b.update(tags={"cost-center": "42"})), False)
    assert diff.patch == {"tags": {"cost-center": "42", "team": "a", OWNER_TAG: OWNER}}
    assert "adopting" in diff.diffs[0]


def test_vault_of_another_object_is_never_touched() -> None:
    diff = vault_diff.compare(SPEC, OWNER, azure(lambda b: b["tags"].update({OWNER_TAG: "team-b/x"})), False)
    assert (diff.owner_conflict, diff.patch) == ("team-b/x", {})


@pytest.mark.parametrize(("change", "spec_change", "reason"), [
    pytest.param(props(redundancySettings__standardTierStorageRedundancy="GeoRedundant"), {},
                 Reason.STORAGE_REDUNDANCY_LOCKED, id="redundancy-after-lock"),
    pytest.param(props(securitySettings__immutabilitySettings__state="Locked"), {"immutability": "Unlocked"},
                 Reason.IMMUTABILITY_LOCKED, id="locked-immutability"),
    pytest.param(props(securitySettings__softDeleteSettings__softDeleteState="AlwaysON"), {},
                 Reason.SOFT_DELETE_ALWAYS_ON, id="always-on-soft-delete"),
    pytest.param(props(redundancySettings__crossRegionRestore="Enabled"), {},
                 Reason.CROSS_REGION_RESTORE_IRREVERSIBLE, id="crr-cannot-be-turned-off"),
    pytest.param(props(encryption={"keyVaultProperties": {"keyUri": "https://kv.vault.azure.net/keys/k"}}), {},
                 Reason.ENCRYPTION_IRREVERSIBLE, id="cmk-cannot-be-turned-off"),
    pytest.param(props(restoreSettings__crossSubscriptionRestoreSettings__crossSubscriptionRestoreState=
                       "PermanentlyDisabled"), {"crossSubscriptionRestore": "Enabled"},
                 Reason.CROSS_SUBSCRIPTION_RESTORE_PERMANENTLY_DISABLED, id="csr-permanently-disabled-is-one-way"),
])
def test_one_way_rules_are_limitations_not_writes(change: Callable[[dict[str, Any]], None],
                                                  spec_change: dict[str, Any], reason: Reason) -> None:
    spec = VaultSpec.parse("vault-a", {**{"subscriptionId": SPEC.subscription_id, "resourceGroup": "rg",
                                          "location": "westeurope", "storageRedundancy": "LocallyRedundant",
                                          "tags": {"team": "a"}}, **spec_change})
    diff = vault_diff.compare(spec, OWNER, azure(change), redundancy_locked=True)
    assert diff.limitation is not None
    assert diff.limitation.reason is reason
    assert diff.patch.get("properties", {}) == {} or reason is Reason.IMMUTABILITY_LOCKED


def spec_with(**changes: Any) -> VaultSpec:
    return VaultSpec.parse("vault-a", {"subscriptionId": SPEC.subscription_id, "resourceGroup": "rg",
                                       "location": "westeurope", "storageRedundancy": "LocallyRedundant",
                                       "tags": {"team": "a"}, **changes})


def test_a_new_locked_vault_is_created_unlocked_and_then_locked() -> None:
    locked = spec_with(immutability="Locked")
    created = vault_body.desired_body(locked, OWNER)
    assert created["properties"]["securitySettings"]["immutabilitySettings"] == {"state": "Unlocked"}
    diff = vault_diff.compare(locked, OWNER, azure(spec=locked), redundancy_locked=False)
    assert diff.patch == {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Locked"}}}}


@pytest.mark.parametrize(("have", "sent"), [
    pytest.param("Disabled", "Unlocked", id="disabled-goes-through-unlocked"),
    pytest.param("Unlocked", "Locked", id="unlocked-is-locked"),
])
def test_locking_takes_the_steps_azure_accepts(have: str, sent: str) -> None:
    diff = vault_diff.compare(spec_with(immutability="Locked"), OWNER,
                              azure(props(securitySettings__immutabilitySettings__state=have)), False)
    assert diff.patch["properties"]["securitySettings"]["immutabilitySettings"] == {"state": sent}


@pytest.mark.parametrize(("have", "want", "patch"), [
    pytest.param(None, None, {}, id="unset-leaves-azure-alone"),
    pytest.param(None, "Disabled", {"properties": {"restoreSettings": {"crossSubscriptionRestoreSettings": {
        "crossSubscriptionRestoreState": "Disabled"}}}}, id="azure-default-enabled-is-disabled"),
    pytest.param("Disabled", "PermanentlyDisabled", {"properties": {"restoreSettings": {
        "crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": "PermanentlyDisabled"}}}},
                 id="disabled-is-made-permanent"),
])
def test_cross_subscription_restore(have: str | None, want: str | None, patch: dict[str, Any]) -> None:
    spec = spec_with(**({"crossSubscriptionRestore": want} if want else {}))
    change = (props(restoreSettings={"crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": have}})
              if have else None)
    body = azure(change, spec=SPEC)
    diff = vault_diff.compare(spec, OWNER, body, redundancy_locked=False)
    assert (diff.patch, diff.limitation) == (patch, None)
