"""The pure parts of hardening: retention cuts, security level, vault deletion steps, what Azure keeps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from azbackup.kinds import retained, retention, vault_deletion
from azbackup.kinds.vault import security_condition
from azbackup.reasons import Reason

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def policy(**schedules: tuple[int, str]) -> dict[str, Any]:
    return {"retentionPolicy": {f"{name}Schedule": {"retentionDuration": {"count": count, "durationType": unit}}
                                for name, (count, unit) in schedules.items()}}


@pytest.mark.parametrize(("have", "want", "cuts"), [
    pytest.param(policy(daily=(30, "Days")), policy(daily=(30, "Days")), (), id="same-retention-cuts-nothing"),
    pytest.param(policy(daily=(30, "Days")), policy(daily=(60, "Days")), (), id="longer-retention-cuts-nothing"),
    pytest.param(policy(daily=(30, "Days")), policy(daily=(7, "Days")), ("daily 30 -> 7 days",),
                 id="shorter-daily-is-a-cut"),
    pytest.param(policy(daily=(30, "Days"), weekly=(12, "Weeks")), policy(daily=(30, "Days")),
                 ("weekly 84 -> 0 days",), id="dropped-weekly-is-a-cut"),
    pytest.param(policy(monthly=(1, "Years")), policy(monthly=(12, "Months")), ("monthly 365 -> 360 days",),
                 id="units-compare-in-days"),
])
def test_retention_cuts(have: dict[str, Any], want: dict[str, Any], cuts: tuple[str, ...]) -> None:
    assert retention.cuts(have, want) == cuts


@pytest.mark.parametrize(("level", "minimum", "want"), [
    pytest.param("Good", None, None, id="no-minimum-no-condition"),
    pytest.param("Good", "Good", ("True", Reason.SECURITY_LEVEL_MET), id="equal-is-met"),
    pytest.param("Excellent", "Fair", ("True", Reason.SECURITY_LEVEL_MET), id="higher-is-met"),
    pytest.param("Poor", "Good", ("False", Reason.SECURITY_LEVEL_BELOW_MINIMUM), id="lower-warns"),
    pytest.param(None, "Good", ("Unknown", Reason.SECURITY_LEVEL_UNKNOWN), id="unreported-is-unknown"),
])
def test_security_condition(level: str | None, minimum: str | None, want: tuple[str, Reason] | None) -> None:
    got = security_condition(level, minimum)
    assert (None if got is None else (got.status, got.reason)) == want


def item(name: str, *, soft: bool = False, deleted: str = "2026-12-01T00:00:00Z", days: int = 14) -> dict[str, Any]:
    out: dict[str, Any] = {"friendlyName": name, "isScheduledForDeferredDelete": soft}
    if soft:
        out.update(deferredDeleteTimeInUTC=deleted, softDeleteRetentionPeriodInDays=days)
    return out


@pytest.mark.parametrize(("items", "endpoints", "proxies", "reason", "retry"), [
    pytest.param([], 0, 0, None, None, id="empty-vault-is-deleted"),
    pytest.param([item("web")], 0, 0, Reason.WAITING_FOR_PROTECTED_ITEMS, 3600.0, id="live-items-come-first"),
    pytest.param([item("web", soft=True)], 0, 0, Reason.WAITING_FOR_SOFT_DELETED_DATA, 3600.0,
                 id="soft-deleted-waits-capped-at-recheck"),
    pytest.param([item("web", soft=True, deleted="2026-11-23T12:00:30Z")], 0, 0,
                 Reason.WAITING_FOR_SOFT_DELETED_DATA, 30.0, id="soft-deleted-waits-until-its-purge-date"),
    pytest.param([], 1, 0, Reason.WAITING_FOR_PRIVATE_ENDPOINTS, 3600.0, id="private-endpoints"),
    pytest.param([], 0, 1, Reason.WAITING_FOR_RESOURCE_GUARD_PROXY, 3600.0, id="resource-guard-proxy"),
])
def test_vault_deletion_waits_for_the_first_step_azure_requires(
        items: list[dict[str, Any]], endpoints: int, proxies: int, reason: Reason | None, retry: float | None) -> None:
    hold = vault_deletion.hold(vault_deletion.steps(items, endpoints, proxies), NOW, poll=15.0, longest=3600.0)
    assert (None if hold is None else (hold.reason, hold.retry_in, hold.stalls)) == (
        None if reason is None else (reason, retry, False))


def test_soft_deleted_step_names_the_purge_date() -> None:
    steps = vault_deletion.steps([item("web", soft=True, days=30)], 0, 0)
    step = next(s for s in steps if s.name == "SoftDeletedDataPurged")
    assert step.to_status()["canProceedAt"] == "2026-12-31T00:00:00Z"


def test_what_azure_keeps_of_a_soft_deleted_item() -> None:
    hold, record = retained.soft_deleted({"properties": item("web", soft=True)}, "vault-a", "AlwaysON")
    assert hold.reason is Reason.KEPT_SOFT_DELETED
    assert "until 2026-12-15T00:00:00Z" in hold.message
    assert record == {"what": "SoftDeleted", "vault": "vault-a", "until": "2026-12-15T00:00:00Z"}


def test_what_azure_keeps_under_immutability() -> None:
    points = [{"properties": {"recoveryPointProperties": {"expiryTime": t}}}
              for t in ("2027-01-01T00:00:00Z", "2027-03-01T00:00:00Z")]
    hold, record = retained.suspended("vault-a", points)
    assert hold.reason is Reason.KEPT_BY_IMMUTABILITY
    assert record == {"what": "BackupsSuspended", "vault": "vault-a", "points": 2, "until": "2027-03-01T00:00:00Z"}
