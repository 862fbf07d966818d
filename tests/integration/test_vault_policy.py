"""BackupVault and BackupPolicy against the emulator, with the operator as a real process.

Assertions are on what a user sees (conditions, reasons, events) and on what Azure received (the
emulator's request counters).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from tests.integration.harness import SUB, Arm, Cluster, OperatorProcess, eventually, policy, vault

VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/"


def writes(emulator: Any) -> int:
    counters = emulator.admin.counters()
    return int(counters["kinds"]["write"]) + int(counters["kinds"]["delete"])


def test_vault_and_policy_become_ready(cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("vault-a", storageRedundancy="LocallyRedundant", tags={"team": "a"}),
                  policy("daily", "vault-a"))
    obj = cluster.wait_for("backupvault", "vault-a", operator=operator)
    assert obj["status"]["vaultId"] == VAULT_ID + "vault-a"
    cluster.wait_for("backuppolicy", "daily", operator=operator)
    cluster.kubectl("wait", "--for=condition=Ready", "backupvault/vault-a", "backuppolicy/daily", "--timeout=30s")
    azure = arm.vault("rg-backup", "vault-a")
    assert azure["properties"]["redundancySettings"]["standardTierStorageRedundancy"] == "LocallyRedundant"
    assert azure["tags"] == {"team": "a", "azbackup.dev-owner": f"{cluster.namespace}/vault-a"}
    reasons = [e["reason"] for e in cluster.events("vault-a")]
    assert "Available" in reasons


def test_spec_change_is_applied_with_one_patch(cluster: Cluster, operator: OperatorProcess, arm: Arm,
                                               emulator: Any) -> None:
    cluster.apply(vault("vault-a"))
    cluster.wait_for("backupvault", "vault-a", operator=operator)
    emulator.admin.reset_counters()
    cluster.patch("backupvault", "vault-a", {"spec": {"storageRedundancy": "LocallyRedundant",
                                                       "publicNetworkAccess": "Disabled"}})
    eventually(lambda: arm.vault("rg-backup", "vault-a")["properties"]["publicNetworkAccess"] == "Disabled",
               what="publicNetworkAccess applied")
    cluster.wait_for("backupvault", "vault-a", operator=operator)
    assert emulator.admin.count("Vaults_Update") == 1
    assert emulator.admin.count("Vaults_CreateOrUpdate") == 0


def test_drift_made_in_azure_is_corrected(cluster: Cluster, operator: OperatorProcess, arm: Arm,
                                         emulator: Any) -> None:
    cluster.apply(vault("vault-a"))
    cluster.wait_for("backupvault", "vault-a", operator=operator)
    arm.patch_vault("rg-backup", "vault-a", {"properties": {"publicNetworkAccess": "Disabled"}})
    eventually(lambda: arm.vault("rg-backup", "vault-a")["properties"]["publicNetworkAccess"] == "Enabled",
               timeout=30, what="drift corrected by the periodic pass")


def test_observe_reports_drift_and_writes_nothing(cluster: Cluster, operator: OperatorProcess, arm: Arm,
                                                  emulator: Any) -> None:
    cluster.apply(vault("vault-a"))
    cluster.wait_for("backupvault", "vault-a", operator=operator)
    cluster.annotate("backupvault", "vault-a", **{"azbackup.dev/reconcile-policy": "observe"})
    arm.patch_vault("rg-backup", "vault-a", {"properties": {"publicNetworkAccess": "Disabled"}})
    emulator.admin.reset_counters()
    obj = cluster.wait_for("backupvault", "vault-a", status="True", type_="Stalled", reason="DriftDetected",
                           operator=operator)
    assert any("publicNetworkAccess" in d for d in obj["status"]["drift"])
    time.sleep(5)  # more than one sync period: the drift stays reported and unfixed
    assert writes(emulator) == 0
    assert arm.vault("rg-backup", "vault-a")["properties"]["publicNetworkAccess"] == "Disabled"


def test_skip_sends_nothing(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    cluster.apply(vault("vault-a"))
    cluster.wait_for("backupvault", "vault-a", operator=operator)
    cluster.annotate("backupvault", "vault-a", **{"azbackup.dev/reconcile-policy": "skip"})
    cluster.wait_for("backupvault", "vault-a", status="Unknown", reason="ReconcilePaused", operator=operator)
    emulator.admin.reset_counters()
    time.sleep(5)  # more than one sync period
    assert emulator.admin.counters()["total"] == 0


def test_delete_with_retain_leaves_the_vault(cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("vault-a"))
    cluster.wait_for("backupvault", "vault-a", operator=operator)
    cluster.delete("backupvault", "vault-a")
    cluster.wait_gone("backupvault", "vault-a", operator=operator)
    assert "vault-a" in arm.vault_names("rg-backup")


def test_delete_blocked_while_items_remain_then_unblocked(cluster: Cluster, operator: OperatorProcess, arm: Arm,
                                                          emulator: Any) -> None:
    cluster.apply(vault("vault-a", deletionPolicy="Delete", softDelete={"state": "Disabled"}))
    cluster.wait_for("backupvault", "vault-a", operator=operator)
    arm.protect("rg-backup", "vault-a", "rg-web", "vm-web-01")
    cluster.delete("backupvault", "vault-a")
    # What Azure would refuse is read first and shown as the step it waits for: no delete is sent in vain.
    obj = cluster.wait_for("backupvault", "vault-a", status="True", type_="Reconciling",
                           reason="WaitingForProtectedItems", operator=operator)
    assert "vm-web-01" in cluster.condition("backupvault", "vault-a", "Reconciling")["message"]  # type: ignore[index]
    assert obj["metadata"]["deletionTimestamp"]
    assert [s["done"] for s in obj["status"]["deletion"]["steps"]] == [False, True, True, True]
    time.sleep(3)
    assert emulator.admin.count("Vaults_Delete") == 0  # no storm: no delete at all while Azure would refuse it
    arm.delete_item("rg-backup", "vault-a", "rg-web", "vm-web-01")
    cluster.wait_gone("backupvault", "vault-a", timeout=90, operator=operator)
    assert "vault-a" not in arm.vault_names("rg-backup")


def test_redundancy_change_after_protection_is_reported_not_sent(cluster: Cluster, operator: OperatorProcess,
                                                                  arm: Arm, emulator: Any) -> None:
    cluster.apply(vault("vault-a", storageRedundancy="LocallyRedundant"))
    cluster.wait_for("backupvault", "vault-a", operator=operator)
    arm.protect("rg-backup", "vault-a", "rg-web", "vm-web-01")
    emulator.admin.reset_counters()
    cluster.patch("backupvault", "vault-a", {"spec": {"storageRedundancy": "GeoRedundant"}})
    obj = cluster.wait_for("backupvault", "vault-a", status="True", type_="Stalled",
                           reason="StorageRedundancyLocked", operator=operator)
    assert obj["status"]["storageRedundancyLocked"] is True
    assert "create a new vault" in cluster.condition("backupvault", "vault-a")["message"]  # type: ignore[index]
    assert emulator.admin.count("Vaults_Update") == 0


def test_existing_untagged_vault_is_adopted(cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("rsv-legacy", resourceGroup="rg-legacy", storageRedundancy="LocallyRedundant"))
    cluster.wait_for("backupvault", "rsv-legacy", operator=operator)
    tags = arm.vault("rg-legacy", "rsv-legacy")["tags"]
    assert tags == {"owner": "legacy-team", "azbackup.dev-owner": f"{cluster.namespace}/rsv-legacy"}


def test_vault_of_another_object_is_left_alone(cluster: Cluster, operator: OperatorProcess, arm: Arm,
                                               emulator: Any) -> None:
    arm.vaults.vaults.begin_create_or_update("rg-backup", "vault-b", {
        "location": "westeurope", "sku": {"name": "Standard"},
        "tags": {"azbackup.dev-owner": "other-team/vault-b"}}).result()
    emulator.admin.reset_counters()
    cluster.apply(vault("vault-b", publicNetworkAccess="Disabled"))
    cluster.wait_for("backupvault", "vault-b", status="True", type_="Stalled", reason="OwnedByAnotherObject",
                     operator=operator)
    assert writes(emulator) == 0
    assert arm.vault("rg-backup", "vault-b")["tags"] == {"azbackup.dev-owner": "other-team/vault-b"}


def secret(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def test_credential_secret_missing_wrong_then_fixed(cluster: Cluster, operator: OperatorProcess) -> None:
    from azure_emulator.inventory import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID

    cluster.apply(vault("vault-a", credentialRef={"name": "azure-cred"}))
    cluster.wait_for("backupvault", "vault-a", status="True", type_="Stalled", reason="SecretNotFound",
                     operator=operator)
    cluster.apply(secret("azure-cred", AZURE_TENANT_ID=DEFAULT_TENANT_ID, AZURE_CLIENT_ID=DEFAULT_CLIENT_ID,
                         AZURE_CLIENT_SECRET="not-the-secret"))
    cluster.wait_for("backupvault", "vault-a", status="True", type_="Stalled", reason="AuthenticationFailed",
                     operator=operator)
    cluster.apply(secret("azure-cred", AZURE_TENANT_ID=DEFAULT_TENANT_ID, AZURE_CLIENT_ID=DEFAULT_CLIENT_ID,
                         AZURE_CLIENT_SECRET=DEFAULT_CLIENT_SECRET))
    cluster.wait_for("backupvault", "vault-a", timeout=90, operator=operator)
    assert "not-the-secret" not in operator.logs()
    assert operator.alive()


def test_forbidden_is_stalled_until_the_role_is_granted(cluster: Cluster, operator: OperatorProcess,
                                                        emulator: Any) -> None:
    from azure_emulator.inventory import DEFAULT_CLIENT_ID

    emulator.admin.set_authorization(DEFAULT_CLIENT_ID, ["Microsoft.RecoveryServices/vaults/write"])
    cluster.apply(vault("vault-a"))
    cluster.wait_for("backupvault", "vault-a", status="True", type_="Stalled", reason="AuthorizationFailed",
                     operator=operator)
    emulator.admin.set_authorization(DEFAULT_CLIENT_ID, [])
    cluster.wait_for("backupvault", "vault-a", timeout=60, operator=operator)


@pytest.mark.parametrize(("status", "reason"), [
    pytest.param(429, "Throttled", id="sustained-429"),
    pytest.param(503, "AzureUnavailable", id="sustained-503"),
])
def test_sustained_errors_back_off_and_recover(cluster: Cluster, operator: OperatorProcess, emulator: Any,
                                               status: int, reason: str) -> None:
    fault = emulator.admin.add_fault(operation="Vaults_Get", status=status, count=None, retryAfter=2)
    cluster.apply(vault("vault-a"))
    cluster.wait_for("backupvault", "vault-a", status="False", reason=reason, operator=operator)
    before = emulator.admin.count("Vaults_Get")
    time.sleep(6)
    # At most: the SDK's own quick retries of a transient error, a few times, never a storm.
    assert emulator.admin.count("Vaults_Get") - before <= 16
    assert operator.alive()
    emulator.admin.remove_fault(fault["id"])
    cluster.wait_for("backupvault", "vault-a", timeout=60, operator=operator)


def test_killed_between_create_and_result_creates_exactly_one_vault(
        cluster: Cluster, operator: OperatorProcess, arm: Arm, emulator: Any) -> None:
    # Azure applies the PUT, then the answer is held back: the operator dies without seeing it.
    emulator.admin.add_fault(operation="Vaults_CreateOrUpdate", latency=30, phase="after", count=1)
    cluster.apply(vault("vault-a"))
    eventually(lambda: "vault-a" in arm.vault_names("rg-backup"), what="the PUT reached Azure")
    operator.kill()
    operator.start()
    cluster.wait_for("backupvault", "vault-a", timeout=60, operator=operator)
    assert arm.vault_names("rg-backup").count("vault-a") == 1
    assert emulator.admin.count("Vaults_CreateOrUpdate") <= 2  # the held PUT, at most one idempotent repeat


def test_policy_type_change_is_reported_never_done(cluster: Cluster, operator: OperatorProcess,
                                                   emulator: Any) -> None:
    cluster.apply(vault("vault-a"), policy("daily", "vault-a", policyType="Standard"))
    cluster.wait_for("backuppolicy", "daily", operator=operator)
    emulator.admin.reset_counters()
    cluster.patch("backuppolicy", "daily", {"spec": {"policyType": "Enhanced"}})
    cluster.wait_for("backuppolicy", "daily", status="True", type_="Stalled",
                     reason="PolicyTypeChangeRequiresMigration", operator=operator)
    assert emulator.admin.count("ProtectionPolicies_CreateOrUpdate") == 0


def test_policy_drift_is_corrected_and_in_use_policy_is_not_deleted(
        cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("vault-a"), policy("daily", "vault-a", policyType="Standard"))
    cluster.wait_for("backuppolicy", "daily", operator=operator)
    body = arm.backup.protection_policies.get("vault-a", "rg-backup", "daily").as_dict()
    body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 7
    # a user's edit in Azure: the properties only (id, name and type are read-only in a PUT's body)
    arm.backup.protection_policies.create_or_update("vault-a", "rg-backup", "daily", {"properties": body["properties"]})
    eventually(lambda: arm.backup.protection_policies.get("vault-a", "rg-backup", "daily").as_dict()[
        "properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] == 30,
        timeout=30, what="policy drift corrected")
    arm.protect("rg-backup", "vault-a", "rg-web", "vm-web-01", policy="daily")
    cluster.delete("backuppolicy", "daily")
    cluster.wait_for("backuppolicy", "daily", status="True", type_="Stalled", reason="PolicyInUse",
                     operator=operator)
    assert cluster.get("backuppolicy", "daily") is not None
