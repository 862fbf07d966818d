"""Discovery and protection lookups: refreshContainers, protectable items, protection containers,
backupStatus, backupPreValidateProtection and backupValidateFeatures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure_emulator import engine, errors, ids
from azure_emulator.arm.base import Call, Reply, accepted, iaas_only, page, parse_filter, route, same
from azure_emulator.arm.protection import FABRIC, LOCATIONS, check_fabric
from azure_emulator.arm.vaults import VAULT, find_operation, find_vault, operation_json
from azure_emulator.backup_model import ProtectedItem, Vault
from azure_emulator.records import Vm

A = "Microsoft.RecoveryServices/vaults"


def refresh(call: Call) -> Reply:
    vault = find_vault(call)
    check_fabric(call)
    op = engine.start_refresh(call.state, vault, call.now)
    return accepted(call, location=f"{vault.backup_prefix}/backupFabrics/Azure/operationResults/{op.id}")


def refresh_result(call: Call) -> Reply:
    vault = find_vault(call)
    check_fabric(call)
    op = find_operation(call, vault.id)
    if not op.done:
        return accepted(call, location=f"{vault.backup_prefix}/backupFabrics/Azure/operationResults/{op.id}")
    return Reply(204)


def refresh_status(call: Call) -> Reply:
    vault = find_vault(call)
    check_fabric(call)
    op = find_operation(call, vault.id)
    return Reply(200, operation_json(op, f"{vault.id}/backupFabrics/Azure/operationsStatus/{op.id}"))


def list_protectable(call: Call) -> Reply:
    vault = find_vault(call)
    filters = parse_filter(call.q("$filter"))
    sub = call.sub()
    friendly = filters.get("friendlyname")

    def items() -> Iterator[Any]:
        if not iaas_only(filters):
            return
        for vm in sub.vms.values():
            vm_key = ids.key(vm.id)
            if (
                vm_key in vault.discovered
                and vm.location == vault.location
                and vm_key not in call.state.protection
                and (friendly is None or same(friendly, vm.name))
            ):
                yield vm

    def render(vm: Vm) -> dict[str, Any]:
        container = ids.container_name(vm.resource_group, vm.name)
        return {
            "id": (
                f"{vault.id}/backupFabrics/Azure/protectionContainers/{container}/protectableItems/"
                f"vm;iaasvmcontainerv2;{vm.resource_group};{vm.name}"
            ),
            "name": f"iaasvmcontainerv2;{vm.resource_group};{vm.name}",
            "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectableItems",
            "properties": {
                "backupManagementType": "AzureIaasVM",
                "workloadType": "VM",
                "protectableItemType": "Microsoft.Compute/virtualMachines",
                "friendlyName": vm.name,
                "protectionState": "NotProtected",
                "virtualMachineId": vm.id,
                "virtualMachineVersion": "Compute",
                "resourceGroup": vm.resource_group,
            },
        }

    return page(call, items(), render)


def container_json(vault: Vault, item: ProtectedItem) -> dict[str, Any]:
    return {
        "id": f"{vault.id}/backupFabrics/Azure/protectionContainers/{item.container_name}",
        "name": item.container_name,
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers",
        "properties": {
            "friendlyName": item.vm_name,
            "backupManagementType": "AzureIaasVM",
            "registrationStatus": "Registered",
            "healthStatus": "Healthy",
            "containerType": "Microsoft.Compute/virtualMachines",
            "virtualMachineId": item.vm_id,
            "virtualMachineVersion": "Compute",
            "resourceGroup": item.vm_resource_group,
        },
    }


def list_containers(call: Call) -> Reply:
    vault = find_vault(call)
    filters = parse_filter(call.q("$filter"))
    status = filters.get("status", "Registered")
    friendly = filters.get("friendlyname")
    ok = iaas_only(filters) and same(status, "Registered")
    items = (i for i in vault.items.values() if ok and (friendly is None or same(friendly, i.vm_name)))
    return page(call, items, lambda i: container_json(vault, i))


def get_container(call: Call) -> Reply:
    vault = find_vault(call)
    check_fabric(call)
    names = ids.parse_container_name(call.params["container"])
    item = vault.items.get(ids.key(ids.item_name(*names))) if names else None
    if item is None:
        raise errors.backup_resource_not_found("protection container", call.params["container"])
    return Reply(200, container_json(vault, item))


def backup_status(call: Call) -> Reply:
    body = call.json_body()
    vm_id = str(body.get("resourceId") or "")
    owner = call.state.protection.get(ids.key(vm_id))
    vault = call.state.vaults_by_id.get(owner[0]) if owner else None
    item = vault.items.get(owner[1]) if owner and vault else None
    if not (vault and item) or not same(str(body.get("resourceType") or "VM"), "VM"):
        return Reply(200, {"protectionStatus": "NotProtected"})
    return Reply(
        200,
        {
            "protectionStatus": "Protected",
            "vaultId": ids.resource_id(vault.subscription, vault.resource_group, ids.RSV, "Vaults", vault.name),
            "fabricName": "Azure",
            "containerName": f"iaasvmcontainer;iaasvmcontainerv2;{item.vm_resource_group};{item.vm_name}",
            "protectedItemName": f"vm;iaasvmcontainerv2;{item.vm_resource_group};{item.vm_name}",
            "policyName": item.policy or "",
            "errorCode": "Success",
            "errorMessage": "",  # Azure's example carries one with every answer; a success has nothing to say
        },
    )


def prevalidate(call: Call) -> Reply:
    body = call.json_body()
    vm = call.state.vm_by_id(str(body.get("resourceId") or ""))
    if vm is None:
        return Reply(
            200,
            {
                "status": "Failed",
                "errorCode": "BCMV2VMNotFound",
                "errorMessage": "The virtual machine doesn't exist",
                "recommendation": "Select an existing virtual machine.",
            },
        )
    names = {
        "containerName": f"iaasvmcontainer;iaasvmcontainerv2;{vm.resource_group};{vm.name}",
        "protectedItemName": f"vm;iaasvmcontainerv2;{vm.resource_group};{vm.name}",
    }
    if ids.key(vm.id) in call.state.protection:
        return Reply(
            200,
            {
                "status": "Failed",
                "errorCode": "VirtualMachineAlreadyProtected",
                "errorMessage": "Virtual machine with same name and same resource group is already "
                "protected. Please select `Disable' choice above for backup and go to "
                "backup item corresponding to this VM in the vault",
                "recommendation": "Please do not enable protection again.",
                **names,
            },
        )
    vault = call.state.vaults_by_id.get(ids.key(str(body.get("vaultId") or "")))
    if vault is not None and vault.location != vm.location:
        return Reply(
            200,
            {
                "status": "Failed",
                "errorCode": "UserErrorVmVaultLocationMismatch",
                "errorMessage": "Virtual machine and vault are in different region",
                "recommendation": "Use a vault in the region of the virtual machine.",
                **names,
            },
        )
    return Reply(200, {"status": "Succeeded", **names})


def validate_features(call: Call) -> Reply:
    return Reply(200, {"supportStatus": "Supported"})


ROUTES = [
    route(
        "POST",
        FABRIC + "/refreshContainers",
        "ProtectionContainers_Refresh",
        f"{A}/backupFabrics/refreshContainers/action",
        refresh,
    ),
    route(
        "GET",
        FABRIC + "/operationResults/{op}",
        "ProtectionContainerRefreshOperationResults_Get",
        f"{A}/backupFabrics/operationResults/read",
        refresh_result,
    ),
    route(
        "GET",
        FABRIC + "/operationsStatus/{op}",
        "ProtectionContainerRefreshOperationStatuses_Get",
        f"{A}/backupFabrics/operationsStatus/read",
        refresh_status,
    ),
    route(
        "GET",
        VAULT + "/backupProtectableItems",
        "BackupProtectableItems_List",
        f"{A}/backupProtectableItems/read",
        list_protectable,
    ),
    route(
        "GET",
        VAULT + "/backupProtectionContainers",
        "BackupProtectionContainers_List",
        f"{A}/backupProtectionContainers/read",
        list_containers,
    ),
    route(
        "GET",
        FABRIC + "/protectionContainers/{container}",
        "ProtectionContainers_Get",
        f"{A}/backupFabrics/protectionContainers/read",
        get_container,
    ),
    route(
        "POST",
        LOCATIONS + "/backupStatus",
        "BackupStatus_Get",
        "Microsoft.RecoveryServices/locations/backupStatus/action",
        backup_status,
    ),
    route(
        "POST",
        LOCATIONS + "/backupPreValidateProtection",
        "ProtectionIntent_Validate",
        "Microsoft.RecoveryServices/locations/backupPreValidateProtection/action",
        prevalidate,
    ),
    route(
        "POST",
        LOCATIONS + "/backupValidateFeatures",
        "FeatureSupport_Validate",
        "Microsoft.RecoveryServices/locations/backupValidateFeatures/action",
        validate_features,
    ),
]
