"""Status and Events: patch only what changed, one Event per transition, and wake who waits for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from azbackup.managed import Resource
from azbackup.reconcile import conditions as cond
from azbackup.reconcile import status
from azbackup.reconcile.kube import Kube
from azbackup.reconcile.registry import Key, Registry
from azbackup.reconcile.verdict import Phase, Verdict

log = logging.getLogger("azbackup.writer")
EventSink = Callable[[Resource, str, str, str], Awaitable[None] | None]


class StatusWriter:
    def __init__(self, kube: Kube, registry: Registry, events: EventSink | None,
                 wake: Callable[[Key, float], None], now: Callable[[], str],
                 abnormal_true: Callable[[str], frozenset[str]] = lambda kind: frozenset()) -> None:
        self.kube, self.registry, self.events, self.wake, self.now = kube, registry, events, wake, now
        self.abnormal_true = abnormal_true  # by kind: its condition types whose True is the bad news

    async def write(self, obj: Resource, verdict: Verdict) -> None:
        """Patch status only if it changed, and post one Event per condition transition."""
        latest = self.registry.get(obj.key) or obj
        abnormal = self.abnormal_true(latest.kind)
        change = status.compute(latest.status, verdict, latest.generation, self.now(), latest.digests, abnormal)
        if not change.patch:
            return
        log.debug("%s %s/%s: status patch %s", latest.kind, latest.namespace, latest.name, sorted(change.patch))
        version = await self.kube.patch_status(latest, change.patch)
        self.registry.apply_status(obj.key, change.status, version)
        if any(c.type == cond.READY and c.status == "True" for c in change.events):
            # Objects waiting for this one (the kinds' `waits_for`) go now, not at the next full pass.
            for key in self.registry.waiting_for(latest):
                self.wake(key, 0.0)
        if self.events is not None:
            for condition in change.events:
                stalled = condition.type == cond.READY and verdict.phase is Phase.STALLED
                kind = "Warning" if stalled or cond.bad(condition, abnormal) else "Normal"
                result = self.events(latest, kind, condition.reason,
                                     f"{condition.type}={condition.status}: {condition.message}")
                if asyncio.iscoroutine(result):
                    await result
