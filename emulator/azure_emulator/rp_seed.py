"""Recovery points made to order (inventory `recoveryPoints: [...]` and `POST /_admin/recovery-points`):
of a given age, consistency and tiers, so tests and the demo can have an old or an archived point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure_emulator import verdicts
from azure_emulator.backup_model import ProtectedItem, RecoveryPoint
from azure_emulator.engine import DAY, add_recovery_point
from azure_emulator.inventory_fields import InventoryError
from azure_emulator.records import Vm

TIERS = ("InstantRP", "HardenedRP", "ArchivedRP")
TYPES = ("AppConsistent", "CrashConsistent", "FileSystemConsistent")


def seed_recovery_point(
    item: ProtectedItem,
    vm: Vm,
    facts: verdicts.VmFacts,
    now: float,
    doc: Mapping[str, Any],
    *,
    instant_days: float = 2.0,
) -> RecoveryPoint:
    """A recovery point of `vm` described by `doc`:

    `ageDays` / `ageHours` (default 1 day) or `time` (epoch seconds); `type` (default: what a backup
    now would give); `tiers`, a subset of InstantRP, HardenedRP, ArchivedRP (default: the snapshot
    while the policy keeps it, and the vault copy); `rehydratedDays` (an archived point rehydrated for
    that many more days); `expiryDays` (default: 30 days, or 10 years for an archived point).
    """
    where = f"recovery point of '{item.vm_name}'"
    if "time" in doc:
        at = float(doc["time"])
    else:
        at = now - float(doc.get("ageDays", 0)) * DAY - float(doc.get("ageHours", 0)) * 3600
        if "ageDays" not in doc and "ageHours" not in doc:
            at = now - DAY
    rp_type = doc.get("type")
    if rp_type is not None and rp_type not in TYPES:
        raise InventoryError(f"{where}: type must be one of {', '.join(TYPES)}")
    tiers = doc.get("tiers")
    if tiers is not None and (not isinstance(tiers, list) or not set(tiers) <= set(TIERS) or not tiers):
        raise InventoryError(f"{where}: tiers must be a non-empty subset of {', '.join(TIERS)}")
    archived = bool(tiers and "ArchivedRP" in tiers)
    expiry = at + float(doc.get("expiryDays", 3650 if archived else 30)) * DAY
    rp = add_recovery_point(item, vm, facts, at, expiry, instant_days=instant_days, rp_type=rp_type, created=now)
    if tiers is not None:
        # a listed snapshot tier is valid for at least one more day; an unlisted one is gone
        rp.instant_until = max(at + instant_days * DAY, now + DAY) if "InstantRP" in tiers else at
        rp.vault_tier = "HardenedRP" in tiers
        rp.archived = archived
    if doc.get("rehydratedDays") is not None:
        if not rp.archived:
            raise InventoryError(f"{where}: rehydratedDays needs the ArchivedRP tier")
        rp.rehydrated_until = now + float(doc["rehydratedDays"]) * DAY
    return rp
