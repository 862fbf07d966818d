"""Which recovery point a restore uses (pure): `latest`, a name, or the newest before a time.

A point can be restored from a tier whose status is `Valid` (`InstantRP`, `HardenedRP`) or from an
archived copy that was rehydrated; a point whose only valid copy is `ArchivedRP` needs a rehydrating
restore (`IaasVMRestoreWithRehydrationRequest`), which the spec must allow (restore.md §3.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from azbackup.api.specs import PointChoice
from azbackup.azure import protection_body as pb
from azbackup.reasons import Reason

DIRECT_TIERS = frozenset({("InstantRP", "Valid"), ("HardenedRP", "Valid"), ("ArchivedRP", "Rehydrated")})


@dataclass(frozen=True)
class Point:
    name: str
    time: dt.datetime
    type: str  # recoveryPointType: AppConsistent | CrashConsistent | FileSystemConsistent
    tiers: tuple[tuple[str, str], ...]  # (type, status)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Point | None:
        props = raw.get("properties") or {}
        when = pb.parse_time(props.get("recoveryPointTime"))
        if when is None or not raw.get("name"):
            return None
        tiers = tuple((str(t.get("type")), str(t.get("status")))
                      for t in props.get("recoveryPointTierDetails") or () if isinstance(t, Mapping))
        return cls(str(raw["name"]), when, str(props.get("recoveryPointType") or ""), tiers)

    @property
    def direct(self) -> bool:
        """Restorable with a plain request (a snapshot, the vault copy, or a rehydrated archive)."""
        return any(tier in DIRECT_TIERS for tier in self.tiers)

    @property
    def archived_only(self) -> bool:
        return not self.direct and ("ArchivedRP", "Valid") in self.tiers


@dataclass(frozen=True)
class Chosen:
    point: Point
    rehydrate: bool  # send IaasVMRestoreWithRehydrationRequest


@dataclass(frozen=True)
class Refused:
    reason: Reason
    message: str


def _describe(choice: PointChoice) -> str:
    what = "the latest recovery point" if choice.name == "latest" else f"recovery point {choice.name}"
    if choice.before:
        what = f"the newest recovery point before {choice.before}"
    return what + (f" of type {choice.consistency}" if choice.consistency else "")


def choose(points: Iterable[Point], choice: PointChoice) -> Chosen | Refused:
    """The point to restore, or why none can be (no Azure call is made on a refusal)."""
    before = pb.parse_time(choice.before) if choice.before else None
    named = choice.name not in ("", "latest") and not choice.before
    candidates = [p for p in points
                  if (not named or p.name == choice.name)
                  and (before is None or p.time < before)
                  and (not choice.consistency or p.type == choice.consistency)]
    candidates.sort(key=lambda p: (p.time, p.name), reverse=True)
    what = _describe(choice)
    if not candidates:
        return Refused(Reason.RECOVERY_POINT_NOT_FOUND, f"no recovery point matches: {what}")
    direct = [p for p in candidates if p.direct]
    archived = [p for p in candidates if p.archived_only]
    # The newest point wins; an archived one only when nothing newer can be restored directly.
    if direct and (not archived or direct[0].time >= archived[0].time or not choice.allow_rehydration):
        return Chosen(direct[0], rehydrate=False)
    if archived:
        if choice.allow_rehydration:
            return Chosen(archived[0], rehydrate=True)
        return Refused(Reason.RECOVERY_POINT_ARCHIVED,
                       f"{what} ({archived[0].name}, {archived[0].time:%Y-%m-%dT%H:%M:%SZ}) is only in the archive "
                       "tier; set recoveryPoint.rehydration to restore it with rehydration")
    return Refused(Reason.RECOVERY_POINT_NOT_FOUND,
                   f"{what} has no copy left that can be restored (tiers: "
                   f"{', '.join(f'{t}={s}' for t, s in candidates[0].tiers) or 'none'})")
