"""The policy-edit budget: at most 50 policy creates or edits per vault in 24 hours, and no rewriting of
drift that keeps coming back.

Azure Backup FAQ: "adding new backup policies or editing current policies through Azure Resource Manager
(ARM) templates or Azure Automation clients such as PowerShell, CLI is limited to 50 over a span of 24
hours". An operator that corrects a policy someone keeps editing in the portal would burn that budget
for every policy of the vault. The writes the operator sent are recorded in each BackupPolicy's status
(so a restart keeps them); Azure's refusal counts as the budget being spent (portal edits count too).
Pure: the caller collects the records, this decides.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from azbackup.reasons import Reason
from azbackup.toolkit import times

WRITES_PER_DAY: Final = 50
WINDOW: Final = dt.timedelta(hours=24)
# Corrections of the same spec within the window before the operator stops rewriting and reports.
DRIFT_RETURNS: Final = 3
# After Azure refused a write for the budget, wait this long before trying again (Azure says no more).
AFTER_REFUSAL: Final = dt.timedelta(hours=1)


@dataclasses.dataclass(frozen=True)
class Write:
    """A policy create/edit the operator sent: when, for which generation of the spec, and Azure's answer."""

    at: dt.datetime
    generation: int
    refused: bool = False  # Azure refused it for the budget

    def to_status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"at": times.rfc3339(self.at), "generation": self.generation}
        if self.refused:
            out["refused"] = True
        return out

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Write | None:
        try:
            at = dt.datetime.strptime(str(raw["at"]), times.SECONDS).replace(tzinfo=dt.UTC)
            return cls(at, int(raw.get("generation", 0)), bool(raw.get("refused", False)))
        except (KeyError, ValueError, TypeError):
            return None


def parse_all(raw: Iterable[Any] | None) -> list[Write]:
    return [w for w in (Write.parse(r) for r in raw or () if isinstance(r, Mapping)) if w is not None]


def recent(writes: Iterable[Write], now: dt.datetime) -> list[Write]:
    """The writes of the last 24 hours, oldest first (what status keeps)."""
    return sorted((w for w in writes if now - w.at < WINDOW), key=lambda w: w.at)


def corrections(own: Sequence[Write], generation: int, now: dt.datetime) -> int:
    """Drift corrections of this spec: writes at the current generation in the window, after the first one
    (the first applied the spec; each later one undid a change made in Azure)."""
    same = [w for w in recent(own, now) if w.generation == generation and not w.refused]
    return max(0, len(same) - 1)


@dataclasses.dataclass(frozen=True)
class Refusal:
    reason: Reason
    message: str
    retry_at: dt.datetime


def decide(vault_writes: Sequence[Write], own: Sequence[Write], generation: int, now: dt.datetime, *,
           policy: str, vault_name: str, creating: bool) -> Refusal | None:
    """None when the write may be sent; else why not, and when to look again."""
    window = recent(vault_writes, now)
    refused = [w for w in window if w.refused and now - w.at < AFTER_REFUSAL]
    if refused:
        return Refusal(
            Reason.POLICY_EDIT_BUDGET_EXHAUSTED,
            f"Azure refused a policy write in vault {vault_name} at {refused[-1].at:%H:%MZ}: its budget of "
            f"{WRITES_PER_DAY} policy creates/edits in 24 hours is spent (portal and CLI edits count too). The "
            f"operator tries again after {refused[-1].at + AFTER_REFUSAL:%H:%MZ}", refused[-1].at + AFTER_REFUSAL)
    sent = [w for w in window if not w.refused]
    if len(sent) >= WRITES_PER_DAY:
        free_at = sent[-WRITES_PER_DAY].at + WINDOW
        return Refusal(
            Reason.POLICY_EDIT_BUDGET_EXHAUSTED,
            f"the operator sent {len(sent)} policy creates/edits in vault {vault_name} in the last 24 hours, "
            f"Azure's limit is {WRITES_PER_DAY}; policy {policy} is written when the budget frees up at "
            f"{free_at:%Y-%m-%dT%H:%MZ}", free_at)
    fixes = corrections(own, generation, now)
    if not creating and fixes >= DRIFT_RETURNS:
        again = recent(own, now)[0].at + WINDOW
        return Refusal(
            Reason.DRIFT_KEEPS_RETURNING,
            f"policy {policy} was changed in Azure and corrected {fixes} times in 24 hours: something (the portal, "
            "another tool) keeps editing it, and every correction spends the vault's budget of "
            f"{WRITES_PER_DAY} policy edits a day. The operator stops rewriting it: make the spec say what you "
            "want (a spec change is written at once), or stop the other editor; it corrects drift again after "
            f"{again:%Y-%m-%dT%H:%MZ}", again)
    return None
