"""What differs between a BackupVault's spec and the vault Azure returned, and the one-way rules (pure).

Azure refuses some changes once a vault is in a state (redundancy locked once items are protected,
soft delete AlwaysOn, immutability Locked, customer-managed keys on): those are not sent as writes Azure
would refuse but reported as the vault's limitation, with their reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from azbackup.api.specs import OWNER_TAG, VaultSpec
from azbackup.azure.vault_body import desired_body, enabled, identity_body, soft_delete_state
from azbackup.reasons import Reason
from azbackup.toolkit.json import dig


@dataclass(frozen=True)
class OneWayRule:
    """A change Azure refuses once a vault is in a state (redundancy locked, AlwaysOn, Locked, CMK on)."""

    reason: Reason
    message: str


@dataclass(frozen=True)
class VaultDiff:
    diffs: tuple[str, ...]  # human-readable, "field: Azure X, spec Y"
    patch: dict[str, Any]  # PATCH body that fixes what may be fixed
    limitation: OneWayRule | None  # the first one-way rule the spec runs into
    owner_conflict: str | None  # the other owner, when the vault is someone else's


#: records one difference and its place in the PATCH: (label, Azure's value, the spec's, path, value sent)
Check = Callable[[str, object, object, tuple[str, ...], object], None]


def compare(spec: VaultSpec, owner: str, actual: Mapping[str, Any], redundancy_locked: bool | None) -> VaultDiff:
    """What differs between the spec and the vault Azure returned, and the PATCH that converges it.

    One-way Azure rules are not sent as writes Azure would refuse: the field keeps Azure's value in
    the patch and the rule is returned as a limitation (reported as a Stalled reason).
    """
    diffs: list[str] = []
    patch_props: dict[str, Any] = {}
    limits: list[OneWayRule] = []
    props = actual.get("properties") or {}

    tags = dict(actual.get("tags") or {})
    other = tags.get(OWNER_TAG)
    if other and other != owner:
        return VaultDiff((), {}, None, other)
    wanted_tags = {**spec.tags, OWNER_TAG: owner}
    if any(tags.get(k) != v for k, v in wanted_tags.items()):
        missing = sorted(k for k, v in wanted_tags.items() if tags.get(k) != v)
        diffs.append("tags: " + ", ".join(missing) + (" (adopting an untagged vault)" if not other else ""))
    patch: dict[str, Any] = {}
    if diffs:
        patch["tags"] = {**tags, **wanted_tags}  # keep tags others (e.g. Azure Policy) put there

    def check(label: str, have: object, want: object, path: tuple[str, ...], value: object) -> None:
        if have != want:
            diffs.append(f"{label}: Azure {have!r}, spec {want!r}")
            node = patch_props
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = value

    sku = dig(actual, "sku", "name")
    if {sku, spec.sku} != {"RS0", "Standard"} and sku != spec.sku:  # RS0 is Standard's other name
        diffs.append(f"sku: Azure {sku!r}, spec {spec.sku!r}")
        patch["sku"] = {"name": spec.sku}

    check("publicNetworkAccess", props.get("publicNetworkAccess"), spec.public_network_access,
          ("publicNetworkAccess",), spec.public_network_access)

    red = props.get("redundancySettings") or {}
    have_red = red.get("standardTierStorageRedundancy")
    if have_red != spec.storage_redundancy:
        if redundancy_locked:
            limits.append(OneWayRule(Reason.STORAGE_REDUNDANCY_LOCKED,
                               f"storageRedundancy is {have_red} in Azure and locked: Azure fixes it when the first "
                               f"item is protected. To use {spec.storage_redundancy}, create a new vault and "
                               "protect the VMs there, or set storageRedundancy back to " + str(have_red)))
        else:
            check("storageRedundancy", have_red, spec.storage_redundancy,
                  ("redundancySettings", "standardTierStorageRedundancy"), spec.storage_redundancy)
    have_crr = red.get("crossRegionRestore", "Disabled")
    want_crr = enabled(spec.cross_region_restore)
    if have_crr == "Enabled" and want_crr == "Disabled":
        limits.append(OneWayRule(Reason.CROSS_REGION_RESTORE_IRREVERSIBLE,
                           "crossRegionRestore is on in Azure and cannot be turned off; a new vault is needed "
                           "to go without it"))
    else:
        check("crossRegionRestore", have_crr, want_crr, ("redundancySettings", "crossRegionRestore"), want_crr)

    _security(spec, props, check, limits)

    mon = props.get("monitoringSettings") or {}
    want_jobs = enabled(spec.job_failure_alerts)
    check("monitoring.jobFailureAlerts", dig(mon, "azureMonitorAlertSettings", "alertsForAllJobFailures")
          or "Enabled", want_jobs, ("monitoringSettings", "azureMonitorAlertSettings", "alertsForAllJobFailures"),
          want_jobs)
    want_crit = enabled(spec.critical_operation_alerts)
    check("monitoring.criticalOperationAlerts", dig(mon, "classicAlertSettings", "alertsForCriticalOperations")
          or "Enabled", want_crit, ("monitoringSettings", "classicAlertSettings", "alertsForCriticalOperations"),
          want_crit)

    want_ident = identity_body(spec)
    have_ident = actual.get("identity") or {"type": "None"}
    if (str(have_ident.get("type", "None")).replace(" ", "") != want_ident["type"].replace(" ", "")
            or set(have_ident.get("userAssignedIdentities") or {}) != set(want_ident.get("userAssignedIdentities")
                                                                          or {})):
        diffs.append(f"identity: Azure {have_ident.get('type')!r}, spec {want_ident['type']!r}")
        patch["identity"] = want_ident

    have_key = dig(props, "encryption", "keyVaultProperties", "keyUri")
    if have_key and spec.encryption is None:
        limits.append(OneWayRule(Reason.ENCRYPTION_IRREVERSIBLE,
                           "customer-managed-key encryption is on in Azure and cannot be turned off; keep "
                           "spec.encryption (you may rotate the key)"))
    elif spec.encryption is not None and have_key != spec.encryption.key_uri:
        diffs.append(f"encryption.keyUri: Azure {have_key!r}, spec {spec.encryption.key_uri!r}")
        patch_props["encryption"] = desired_body(spec, owner)["properties"]["encryption"]

    if patch_props:
        patch["properties"] = patch_props
    return VaultDiff(tuple(diffs), patch, limits[0] if limits else None, None)


def _security(spec: VaultSpec, props: Mapping[str, Any], check: Check, limits: list[OneWayRule]) -> None:
    """Soft delete, immutability and cross-subscription restore: the settings with one-way states."""
    soft = dig(props, "securitySettings", "softDeleteSettings") or {}
    have_soft, want_soft = soft.get("softDeleteState"), soft_delete_state(spec.soft_delete.state)
    if have_soft == "AlwaysON" and want_soft != "AlwaysON":
        limits.append(OneWayRule(Reason.SOFT_DELETE_ALWAYS_ON,
                           "soft delete is AlwaysON in Azure, which is irreversible; set softDelete.state AlwaysOn"))
    else:
        check("softDelete.state", have_soft, want_soft,
              ("securitySettings", "softDeleteSettings", "softDeleteState"), want_soft)
    days = spec.soft_delete.retention_days
    check("softDelete.retentionDays", soft.get("softDeleteRetentionPeriodInDays"), days,
          ("securitySettings", "softDeleteSettings", "softDeleteRetentionPeriodInDays"), days)

    have_imm = dig(props, "securitySettings", "immutabilitySettings", "state") or "Disabled"
    if have_imm == "Locked" and spec.immutability != "Locked":
        limits.append(OneWayRule(Reason.IMMUTABILITY_LOCKED,
                           "immutability is Locked in Azure, which is irreversible; set immutability Locked"))
    else:
        # Azure locks only an immutable vault (UserErrorUnsupportedVaultImmutabilityStateChange otherwise):
        # Disabled -> Locked is sent as Unlocked first, and the next update locks it.
        step = "Unlocked" if have_imm == "Disabled" and spec.immutability == "Locked" else spec.immutability
        check("immutability", have_imm, spec.immutability,
              ("securitySettings", "immutabilitySettings", "state"), step)

    if spec.cross_subscription_restore is not None:
        have_csr = dig(props, "restoreSettings", "crossSubscriptionRestoreSettings",
                       "crossSubscriptionRestoreState") or "Enabled"
        if have_csr == "PermanentlyDisabled" and spec.cross_subscription_restore != "PermanentlyDisabled":
            limits.append(OneWayRule(Reason.CROSS_SUBSCRIPTION_RESTORE_PERMANENTLY_DISABLED,
                                     "crossSubscriptionRestore is PermanentlyDisabled in Azure, which is "
                                     "irreversible; set crossSubscriptionRestore PermanentlyDisabled"))
        else:
            check("crossSubscriptionRestore", have_csr, spec.cross_subscription_restore,
                  ("restoreSettings", "crossSubscriptionRestoreSettings", "crossSubscriptionRestoreState"),
                  spec.cross_subscription_restore)
