"""The steps Azure requires before it deletes a vault, read from what the vault still holds (pure).

Azure refuses to delete a vault that holds items, soft-deleted items, private endpoints or a Resource
Guard proxy (backup-azure-delete-vault). Each is a step in status with what remains and, where Azure sets
it, the date it can proceed (a soft-deleted item's purge date: its deletion time plus the vault's soft
delete retention). The operator never disables soft delete to hurry a purge: that is the attacker's move.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azbackup.api import status as api_status
from azbackup.managed import Hold
from azbackup.reasons import Reason
from azbackup.toolkit import times


@dataclass(frozen=True)
class Step:
    name: str
    done: bool
    message: str
    reason: Reason
    can_proceed_at: dt.datetime | None = None

    def to_status(self) -> api_status.DeletionStep:
        out: api_status.DeletionStep = {"name": self.name, "done": self.done, "message": self.message}
        if self.can_proceed_at is not None:
            out["canProceedAt"] = times.rfc3339(self.can_proceed_at)
        return out


def purge_date(props: Mapping[str, Any]) -> dt.datetime | None:
    """When Azure purges a soft-deleted item: deferredDeleteTimeInUTC plus its retention days (as Azure
    PowerShell's DateOfPurge computes it)."""
    deleted = times.parse(str(props.get("deferredDeleteTimeInUTC") or ""))
    if deleted is None:
        return None
    return deleted + dt.timedelta(days=int(props.get("softDeleteRetentionPeriodInDays") or 14))


def _names(items: Sequence[Mapping[str, Any]]) -> str:
    shown = [str(i.get("friendlyName") or "?") for i in items[:5]]
    return ", ".join(shown) + (f" and {len(items) - 5} more" if len(items) > 5 else "")


def steps(items: Sequence[Mapping[str, Any]], private_endpoints: int, proxies: int) -> list[Step]:
    """The vault's deletion steps, from its items' properties, private endpoints and guard proxies."""
    live = [i for i in items if not i.get("isScheduledForDeferredDelete")]
    soft = [i for i in items if i.get("isScheduledForDeferredDelete")]
    out = [Step("ItemsStopped", not live,
                f"{len(live)} item(s) still hold backup data in the vault ({_names(live)}): delete their "
                "ProtectedVMs with onDelete DeleteData, or delete their backup data in Azure"
                if live else "no item holds live backup data", Reason.WAITING_FOR_PROTECTED_ITEMS)]
    dates = [d for i in soft if (d := purge_date(i)) is not None]
    last = max(dates) if dates else None
    out.append(Step("SoftDeletedDataPurged", not soft,
                    f"{len(soft)} soft-deleted item(s) ({_names(soft)}) stay until Azure purges them"
                    + (f", the last on {times.rfc3339(last)}" if last else "")
                    + "; the operator does not turn soft delete off to hurry it" if soft
                    else "no soft-deleted data remains", Reason.WAITING_FOR_SOFT_DELETED_DATA, last))
    out.append(Step("PrivateEndpointsRemoved", not private_endpoints,
                    f"{private_endpoints} private endpoint connection(s) must be removed by their owner"
                    if private_endpoints else "no private endpoint", Reason.WAITING_FOR_PRIVATE_ENDPOINTS))
    out.append(Step("ResourceGuardProxyRemoved", not proxies,
                    "the vault's Resource Guard proxy (VaultProxy) must be removed; Azure guards its removal"
                    if proxies else "no Resource Guard proxy", Reason.WAITING_FOR_RESOURCE_GUARD_PROXY))
    return out


def hold(plan: Sequence[Step], now: dt.datetime, poll: float, longest: float) -> Hold | None:
    """Why Azure will not delete the vault yet, and when to look again (None when nothing holds it)."""
    waiting = [s for s in plan if not s.done]
    if not waiting:
        return None
    first = waiting[0]
    retry = longest
    if first.can_proceed_at is not None:
        retry = min(longest, max(poll, (first.can_proceed_at - now).total_seconds()))
    return Hold(first.reason, f"Azure does not delete the vault yet: {first.message}", stalls=False, retry_in=retry)
