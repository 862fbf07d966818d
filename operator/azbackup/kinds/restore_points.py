"""Which recovery point a restore uses (pure): `latest`, a name, or the newest before a time.

A point can be restored from a tier whose status is `Valid` (`InstantRP`, `HardenedRP`) or from an
archived copy that was rehydrated; a point whose only valid copy is `ArchivedRP` needs a rehydrating
restore (`IaasVMRestoreWithRehydrationRequest`), which the spec must allow (restore.md §3.2).

With `requireThreatStatus` only a point that Microsoft Defender's source scan reports `Healthy` is restored
(`threatStatus`, security.md); the newer points passed over are returned with the choice, so that a
restore or a drill says what it skipped instead of restoring an older point silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from azbackup.api.specs import PointChoice
from azbackup.azure import protection_body as pb
from azbackup.reasons import Reason

DIRECT_TIERS = frozenset({("InstantRP", "Valid"), ("HardenedRP", "Valid"), ("ArchivedRP", "Rehydrated")})
HEALTHY = "Healthy"
#: threat statuses a scan gives (bms.json 2026-10-01 `ThreatStatus`); `NotAvailable`, or none, means no scan
SCANNED = frozenset({"Healthy", "Warning", "UnHealthy", "Unknown"})
#: statuses that report a threat: passing over such a point is a finding, not a detail
THREATS = frozenset({"Warning", "UnHealthy"})
NOT_REPORTED = "NotReported"  # what status says of a point Azure reports no threatStatus for


@dataclass(frozen=True)
class Point:
    name: str
    time: dt.datetime
    type: str  # recoveryPointType: AppConsistent | CrashConsistent | FileSystemConsistent
    tiers: tuple[tuple[str, str], ...]  # (type, status)
    threat: str | None = None  # threatStatus: Healthy | Warning | UnHealthy | Unknown | NotAvailable

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Point | None:
        props = raw.get("properties") or {}
        when = pb.parse_time(props.get("recoveryPointTime"))
        if when is None or not raw.get("name"):
            return None
        tiers = tuple((str(t.get("type")), str(t.get("status")))
                      for t in props.get("recoveryPointTierDetails") or () if isinstance(t, Mapping))
        threat = props.get("threatStatus")
        return cls(str(raw["name"]), when, str(props.get("recoveryPointType") or ""), tiers,
                   str(threat) if threat else None)

    @property
    def direct(self) -> bool:
        """Restorable with a plain request (a snapshot, the vault copy, or a rehydrated archive)."""
        return any(tier in DIRECT_TIERS for tier in self.tiers)

    @property
    def archived_only(self) -> bool:
        return not self.direct and ("ArchivedRP", "Valid") in self.tiers

    def evidence(self) -> dict[str, Any]:
        """The point as status records a skipped one."""
        return {"name": self.name, "time": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "threatStatus": self.threat or NOT_REPORTED}


@dataclass(frozen=True)
class Chosen:
    point: Point
    rehydrate: bool  # send IaasVMRestoreWithRehydrationRequest
    skipped: tuple[Point, ...] = ()  # newer points passed over for their threat status, newest first


@dataclass(frozen=True)
class Refused:
    reason: Reason
    message: str
    skipped: tuple[Point, ...] = ()


def _describe(choice: PointChoice) -> str:
    what = "the latest recovery point" if choice.name == "latest" else f"recovery point {choice.name}"
    if choice.before:
        what = f"the newest recovery point before {choice.before}"
    return what + (f" of type {choice.consistency}" if choice.consistency else "")


def _requires_healthy(points: Sequence[Point], choice: PointChoice) -> bool:
    """`Healthy` always; `HealthyWhenScanned` once any point of the item carries a scan's status."""
    if choice.require_threat_status == "Healthy":
        return True
    return choice.require_threat_status == "HealthyWhenScanned" and any(p.threat in SCANNED for p in points)


def _no_healthy(candidates: Sequence[Point], what: str) -> Refused:
    if not any(p.threat in SCANNED for p in candidates):
        return Refused(Reason.NO_HEALTHY_RECOVERY_POINT,
                       f"{what}: no point carries a threat status, so none is known to be Healthy; configure "
                       "the vault's Defender source scan (securitySettings.sourceScanConfiguration)")
    newest = candidates[0]
    return Refused(Reason.NO_HEALTHY_RECOVERY_POINT,
                   f"{what}: none of {len(candidates)} points is Healthy by the threat scan (the newest, "
                   f"{newest.name} of {newest.time:%Y-%m-%dT%H:%M:%SZ}, is {newest.threat or 'not scanned'})",
                   skipped=tuple(candidates))


def choose(points: Iterable[Point], choice: PointChoice) -> Chosen | Refused:
    """The point to restore, or why none can be (no Azure call is made on a refusal)."""
    before = pb.parse_time(choice.before) if choice.before else None
    named = choice.name not in ("", "latest") and not choice.before
    listed = list(points)
    candidates = [p for p in listed
                  if (not named or p.name == choice.name)
                  and (before is None or p.time < before)
                  and (not choice.consistency or p.type == choice.consistency)]
    candidates.sort(key=lambda p: (p.time, p.name), reverse=True)
    what = _describe(choice)
    if not candidates:
        return Refused(Reason.RECOVERY_POINT_NOT_FOUND, f"no recovery point matches: {what}")
    if not _requires_healthy(listed, choice):
        return _restorable(candidates, choice, what)
    healthy = [p for p in candidates if p.threat == HEALTHY]
    if not healthy:
        return _no_healthy(candidates, what)
    chosen = _restorable(healthy, choice, what)
    newest = chosen.point.time if isinstance(chosen, Chosen) else healthy[0].time
    skipped = tuple(p for p in candidates if p.threat != HEALTHY and p.time > newest)
    return replace(chosen, skipped=skipped)


def _restorable(candidates: Sequence[Point], choice: PointChoice, what: str) -> Chosen | Refused:
    """The newest of `candidates` (newest first) that can be restored, by tier."""
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
