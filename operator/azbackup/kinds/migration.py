"""Moving a protected VM between policy types (pure): Standard to Enhanced is Azure's migration, the
way back does not exist.

Facts and sources (backup-azure-vm-migrate-enhanced-policy, 04/2026; backup-azure-vms-enhanced-policy,
06/2025): an item moves to an Enhanced policy by a PUT of the protected item with the new policyId (the
portal's "Change Backup Policy", `az backup item set-policy`); Azure runs it as a "Configure backup
(Migrate policy)" job that also takes a backup, and the item keeps its recovery points. Azure lists what
the migration needs: managed disks only (no classic or unmanaged VM), no backup job of the VM running, a
shared disk detached first (and attached again afterwards, to be excluded). "Once the migration is
complete, you can't change the backup policy back to standard policy."

What the Enhanced policy itself needs or allows (security type, Ultra / Premium SSD v2 disks, the
instant-restore snapshot retention of 1-30 days) is not repeated here: the ProtectedVM's prerequisite
checks already run against the target policy's type, and the BackupPolicy kind validates the retention.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from azbackup.checks import facts as f
from azbackup.managed import Hold
from azbackup.reasons import Reason

SOURCE = "learn.microsoft.com/azure/backup/backup-azure-vm-migrate-enhanced-policy"
# The protected item's properties.policyType (api-version 2026-10-01 examples).
ITEM_POLICY_TYPES = {"v1": f.PolicyType.STANDARD, "v2": f.PolicyType.ENHANCED}


class Move(enum.StrEnum):
    """What a policy change of a protected item is, by the two policy types."""

    SAME_TYPE = "SameType"  # an ordinary policy change (or none)
    MIGRATION = "Migration"  # Standard to Enhanced
    BACK_TO_STANDARD = "BackToStandard"  # Enhanced to Standard: Azure has no such move


@dataclass(frozen=True)
class Decision:
    move: Move
    refusal: Hold | None = None  # set when nothing may be written

    @property
    def migrates(self) -> bool:
        return self.move is Move.MIGRATION and self.refusal is None


def item_policy_type(raw: object) -> f.PolicyType | None:
    """The policy type a protected item reports (`V1` / `V2`); None when the item does not say."""
    return ITEM_POLICY_TYPES.get(str(raw or "").lower())


def policy_types(declared: Mapping[str, object]) -> dict[str, f.PolicyType]:
    """Policy types by lower-cased Azure policy name: the BackupPolicies declared for the vault, and the
    built-in policies every vault gets (DefaultPolicy Standard, EnhancedPolicy Enhanced)."""
    known = {"defaultpolicy": f.PolicyType.STANDARD, "enhancedpolicy": f.PolicyType.ENHANCED}
    for name, kind in declared.items():
        if str(kind) in set(f.PolicyType):
            known[name.lower()] = f.PolicyType(str(kind))
    return known


def move_of(current: f.PolicyType | None, target: f.PolicyType | None) -> Move:
    """An unknown type on either side is no migration: Azure judges the PUT as an ordinary change."""
    if current is f.PolicyType.STANDARD and target is f.PolicyType.ENHANCED:
        return Move.MIGRATION
    if current is f.PolicyType.ENHANCED and target is f.PolicyType.STANDARD:
        return Move.BACK_TO_STANDARD
    return Move.SAME_TYPE


def decide(current: f.PolicyType | None, target: f.PolicyType | None, vm: f.VMFacts, *,
           backup_running: bool, policy: str, retry_in: float | None = None) -> Decision:
    """Whether the item may move to `policy` (of type `target`) now; every refusal is before any write."""
    move = move_of(current, target)
    if move is Move.SAME_TYPE:
        return Decision(move)
    if move is Move.BACK_TO_STANDARD:
        return Decision(move, Hold(
            Reason.ENHANCED_TO_STANDARD_NOT_SUPPORTED,
            f"VM {vm.name} is protected by an Enhanced policy and policyRef names the Standard policy {policy}: "
            "Azure cannot move an item back to a Standard policy (\"once the migration is complete, you can't "
            f"change the backup policy back to standard policy\", {SOURCE}). Nothing was changed; name an "
            "Enhanced policy"))
    disks = vm.disks
    if disks is None or any(d.managed is None or d.shared is None for d in disks):
        return Decision(move, Hold(
            Reason.MIGRATION_FACTS_UNKNOWN,
            f"whether the disks of VM {vm.name} are managed and unshared is not known yet; the migration to "
            f"the Enhanced policy {policy} waits for them", stalls=False, retry_in=retry_in))
    unmanaged = [d.name for d in disks if d.managed is False]
    if unmanaged:
        return Decision(move, Hold(
            Reason.MIGRATION_NEEDS_MANAGED_DISKS,
            f"VM {vm.name} has unmanaged disks ({', '.join(unmanaged)}); Azure migrates only VMs with managed "
            f"disks to the Enhanced policy ({SOURCE}). Convert the VM to managed disks (az vm "
            "convert), or keep it on its Standard policy. Nothing was changed", retry_in=retry_in))
    shared = [d.name if d.lun is None else f"{d.name} (LUN {d.lun})" for d in disks if d.shared]
    if shared:
        return Decision(move, Hold(
            Reason.MIGRATION_SHARED_DISK_ATTACHED,
            f"VM {vm.name} has shared disks attached ({', '.join(shared)}); Azure asks to detach them, migrate "
            f"to the Enhanced policy, then attach them again to exclude them ({SOURCE}). The migration starts "
            "once they are detached; nothing was changed", retry_in=retry_in))
    if backup_running:
        return Decision(move, Hold(
            Reason.MIGRATION_WAITS_FOR_BACKUP,
            f"a backup job of VM {vm.name} is running; Azure asks that none runs when the migration to the "
            f"Enhanced policy {policy} starts ({SOURCE})", stalls=False, retry_in=retry_in))
    return Decision(move)
