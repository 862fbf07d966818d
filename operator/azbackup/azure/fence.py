"""The fence in front of every Azure write when replicas share the work (dynamic shards, DESIGN §7).

The runtime names the shard of the object it is working on (`SHARD`, a context variable, so every
call made while reconciling that object carries it); `FencePolicy`, the last policy before a request
leaves, asks whether that shard's Lease is still held here and refuses the write at once if not.
Reads go through: they change nothing, and the new owner reads again anyway.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncHTTPPolicy

from azbackup.azure.ratelimit import Kind, kind_of

SHARD: contextvars.ContextVar[str | None] = contextvars.ContextVar("azbackup_shard", default=None)


class ShardNotHeld(Exception):
    """A write was about to leave for a shard this replica no longer holds (or never held).

    Not an `AzbackupError`: nothing is wrong with the object, so no status and no retry here; the
    replica that holds the shard now does the work."""

    def __init__(self, shard: str | None, method: str, url: str) -> None:
        super().__init__(f"{method} {url}: shard {shard or '(none)'} is not held by this replica")
        self.shard = shard


class FencePolicy(AsyncHTTPPolicy[Any, Any]):
    """Refuses a write unless `holds(shard)` says the shard of the current work is held (a per-retry
    policy, after the token bucket's wait, so the check is made just before the request is sent)."""

    def __init__(self, holds: Callable[[str | None], bool]) -> None:
        super().__init__()
        self.holds = holds

    async def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        http = request.http_request
        if kind_of(http.method) is not Kind.READ:
            shard = SHARD.get()
            if not self.holds(shard):
                raise ShardNotHeld(shard, http.method, http.url)
        return await self.next.send(request)
