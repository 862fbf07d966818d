"""BackupVault spec -> Recovery Services vault JSON (pure): the desired body (the diff: `kinds/vault_diff.py`).

Shapes are those of Microsoft.RecoveryServices/vaults api-version 2026-11-01 (PUTVault.json,
GETVault.json in azure-rest-api-specs). Redundancy and soft delete are set through the vault's own
properties (redundancySettings, securitySettings) rather than the older backupstorageconfig and
backupconfig resources: Azure refuses the old API once the vault API has set redundancy
(reference §8.4), so using one API keeps every write on the same path.
"""

from __future__ import annotations

from typing import Any

from azbackup.api.specs import OWNER_TAG, VaultSpec


def enabled(flag: bool) -> str:
    return "Enabled" if flag else "Disabled"


def soft_delete_state(state: str) -> str:
    return "AlwaysON" if state == "AlwaysOn" else state  # the API spells it AlwaysON


def identity_body(spec: VaultSpec) -> dict[str, Any]:
    ident = spec.identity
    if ident is None or not (ident.system_assigned or ident.user_assigned):
        return {"type": "None"}
    kinds = [k for k, on in (("SystemAssigned", ident.system_assigned), ("UserAssigned", bool(ident.user_assigned)))
             if on]
    body: dict[str, Any] = {"type": ", ".join(kinds)}
    if ident.user_assigned:
        body["userAssignedIdentities"] = {i: {} for i in ident.user_assigned}
    return body


def desired_body(spec: VaultSpec, owner: str) -> dict[str, Any]:
    """The full PUT body for a new vault (tags name the owning object)."""
    props: dict[str, Any] = {
        "publicNetworkAccess": spec.public_network_access,
        "redundancySettings": {"standardTierStorageRedundancy": spec.storage_redundancy,
                               "crossRegionRestore": enabled(spec.cross_region_restore)},
        "securitySettings": {
            "softDeleteSettings": {"softDeleteState": soft_delete_state(spec.soft_delete.state),
                                   "softDeleteRetentionPeriodInDays": spec.soft_delete.retention_days},
            # Azure locks only a vault that is already immutable: a new vault starts Unlocked and the
            # update that follows locks it (kinds/vault_diff.py).
            "immutabilitySettings": {"state": "Unlocked" if spec.immutability == "Locked" else spec.immutability},
        },
        "monitoringSettings": {
            "azureMonitorAlertSettings": {"alertsForAllJobFailures": enabled(spec.job_failure_alerts)},
            "classicAlertSettings": {"alertsForCriticalOperations": enabled(spec.critical_operation_alerts)},
        },
    }
    if spec.cross_subscription_restore is not None:
        props["restoreSettings"] = {"crossSubscriptionRestoreSettings": {
            "crossSubscriptionRestoreState": spec.cross_subscription_restore}}
    if spec.encryption is not None:
        enc = spec.encryption
        kek: dict[str, Any] = ({"userAssignedIdentity": enc.user_assigned_identity}
                               if enc.user_assigned_identity else {"useSystemAssignedIdentity": True})
        props["encryption"] = {"keyVaultProperties": {"keyUri": enc.key_uri}, "kekIdentity": kek,
                               "infrastructureEncryption": enabled(enc.infrastructure_encryption)}
    return {
        "location": spec.location,
        "sku": {"name": spec.sku},
        "identity": identity_body(spec),
        "tags": {**spec.tags, OWNER_TAG: owner},
        "properties": props,
    }
