"""The handler bodies every kind shares; the kind modules only register them with kopf."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from azbackup import API_GROUP, API_VERSION
from azbackup.api.specs import RECONCILE_POLICY_ANNOTATION
from azbackup.reconcile.runtime import Runtime

GROUP, VERSION = API_GROUP, API_VERSION


def runtime_of(memo: Any) -> Runtime:
    runtime: Runtime = memo.runtime
    return runtime


def on_event(event: Mapping[str, Any], body: Mapping[str, Any], memo: Any) -> None:
    """Keep the registry in step with the watch stream (no API calls)."""
    runtime_of(memo).observe_event(str(event.get("type")), body)


async def on_change(body: Mapping[str, Any], memo: Any) -> None:
    """A spec (or reconcile-policy) change: reconcile now. Errors become status, never a crash loop."""
    runtime = runtime_of(memo)
    obj = runtime.registry.upsert(body)
    await runtime.act_now(obj.key)


def policy_changed(old: Any, new: Any) -> bool:
    old_value = (old or {}).get(RECONCILE_POLICY_ANNOTATION)
    new_value = (new or {}).get(RECONCILE_POLICY_ANNOTATION)
    return bool(old_value != new_value)


async def on_delete(body: Mapping[str, Any], memo: Any) -> None:
    """Honour the deletion policy; keep the finalizer (retry later) while Azure work remains."""
    runtime = runtime_of(memo)
    obj = runtime.registry.upsert(body)
    done, retry_in = await runtime.finalize(obj)
    if not done:
        raise kopf.TemporaryError("Azure clean-up in progress (see status)", delay=retry_in or 30)
