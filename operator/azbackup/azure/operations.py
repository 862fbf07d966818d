"""Long-running ARM operations, followed by their saved URL rather than by an in-memory poller.

A write that Azure answers with 202 is sent with `polling=False`; its `Azure-AsyncOperation` (or
`Location`) URL is captured from the response headers through azure-core's `raw_response_hook` and
saved in the object's status. Each later pass polls that URL once through the same client pipeline
(authentication, retries, token buckets), so a restarted operator resumes where it stopped.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest

from azbackup.azure import errors


class State(enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Polled:
    """What one poll of an operation URL said; `job_id` names the job a backup or restore trigger started."""

    state: State
    code: str = ""
    message: str = ""
    job_id: str | None = None


class HeaderCapture:
    """A `raw_response_hook` that keeps the headers and status of the first response it sees."""

    def __init__(self) -> None:
        self.headers: Mapping[str, str] = {}
        self.status: int | None = None

    def __call__(self, response: Any) -> None:
        if self.status is None:
            self.status = response.http_response.status_code
            self.headers = dict(response.http_response.headers)

    @property
    def url(self) -> str | None:
        """The operation URL to follow, or None when Azure finished synchronously."""
        if self.status != 202:
            return None
        return (self.headers.get("Azure-AsyncOperation") or self.headers.get("azure-asyncoperation")
                or self.headers.get("Location") or self.headers.get("location") or None)


async def poll(send_request: Callable[..., Any], url: str) -> Polled:
    """One poll of a saved operation URL: 202 or a non-terminal status is running."""
    try:
        response = await send_request(HttpRequest("GET", url))
        if response.status_code >= 400:
            response.raise_for_status()
    except HttpResponseError as exc:
        if exc.status_code == 404:
            # The operation record expired (ARM keeps them for hours); the next observe reads the result.
            return Polled(State.SUCCEEDED)
        raise errors.translate(exc) from exc
    except Exception as exc:
        raise errors.translate(exc) from exc
    if response.status_code == 202:
        return Polled(State.RUNNING)
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = {}
    status = str((body or {}).get("status", "Succeeded")).lower()
    if status in ("succeeded", "completed"):
        # A backup trigger's final status names the job it started (OperationStatusJobExtendedInfo).
        job_id = ((body or {}).get("properties") or {}).get("jobId")
        return Polled(State.SUCCEEDED, job_id=str(job_id) if job_id else None)
    if status in ("failed", "canceled", "cancelled"):
        error = (body or {}).get("error") or {}
        return Polled(State.FAILED, str(error.get("code", "")), str(error.get("message", "")))
    return Polled(State.RUNNING)
