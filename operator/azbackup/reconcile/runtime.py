"""Running the loop for real: one object at a time, status written only on change, requeues per vault.

Every object's work belongs to one vault (a BackupPolicy, ProtectedVM, VMBackupSelector or
OnDemandBackup through its references; a BackupVault to itself). Each vault has one worker task
(a kopf daemon) that
- makes a full pass over the vault and all its objects once per sync period, from batched reads, and
- runs the requeues of its objects when they are due (an operation to poll, a backoff to wait out).
Handlers for spec changes call `reconcile` directly, so a change is acted on at once; both paths take
the same per-object lock, so an object is never reconciled twice at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from azbackup import metrics
from azbackup.api.specs import VaultSpec
from azbackup.azure import errors
from azbackup.azure.inventory import Inventory
from azbackup.managed import ExternalClient, Hold, Resource
from azbackup.reasons import Reason
from azbackup.reconcile import backoff, handover, holding, loop, memory, status, teardown
from azbackup.reconcile.journal import Journal
from azbackup.reconcile.kube import Conflict, Kube
from azbackup.reconcile.registry import Key, Registry, VaultKey
from azbackup.reconcile.verdict import Phase, Verdict

log = logging.getLogger("azbackup.runtime")


class Waiting(Exception):
    """Raised by a binding when the object cannot be reconciled yet (a reference not ready)."""

    def __init__(self, hold: Hold) -> None:
        super().__init__(hold.message)
        self.hold = hold


class Binding(Protocol):
    """How one kind plugs into the runtime."""

    kind: str

    async def client(self, obj: Resource, runtime: Runtime) -> ExternalClient: ...


EventSink = Callable[[Resource, str, str, str], Awaitable[None] | None]


@dataclass(frozen=True)
class RuntimeSettings:
    """Timing and limits of the runtime (flags of `azbackup run`, values of the Helm chart)."""

    sync_period: float = 3600.0
    """Seconds between full passes of a vault (drift detection); ASO's default is 1 h too."""
    concurrency: int = 32
    """Objects of one vault reconciled at the same time (most of it is waiting on Azure)."""
    first_pass_jitter: float = 2.0
    """Random delay before a vault's first pass, so a restart does not stampede ARM."""
    loop: loop.LoopSettings = field(default_factory=loop.LoopSettings)
    cluster_name: str = ""
    """Added to the owner tag of Azure resources, for several clusters sharing a subscription."""
    secret_ttl: float = 60.0
    """How long a credentialRef Secret read is reused."""
    recheck_interval: float = 300.0
    """How soon a VM that fails a prerequisite is looked at again (the fleet is re-read at most this often)."""


def rfc3339(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Runtime:
    def __init__(self, kube: Kube, gateway: Any, settings: RuntimeSettings, bindings: dict[str, Binding],
                 registry: Registry, events: EventSink | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.kube, self.gateway, self.settings = kube, gateway, settings
        self.bindings, self.registry, self.events, self.clock = bindings, registry, events, clock
        self.journal = Journal(self)
        self._locks: dict[Key, asyncio.Lock] = {}
        self._attempts: dict[Key, int] = {}
        self._failing_since: dict[Key, float] = {}  # first of consecutive transient failures (holding.py)
        self._reconciled: set[Key] = set()  # objects this process has reconciled at least once
        self._queued_once: set[Key] = set()
        self.workers: dict[VaultKey, VaultWorker] = {}
        self.pending: dict[VaultKey, dict[Key, float]] = {}  # requeues for vaults with no worker yet
        self._secrets: dict[tuple[str, str], tuple[float, dict[str, str] | None]] = {}
        self.full_pass_hooks: list[Callable[[VaultKey], None]] = [self._refresh_snapshots]
        self.inventory = Inventory()

    # -- the journal's annotation writer ------------------------------------------------------------
    async def set_annotations(self, obj: Resource, values: Mapping[str, str], *, guarded: bool) -> Resource:
        updated = await self.kube.set_annotations(obj, values, guarded=guarded)
        self.registry.apply_annotations(obj.key, updated.annotations, updated.resource_version)
        return updated

    # -- Secrets, cached briefly so a vault pass does not read one Secret per object -----------------
    async def secret(self, namespace: str, name: str) -> dict[str, str] | None:
        cached = self._secrets.get((namespace, name))
        if cached and self.clock() - cached[0] < self.settings.secret_ttl:
            return cached[1]
        data = await self.kube.secret_data(namespace, name)
        self._secrets[(namespace, name)] = (self.clock(), data)
        return data

    def _refresh_snapshots(self, vault: VaultKey) -> None:
        """A full pass reads Azure afresh: the vault's items and its subscription's fleet."""
        obj = self.registry.get(("BackupVault", *vault))
        if obj is None:
            return
        spec = VaultSpec.parse(obj.name, obj.spec)
        self.inventory.invalidate_vault(str(obj.status.get("vaultId") or spec.vault_id))
        # Vaults of one subscription share its fleet: the first pass of a period re-reads it for all.
        self.inventory.invalidate_subscription(spec.subscription_id, older_than=self.settings.sync_period / 2)

    def observe_event(self, event_type: str, body: Mapping[str, Any]) -> None:
        """A watch event: keep the registry current, and make sure every object gets a first pass.

        After a restart kopf calls no handler for objects it already handled, and a vault's first pass
        may run before the watch listed all of its objects: an object this process has not reconciled
        yet is queued once, so every object is observed again soon after a restart.
        """
        meta = body.get("metadata") or {}
        key = (str(body.get("kind")), str(meta.get("namespace")), str(meta.get("name")))
        if event_type == "DELETED":
            self.registry.remove(key)
            self._reconciled.discard(key)
            if key[0] == "ProtectedVM" and (heir := self.registry.first_claim(str((body.get("spec") or {})
                                                                                .get("vm") or ""))):
                self.requeue(heir.key, 0.0)  # a duplicate hand-over: the next claimant acts now
            return
        obj = self.registry.upsert(body)
        if key not in self._reconciled and key not in self._queued_once and not obj.deleting:
            self._queued_once.add(key)
            self.requeue(key, self.settings.first_pass_jitter + random.uniform(0, 1.0))

    def lock(self, key: Key) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    # -- one object ---------------------------------------------------------------------------------
    async def act_now(self, key: Key) -> None:
        """A handler's entry point: hand the object to its vault's worker, which acts at once with bounded
        concurrency; without a worker yet (no vault, or the vault itself), reconcile here.

        A thousand objects applied at once then wait in the worker's queue, not in kopf's handler slots.
        """
        vault = self.registry.vault_of(key)
        if key[0] != "BackupVault" and vault is not None and vault in self.workers:
            self.requeue(key, 0.0)
        else:
            await self.reconcile(key)

    async def reconcile(self, key: Key) -> Verdict | None:
        """Reconcile one object now and write its status if it changed; schedules its next pass."""
        async with self.lock(key):
            verdict: Verdict | None = None
            for _ in range(3):  # a synchronous write asks to look again at once (retry_in == 0)
                obj = self.registry.get(key)
                if obj is None or obj.deleting:
                    return None
                verdict = await self._once(obj)
                if verdict is None or verdict.retry_in != 0:
                    break
            if verdict is not None and verdict.retry_in:
                self.requeue(key, verdict.retry_in)
            after = getattr(self.bindings[key[0]], "after", None)
            if after is not None and (latest := self.registry.get(key)) is not None:
                await after(latest, self)
            return verdict

    async def _once(self, obj: Resource) -> Verdict | None:
        started = time.monotonic()
        verdict = await self._decide(obj)
        metrics.RECONCILE_SECONDS.labels(obj.kind).observe(time.monotonic() - started)
        metrics.RECONCILES.labels(obj.kind, verdict.phase.value if verdict else "conflict").inc()
        return verdict

    async def _decide(self, obj: Resource) -> Verdict | None:
        self._reconciled.add(obj.key)
        binding = self.bindings[obj.kind]
        now = self.clock()
        if (wait := backoff.remaining(obj.status, obj.generation, now)) is not None:
            # A recorded backoff (status.backoff) outlives restarts and periodic passes: no Azure call yet.
            log.info("%s %s/%s: backing off, next attempt in %.0fs", obj.kind, obj.namespace, obj.name, wait)
            self.requeue(obj.key, wait)
            return None
        try:
            client = await binding.client(obj, self)
            verdict = await loop.reconcile(obj, client, self.journal, rfc3339_micro(now), self.settings.loop)
            self._attempts.pop(obj.key, None)
            self._failing_since.pop(obj.key, None)
            if obj.status.get(backoff.FIELD) is not None:
                verdict = verdict.with_status(**{backoff.FIELD: None})
        except Waiting as waiting:
            hold = waiting.hold
            make = Verdict.stalled if hold.stalls else Verdict.progressing
            verdict = make(hold.reason, hold.message, hold.retry_in)
        except errors.AzbackupError as err:
            attempts = max(self._attempts.get(obj.key, 0), backoff.attempts(obj.status, obj.generation))
            self._attempts[obj.key] = attempts + 1
            verdict = loop.verdict_for_error(err, attempts, self.settings.loop)
            since = self._failing_since.setdefault(obj.key, now)
            if holding.holds_last_known(obj.status, obj.generation, err, now - since,
                                        self.settings.loop.transient_grace):
                # Last known good state holds while the read is retried: no status write, no Event.
                log.info("%s %s/%s: %s (holding its Ready state; retry in %ss)", obj.kind, obj.namespace,
                         obj.name, err.message, verdict.retry_in)
                self.requeue(obj.key, verdict.retry_in or self.settings.loop.fast_retry)
                return None
            recorded = backoff.record(now, verdict.retry_in, attempts + 1, obj.generation,
                                      self.settings.loop.record_backoff_over)
            if recorded is not None:
                verdict = verdict.with_status(**{backoff.FIELD: recorded})
            log.info("%s %s/%s: %s (retry in %ss)", obj.kind, obj.namespace, obj.name, err.message,
                     verdict.retry_in)
        except Conflict:
            self.requeue(obj.key, 1.0)
            return None
        await self.write(obj, verdict)
        return verdict

    async def write(self, obj: Resource, verdict: Verdict) -> None:
        """Patch status only if it changed, and post one Event per condition transition."""
        latest = self.registry.get(obj.key) or obj
        change = status.compute(latest.status, verdict, latest.generation, rfc3339(self.clock()), latest.digests)
        if not change.patch:
            return
        version = await self.kube.patch_status(latest, change.patch)
        self.registry.apply_status(obj.key, change.status, version)
        if obj.kind == "ProtectedVM" and any(c.type == "Ready" and c.status == "True" for c in change.events):
            # On-demand backups waiting for this VM to be protected go now.
            for waiting in self.registry.of_kind("OnDemandBackup", obj.namespace):
                if (waiting.spec.get("protectedVMRef") or {}).get("name") == obj.name:
                    self.requeue(waiting.key, 0.0)
        if obj.kind in ("BackupVault", "BackupPolicy") and any(
                c.type == "Ready" and c.status == "True" for c in change.events):
            # Objects waiting for this vault or policy to be Ready go now, not at the next full pass.
            vault = (obj.namespace, obj.name) if obj.kind == "BackupVault" else self.registry.vault_of(obj.key)
            if vault is not None:
                for member in self.registry.members(vault):
                    if member != obj.key:
                        self.requeue(member, 0.0)
        if self.events is not None:
            for condition in change.events:
                stalled = condition.type == "Ready" and verdict.phase is Phase.STALLED
                failing = condition.type != "Ready" and condition.status == "False"
                kind = "Warning" if stalled or failing else "Normal"
                result = self.events(latest, kind, condition.reason,
                                     f"{condition.type}={condition.status}: {condition.message}")
                if asyncio.iscoroutine(result):
                    await result

    # -- deletion -----------------------------------------------------------------------------------
    async def finalize(self, obj: Resource) -> tuple[bool, float | None]:
        """One deletion pass: (done, retry_in). Status says why deletion waits."""
        async with self.lock(obj.key):
            obj = self.registry.get(obj.key) or obj
            now = self.clock()
            if (heir := handover.successor(obj, self.registry)) is not None:
                log.info("%s %s/%s deleted: %s takes over its VM as it is protected (no Azure change)",
                         obj.kind, obj.namespace, obj.name, heir.name)
                return True, None
            if obj.kind == "BackupVault" and (wait := await self._members_settle((obj.namespace, obj.name))):
                await self.write(obj, wait)
                return False, wait.retry_in
            try:
                client = await self.bindings[obj.kind].client(obj, self)
                result = await loop.finalize(obj, client, rfc3339_micro(now), self.settings.loop)
                self._attempts.pop(obj.key, None)
            except Waiting as waiting:
                # A reference is gone (e.g. the vault object was deleted first): nothing left to do.
                log.info("%s %s/%s deleted without Azure clean-up: %s", obj.kind, obj.namespace, obj.name,
                         waiting.hold.message)
                return True, None
            except errors.AzbackupError as err:
                attempts = self._attempts.get(obj.key, 0)
                self._attempts[obj.key] = attempts + 1
                verdict = loop.verdict_for_error(err, attempts, self.settings.loop)
                await self.write(obj, verdict)
                return False, verdict.retry_in or self.settings.loop.slow_retry
            if result.done:
                self._attempts.pop(obj.key, None)
                return True, None
            assert result.verdict is not None
            await self.write(obj, result.verdict)
            return False, result.verdict.retry_in or self.settings.loop.poll_interval

    async def _members_settle(self, vault: VaultKey) -> Verdict | None:
        """Before a vault's own clean-up: its members' operations followed to their end, and each member
        told why nothing more happens (its worker is gone). None once nothing is in flight (teardown.py)."""
        for key in self.registry.members(vault):
            if key[0] != "OnDemandBackup":  # an on-demand backup is never started for a vault on its way out
                await self.reconcile(key)
        busy = teardown.in_flight(self.registry, vault)
        if not busy:
            return None
        names = ", ".join(k[2] for k in busy[:5]) + (f" and {len(busy) - 5} more" if len(busy) > 5 else "")
        return Verdict.progressing(Reason.DELETING, f"waiting for the Azure operations of {len(busy)} "
                                   f"ProtectedVMs ({names}) to end before deleting the vault",
                                   self.settings.loop.poll_interval)

    # -- scheduling ---------------------------------------------------------------------------------
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

    def wake(self, vault: VaultKey) -> None:
        if (worker := self.workers.get(vault)) is not None:
            worker.wake_now()

    async def vault_pass(self, vault: VaultKey) -> list[Key]:
        """Start a full pass: fresh snapshots, the vault itself first (its readiness gates the others).

        Returns the vault's objects, which the worker then reconciles from those snapshots.
        """
        metrics.VAULT_PASSES.inc()
        for hook in self.full_pass_hooks:
            hook(vault)
        await self.reconcile(("BackupVault", *vault))
        return self.registry.members(vault)

    async def run_worker(self, vault: VaultKey, stopped: Any) -> None:
        worker = VaultWorker(self, vault)
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

    def __init__(self, runtime: Runtime, vault: VaultKey) -> None:
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

    def schedule(self, key: Key, delay: float) -> None:
        due = self.runtime.clock() + delay
        if key in self._due and self._due[key] <= due:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, key))
        self._wake.set()

    def wake_now(self) -> None:
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
        limit = self.runtime.settings.concurrency
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

    async def run(self, stopped: Any) -> None:
        clock = self.runtime.clock
        settings = self.runtime.settings
        next_full = clock() + random.uniform(0, settings.first_pass_jitter)
        try:
            while not stopped.is_set():
                if clock() >= next_full:
                    members = await self.runtime.vault_pass(self.vault)
                    self.passes += 1
                    next_full = clock() + settings.sync_period
                    for key in members:
                        self.schedule(key, 0.0)
                self._pop_due(clock())
                self._start_waiting()
                wait = next_full - clock()
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


async def _wait_any(event: asyncio.Event, stopped: Any, seconds: float) -> None:
    """Sleep until `event` is set or `seconds` pass; short sleeps let `stopped` be noticed promptly."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
