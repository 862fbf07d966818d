"""BackupPolicy spec -> AzureIaasVM protection policy JSON (pure): the body the operator sends.

Shapes follow ProtectionPolicies_CreateOrUpdate_Complex.json (Standard, `SimpleSchedulePolicy`) and
IaaS_v2_hourly.json / IaaS_v2_daily.json (Enhanced, `SimpleSchedulePolicyV2`) of api-version
2026-10-01. Only the time of day of the ISO datetimes in scheduleRunTimes / retentionTimes matters;
whether Azure's policy differs from this body is decided in kinds/policy_diff.py.
"""

from __future__ import annotations

from typing import Any

from azbackup.api.specs import MonthlyOrYearly, PolicySpec

POLICY_TYPE = {"Standard": "V1", "Enhanced": "V2"}
SPEC_TYPE = {"V1": "Standard", "V2": "Enhanced"}
_DAY = "2026-01-01"


def _at(hhmm: str) -> str:
    return f"{_DAY}T{hhmm}:00Z"


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
