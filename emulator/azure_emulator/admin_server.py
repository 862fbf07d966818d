"""The emulator's own controls: health, info, settings, clock, counters, reset and the state dump."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from azure_emulator import arm
from azure_emulator.admin_base import AdminRoute, Answer, body
from azure_emulator.admin_portal import vm_summary
from azure_emulator.backup_model import Vault
from azure_emulator.state import Subscription

if TYPE_CHECKING:
    from azure_emulator.app import Emulator


async def health(emu: Emulator, request: web.Request) -> Answer:
    return {"status": "ok"}


async def info(emu: Emulator, request: web.Request) -> Answer:
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


async def get_settings(emu: Emulator, request: web.Request) -> Answer:
    return emu.settings.to_json()


async def patch_settings(emu: Emulator, request: web.Request) -> Answer:
    emu.apply_settings(emu.settings.with_changes(await body(request)))
    return emu.settings.to_json()


async def get_counters(emu: Emulator, request: web.Request) -> Answer:
    return emu.counters.to_json()


async def reset_counters(emu: Emulator, request: web.Request) -> Answer:
    emu.counters.reset()
    return None


async def reset(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    emu.reset(counters=bool(doc.get("counters", True)), faults=bool(doc.get("faults", True)))
    return {"status": "reset"}


async def dump(emu: Emulator, request: web.Request) -> Answer:
    emu.state.settle()
    return dump_state(emu)


async def advance(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    emu.clock.advance(float(doc.get("seconds", 0)))
    emu.state.settle()
    return {"offset": emu.clock.offset}


async def operations(emu: Emulator, request: web.Request) -> Answer:
    return {"operations": arm.operation_names()}


def _vault_json(v: Vault) -> dict[str, Any]:
    return {
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


def _subscription_json(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "resourceGroups": [{"name": n, "location": loc} for n, loc in s.groups.values()],
        "vms": [vm_summary(vm) for vm in s.vms.values()],
        "nsgs": [{"id": n.id, "rules": [vars(r) for r in n.rules]} for n in s.nsgs.values()],
        "storageAccounts": [
            {"id": a.id, "defaultAction": a.default_action, "bypass": a.bypass} for a in s.storage.values()
        ],
        "vaults": [_vault_json(v) for v in s.vaults.values()],
        "deletedVaults": [d.id for d in s.deleted_vaults.values()],
    }


def dump_state(emu: Emulator) -> dict[str, Any]:
    """Everything the emulator holds, as JSON (for debugging and assertions)."""
    state = emu.state
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
        "subscriptions": [_subscription_json(s) for s in state.subscriptions.values()],
        "jobs": jobs,
        "operations": {
            "total": len(state.operations),
            "inProgress": sum(1 for o in state.operations.values() if not o.done),
        },
        "protection": {vm: {"vault": v, "item": i} for vm, (v, i) in state.protection.items()},
        "settings": emu.settings.to_json(),
        "clockOffset": emu.clock.offset,
    }


ROUTES = [
    AdminRoute("GET", "/_admin/health", health),
    AdminRoute("GET", "/_admin/info", info),
    AdminRoute("GET", "/_admin/settings", get_settings),
    AdminRoute("PATCH", "/_admin/settings", patch_settings),
    AdminRoute("GET", "/_admin/counters", get_counters),
    AdminRoute("DELETE", "/_admin/counters", reset_counters),
    AdminRoute("POST", "/_admin/reset", reset),
    AdminRoute("GET", "/_admin/state", dump),
    AdminRoute("POST", "/_admin/clock/advance", advance),
    AdminRoute("GET", "/_admin/operations", operations),
]
