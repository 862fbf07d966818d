"""Every kind's status, typed: the one definition the writer, the kinds and the CRD schema share.

Each kind's status is a `TypedDict` (total=False: the operator fills fields in as it learns them). The
CRD's status schema in `crds.py` carries the descriptions `kubectl explain` shows; a unit test proves the
two list the same fields with the same JSON types, so neither can change alone. The apiserver validates
every status write against that schema, which is why a stored status may be read back as its TypedDict
(`read`) without checking each field again.

In a write (a verdict's or an observation's status), None removes a field (JSON merge patch); fields that
a kind clears that way are annotated `X | None`. A state machine kept in status has its states as a
`StrEnum`: values are read back as plain strings equal to the members, so code compares them with `==`
and converts once (`RunPhase(...)`) where it needs the member.

To add a status field: add it here and in the kind's schema in `crds.py` (the test names the one missing).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypedDict, TypeVar, cast

StatusFields = Mapping[str, object]
"""Status as the generic machinery holds it (any kind's): read through the kind's TypedDict."""


class JobPhase(enum.StrEnum):
    """status.phase of a kind that follows a job (an OnDemandBackup, a VMRestore)."""

    PENDING = "Pending"  # not triggered yet, or looking for what a lost trigger started
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class RunPhase(enum.StrEnum):
    """A drill run's state machine (status.currentRun.phase): restore every target, then clean up, then done."""

    RESTORING = "Restoring"
    CLEANING_UP = "CleaningUp"
    DONE = "Done"


class Result(enum.StrEnum):
    """A drill run's, or one drilled VM's, result."""

    RUNNING = "Running"
    PASSED = "Passed"
    FAILED = "Failed"


# -- shared by every kind ----------------------------------------------------------------------------


class Condition(TypedDict, total=False):
    """metav1.Condition."""

    type: str
    status: str
    reason: str
    message: str
    lastTransitionTime: str
    observedGeneration: int


class Backoff(TypedDict, total=False):
    until: str
    attempts: int
    generation: int


class OperationStatus(TypedDict, total=False):
    kind: str
    url: str
    startedAt: str
    generation: int


class CommonStatus(TypedDict, total=False):
    observedGeneration: int
    conditions: list[Condition]
    backoff: Backoff | None
    drift: list[str] | None  # the loop reports drift for every kind (reconcile-policy observe)


# -- one per kind --------------------------------------------------------------------------------------


class DeletionStep(TypedDict, total=False):
    """One step of a vault's deletion that Azure requires (kinds/vault_deletion.py)."""

    name: str
    done: bool
    message: str
    canProceedAt: str | None


class VaultDeletion(TypedDict, total=False):
    steps: list[DeletionStep]


class VaultStatus(CommonStatus, total=False):
    vaultId: str | None
    vaultName: str | None
    location: str | None
    provisioningState: str | None
    storageRedundancy: str | None
    storageRedundancyLocked: bool
    identityPrincipalId: str | None
    resourceGuard: str | None
    bcdrSecurityLevel: str | None
    immutability: str | None
    softDeleteState: str | None
    deletion: VaultDeletion | None
    operation: OperationStatus | None


class PolicyWrite(TypedDict, total=False):
    at: str
    generation: int
    refused: bool


class PolicyStatus(CommonStatus, total=False):
    policyId: str | None
    policyName: str | None
    vaultId: str
    policyType: str
    protectedItemsCount: int | None
    policyWrites: list[PolicyWrite] | None
    operation: OperationStatus | None


class Check(TypedDict, total=False):
    name: str
    result: str
    reason: str
    message: str


class Retained(TypedDict, total=False):
    """What Azure keeps of a deleted ProtectedVM's backups, and until when (kinds/retained.py)."""

    what: str
    vault: str
    points: int
    until: str | None


class ProtectedVMStatus(CommonStatus, total=False):
    vmName: str
    vaultId: str
    protectedItemId: str | None
    policyName: str | None
    protectionState: str | None
    healthStatus: str | None
    lastBackupStatus: str | None
    lastBackupTime: str | None
    lastRecoveryPoint: str | None
    softDeleted: bool | None
    retainedInAzure: Retained | None
    checks: list[Check]
    operation: OperationStatus | None


class SelectorStatus(CommonStatus, total=False):
    matched: int
    protected: int
    blocked: int
    excluded: int
    blockedByReason: dict[str, int] | None
    protectedElsewhere: list[str] | None
    notFitted: int | None


class JobStatus(CommonStatus, total=False):
    """What a kind that triggers and follows an Azure job (jobs.py) keeps of it."""

    phase: JobPhase
    jobId: str | None
    startTime: str | None
    completionTime: str | None
    duration: str | None
    errorCode: str | None
    errorMessage: str | None
    recoveryPoint: str | None
    operation: OperationStatus | None


class OnDemandStatus(JobStatus, total=False):
    triggeredAt: str
    retainUntil: str | None


class Created(TypedDict, total=False):
    virtualMachine: str
    networkInterfaces: list[str]
    disks: list[str]


class SkippedPoint(TypedDict, total=False):
    """A recovery point passed over because a Healthy one was required."""

    name: str
    time: str | None
    threatStatus: str


class VMRestoreStatus(JobStatus, total=False):
    jobStatus: str | None
    recoveryPointTime: str | None
    recoveryPointThreatStatus: str | None
    skippedRecoveryPoints: list[SkippedPoint] | None
    recoveryPointType: str | None
    rehydrated: bool | None
    created: Created | None
    remaining: list[str] | None
    warnings: list[str] | None


class DrillTarget(TypedDict, total=False):
    """Evidence for one drilled VM."""

    protectedVM: str
    restore: str
    vmName: str
    recoveryPoint: str | None
    recoveryPointTime: str
    rpoSeconds: int
    threatStatus: str
    skippedRecoveryPoints: list[SkippedPoint]
    jobSeconds: int
    bootSeconds: int
    rtoSeconds: int
    result: Result
    reason: str
    message: str
    cleanedUp: bool


class DrillRun(TypedDict, total=False):
    id: int
    scheduledFor: str
    startedAt: str
    finishedAt: str
    phase: RunPhase
    result: Result
    reason: str
    achievedRPO: str | None
    achievedRTO: str | None
    objectivesMet: bool
    missed: list[str] | None
    targets: list[DrillTarget]


class RestoreDrillStatus(CommonStatus, total=False):
    nextRun: str
    lastRunTime: str
    lastResult: Result
    lastRPO: str | None
    lastRTO: str | None
    runCount: int
    passedRuns: int
    failedRuns: int
    lastScheduled: str
    currentRun: DrillRun | None
    runs: list[DrillRun]
    lastDrilled: dict[str, str]


S = TypeVar("S", bound=CommonStatus)


def read(status: StatusFields, shape: type[S]) -> S:
    """A stored status as its kind's TypedDict (the apiserver validated it against the same fields)."""
    del shape  # only its type matters
    return cast(S, status)
