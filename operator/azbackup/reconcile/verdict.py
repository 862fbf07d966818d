"""What one reconcile pass concluded: the input of condition math and of requeueing."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from azbackup.api.status import StatusFields
from azbackup.managed import ExtraCondition
from azbackup.reasons import Reason

NOTHING: StatusFields = MappingProxyType({})


class Phase(enum.StrEnum):
    READY = "Ready"  # converged and usable
    PROGRESSING = "Progressing"  # still working: creating, waiting on Azure, retrying a transient error
    STALLED = "Stalled"  # needs a human: bad spec, owned elsewhere, no permission
    PAUSED = "Paused"  # reconcile-policy skip


@dataclass(frozen=True)
class Verdict:
    phase: Phase
    reason: Reason
    message: str
    # Seconds until this object should be reconciled again; None: at the next periodic sync.
    retry_in: float | None = None
    # Kind-specific status fields to set (None deletes the field): keys of the kind's `api.status` TypedDict.
    status: StatusFields = field(default_factory=dict)
    conditions: Sequence[ExtraCondition] = ()
    # Waiting for a dependency to turn Ready (not for a human): it wakes this object when it does.
    waiting: bool = False

    @classmethod
    def ready(cls, reason: Reason, message: str, *, status: StatusFields = NOTHING,
              conditions: Sequence[ExtraCondition] = ()) -> Verdict:
        return cls(Phase.READY, reason, message, None, status, conditions)

    @classmethod
    def progressing(cls, reason: Reason, message: str, retry_in: float | None = None, *,
                    status: StatusFields = NOTHING, conditions: Sequence[ExtraCondition] = ()) -> Verdict:
        return cls(Phase.PROGRESSING, reason, message, retry_in, status, conditions)

    @classmethod
    def stalled(cls, reason: Reason, message: str, retry_in: float | None = None, *,
                status: StatusFields = NOTHING, conditions: Sequence[ExtraCondition] = ()) -> Verdict:
        return cls(Phase.STALLED, reason, message, retry_in, status, conditions)

    @classmethod
    def paused(cls) -> Verdict:
        return cls(Phase.PAUSED, Reason.RECONCILE_PAUSED,
                   "annotation azbackup.dev/reconcile-policy is skip: nothing is read from or written to Azure")

    def with_status(self, **fields: object) -> Verdict:
        return replace(self, status={**self.status, **fields})

    def under(self, earlier: Verdict) -> Verdict:
        """This verdict, with the status fields of an earlier one of the same pass that were not written."""
        return replace(self, status={**earlier.status, **self.status})
