"""Protected items: PUT (enable, modify, resume, stop, suspend, undelete), GET, list, DELETE, and the
operation status/result URLs of item operations."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from azure_emulator import engine, errors, ids, mua, verdicts
from azure_emulator.arm import guards
from azure_emulator.arm.base import NEVER, Call, Reply, accepted, iaas_only, iso, page, parse_filter, route, same
from azure_emulator.arm.vaults import SUB, VAULT, find_operation, find_vault, operation_json
from azure_emulator.backup_model import Policy, ProtectedItem, Vault
from azure_emulator.errors import ArmError
from azure_emulator.lro import Operation

A = "Microsoft.RecoveryServices/vaults"
FABRIC = VAULT + "/backupFabrics/{fabric}"
CONTAINER = FABRIC + "/protectionContainers/{container}"
ITEM = CONTAINER + "/protectedItems/{item}"
ITEM_TYPE = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems"
LOCATIONS = SUB + "/providers/Microsoft.RecoveryServices/locations/{region}"


def check_fabric(call: Call) -> None:
    if not same(call.params["fabric"], "Azure"):
        raise errors.backup_resource_not_found("fabric", call.params["fabric"])


def item_names(call: Call) -> tuple[str, str] | None:
    """`(vm resource group, vm name)` from the container and item names, when both agree."""
    container = ids.parse_container_name(call.params["container"])
    item = ids.parse_item_name(call.params["item"])
    if container is None or item is None or ids.key("/".join(container)) != ids.key("/".join(item)):
        return None
    return item


def find_item(call: Call) -> tuple[Vault, ProtectedItem]:
    vault = find_vault(call)
    check_fabric(call)
    names = item_names(call)
    item = vault.items.get(ids.key(ids.item_name(*names))) if names else None
    if item is None:
        raise errors.item_not_found()
    return vault, item


def item_path(vault: Vault, item: ProtectedItem) -> str:
    return ids.item_id(vault.subscription, vault.resource_group, vault.name, item.vm_resource_group, item.vm_name)


def item_json(
    state_policies: Mapping[str, Policy],
    vault: Vault,
    item: ProtectedItem,
    *,
    extended: bool = False,
    soft_delete_days: int = 14,
) -> dict[str, Any]:
    policy = state_policies.get(ids.key(item.policy)) if item.policy else None
    last_rp = item.recovery_points[-1].time if item.recovery_points else None
    props: dict[str, Any] = {
        "protectedItemType": "Microsoft.Compute/virtualMachines",
        "backupManagementType": "AzureIaasVM",
        "workloadType": "VM",
        "containerName": ids.short_container_name(item.vm_resource_group, item.vm_name),
        "sourceResourceId": item.vm_id,
        "virtualMachineId": item.vm_id,
        "friendlyName": item.vm_name,
        "protectionState": item.state,
        "protectionStatus": "Healthy" if item.health_status == "Passed" else "Unhealthy",
        "healthStatus": item.health_status,
        "lastBackupStatus": item.last_backup_status,
        "lastBackupTime": iso(item.last_backup_time) or NEVER,
        "lastRecoveryPoint": iso(last_rp),
        "protectedItemDataId": item.data_id,
        "isScheduledForDeferredDelete": item.soft_deleted,
    }
    if policy:
        props["policyId"] = vault.policy_id(policy.name)
        props["policyName"] = policy.name
        props["policyType"] = policy.policy_type
    if item.health_details:
        props["healthDetails"] = copy.deepcopy(item.health_details)
    if item.exclusion is not None:
        props["extendedProperties"] = {"diskExclusionProperties": copy.deepcopy(item.exclusion)}
    if item.soft_deleted:
        # The time of deletion: Azure PowerShell's DateOfPurge adds the retention days to it.
        props["deferredDeleteTimeInUTC"] = iso(item.deleted_at)
        props["softDeleteRetentionPeriodInDays"] = soft_delete_days
    if extended:
        info: dict[str, Any] = {"recoveryPointCount": len(item.recovery_points), "policyInconsistent": False}
        if item.recovery_points:
            info["oldestRecoveryPoint"] = iso(item.recovery_points[0].time)
        props["extendedInfo"] = info
    return {"id": item_path(vault, item), "name": item.name, "type": ITEM_TYPE, "properties": props}


def render_item(vault: Vault, item: ProtectedItem, extended: bool = False) -> dict[str, Any]:
    return item_json(vault.policies, vault, item, extended=extended, soft_delete_days=vault.soft_delete_days)


def get_item(call: Call) -> Reply:
    vault, item = find_item(call)
    expand = parse_filter(call.q("$filter")).get("expand", "")
    return Reply(200, render_item(vault, item, extended=expand.lower() == "extendedinfo"))


def _policy(vault: Vault, policy_id: object) -> Policy:
    text = str(policy_id or "")
    prefix = f"{vault.id}/backupPolicies/".lower()
    if not text.lower().startswith(prefix):
        raise errors.invalid_configure_protection(f"policyId '{text}' is not a policy of this vault")
    policy = vault.policies.get(ids.key(text[len(prefix) :]))
    if policy is None:
        raise errors.invalid_configure_protection(f"policy '{text[len(prefix) :]}' does not exist")
    return policy


def _item_lro(call: Call, vault: Vault, op: Operation) -> Reply:
    path = (
        f"{vault.backup_prefix}/backupFabrics/Azure/protectionContainers/{call.params['container']}"
        f"/protectedItems/{call.params['item']}"
    )
    return accepted(
        call, location=f"{path}/operationResults/{op.id}", async_operation=f"{path}/operationsStatus/{op.id}"
    )


def put_item(call: Call) -> Reply:
    """Enable, modify, resume or stop protection, or undelete a soft-deleted item (reference §3e)."""
    vault = find_vault(call)
    check_fabric(call)
    names = item_names(call)
    if names is None:
        raise errors.invalid_configure_protection("container and item names do not name the same VM")
    props = call.json_body().get("properties")
    if not isinstance(props, Mapping):
        raise errors.invalid_configure_protection("properties is required")
    kind = props.get("protectedItemType")
    if kind and not same(str(kind), "Microsoft.Compute/virtualMachines"):
        raise errors.invalid_configure_protection(f"protectedItemType '{kind}' is not supported")
    source = str(props.get("sourceResourceId") or "")
    if source:
        ref = ids.parse_resource_id(source)
        if ref is None or not (
            same(ref.resource_group, names[0])
            and same(ref.name, names[1])
            and same(ref.subscription, vault.subscription)
        ):
            raise errors.invalid_configure_protection("sourceResourceId does not match the container and item names")
    item = vault.items.get(ids.key(ids.item_name(*names)))
    desired = str(props.get("protectionState") or "")
    if item is not None and item.soft_deleted:
        if props.get("isRehydrate"):
            elsewhere = call.state.protection.get(ids.key(item.vm_id))
            if elsewhere is not None and elsewhere[0] != vault.key:
                # Emulator choice: the VM is protected again in another vault; undeleting here would make two.
                raise errors.invalid_input(
                    "The virtual machine is protected by another vault; stop its protection "
                    "there before undeleting this item."
                )
            return _item_lro(call, vault, engine.start_undelete(call.state, vault, item, call.now))
        raise errors.invalid_input("The item is in soft deleted state; undelete it (isRehydrate) before changing it.")
    if props.get("isRehydrate"):
        raise errors.invalid_input("isRehydrate applies to soft-deleted items only.")
    if desired in ("ProtectionStopped", "BackupsSuspended"):
        if item is None:
            raise errors.invalid_configure_protection("the item is not protected")
        if desired == "BackupsSuspended" and vault.immutability not in ("Unlocked", "Locked"):
            raise errors.invalid_input("BackupsSuspended needs a vault with immutability enabled (Unlocked or Locked).")
        op = engine.start_stop(call.state, vault, item, desired, call.now)
        return _item_lro(call, vault, op)
    policy = _policy(vault, props.get("policyId"))
    exclusion = (props.get("extendedProperties") or {}).get("diskExclusionProperties")
    if exclusion is not None and not isinstance(exclusion, Mapping):
        raise errors.invalid_configure_protection("diskExclusionProperties must be an object")
    if exclusion is not None and not exclusion.get("diskLunList") and not exclusion.get("isInclusionList"):
        exclusion = None  # "exclude no disk" resets an earlier selection (the CLI's resetexclusionsettings)
    vm = call.state.vm_by_id(source or (item.vm_id if item else ""))
    if item is None:
        if vm is None:
            raise errors.invalid_configure_protection("the virtual machine does not exist")
        if (
            call.state.settings.require_discovery
            and vm.location == vault.location
            and ids.key(vm.id) not in vault.discovered
        ):
            raise errors.invalid_configure_protection("the VM has not been discovered; call refreshContainers first")
        change = verdicts.Change.ENABLE
    else:
        old = vault.policies.get(ids.key(item.policy)) if item.policy else None
        old_type = old.policy_type if old else policy.policy_type
        if old is not None and mua.retention_reduced(old.properties, policy.properties):
            mua.check(call, vault, mua.UPDATE_ITEM, props.get("resourceGuardOperationRequests"))
        # Refused before anything is accepted: no job, no operation (backup-azure-vm-migrate-enhanced-policy).
        refusal = verdicts.policy_change_refusal(
            call.state.facts(vm, item.vm_id),
            old_type,
            policy.policy_type,
            backup_running=engine.backup_running(call.state, vault, item),
        )
        if refusal is not None:
            raise ArmError(400, refusal.code, refusal.message)
        if item.state in ("ProtectionStopped", "BackupsSuspended"):
            change = verdicts.Change.RESUME
        elif old_type == "V1" and policy.policy_type == "V2":
            change = verdicts.Change.MIGRATE
        else:
            change = verdicts.Change.MODIFY
    op = engine.start_configure(
        call.state,
        vault,
        vm,
        item,
        policy=policy,
        exclusion=dict(exclusion) if exclusion is not None else None,
        change=change,
        now=call.now,
    )
    return _item_lro(call, vault, op)


def delete_item(call: Call) -> Reply:
    vault, item = find_item(call)
    guards.require_unlocked(call, vault, item_path(vault, item), mua.DELETE_ITEM)
    if item.soft_deleted and vault.soft_delete_state != "Disabled":
        raise errors.invalid_input("The item is already soft deleted; disable soft delete to delete it permanently.")
    op = engine.start_delete(call.state, vault, item, call.now)
    return accepted(
        call,
        location=f"{vault.backup_prefix}/backupOperationResults/{op.id}",
        async_operation=f"{vault.backup_prefix}/backupOperations/{op.id}",
    )


def item_status_json(op: Operation) -> dict[str, Any]:
    body = operation_json(op, op.id)
    if op.job_id:
        body["properties"] = {"objectType": "OperationStatusJobExtendedInfo", "jobId": op.job_id}
    return body


def item_operation_status(call: Call) -> Reply:
    vault = find_vault(call)
    return Reply(200, item_status_json(find_operation(call, vault.id)))


def item_operation_result(call: Call) -> Reply:
    vault = find_vault(call)
    op = find_operation(call, vault.id)
    if not op.done:
        return _item_lro(call, vault, op)
    if op.failure:
        raise errors.bad_request(op.failure.code, op.failure.message)
    if op.kind == "Restore":
        return Reply(204)  # restore.md §9.1 (the real answer is unverified; the SDK ignores the body)
    names = item_names(call)
    item = vault.items.get(ids.key(ids.item_name(*names))) if names else None
    return Reply(200, render_item(vault, item)) if item else Reply(204)


def backup_operation_status(call: Call) -> Reply:
    vault = find_vault(call)
    return Reply(200, item_status_json(find_operation(call, vault.id)))


def backup_operation_result(call: Call) -> Reply:
    vault = find_vault(call)
    op = find_operation(call, vault.id)
    if not op.done:
        return accepted(
            call,
            location=f"{vault.backup_prefix}/backupOperationResults/{op.id}",
            async_operation=f"{vault.backup_prefix}/backupOperations/{op.id}",
        )
    if op.failure:
        raise errors.bad_request(op.failure.code, op.failure.message)
    return Reply(204)


def list_protected(call: Call) -> Reply:
    vault = find_vault(call)
    filters = parse_filter(call.q("$filter"))
    checks: dict[str, Callable[[ProtectedItem, str], bool]] = {
        "itemtype": lambda _, v: same(v, "VM"),
        "policyname": lambda i, v: same(i.policy or "", v),
        "protectionstate": lambda i, v: same(i.state, v),
        "friendlyname": lambda i, v: same(i.vm_name, v),
        "containername": lambda i, v: (
            same(ids.short_container_name(i.vm_resource_group, i.vm_name), v) or same(i.container_name, v)
        ),
    }
    ok = iaas_only(filters)
    items = (
        i
        for i in vault.items.values()
        if ok and all(check(i, filters[k]) for k, check in checks.items() if k in filters)
    )
    expand = filters.get("expand", "").lower() == "extendedinfo"
    return page(call, items, lambda i: render_item(vault, i, extended=expand))


ROUTES = [
    route("GET", ITEM, "ProtectedItems_Get", f"{A}/backupFabrics/protectionContainers/protectedItems/read", get_item),
    route(
        "PUT",
        ITEM,
        "ProtectedItems_CreateOrUpdate",
        f"{A}/backupFabrics/protectionContainers/protectedItems/write",
        put_item,
    ),
    route(
        "DELETE",
        ITEM,
        "ProtectedItems_Delete",
        f"{A}/backupFabrics/protectionContainers/protectedItems/delete",
        delete_item,
    ),
    route(
        "GET",
        ITEM + "/operationsStatus/{op}",
        "ProtectedItemOperationStatuses_Get",
        f"{A}/backupFabrics/protectionContainers/protectedItems/operationsStatus/read",
        item_operation_status,
    ),
    route(
        "GET",
        ITEM + "/operationResults/{op}",
        "ProtectedItemOperationResults_Get",
        f"{A}/backupFabrics/protectionContainers/protectedItems/operationResults/read",
        item_operation_result,
    ),
    route(
        "GET",
        VAULT + "/backupOperations/{op}",
        "BackupOperationStatuses_Get",
        f"{A}/backupOperations/read",
        backup_operation_status,
    ),
    route(
        "GET",
        VAULT + "/backupOperationResults/{op}",
        "BackupOperationResults_Get",
        f"{A}/backupOperationResults/read",
        backup_operation_result,
    ),
    route(
        "GET",
        VAULT + "/backupProtectedItems",
        "BackupProtectedItems_List",
        f"{A}/backupProtectedItems/read",
        list_protected,
    ),
]
