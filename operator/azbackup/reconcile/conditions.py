"""Condition math (pure): the kstatus summary conditions and merging with what is stored.

Ready is the summary; Reconciling says the operator is still working; Stalled says it needs a human.
`lastTransitionTime` moves only when a condition's status flips (cert-manager's rule), and every
condition carries the generation it was computed for (crossplane's rule), so `kubectl wait` and
GitOps tools never read a stale True.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from azbackup.api import status as api_status
from azbackup.reasons import Reason
from azbackup.reconcile.verdict import Phase, Verdict

READY, RECONCILING, STALLED = "Ready", "Reconciling", "Stalled"
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str
    last_transition_time: str = ""
    observed_generation: int = 0

    def to_dict(self) -> api_status.Condition:
        return {"type": self.type, "status": self.status, "reason": self.reason, "message": self.message,
                "lastTransitionTime": self.last_transition_time, "observedGeneration": self.observed_generation}

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> Condition:
        return cls(type=str(raw.get("type", "")), status=str(raw.get("status", UNKNOWN)),
                   reason=str(raw.get("reason", "")), message=str(raw.get("message", "")),
                   last_transition_time=str(raw.get("lastTransitionTime", "")),
                   observed_generation=int(str(raw.get("observedGeneration") or 0)))


def summary(verdict: Verdict) -> list[tuple[str, str, Reason, str]]:
    """(type, status, reason, message) of Ready, Reconciling and Stalled for a verdict (STYLE §4 table)."""
    r, m = verdict.reason, verdict.message
    match verdict.phase:
        case Phase.READY:
            return [(READY, TRUE, r, m), (RECONCILING, FALSE, r, m), (STALLED, FALSE, r, m)]
        case Phase.PROGRESSING:
            return [(READY, FALSE, r, m), (RECONCILING, TRUE, r, m), (STALLED, FALSE, r, m)]
        case Phase.STALLED:
            return [(READY, FALSE, r, m), (RECONCILING, FALSE, r, m), (STALLED, TRUE, r, m)]
        case Phase.PAUSED:
            return [(READY, UNKNOWN, r, m), (RECONCILING, FALSE, r, m), (STALLED, FALSE, r, m)]
    raise AssertionError(verdict.phase)


def merge(previous: Sequence[Condition], wanted: Sequence[tuple[str, str, str, str]], generation: int,
          now: str) -> list[Condition]:
    """The wanted conditions, keeping each one's lastTransitionTime unless its status flipped.

    Conditions of other types already stored are kept as they are, after the wanted ones.
    """
    before = {c.type: c for c in previous}
    out: list[Condition] = []
    for type_, status, reason, message in wanted:
        old = before.pop(type_, None)
        changed = old is None or old.status != status
        out.append(Condition(type_, status, str(reason), message,
                             now if changed or old is None else old.last_transition_time, generation))
    out.extend(before.values())
    return out


def summarize(verdict: Verdict, generation: int, previous: Sequence[Condition], now: str) -> list[Condition]:
    """All conditions for a verdict: the summary three, then the kind's own (e.g. PrerequisitesMet)."""
    wanted = [(t, s, str(r), m) for t, s, r, m in summary(verdict)]
    wanted += [(c.type, c.status, str(c.reason), c.message) for c in verdict.conditions]
    return merge(previous, wanted, generation, now)


def transitions(previous: Sequence[Condition], current: Sequence[Condition],
                abnormal_true: frozenset[str] = frozenset()) -> list[Condition]:
    """Conditions that changed in a way a user should hear about, one Kubernetes Event each.

    Ready: when it first appears True or needing a human, when its status flips, and when it names a new
    reason while the object needs a human (a new blocking problem). Another condition: when its status
    flips after it first appeared (Protected becoming True, BackupHealthy becoming False, ...), or one of
    the kind's `abnormal_true` types (whose True is the bad news) that first appears True. Progress steps
    (a new object's first Creating, then WaitingForOperation) are visible in status and would only add
    noise as Events: one per object of a thousand applied at once, which nobody acts on.
    """
    before = {c.type: c for c in previous}
    out = []
    for c in current:
        old = before.get(c.type)
        if c.type == READY:
            stalled = next((s.status == TRUE for s in current if s.type == STALLED), False)
            if old is None:
                if c.status == TRUE or stalled:
                    out.append(c)
            elif old.status != c.status or (stalled and old.reason != c.reason):
                out.append(c)
        elif old is not None and old.status != c.status:
            out.append(c)
        elif old is None and c.type in abnormal_true and c.status == TRUE:
            out.append(c)  # bad news from the start: heard at once, not after a flip
    return out


def bad(condition: Condition, abnormal_true: frozenset[str] = frozenset()) -> bool:
    """A kind's own condition in its bad state: False for most, True for an abnormal-true type."""
    return condition.type != READY and condition.status == (TRUE if condition.type in abnormal_true else FALSE)
