"""A long backoff recorded on the object, so a restarted operator (or the next periodic pass) honours it.

The runtime counts attempts in memory and requeues after the backoff; a restart or a full pass of the
vault used to forget both and call Azure again at once ("retry in 1800s" retried every sync). A backoff
of at least `LoopSettings.record_backoff_over` seconds is written to `status.backoff` with the failed
attempts and the generation it was computed for; any pass before `until` for that generation waits
without calling Azure. A spec change (a new generation) is acted on at once. Short backoffs stay in
memory only: recording them would cost a status write per transient error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azbackup.toolkit import times

FIELD = "backoff"


def _parse(value: object) -> float | None:
    parsed = times.parse(value)
    return parsed.timestamp() if parsed else None


def _record(status: Mapping[str, Any], generation: int) -> Mapping[str, Any] | None:
    record = status.get(FIELD)
    if not isinstance(record, Mapping) or record.get("generation") != generation:
        return None  # none, or one for an older spec: a spec change is acted on at once
    return record


def remaining(status: Mapping[str, Any], generation: int, now: float) -> float | None:
    """Seconds to wait before calling Azure again for this object, or None to go ahead now."""
    record = _record(status, generation)
    until = _parse(record.get("until")) if record else None
    if until is None or until <= now:
        return None
    return until - now


def attempts(status: Mapping[str, Any], generation: int) -> int:
    """Failed attempts recorded for this generation (so the doubling goes on after a restart)."""
    record = _record(status, generation)
    try:
        return int(record.get("attempts") or 0) if record else 0
    except (TypeError, ValueError):
        return 0


def record(now: float, retry_in: float | None, attempts: int, generation: int,
           over: float) -> dict[str, Any] | None:
    """The status.backoff value after a failure, or None when the backoff is too short to record."""
    if retry_in is None or retry_in < over:
        return None
    return {"until": times.at(now + retry_in), "attempts": attempts, "generation": generation}
