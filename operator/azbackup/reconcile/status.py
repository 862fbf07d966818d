"""From a verdict to the status to store (pure): compare first, so an unchanged status is never patched."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from azbackup.api.status import StatusFields
from azbackup.reconcile import conditions as cond
from azbackup.reconcile.verdict import Verdict

# Transitions of Ready and of a kind's own conditions become Kubernetes Events. Reconciling and
# Stalled mirror Ready, so an event for each would triple the noise for one change.


# Status fields nobody reads back (status.checks: twelve messages per ProtectedVM): the operator keeps a
# digest of them in memory, not the text, so five thousand objects do not hold sixty thousand messages.
HEAVY = frozenset({"checks"})


def digest(value: object) -> str:
    return hashlib.blake2b(json.dumps(value, sort_keys=True).encode(), digest_size=12).hexdigest()


def _intern(value: object) -> object:
    """Share equal strings between objects (most condition messages and reasons repeat across a fleet)."""
    if isinstance(value, str):
        return sys.intern(str(value))  # a kind's StrEnum (a phase) is stored as its plain value
    if isinstance(value, list):
        return [_intern(v) for v in value]
    if isinstance(value, dict):
        return {sys.intern(str(k)): _intern(v) for k, v in value.items()}
    return value


def compact(status: StatusFields) -> tuple[dict[str, object], dict[str, str]]:
    """(light status, digests of the heavy fields) to keep in memory."""
    light = {k: _intern(v) for k, v in status.items() if k not in HEAVY}
    return light, {k: digest(status[k]) for k in HEAVY if k in status}


@dataclass(frozen=True)
class StatusChange:
    patch: dict[str, object]  # JSON merge patch of .status (None values delete); empty: nothing to write
    status: dict[str, object]  # the whole new status
    events: list[cond.Condition]  # transitions worth an Event


def stored_conditions(status: StatusFields) -> list[cond.Condition]:
    stored = status.get("conditions")
    return [cond.Condition.from_dict(c) for c in stored if isinstance(c, Mapping)] if isinstance(stored, list) else []


def apply(stored: StatusFields, fields: StatusFields) -> dict[str, object]:
    """A status with a verdict's fields written over it (None removes a field), as a merge patch would."""
    out = dict(stored)
    for key, value in fields.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def compute(previous: StatusFields, verdict: Verdict, generation: int, now: str,
            digests: Mapping[str, str] | None = None, abnormal_true: frozenset[str] = frozenset()) -> StatusChange:
    """The new status and the merge patch from `previous` to it (heavy fields compared by `digests`).

    `abnormal_true`: the kind's condition types whose True is the bad news (`Kind.abnormal_true`)."""
    digests = digests or {}
    before = stored_conditions(previous)
    after = cond.summarize(verdict, generation, before, now)
    status = apply({k: v for k, v in previous.items() if k not in ("conditions", "observedGeneration")},
                   verdict.status)
    status["observedGeneration"] = generation
    status["conditions"] = [c.to_dict() for c in after]

    patch: dict[str, object] = {}
    for key in set(previous) | set(status) | set(digests):
        if key in digests and key not in verdict.status:
            continue  # a heavy field this verdict does not speak about stays as stored
        if key in digests:
            if key not in status or digest(status[key]) != digests[key]:
                patch[key] = status.get(key)
        elif previous.get(key) != status.get(key):
            patch[key] = status.get(key)
    worth_an_event = {cond.READY, *(c.type for c in verdict.conditions)}
    events = [c for c in cond.transitions(before, after, abnormal_true) if c.type in worth_an_event]
    ready_reasons = {c.reason for c in events if c.type == cond.READY}
    # Protected=True arriving with Ready=True/Protected says one thing: one Event, not two.
    events = [c for c in events if c.type == cond.READY or c.reason not in ready_reasons]
    return StatusChange(patch, status, events)
