"""What an immutable vault and always-on soft delete forbid, with Azure's codes (sources: docs/emulator.md,
"Immutability and soft delete").

Immutability (Unlocked or Locked) refuses whatever would lose recovery points before they expire:
deleting an item's backup data, and a policy edit that shortens a retention. Locked is one-way, and Azure
locks only a vault that is already immutable (Unlocked). Soft delete AlwaysON is one-way; soft-deleted
data is purged `softDeleteRetentionPeriodInDays` after its deletion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure_emulator.backup_model import ProtectedItem, Vault
from azure_emulator.errors import ArmError

DAY = 86400.0
IMMUTABLE = ("Unlocked", "Locked")
_UNIT_DAYS = {"days": 1, "weeks": 7, "months": 30, "years": 365}
_SCHEDULES = ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule")
_STATES_LINK = "Refer to the documentation to learn more: https://aka.ms/AB-ImmutableVaults-States "


def immutable(vault: Vault) -> bool:
    return vault.immutability in IMMUTABLE


def denied_on_immutable_item() -> ArmError:
    """Azure's refusal of a destructive change in an immutable vault (azure-rest-api-specs#32688)."""
    return ArmError(
        400,
        "UserErrorOperationDeniedOnImmutableItem",
        "The Vault and Bakcup Item is in Immutable state where destructive operations are not supported. The "
        "Vault and Backup Item is immutable, hence operation is denied. " + _STATES_LINK,
    )


def unsupported_state_change() -> ArmError:
    """Leaving Locked, or locking a vault that is not immutable yet (azure-rest-api-specs#26598)."""
    return ArmError(
        400,
        "UserErrorUnsupportedVaultImmutabilityStateChange",
        "The immutable vault property for this vault is locked, hence, this setting cannot be disabled. The vault "
        "has its immutable vault property enabled and locked, and it can no longer be reverted to a "
        "non-immutable vault. " + _STATES_LINK,
    )


def check_state_change(have: str, want: str) -> None:
    """Disabled -> Unlocked -> Locked; Locked stays Locked."""
    if have == "Locked" and want != "Locked":
        raise unsupported_state_change()
    if want == "Locked" and have == "Disabled":
        raise unsupported_state_change()


def soft_delete_always_on(field: str, want: str) -> ArmError:
    """Leaving AlwaysON: to Disabled as AzureTRE#4962 shows; to Enabled as AzureTRE#4888 names (message chosen)."""
    if want == "Disabled":
        return ArmError(
            400,
            "BMSUserErrorDisablingSoftDeleteStateNotAllowed",
            "Disabling soft delete or enhanced security state is not allowed for this vault. Please contact "
            "Microsoft Support if this is not expected.",
        )
    return ArmError(
        400,
        "BMSUserErrorSoftDeleteStateAlwaysOn",
        f"{field} is AlwaysON for this vault, which is irreversible; it cannot be changed to {want}.",
    )


def delete_on_immutable_item(item: ProtectedItem) -> tuple[str, str]:
    """The failure of a delete-data operation while the item's points are immutable (AVM module #214)."""
    return (
        "UserErrorDeleteBackupItemOnImmutableItem",
        f"Backup data of {item.vm_name} cannot be deleted: the vault is immutable and the item has recovery "
        "points that have not expired. Stop protection and retain data (or suspend backups) instead. " + _STATES_LINK,
    )


def frees_the_vm(vault: Vault) -> bool:
    """Whether a soft-deleted item of the vault leaves its VM free for another vault: with enhanced soft
    delete, yes (reference/security.md); a vault without it keeps the VM until the data is gone (choice)."""
    return vault.enhanced_security != "Disabled"


def unexpired_points(item: ProtectedItem, now: float) -> bool:
    return any(rp.expiry > now for rp in item.recovery_points)


def purge_at(vault: Vault, item: ProtectedItem) -> float | None:
    """When a soft-deleted item is purged: its deletion time plus the vault's soft delete retention."""
    if not item.soft_deleted or item.deleted_at is None:
        return None
    return item.deleted_at + vault.soft_delete_days * DAY


def retention_days(props: Mapping[str, Any]) -> dict[str, int]:
    """Each retention schedule of a policy body, in days."""
    retention = props.get("retentionPolicy") or {}
    out: dict[str, int] = {}
    for name in _SCHEDULES:
        duration = (retention.get(name) or {}).get("retentionDuration") or {}
        unit = _UNIT_DAYS.get(str(duration.get("durationType") or "").lower())
        if unit and isinstance(duration.get("count"), int):
            out[name] = duration["count"] * unit
    return out


def retention_cut(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """The first schedule whose retention the new policy body shortens or drops, if any."""
    before, after = retention_days(old), retention_days(new)
    for name, days in before.items():
        if after.get(name, 0) < days:
            return name
    return None
