"""Who wrote what: every ARM write the emulator answered, with its User-Agent and time (`/_admin/writes`).

Azure keeps no such log a client can read (the Activity Log names the principal, and replicas of one
operator share theirs), so this is the emulator's own: tests and benchmarks that run several operator
replicas give each a User-Agent of its own and read here that no resource, and no subscription held
by one replica, was written by another.
"""

from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from azure_emulator.admin_base import AdminRoute, Answer

if TYPE_CHECKING:
    from azure_emulator.app import Emulator

LIMIT = 200_000
"""Entries kept, the oldest dropped first (a converging VM takes a few writes)."""


class WriteLog:
    def __init__(self, limit: int = LIMIT) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=limit)

    def record(self, request: web.Request, status: int, operation: str, subscription: str | None) -> None:
        self._entries.append({
            "at": time.time(), "method": request.method, "path": request.path, "operation": operation,
            "status": status, "subscription": (subscription or "").lower(),
            "userAgent": request.headers.get("User-Agent", ""),
        })

    def entries(self, since: float = 0.0) -> list[dict[str, Any]]:
        return [e for e in self._entries if e["at"] >= since]

    def clear(self) -> None:
        self._entries.clear()


async def get_writes(emu: Emulator, request: web.Request) -> Answer:
    return {"writes": emu.writes.entries(float(request.query.get("since", "0")))}


async def clear_writes(emu: Emulator, request: web.Request) -> Answer:
    emu.writes.clear()
    return None


ROUTES = [
    AdminRoute("GET", "/_admin/writes", get_writes),
    AdminRoute("DELETE", "/_admin/writes", clear_writes),
]
