"""Admin routes for Multi-User Authorization: declare a Resource Guard (as its owner, the security admin,
would in the portal) and grant a time-bound approval on it (as a Privileged Identity Management activation
of a role on the guard would). Not ARM: JSON in and out, like the rest of `/_admin/`.

    PUT    /_admin/resource-guards            {"id", "excludedOperations"?, "description"?, "location"?}
    GET    /_admin/resource-guards
    POST   /_admin/resource-guards/approvals  {"guard", "operation"? ("*"), "minutes"? (60), "clientId"? ("*")}
    DELETE /_admin/resource-guards/approvals?guard=ID   revoke every approval on the guard
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from azure_emulator.admin_base import AdminRoute, Answer, body

if TYPE_CHECKING:
    from azure_emulator.app import Emulator


async def put_guard(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    guard_id = str(doc.get("id") or "")
    if not guard_id:
        raise ValueError("id (the Resource Guard's ARM id) is required")
    return emu.state.mua.put(guard_id, doc).to_json(emu.state.now())


async def list_guards(emu: Emulator, request: web.Request) -> Answer:
    now = emu.state.now()
    return {"value": [g.to_json(now) for g in emu.state.mua.guards.values()]}


async def approve(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    guard_id = str(doc.get("guard") or "")
    if not guard_id:
        raise ValueError("guard (the Resource Guard's ARM id) is required")
    minutes = float(doc.get("minutes", 60))
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    now = emu.state.now()
    emu.state.mua.approve(guard_id, str(doc.get("operation") or "*"), minutes * 60, now,
                          str(doc.get("clientId") or "*"))
    return emu.state.mua.guard(guard_id).to_json(now)


async def revoke(emu: Emulator, request: web.Request) -> Answer:
    guard_id = request.query.get("guard", "")
    if not guard_id:
        raise ValueError("the query parameter guard is required")
    emu.state.mua.revoke(guard_id)
    return None


ROUTES = [
    AdminRoute("GET", "/_admin/resource-guards", list_guards),
    AdminRoute("PUT", "/_admin/resource-guards", put_guard),
    AdminRoute("POST", "/_admin/resource-guards/approvals", approve),
    AdminRoute("DELETE", "/_admin/resource-guards/approvals", revoke),
]
