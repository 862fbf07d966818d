"""NoDataAccessAuthDisks: no disk in the backup requires data-access authentication (Entra ID)."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "NoDataAccessAuthDisks"
BLOCKS: Final = True
# Newer than the 2018 guide. backup-azure-vms-enhanced-policy (06/2025): "Backups for VMs fail for disks
# enabled with data access authentication" (a disk's dataAccessAuthMode AzureActiveDirectory). A data disk
# left out of the backup is not read, so excluding it is a way out; the OS disk cannot be excluded.


def no_data_access_auth_disks(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    disks = vm.disks
    if disks is None:
        return result.unknown(NAME, f"The disks of VM {vm.name} are not known yet.")
    flagged = [disk for disk in disks if disk.data_access_auth]
    if not flagged:
        if any(disk.data_access_auth is None for disk in disks):
            return result.unknown(NAME, f"The dataAccessAuthMode of the disks of VM {vm.name} is not known yet.")
        return result.passed(NAME, f"No disk of VM {vm.name} requires data-access authentication.")
    data_luns = tuple(disk.lun for disk in flagged if disk.lun is not None)
    excluded = set(ctx.disk_selection.excluded(data_luns))
    backed_up = [disk for disk in flagged if disk.lun is None or disk.lun not in excluded]
    if not backed_up:
        return result.passed(NAME, f"The disks of VM {vm.name} with data-access authentication (LUN "
                                   f"{', '.join(map(str, data_luns))}) are excluded from the backup.")
    names = ", ".join(disk.name if disk.lun is None else f"{disk.name} (LUN {disk.lun})" for disk in backed_up)
    # The cheapest fix first: a data disk can be left out; the OS disk's setting must change.
    turn_off = "set dataAccessAuthMode to None on the disk resource"
    luns = [str(disk.lun) for disk in backed_up if disk.lun is not None]
    fix = f"exclude LUN {', '.join(luns)} (spec.diskSelection.excludeLuns), or {turn_off}" \
        if len(luns) == len(backed_up) else turn_off
    return result.failed(
        NAME,
        Reason.DISK_DATA_ACCESS_AUTH,
        f"VM {vm.name} has disks that require data-access authentication (Entra ID): {names}. Azure added this "
        f"after the 2018 guide, and backups of such disks fail: {fix}.",
    )
