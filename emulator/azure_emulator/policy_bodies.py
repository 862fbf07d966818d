"""AzureIaasVM backup policy bodies: the built-in ones, the short inventory form, and the rules
the emulator enforces on a policy PUT (the refusals use the verified `BMSUserErrorInvalidInput`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from azure_emulator import errors

DEFAULT_RUN_TIME = "21:00"  #: DefaultPolicy's run time in the one real capture (reference §8.4)


def _at(day: str, hhmm: str) -> str:
    return f"{day}T{hhmm}:00Z"


def standard(
    day: str,
    *,
    time: str = DEFAULT_RUN_TIME,
    time_zone: str = "UTC",
    retention_days: int = 30,
    instant_rp_days: int = 2,
    weekly_days: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A Standard (V1) policy: `SimpleSchedulePolicy`, daily or weekly, daily/weekly retention."""
    run = _at(day, time)
    schedule: dict[str, Any] = {
        "schedulePolicyType": "SimpleSchedulePolicy",
        "scheduleRunFrequency": "Weekly" if weekly_days else "Daily",
        "scheduleRunTimes": [run],
        "scheduleWeeklyFrequency": 0,
    }
    retention: dict[str, Any] = {"retentionPolicyType": "LongTermRetentionPolicy"}
    if weekly_days:
        schedule["scheduleRunDays"] = list(weekly_days)
        retention["weeklySchedule"] = {
            "daysOfTheWeek": list(weekly_days),
            "retentionTimes": [run],
            "retentionDuration": {"count": max(1, retention_days // 7), "durationType": "Weeks"},
        }
    else:
        retention["dailySchedule"] = {
            "retentionTimes": [run],
            "retentionDuration": {"count": retention_days, "durationType": "Days"},
        }
    return {
        "backupManagementType": "AzureIaasVM",
        "policyType": "V1",
        "schedulePolicy": schedule,
        "retentionPolicy": retention,
        "instantRpRetentionRangeInDays": 5 if weekly_days else instant_rp_days,
        "timeZone": time_zone,
        "protectedItemsCount": 0,
    }


def enhanced(
    day: str,
    *,
    time: str = "08:00",
    time_zone: str = "UTC",
    retention_days: int = 30,
    instant_rp_days: int = 7,
    hourly_interval: int | None = 4,
    window_hours: int = 12,
) -> dict[str, Any]:
    """An Enhanced (V2) policy: `SimpleSchedulePolicyV2`, hourly (interval + window) or daily."""
    run = _at(day, time)
    schedule: dict[str, Any] = {"schedulePolicyType": "SimpleSchedulePolicyV2"}
    if hourly_interval:
        schedule["scheduleRunFrequency"] = "Hourly"
        schedule["hourlySchedule"] = {
            "interval": hourly_interval,
            "scheduleWindowStartTime": run,
            "scheduleWindowDuration": window_hours,
        }
    else:
        schedule["scheduleRunFrequency"] = "Daily"
        schedule["dailySchedule"] = {"scheduleRunTimes": [run]}
    return {
        "backupManagementType": "AzureIaasVM",
        "policyType": "V2",
        "schedulePolicy": schedule,
        "retentionPolicy": {
            "retentionPolicyType": "LongTermRetentionPolicy",
            "dailySchedule": {
                "retentionTimes": [run],
                "retentionDuration": {"count": retention_days, "durationType": "Days"},
            },
        },
        "instantRpRetentionRangeInDays": instant_rp_days,
        "timeZone": time_zone,
        "protectedItemsCount": 0,
    }


def builtin(day: str) -> dict[str, dict[str, Any]]:
    """The policies a new vault has: `DefaultPolicy` (V1, daily 21:00 UTC, 30 days, instant RP 2 days)
    and `EnhancedPolicy` (V2; its body is unverified, the emulator uses every 4 h from 08:00 for 12 h)."""
    return {"DefaultPolicy": standard(day), "EnhancedPolicy": enhanced(day)}


def from_short_form(name: str, doc: Mapping[str, Any], day: str) -> dict[str, Any]:
    """The inventory's short policy form (`type`, `time`, `timeZone`, `retentionDays`, ...) or raw `properties`."""
    if "properties" in doc:
        return copy.deepcopy(dict(doc["properties"]))
    kind = str(doc.get("type", "Standard")).lower()
    time_zone = str(doc.get("timeZone", "UTC"))
    retention_days = int(doc.get("retentionDays", 30))
    if kind in ("enhanced", "v2"):
        hourly = doc.get("hourlyInterval", 4 if str(doc.get("frequency", "Hourly")).lower() == "hourly" else None)
        return enhanced(
            day,
            time=str(doc.get("time", "08:00")),
            hourly_interval=hourly,
            instant_rp_days=int(doc.get("instantRpDays", 7)),
            time_zone=time_zone,
            retention_days=retention_days,
        )
    weekly = tuple(doc.get("weeklyDays", ()))
    return standard(
        day,
        time=str(doc.get("time", DEFAULT_RUN_TIME)),
        weekly_days=weekly,
        instant_rp_days=int(doc.get("instantRpDays", 2)),
        time_zone=time_zone,
        retention_days=retention_days,
    )


def policy_type(props: Mapping[str, Any]) -> str:
    """V2 when the body says so or uses the V2 schedule, else V1."""
    explicit = str(props.get("policyType") or "").upper()
    if explicit in ("V1", "V2"):
        return explicit
    schedule = props.get("schedulePolicy") or {}
    return "V2" if schedule.get("schedulePolicyType") == "SimpleSchedulePolicyV2" else "V1"


def frequency(props: Mapping[str, Any]) -> str:
    return str((props.get("schedulePolicy") or {}).get("scheduleRunFrequency") or "Daily")


def validate(props: Mapping[str, Any], existing_type: str | None) -> str:
    """Check a policy PUT body; return its policy type (V1/V2) or raise the 400 Azure answers."""
    if props.get("backupManagementType") != "AzureIaasVM":
        raise errors.invalid_input("The emulator serves AzureIaasVM policies only (backupManagementType).")
    schedule = props.get("schedulePolicy")
    if not isinstance(schedule, Mapping) or schedule.get("schedulePolicyType") not in (
        "SimpleSchedulePolicy",
        "SimpleSchedulePolicyV2",
    ):
        raise errors.invalid_input("schedulePolicy must be a SimpleSchedulePolicy or SimpleSchedulePolicyV2.")
    kind = policy_type(props)
    if (schedule["schedulePolicyType"] == "SimpleSchedulePolicyV2") != (kind == "V2"):
        raise errors.invalid_input(
            "policyType V2 (Enhanced) goes with SimpleSchedulePolicyV2 and V1 with SimpleSchedulePolicy."
        )
    if existing_type and existing_type != kind:
        raise errors.invalid_input(
            f"The policy type cannot change from {existing_type} to {kind}; create a new policy and move the items."
        )
    freq = frequency(props)
    if freq == "Hourly":
        if kind != "V2":
            raise errors.invalid_input("Hourly schedules need an Enhanced (V2) policy.")
        interval = (schedule.get("hourlySchedule") or {}).get("interval")
        if interval not in (4, 6, 8, 12):
            raise errors.invalid_input("hourlySchedule.interval must be 4, 6, 8 or 12.")
    if not isinstance(props.get("retentionPolicy"), Mapping):
        raise errors.invalid_input("retentionPolicy is required.")
    days = props.get("instantRpRetentionRangeInDays")
    if days is not None:
        limit = 30 if kind == "V2" else 5
        if not isinstance(days, int) or not 1 <= days <= limit:
            raise errors.invalid_input(f"instantRpRetentionRangeInDays must be between 1 and {limit} for {kind}.")
        if kind == "V1" and freq == "Weekly" and days != 5:
            raise errors.invalid_input("A weekly Standard policy keeps instant recovery points for 5 days.")
    return kind


def with_service_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    """A policy PUT body as the service stores it: the fields it fills in when the caller leaves them out
    (Azure's ProtectionPolicies_CreateOrUpdate_Simple example: sent without `scheduleWeeklyFrequency`,
    answered with 0). `snapshotConsistencyType` is only answered when sent (its one value opts out of
    application consistency; the examples that show it sent it)."""
    out = copy.deepcopy(dict(props))
    schedule = out.get("schedulePolicy")
    if isinstance(schedule, dict) and schedule.get("schedulePolicyType") == "SimpleSchedulePolicy":
        schedule.setdefault("scheduleWeeklyFrequency", 0)
    return out
