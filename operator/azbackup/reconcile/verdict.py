"""What one reconcile pass concluded: the input of condition math and of requeueing."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from azbackup.managed import ExtraCondition
from azbackup.reasons import Reason


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
    # Kind-specific status fields to set (None deletes the field).
    status: Mapping[str, Any] = field(default_factory=dict)
    conditions: Sequence[ExtraCondition] = ()

    @classmethod
    def ready(cls, reason: Reason, message: str, **kw: Any) -> Verdict:
        return cls(Phase.READY, reason, message, **kw)

    @classmethod
    def progressing(cls, reason: Reason, message: str, retry_in: float | None = None, **kw: Any) -> Verdict:
        return cls(Phase.PROGRESSING, reason, message, retry_in, **kw)

    @classmethod
    def stalled(cls, reason: Reason, message: str, retry_in: float | None = None, **kw: Any) -> Verdict:
        return cls(Phase.STALLED, reason, message, retry_in, **kw)

    @classmethod
    def paused(cls) -> Verdict:
        return cls(Phase.PAUSED, Reason.RECONCILE_PAUSED,
                   "annotation azbackup.dev/reconcile-policy is skip: nothing is read from or written to Azure")

    def with_status(self, **fields: Any) -> Verdict:
        merged = {**self.status, **fields}
        return Verdict(self.phase, self.reason, self.message, self.retry_in, merged, self.conditions)
