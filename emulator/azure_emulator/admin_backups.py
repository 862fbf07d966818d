"""Backup and restore through the admin API: seeded recovery points, scheduled backups, restores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from azure_emulator import engine, ids, rp_seed
from azure_emulator.admin_base import AdminError, AdminRoute, Answer, body
from azure_emulator.arm import jobs

if TYPE_CHECKING:
    from azure_emulator.app import Emulator
    from azure_emulator.backup_model import ProtectedItem, Vault
    from azure_emulator.records import Vm


async def list_restores(emu: Emulator, request: web.Request) -> Answer:
    emu.state.settle()
    return {"restores": [r.to_json() for r in emu.state.restores.values()]}


def protected_vm(emu: Emulator, doc: Mapping[str, object]) -> tuple[Vault, Vm, ProtectedItem]:
    """The vault (`vaultId`), the VM (`vm`) and the VM's protected item in it that an admin call names."""
    vault = emu.state.vaults_by_id.get(ids.key(str(doc.get("vaultId") or "")))
    if vault is None:
        raise AdminError(404, f"no vault {doc.get('vaultId')}")
    vm = emu.state.find_vm(str(doc.get("vm") or ""))
    item = next((i for i in vault.items.values() if vm and ids.key(i.vm_id) == ids.key(vm.id)), None)
    if vm is None or item is None:
        raise AdminError(404, f"no protected item of VM {doc.get('vm')} in the vault")
    return vault, vm, item


async def add_recovery_point(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    now = emu.state.settle()
    vault, vm, item = protected_vm(emu, doc)
    policy = vault.policies.get(ids.key(item.policy)) if item.policy else None
    rp = rp_seed.seed_recovery_point(item, vm, emu.state.facts(vm), now, doc, instant_days=engine.instant_days(policy))
    if item.state == "IRPending":
        item.state = "Protected"
    return jobs.rp_json(vault, item, rp, now)


async def run_backups(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    now = emu.state.settle()
    vault = doc.get("vaultId")
    if vault and ids.key(str(vault)) not in emu.state.vaults_by_id:
        raise AdminError(404, f"no vault {vault}")
    return {"jobs": engine.run_scheduled(emu.state, now, str(vault) if vault else None)}


ROUTES = [
    AdminRoute("GET", "/_admin/restores", list_restores),
    AdminRoute("POST", "/_admin/recovery-points", add_recovery_point),
    AdminRoute("POST", "/_admin/scheduled-backups/run", run_backups),
]
