"""The admin API under `/_admin/`: faults, VM facts, NSG rules, identities, scheduled backups, counters,
the Activity Log, reset and state dump. Not ARM: no bearer token, JSON in and out, errors as `{"error": "..."}`.

A change that stands for a person's change in the portal (a VM added, changed or removed, NSG rules,
storage network rules) is also recorded in the Activity Log as that person's ARM writes (`caller`,
default `admin@contoso.com`, from the body's `caller` or the query's); a change of what only the guest
agent reports (the VM's instance view) is no ARM write and records nothing, as in Azure."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from azure_emulator import (
    activity_log,
    admin_softdelete,
    apiversions,
    arm,
    engine,
    ids,
    inventory,
    netrules,
    rp_seed,
    vmspec,
)
from azure_emulator.arm import jobs
from azure_emulator.arm.compute import vm_json
from azure_emulator.arm.network import nic_json
from azure_emulator.errors import ArmError
from azure_emulator.faults import Fault
from azure_emulator.records import Denial, Identity, Nsg, Vm
from azure_emulator.state import JobFault

if TYPE_CHECKING:
    from azure_emulator.app import Emulator

AdminHandler = Callable[[web.Request], Awaitable[Any]]


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _wrap(fn: Callable[[web.Request], Awaitable[Any]]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            result = await fn(request)
        except AdminError as exc:
            return web.json_response({"error": str(exc)}, status=exc.status)
        except (ValueError, KeyError, TypeError, inventory.InventoryError) as exc:
            return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)
        except ArmError as exc:
            return web.json_response({"error": exc.message, "code": exc.code}, status=exc.status)
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=204)
        return web.json_response(result)

    return handler


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise AdminError(400, "the body must be a JSON object")
    return data


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


def add_routes(app: web.Application, emu: Emulator) -> None:
    """Register every admin route on the application."""

    def state_vm(request: web.Request) -> Vm:
        m = request.match_info
        vm = emu.state.subscription(m["sub"]).vms.get(m["rg"], m["name"])
        if vm is None:
            raise AdminError(404, f"no VM {m['sub']}/{m['rg']}/{m['name']}")
        return vm

    def portal_write(request: web.Request, who: Any, resource_id: str, operation: str, status: int) -> None:
        """Record a person's write in the portal: `operation` is `Namespace/type/write` or `.../delete`."""
        ref = ids.parse_resource_id(resource_id)
        sub = emu.state.subscriptions.get(ids.key(ref.subscription)) if ref else None
        if sub is None:
            return
        now = emu.clock.now()
        method = "DELETE" if operation.endswith("/delete") else "PUT"
        change = activity_log.Change(
            subscription=sub.id,
            tenant_id=emu.state.tenant_id,
            resource_id=resource_id,
            resource_type=apiversions.resource_type(resource_id) or operation.rsplit("/", 1)[0],
            operation_name=operation,
            method=method,
            uri=f"https://{request.host}{resource_id}",
            caller=activity_log.person(str(who or activity_log.DEFAULT_PERSON), emu.state.tenant_id, now),
            correlation_id=str(uuid.uuid4()),
            client_request_id=str(uuid.uuid4()),
            client_ip=request.remote or "",
            service_request_id=str(uuid.uuid4()),
        )
        emu.state.activity.record_change(change, http_status=status, at=now, delay=emu.settings.activity_log_delay)

    def caller_of(request: web.Request, doc: dict[str, Any]) -> Any:
        return doc.pop("caller", None) or request.query.get("caller")

    def vm_model(vm: Vm) -> tuple[Any, dict[str, Any]]:
        """What ARM serves of a VM and its NICs (no instance view): a change elsewhere is no ARM write."""
        model = vm_json(emu.state, vm, 0.0, resources=True, user_data=True)
        nics = {n.id: nic_json(n) for n in (emu.state.by_id("nics", i) for i in vm.nic_ids) if n is not None}
        return model, nics

    async def health(request: web.Request) -> Any:
        return {"status": "ok"}

    async def info(request: web.Request) -> Any:
        return {
            "url": emu.url,
            "caBundle": emu.ca_bundle,
            "adminUrl": f"{emu.url}/_admin",
            "authority": emu.url,
            "tenantId": emu.state.tenant_id,
            "subscriptions": [s.id for s in emu.state.subscriptions.values()],
            "identities": [
                {"clientId": i.client_id, "tenantId": i.tenant_id, "name": i.display_name}
                for i in emu.state.identities.values()
            ],
            "settings": emu.settings.to_json(),
        }

    async def get_settings(request: web.Request) -> Any:
        return emu.settings.to_json()

    async def patch_settings(request: web.Request) -> Any:
        emu.apply_settings(emu.settings.with_changes(await _body(request)))
        return emu.settings.to_json()

    async def list_faults(request: web.Request) -> Any:
        return {"faults": emu.faults.to_json()}

    async def add_fault(request: web.Request) -> Any:
        return emu.faults.add(Fault.from_json(await _body(request))).to_json()

    async def clear_faults(request: web.Request) -> Any:
        emu.faults.clear()

    async def remove_fault(request: web.Request) -> Any:
        if not emu.faults.remove(request.match_info["id"]):
            raise AdminError(404, "no such fault")

    async def list_job_faults(request: web.Request) -> Any:
        return {"jobFaults": [vars(f) for f in emu.state.job_faults]}

    async def add_job_fault(request: web.Request) -> Any:
        doc = await _body(request)
        operation = str(doc.get("operation", "Backup"))
        if operation not in ("Backup", "ConfigureBackup", "Restore"):
            raise AdminError(400, "operation is Backup, ConfigureBackup or Restore")
        result = str(doc.get("result") or "Failed")
        if result not in ("Failed", "CompletedWithWarnings") or (result != "Failed" and operation != "Restore"):
            raise AdminError(400, "result is Failed, or CompletedWithWarnings for a Restore")
        fault = JobFault(
            ids.new_id(),
            ids.key(str(doc["vm"])),
            operation,
            str(doc["code"]),
            str(doc.get("message") or f"Injected job failure {doc['code']}"),
            None if doc.get("count", 1) is None else int(doc.get("count", 1)),
            result,
        )
        emu.state.job_faults.append(fault)
        return vars(fault)

    async def clear_job_faults(request: web.Request) -> Any:
        emu.state.job_faults.clear()

    async def list_restores(request: web.Request) -> Any:
        emu.state.settle()
        return {"restores": [r.to_json() for r in emu.state.restores.values()]}

    async def add_recovery_point(request: web.Request) -> Any:
        doc = await _body(request)
        now = emu.state.settle()
        vault = emu.state.vaults_by_id.get(ids.key(str(doc.get("vaultId") or "")))
        if vault is None:
            raise AdminError(404, f"no vault {doc.get('vaultId')}")
        vm = emu.state.find_vm(str(doc.get("vm") or ""))
        item = next((i for i in vault.items.values() if vm and ids.key(i.vm_id) == ids.key(vm.id)), None)
        if vm is None or item is None:
            raise AdminError(404, f"no protected item of VM {doc.get('vm')} in the vault")
        policy = vault.policies.get(ids.key(item.policy)) if item.policy else None
        rp = rp_seed.seed_recovery_point(
            item, vm, emu.state.facts(vm), now, doc, instant_days=engine.instant_days(policy)
        )
        if item.state == "IRPending":
            item.state = "Protected"
        return jobs.rp_json(vault, item, rp, now)

    async def list_vms(request: web.Request) -> Any:
        return {"vms": [vm_summary(vm) for s in emu.state.subscriptions.values() for vm in s.vms.values()]}

    async def add_vm(request: web.Request) -> Any:
        doc = await _body(request)
        who = caller_of(request, doc)
        sub = str(doc.pop("subscription", None) or next(iter(emu.state.subscriptions.values())).id)
        emu.state.settle()
        vm = emu.state.add_vm(sub, doc)
        for nic_id in vm.nic_ids:  # the portal's create: the NICs, then the VM (its disks come with it)
            portal_write(request, who, nic_id, "Microsoft.Network/networkInterfaces/write", 201)
        portal_write(request, who, vm.id, "Microsoft.Compute/virtualMachines/write", 201)
        return vm_summary(vm)

    async def get_vm(request: web.Request) -> Any:
        return vm_summary(state_vm(request))

    async def patch_vm(request: web.Request) -> Any:
        emu.state.settle()
        doc = await _body(request)
        who = caller_of(request, doc)
        old = state_vm(request)
        (old_model, old_nics) = vm_model(old)
        vm = emu.state.update_vm(old, doc)
        (new_model, new_nics) = vm_model(vm)
        for nic_id, nic in new_nics.items():
            if old_nics.get(nic_id) != nic:
                portal_write(request, who, nic_id, "Microsoft.Network/networkInterfaces/write", 200)
        if new_model != old_model:
            portal_write(request, who, vm.id, "Microsoft.Compute/virtualMachines/write", 200)
        return vm_summary(vm)

    async def delete_vm(request: web.Request) -> Any:
        vm = state_vm(request)
        who = caller_of(request, {})
        emu.state.settle()
        disks = [d.id for d in emu.state.subscription(vm.subscription).disks.values() if vm.id in d.vm_ids]
        emu.state.remove_vm(vm.subscription, vm.resource_group, vm.name)
        # the portal's delete with its associated resources: the VM, then its NICs and the disks it alone used
        portal_write(request, who, vm.id, "Microsoft.Compute/virtualMachines/delete", 200)
        for nic_id in vm.nic_ids:
            portal_write(request, who, nic_id, "Microsoft.Network/networkInterfaces/delete", 200)
        remaining = {d.id for d in emu.state.subscription(vm.subscription).disks.values()}
        for disk_id in disks:
            if disk_id not in remaining:
                portal_write(request, who, disk_id, "Microsoft.Compute/disks/delete", 200)

    async def put_nsg_rules(request: web.Request) -> Any:
        m = request.match_info
        doc = await _body(request)
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
            portal_write(request, who, nsg.id, "Microsoft.Network/networkSecurityGroups/write", 201)
        rule_write = "Microsoft.Network/networkSecurityGroups/securityRules/"
        for rule in rules:  # the portal's rule blade writes one rule at a time
            before = old.pop(ids.key(rule.name), None)
            if before != rule:
                portal_write(
                    request,
                    who,
                    f"{nsg.id}/securityRules/{rule.name}",
                    rule_write + "write",
                    201 if before is None else 200,
                )
        for gone in old.values():
            portal_write(request, who, f"{nsg.id}/securityRules/{gone.name}", rule_write + "delete", 200)
        return {"id": nsg.id, "rules": [r.name for r in netrules.ordered(nsg.rules)]}

    async def patch_storage(request: web.Request) -> Any:
        m = request.match_info
        doc = await _body(request)
        account = emu.state.subscription(m["sub"]).storage.get(m["rg"], m["name"])
        if account is None:
            raise AdminError(404, "no such storage account")
        who = caller_of(request, doc)
        rules = doc.get("networkRules") or doc
        before = (account.default_action, account.bypass)
        account.default_action = str(rules.get("defaultAction", account.default_action))
        account.bypass = str(rules.get("bypass", account.bypass))
        if (account.default_action, account.bypass) != before:
            portal_write(request, who, account.id, "Microsoft.Storage/storageAccounts/write", 200)
        return {"id": account.id, "defaultAction": account.default_action, "bypass": account.bypass}

    def find_identity(client_id: str) -> Identity:
        identity = emu.state.identity_by_client(client_id)
        if identity is None:
            raise AdminError(404, f"no identity with client id {client_id}")
        return identity

    async def list_identities(request: web.Request) -> Any:
        return {
            "identities": [
                {
                    "clientId": i.client_id,
                    "tenantId": i.tenant_id,
                    "objectId": i.object_id,
                    "name": i.display_name,
                    "deny": [vars(d) for d in i.deny],
                }
                for i in emu.state.identities.values()
            ]
        }

    async def add_identity(request: web.Request) -> Any:
        seed = inventory.parse_inventory({"tenantId": emu.state.tenant_id, "identities": [await _body(request)]})
        identity = seed.identities[0]
        emu.state.identities[(ids.key(identity.tenant_id), ids.key(identity.client_id))] = identity
        return {"clientId": identity.client_id, "objectId": identity.object_id, "tenantId": identity.tenant_id}

    async def delete_identity(request: web.Request) -> Any:
        identity = find_identity(request.match_info["client"])
        del emu.state.identities[(ids.key(identity.tenant_id), ids.key(identity.client_id))]

    async def put_authorization(request: web.Request) -> Any:
        identity = find_identity(request.match_info["client"])
        doc = await _body(request)
        identity.deny = [
            Denial(str(d)) if isinstance(d, str) else Denial(str(d.get("action", "*")), d.get("scope"))
            for d in doc.get("deny") or []
        ]
        return {"clientId": identity.client_id, "deny": [vars(d) for d in identity.deny]}

    async def mint_token(request: web.Request) -> Any:
        doc = await _body(request)
        identity = find_identity(str(doc["clientId"]))
        audience = str(doc.get("audience") or emu.url)
        now = emu.clock.now()
        return {"accessToken": emu.tokens.issue(identity, audience, now, float(doc.get("lifetime", 3600)))}

    async def run_backups(request: web.Request) -> Any:
        doc = await _body(request)
        now = emu.state.settle()
        vault = doc.get("vaultId")
        if vault and ids.key(str(vault)) not in emu.state.vaults_by_id:
            raise AdminError(404, f"no vault {vault}")
        return {"jobs": engine.run_scheduled(emu.state, now, str(vault) if vault else None)}

    async def get_counters(request: web.Request) -> Any:
        return emu.counters.to_json()

    async def reset_counters(request: web.Request) -> Any:
        emu.counters.reset()

    async def reset(request: web.Request) -> Any:
        doc = await _body(request)
        emu.reset(counters=bool(doc.get("counters", True)), faults=bool(doc.get("faults", True)))
        return {"status": "reset"}

    async def dump(request: web.Request) -> Any:
        emu.state.settle()
        return dump_state(emu)

    async def advance(request: web.Request) -> Any:
        doc = await _body(request)
        emu.clock.advance(float(doc.get("seconds", 0)))
        emu.state.settle()
        return {"offset": emu.clock.offset}

    async def operations(request: web.Request) -> Any:
        return {"operations": arm.operation_names()}

    async def get_activity_log(request: web.Request) -> Any:
        """Every entry, visible or not, newest first (`?subscription=` one subscription's)."""
        now = emu.state.settle()
        sub = request.query.get("subscription")
        if sub and ids.key(sub) not in emu.state.subscriptions:
            raise AdminError(404, f"no subscription {sub}")
        events = emu.state.activity.entries(sub)
        return {
            "now": activity_log.timestamp(now),
            "delay": emu.settings.activity_log_delay,
            "value": [e.to_json() for e in events],
            "visible": sum(1 for e in events if e.visible_at <= now),
        }

    async def clear_activity_log(request: web.Request) -> Any:
        emu.state.activity.clear()

    r = app.router
    for method, path, fn in [
        ("GET", "/_admin/health", health),
        ("GET", "/_admin/info", info),
        ("GET", "/_admin/settings", get_settings),
        ("PATCH", "/_admin/settings", patch_settings),
        ("GET", "/_admin/faults", list_faults),
        ("POST", "/_admin/faults", add_fault),
        ("DELETE", "/_admin/faults", clear_faults),
        ("DELETE", "/_admin/faults/{id}", remove_fault),
        ("GET", "/_admin/job-faults", list_job_faults),
        ("POST", "/_admin/job-faults", add_job_fault),
        ("DELETE", "/_admin/job-faults", clear_job_faults),
        ("GET", "/_admin/restores", list_restores),
        ("POST", "/_admin/recovery-points", add_recovery_point),
        ("GET", "/_admin/vms", list_vms),
        ("POST", "/_admin/vms", add_vm),
        ("GET", "/_admin/vms/{sub}/{rg}/{name}", get_vm),
        ("PATCH", "/_admin/vms/{sub}/{rg}/{name}", patch_vm),
        ("DELETE", "/_admin/vms/{sub}/{rg}/{name}", delete_vm),
        ("PUT", "/_admin/nsgs/{sub}/{rg}/{name}/rules", put_nsg_rules),
        ("PATCH", "/_admin/storage-accounts/{sub}/{rg}/{name}", patch_storage),
        ("GET", "/_admin/identities", list_identities),
        ("POST", "/_admin/identities", add_identity),
        ("DELETE", "/_admin/identities/{client}", delete_identity),
        ("PUT", "/_admin/identities/{client}/authorization", put_authorization),
        ("POST", "/_admin/tokens", mint_token),
        ("POST", "/_admin/scheduled-backups/run", run_backups),
        ("GET", "/_admin/counters", get_counters),
        ("DELETE", "/_admin/counters", reset_counters),
        ("POST", "/_admin/reset", reset),
        ("GET", "/_admin/state", dump),
        ("POST", "/_admin/clock/advance", advance),
        ("GET", "/_admin/operations", operations),
        ("GET", "/_admin/activity-log", get_activity_log),
        ("DELETE", "/_admin/activity-log", clear_activity_log),
    ]:
        r.add_route(method, path, _wrap(fn))

    admin_softdelete.add_routes(app, emu, _wrap, _body)

    async def unknown(request: web.Request) -> Any:
        raise AdminError(404, f"no admin route {request.method} {request.path}")

    r.add_route("*", "/_admin/{tail:.*}", _wrap(unknown))


def dump_state(emu: Emulator) -> dict[str, Any]:
    """Everything the emulator holds, as JSON (for debugging and assertions)."""
    state = emu.state
    subs = []
    for s in state.subscriptions.values():
        vaults = []
        for v in s.vaults.values():
            vaults.append(
                {
                    "id": v.id,
                    "location": v.location,
                    "redundancy": v.redundancy,
                    "storageLocked": v.storage_locked,
                    "crossRegionRestore": v.cross_region_restore,
                    "softDelete": v.soft_delete_state,
                    "immutability": v.immutability,
                    "provisioningState": v.provisioning_state,
                    "policies": [{"name": p.name, "type": p.policy_type} for p in v.policies.values()],
                    "discovered": len(v.discovered),
                    "items": [
                        {
                            "vm": i.vm_id,
                            "policy": i.policy,
                            "state": i.state,
                            "softDeleted": i.soft_deleted,
                            "recoveryPoints": len(i.recovery_points),
                            "lastBackupStatus": i.last_backup_status,
                        }
                        for i in v.items.values()
                    ],
                    "jobs": len(v.jobs),
                }
            )
        subs.append(
            {
                "id": s.id,
                "resourceGroups": [{"name": n, "location": loc} for n, loc in s.groups.values()],
                "vms": [vm_summary(vm) for vm in s.vms.values()],
                "nsgs": [{"id": n.id, "rules": [vars(r) for r in n.rules]} for n in s.nsgs.values()],
                "storageAccounts": [
                    {"id": a.id, "defaultAction": a.default_action, "bypass": a.bypass} for a in s.storage.values()
                ],
                "vaults": vaults,
                "deletedVaults": [d.id for d in s.deleted_vaults.values()],
            }
        )
    jobs = [
        {
            "id": j.id,
            "vault": j.vault,
            "operation": j.operation,
            "status": j.status.value,
            "vm": j.vm_id,
            "error": j.failure.code if j.failure else None,
        }
        for j in state.jobs.values()
    ]
    return {
        "subscriptions": subs,
        "jobs": jobs,
        "operations": {
            "total": len(state.operations),
            "inProgress": sum(1 for o in state.operations.values() if not o.done),
        },
        "protection": {vm: {"vault": v, "item": i} for vm, (v, i) in state.protection.items()},
        "settings": emu.settings.to_json(),
        "clockOffset": emu.clock.offset,
    }
