"""Long-running operations and backup jobs as pure state machines over emulated time.

Nothing here runs in the background. An operation or job is created with a start time and a
(time-scaled) duration; its completion is an event on a `Timeline`. Before answering any request
the server "settles" the timeline up to `now`, running each due completion at its own due time,
so answers are the same whether a client polls every millisecond or once a minute.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class OpStatus(StrEnum):
    """The `status` of an ARM operation-status body (terminal values are what ARMPolling looks for)."""

    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"


class JobStatus(StrEnum):
    """Backup job states (`JobStatus` of the backup SDK)."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    COMPLETED_WITH_WARNINGS = "CompletedWithWarnings"
    CANCELLED = "Cancelled"


@dataclass(frozen=True)
class Failure:
    """Why an operation or job failed (or warned): the string code Azure Backup reports and its text."""

    code: str
    message: str
    title: str = ""
    recommendations: tuple[str, ...] = ()


@dataclass
class Operation:
    """One tracked operation: refresh, configure/stop/delete protection, trigger backup, vault delete."""

    id: str
    kind: str
    started: float
    duration: float
    scope: str  #: lower-cased resource path the operation belongs to; status URLs must sit under it
    job_id: str | None = None
    status: OpStatus = OpStatus.IN_PROGRESS
    ended: float | None = None
    failure: Failure | None = None
    target: str | None = None  #: what operationResults answers with once done (e.g. an item key)

    @property
    def due(self) -> float:
        return self.started + self.duration

    @property
    def done(self) -> bool:
        return self.status is not OpStatus.IN_PROGRESS

    def finish(self, at: float, failure: Failure | None = None) -> None:
        """Settle the operation at `at`: failed when a failure is given, else succeeded."""
        if self.done:
            return
        self.ended = at
        self.failure = failure
        self.status = OpStatus.FAILED if failure else OpStatus.SUCCEEDED

    def remaining(self, now: float) -> float:
        return 0.0 if self.done else max(0.0, self.due - now)


@dataclass(frozen=True)
class Task:
    """A step of a job (`extendedInfo.tasksList`) and the share of the job's duration it takes."""

    name: str
    share: float


BACKUP_TASKS: tuple[Task, ...] = (Task("Take Snapshot", 0.4), Task("Transfer data to vault", 0.6))
CONFIGURE_TASKS: tuple[Task, ...] = (Task("Configure backup", 1.0),)


@dataclass
class Job:
    """A backup job (`backupJobs/{id}`), created by configure/stop/delete protection or a backup."""

    id: str
    vault: str  #: lower-cased vault id
    operation: str  #: `ConfigureBackup`, `Backup`, `DisableBackup`, `DeleteBackupData`, `Undelete`
    entity_friendly_name: str
    vm_id: str
    container_name: str
    started: float
    duration: float
    is_user_triggered: bool = True
    tasks: tuple[Task, ...] = CONFIGURE_TASKS
    status: JobStatus = JobStatus.IN_PROGRESS
    ended: float | None = None
    failure: Failure | None = None
    warnings: list[Failure] = field(default_factory=list)
    recovery_point: str | None = None

    @property
    def due(self) -> float:
        return self.started + self.duration

    @property
    def done(self) -> bool:
        return self.status is not JobStatus.IN_PROGRESS

    def finish(self, at: float, failure: Failure | None = None, warnings: Sequence[Failure] = ()) -> None:
        """Settle the job: Failed with a failure, CompletedWithWarnings with warnings, else Completed."""
        if self.done:
            return
        self.ended = at
        self.failure = failure
        self.warnings = list(warnings)
        if failure:
            self.status = JobStatus.FAILED
        elif self.warnings:
            self.status = JobStatus.COMPLETED_WITH_WARNINGS
        else:
            self.status = JobStatus.COMPLETED

    def cancel(self, at: float) -> None:
        if not self.done:
            self.ended = at
            self.status = JobStatus.CANCELLED

    def elapsed(self, now: float) -> float:
        end = self.ended if self.ended is not None else now
        return max(0.0, end - self.started)

    def progress(self, now: float) -> int:
        """Percent complete, as `extendedInfo.progressPercentage` reports it."""
        if self.done:
            return 100
        return min(99, int(100 * self.elapsed(now) / self.duration)) if self.duration > 0 else 99

    def task_states(self, now: float) -> list[tuple[str, str, float]]:
        """`(taskId, status, seconds)` per task: NotStarted, InProgress, Completed, Failed or Cancelled.

        A failed job failed in its first task (Azure Backup's checks run before the snapshot);
        a cancelled one stops in the task that was running.
        """
        out: list[tuple[str, str, float]] = []
        elapsed = self.elapsed(now)
        t0 = 0.0
        stopped = False
        for index, task in enumerate(self.tasks):
            span = task.share * self.duration
            spent = min(max(0.0, elapsed - t0), span)
            if self.status is JobStatus.FAILED:
                state = "Failed" if index == 0 else "NotStarted"
                spent = elapsed if index == 0 else 0.0
            elif self.status in (JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_WARNINGS):
                state = "Completed"
            elif stopped or elapsed < t0:
                state = "NotStarted"
            elif elapsed < t0 + span:
                state = "Cancelled" if self.status is JobStatus.CANCELLED else "InProgress"
                stopped = self.status is JobStatus.CANCELLED
            else:
                state = "Completed"
            out.append((task.name, state, spent))
            t0 += span
        return out


Action = Callable[[float], None]


class Timeline:
    """Due completions in time order. `settle(now)` runs every action whose time has come."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Action]] = []
        self._seq = itertools.count()

    def schedule(self, at: float, action: Action) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), action))

    def settle(self, now: float) -> int:
        """Run due actions (each with its own due time, in order); return how many ran.

        Actions may schedule further actions; those run too if they are already due.
        """
        ran = 0
        while self._heap and self._heap[0][0] <= now:
            at, _, action = heapq.heappop(self._heap)
            action(at)
            ran += 1
        return ran

    def __len__(self) -> int:
        return len(self._heap)

    def clear(self) -> None:
        self._heap.clear()


def retry_after(minimum: int = 1) -> str:
    """The `Retry-After` value of a 202: whole seconds and never 0.

    azure-core treats `0` as falsy and falls back to its default 30 s polling interval, so the
    emulator always answers at least 1 (a time-scaled operation is usually done by the next poll).
    """
    return str(max(1, int(minimum)))


def throttle_retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def iso_duration(seconds: float) -> str:
    """ISO-8601 duration as the backup service writes it (`PT9.8782791S`)."""
    return f"PT{max(0.0, seconds):.7f}S"
