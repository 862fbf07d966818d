"""When a non-idempotent call's outcome is unknown: which failures may have acted, and when to call again."""

from __future__ import annotations

import datetime as dt

import pytest
from azbackup.azure import errors
from azbackup.reconcile import adoption
from azbackup.reconcile import journal as jr

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PENDING = "2026-01-01T00:00:00.000000Z"
WINDOW = 60.0


@pytest.mark.parametrize(("err", "outcome"), [
    pytest.param(errors.Unavailable("503: busy", status=503), adoption.Outcome.UNKNOWN,
                 id="a 5xx may come after the backup started"),
    pytest.param(errors.Unavailable("cannot reach Azure: Server disconnected"), adoption.Outcome.UNKNOWN,
                 id="a dropped connection may come after the request arrived"),
    pytest.param(errors.Unavailable("408: timeout", status=408), adoption.Outcome.UNKNOWN,
                 id="a 408 may come after the server acted"),
    pytest.param(errors.Conflict("409: UserErrorBackupOperationInProgress", status=409,
                                 code="UserErrorBackupOperationInProgress"), adoption.Outcome.UNKNOWN,
                 id="a backup already in progress may be this very trigger"),
    pytest.param(errors.AzbackupError("boom"), adoption.Outcome.UNKNOWN,
                 id="an unexpected failure without a status says nothing"),
    pytest.param(errors.InvalidSpec("400: bad", status=400), adoption.Outcome.REJECTED,
                 id="a 400 is a refusal"),
    pytest.param(errors.NotFound("404: gone", status=404), adoption.Outcome.REJECTED,
                 id="a 404 is a refusal"),
    pytest.param(errors.Throttled("429", status=429), adoption.Outcome.REJECTED,
                 id="ARM throttles before the resource provider sees the request"),
    pytest.param(errors.AuthFailed("bad secret"), adoption.Outcome.REJECTED,
                 id="no token means no request"),
    pytest.param(errors.Forbidden("403", status=403), adoption.Outcome.REJECTED,
                 id="RBAC refuses before anything starts"),
])
def test_outcome_of_a_failed_call(err: errors.AzbackupError, outcome: adoption.Outcome) -> None:
    assert adoption.outcome_of(err) is outcome


@pytest.mark.parametrize(("annotations", "now", "expected"), [
    pytest.param({}, T0, adoption.Decision(adoption.Next.CALL), id="never called: call"),
    pytest.param({jr.PENDING: PENDING}, T0 + dt.timedelta(seconds=10),
                 adoption.Decision(adoption.Next.LOOK, 50.0), id="pending within the window: look, do not call"),
    pytest.param({jr.PENDING: PENDING, jr.SUCCEEDED: PENDING}, T0 + dt.timedelta(seconds=10),
                 adoption.Decision(adoption.Next.LOOK, 50.0),
                 id="accepted but its job not recorded: look, do not call"),
    pytest.param({jr.PENDING: PENDING}, T0 + dt.timedelta(seconds=61), adoption.Decision(adoption.Next.CALL),
                 id="no job for a whole window after the pending record: the call never arrived, call"),
    pytest.param({jr.PENDING: PENDING, jr.FAILED: PENDING}, T0 + dt.timedelta(seconds=1),
                 adoption.Decision(adoption.Next.CALL), id="refused by Azure: call again"),
    pytest.param({jr.PENDING: "2026-01-01T00:00:05.000000Z", jr.FAILED: PENDING}, T0 + dt.timedelta(seconds=10),
                 adoption.Decision(adoption.Next.LOOK, 55.0), id="a newer pending than the refusal: look"),
    pytest.param({jr.PENDING: "garbage"}, T0, adoption.Decision(adoption.Next.CALL),
                 id="an unreadable record adopts nothing by time: call"),
])
def test_when_nothing_found(annotations: dict[str, str], now: dt.datetime, expected: adoption.Decision) -> None:
    assert adoption.when_nothing_found(annotations, now, WINDOW) == expected
