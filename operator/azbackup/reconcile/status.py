"""From a verdict to the status to store (pure): compare first, so an unchanged status is never patched."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azbackup.reconcile import conditions as cond
from azbackup.reconcile.verdict import Verdict

# Condition types whose transitions become Kubernetes Events. Reconciling and Stalled mirror Ready,
# so an event for each would triple the noise for one change.
EVENT_CONDITIONS = frozenset({"Ready", "PrerequisitesMet", "Protected", "BackupHealthy"})


@dataclass(frozen=True)
class StatusChange:
    patch: dict[str, Any]  # JSON merge patch of .status (None values delete); empty: nothing to write
    status: dict[str, Any]  # the whole new status
    events: list[cond.Condition]  # transitions worth an Event


def stored_conditions(status: Mapping[str, Any]) -> list[cond.Condition]:
    return [cond.Condition.from_dict(c) for c in status.get("conditions") or () if isinstance(c, Mapping)]


def compute(previous: Mapping[str, Any], verdict: Verdict, generation: int, now: str) -> StatusChange:
    before = stored_conditions(previous)
    after = cond.summarize(verdict, generation, before, now)
    status: dict[str, Any] = {k: v for k, v in previous.items() if k not in ("conditions", "observedGeneration")}
    for key, value in verdict.status.items():
        if value is None:
            status.pop(key, None)
        else:
            status[key] = value
    status["observedGeneration"] = generation
    status["conditions"] = [c.to_dict() for c in after]

    patch: dict[str, Any] = {}
    for key in set(previous) | set(status):
        if previous.get(key) != status.get(key):
            patch[key] = status.get(key)
    events = [c for c in cond.transitions(before, after) if c.type in EVENT_CONDITIONS]
    ready_reasons = {c.reason for c in events if c.type == cond.READY}
    # Protected=True arriving with Ready=True/Protected says one thing: one Event, not two.
    events = [c for c in events if c.type == cond.READY or c.reason not in ready_reasons]
    return StatusChange(patch, status, events)
