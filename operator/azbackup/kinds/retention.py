"""Whether a policy body shortens a retention (pure): what an immutable vault refuses.

An immutable vault (Unlocked or Locked) refuses a policy edit that would let recovery points expire earlier
(backup-azure-immutable-vault-concept). Each schedule is compared in days, as the policy's longest keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

IMMUTABLE: Final = ("Unlocked", "Locked")
_UNIT_DAYS: Final = {"days": 1, "weeks": 7, "months": 30, "years": 365}
_SCHEDULES: Final = ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule")


def retention_days(props: Mapping[str, Any]) -> dict[str, int]:
    """Each retention schedule of a policy's properties, in days (schedules absent are absent)."""
    retention = props.get("retentionPolicy") or {}
    out: dict[str, int] = {}
    for name in _SCHEDULES:
        duration = (retention.get(name) or {}).get("retentionDuration") or {}
        unit = _UNIT_DAYS.get(str(duration.get("durationType") or "").lower())
        count = duration.get("count")
        if unit and isinstance(count, int):
            out[name] = count * unit
    return out


def cuts(have: Mapping[str, Any], want: Mapping[str, Any]) -> tuple[str, ...]:
    """The schedules the wanted policy keeps shorter than Azure's (or drops), as "daily 30 -> 7 days"."""
    before, after = retention_days(have), retention_days(want)
    return tuple(f"{name.removesuffix('Schedule')} {days} -> {after.get(name, 0)} days"
                 for name, days in before.items() if after.get(name, 0) < days)
