"""kopf registration for every kind, from the one table in `azbackup.kinds` (no per-kind copies).

Each kind gets the same handlers: a watch-event handler that keeps the registry current, a change
handler (create, spec update, reconcile-policy annotation) that reconciles at once, and a delete
handler that honours the deletion policy. A kind that owns a worker (the vault) also gets a daemon
per object that runs the worker: full passes every sync period, and due requeues.
"""

from __future__ import annotations

from collections.abc import Mapping

import kopf

from azbackup import API_GROUP, API_VERSION
from azbackup.api.specs import RECONCILE_POLICY_ANNOTATION
from azbackup.kinds import KINDS
from azbackup.reconcile.runtime import Runtime

SHARD_WAIT = 5.0
"""How often a replica that does not hold a deleting object's shard looks again (the owner finishes it)."""


def runtime_of(memo: kopf.Memo) -> Runtime:
    runtime: Runtime = memo.runtime
    return runtime


async def on_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: object) -> None:
    """Keep the registry in step with the watch stream (no API calls)."""
    runtime_of(memo).observe_event(str(event.get("type")), body)


async def on_change(body: kopf.Body, memo: kopf.Memo, **_: object) -> None:
    """A spec (or reconcile-policy) change: reconcile now. Errors become status, never a crash loop."""
    runtime = runtime_of(memo)
    if runtime.shards is not None:
        return  # with dynamic shards the watch event wakes the owner (Runtime.observe_event)
    obj = runtime.registry.upsert(body)
    await runtime.act_now(obj.key)


def policy_changed(old: object, new: object) -> bool:
    """kopf passes the annotations before and after (each a mapping, or None)."""
    old_value = old.get(RECONCILE_POLICY_ANNOTATION) if isinstance(old, Mapping) else None
    new_value = new.get(RECONCILE_POLICY_ANNOTATION) if isinstance(new, Mapping) else None
    return bool(old_value != new_value)


async def on_annotations(body: kopf.Body, memo: kopf.Memo, old: object, new: object, **_: object) -> None:
    if policy_changed(old, new):
        await on_change(body, memo)


async def on_delete(body: kopf.Body, memo: kopf.Memo, **_: object) -> None:
    """Honour the deletion policy; keep the finalizer (retry later) while Azure work remains."""
    runtime = runtime_of(memo)
    obj = runtime.registry.upsert(body)
    if not runtime.owns(obj.key):
        # Not done, or kopf would drop the finalizer before the owner cleaned up in Azure.
        raise kopf.TemporaryError("another replica holds this object's shard", delay=SHARD_WAIT)
    done, retry_in = await runtime.finalize(obj)
    if not done:
        raise kopf.TemporaryError("Azure clean-up in progress (see status)", delay=retry_in or 30)


async def run_worker(body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, **_: object) -> None:
    """The object's worker: a full pass of it and its members every sync period, and due requeues."""
    runtime = runtime_of(memo)
    runtime.registry.upsert(body)
    await runtime.run_worker((body["metadata"]["namespace"], body["metadata"]["name"]), stopped)


def register() -> None:
    for kind in KINDS:
        plural = kind.names.plural
        kopf.on.event(API_GROUP, API_VERSION, plural)(on_event)
        kopf.on.create(API_GROUP, API_VERSION, plural)(on_change)
        kopf.on.update(API_GROUP, API_VERSION, plural, field="spec")(on_change)
        kopf.on.update(API_GROUP, API_VERSION, plural, field="metadata.annotations")(on_annotations)
        kopf.on.delete(API_GROUP, API_VERSION, plural)(on_delete)
        if kind.runs_worker:
            kopf.daemon(API_GROUP, API_VERSION, plural, cancellation_timeout=5.0)(run_worker)


register()
