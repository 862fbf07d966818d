"""ttlSecondsAfterFinished for Job-like kinds (OnDemandBackup, VMRestore): an `after` hook."""

from __future__ import annotations

from azbackup.azure import protection_body as pb
from azbackup.kinds.contract import Context
from azbackup.managed import Resource


async def expire(obj: Resource, ctx: Context) -> None:
    """ttlSecondsAfterFinished: delete the object once it has been finished long enough (like a Job)."""
    ttl = obj.spec.get("ttlSecondsAfterFinished")
    finished = pb.parse_time(obj.status.get("completionTime"))
    if ttl is None or obj.status.get("phase") not in ("Succeeded", "Failed") or finished is None:
        return
    remaining = finished.timestamp() + float(ttl) - ctx.clock()
    if remaining <= 0:
        await ctx.kube.delete(obj.kind, obj.namespace, obj.name)
    else:
        ctx.requeue(obj.key, remaining)
