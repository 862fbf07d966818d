"""OnDemandBackup's client over a fake vault: trigger once, adopt after an unknown outcome, follow the job.

One row per behaviour: what is stored (status, the create journal), what Azure holds (jobs, points),
and what observe reports and which Azure reads it made.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from azbackup.api.specs import OnDemandSpec, VaultSpec
from azbackup.azure import errors
from azbackup.kinds.ondemand import OnDemandClient, Target
from azbackup.managed import JOURNAL_FAILED, JOURNAL_PENDING, Resource
from azbackup.reasons import Reason
from azure.core import exceptions as az

from tests.unit.kinds.fake_arm import http_error, reason_of

VAULT = VaultSpec("sub", "rg", "westeurope", "vault")
VM = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
PENDING = "2026-12-01T11:59:00.000000Z"


def job(name: str, status: str, **props: Any) -> dict[str, Any]:
    return {"name": name, "properties": {"status": status, "startTime": "2026-12-01T11:59:30Z",
                                         "endTime": "2026-12-01T12:10:00Z", "duration": "PT10M30S",
                                         "isUserTriggered": True, **props}}


async def _pages(items: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for item in items:
        yield item


@dataclass
class FakeVault:
    """The parts of the Recovery Services SDK the client calls, over in-memory jobs and points."""

    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    points: list[dict[str, Any]] = field(default_factory=list)
    fail_with: az.HttpResponseError | None = None
    calls: list[str] = field(default_factory=list)

    async def get_job(self, vault: str, group: str, job_id: str) -> dict[str, Any]:
        self.calls.append(f"get {job_id}")
        if self.fail_with is not None:
            raise self.fail_with
        return self.jobs[job_id]

    def list_jobs(self, vault: str, group: str, filter: str) -> AsyncIterator[dict[str, Any]]:
        self.calls.append("list jobs")
        return _pages(list(self.jobs.values()))

    def list_points(self, *args: str) -> AsyncIterator[dict[str, Any]]:
        self.calls.append("list points")
        return _pages(self.points)

    def clients(self) -> Any:
        backup = SimpleNamespace(job_details=SimpleNamespace(get=self.get_job),
                                 backup_jobs=SimpleNamespace(list=self.list_jobs),
                                 recovery_points=SimpleNamespace(list=self.list_points))
        return SimpleNamespace(backup=backup)


def obj(status: Mapping[str, Any] | None = None, annotations: Mapping[str, str] | None = None) -> Resource:
    return Resource("OnDemandBackup", "ns", "now", spec={"protectedVMRef": {"name": "web"}},
                    status=dict(status or {}), annotations=dict(annotations or {}), created="2026-12-01T11:58:00Z")


def client(vault: FakeVault) -> OnDemandClient:
    return OnDemandClient(cast(Any, vault.clients()), VAULT, Target(VM, "web"), OnDemandSpec("web"), NOW)


POINT = {"name": "rp1", "properties": {"recoveryPointTime": "2026-12-01T12:05:00Z"}}


@dataclass(frozen=True)
class Case:
    id: str
    status: Mapping[str, Any] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    jobs: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    want_exists: bool = True
    want_reason: Reason | None = None  # the pending, limitation or ready reason
    want_calls: tuple[str, ...] = ()


CASES = [
    Case("never-triggered-is-pending-with-no-call", want_exists=False),
    Case("a-lost-trigger-with-no-job-yet-looks-without-triggering", annotations={JOURNAL_PENDING: PENDING},
         want_exists=False, want_reason=Reason.TRIGGER_OUTCOME_UNKNOWN, want_calls=("list jobs",)),
    Case("a-lost-trigger-whose-job-shows-up-is-adopted", annotations={JOURNAL_PENDING: PENDING},
         jobs={"j1": job("j1", "InProgress")}, want_reason=Reason.BACKUP_TRIGGERED,
         want_calls=("list jobs", "get j1")),
    Case("a-refused-trigger-is-not-looked-for", annotations={JOURNAL_PENDING: PENDING, JOURNAL_FAILED: PENDING},
         want_exists=False),
    Case("a-recorded-success-without-a-job-id-is-still-looked-for",
         annotations={JOURNAL_PENDING: PENDING, "azbackup.dev/external-create-succeeded": "2026-12-01T11:59:01Z"},
         want_exists=False, want_reason=Reason.TRIGGER_OUTCOME_UNKNOWN, want_calls=("list jobs",)),
    Case("a-running-job-is-followed", status={"jobId": "j1"}, jobs={"j1": job("j1", "InProgress")},
         want_reason=Reason.BACKUP_TRIGGERED, want_calls=("get j1",)),
    Case("a-failed-job-is-a-limitation", status={"jobId": "j1"},
         jobs={"j1": job("j1", "Failed", errorDetails=[{"errorTitle": "UserErrorX", "errorString": "no"}])},
         want_reason=Reason.BACKUP_FAILED, want_calls=("get j1",)),
    Case("a-completed-job-is-ready-with-its-recovery-point", status={"jobId": "j1"},
         jobs={"j1": job("j1", "Completed")}, want_reason=Reason.BACKUP_SUCCEEDED,
         want_calls=("get j1", "list points")),
    Case("a-finished-job-is-read-from-status-with-no-call", status={"jobId": "j1", "phase": "Succeeded"},
         want_reason=Reason.BACKUP_SUCCEEDED),
    Case("a-finished-failure-is-read-from-status-with-no-call", status={"jobId": "j1", "phase": "Failed"},
         want_reason=Reason.BACKUP_FAILED),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_observe(case: Case) -> None:
    vault = FakeVault(jobs=dict(case.jobs), points=[POINT])
    seen = asyncio.run(client(vault).observe(obj(case.status, case.annotations)))
    assert (seen.exists, reason_of(seen), tuple(vault.calls)) == (case.want_exists, case.want_reason, case.want_calls)


def test_a_completed_job_reports_its_recovery_point_and_times() -> None:
    vault = FakeVault(jobs={"j1": job("j1", "Completed")}, points=[POINT])
    seen = asyncio.run(client(vault).observe(obj({"jobId": "j1"})))
    assert seen.status == {"jobId": "j1", "phase": "Succeeded", "startTime": "2026-12-01T11:59:30Z",
                           "completionTime": "2026-12-01T12:10:00Z", "duration": "PT10M30S", "errorCode": None,
                           "errorMessage": None, "recoveryPoint": "rp1"}


@pytest.mark.parametrize(("status", "code", "want"), [
    pytest.param(429, "TooManyRequests", errors.Throttled, id="throttled"),
    pytest.param(403, "AuthorizationFailed", errors.Forbidden, id="forbidden"),
    pytest.param(404, "BMSUserErrorObjectNotFound", errors.NotFound, id="not-found"),
    pytest.param(503, "ServiceUnavailable", errors.Unavailable, id="unavailable"),
])
def test_azure_errors_reading_the_job_are_translated(status: int, code: str, want: type[Exception]) -> None:
    vault = FakeVault(jobs={"j1": job("j1", "InProgress")}, fail_with=http_error(status, code))
    with pytest.raises(want):
        asyncio.run(client(vault).observe(obj({"jobId": "j1"})))


def test_retention_counts_from_the_objects_creation() -> None:
    assert client(FakeVault()).retain_until(obj()) == "2026-12-31T11:58:00Z"
