"""What changed in a subscription: Azure's Activity Log, read once per interval whatever the fleet size.

This is the seam behind which the choice of feed lives (DESIGN §7). The Activity Log was chosen over
Azure Resource Graph's change tables because:
- it records every ARM write, including those to proxy resources such as backup policies and protected
  items, which Resource Graph's `resourcechanges` table does not track;
- reading it is an ordinary ARM read (`Microsoft.Insights/eventtypes/values/read`, part of Reader), paced
  by the same per-subscription buckets, while Resource Graph has a quota of its own per user
  (15 queries per 5 s) shared with everything else the identity queries;
- each entry names the client request that caused it (`httpRequest.clientRequestId`), so the operator's
  own writes are recognised exactly (`OwnRequests`), whatever identity made them.
Its price is lateness: an entry becomes visible minutes after its `eventTimestamp`, in no particular order.
So each read reaches back `lookback` seconds before the end of the previous one, and entries already seen
are dropped by their `eventDataId` (`FeedCursor`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncHTTPPolicy

from azbackup.azure import errors, lists
from azbackup.toolkit import times

API_VERSION = "2015-04-01"  # the only version of ActivityLogs_List
# Only what the operator reads of an entry: less to send, page and parse at every interval.
SELECT = "eventDataId,correlationId,eventTimestamp,submissionTimestamp,operationName,resourceId,status,httpRequest"
# A change happened (a write finished or was accepted); Started and Failed entries change nothing.
EFFECTIVE = frozenset({"succeeded", "accepted"})
CLIENT_REQUEST_ID = "x-ms-client-request-id"


def _timestamp(value: str | None) -> float | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # Azure writes seven fractional digits (ticks); Python reads at most six.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


_iso = times.at_micro


def url(subscription: str, start: float, end: float) -> str:
    """ActivityLogs_List for a subscription in a time range (one of the filter patterns Azure allows)."""
    filter_ = f"eventTimestamp ge '{_iso(start)}' and eventTimestamp le '{_iso(end)}'"
    return (f"/subscriptions/{quote(subscription, safe='')}/providers/Microsoft.Insights/eventtypes/management/"
            f"values?api-version={API_VERSION}&$filter={quote(filter_, safe='')}&$select={quote(SELECT, safe=',')}")


def _value(node: object) -> str:
    """A LocalizableString's invariant value (or a plain string)."""
    if isinstance(node, Mapping):
        return str(node.get("value") or "")
    return str(node or "")


@dataclass(frozen=True)
class Change:
    """One Activity Log entry, as the operator reads it."""

    event_id: str
    resource_id: str  # lower-cased, as ARM ids compare
    operation: str  # lower-cased, e.g. microsoft.compute/virtualmachines/write
    status: str  # lower-cased: started, accepted, succeeded, failed, ...
    at: float  # eventTimestamp, seconds since the epoch
    client_request_id: str | None = None
    correlation_id: str | None = None
    visible_at: float | None = None  # submissionTimestamp: when Azure made the entry readable

    @property
    def lateness(self) -> float | None:
        """Seconds between the change and its entry becoming readable (Azure's lag, as this entry saw it)."""
        return None if self.visible_at is None else max(0.0, self.visible_at - self.at)

    @property
    def deleted(self) -> bool:
        return self.operation.endswith("/delete")

    @property
    def effective(self) -> bool:
        return self.status in EFFECTIVE

    @classmethod
    def parse(cls, entry: Mapping[str, Any]) -> Change | None:
        at = _timestamp(entry.get("eventTimestamp"))
        event_id, resource = entry.get("eventDataId"), entry.get("resourceId")
        if at is None or not event_id or not resource:
            return None
        http = entry.get("httpRequest") or {}
        return cls(event_id=str(event_id), resource_id=str(resource).lower(),
                   operation=_value(entry.get("operationName")).lower(), status=_value(entry.get("status")).lower(),
                   at=at, client_request_id=http.get("clientRequestId") or None,
                   correlation_id=entry.get("correlationId") or None,
                   visible_at=_timestamp(entry.get("submissionTimestamp")))


class OwnRequests:
    """The client request ids of the writes this process sent, kept for `ttl` seconds.

    An Activity Log entry names the request that caused it, so a write of our own is recognised when it
    comes back through the feed, and not mistaken for drift (no echo loop). The entries of a long-running
    write that carry no request id share its correlation id, which is learnt from the first one seen.
    """

    def __init__(self, ttl: float = 3 * 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._ids: dict[str, float] = {}
        self._correlations: dict[str, float] = {}

    def add(self, request_id: str) -> None:
        self._ids[request_id] = self.clock()
        if len(self._ids) > 4096:
            self._expire()

    def _expire(self) -> None:
        horizon = self.clock() - self.ttl
        for table in (self._ids, self._correlations):
            for key in [k for k, at in table.items() if at < horizon]:
                del table[key]

    def mine(self, changes: Iterable[Change]) -> set[str]:
        """Event ids of the changes this process caused, learning their correlation ids as it goes."""
        changes = list(changes)
        for change in changes:
            if change.client_request_id in self._ids and change.correlation_id:
                self._correlations[change.correlation_id] = self.clock()
        return {c.event_id for c in changes
                if c.client_request_id in self._ids or (c.correlation_id and c.correlation_id in self._correlations)}


class OwnWritesPolicy(AsyncHTTPPolicy[Any, Any]):
    """Remembers the client request id of every write attempt (a per-retry policy: the id is set by then)."""

    def __init__(self, own: OwnRequests) -> None:
        super().__init__()
        self.own = own

    async def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        http = request.http_request
        if http.method.upper() not in ("GET", "HEAD") and (request_id := http.headers.get(CLIENT_REQUEST_ID)):
            self.own.add(request_id)
        return await self.next.send(request)


@dataclass
class FeedRead:
    """One read of the feed: the changes made by others since the last read, and whether some may be lost."""

    changes: list[Change] = field(default_factory=list)
    entries: int = 0  # entries the read returned (new or already seen)
    own: int = 0  # new entries caused by this process's own writes
    gap: bool = False  # changes may have been missed: the caller falls back to a full pass
    failed: bool = False  # the read itself failed (the feed is unavailable or throttled)
    lag: float | None = None  # seconds from the oldest new change to this read


class FeedCursor:
    """Which time range to read next, and which entries were already seen. No I/O.

    Reads overlap because entries become visible late and out of order. How far back is learnt from the
    entries themselves (their `submissionTimestamp` less their `eventTimestamp`): twice the worst lateness
    seen in the last hour, between `min_lookback` and `lookback`, and `lookback` until an entry was seen.
    Each read returns every entry of its range, so a range no longer than Azure's lateness needs keeps
    the reads of a quiet subscription to one page.

    A range longer than `max_window` (the process stopped reading for that long) is not read at all: the
    caller makes a full pass instead and the cursor starts again from now. So does a feed that fails for
    longer than `outage`: its callers are told once per outage (`gap`).
    """

    def __init__(self, lookback: float = 1200.0, max_window: float = 6 * 3600.0, outage: float = 180.0,
                 skew: float = 300.0, not_before: float | None = None, min_lookback: float = 300.0) -> None:
        self.lookback, self.max_window, self.outage, self.skew = lookback, max_window, outage, skew
        self.min_lookback = min(min_lookback, lookback)
        self._lateness: list[tuple[float, float]] = []  # (read at, lateness) of the last hour's entries
        # The process's start: what changed before it, the first full pass read as it is; the writes of
        # a previous process (which this one cannot know as its own) are not read back as changes.
        self.not_before = not_before
        self.read_until: float | None = None  # end of the last successful read
        self._seen: dict[str, float] = {}  # eventDataId -> eventTimestamp
        self._failing_since: float | None = None
        self._outage_reported = False

    def window(self, now: float) -> tuple[float, float] | None:
        """(start, end) of the next read; None when the range would be too long (a gap: make a full pass)."""
        end = now + self.skew  # entries stamped by a clock ahead of ours are read now, not missed
        floor = self.not_before if self.not_before is not None else float("-inf")
        if self.read_until is None:
            return max(now - self.reach(now), floor), end
        if now - self.read_until > self.max_window:
            return None
        return max(self.read_until - self.reach(now), floor), end

    def reach(self, now: float) -> float:
        """How far before the last read the next one starts: twice the worst lateness of the last hour."""
        self._lateness = [(at, late) for at, late in self._lateness if now - at <= 3600.0]
        if not self._lateness:
            return self.lookback
        return min(self.lookback, max(self.min_lookback, 2 * max(late for _, late in self._lateness)))

    def restart(self, now: float) -> None:
        """After a gap: a full pass covers what came before; the feed starts again from now."""
        self.read_until = self.not_before = now
        self._seen.clear()

    def accept(self, changes: Iterable[Change], now: float) -> list[Change]:
        """The changes not seen before, in time order; forgets entries that no read can return again."""
        fresh = []
        for change in changes:
            if change.event_id not in self._seen:
                self._seen[change.event_id] = change.at
                fresh.append(change)
                if change.lateness is not None:
                    self._lateness.append((now, change.lateness))
        if len(self._lateness) > 1000:  # the worst of a burst is enough
            worst = max(self._lateness, key=lambda pair: pair[1])
            self._lateness = [*self._lateness[-999:], worst]
        self.read_until = now
        self._failing_since, self._outage_reported = None, False
        horizon = now - self.lookback - self.skew
        for event in [e for e, at in self._seen.items() if at < horizon]:
            del self._seen[event]
        return sorted(fresh, key=lambda c: c.at)

    def failed(self, now: float) -> bool:
        """A read failed. True once per outage, when it has lasted `outage` seconds: time for a full pass."""
        if self._failing_since is None:
            self._failing_since = now
        if not self._outage_reported and now - self._failing_since >= self.outage:
            self._outage_reported = True
            return True
        return False


class ActivityLog:
    """The feed of one subscription, read through the identity's pipeline (auth, buckets, metrics)."""

    def __init__(self, send_request: Callable[..., Any], subscription: str, own: OwnRequests,
                 cursor: FeedCursor | None = None, clock: Callable[[], float] = time.time) -> None:
        self._send, self.subscription, self.own = send_request, subscription, own
        self.cursor = cursor or FeedCursor()
        self.clock = clock
        self.last_attempt: float | None = None  # every vault of the subscription asks; one read serves them
        self.lock = asyncio.Lock()

    def due(self, interval: float) -> bool:
        """Not read (or being read) within about an interval by another vault of the subscription.

        Every vault's worker asks once per interval, each at its own phase: the first to ask after
        nine tenths of an interval reads, so the subscription is read once per interval, not per vault."""
        return not self.lock.locked() and (self.last_attempt is None or
                                           self.clock() - self.last_attempt >= 0.9 * interval)

    async def read(self) -> FeedRead:
        now = self.clock()
        self.last_attempt = now
        window = self.cursor.window(now)
        if window is None:
            self.cursor.restart(now)
            return FeedRead(gap=True)
        try:
            entries = [e async for e in lists.pages(self._send, url(self.subscription, *window))]
        except errors.AzbackupError:
            return FeedRead(failed=True, gap=self.cursor.failed(now))
        parsed = [c for c in (Change.parse(e) for e in entries) if c is not None]
        fresh = self.cursor.accept(parsed, now)
        mine = self.own.mine(fresh)
        effective = [c for c in fresh if c.event_id not in mine and c.effective]
        lag = now - min(c.at for c in effective) if effective else None
        return FeedRead(changes=effective, entries=len(entries), own=len(mine), lag=lag)
