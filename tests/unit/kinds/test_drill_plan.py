"""A RestoreDrill's pure parts: schedule, sampling rotation, durations, evidence against objectives."""

from __future__ import annotations

import datetime as dt

import pytest
from azbackup.kinds import drill_plan as dp

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("expr", "zone", "last", "now", "want"), [
    pytest.param("0 3 * * *", "UTC", "2026-12-01T00:00", "2026-12-01T02:59", None, id="not yet due"),
    pytest.param("0 3 * * *", "UTC", "2026-12-01T00:00", "2026-12-01T03:00", "2026-12-01T03:00",
                 id="due on the minute"),
    pytest.param("0 3 * * *", "Europe/Berlin", "2026-12-01T00:00", "2026-12-01T02:30", "2026-12-01T02:00",
                 id="a time zone moves the run (03:00 in Berlin is 02:00 UTC in winter)"),
    pytest.param("0 3 * * *", "UTC", "2026-11-01T03:00", "2026-12-01T04:00", "2026-12-01T03:00",
                 id="after an outage one run stands for all the missed ones"),
    pytest.param("@hourly", "UTC", "2026-12-01T00:00", "2026-12-01T01:00", "2026-12-01T01:00", id="a macro"),
])
def test_due(expr: str, zone: str, last: str, now: str, want: str | None) -> None:
    due = dp.Schedule.parse(expr, zone).due(at(last), at(now))
    assert due == (at(want) if want else None)


@pytest.mark.parametrize(("expr", "zone"), [
    pytest.param("61 * * * *", "UTC", id="a minute out of range"),
    pytest.param("* * * *", "UTC", id="four fields"),
    pytest.param("0 3 * * *", "Mars/Olympus", id="an unknown time zone"),
])
def test_unreadable_schedules_are_refused(expr: str, zone: str) -> None:
    with pytest.raises(dp.ScheduleError):
        dp.Schedule.parse(expr, zone)


def test_sampling_rotates_until_every_vm_was_drilled() -> None:
    vms, drilled, seen = ["a", "b", "c", "d", "e"], {}, []
    for run in range(3):
        chosen = dp.sample(vms, drilled, 2)
        seen.append(chosen)
        drilled.update({vm: f"2026-12-0{run + 1}T00:00:00Z" for vm in chosen})
    assert seen == [["a", "b"], ["c", "d"], ["e", "a"]]


@pytest.mark.parametrize(("text", "seconds"), [
    pytest.param("90s", 90.0, id="seconds"), pytest.param("30m", 1800.0, id="minutes"),
    pytest.param("1h30m", 5400.0, id="hours and minutes"), pytest.param(None, None, id="none"),
])
def test_parse_duration(text: str | None, seconds: float | None) -> None:
    assert dp.parse_duration(text) == seconds


@pytest.mark.parametrize(("seconds", "text"), [
    pytest.param(35, "35s", id="seconds"), pytest.param(250, "4m10s", id="minutes and seconds"),
    pytest.param(21720, "6h2m", id="hours and minutes"), pytest.param(7200, "2h", id="whole hours"),
])
def test_format_duration(seconds: float, text: str) -> None:
    assert dp.format_duration(seconds) == text


PASSED = {"result": "Passed", "rpoSeconds": 3600, "rtoSeconds": 600}


@pytest.mark.parametrize(("targets", "rpo", "rto", "result", "met"), [
    pytest.param([PASSED], None, None, "Passed", True, id="no objectives: every run meets them"),
    pytest.param([PASSED], 7200.0, 900.0, "Passed", True, id="within both objectives"),
    pytest.param([PASSED, {**PASSED, "rpoSeconds": 9000}], 7200.0, None, "Passed", False,
                 id="the worst VM's RPO misses the objective"),
    pytest.param([PASSED], None, 300.0, "Passed", False, id="an RTO miss"),
    pytest.param([{"result": "Failed", "rpoSeconds": 60}], None, 900.0, "Failed", False,
                 id="a failed restore achieves no RTO"),
    pytest.param([], None, None, "Failed", True, id="a run with no VM did not pass"),
])
def test_judge(targets: list[dict[str, object]], rpo: float | None, rto: float | None, result: str,
               met: bool) -> None:
    verdict = dp.judge(targets, rpo, rto)
    assert (verdict.result, verdict.objectives_met) == (result, met)
