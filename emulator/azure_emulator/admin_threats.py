"""Admin routes for threat status: what Microsoft Defender's source scan would report on a recovery point.

`POST /_admin/recovery-points/threat-status` `{"vaultId", "vm", "recoveryPoint" (a name, default the
latest), "threatStatus", "threatInfo" (optional list)}` marks one point; the answer is the point as
`RecoveryPoints_Get` gives it. Defender's findings reach Azure Backup from outside ARM, so nothing is
recorded in the Activity Log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from azure_emulator import admin_backups, threats
from azure_emulator.admin_base import AdminError, AdminRoute, Answer, body
from azure_emulator.arm import jobs
from azure_emulator.arm.base import iso

if TYPE_CHECKING:
    from azure_emulator.app import Emulator


async def mark_point(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    now = emu.state.settle()
    vault, _, item = admin_backups.protected_vm(emu, doc)
    name = str(doc.get("recoveryPoint") or "latest")
    points = item.recovery_points  # in time order
    rp = (points[-1] if points else None) if name == "latest" else next(
        (p for p in points if p.name == name), None)
    if rp is None:
        raise AdminError(404, f"no recovery point {name} of VM {doc.get('vm')}")
    if "threatStatus" not in doc:
        raise AdminError(400, "threatStatus is required")
    threats.mark(rp, doc["threatStatus"], doc.get("threatInfo"), iso(now) or "")
    return jobs.rp_json(vault, item, rp, now)


ROUTES = [AdminRoute("POST", "/_admin/recovery-points/threat-status", mark_point)]
