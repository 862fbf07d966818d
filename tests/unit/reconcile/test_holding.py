"""A Ready object holds its state through transient errors for a grace period; real problems show at once."""

from __future__ import annotations

from typing import Any

import pytest
from azbackup.azure import errors
from azbackup.reconcile import holding

READY = {"conditions": [{"type": "Ready", "status": "True", "observedGeneration": 3}]}
NOT_READY = {"conditions": [{"type": "Ready", "status": "False", "observedGeneration": 3}]}
UNAVAILABLE = errors.Unavailable("503: busy", status=503)


@pytest.mark.parametrize(("status", "generation", "err", "failing_for", "holds"), [
    pytest.param(READY, 3, UNAVAILABLE, 0.0, True, id="a 503 on a Ready object is retried quietly"),
    pytest.param(READY, 3, errors.Throttled("429", status=429, retry_after=2), 10.0, True,
                 id="a 429 on a Ready object is retried quietly"),
    pytest.param(READY, 3, UNAVAILABLE, 301.0, False, id="past the grace period the failure is reported"),
    pytest.param(READY, 3, errors.Forbidden("403", status=403), 0.0, False,
                 id="a missing role is reported at once"),
    pytest.param(READY, 3, errors.ApprovalRequired("403", operation="disableSoftDeleteRequests", guard="/g"), 0.0,
                 False, id="a wait for MUA approval is reported at once"),
    pytest.param(NOT_READY, 3, UNAVAILABLE, 0.0, False, id="an object that is not Ready has nothing to hold"),
    pytest.param(READY, 4, UNAVAILABLE, 0.0, False, id="Ready for an older spec is not held"),
])
def test_holds_last_known(status: dict[str, Any], generation: int, err: errors.AzbackupError, failing_for: float,
                          holds: bool) -> None:
    assert holding.holds_last_known(status, generation, err, failing_for, grace=300.0) is holds
