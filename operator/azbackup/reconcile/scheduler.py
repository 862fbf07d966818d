"""Per-vault scheduling: each vault's worker runs full passes and the requeues of its objects.

Every object's work belongs to one vault (the kinds' `vault` references say which). Each vault has one
worker task (a kopf daemon) that
- makes a full pass over the vault and all its objects once per sync period, from batched reads, and
- runs the requeues of its objects when they are due (an operation to poll, a backoff to wait out).
Requeues for a vault whose worker has not started yet wait in `pending` and are handed over at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import random
from collections.abc import Callable
from typing import Protocol

from azbackup.process import memory
from azbackup.reconcile.registry import Key, Registry, VaultKey


class Stopped(Protocol):
    """kopf's `DaemonStopped` (and anything with the same test)."""

    def is_set(self) -> bool: ...


class SchedulerSettings(Protocol):
    """What a vault's worker reads of the runtime's settings (defined once, in `RuntimeSettings`)."""

    @property
    def sync_period(self) -> float: ...

    @property
    def concurrency(self) -> int: ...

    @property
    def first_pass_jitter(self) -> float: ...

    @property
    def feed_interval(self) -> float: ...  # 0: no change feed


class Runner(Protocol):
    """What a worker drives: one object's pass, and a vault's full pass."""

    registry: Registry
    clock: Callable[[], float]

    @property
    def schedule_settings(self) -> SchedulerSettings: ...

    async def reconcile(self, key: Key) -> object: ...

    async def vault_pass(self, vault: VaultKey) -> list[Key]: ...

    def follow(self, vault: VaultKey) -> None:
        """Read what changed in the vault's subscription, in the background."""
        ...


class Scheduler:
    """Which worker runs which vault, and requeues for vaults without a worker yet."""

    def __init__(self, registry: Registry, clock: Callable[[], float]) -> None:
        self.registry, self.clock = registry, clock
        self.workers: dict[VaultKey, VaultWorker] = {}
        self.pending: dict[VaultKey, dict[Key, float]] = {}

    def requeue(self, key: Key, delay: float) -> None:
        vault = self.registry.vault_of(key)
        if vault is None:
            return  # no vault yet: the vault's first pass picks the object up
        worker = self.workers.get(vault)
        if worker is None:
            due = self.clock() + delay
            bucket = self.pending.setdefault(vault, {})
            bucket[key] = min(bucket.get(key, due), due)
            return
        worker.schedule(key, delay)

    def has_worker(self, vault: VaultKey | None) -> bool:
        return vault is not None and vault in self.workers

    async def run_worker(self, runner: Runner, vault: VaultKey, stopped: Stopped) -> None:
        worker = VaultWorker(runner, vault)
        self.workers[vault] = worker
        for key, due in self.pending.pop(vault, {}).items():
            worker.schedule(key, max(0.0, due - self.clock()))
        try:
            await worker.run(stopped)
        finally:
            if self.workers.get(vault) is worker:
                del self.workers[vault]


class VaultWorker:
    """One vault's queue: full passes every sync period, and requeues when they are due.

    Due objects are reconciled by tasks, at most `concurrency` at once; the rest wait as keys, not as
    tasks, so a pass over thousands of objects holds a bounded amount of memory. Objects following an
    operation go first: a thousand creates waiting for ARM write tokens do not delay the poll of an
    operation that just finished (and so the object's Ready).
    """

    def __init__(self, runtime: Runner, vault: VaultKey) -> None:
        self.runtime, self.vault = runtime, vault
        self._heap: list[tuple[float, Key]] = []
        self._due: dict[Key, float] = {}
        self._wake = asyncio.Event()
        # Due and waiting for a slot, in arrival order; dicts as ordered sets.
        self._urgent: dict[Key, None] = {}
        self._waiting: dict[Key, None] = {}
        self._running: dict[Key, asyncio.Task[None]] = {}
        self._again: set[Key] = set()  # due again while still running: go once more when done
        self.passes = 0
        self._full_now = False

    def full_pass_now(self) -> None:
        """Start a full pass at once (the change feed has a gap), without waiting for the period."""
        self._full_now = True
        self._wake.set()

    def schedule(self, key: Key, delay: float) -> None:
        due = self.runtime.clock() + delay
        if key in self._due and self._due[key] <= due:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, key))
        self._wake.set()

    def _pop_due(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            due, key = heapq.heappop(self._heap)
            if self._due.get(key) == due:
                del self._due[key]
                if key in self._running:
                    self._again.add(key)
                elif key not in self._urgent:
                    obj = self.runtime.registry.get(key)
                    queue = self._urgent if obj is not None and obj.status.get("operation") else self._waiting
                    queue[key] = None

    def _start_waiting(self) -> None:
        limit = self.runtime.schedule_settings.concurrency
        while len(self._running) < limit and (self._urgent or self._waiting):
            queue = self._urgent or self._waiting
            key = next(iter(queue))
            del queue[key]
            self._waiting.pop(key, None)
            if key in self._running:
                self._again.add(key)
            else:
                self._running[key] = asyncio.ensure_future(self._one(key))

    async def _one(self, key: Key) -> None:
        try:
            await self.runtime.reconcile(key)
        finally:
            del self._running[key]
            if key in self._again:
                self._again.discard(key)
                self.schedule(key, 0.0)
            self._wake.set()  # a slot is free

    async def run(self, stopped: Stopped) -> None:
        clock = self.runtime.clock
        settings = self.runtime.schedule_settings
        next_full = clock() + random.uniform(0, settings.first_pass_jitter)
        # The feed is first read one interval after the first pass, which has read everything before.
        next_feed = next_full + settings.feed_interval if settings.feed_interval else float("inf")
        try:
            while not stopped.is_set():
                if clock() >= next_full or self._full_now:
                    self._full_now = False
                    members = await self.runtime.vault_pass(self.vault)
                    self.passes += 1
                    next_full = clock() + settings.sync_period
                    for key in members:
                        self.schedule(key, 0.0)
                if clock() >= next_feed:
                    self.runtime.follow(self.vault)
                    next_feed = clock() + settings.feed_interval
                self._pop_due(clock())
                self._start_waiting()
                wait = min(next_full, next_feed) - clock()
                if self._heap:
                    wait = min(wait, self._heap[0][0] - clock())
                # Idle: return the burst's freed heap to the OS now. Busy: trim often (freed TLS
                # buffers and response bodies), collect every two minutes, since a large heap rarely
                # reaches a full collection on its own and cyclic garbage (tasks, tracebacks) would
                # pile up for the whole burst.
                if not self._running and wait > 1.0:
                    memory.trim(30.0, collect_every=30.0)
                else:
                    memory.trim(20.0, collect_every=120.0)
                if wait > 0:  # also woken when a slot frees up for a waiting key
                    self._wake.clear()
                    await _wait_any(self._wake, stopped, min(wait, 1.0))
        finally:
            for task in list(self._running.values()):
                task.cancel()


async def _wait_any(event: asyncio.Event, stopped: Stopped, seconds: float) -> None:
    """Sleep until `event` is set or `seconds` pass; short sleeps let `stopped` be noticed promptly."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
