"""BackupPolicy spec <-> AzureIaasVM protection policy JSON (pure): the desired body and the diff.

Shapes follow ProtectionPolicies_CreateOrUpdate_Complex.json (Standard, `SimpleSchedulePolicy`) and
IaaS_v2_hourly.json / IaaS_v2_daily.json (Enhanced, `SimpleSchedulePolicyV2`) of api-version
2026-10-01. Only the time of day of the ISO datetimes in scheduleRunTimes / retentionTimes matters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azbackup.api.specs import MonthlyOrYearly, PolicySpec

POLICY_TYPE = {"Standard": "V1", "Enhanced": "V2"}
SPEC_TYPE = {"V1": "Standard", "V2": "Enhanced"}
_DAY = "2026-01-01"


def _at(hhmm: str) -> str:
    return f"{_DAY}T{hhmm}:00Z"


def _hhmm(iso: str | None) -> str | None:
    return iso[11:16] if iso and len(iso) >= 16 else None


def _run_time(spec: PolicySpec) -> str:
    sched = spec.schedule
    if sched.hourly is not None:
        return sched.hourly.window_start
    return sched.time or "00:00"


def _schedule(spec: PolicySpec) -> dict[str, Any]:
    sched = spec.schedule
    when = [_at(_run_time(spec))]
    if spec.policy_type == "Standard":
        body: dict[str, Any] = {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": sched.frequency,
                                "scheduleRunTimes": when, "scheduleWeeklyFrequency": 0}
        if sched.frequency == "Weekly":
            body["scheduleRunDays"] = list(sched.weekdays)
        return body
    body = {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": sched.frequency}
    if sched.hourly is not None:
        body["hourlySchedule"] = {"interval": sched.hourly.interval_hours, "scheduleWindowStartTime": when[0],
                                  "scheduleWindowDuration": sched.hourly.window_hours}
    elif sched.frequency == "Weekly":
        body["weeklySchedule"] = {"scheduleRunDays": list(sched.weekdays), "scheduleRunTimes": when}
    else:
        body["dailySchedule"] = {"scheduleRunTimes": when}
    return body


def _periodic(rule: MonthlyOrYearly, when: list[str], unit: str) -> dict[str, Any]:
    body: dict[str, Any] = {"retentionTimes": when, "retentionDuration": {"count": rule.count, "durationType": unit}}
    if rule.days:
        days = [{"date": d, "isLast": False} for d in rule.days]
        if rule.include_last_day:
            days.append({"date": 0, "isLast": True})
        body["retentionScheduleFormatType"] = "Daily"
        body["retentionScheduleDaily"] = {"daysOfTheMonth": days}
    else:
        body["retentionScheduleFormatType"] = "Weekly"
        body["retentionScheduleWeekly"] = {"daysOfTheWeek": list(rule.weekdays),
                                           "weeksOfTheMonth": list(rule.weeks)}
    if rule.months:
        body["monthsOfYear"] = list(rule.months)
    return body


def desired_body(spec: PolicySpec) -> dict[str, Any]:
    when = [_at(_run_time(spec))]
    retention: dict[str, Any] = {"retentionPolicyType": "LongTermRetentionPolicy"}
    r = spec.retention
    if r.daily is not None:
        retention["dailySchedule"] = {"retentionTimes": when,
                                      "retentionDuration": {"count": r.daily, "durationType": "Days"}}
    if r.weekly is not None:
        retention["weeklySchedule"] = {"daysOfTheWeek": list(r.weekly_days), "retentionTimes": when,
                                       "retentionDuration": {"count": r.weekly, "durationType": "Weeks"}}
    if r.monthly is not None:
        retention["monthlySchedule"] = _periodic(r.monthly, when, "Months")
    if r.yearly is not None:
        retention["yearlySchedule"] = _periodic(r.yearly, when, "Years")
    props: dict[str, Any] = {
        "backupManagementType": "AzureIaasVM",
        "policyType": POLICY_TYPE[spec.policy_type],
        "schedulePolicy": _schedule(spec),
        "retentionPolicy": retention,
        "timeZone": spec.time_zone,
    }
    days = spec.instant_restore_days
    if days is None and spec.policy_type == "Standard" and spec.schedule.frequency == "Weekly":
        days = 5  # Azure requires exactly 5 for weekly Standard policies
    if days is not None:
        props["instantRpRetentionRangeInDays"] = days
    if spec.instant_rg_prefix:
        props["instantRPDetails"] = {"azureBackupRGNamePrefix": spec.instant_rg_prefix,
                                     "azureBackupRGNameSuffix": spec.instant_rg_suffix or ""}
    if spec.tiering is not None:
        tier: dict[str, Any] = {"tieringMode": spec.tiering.mode}
        if spec.tiering.duration is not None:
            tier.update(duration=spec.tiering.duration, durationType=spec.tiering.duration_type)
        props["tieringPolicy"] = {"ArchivedRP": tier}
    if spec.crash_consistent_only:
        props["snapshotConsistencyType"] = "OnlyCrashConsistent"
    return {"properties": props}


def _sorted(values: Any) -> tuple[Any, ...]:
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
    explicit_days = "instantRpRetentionRangeInDays" in want_body["properties"]
    want = signature(want_body, with_instant_days=explicit_days)
    have = signature(actual, with_instant_days=explicit_days)
    return tuple(f"{key}: Azure {have[key]!r}, spec {want[key]!r}" for key in want if want[key] != have[key])
