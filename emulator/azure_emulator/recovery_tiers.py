"""Pure: the tiers of a recovery point at a given time, and what kind of restore request each allows.

Azure reports the tiers as `recoveryPointTierDetails[{type, status, extendedInfo?}]` (SPEC
RecoveryPoints_List example: InstantRP Deleted + HardenedRP Valid; an archived point with HardenedRP
Deleted + ArchivedRP Rehydrated and `RehydratedRPExpiryTime`). The CLI folds them into a tier type
(reference restore.md §3.2); an archive-only point needs `IaasVMRestoreWithRehydrationRequest`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from azure_emulator.backup_model import RecoveryPoint


class Tier(StrEnum):
    """The CLI's `tier_type` of a recovery point (`custom_common.fetch_tier_for_rp`)."""

    VAULT_STANDARD_REHYDRATED = "VaultStandardRehydrated"
    SNAPSHOT_AND_VAULT_STANDARD = "SnapshotAndVaultStandard"
    SNAPSHOT_AND_VAULT_ARCHIVE = "SnapshotAndVaultArchive"
    VAULT_ARCHIVE = "VaultArchive"
    SNAPSHOT = "Snapshot"
    VAULT_STANDARD = "VaultStandard"
    NONE = "None"  #: no copy left to restore from


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def statuses(rp: RecoveryPoint, now: float) -> dict[str, str]:
    """`{tier type: status}` for the tiers the point has (or had: `Deleted`)."""
    out: dict[str, str] = {}
    if rp.instant_until is not None:
        out["InstantRP"] = "Valid" if now < rp.instant_until else "Deleted"
    if rp.archived:
        out["HardenedRP"] = "Valid" if rp.vault_tier else "Deleted"
        rehydrated = rp.rehydrated_until is not None and now < rp.rehydrated_until
        out["ArchivedRP"] = "Rehydrated" if rehydrated else "Valid"
    elif rp.vault_tier:
        out["HardenedRP"] = "Valid"
    return out


def tier_details(rp: RecoveryPoint, now: float) -> list[dict[str, Any]]:
    """`recoveryPointTierDetails` as Azure writes it."""
    details: list[dict[str, Any]] = []
    for tier, status in statuses(rp, now).items():
        entry: dict[str, Any] = {"type": tier, "status": status}
        if status == "Rehydrated" and rp.rehydrated_until is not None:
            entry["extendedInfo"] = {"RehydratedRPExpiryTime": _iso(rp.rehydrated_until)}
        details.append(entry)
    return details


def tier_of(rp: RecoveryPoint, now: float) -> Tier:
    """The CLI's fold of the tier details, in its order of precedence."""
    s = statuses(rp, now)
    instant = s.get("InstantRP") == "Valid"
    hardened = s.get("HardenedRP") == "Valid"
    archived = s.get("ArchivedRP")
    if (hardened and archived == "Valid") or archived == "Rehydrated":
        return Tier.VAULT_STANDARD_REHYDRATED
    if instant and hardened:
        return Tier.SNAPSHOT_AND_VAULT_STANDARD
    if instant and archived == "Valid":
        return Tier.SNAPSHOT_AND_VAULT_ARCHIVE
    if archived == "Valid":
        return Tier.VAULT_ARCHIVE
    if instant:
        return Tier.SNAPSHOT
    if hardened:
        return Tier.VAULT_STANDARD
    return Tier.NONE


def needs_rehydration(rp: RecoveryPoint, now: float) -> bool:
    """Only the archive copy is left: a plain restore request is refused."""
    return tier_of(rp, now) is Tier.VAULT_ARCHIVE


def rehydration_days(duration: str) -> int | None:
    """`P15D` -> 15 (the only form the CLI sends); None when it is not a whole number of days."""
    text = duration.strip().upper()
    if not (text.startswith("P") and text.endswith("D")) or not text[1:-1].isdigit():
        return None
    return int(text[1:-1])
