"""A backup or restore: trigger once, adopt on an unknown outcome, follow the job (DESIGN §5).

The trigger is the operator's only non-idempotent call. The loop journals it (intent saved before the
POST, outcome after) and azure-core never retries it. Whenever a trigger may have been sent and no job
id is known (the operator died mid-call, the answer was a 5xx or a dropped connection), observe looks
for the job it may have started and adopts it: it is followed, never triggered twice. When none shows
up within the loop's adopt window, the trigger never arrived and the loop sends a new one
(`reconcile.adoption`). `OnDemandBackup` and `VMRestore` differ only in what they trigger, how they
find their job, and what a finished job adds to status.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from azbackup.api import status as api_status
from azbackup.api.specs import VaultSpec
from azbackup.azure import errors
from azbackup.azure import protection_body as pb
from azbackup.azure.gateway import Clients
from azbackup.azure.rest import rest
from azbackup.kinds import operations as ops
from azbackup.managed import Hold, Observation, Operation, OperationResult, OperationState, Resource, unrefused_trigger
from azbackup.reasons import Reason
from azbackup.toolkit import times

log = logging.getLogger("azbackup.jobs")
RUNNING = frozenset({"inprogress", "cancelling"})


JobPhase = api_status.JobPhase
S = TypeVar("S", bound=api_status.JobStatus)


FINISHED = (JobPhase.SUCCEEDED, JobPhase.FAILED)


def azure_time(value: object) -> str | None:
    """A time from a job (Azure writes 0001-01-01 for "none") as RFC 3339."""
    return times.rfc3339_optional(pb.parse_time(value))


def job_status(job: Mapping[str, Any], succeeded: Collection[str]) -> api_status.JobStatus:
    """A job as status: its phase (Running, Succeeded or Failed by its lower-cased `succeeded` states),
    its times, and for a failure the error Azure gave."""
    props = job.get("properties") or {}
    raw = str(props.get("status", "")).lower()
    phase = JobPhase.RUNNING if raw in RUNNING else JobPhase.SUCCEEDED if raw in succeeded else JobPhase.FAILED
    details = (props.get("errorDetails") or [{}])[0] if props.get("errorDetails") else {}
    done = phase is not JobPhase.RUNNING
    failed = phase is JobPhase.FAILED
    return {
        "jobId": job.get("name"), "phase": phase, "startTime": azure_time(props.get("startTime")),
        "completionTime": azure_time(props.get("endTime")) if done else None,
        "duration": str(props.get("duration")) if props.get("duration") and done else None,
        # The emulator and the docs pair a string code (errorTitle) with a numeric one (errorCode).
        "errorCode": (str(details.get("errorTitle") or details.get("errorCode") or "") or None)
        if failed else None,
        "errorMessage": (str(details.get("errorString") or "") or None) if failed else None,
    }


@dataclass(frozen=True)
class Words:
    """How a kind's job is named in its messages, and the reasons it reports."""

    noun: str  # "backup"
    job: str  # what observe looks for after an unknown outcome: "job", "Restore job"
    running: Reason
    failed: Reason


class Job:
    """One kind's triggered job in one vault: found, adopted, read, and reported."""

    def __init__(self, clients: Clients, vault: VaultSpec, words: Words) -> None:
        self.clients, self.vault, self.words = clients, vault, words

    async def get(self, job_id: str) -> dict[str, Any]:
        with errors.guard():
            return rest(await self.clients.backup.job_details.get(self.vault.vault_name, self.vault.resource_group,
                                                                 job_id))

    async def locate(self, obj: Resource, find: Callable[[str], Awaitable[Mapping[str, Any] | None]]
                     ) -> str | Observation | None:
        """The id of the job to follow; an observation while looking for one a lost trigger may have
        started (`find(since)`); None when no trigger was sent."""
        job_id = obj.status.get("jobId")
        since = unrefused_trigger(obj.annotations)
        if not job_id and since:
            # A trigger may have reached Azure (its answer, or our record of it, was lost): adopt its job.
            found = await find(since)
            if found is None:
                return Observation(exists=False, status={"phase": JobPhase.PENDING}, pending=(
                    Reason.TRIGGER_OUTCOME_UNKNOWN,
                    f"a {self.words.noun} trigger was sent at {since} without a confirmed answer; looking for the "
                    f"{self.words.job} it may have started instead of sending another"))
            job_id = found.get("name")
            log.info("%s/%s: adopting %s job %s, started by an earlier trigger", obj.namespace, obj.name,
                     self.words.noun, job_id)
        return str(job_id) if job_id else None

    def running(self, status: api_status.JobStatus) -> Observation:
        return Observation(exists=True, usable=False, status=status, pending=(
            self.words.running, f"{self.words.noun} job {status.get('jobId')} is running in Azure"))

    def failed(self, status: api_status.JobStatus, store: bool = True) -> Observation:
        """A failed job as a limitation (`store`: with its fields as status)."""
        return Observation(exists=True, status=status if store else {}, limitation=Hold(
            self.words.failed, f"{self.words.noun} job {status.get('jobId')} failed: {status.get('errorCode')}: "
                               f"{status.get('errorMessage')}"))

    def finished(self, obj: Resource, shape: type[S], ready: Callable[[S], tuple[Reason, str]]) -> Observation | None:
        """A finished job never changes: its stored status is reported with no call. None: not finished."""
        status = api_status.read(obj.status, shape)
        if not (status.get("jobId") and status.get("phase") in FINISHED):
            return None
        if status.get("phase") == JobPhase.FAILED:
            return self.failed(status, store=False)
        return Observation(exists=True, ready=ready(status))

    async def poll(self, operation: Operation, started: api_status.StatusFields) -> OperationResult:
        """The trigger's operation; once it names its job, the job id and `started` become status."""
        result = await ops.poll(self.clients.backup.send_request, operation)
        if result.state is OperationState.SUCCEEDED and result.status.get("jobId"):
            return OperationResult(result.state, status={"jobId": result.status["jobId"], **started})
        return result

    def failed_trigger(self, result: OperationResult) -> Hold:
        return Hold(self.words.failed, f"the {self.words.noun} trigger failed: {result.code}: {result.message}")


class JobClient:
    """What every client that triggers a job shares (a TriggerClient): no idempotent create, a spec that
    never changes, and a failed trigger reported with the kind's words."""

    # Every POST that arrives starts another job: the loop journals the trigger.
    deterministic_names = False
    unknown_outcome_reason = Reason.TRIGGER_OUTCOME_UNKNOWN
    words: ClassVar[Words]

    def __init__(self, clients: Clients, vault: VaultSpec, vm_id: str, now: dt.datetime) -> None:
        self.clients, self.vault, self.now = clients, vault, now
        self.ref = pb.VmRef.parse(vm_id)
        self.job = Job(clients, vault, self.words)

    async def update(self, obj: Resource, seen: Observation) -> Operation | None:
        return None  # a job is never changed after the fact; the spec is immutable

    def failed_operation(self, obj: Resource, operation: Operation, result: OperationResult) -> Hold:
        return self.job.failed_trigger(result)
