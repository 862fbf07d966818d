"""Long-running Azure operations as the loop follows them: started by a write, saved, polled by URL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from azbackup.azure import operations
from azbackup.managed import Operation, OperationResult, OperationState
from azbackup.toolkit import times

_STATES = {operations.State.RUNNING: OperationState.RUNNING, operations.State.SUCCEEDED: OperationState.SUCCEEDED,
           operations.State.FAILED: OperationState.FAILED}


def started(capture: operations.HeaderCapture, kind: str, generation: int) -> Operation | None:
    """The operation a write started, or None when Azure finished it synchronously."""
    url = capture.url
    if url is None:
        return None
    return Operation(kind, url, times.rfc3339(dt.datetime.now(dt.UTC)), generation)


async def poll(send_request: Callable[..., Any], operation: Operation) -> OperationResult:
    """One poll of a saved operation; a finished trigger contributes the job it started to status."""
    polled = await operations.poll(send_request, operation.url)
    return OperationResult(_STATES[polled.state], polled.code, polled.message,
                           status={"jobId": polled.job_id} if polled.job_id else {})
