"""RFC 3339 times as Kubernetes and ARM write them: UTC, `Z`, whole seconds (or microseconds)."""

from __future__ import annotations

import datetime as dt

SECONDS = "%Y-%m-%dT%H:%M:%SZ"
MICROSECONDS = "%Y-%m-%dT%H:%M:%S.%fZ"


def rfc3339(moment: dt.datetime) -> str:
    """`moment` in UTC to the second; equal precision makes these strings sort as the times do."""
    return moment.astimezone(dt.UTC).strftime(SECONDS)


def rfc3339_optional(moment: dt.datetime | None) -> str | None:
    return rfc3339(moment) if moment is not None else None


def at(epoch: float) -> str:
    """A Unix time (the operator's clock) as RFC 3339 to the second."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime(SECONDS)


def at_micro(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime(MICROSECONDS)


def parse(value: object) -> dt.datetime | None:
    """An RFC 3339 / ISO 8601 time (naive ones are UTC); None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
