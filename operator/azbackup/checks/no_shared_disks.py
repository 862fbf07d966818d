"""NoSharedDisks: no disk in the backup is shared with other VMs (a warning only)."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "NoSharedDisks"
BLOCKS: Final = False


def no_shared_disks(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    # The 2018 guide: Cluster Shared Volumes and Scale-Out File Server are not recommended, and backups
    # have no consistency across VMs. Today's support matrix lists shared disks (maxShares > 1) as not
    # supported, and says they can be excluded with the Enhanced policy to back up the other disks.
    disks = vm.disks
    if disks is None:
        return result.unknown(NAME, f"The disks of VM {vm.name} are not known yet.")
    shared = [disk for disk in disks if disk.shared]
    if not shared:
        if any(disk.shared is None for disk in disks):
            return result.unknown(NAME, f"Whether the disks of VM {vm.name} are shared (maxShares) is not known yet.")
        return result.passed(NAME, f"No disk of VM {vm.name} is shared.")
    luns = tuple(disk.lun for disk in shared if disk.lun is not None)
    excluded = set(ctx.disk_selection.excluded(luns))
    if len(excluded) == len(shared) and ctx.policy_type is facts.PolicyType.ENHANCED:
        return result.passed(NAME, f"The shared disks of VM {vm.name} (LUN {_luns(luns)}) are not backed up.")
    names = ", ".join(disk.name if disk.lun is None else f"{disk.name} (LUN {disk.lun})" for disk in shared)
    return result.warning(
        NAME,
        Reason.SHARED_DISK,
        f"VM {vm.name} has shared disks: {names}. Azure Backup gives no consistency across the VMs sharing "
        "them (Cluster Shared Volumes and Scale-Out File Server may not come up after restore), and today's "
        f"support matrix lists shared disks as unsupported: exclude LUN {_luns(luns)} with an Enhanced policy.",
    )


def _luns(luns: tuple[int, ...]) -> str:
    return ", ".join(str(lun) for lun in luns) or "-"
