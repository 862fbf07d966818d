"""The change feed's pure parts: reading Activity Log entries, the read window, own writes."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from azbackup.azure.changes import ActivityLog, Change, FeedCursor, OwnRequests, url

VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"


def entry(event: str = "e1", *, at: str = "2026-12-02T10:00:00.1234567Z", status: str = "Succeeded",
          operation: str = "Microsoft.Compute/virtualMachines/write", request: str | None = None,
          correlation: str | None = "c1", resource: str = VM) -> dict[str, Any]:
    """An entry in the shape of Azure's GetActivityLogsFiltered example (the fields the operator selects)."""
    body: dict[str, Any] = {"eventDataId": event, "eventTimestamp": at, "resourceId": resource,
                            "operationName": {"value": operation, "localizedValue": operation},
                            "status": {"value": status, "localizedValue": status}}
    if correlation:
        body["correlationId"] = correlation
    if request:
        body["httpRequest"] = {"clientRequestId": request, "clientIpAddress": "10.0.0.1", "method": "PUT"}
    return body


def change(event: str, at: float = 1000.0, **kwargs: Any) -> Change:
    return Change(event_id=event, resource_id=VM.lower(), operation="microsoft.compute/virtualmachines/write",
                  status="succeeded", at=at, **kwargs)


def test_an_entry_reads_with_ticks_lower_cased_ids_and_the_request_that_made_it() -> None:
    parsed = Change.parse(entry(request="r1"))
    assert parsed is not None
    assert parsed.resource_id == VM.lower()
    assert parsed.operation == "microsoft.compute/virtualmachines/write"
    assert parsed.client_request_id == "r1"
    assert parsed.correlation_id == "c1"
    assert parsed.at == pytest.approx(1796205600.123456)
    assert parsed.lateness is None  # not selected in this entry
    assert parsed.effective
    assert not parsed.deleted


@pytest.mark.parametrize(("status", "effective"), [
    pytest.param("Started", False, id="a started write has changed nothing yet"),
    pytest.param("Accepted", True, id="an accepted long-running write is a change under way"),
    pytest.param("Succeeded", True, id="a succeeded write is a change"),
    pytest.param("Failed", False, id="a failed write changed nothing"),
])
def test_which_statuses_are_changes(status: str, effective: bool) -> None:
    parsed = Change.parse(entry(status=status))
    assert parsed is not None
    assert parsed.effective is effective


@pytest.mark.parametrize("broken", [
    pytest.param({"eventTimestamp": None}, id="no timestamp"),
    pytest.param({"eventTimestamp": "yesterday"}, id="an unreadable timestamp"),
    pytest.param({"resourceId": ""}, id="no resource"),
    pytest.param({"eventDataId": None}, id="no event id"),
])
def test_an_entry_the_operator_cannot_place_is_skipped(broken: dict[str, Any]) -> None:
    assert Change.parse({**entry(), **broken}) is None


def test_the_url_is_the_subscription_time_range_pattern_azure_allows() -> None:
    parts = urlsplit(url("sub-1", 0.0, 60.0))
    query = parse_qs(parts.query)
    assert parts.path == "/subscriptions/sub-1/providers/Microsoft.Insights/eventtypes/management/values"
    assert query["api-version"] == ["2015-04-01"]
    assert query["$filter"] == ["eventTimestamp ge '1970-01-01T00:00:00.000000Z' and "
                                "eventTimestamp le '1970-01-01T00:01:00.000000Z'"]
    assert "httpRequest" in query["$select"][0].split(",")


def test_the_first_read_reaches_back_one_lookback_and_later_ones_overlap_the_last() -> None:
    cursor = FeedCursor(lookback=600, max_window=3600, skew=0)
    assert cursor.window(10_000) == (9_400, 10_000)
    cursor.accept([], 10_000)
    assert cursor.window(10_060) == (9_400, 10_060)


def test_the_first_read_of_a_new_process_starts_at_the_process_start() -> None:
    # A restarted operator does not read its predecessor's writes back as changes by others: its first
    # full passes read what they left.
    cursor = FeedCursor(lookback=600, skew=0, not_before=9_900)
    assert cursor.window(10_000) == (9_900, 10_000)
    cursor.accept([], 10_000)
    assert cursor.window(10_060) == (9_900, 10_060)  # later reads too, until the lookback is past it
    assert FeedCursor(lookback=600, skew=0, not_before=1_000).window(10_000) == (9_400, 10_000)


def test_the_reach_back_follows_the_lateness_azure_shows_within_its_bounds() -> None:
    cursor = FeedCursor(lookback=1200, min_lookback=300, skew=0)
    assert cursor.reach(0) == 1200  # nothing seen yet: the longest
    cursor.accept([change("a", at=900, visible_at=960)], 1_000)  # a minute late
    assert cursor.reach(1_000) == 300
    cursor.accept([change("b", at=1_000, visible_at=1_400)], 1_450)  # near seven minutes late
    assert cursor.reach(1_450) == 800
    assert cursor.window(1_510) == (1_450 - 800, 1_510)
    cursor.accept([change("c", at=1_500, visible_at=3_000)], 3_000)  # later than the bound
    assert cursor.reach(3_000) == 1200
    assert cursor.reach(3_000 + 3_601) == 1200  # the last hour saw nothing: the longest again


def test_an_entry_is_acted_on_once_though_overlapping_reads_return_it_again() -> None:
    cursor = FeedCursor(lookback=600, skew=0)
    assert [c.event_id for c in cursor.accept([change("a"), change("b")], 1_100)] == ["a", "b"]
    assert [c.event_id for c in cursor.accept([change("b"), change("c")], 1_160)] == ["c"]


def test_a_late_entry_stamped_before_the_last_read_is_still_seen() -> None:
    cursor = FeedCursor(lookback=600, skew=0)
    cursor.accept([], 2_000)
    late = change("late", at=1_950)  # visible only after the read at 2000
    assert cursor.window(2_060)[0] <= late.at
    assert cursor.accept([late], 2_060) == [late]


def test_not_reading_for_longer_than_the_window_is_a_gap_and_the_feed_starts_again() -> None:
    cursor = FeedCursor(lookback=600, max_window=3600, skew=0)
    cursor.accept([], 1_000)
    assert cursor.window(1_000 + 3_601) is None
    cursor.restart(5_000)
    assert cursor.window(5_060) == (5_000, 5_060)  # the full pass read what came before


def test_a_failing_feed_is_a_gap_once_per_outage_after_the_outage_time() -> None:
    cursor = FeedCursor(outage=180)
    assert [cursor.failed(t) for t in (0, 60, 120, 180, 240)] == [False, False, False, True, False]
    cursor.accept([], 300)  # the feed is back
    assert [cursor.failed(t) for t in (400, 580)] == [False, True]


def test_own_writes_are_known_by_request_id_and_their_later_entries_by_correlation_id() -> None:
    own = OwnRequests()
    own.add("mine")
    started = change("1", client_request_id="mine", correlation_id="op")
    finished = change("2", correlation_id="op")  # the LRO's last entry carries no request
    theirs = change("3", client_request_id="portal", correlation_id="other")
    assert own.mine([started, theirs]) == {"1"}
    assert own.mine([finished, theirs]) == {"2"}


def test_own_requests_are_forgotten_after_their_time() -> None:
    now = [0.0]
    own = OwnRequests(ttl=10, clock=lambda: now[0])
    own.add("old")
    now[0] = 20.0
    for i in range(4100):
        own.add(f"r{i}")
    assert own.mine([change("x", client_request_id="old")]) == set()


def test_the_vaults_of_a_subscription_share_one_read_per_interval() -> None:
    now = [0.0]
    feed = ActivityLog(lambda request: None, "s", OwnRequests(), clock=lambda: now[0])
    reads = 0
    # Five vault workers ask every 60 s, each at its own phase, for ten minutes.
    for tick in sorted(phase + 60 * i for phase in (0, 7, 19, 33, 51) for i in range(10)):
        now[0] = tick
        if feed.due(60):
            feed.last_attempt = tick  # what read() records
            reads += 1
    assert reads == 10
