"""Microsoft.Compute: virtual machines (with instance view), VM extensions and managed disks."""

from __future__ import annotations

import copy
from typing import Any

from azure_emulator import errors, ids, resource_types
from azure_emulator.arm.base import Call, Reply, iso, page, route, same, tags_of
from azure_emulator.arm.vaults import SUB
from azure_emulator.errors import ArmError
from azure_emulator.records import Disk, Extension, ManagedDisk, Vm
from azure_emulator.state import State
from azure_emulator.verdicts import Agent

RG = SUB + "/resourceGroups/{rg}/providers/Microsoft.Compute"
VM = RG + "/virtualMachines/{vm}"
A = "Microsoft.Compute/virtualMachines"
POWER_TEXT = {
    "running": "VM running",
    "stopped": "VM stopped",
    "deallocated": "VM deallocated",
    "starting": "VM starting",
    "stopping": "VM stopping",
    "deallocating": "VM deallocating",
}
SUCCEEDED = {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded"}


def _disk_ref(vm: Vm, d: Disk) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": d.name,
        "createOption": d.create_option,
        "caching": d.caching,
        "diskSizeGB": d.size_gb,
    }
    out = {"lun": d.lun, **out, "toBeDetached": False} if d.lun is not None else {"osType": vm.os_type, **out}
    if d.managed:
        out["managedDisk"] = {
            "storageAccountType": d.sku,
            "id": ids.resource_id(vm.subscription, d.resource_group, "Microsoft.Compute", "disks", d.name),
        }
    else:
        out["vhd"] = {"uri": d.vhd_uri}
    if d.ephemeral:
        # SPEC computeRPCommon OSDisk.diffDiskSettings {option: Local, placement}; the managed-disk id stays in
        # the model, but no Microsoft.Compute/disks resource exists for it (emulator choice, docs/emulator.md).
        out["diffDiskSettings"] = {"option": "Local", "placement": d.ephemeral}
    if d.write_accelerator:
        out["writeAcceleratorEnabled"] = True
    enc = vm.encryption
    if d.lun is None and enc and (enc.method == "ADE-AAD" or enc.switched_from_aad):
        # the Entra-app flavour of ADE keeps its settings in the VM model (reference §8.6)
        out["encryptionSettings"] = {
            "enabled": True,
            "diskEncryptionKey": {"secretUrl": enc.secret_url, "sourceVault": {"id": enc.key_vault_id}},
        }
    return out


def instance_view(vm: Vm, now: float) -> dict[str, Any]:
    """What `instanceView` reports; the agent reports only from a running VM."""
    t = iso(now - 60)
    running = vm.power_state == "running"
    view: dict[str, Any] = {
        "platformUpdateDomain": vm.update_domain,
        "platformFaultDomain": vm.fault_domain,
        "computerName": vm.computer_name,
    }
    if vm.power_state != "deallocated":
        view.update(osName=vm.os_name, osVersion=vm.os_version)
    view["hyperVGeneration"] = "V2"
    if running and vm.agent is Agent.READY:
        view["vmAgent"] = {
            "vmAgentVersion": vm.agent_version,
            "statuses": [
                {
                    "code": "ProvisioningState/succeeded",
                    "level": "Info",
                    "displayStatus": "Ready",
                    "message": "GuestAgent is running and accepting new configurations.",
                    "time": t,
                }
            ],
            "extensionHandlers": [
                {
                    "type": f"{e.publisher}.{e.type}",
                    "typeHandlerVersion": e.version,
                    "status": {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Ready"},
                }
                for e in vm.extensions
            ],
        }
    elif running and vm.agent is Agent.NOT_READY:
        view["vmAgent"] = {
            "vmAgentVersion": "Unknown",
            "statuses": [
                {
                    "code": "ProvisioningState/Unavailable",
                    "level": "Warning",
                    "displayStatus": "Not Ready",
                    "message": "VM Agent is unresponsive.",
                    "time": t,
                }
            ],
        }
    disks = []
    for d in vm.disks:
        entry: dict[str, Any] = {"name": d.name, "statuses": [{**SUCCEEDED, "time": t}]}
        if d.encrypted and vm.encryption:
            entry["encryptionSettings"] = [
                {
                    "enabled": True,
                    "diskEncryptionKey": {
                        "secretUrl": vm.encryption.secret_url,
                        "sourceVault": {"id": vm.encryption.key_vault_id},
                    },
                }
            ]
        disks.append(entry)
    view["disks"] = disks
    if running and vm.agent is Agent.READY:
        view["extensions"] = [
            {
                "name": e.name,
                "type": f"{e.publisher}.{e.type}",
                "typeHandlerVersion": e.version,
                "statuses": [{**SUCCEEDED, "message": "Enable succeeded", "time": t}],
            }
            for e in vm.extensions
        ]
    if vm.patch_status is not None:
        view["patchStatus"] = copy.deepcopy(vm.patch_status)
    if vm.in_standby_pool is not None:
        view["isVMInStandbyPool"] = vm.in_standby_pool
    if vm.boot_diagnostics and vm.boot_diagnostics_uri:
        blob = f"{vm.boot_diagnostics_uri.rstrip('/')}/bootdiagnostics-{vm.name[:9].lower()}-{vm.vm_id}"
        view["bootDiagnostics"] = {
            "consoleScreenshotBlobUri": f"{blob}/{vm.name}.{vm.vm_id}.screenshot.bmp",
            "serialConsoleLogBlobUri": f"{blob}/{vm.name}.{vm.vm_id}.serialconsole.log",
        }
    provisioning = (
        SUCCEEDED
        if vm.provisioning_state == "Succeeded"
        else {
            "code": f"ProvisioningState/{vm.provisioning_state.lower()}",
            "level": "Error",
            "displayStatus": f"Provisioning {vm.provisioning_state.lower()}",
        }
    )
    view["statuses"] = [
        {**provisioning, "time": t},
        {
            "code": f"PowerState/{vm.power_state}",
            "level": "Info",
            "displayStatus": POWER_TEXT.get(vm.power_state, vm.power_state),
        },
    ]
    return view


_EXTENSION_TIME = "2024-01-15T09:05:00+00:00"  #: when the inventory's extensions last reported


def extension_json(vm: Vm, e: Extension, *, with_view: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": e.name,
        "id": f"{vm.id}/extensions/{e.name}",
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "location": vm.location,
        "properties": {
            "autoUpgradeMinorVersion": True,
            "provisioningState": e.provisioning_state,
            "publisher": e.publisher,
            "type": e.type,
            "typeHandlerVersion": e.version,
            "enableAutomaticUpgrade": False,
            "suppressFailures": False,
            "settings": dict(e.settings),  # protectedSettings are never returned
        },
        "tags": dict(e.tags),
    }
    if e.force_update_tag is not None:
        body["properties"]["forceUpdateTag"] = e.force_update_tag
    if with_view:
        body["properties"]["instanceView"] = {
            "name": e.name,
            "type": f"{e.publisher}.{e.type}",
            "typeHandlerVersion": e.version,
            "statuses": [{**SUCCEEDED, "message": "Enable succeeded", "time": _EXTENSION_TIME}],
        }
    return body


def vm_json(
    state: State,
    vm: Vm,
    now: float,
    *,
    view: bool = False,
    resources: bool = False,
    status_only: bool = False,
    user_data: bool = False,
) -> dict[str, Any]:
    head: dict[str, Any] = {
        "name": vm.name,
        "id": vm.id,
        "type": "Microsoft.Compute/virtualMachines",
        "location": vm.location,
    }
    if status_only:
        return {**head, "properties": {"vmId": vm.vm_id, "instanceView": instance_view(vm, now)}}
    config_name = "windowsConfiguration" if vm.os_type == "Windows" else "linuxConfiguration"
    config: dict[str, Any] = {"provisionVMAgent": vm.provision_vm_agent}
    if vm.os_type == "Windows":
        config["enableAutomaticUpdates"] = True
    else:
        config["disablePasswordAuthentication"] = True
    nics = [n for n in (state.find(resource_types.NICS, i) for i in vm.nic_ids) if n is not None]
    props: dict[str, Any] = {
        "vmId": vm.vm_id,
        "hardwareProfile": {"vmSize": vm.size},
        "storageProfile": {
            "imageReference": dict(vm.image),
            "osDisk": _disk_ref(vm, vm.os_disk),
            "dataDisks": [_disk_ref(vm, d) for d in vm.data_disks],
        },
        "osProfile": {
            "computerName": vm.computer_name,
            "adminUsername": vm.admin_username,
            config_name: config,
            "secrets": [],
            "allowExtensionOperations": vm.allow_extension_operations,
        },
        "networkProfile": {"networkInterfaces": [{"id": n.id, "properties": {"primary": n.primary}} for n in nics]},
        "provisioningState": vm.provisioning_state,
        "timeCreated": vm.time_created,
        "diagnosticsProfile": {"bootDiagnostics": _boot_diagnostics(vm)},
        "extensionsTimeBudget": "PT1H30M",  # Azure's default when the VM does not set one
    }
    if vm.security_type:
        # SPEC computeRPCommon SecurityProfile; both types run with secure boot and vTPM by default.
        props["securityProfile"] = {
            "securityType": vm.security_type,
            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
        }
    if vm.availability_set:
        props["availabilitySet"] = {"id": vm.availability_set}
    if vm.scale_set:
        # SPEC VirtualMachineProperties.virtualMachineScaleSet; a VM of a flexible scale set also carries the
        # set's id as `managedBy` (SPEC VirtualMachine.managedBy)
        props["virtualMachineScaleSet"] = {"id": vm.scale_set}
    if vm.proximity_placement_group:
        props["proximityPlacementGroup"] = {"id": vm.proximity_placement_group}
    if vm.gallery_applications:
        props["applicationProfile"] = {"galleryApplications": copy.deepcopy(vm.gallery_applications)}
    if user_data and vm.user_data is not None:
        props["userData"] = vm.user_data
    if view:
        props["instanceView"] = instance_view(vm, now)
    # one version per VM model; the emulator's inventory edits do not bump it
    body: dict[str, Any] = {**head, "etag": '"1"', "tags": dict(vm.tags), "properties": props}
    if vm.zones:
        body["zones"] = list(vm.zones)
    if vm.scale_set:
        body["managedBy"] = vm.scale_set
    if resources and vm.extensions:
        body["resources"] = [extension_json(vm, e) for e in vm.extensions]
    return body


def _boot_diagnostics(vm: Vm) -> dict[str, Any]:
    out: dict[str, Any] = {"enabled": vm.boot_diagnostics}
    if vm.boot_diagnostics and vm.boot_diagnostics_uri:
        out["storageUri"] = vm.boot_diagnostics_uri
    return out


def find_vm(call: Call) -> Vm:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    vm = sub.vms.get(call.params["rg"], call.params["vm"])
    if vm is None:
        raise errors.resource_not_found(A, call.params["vm"], call.params["rg"])
    return vm


def _expand(call: Call) -> bool:
    return (call.q("$expand") or "").lower() == "instanceview"


def get_vm(call: Call) -> Reply:
    user_data = (call.q("$expand") or "").lower() == "userdata"
    body = vm_json(call.state, find_vm(call), call.now, view=_expand(call), resources=True, user_data=user_data)
    return Reply(200, body)


def get_instance_view(call: Call) -> Reply:
    return Reply(200, instance_view(find_vm(call), call.now))


def update_vm(call: Call) -> Reply:
    """PATCH/PUT of an existing VM: `allowExtensionOperations` and tags change; `provisionVMAgent` cannot."""
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    vm = sub.vms.get(call.params["rg"], call.params["vm"])
    if vm is None:
        if call.method == "PUT":
            raise ArmError(
                400,
                "OperationNotAllowed",
                "The emulator does not create virtual machines through ARM; add them with POST /_admin/vms.",
            )
        raise errors.resource_not_found(A, call.params["vm"], call.params["rg"])
    body = call.json_body()
    os_profile = (body.get("properties") or {}).get("osProfile") or {}
    for config in ("windowsConfiguration", "linuxConfiguration"):
        value = (os_profile.get(config) or {}).get("provisionVMAgent")
        if value is not None and bool(value) != vm.provision_vm_agent:
            path = f"{config}.provisionVMAgent"
            raise ArmError(409, "PropertyChangeNotAllowed", f"Changing property '{path}' is not allowed.", target=path)
    doc = dict(vm.doc)
    if "allowExtensionOperations" in os_profile:
        allow = bool(os_profile["allowExtensionOperations"])
        if not allow and vm.extensions:
            raise ArmError(
                409,
                "OperationNotAllowed",  # emulator choice of the code
                "allowExtensionOperations can only be set to False when no extensions are present on "
                "the virtual machine.",
                target="osProfile.allowExtensionOperations",
            )
        doc["allowExtensionOperations"] = allow
    if "tags" in body:
        doc["tags"] = tags_of(body)
    vm = call.state.replace_vm(vm, doc)
    return Reply(200, vm_json(call.state, vm, call.now, resources=True))


#: Azure's answer to a write that needs an unmanaged disk since their retirement (Azure/ansible-collections
#: azure#2288 quotes it for create and update; for start it is the emulator's choice, docs/emulator.md).
UNMANAGED_RETIRED = "Unmanaged disks have been retired. Please migrate to Managed Disks."


def start_vm(call: Call) -> Reply:
    """POST .../start: a deallocated or stopped VM runs again, unless it has an unmanaged disk."""
    vm = find_vm(call)
    if any(not disk.managed for disk in vm.disks):
        raise ArmError(400, "BadRequest", UNMANAGED_RETIRED)
    if vm.power_state != "running":
        call.state.replace_vm(vm, {**vm.doc, "powerState": "running"})
    return Reply(200, None)


def list_vms(call: Call) -> Reply:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    view = _expand(call)
    return page(
        call, iter(sub.vms.in_group(call.params["rg"])), lambda vm: vm_json(call.state, vm, call.now, view=view)
    )


def list_all_vms(call: Call) -> Reply:
    sub = call.sub()
    view = _expand(call)
    status_only = (call.q("statusOnly") or "").lower() == "true"
    return page(
        call, sub.vms.values(), lambda vm: vm_json(call.state, vm, call.now, view=view, status_only=status_only)
    )


def list_vms_by_location(call: Call) -> Reply:
    location = ids.norm_location(call.params["location"])
    vms = (vm for vm in call.sub().vms.values() if vm.location == location)
    return page(call, vms, lambda vm: vm_json(call.state, vm, call.now))


def list_extensions(call: Call) -> Reply:
    vm = find_vm(call)
    return Reply(200, {"value": [extension_json(vm, e, with_view=_expand(call)) for e in vm.extensions]})


def get_extension(call: Call) -> Reply:
    vm = find_vm(call)
    ext = next((e for e in vm.extensions if same(e.name, call.params["ext"])), None)
    if ext is None:
        raise errors.resource_not_found(f"{A}/extensions", call.params["ext"], call.params["rg"])
    return Reply(200, extension_json(vm, ext, with_view=_expand(call)))


def disk_json(state: State, md: ManagedDisk) -> dict[str, Any]:
    d = md.disk
    vm = state.vm_by_id(md.vm_ids[0]) if md.vm_ids else None
    props: dict[str, Any] = {
        "creationData": {"createOption": d.create_option},
        "diskSizeGB": d.size_gb,
        "diskSizeBytes": d.size_gb * 1024**3,
        "uniqueId": ids.stable_uuid(md.id, "disk"),
        "provisioningState": "Succeeded",
        "diskState": "Attached" if md.vm_ids else "Unattached",
        "timeCreated": vm.time_created if vm else iso(md.created),
        "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
        "networkAccessPolicy": "AllowAll",
        "publicNetworkAccess": "Enabled",
    }
    if md.os_type:
        props["osType"] = md.os_type
        props["hyperVGeneration"] = "V2"
    if d.max_shares > 1:
        props["maxShares"] = d.max_shares
    if d.data_access_auth_mode:
        props["dataAccessAuthMode"] = d.data_access_auth_mode  # SPEC DiskRP DiskProperties
    if d.sku in ("UltraSSD_LRS", "PremiumV2_LRS"):
        # Ultra Disk and Premium SSD v2 carry their provisioned performance (SPEC DiskRP DiskProperties).
        props["diskIOPSReadWrite"], props["diskMBpsReadWrite"] = 3000, 125
    if d.encrypted and vm and vm.encryption:
        props["encryptionSettingsCollection"] = {
            "enabled": True,
            "encryptionSettings": [
                {
                    "diskEncryptionKey": {
                        "secretUrl": vm.encryption.secret_url,
                        "sourceVault": {"id": vm.encryption.key_vault_id},
                    }
                }
            ],
            "encryptionSettingsVersion": "1.0" if vm.encryption.method == "ADE-AAD" else "1.1",
        }
    tier = "Ultra" if d.sku.startswith("Ultra") else "Premium" if d.sku.startswith("Premium") else "Standard"
    body: dict[str, Any] = {
        "id": md.id,
        "name": d.name,
        "type": "Microsoft.Compute/disks",
        "location": md.location,
        "sku": {"name": d.sku, "tier": tier},
        "properties": {k: v for k, v in props.items() if v is not None},
    }
    if md.tags:
        body["tags"] = dict(md.tags)
    if md.vm_ids:
        body["managedBy"] = md.vm_ids[0]
    if len(md.vm_ids) > 1:
        body["managedByExtended"] = list(md.vm_ids)
    return body


def get_disk(call: Call) -> Reply:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    md = sub.disks.get(call.params["rg"], call.params["disk"])
    if md is None:
        raise errors.resource_not_found("Microsoft.Compute/disks", call.params["disk"], call.params["rg"])
    return Reply(200, disk_json(call.state, md))


def list_disks(call: Call) -> Reply:
    return page(call, call.sub().disks.values(), lambda md: disk_json(call.state, md))


def list_disks_by_group(call: Call) -> Reply:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    return page(call, iter(sub.disks.in_group(call.params["rg"])), lambda md: disk_json(call.state, md))


def delete_vm(call: Call) -> Reply:
    """Emulator choice: done at once (200, no body; 204 when already gone), NICs and disks kept."""
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    gone = call.state.delete_vm_only(sub.id, call.params["rg"], call.params["vm"])
    return Reply(200 if gone is not None else 204)


def delete_disk(call: Call) -> Reply:
    """A disk attached to a VM cannot be deleted (409 OperationNotAllowed); 204 when already gone."""
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    md = sub.disks.get(call.params["rg"], call.params["disk"])
    if md is None:
        return Reply(204)
    if md.vm_ids:
        raise ArmError(
            409,
            "OperationNotAllowed",
            f"Disk {md.disk.name} is attached to VM {md.vm_ids[0]}.",
        )
    sub.disks.pop(call.params["rg"], call.params["disk"])
    return Reply(200)


ROUTES = [
    route("GET", VM, "VirtualMachines_Get", f"{A}/read", get_vm),
    route("PATCH", VM, "VirtualMachines_Update", f"{A}/write", update_vm),
    route("PUT", VM, "VirtualMachines_CreateOrUpdate", f"{A}/write", update_vm),
    route("POST", VM + "/start", "VirtualMachines_Start", f"{A}/start/action", start_vm),
    route("GET", VM + "/instanceView", "VirtualMachines_InstanceView", f"{A}/instanceView/read", get_instance_view),
    route("GET", VM + "/extensions", "VirtualMachineExtensions_List", f"{A}/extensions/read", list_extensions),
    route("GET", VM + "/extensions/{ext}", "VirtualMachineExtensions_Get", f"{A}/extensions/read", get_extension),
    route("GET", RG + "/virtualMachines", "VirtualMachines_List", f"{A}/read", list_vms),
    route(
        "GET",
        SUB + "/providers/Microsoft.Compute/virtualMachines",
        "VirtualMachines_ListAll",
        f"{A}/read",
        list_all_vms,
    ),
    route(
        "GET",
        SUB + "/providers/Microsoft.Compute/locations/{location}/virtualMachines",
        "VirtualMachines_ListByLocation",
        f"{A}/read",
        list_vms_by_location,
    ),
    route("DELETE", VM, "VirtualMachines_Delete", f"{A}/delete", delete_vm),
    route("GET", RG + "/disks/{disk}", "Disks_Get", "Microsoft.Compute/disks/read", get_disk),
    route("DELETE", RG + "/disks/{disk}", "Disks_Delete", "Microsoft.Compute/disks/delete", delete_disk),
    route("GET", RG + "/disks", "Disks_ListByResourceGroup", "Microsoft.Compute/disks/read", list_disks_by_group),
    route("GET", SUB + "/providers/Microsoft.Compute/disks", "Disks_List", "Microsoft.Compute/disks/read", list_disks),
]
