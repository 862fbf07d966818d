"""Running the loop for real: one object at a time, status written only on change, requeues per vault.

Handlers for spec changes hand the object to its vault's worker (or reconcile it here when there is
none), so a change is acted on at once; the worker's periodic passes and requeues take the same
per-object lock, so an object is never reconciled twice at the same time. Everything kind-specific
comes from the kinds' table: the client, the vault an object belongs to, who waits for whom.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from azbackup import metrics
from azbackup.api import specs
from azbackup.api.specs import RECONCILE_POLICY_ANNOTATION
from azbackup.azure import errors, fence
from azbackup.azure.gateway import Gateway
from azbackup.kinds import contract
from azbackup.kinds.contract import Kind
from azbackup.managed import Resource, Waiting
from azbackup.reasons import Reason
from azbackup.reconcile import backoff, handover, holding, loop, shards, status, teardown
from azbackup.reconcile.journal import Journal
from azbackup.reconcile.kube import Conflict, Kube
from azbackup.reconcile.locks import KeyedLocks
from azbackup.reconcile.registry import Key, Registry, VaultKey
from azbackup.reconcile.scheduler import Scheduler, SchedulerSettings, Stopped
from azbackup.reconcile.secrets import SecretCache
from azbackup.reconcile.verdict import Verdict
from azbackup.reconcile.writer import EventSink, StatusWriter
from azbackup.toolkit import times

log = logging.getLogger("azbackup.runtime")
FINALIZER = specs.FINALIZER


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
    feed_interval: float = 60.0
    """Seconds between reads of each subscription's change feed, the Activity Log (0: off)."""

    # The loop's own, which kinds read too (`kinds.contract.Settings`).
    @property
    def poll_interval(self) -> float:
        return self.loop.poll_interval

    @property
    def fast_retry(self) -> float:
        return self.loop.fast_retry


rfc3339, rfc3339_micro = times.at, times.at_micro


class Holds(Protocol):
    """Dynamic shards (leases.ShardKeeper): whether this replica holds a shard now."""

    def holds(self, shard: str | None) -> bool: ...

    async def run(self) -> None: ...

    async def release(self) -> None: ...


class _StoppedOr:
    """A worker's stop signal: kopf's, or its shard given up."""

    def __init__(self, stopped: Stopped, lost: Callable[[], bool]) -> None:
        self.stopped, self.lost = stopped, lost

    def is_set(self) -> bool:
        return self.stopped.is_set() or self.lost()


class Runtime:
    def __init__(self, kube: Kube, gateway: Gateway, settings: RuntimeSettings, kinds: Mapping[str, Kind],
                 registry: Registry, events: EventSink | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.kube, self.gateway, self.settings = kube, gateway, settings
        self.kinds, self.registry, self.clock = kinds, registry, clock
        self.journal = Journal(self)
        self.scheduler = Scheduler(registry, clock)
        self.writer = StatusWriter(kube, registry, events, self.requeue, lambda: rfc3339(self.clock()),
                                   lambda kind: kinds[kind].abnormal_true if kind in kinds else frozenset())
        self.secrets = SecretCache(kube.secret_data, settings.secret_ttl, clock)
        self.inventory = contract.new_inventory(time.monotonic)
        self.context = contract.Context(
            objects=registry, gateway=gateway, inventory=self.inventory, kube=kube, settings=settings,
            clock=clock, secret=self.secrets.get, requeue=self.requeue, full_pass=self.request_full_pass,
            kinds=tuple(kinds.values()))
        self._locks: KeyedLocks[Key] = KeyedLocks()
        self._attempts: dict[Key, int] = {}
        self._failing_since: dict[Key, float] = {}  # first of consecutive transient failures (holding.py)
        self._reconciled: set[Key] = set()  # objects this process has reconciled at least once
        self._queued_once: set[Key] = set()
        self._following: dict[Key, asyncio.Task[None]] = {}  # change-feed reads under way, by vault object
        self._acting: set[asyncio.Task[None]] = set()  # passes started from watch events (act_soon)
        self._act_slots = asyncio.Semaphore(settings.concurrency)
        # The kind whose objects own a worker (the vault); workers are keyed by its (namespace, name).
        self._vault_kind = next(kind.name for kind in kinds.values() if kind.runs_worker)
        self.shards: Holds | None = None
        """Set with dynamic shards: objects of a shard not held here are left to the replica holding it."""
        self._marks: dict[Key, tuple[int, str | None]] = {}  # generation and policy last seen (shards only)
        self._woken: set[asyncio.Task[Any]] = set()
        self._keeping: asyncio.Task[None] | None = None

    # -- dynamic shards -----------------------------------------------------------------------------
    def shard_of(self, key: Key) -> str:
        """The shard of an object: its vault's subscription (the vault kind's `shard`), or UNPLACED."""
        vault = (key[1], key[2]) if self.kinds[key[0]].runs_worker else self.registry.vault_of(key)
        obj = self.registry.get((self._vault_kind, *vault)) if vault is not None else None
        shard_fn = self.kinds[self._vault_kind].shard
        return (shard_fn(obj) if obj is not None and shard_fn is not None else None) or shards.UNPLACED

    def owns(self, key: Key) -> bool:
        return self.shards is None or self.shards.holds(self.shard_of(key))

    def _keep_shards(self) -> None:
        # Started by the first watch event rather than at start-up: the tasks it starts (wakes) then
        # carry kopf's per-object context, which Events need and start-up handlers do not have.
        if self.shards is not None and self._keeping is None:
            self._keeping = asyncio.ensure_future(self.shards.run())

    async def stop_shards(self) -> None:
        """A clean stop: end the renewals and free every shard at once, for the others to take."""
        if self.shards is None or self._keeping is None:
            return
        self._keeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._keeping
        await self.shards.release()

    def known_shards(self) -> set[str]:
        """Every shard this replica's objects fall in (the Lease keeper creates a Lease for each)."""
        return {shards.UNPLACED, *(self.shard_of(obj.key) for obj in self.registry.of_kind(self._vault_kind))}

    def shards_changed(self, gained: set[str], lost: set[str]) -> None:
        """Vault workers start and stop by themselves (run_worker), and a starting worker's full pass takes
        in all its objects; objects with no vault to run them (UNPLACED) are woken here."""
        if shards.UNPLACED not in gained:
            return
        for obj in self.registry.objects():
            if not self.kinds[obj.kind].runs_worker and not obj.deleting and self.shard_of(obj.key) == shards.UNPLACED:
                self.wake(obj.key, 0.0)

    def wake(self, key: Key, delay: float) -> None:
        """Reconcile soon: through the vault's worker if it runs here, else on a task of its own."""
        if self.scheduler.has_worker(self.registry.vault_of(key)) or self.kinds[key[0]].runs_worker:
            self.requeue(key, delay)
            return

        async def later() -> None:
            await asyncio.sleep(delay)
            await self.reconcile(key)

        task = asyncio.ensure_future(later())
        self._woken.add(task)
        task.add_done_callback(self._woken.discard)

    def _sharded_event(self, key: Key, obj: Resource) -> None:
        """With shards, the watch stream, not kopf's change handlers, starts work: kopf keeps one
        diff-base per object for all replicas, so a replica that does not own an object could mark a
        change handled before the owner saw it. A new generation or reconcile policy wakes the owner."""
        mark = (obj.generation, obj.annotations.get(RECONCILE_POLICY_ANNOTATION))
        first = key not in self._marks
        if self._marks.get(key) == mark or obj.deleting:
            self._marks[key] = mark
            return
        self._marks[key] = mark
        if self.owns(key):
            # Jitter spreads the first passes after a restart; a new object (no status yet) is not part of one.
            restart = first and "observedGeneration" in obj.status
            self.wake(key, self.settings.first_pass_jitter + random.uniform(0, 1.0) if restart else 0.0)

    @property
    def schedule_settings(self) -> SchedulerSettings:
        return self.settings

    # -- the journal's annotation writer ------------------------------------------------------------
    async def set_annotations(self, obj: Resource, values: Mapping[str, str], *, guarded: bool) -> Resource:
        updated = await self.kube.set_annotations(obj, values, guarded=guarded)
        self.registry.apply_annotations(obj.key, updated.annotations, updated.resource_version)
        return updated

    def observe_event(self, event_type: str, body: Mapping[str, Any]) -> None:
        """A watch event: keep the registry current, and make sure every object gets a first pass.

        After a restart kopf calls no handler for objects it already handled, and a vault's first pass
        may run before the watch listed all of its objects: an object this process has not reconciled
        yet is queued once, so every object is observed again soon after a restart. A new object (no
        status yet) is queued at once: kopf keeps no diff-base for it (controllers/diffbase.py), so this
        is how it is first seen; and so is a change of its reconcile-policy annotation.
        """
        meta = body.get("metadata") or {}
        key = (str(body.get("kind")), str(meta.get("namespace")), str(meta.get("name")))
        if event_type == "DELETED":
            claim = self.registry.claim_of(key)
            self.registry.remove(key)
            self._reconciled.discard(key)
            self._marks.pop(key, None)
            self._queued_once.discard(key)
            if claim and (heir := self.registry.first_claim(claim)):
                self.requeue(heir.key, 0.0)  # a hand-over of a claim: the next claimant acts now
            return
        before = self.registry.get(key)
        obj = self.registry.upsert(body)
        if self.shards is not None:
            self._keep_shards()
            if FINALIZER in (meta.get("finalizers") or ()):
                self._sharded_event(key, obj)
            return
        if obj.deleting:
            return
        if before is not None and before.policy is not obj.policy:
            self.act_soon(key)
        elif FINALIZER not in (meta.get("finalizers") or ()):
            return  # kopf adds it first: nothing is written to Azure for an object whose deletion is not held
        elif key not in self._reconciled and key not in self._queued_once:
            self._queued_once.add(key)
            if "observedGeneration" not in obj.status:
                self.act_soon(key)  # a new object is not part of a restart's stampede: no jitter
            else:
                self.requeue(key, self.settings.first_pass_jitter + random.uniform(0, 1.0))

    def act_soon(self, key: Key) -> None:
        """`act_now` from a watch event, without holding up the watch stream (it may call Azure)."""
        task = asyncio.ensure_future(self._act_bounded(key))
        self._acting.add(task)
        task.add_done_callback(self._acted)

    async def _act_bounded(self, key: Key) -> None:
        # A burst of new objects with no worker yet (their vault applied with them) is reconciled here:
        # as many at once as a worker would, not a thousand.
        async with self._act_slots:
            await self.act_now(key)

    def _acted(self, task: asyncio.Task[None]) -> None:
        self._acting.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("a pass started from the watch failed", exc_info=exc)

    def lock(self, key: Key) -> contextlib.AbstractAsyncContextManager[None]:
        return self._locks.hold(key)

    # -- one object ---------------------------------------------------------------------------------
    async def act_now(self, key: Key) -> None:
        """A handler's entry point: hand the object to its vault's worker, which acts at once with bounded
        concurrency; without a worker yet (no vault, or a vault itself), reconcile here.

        A thousand objects applied at once then wait in the worker's queue, not in kopf's handler slots.
        """
        if not self.kinds[key[0]].runs_worker and self.scheduler.has_worker(self.registry.vault_of(key)):
            self.requeue(key, 0.0)
        else:
            await self.reconcile(key)

    async def reconcile(self, key: Key) -> Verdict | None:
        """Reconcile one object now and write its status if it changed; schedules its next pass."""
        if not self.owns(key):
            return None  # another replica holds its shard (dynamic shards)
        fence.SHARD.set(self.shard_of(key) if self.shards is not None else None)
        async with self.lock(key):
            verdict: Verdict | None = None
            # A synchronous write asks to look again at once (retry_in == 0). Its status is held back and
            # written with the look's: one status write (and at most one Event) per pass, not one per step.
            held: Verdict | None = None
            for attempt in range(3):
                obj = self.registry.get(key)
                if obj is None or obj.deleting:
                    return None
                if held is not None:
                    obj = replace(obj, status=status.apply(obj.status, held.status))
                verdict = await self._once(obj, write=False)
                if verdict is not None and held is not None:
                    verdict = verdict.under(held)
                if verdict is not None and verdict.retry_in == 0 and attempt < 2:
                    held = verdict
                    continue
                await self._write(obj, verdict or held)
                break
            if verdict is not None and verdict.retry_in:
                self.requeue(key, verdict.retry_in)
            after = self.kinds[key[0]].after
            if after is not None and (latest := self.registry.get(key)) is not None:
                await after(latest, self.context)
            return verdict

    async def _once(self, obj: Resource, *, write: bool = True) -> Verdict | None:
        started = time.monotonic()
        verdict = await self._decide(obj)
        metrics.RECONCILE_SECONDS.labels(obj.kind).observe(time.monotonic() - started)
        metrics.RECONCILES.labels(obj.kind, verdict.phase.value if verdict else "conflict").inc()
        if write:
            await self._write(obj, verdict)
        return verdict

    async def _write(self, obj: Resource, verdict: Verdict | None) -> None:
        if verdict is not None and not self._quiet_wait(obj, verdict):
            await self.writer.write(obj, verdict)

    def _quiet_wait(self, obj: Resource, verdict: Verdict) -> bool:
        """A new object waiting for a dependency applied with it (LoopSettings.waiting_grace): not written
        yet, and looked at again when the grace ends in case the dependency is still not Ready by then
        (it wakes the object itself when it turns Ready, `Kind.waits_for`). A dependency that does not
        exist wakes nobody: that wait is written at once."""
        if not verdict.waiting or "observedGeneration" in obj.status:
            return False
        refs = [ref.key(obj) for ref in self.kinds[obj.kind].waits_for]
        if any(key is not None and self.registry.get(key) is None for key in refs):
            return False
        created = times.parse(obj.created)
        if created is None:
            return False
        left = created.timestamp() + self.settings.loop.waiting_grace - self.clock()
        if left <= 0:
            return False
        self.requeue(obj.key, left)
        return True

    async def _decide(self, obj: Resource) -> Verdict | None:
        self._reconciled.add(obj.key)
        now = self.clock()
        if (wait := backoff.remaining(obj.status, obj.generation, now)) is not None:
            # A recorded backoff (status.backoff) outlives restarts and periodic passes: no Azure call yet.
            log.info("%s %s/%s: backing off, next attempt in %.0fs", obj.kind, obj.namespace, obj.name, wait)
            self.requeue(obj.key, wait)
            return None
        try:
            client = await self.kinds[obj.kind].client(obj, self.context)
            verdict = await loop.reconcile(obj, client, self.journal, rfc3339_micro(now), self.settings.loop)
            self._attempts.pop(obj.key, None)
            self._failing_since.pop(obj.key, None)
            if obj.status.get(backoff.FIELD) is not None:
                verdict = verdict.with_status(**{backoff.FIELD: None})
        except Waiting as waiting:
            hold = waiting.hold
            make = Verdict.stalled if hold.stalls else Verdict.progressing
            verdict = replace(make(hold.reason, hold.message, hold.retry_in), waiting=not hold.stalls)
        except errors.AzbackupError as err:
            verdict = self._failed(obj, err)
            since = self._failing_since.setdefault(obj.key, now)
            if holding.holds_last_known(obj.status, obj.generation, err, now - since,
                                        self.settings.loop.transient_grace):
                # Last known good state holds while the read is retried: no status write, no Event.
                log.info("%s %s/%s: %s (holding its Ready state; retry in %ss)", obj.kind, obj.namespace,
                         obj.name, err.message, verdict.retry_in)
                self.requeue(obj.key, verdict.retry_in or self.settings.loop.fast_retry)
                return None
            recorded = backoff.record(now, verdict.retry_in, self._attempts[obj.key], obj.generation,
                                      self.settings.loop.record_backoff_over)
            if recorded is not None:
                verdict = verdict.with_status(**{backoff.FIELD: recorded})
            log.info("%s %s/%s: %s (retry in %ss)", obj.kind, obj.namespace, obj.name, err.message,
                     verdict.retry_in)
        except Conflict:
            self.requeue(obj.key, 1.0)
            return None
        except fence.ShardNotHeld as lost:
            log.info("%s %s/%s: stopped, %s", obj.kind, obj.namespace, obj.name, lost)
            return None
        return verdict

    def _failed(self, obj: Resource, err: errors.AzbackupError) -> Verdict:
        # Attempts recorded with a backoff (status.backoff) go on doubling after a restart.
        attempts = max(self._attempts.get(obj.key, 0), backoff.attempts(obj.status, obj.generation))
        self._attempts[obj.key] = attempts + 1
        return loop.verdict_for_error(err, attempts, self.settings.loop)

    # -- deletion -----------------------------------------------------------------------------------
    async def finalize(self, obj: Resource) -> tuple[bool, float | None]:
        """One deletion pass: (done, retry_in). Status says why deletion waits."""
        fence.SHARD.set(self.shard_of(obj.key) if self.shards is not None else None)
        async with self.lock(obj.key):
            obj = self.registry.get(obj.key) or obj
            now = self.clock()
            if (heir := handover.successor(obj, self.registry)) is not None:
                log.info("%s %s/%s deleted: %s takes over its VM as it is protected (no Azure change)",
                         obj.kind, obj.namespace, obj.name, heir.name)
                return True, None
            if self.kinds[obj.kind].runs_worker and (wait := await self._members_settle((obj.namespace, obj.name))):
                await self.writer.write(obj, wait)
                return False, wait.retry_in
            try:
                client = await self.kinds[obj.kind].client(obj, self.context)
                result = await loop.finalize(obj, client, rfc3339_micro(now), self.settings.loop)
                self._attempts.pop(obj.key, None)
            except fence.ShardNotHeld:
                return False, self.settings.loop.fast_retry
            except Waiting as waiting:
                # A reference is gone (e.g. the vault object was deleted first): nothing left to do.
                log.info("%s %s/%s deleted without Azure clean-up: %s", obj.kind, obj.namespace, obj.name,
                         waiting.hold.message)
                return True, None
            except errors.AzbackupError as err:
                verdict = self._failed(obj, err)
                await self.writer.write(obj, verdict)
                return False, verdict.retry_in or self.settings.loop.slow_retry
            if result.done:
                self._attempts.pop(obj.key, None)
                return True, None
            assert result.verdict is not None
            await self.writer.write(obj, result.verdict)
            return False, result.verdict.retry_in or self.settings.loop.poll_interval

    async def _members_settle(self, vault: VaultKey) -> Verdict | None:
        """Before a vault's own clean-up, its members' operations are followed to their end here (its worker
        is gone); None once nothing is in flight (teardown.py)."""
        for key in teardown.in_flight(self.registry, vault):
            await self.reconcile(key)
        busy = teardown.in_flight(self.registry, vault)
        if not busy:
            return None
        shown = ", ".join(k[2] for k in busy[:5]) + (f" and {len(busy) - 5} more" if len(busy) > 5 else "")
        return Verdict.progressing(Reason.DELETING, f"waiting for the Azure operations of {len(busy)} of its "
                                   f"objects ({shown}) to end before deleting the vault",
                                   self.settings.loop.poll_interval)

    # -- scheduling ---------------------------------------------------------------------------------
    def requeue(self, key: Key, delay: float) -> None:
        self.scheduler.requeue(key, delay)

    async def vault_pass(self, vault: VaultKey) -> list[Key]:
        """Start a full pass: fresh snapshots, the vault itself first (its readiness gates the others).

        Returns the vault's objects, which the worker then reconciles from those snapshots.
        """
        metrics.VAULT_PASSES.inc()
        key = (self._vault_kind, *vault)
        obj = self.registry.get(key)
        if obj is not None and (hook := self.kinds[obj.kind].full_pass) is not None:
            await hook(obj, self.context)
        await self.reconcile(key)
        return self.registry.members(vault)

    def request_full_pass(self, key: Key) -> None:
        """A worker-owning object's full pass, now (the change feed may have missed changes)."""
        worker = self.scheduler.workers.get((key[1], key[2]))
        if worker is not None:
            worker.full_pass_now()

    def follow(self, vault: VaultKey) -> None:
        """Read the change feed of the vault's subscription in the background (the kind's `follow` hook):
        a slow or throttled read must not hold up the worker's requeues."""
        key = (self._vault_kind, *vault)
        obj = self.registry.get(key)
        hook = self.kinds[self._vault_kind].follow
        if obj is None or obj.deleting or hook is None or key in self._following:
            return
        task = asyncio.ensure_future(self._follow(obj, hook))
        self._following[key] = task
        task.add_done_callback(lambda _: self._following.pop(key, None))

    async def _follow(self, obj: Resource, hook: contract.Follow) -> None:
        try:
            report = await hook(obj, self.context)
        except (errors.AzbackupError, Waiting) as err:
            # The vault's own pass reports a missing Secret or reference; the feed just waits for it.
            log.debug("change feed of %s/%s not read: %s", obj.namespace, obj.name, err)
            return
        except Exception:  # a bug must not end the worker's feed for good: the next interval tries again
            log.exception("change feed of %s/%s failed", obj.namespace, obj.name)
            return
        if report is None:
            return
        log.debug("change feed of subscription %s: %d entries, %d new own, %d new changes", report.subscription,
                  report.entries, report.own, report.changes)
        metrics.FEED_READS.labels("gap" if report.gap else "failed" if report.failed else "ok").inc()
        metrics.FEED_ENTRIES.labels("own").inc(report.own)
        metrics.FEED_ENTRIES.labels("change").inc(report.changes)
        metrics.FEED_WAKES.inc(report.requeued)
        if report.lag is not None:
            metrics.FEED_LAG.observe(report.lag)
        if report.gap:
            log.warning("change feed of subscription %s has a gap (%s): full passes of its vaults now",
                        report.subscription, "unavailable for minutes" if report.failed else "not read for too long")
        elif report.changes:
            log.info("change feed of subscription %s: %d changes by others (%d own writes ignored), %d objects "
                     "woken, %d Azure reads", report.subscription, report.changes, report.own, report.requeued,
                     report.reads)

    async def run_worker(self, vault: VaultKey, stopped: Stopped) -> None:
        if self.shards is None:
            await self.scheduler.run_worker(self, vault, stopped)
            return
        # Dynamic shards: the worker runs while this replica holds the vault's shard, and stops (its
        # running reconciles cancelled) as soon as the shard is given up.
        key = (self._vault_kind, *vault)
        while not stopped.is_set():
            if self.owns(key):
                shard = self.shard_of(key)
                fence.SHARD.set(shard)
                log.info("vault %s/%s: worker started (shard %s held)", *vault, shard)
                await self.scheduler.run_worker(self, vault, _StoppedOr(stopped, lambda: not self.owns(key)))
                log.info("vault %s/%s: worker stopped", *vault)
            await asyncio.sleep(0.25)
