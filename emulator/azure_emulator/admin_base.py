"""What every admin route uses: its table row (`AdminRoute`), its errors, the JSON body, the answer.

A handler takes the emulator and the request and returns a JSON object (200), None (204) or a
response of its own; `AdminError(status, message)` answers `{"error": message}`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from azure_emulator import inventory
from azure_emulator.errors import ArmError

if TYPE_CHECKING:
    from azure_emulator.app import Emulator

#: what a handler returns: a JSON object, nothing (204), or a response it built itself
Answer = Mapping[str, object] | web.StreamResponse | None
AdminHandler = Callable[["Emulator", web.Request], Awaitable[Answer]]


@dataclass(frozen=True)
class AdminRoute:
    """One row of the admin route table: `AdminRoute("GET", "/_admin/faults", list_faults)`."""

    method: str
    path: str
    handler: AdminHandler


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def bind(emu: Emulator, fn: AdminHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler calling `fn(emu, request)` that turns its result or its error into JSON."""

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            result = await fn(emu, request)
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


async def body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} when empty)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise AdminError(400, "the body must be a JSON object")
    return data
