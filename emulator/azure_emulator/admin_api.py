"""The admin API under `/_admin/`: one route table, each topic's routes in a module of its own.

Not ARM: no bearer token, JSON in and out, errors as `{"error": "..."}` (`admin_base`). A module
contributes its routes by exposing `ROUTES: list[AdminRoute]` and one line in `MODULES`."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from aiohttp import web

from azure_emulator import (
    admin_activity,
    admin_backups,
    admin_faults,
    admin_identities,
    admin_mua,
    admin_portal,
    admin_server,
    admin_softdelete,
    admin_threats,
    admin_writes,
)
from azure_emulator.admin_base import AdminError, AdminRoute, Answer, bind

if TYPE_CHECKING:
    from azure_emulator.app import Emulator

#: every module with admin routes; each exposes `ROUTES: list[AdminRoute]`
MODULES: tuple[ModuleType, ...] = (
    admin_server,
    admin_faults,
    admin_backups,
    admin_portal,
    admin_identities,
    admin_activity,
    admin_mua,
    admin_threats,
    admin_writes,
    admin_softdelete,
)


def routes() -> list[AdminRoute]:
    table: list[AdminRoute] = [r for module in MODULES for r in module.ROUTES]
    return table


async def unknown(emu: Emulator, request: web.Request) -> Answer:
    raise AdminError(404, f"no admin route {request.method} {request.path}")


def add_routes(app: web.Application, emu: Emulator) -> None:
    """Register every admin route on the application, then a 404 for any other `/_admin/` path."""
    for route in routes():
        app.router.add_route(route.method, route.path, bind(emu, route.handler))
    app.router.add_route("*", "/_admin/{tail:.*}", bind(emu, unknown))
