"""Admin API: let time pass for soft-deleted backup data, without moving the emulator's clock.

Advancing the clock by weeks would expire every access token in flight; ageing only the soft-deleted items of
one vault lets a test (or the demo) reach their purge date while everything else keeps today's time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from azure_emulator import engine, ids
from azure_emulator.admin_base import AdminError, AdminRoute, Answer, body
from azure_emulator.immutability import DAY

if TYPE_CHECKING:
    from azure_emulator.app import Emulator


async def age(emu: Emulator, request: web.Request) -> Answer:
    """POST {"vaultId": ..., "days": N}: the vault's soft-deleted items were deleted N days earlier."""
    doc = await body(request)
    now = emu.state.settle()
    vault = emu.state.vaults_by_id.get(ids.key(str(doc.get("vaultId") or "")))
    if vault is None:
        raise AdminError(404, f"no vault {doc.get('vaultId')}")
    aged = [i for i in vault.items.values() if i.soft_deleted and i.deleted_at is not None]
    for item in aged:
        item.deleted_at = float(item.deleted_at or now) - float(doc.get("days", 0)) * DAY
    engine.purge_expired(emu.state, vault, now)
    return {"aged": [i.vm_name for i in aged], "left": [i.vm_name for i in vault.items.values() if i.soft_deleted]}


ROUTES = [AdminRoute("POST", "/_admin/soft-deleted/age", age)]
