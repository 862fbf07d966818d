"""Unit tests of the pure state machines: operations and jobs over time, the timeline, the token bucket,
fault matching and settings changes."""

from __future__ import annotations

import pytest
from azure_emulator.faults import Fault, FaultTable
from azure_emulator.lro import BACKUP_TASKS, Failure, Job, JobStatus, Operation, OpStatus, Timeline, iso_duration
from azure_emulator.settings import Settings
from azure_emulator.throttle import BucketLimit, Kind, Limits, Throttler, TokenBucket
from hypothesis import given
from hypothesis import strategies as st

FAIL = Failure("UserErrorGuestAgentStatusUnavailable", "VM Agent unable to communicate with Azure Backup")


def test_operation_is_in_progress_until_settled() -> None:
    op = Operation("op", "ConfigureProtection", started=100.0, duration=8.0, scope="/vault")
    assert op.status is OpStatus.IN_PROGRESS
    assert op.remaining(104.0) == 4.0
    op.finish(108.0)
    assert (op.status, op.ended, op.remaining(104.0)) == (OpStatus.SUCCEEDED, 108.0, 0.0)


def test_operation_failure_is_final() -> None:
    op = Operation("op", "ConfigureProtection", 0.0, 1.0, "/vault")
    op.finish(1.0, FAIL)
    op.finish(2.0)
    assert (op.status, op.failure, op.ended) == (OpStatus.FAILED, FAIL, 1.0)


@pytest.mark.parametrize(
    ("failure", "warnings", "want"),
    [
        pytest.param(None, (), JobStatus.COMPLETED, id="no-failure-completes"),
        pytest.param(FAIL, (), JobStatus.FAILED, id="failure-fails"),
        pytest.param(
            None,
            (Failure("AzureVmOffline", "crash consistent"),),
            JobStatus.COMPLETED_WITH_WARNINGS,
            id="warnings-complete-with-warnings",
        ),
    ],
)
def test_job_outcome(failure: Failure | None, warnings: tuple[Failure, ...], want: JobStatus) -> None:
    job = Job("j", "/vault", "Backup", "vm", "/vm", "c", started=0.0, duration=10.0, tasks=BACKUP_TASKS)
    job.finish(10.0, failure, warnings)
    assert job.status is want
    assert job.progress(5.0) == 100


@pytest.mark.parametrize(
    ("now", "want"),
    [
        pytest.param(0.0, ["InProgress", "NotStarted"], id="start-snapshot-running"),
        pytest.param(3.9, ["InProgress", "NotStarted"], id="snapshot-still-running"),
        pytest.param(5.0, ["Completed", "InProgress"], id="transfer-running"),
    ],
)
def test_backup_job_tasks_follow_time(now: float, want: list[str]) -> None:
    job = Job("j", "/vault", "Backup", "vm", "/vm", "c", started=0.0, duration=10.0, tasks=BACKUP_TASKS)
    assert [state for _, state, _ in job.task_states(now)] == want
    assert job.progress(now) == int(now * 10)


def test_failed_job_fails_in_first_task() -> None:
    job = Job("j", "/vault", "Backup", "vm", "/vm", "c", 0.0, 10.0, tasks=BACKUP_TASKS)
    job.finish(10.0, FAIL)
    assert [state for _, state, _ in job.task_states(10.0)] == ["Failed", "NotStarted"]


def test_cancelled_job_stops_in_running_task() -> None:
    job = Job("j", "/vault", "Backup", "vm", "/vm", "c", 0.0, 10.0, tasks=BACKUP_TASKS)
    job.cancel(2.0)
    job.finish(10.0)
    assert job.status is JobStatus.CANCELLED
    assert [state for _, state, _ in job.task_states(5.0)] == ["Cancelled", "NotStarted"]


def test_timeline_runs_due_actions_in_time_order_with_their_own_time() -> None:
    ran: list[tuple[str, float]] = []
    tl = Timeline()
    tl.schedule(5.0, lambda at: ran.append(("b", at)))
    tl.schedule(1.0, lambda at: ran.append(("a", at)))
    tl.schedule(9.0, lambda at: ran.append(("c", at)))
    assert tl.settle(6.0) == 2
    assert ran == [("a", 1.0), ("b", 5.0)]
    assert len(tl) == 1


def test_timeline_runs_actions_scheduled_by_actions() -> None:
    ran: list[float] = []
    tl = Timeline()
    tl.schedule(1.0, lambda at: tl.schedule(at + 1.0, ran.append))
    tl.settle(5.0)
    assert ran == [2.0]


def test_iso_duration_is_what_the_sdk_parses() -> None:
    assert iso_duration(9.8782791) == "PT9.8782791S"
    assert iso_duration(-1) == "PT0.0000000S"


def test_token_bucket_refills_continuously() -> None:
    bucket = TokenBucket.full(BucketLimit(3, 1), now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.wait(0.0) == pytest.approx(1.0)
    assert bucket.take(1.0) is True
    assert bucket.remaining(10.0) == 3  # never above capacity


def test_refused_request_takes_no_token() -> None:
    bucket = TokenBucket.full(BucketLimit(1, 1), now=0.0)
    bucket.take(0.0)
    for _ in range(5):
        assert bucket.take(0.5) is False
    assert bucket.take(1.0) is True


def test_throttler_keeps_one_bucket_per_subscription_principal_and_kind() -> None:
    t = Throttler(Limits(reads=BucketLimit(2, 0.0001), writes=BucketLimit(1, 0.0001)), enabled=True)
    assert t.check("s1", "p1", Kind.READ, 0.0).remaining == 1
    assert t.check("s1", "p1", Kind.READ, 0.0).allowed
    assert not t.check("s1", "p1", Kind.READ, 0.0).allowed
    assert t.check("s1", "p2", Kind.READ, 0.0).allowed  # another principal
    assert t.check("s2", "p1", Kind.READ, 0.0).allowed  # another subscription
    assert t.check("s1", "p1", Kind.WRITE, 0.0).allowed  # another kind
    assert t.check("S1", "P1", Kind.DELETE, 0.0).allowed


def test_disabled_throttler_never_refuses() -> None:
    t = Throttler(Limits(reads=BucketLimit(1, 0)), enabled=False)
    assert all(t.check("s", "p", Kind.READ, 0.0).allowed for _ in range(10))
    assert t.check("s", "p", Kind.READ, 0.0).remaining == 0


@pytest.mark.parametrize(
    ("method", "kind"),
    [
        ("GET", Kind.READ),
        ("HEAD", Kind.READ),
        ("PUT", Kind.WRITE),
        ("POST", Kind.WRITE),
        ("PATCH", Kind.WRITE),
        ("DELETE", Kind.DELETE),
    ],
)
def test_kind_of_method(method: str, kind: Kind) -> None:
    assert Kind.of_method(method) is kind
    assert kind.header.startswith("x-ms-ratelimit-remaining-subscription-")


def test_faults_match_by_operation_or_path_and_count_down() -> None:
    table = FaultTable()
    table.add(Fault.from_json({"operation": "Vaults_Get", "status": 500, "count": 2}))
    table.add(Fault.from_json({"method": "PUT", "path": "/protectedItems/", "status": 409}))
    assert table.take("GET", "/x", "Vaults_Get") is not None
    assert table.take("GET", "/x", "Vaults_Get") is not None
    assert table.take("GET", "/x", "Vaults_Get") is None
    assert table.take("GET", "/a/protectedItems/b", "ProtectedItems_Get") is None  # method differs
    hit = table.take("PUT", "/a/PROTECTEDITEMS/b", "ProtectedItems_CreateOrUpdate")
    assert hit is not None
    assert hit.error_code == "Conflict"


def test_a_random_fraction_of_reads_is_hit_the_same_way_for_the_same_seed() -> None:
    def hits(seed: int) -> list[bool]:
        table = FaultTable()
        table.add(
            Fault.from_json(
                {"method": "GET", "path": ".", "status": 503, "count": None, "probability": 0.25, "seed": seed}
            )
        )
        return [table.take("GET", f"/x/{i}", "Vaults_Get") is not None for i in range(400)]

    first = hits(7)
    assert first == hits(7)  # repeatable
    assert 60 <= sum(first) <= 140  # about a quarter
    assert first != hits(8)


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param({"operation": "X", "status": 500, "probability": 1.5}, id="probability-is-a-fraction"),
        pytest.param({"status": 500}, id="needs-a-match"),
        pytest.param({"operation": "X"}, id="needs-an-effect"),
        pytest.param({"operation": "X", "status": 500, "phase": "during"}, id="phase-before-or-after"),
        pytest.param({"operation": "X", "status": 500, "colour": "red"}, id="unknown-field"),
    ],
)
def test_bad_faults_are_refused(doc: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every case has its own message
        Fault.from_json(doc)


def test_settings_change_from_camel_case_json() -> None:
    s = Settings().with_changes({"timeScale": 0.5, "limits": {"reads": {"capacity": 5}}, "durations": {"backupJob": 2}})
    assert (s.time_scale, s.limits.reads, s.durations.backup_job) == (0.5, BucketLimit(5, 25), 2.0)
    assert s.scaled(10) == 5.0
    with pytest.raises(ValueError, match="retryAfter"):
        Settings().with_changes({"retryAfter": 0})
    with pytest.raises(ValueError, match="unknown setting"):
        Settings().with_changes({"colour": "red"})


@given(capacity=st.integers(1, 50), refill=st.floats(0.1, 50), gaps=st.lists(st.floats(0, 2), max_size=200))
def test_token_bucket_never_allows_more_than_capacity_plus_refill(
    capacity: int, refill: float, gaps: list[float]
) -> None:
    bucket = TokenBucket.full(BucketLimit(capacity, refill), now=0.0)
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        allowed += bucket.take(now)
        assert 0 <= bucket.remaining(now) <= capacity
    assert allowed <= capacity + refill * now + 1e-6
