"""What differs between a BackupPolicy's spec and the policy Azure returned (pure): the drift the kind corrects.

Both sides are reduced to a signature of what the spec controls, so that Azure's own spellings (the
date part of a run time, the order of weekdays, the V1 default type) are not mistaken for drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from azbackup.api.specs import PolicySpec
from azbackup.azure.policy_body import desired_body


def _hhmm(iso: str | None) -> str | None:
    return iso[11:16] if iso and len(iso) >= 16 else None


def _sorted(values: Iterable[object] | None) -> tuple[Any, ...]:
    return tuple(sorted(values or ()))


def _periodic_signature(body: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    if not body:
        return None
    weekly = body.get("retentionScheduleWeekly") or {}
    daily = body.get("retentionScheduleDaily") or {}
    days = tuple(sorted((d.get("date"), bool(d.get("isLast"))) for d in daily.get("daysOfTheMonth") or ()))
    return ((body.get("retentionDuration") or {}).get("count"), body.get("retentionScheduleFormatType"),
            _sorted(weekly.get("daysOfTheWeek")), _sorted(weekly.get("weeksOfTheMonth")), days,
            _sorted(body.get("monthsOfYear")))


def signature(body: Mapping[str, Any], *, with_instant_days: bool = True) -> dict[str, Any]:
    """The comparable content of a policy body: what the spec controls, normalized."""
    props = body.get("properties") or {}
    sched = props.get("schedulePolicy") or {}
    ret = props.get("retentionPolicy") or {}
    hourly = sched.get("hourlySchedule") or {}
    run_times = (sched.get("scheduleRunTimes") or (sched.get("dailySchedule") or {}).get("scheduleRunTimes")
                 or (sched.get("weeklySchedule") or {}).get("scheduleRunTimes") or ())
    run_days = sched.get("scheduleRunDays") or (sched.get("weeklySchedule") or {}).get("scheduleRunDays")
    tier = (props.get("tieringPolicy") or {}).get("ArchivedRP") or {}
    details = props.get("instantRPDetails") or {}
    sig: dict[str, Any] = {
        "policyType": props.get("policyType") or "V1",
        "schedule.frequency": sched.get("scheduleRunFrequency"),
        "schedule.time": tuple(_hhmm(t) for t in run_times) if not hourly else None,
        "schedule.weekdays": _sorted(run_days),
        "schedule.hourly": (hourly.get("interval"), _hhmm(hourly.get("scheduleWindowStartTime")),
                            hourly.get("scheduleWindowDuration")) if hourly else None,
        "timeZone": props.get("timeZone") or "UTC",
        "instantRestoreResourceGroup": (details.get("azureBackupRGNamePrefix") or None,
                                        details.get("azureBackupRGNameSuffix") or None),
        "retention.daily": ((ret.get("dailySchedule") or {}).get("retentionDuration") or {}).get("count"),
        "retention.weekly": (((ret.get("weeklySchedule") or {}).get("retentionDuration") or {}).get("count"),
                             _sorted((ret.get("weeklySchedule") or {}).get("daysOfTheWeek"))),
        "retention.monthly": _periodic_signature(ret.get("monthlySchedule")),
        "retention.yearly": _periodic_signature(ret.get("yearlySchedule")),
        "tiering": (tier.get("tieringMode"), tier.get("duration"), tier.get("durationType")) if tier else None,
        "consistency": props.get("snapshotConsistencyType") or None,
    }
    if with_instant_days:
        sig["instantRestoreRetentionDays"] = props.get("instantRpRetentionRangeInDays")
    return sig


def compare(spec: PolicySpec, actual: Mapping[str, Any]) -> tuple[str, ...]:
    """Human-readable differences between the spec and the policy Azure returned."""
    want_body = desired_body(spec)
    # Instant-restore days the spec leaves unset are Azure's to choose (its default differs by policy
    # type): they are drift only when the body the operator sends names them.
    explicit_days = "instantRpRetentionRangeInDays" in want_body["properties"]
    want = signature(want_body, with_instant_days=explicit_days)
    have = signature(actual, with_instant_days=explicit_days)
    return tuple(f"{key}: Azure {have[key]!r}, spec {want[key]!r}" for key in want if want[key] != have[key])
