from __future__ import annotations

import datetime as dt

import pytest
from azbackup.limits import policy_budget
from azbackup.limits.policy_budget import Write
from azbackup.reasons import Reason

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def ago(minutes: float, generation: int = 1, refused: bool = False) -> Write:
    return Write(NOW - dt.timedelta(minutes=minutes), generation, refused)


def writes(n: int, generation: int = 1) -> list[Write]:
    return [ago(60 + i, generation) for i in range(n)]


@pytest.mark.parametrize(("vault", "own", "generation", "creating", "want"), [
    pytest.param([], [], 1, True, None, id="the-first-write-goes"),
    pytest.param(writes(49, 7), [], 1, True, None, id="the-50th-write-of-the-day-goes"),
    pytest.param(writes(50, 7), [], 1, True, Reason.POLICY_EDIT_BUDGET_EXHAUSTED, id="the-51st-write-waits"),
    pytest.param([ago(60 * 25 + i) for i in range(50)], [], 1, True, None, id="writes-older-than-24h-free-up"),
    pytest.param([ago(10, refused=True)], [], 1, False, Reason.POLICY_EDIT_BUDGET_EXHAUSTED,
                 id="azures-refusal-spends-the-budget"),
    pytest.param([ago(90, refused=True)], [], 1, False, None, id="an-hour-after-a-refusal-it-tries-again"),
    pytest.param(writes(4, 2), writes(4, 2), 2, False, Reason.DRIFT_KEEPS_RETURNING,
                 id="three-corrections-of-one-spec-in-a-day-stop-the-rewrites"),
    pytest.param(writes(3, 2), writes(3, 2), 2, False, None, id="two-corrections-are-still-made"),
    pytest.param(writes(4, 2), writes(4, 2), 3, False, None, id="a-spec-change-is-written-at-once"),
    pytest.param(writes(4, 2), writes(4, 2), 2, True, None, id="a-deleted-policy-is-recreated"),
])
def test_decide(vault: list[Write], own: list[Write], generation: int, creating: bool, want: Reason | None) -> None:
    got = policy_budget.decide(vault, own, generation, NOW, policy="daily", vault_name="rsv", creating=creating)
    assert (got.reason if got else None) == want


def test_the_budget_frees_up_when_the_oldest_counted_write_leaves_the_window() -> None:
    sent = [ago(60 * 23 - i) for i in range(50)]  # the oldest 23 h ago
    got = policy_budget.decide(sent, [], 1, NOW, policy="daily", vault_name="rsv", creating=False)
    assert got is not None
    assert got.retry_at == NOW + dt.timedelta(hours=1)
    assert "sent 50 policy creates/edits" in got.message


def test_status_round_trip() -> None:
    write = Write(NOW, 4, refused=True)
    assert policy_budget.parse_all([write.to_status(), {"at": "garbage"}, "x"]) == [write]
