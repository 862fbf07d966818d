"""The rules of vault settings on PUT/PATCH: allowed values, one-way settings, redundancy locking."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from azure_emulator import errors, ids, immutability, mua, threats
from azure_emulator.arm.base import Call, tags_of
from azure_emulator.backup_model import Vault
from azure_emulator.errors import ArmError

REDUNDANCY = ("LocallyRedundant", "GeoRedundant", "ZoneRedundant")


SOFT_DELETE = ("Enabled", "Disabled", "AlwaysON")


IMMUTABILITY = ("Disabled", "Unlocked", "Locked")


def _identity(v: Vault, doc: object, tenant: str) -> dict[str, Any] | None:
    if not isinstance(doc, Mapping) or not doc.get("type"):
        raise errors.invalid_parameter("identity")
    kind = str(doc["type"])
    kinds = {k.strip().lower() for k in kind.split(",")}
    if not kinds <= {"systemassigned", "userassigned", "none"}:
        raise errors.invalid_parameter("identity", f"Unknown identity type '{kind}'.")
    if kinds == {"none"}:
        return None
    out: dict[str, Any] = {"type": kind}
    if "systemassigned" in kinds:
        out["principalId"] = ids.stable_uuid(v.id, "principal")
        out["tenantId"] = tenant
    if "userassigned" in kinds:
        uai = doc.get("userAssignedIdentities") or {}
        if not uai:
            raise errors.invalid_parameter("identity", "UserAssigned needs userAssignedIdentities.")
        out["userAssignedIdentities"] = {
            k: {"principalId": ids.stable_uuid(k, "principal"), "clientId": ids.stable_uuid(k, "client")} for k in uai
        }
    return out


def _merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for k, val in patch.items():
        out[k] = (
            _merge(out[k], val) if isinstance(val, Mapping) and isinstance(out.get(k), Mapping) else copy.deepcopy(val)
        )
    return out


def _one_of(value: object, allowed: tuple[str, ...], name: str) -> str:
    for a in allowed:
        if isinstance(value, str) and value.lower() == a.lower():
            return a
    raise errors.invalid_parameter(name, f"Allowed values: {', '.join(allowed)}.")


def apply_changes(call: Call, v: Vault, body: Mapping[str, Any]) -> None:
    """Validate every change of a vault PUT/PATCH first, then apply them all (a refusal changes nothing)."""
    changes: dict[str, Any] = {}
    if "tags" in body:
        changes["tags"] = tags_of(body)
    if body.get("sku") is not None:
        sku = body["sku"]
        name = _one_of(sku.get("name") if isinstance(sku, Mapping) else None, ("Standard", "RS0"), "sku")
        changes["sku"] = {"name": name, "tier": "Standard"} if name == "RS0" else {"name": name}
    if body.get("identity") is not None:
        changes["identity"] = _identity(v, body["identity"], call.state.tenant_id)
    props = body.get("properties") or {}
    if not isinstance(props, Mapping):
        raise errors.invalid_parameter("properties")
    if "publicNetworkAccess" in props:
        changes["public_network_access"] = _one_of(
            props["publicNetworkAccess"], ("Enabled", "Disabled"), "publicNetworkAccess"
        )
    redundancy = props.get("redundancySettings") or {}
    new_redundancy = v.redundancy
    if redundancy.get("standardTierStorageRedundancy"):
        new_redundancy = _one_of(
            redundancy["standardTierStorageRedundancy"], REDUNDANCY, "standardTierStorageRedundancy"
        )
        if new_redundancy != v.redundancy and v.storage_locked:
            raise storage_model_modify_error()
        changes["redundancy"] = new_redundancy
    crr = v.cross_region_restore
    if redundancy.get("crossRegionRestore"):
        crr = _one_of(redundancy["crossRegionRestore"], ("Enabled", "Disabled"), "crossRegionRestore") == "Enabled"
        if v.cross_region_restore and not crr:
            raise errors.invalid_parameter(
                "crossRegionRestore", "Cross Region Restore cannot be disabled once enabled."
            )
        changes["cross_region_restore"] = crr
    if crr and new_redundancy != "GeoRedundant":
        raise crr_error()
    security = props.get("securitySettings") or {}
    soft = security.get("softDeleteSettings") or {}
    if soft.get("softDeleteState"):
        state = _one_of(soft["softDeleteState"], SOFT_DELETE, "softDeleteState")
        if v.soft_delete_state == "AlwaysON" and state != "AlwaysON":
            raise immutability.soft_delete_always_on("softDeleteState", state)
        if state == "Disabled" and v.soft_delete_state != "Disabled":
            mua.check(call, v, mua.DISABLE_SOFT_DELETE, props.get("resourceGuardOperationRequests"))
        changes["soft_delete_state"] = state
    if soft.get("softDeleteRetentionPeriodInDays") is not None:
        days = soft["softDeleteRetentionPeriodInDays"]
        if not isinstance(days, int) or not 14 <= days <= 180:
            raise errors.invalid_parameter("softDeleteRetentionPeriodInDays", "Allowed range: 14 to 180 days.")
        changes["soft_delete_days"] = days
    if soft.get("enhancedSecurityState"):
        enhanced = _one_of(soft["enhancedSecurityState"], SOFT_DELETE, "enhancedSecurityState")
        if v.enhanced_security == "AlwaysON" and enhanced != "AlwaysON":
            raise immutability.soft_delete_always_on("enhancedSecurityState", enhanced)
        changes["enhanced_security"] = enhanced
    wanted_immutability = (security.get("immutabilitySettings") or {}).get("state")
    if wanted_immutability:
        imm = _one_of(wanted_immutability, IMMUTABILITY, "immutabilitySettings")
        immutability.check_state_change(v.immutability, imm)
        changes["immutability"] = imm
    if security.get("sourceScanConfiguration") is not None:
        changes.update(threats.scan_changes(v, security["sourceScanConfiguration"], call.now))
    if isinstance(props.get("monitoringSettings"), Mapping):
        changes["monitoring"] = _merge(v.monitoring, props["monitoringSettings"])
    if "encryption" in props:
        changes["encryption"] = _encryption(v, props["encryption"])
    if isinstance(props.get("restoreSettings"), Mapping):
        csr = ("crossSubscriptionRestoreSettings", "crossSubscriptionRestoreState")
        have = ((v.restore_settings or {}).get(csr[0]) or {}).get(csr[1])
        want = (props["restoreSettings"].get(csr[0]) or {}).get(csr[1], have)
        if have == "PermanentlyDisabled" and want != have:
            raise errors.invalid_parameter(csr[1], "Cross subscription restore is permanently disabled for this vault.")
        changes["restore_settings"] = _merge(v.restore_settings or {}, props["restoreSettings"])
    if isinstance(props.get("costManagementSettings"), Mapping):
        changes["cost_management"] = _merge(v.cost_management or {}, props["costManagementSettings"])
    for name, value in changes.items():
        setattr(v, name, value)
    v.etag_time = call.now


def _encryption(v: Vault, doc: object) -> dict[str, Any] | None:
    """Customer-managed keys cannot be turned off once on, nor infrastructure encryption changed."""
    given: Mapping[str, Any] = doc if isinstance(doc, Mapping) else {}
    key_uri = (given.get("keyVaultProperties") or {}).get("keyUri")
    if v.encryption:
        if not key_uri:
            raise errors.invalid_parameter("encryption", "Encryption with customer-managed keys cannot be disabled.")
        old_infra = v.encryption.get("infrastructureEncryption")
        new_infra = given.get("infrastructureEncryption", old_infra)
        if old_infra and new_infra != old_infra:
            raise errors.invalid_parameter("encryption", "infrastructureEncryption cannot be changed once set.")
        return _merge(v.encryption, given)
    if doc is None:
        return None
    if not key_uri:
        raise errors.invalid_parameter("encryption", "keyVaultProperties.keyUri is required.")
    return copy.deepcopy(dict(given))


def storage_model_modify_error() -> ArmError:
    return ArmError(
        400,
        "StorageModelModifyError",
        "Storage Redundancy option is locked when the first machine is registered with the vault, "
        "and cannot be modified thereafter.",
    )


def crr_error() -> ArmError:
    return ArmError(
        400,
        "BMSUserErrorUnableToEnableCrossRegionRestore",
        "Cross Region Restore can only be enabled for a GeoRedundant vault.",
    )
