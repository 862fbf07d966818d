"""The managed-resource contract between the generic loop and each kind's external client.

Modelled on crossplane-runtime's managed reconciler: an external client per kind observes Azure and
creates, updates or deletes; the one loop in `azbackup.reconcile.loop` decides which to call and owns
conditions, events, requeues and the journal. It lives below both: `kinds/` implements clients,
`reconcile/` drives them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable

from azbackup.api import status as api_status
from azbackup.api.specs import ANNOTATION_PREFIX, RECONCILE_POLICY_ANNOTATION
from azbackup.reasons import Reason

# The create journal (crossplane-runtime's external-create-* annotations): RFC 3339 UTC timestamps.
JOURNAL_PENDING = f"{ANNOTATION_PREFIX}/external-create-pending"
JOURNAL_SUCCEEDED = f"{ANNOTATION_PREFIX}/external-create-succeeded"
JOURNAL_FAILED = f"{ANNOTATION_PREFIX}/external-create-failed"


def create_incomplete(annotations: Mapping[str, str]) -> bool:
    """True when a create was started and neither its success nor its failure was recorded after it.

    Timestamps are RFC 3339 in UTC with the same precision, so they compare as strings.
    """
    pending = annotations.get(JOURNAL_PENDING, "")
    return (bool(pending) and pending > annotations.get(JOURNAL_SUCCEEDED, "")
            and pending > annotations.get(JOURNAL_FAILED, ""))


def unrefused_trigger(annotations: Mapping[str, str]) -> str:
    """When a non-idempotent create was last sent, unless Azure refused it after ("" if never sent).

    Unlike `create_incomplete`, a recorded success does not settle it: a trigger whose answer came but
    whose job is not known yet (the operation's result was lost) may still be adopted by its time.
    """
    pending = annotations.get(JOURNAL_PENDING, "")
    return pending if pending and pending > annotations.get(JOURNAL_FAILED, "") else ""


class ReconcilePolicy(enum.StrEnum):
    MANAGE = "manage"  # the default: make Azure match the spec
    OBSERVE = "observe"  # read Azure, report drift in status, write nothing
    SKIP = "skip"  # read and write nothing


@dataclass(frozen=True, slots=True)
class Resource:
    """The parts of a Kubernetes object the loop and the clients read. Immutable: a snapshot."""

    kind: str
    namespace: str
    name: str
    uid: str = ""
    generation: int = 0
    resource_version: str = ""
    spec: Mapping[str, Any] = field(default_factory=dict)
    status: api_status.StatusFields = field(default_factory=dict)  # read it through the kind's TypedDict
    annotations: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    owner_references: Sequence[Mapping[str, Any]] = ()
    deleting: bool = False
    api_version: str = "azbackup.dev/v1alpha1"
    created: str = ""  # metadata.creationTimestamp (RFC 3339, so it sorts as a string)
    # Status fields held only as a digest (see reconcile.status.compact): enough to tell a change.
    digests: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Resource:
        meta = body.get("metadata") or {}
        return cls(
            kind=str(body.get("kind", "")), namespace=str(meta.get("namespace", "")),
            name=str(meta.get("name", "")), uid=str(meta.get("uid", "")),
            generation=int(meta.get("generation") or 0), resource_version=str(meta.get("resourceVersion", "")),
            spec=dict(body.get("spec") or {}), status=dict(body.get("status") or {}),
            annotations=dict(meta.get("annotations") or {}), labels=dict(meta.get("labels") or {}),
            owner_references=list(meta.get("ownerReferences") or ()),
            deleting=bool(meta.get("deletionTimestamp")),
            api_version=str(body.get("apiVersion", "azbackup.dev/v1alpha1")),
            created=str(meta.get("creationTimestamp", "")),
        )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def policy(self) -> ReconcilePolicy:
        raw = self.annotations.get(RECONCILE_POLICY_ANNOTATION, "manage").strip().lower()
        try:
            return ReconcilePolicy(raw)
        except ValueError:
            # An unknown value must not silently start writing to Azure: treat it as observe.
            return ReconcilePolicy.OBSERVE


@dataclass(frozen=True)
class Operation:
    """A long-running Azure operation the loop follows by URL instead of repeating the write."""

    kind: str  # e.g. ConfigureProtection, StopProtection, DeleteData, DeleteVault
    url: str
    started_at: str
    generation: int = 0

    def to_status(self) -> api_status.OperationStatus:
        return {"kind": self.kind, "url": self.url, "startedAt": self.started_at, "generation": self.generation}

    @classmethod
    def from_status(cls, raw: object) -> Operation | None:
        """status.operation (an `api_status.OperationStatus`) as an Operation; None when there is none."""
        if not isinstance(raw, Mapping) or not raw.get("url"):
            return None
        stored = cast(api_status.OperationStatus, raw)
        return cls(stored.get("kind", ""), stored["url"], stored.get("startedAt", ""), stored.get("generation") or 0)


class OperationState(enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class OperationResult:
    state: OperationState
    code: str = ""
    message: str = ""
    # Status fields the finished operation contributes (e.g. the job id a backup trigger started).
    status: api_status.StatusFields = field(default_factory=dict)


@dataclass(frozen=True)
class Hold:
    """Why the loop must not (or cannot fully) make Azure match the spec."""

    reason: Reason
    message: str
    stalls: bool = True  # True: needs a human (Stalled); False: waiting on something (Reconciling)
    retry_in: float | None = None


class Waiting(Exception):
    """Raised while resolving references: the object cannot be reconciled yet (a reference missing or
    not Ready, a duplicate claim). The loop reports the hold; no Azure call is made."""

    def __init__(self, hold: Hold) -> None:
        super().__init__(hold.message)
        self.hold = hold


@dataclass(frozen=True)
class ExtraCondition:
    """A kind's own condition (PrerequisitesMet, Protected, BackupHealthy, ...)."""

    type: str
    status: str
    reason: Reason
    message: str


@dataclass(frozen=True)
class Observation:
    """What Azure looks like for one object, and how it compares with the spec."""

    exists: bool
    up_to_date: bool = True
    usable: bool = True
    diff: tuple[str, ...] = ()
    # Fields Azure filled in, copied to status (None deletes a status field): the kind's TypedDict keys.
    status: api_status.StatusFields = field(default_factory=dict)
    conditions: Sequence[ExtraCondition] = ()
    # No write at all: prerequisites failed, owned by another object, a dependency not ready.
    blocked: Hold | None = None
    # Writes for the rest of the spec go ahead, but this part cannot be done (a one-way Azure rule).
    limitation: Hold | None = None
    # Why it exists but is not usable yet (default Provisioning), and why it is Ready (default Available).
    pending: tuple[Reason, str] | None = None
    ready: tuple[Reason, str] | None = None
    # What observe decided a create or update should carry out (a restore's recovery point): the loop
    # hands the observation to the write unchanged, so the client keeps no state between the two calls.
    plan: object = None


class ExternalClient(Protocol):
    """One kind's Azure side. observe never writes; create and delete are idempotent.

    A kind that owns children (a selector, a drill) implements only this: it starts no long-running
    Azure operation, so it has nothing to poll and no failed operation to explain.
    """

    # True when the Azure name is derived from the spec, so repeating a create cannot duplicate anything.
    deterministic_names: bool

    async def observe(self, obj: Resource) -> Observation: ...

    async def create(self, obj: Resource, seen: Observation) -> Operation | None: ...

    async def update(self, obj: Resource, seen: Observation) -> Operation | None: ...

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None: ...

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        """True when deleting the object leaves Azure as it is (Retain / Orphan)."""
        ...


@runtime_checkable
class OperationClient(ExternalClient, Protocol):
    """A client whose writes may start a long-running Azure operation the loop follows by URL."""

    async def poll(self, obj: Resource, operation: Operation) -> OperationResult: ...

    def failed_operation(self, obj: Resource, operation: Operation, result: OperationResult) -> Hold:
        """How a failed long-running operation is reported."""
        ...


@runtime_checkable
class TriggerClient(OperationClient, Protocol):
    """A client whose create starts something new each time (a backup, a restore): not idempotent."""

    # The reason shown while the loop looks for what a create of unknown outcome started.
    unknown_outcome_reason: Reason
