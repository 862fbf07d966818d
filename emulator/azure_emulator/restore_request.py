"""Pure: reading a `RestoreRequestResource` body into a `RestoreRequest`, refusing what cannot be run.

Refusals are synchronous 400 `BMSUserErrorInvalidInput` ("Input provided for the call is invalid",
the code a bad `TriggerRestoreAsync` body gets: Azure/azure-sdk-for-net #41262). What each restore
type needs follows what the real clients send (reference restore.md §1.3): the CLI refuses an
AlternateLocation restore without target VM, resource group, VNet and subnet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure_emulator import errors, ids
from azure_emulator.errors import ArmError
from azure_emulator.recovery_tiers import rehydration_days
from azure_emulator.restore_model import RestoreRequest

OBJECT_TYPES = ("IaasVMRestoreRequest", "IaasVMRestoreWithRehydrationRequest")
#: What the emulator restores; OriginalLocation (replace disks) and Offline are refused (emulator choice).
RECOVERY_TYPES = ("AlternateLocation", "RestoreDisks")
REHYDRATION_PRIORITIES = ("Standard", "High")


def _invalid(detail: str) -> ArmError:
    return errors.invalid_input(detail)


def _text(props: Mapping[str, Any], name: str) -> str:
    value = props.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(f"'{name}' must be a string.")
    return value.strip()


def _resource_id(props: Mapping[str, Any], name: str, provider: str, *types: str) -> str:
    value = _text(props, name)
    if value:
        ref = ids.parse_resource_id(value)
        if ref is None or not ref.is_type(provider, *types):
            raise _invalid(f"'{name}' is not a {provider}/{'/'.join(types)} resource id.")
    return value


def _group_id(props: Mapping[str, Any]) -> str:
    value = _text(props, "targetResourceGroupId")
    parts = value.strip("/").split("/")
    if value and (len(parts) != 4 or parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups"):
        raise _invalid("'targetResourceGroupId' is not a resource group id.")
    return value


def group_of(group_id: str) -> tuple[str, str]:
    """`/subscriptions/{sub}/resourceGroups/{rg}` -> (sub, rg)."""
    parts = group_id.strip("/").split("/")
    return parts[1], parts[3]


def parse(body: Mapping[str, Any], recovery_point: str) -> RestoreRequest:
    """The request of a restore of `recovery_point` (the name in the URL); ArmError 400 when invalid."""
    props = body.get("properties")
    if not isinstance(props, Mapping):
        raise _invalid("'properties' is required.")
    object_type = _text(props, "objectType")
    if object_type not in OBJECT_TYPES:
        raise _invalid(f"objectType '{object_type}' is not a virtual machine restore request.")
    recovery_type = _text(props, "recoveryType")
    if recovery_type not in RECOVERY_TYPES:
        raise _invalid(f"recoveryType '{recovery_type}' is not supported (AlternateLocation or RestoreDisks).")
    rp_id = _text(props, "recoveryPointId")
    if rp_id and rp_id != recovery_point:
        raise _invalid(f"recoveryPointId '{rp_id}' is not the recovery point of the URL.")
    source = _resource_id(props, "sourceResourceId", "Microsoft.Compute", "virtualMachines")
    storage = _resource_id(props, "storageAccountId", "Microsoft.Storage", "storageAccounts")
    identity_details = props.get("identityBasedRestoreDetails")
    if not storage and isinstance(identity_details, Mapping):
        storage = _resource_id(identity_details, "targetStorageAccountId", "Microsoft.Storage", "storageAccounts")
    if not storage:
        raise _invalid("a staging storage account (storageAccountId) is required.")
    target_vm = _resource_id(props, "targetVirtualMachineId", "Microsoft.Compute", "virtualMachines")
    target_group = _group_id(props)
    vnet = _resource_id(props, "virtualNetworkId", "Microsoft.Network", "virtualNetworks")
    subnet = _resource_id(props, "subnetId", "Microsoft.Network", "virtualNetworks", "subnets")
    if recovery_type == "AlternateLocation":
        missing = [
            n
            for n, v in (
                ("targetVirtualMachineId", target_vm),
                ("targetResourceGroupId", target_group),
                ("virtualNetworkId", vnet),
                ("subnetId", subnet),
            )
            if not v
        ]
        if missing:
            raise _invalid(f"an AlternateLocation restore needs {', '.join(missing)}.")
        vm_ref = ids.parse_resource_id(target_vm)
        assert vm_ref is not None
        if (ids.key(vm_ref.subscription), ids.key(vm_ref.resource_group)) != tuple(
            map(ids.key, group_of(target_group))
        ):
            raise _invalid("targetVirtualMachineId is not in targetResourceGroupId.")
        if not subnet.lower().startswith(vnet.lower().rstrip("/") + "/subnets/"):
            raise _invalid("subnetId is not a subnet of virtualNetworkId.")
    luns = props.get("restoreDiskLunList")
    if luns is not None and (not isinstance(luns, list) or not all(isinstance(n, int) for n in luns)):
        raise _invalid("'restoreDiskLunList' must be a list of LUNs.")
    zones = props.get("zones") or []
    if not isinstance(zones, list):
        raise _invalid("'zones' must be a list.")
    days: int | None = None
    priority = ""
    if object_type == "IaasVMRestoreWithRehydrationRequest":
        info = props.get("recoveryPointRehydrationInfo")
        if not isinstance(info, Mapping):
            raise _invalid("'recoveryPointRehydrationInfo' is required to rehydrate an archived recovery point.")
        days = rehydration_days(_text(info, "rehydrationRetentionDuration"))
        priority = _text(info, "rehydrationPriority")
        if days is None or days < 1:
            raise _invalid("'rehydrationRetentionDuration' must be a number of days such as P15D.")
        if priority not in REHYDRATION_PRIORITIES:
            raise _invalid("'rehydrationPriority' must be Standard or High.")
    return RestoreRequest(
        object_type=object_type,
        recovery_type=recovery_type,
        recovery_point_id=rp_id or recovery_point,
        source_resource_id=source,
        storage_account_id=storage,
        region=ids.norm_location(_text(props, "region")),
        target_vm_id=target_vm,
        target_resource_group_id=target_group,
        virtual_network_id=vnet,
        subnet_id=subnet,
        restore_disk_luns=tuple(luns) if luns is not None else None,
        zones=tuple(str(z) for z in zones if str(z) != "NoZone"),
        restore_with_managed_disks=bool(props.get("restoreWithManagedDisks", False)),
        rehydration_days=days,
        rehydration_priority=priority,
    )
