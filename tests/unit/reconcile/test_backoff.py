"""A long backoff is recorded on the object and honoured by any later pass of the same generation."""

from __future__ import annotations

from typing import Any

import pytest
from azbackup.reconcile import backoff

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
RECORD = {"until": "2026-01-01T00:30:00Z", "attempts": 3, "generation": 2}


@pytest.mark.parametrize(("status", "generation", "now", "expected"), [
    pytest.param({}, 2, NOW, None, id="nothing recorded: go ahead"),
    pytest.param({"backoff": RECORD}, 2, NOW, 1800.0, id="a recorded backoff for this generation: wait it out"),
    pytest.param({"backoff": RECORD}, 2, NOW + 1800, None, id="a backoff that has passed: go ahead"),
    pytest.param({"backoff": RECORD}, 3, NOW, None, id="a spec change is acted on at once"),
    pytest.param({"backoff": {"until": "not a time", "generation": 2}}, 2, NOW, None,
                 id="an unreadable record does not block"),
])
def test_remaining(status: dict[str, Any], generation: int, now: float, expected: float | None) -> None:
    assert backoff.remaining(status, generation, now) == expected


@pytest.mark.parametrize(("status", "generation", "expected"), [
    pytest.param({"backoff": RECORD}, 2, 3, id="attempts go on after a restart"),
    pytest.param({"backoff": RECORD}, 3, 0, id="a new generation starts over"),
    pytest.param({}, 2, 0, id="none recorded"),
])
def test_attempts(status: dict[str, Any], generation: int, expected: int) -> None:
    assert backoff.attempts(status, generation) == expected


@pytest.mark.parametrize(("retry_in", "expected"), [
    pytest.param(1800.0, {"until": "2026-01-01T00:30:00Z", "attempts": 3, "generation": 2},
                 id="a long backoff is recorded"),
    pytest.param(10.0, None, id="a short backoff stays in memory"),
    pytest.param(None, None, id="no retry: nothing to record"),
])
def test_record(retry_in: float | None, expected: dict[str, Any] | None) -> None:
    assert backoff.record(NOW, retry_in, 3, 2, over=60.0) == expected
