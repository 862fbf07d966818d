"""Vault backup settings: storage redundancy (backupstorageconfig), soft delete (backupconfig) and policies."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from azure_emulator import errors, ids, immutability, limits, mua, policy_bodies
from azure_emulator.arm.base import Call, Reply, page, parse_filter, route
from azure_emulator.arm.vault_settings import REDUNDANCY, SOFT_DELETE, crr_error, storage_model_modify_error
from azure_emulator.arm.vaults import VAULT, find_vault
from azure_emulator.backup_model import Policy, Vault
from azure_emulator.errors import ArmError

A = "Microsoft.RecoveryServices/vaults"


def storage_config_json(v: Vault) -> dict[str, Any]:
    return {
        "id": f"{v.id}/backupstorageconfig/vaultstorageconfig",
        "name": "vaultstorageconfig",
        "type": "Microsoft.RecoveryServices/vaults/backupstorageconfig",
        "properties": {
            "storageModelType": v.redundancy,
            "storageType": v.redundancy,
            "storageTypeState": "Locked" if v.storage_locked else "Unlocked",
            "crossRegionRestoreFlag": v.cross_region_restore,
        },
    }


def _apply_storage_config(call: Call) -> Vault:
    vault = find_vault(call)
    props = call.json_body().get("properties") or {}
    if not isinstance(props, Mapping):
        raise errors.invalid_input("properties must be an object.")
    wanted = props.get("storageType") or props.get("storageModelType") or vault.redundancy
    match = next((r for r in REDUNDANCY if r.lower() == str(wanted).lower()), None)
    if match is None:
        raise errors.invalid_input(f"storageType must be one of {', '.join(REDUNDANCY)}.")
    if match != vault.redundancy and vault.storage_locked:
        raise storage_model_modify_error()
    crr = props.get("crossRegionRestoreFlag", vault.cross_region_restore)
    if vault.cross_region_restore and not crr:
        raise errors.invalid_input("Cross Region Restore cannot be disabled once enabled.")
    if crr and match != "GeoRedundant":
        raise crr_error()
    vault.redundancy, vault.cross_region_restore = match, bool(crr)
    return vault


def get_storage_config(call: Call) -> Reply:
    return Reply(200, storage_config_json(find_vault(call)))


def put_storage_config(call: Call) -> Reply:
    return Reply(200, storage_config_json(_apply_storage_config(call)))


def patch_storage_config(call: Call) -> Reply:
    _apply_storage_config(call)
    return Reply(204)


def vault_config_json(v: Vault) -> dict[str, Any]:
    return {
        "id": f"{v.id}/backupconfig/vaultconfig",
        "name": "vaultconfig",
        "type": "Microsoft.RecoveryServices/vaults/backupconfig",
        "properties": {
            "enhancedSecurityState": v.enhanced_security,
            "softDeleteFeatureState": v.soft_delete_state,
            "softDeleteRetentionPeriodInDays": v.soft_delete_days,
            "isSoftDeleteFeatureStateEditable": v.soft_delete_state != "AlwaysON",
        },
    }


def _apply_vault_config(call: Call) -> Vault:
    vault = find_vault(call)
    props = call.json_body().get("properties") or {}
    changes: dict[str, Any] = {}
    for field, attr in (
        ("softDeleteFeatureState", "soft_delete_state"),
        ("enhancedSecurityState", "enhanced_security"),
    ):
        if props.get(field):
            value = next((s for s in SOFT_DELETE if s.lower() == str(props[field]).lower()), None)
            if value is None:
                raise errors.invalid_input(f"{field} must be one of {', '.join(SOFT_DELETE)}.")
            if getattr(vault, attr) == "AlwaysON" and value != "AlwaysON":
                raise immutability.soft_delete_always_on(field, value)
            if attr == "soft_delete_state" and value == "Disabled" and vault.soft_delete_state != "Disabled":
                mua.check(call, vault, mua.DISABLE_SOFT_DELETE, props.get("resourceGuardOperationRequests"))
            changes[attr] = value
    days = props.get("softDeleteRetentionPeriodInDays")
    if days is not None:
        if not isinstance(days, int) or not 14 <= days <= 180:
            raise errors.invalid_input("softDeleteRetentionPeriodInDays must be between 14 and 180.")
        changes["soft_delete_days"] = days
    for attr, value in changes.items():
        setattr(vault, attr, value)
    return vault


def get_vault_config(call: Call) -> Reply:
    return Reply(200, vault_config_json(find_vault(call)))


def put_vault_config(call: Call) -> Reply:
    return Reply(200, vault_config_json(_apply_vault_config(call)))


def policy_json(v: Vault, p: Policy) -> dict[str, Any]:
    props = copy.deepcopy(p.properties)
    props["protectedItemsCount"] = sum(
        1 for i in v.items.values() if not i.soft_deleted and i.policy and ids.key(i.policy) == ids.key(p.name)
    )
    return {
        "id": v.policy_id(p.name),
        "name": p.name,
        "type": "Microsoft.RecoveryServices/vaults/backupPolicies",
        "properties": props,
    }


def find_policy(call: Call, vault: Vault) -> Policy:
    policy = vault.policies.get(ids.key(call.params["policy"]))
    if policy is None:
        raise errors.backup_resource_not_found("backup policy", call.params["policy"])
    return policy


def get_policy(call: Call) -> Reply:
    vault = find_vault(call)
    return Reply(200, policy_json(vault, find_policy(call, vault)))


def put_policy(call: Call) -> Reply:
    vault = find_vault(call)
    name = call.params["policy"]
    props = call.json_body().get("properties")
    if not isinstance(props, Mapping):
        raise errors.invalid_input("properties is required.")
    props = {k: copy.deepcopy(v) for k, v in props.items() if k != "protectedItemsCount"}
    # ARM reads property names without regard to case (az 2.91 sends `instantRpDetails`) and answers in
    # the spec's spelling, so a policy written with either spelling reads back as `instantRPDetails`.
    if "instantRpDetails" in props:
        props["instantRPDetails"] = props.pop("instantRpDetails")
    existing = vault.policies.get(ids.key(name))
    kind = policy_bodies.validate(props, existing.policy_type if existing else None)
    cut = immutability.retention_cut(existing.properties, props) if existing is not None else None
    if cut and immutability.immutable(vault):
        # Shortening a retention would expire points early: refused before the edit counts (immutable vaults),
        # whatever a Resource Guard approved.
        raise immutability.denied_on_immutable_item()
    if existing is not None and mua.retention_reduced(existing.properties, props):
        mua.check(call, vault, mua.UPDATE_POLICY, props.get("resourceGuardOperationRequests"))
    props.pop("resourceGuardOperationRequests", None)  # a request, not part of the policy
    # 50 policy creates/edits per vault in 24 hours (Azure Backup FAQ); a refused write does not count.
    vault.policy_writes = limits.recent_writes(vault.policy_writes, call.now)
    refusal = limits.policy_write_refusal(vault.policy_writes, call.now)
    if refusal is not None:
        raise refusal
    vault.policy_writes.append(call.now)
    props = policy_bodies.with_service_defaults(props)
    props.setdefault("policyType", kind)
    if existing is not None:
        existing.properties, existing.policy_type = props, kind
        policy = existing
    else:
        policy = vault.policies[ids.key(name)] = Policy(name, props, kind)
    return Reply(200, policy_json(vault, policy))


def delete_policy(call: Call) -> Reply:
    vault = find_vault(call)
    policy = vault.policies.get(ids.key(call.params["policy"]))
    if policy is None:
        return Reply(204)
    users = [i for i in vault.items.values() if i.policy and ids.key(i.policy) == ids.key(policy.name)]
    if users:
        raise ArmError(
            400,
            "BMSUserErrorPolicyInUse",  # emulator choice
            f"The policy '{policy.name}' cannot be deleted as it is associated with "
            f"{len(users)} backup item(s); move them to another policy or stop their protection first.",
        )
    del vault.policies[ids.key(policy.name)]
    return Reply(200)


def list_policies(call: Call) -> Reply:
    vault = find_vault(call)
    wanted = parse_filter(call.q("$filter")).get("backupmanagementtype")
    items = [p for p in vault.policies.values() if wanted is None or wanted.lower() == "azureiaasvm"]
    return page(call, iter(items), lambda p: policy_json(vault, p))


ROUTES = [
    route(
        "GET",
        VAULT + "/backupstorageconfig/vaultstorageconfig",
        "BackupResourceStorageConfigsNonCRR_Get",
        f"{A}/backupstorageconfig/read",
        get_storage_config,
    ),
    route(
        "PUT",
        VAULT + "/backupstorageconfig/vaultstorageconfig",
        "BackupResourceStorageConfigsNonCRR_Update",
        f"{A}/backupstorageconfig/write",
        put_storage_config,
    ),
    route(
        "PATCH",
        VAULT + "/backupstorageconfig/vaultstorageconfig",
        "BackupResourceStorageConfigsNonCRR_Patch",
        f"{A}/backupstorageconfig/write",
        patch_storage_config,
    ),
    route(
        "GET",
        VAULT + "/backupconfig/vaultconfig",
        "BackupResourceVaultConfigs_Get",
        f"{A}/backupconfig/read",
        get_vault_config,
    ),
    route(
        "PUT",
        VAULT + "/backupconfig/vaultconfig",
        "BackupResourceVaultConfigs_Put",
        f"{A}/backupconfig/write",
        put_vault_config,
    ),
    route(
        "PATCH",
        VAULT + "/backupconfig/vaultconfig",
        "BackupResourceVaultConfigs_Update",
        f"{A}/backupconfig/write",
        put_vault_config,
    ),
    route("GET", VAULT + "/backupPolicies/{policy}", "ProtectionPolicies_Get", f"{A}/backupPolicies/read", get_policy),
    route(
        "PUT",
        VAULT + "/backupPolicies/{policy}",
        "ProtectionPolicies_CreateOrUpdate",
        f"{A}/backupPolicies/write",
        put_policy,
    ),
    route(
        "DELETE",
        VAULT + "/backupPolicies/{policy}",
        "ProtectionPolicies_Delete",
        f"{A}/backupPolicies/delete",
        delete_policy,
    ),
    route("GET", VAULT + "/backupPolicies", "BackupPolicies_List", f"{A}/backupPolicies/read", list_policies),
]
