"""What a person changes in the portal, through the admin API: VMs, NSG rules, storage network rules.

Each change is also recorded in the Activity Log as that person's ARM writes (`admin_activity`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from azure_emulator import ids, netrules, resource_types, vmspec
from azure_emulator.admin_activity import caller_of, portal_write
from azure_emulator.admin_base import AdminError, AdminRoute, Answer, body
from azure_emulator.arm.compute import vm_json
from azure_emulator.arm.network import nic_json
from azure_emulator.records import Nsg, Vm

if TYPE_CHECKING:
    from azure_emulator.app import Emulator

_NIC_OP = "Microsoft.Network/networkInterfaces/"
_VM_OP = "Microsoft.Compute/virtualMachines/"
_RULE_OP = "Microsoft.Network/networkSecurityGroups/securityRules/"


def vm_summary(vm: Vm) -> dict[str, Any]:
    return {
        "id": vm.id,
        "name": vm.name,
        "resourceGroup": vm.resource_group,
        "location": vm.location,
        "tags": vm.tags,
        "osType": vm.os_type,
        "osName": vm.os_name,
        "osVersion": vm.os_version,
        "agent": vm.agent.value,
        "agentVersion": vm.agent_version,
        "powerState": vm.power_state,
        "provisionVMAgent": vm.provision_vm_agent,
        "allowExtensionOperations": vm.allow_extension_operations,
        "dataDisks": len(vm.data_disks),
        "encryption": vm.encryption.method if vm.encryption else None,
        "httpProxy": vm.http_proxy,
        "nics": list(vm.nic_ids),
        "document": vm.doc,
    }


def _state_vm(emu: Emulator, request: web.Request) -> Vm:
    m = request.match_info
    vm = emu.state.subscription(m["sub"]).vms.get(m["rg"], m["name"])
    if vm is None:
        raise AdminError(404, f"no VM {m['sub']}/{m['rg']}/{m['name']}")
    return vm


def _vm_model(emu: Emulator, vm: Vm) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """What ARM serves of a VM and its NICs (no instance view): a change elsewhere is no ARM write."""
    model = vm_json(emu.state, vm, 0.0, resources=True, user_data=True)
    nics = (emu.state.find(resource_types.NICS, i) for i in vm.nic_ids)
    return model, {n.id: nic_json(n) for n in nics if n is not None}


async def list_vms(emu: Emulator, request: web.Request) -> Answer:
    return {"vms": [vm_summary(vm) for s in emu.state.subscriptions.values() for vm in s.vms.values()]}


async def add_vm(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    who = caller_of(request, doc)
    sub = str(doc.pop("subscription", None) or next(iter(emu.state.subscriptions.values())).id)
    emu.state.settle()
    vm = emu.state.add_vm(sub, doc)
    for nic_id in vm.nic_ids:  # the portal's create: the NICs, then the VM (its disks come with it)
        portal_write(emu, request, who, nic_id, _NIC_OP + "write", 201)
    portal_write(emu, request, who, vm.id, _VM_OP + "write", 201)
    return vm_summary(vm)


async def get_vm(emu: Emulator, request: web.Request) -> Answer:
    return vm_summary(_state_vm(emu, request))


async def patch_vm(emu: Emulator, request: web.Request) -> Answer:
    emu.state.settle()
    doc = await body(request)
    who = caller_of(request, doc)
    old = _state_vm(emu, request)
    (old_model, old_nics) = _vm_model(emu, old)
    vm = emu.state.update_vm(old, doc)
    (new_model, new_nics) = _vm_model(emu, vm)
    for nic_id, nic in new_nics.items():
        if old_nics.get(nic_id) != nic:
            portal_write(emu, request, who, nic_id, _NIC_OP + "write", 200)
    if new_model != old_model:
        portal_write(emu, request, who, vm.id, _VM_OP + "write", 200)
    return vm_summary(vm)


async def delete_vm(emu: Emulator, request: web.Request) -> Answer:
    vm = _state_vm(emu, request)
    who = caller_of(request, {})
    emu.state.settle()
    disks = [d.id for d in emu.state.subscription(vm.subscription).disks.values() if vm.id in d.vm_ids]
    emu.state.remove_vm(vm.subscription, vm.resource_group, vm.name)
    # the portal's delete with its associated resources: the VM, then its NICs and the disks it alone used
    portal_write(emu, request, who, vm.id, _VM_OP + "delete", 200)
    for nic_id in vm.nic_ids:
        portal_write(emu, request, who, nic_id, _NIC_OP + "delete", 200)
    remaining = {d.id for d in emu.state.subscription(vm.subscription).disks.values()}
    for disk_id in disks:
        if disk_id not in remaining:
            portal_write(emu, request, who, disk_id, "Microsoft.Compute/disks/delete", 200)
    return None


async def put_nsg_rules(emu: Emulator, request: web.Request) -> Answer:
    m = request.match_info
    doc = await body(request)
    sub = emu.state.subscription(m["sub"])
    rules = [vmspec.parse_rule(r, f"nsg '{m['name']}'") for r in doc.get("rules") or []]
    nsg = sub.nsgs.get(m["rg"], m["name"])
    created = nsg is None
    if nsg is None:
        location = ids.norm_location(str(doc.get("location") or emu.state.seed.default_location))
        emu.state.ensure_group(sub, m["rg"], location)
        nsg = Nsg(sub.id, m["rg"], m["name"], location)
        sub.nsgs.put(m["rg"], m["name"], nsg)
    emu.state.settle()
    old = {ids.key(r.name): r for r in nsg.rules}
    nsg.rules = rules
    who = caller_of(request, doc)
    if created:
        portal_write(emu, request, who, nsg.id, "Microsoft.Network/networkSecurityGroups/write", 201)
    for rule in rules:  # the portal's rule blade writes one rule at a time
        before = old.pop(ids.key(rule.name), None)
        if before != rule:
            status = 201 if before is None else 200
            portal_write(emu, request, who, f"{nsg.id}/securityRules/{rule.name}", _RULE_OP + "write", status)
    for gone in old.values():
        portal_write(emu, request, who, f"{nsg.id}/securityRules/{gone.name}", _RULE_OP + "delete", 200)
    return {"id": nsg.id, "rules": [r.name for r in netrules.ordered(nsg.rules)]}


async def patch_storage(emu: Emulator, request: web.Request) -> Answer:
    m = request.match_info
    doc = await body(request)
    account = emu.state.subscription(m["sub"]).storage.get(m["rg"], m["name"])
    if account is None:
        raise AdminError(404, "no such storage account")
    who = caller_of(request, doc)
    rules = doc.get("networkRules") or doc
    before = (account.default_action, account.bypass)
    account.default_action = str(rules.get("defaultAction", account.default_action))
    account.bypass = str(rules.get("bypass", account.bypass))
    if (account.default_action, account.bypass) != before:
        portal_write(emu, request, who, account.id, "Microsoft.Storage/storageAccounts/write", 200)
    return {"id": account.id, "defaultAction": account.default_action, "bypass": account.bypass}


ROUTES = [
    AdminRoute("GET", "/_admin/vms", list_vms),
    AdminRoute("POST", "/_admin/vms", add_vm),
    AdminRoute("GET", "/_admin/vms/{sub}/{rg}/{name}", get_vm),
    AdminRoute("PATCH", "/_admin/vms/{sub}/{rg}/{name}", patch_vm),
    AdminRoute("DELETE", "/_admin/vms/{sub}/{rg}/{name}", delete_vm),
    AdminRoute("PUT", "/_admin/nsgs/{sub}/{rg}/{name}/rules", put_nsg_rules),
    AdminRoute("PATCH", "/_admin/storage-accounts/{sub}/{rg}/{name}", patch_storage),
]
