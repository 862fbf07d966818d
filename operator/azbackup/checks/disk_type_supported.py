"""DiskTypeSupported: Ultra Disk and Premium SSD v2 data disks are backed up by the Enhanced policy only."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "DiskTypeSupported"
BLOCKS: Final = True
# Newer than the 2018 guide. backup-azure-vms-enhanced-policy (06/2025): "The Standard policy doesn't
# support protecting newer Azure offerings, such as Ultra Disk and Premium SSD v2." Neither can be an OS
# disk (Compute StorageAccountType), so excluding the data disks is always possible.
ENHANCED_ONLY_SKUS: Final = {"UltraSSD_LRS": "Ultra Disk", "PremiumV2_LRS": "Premium SSD v2"}


def disk_type_supported(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    disks = vm.data_disks
    if disks is None:
        return result.unknown(NAME, f"The data disks of VM {vm.name} are not known yet.")
    if any(disk.sku is None and disk.managed is not False for disk in disks):
        return result.unknown(NAME, f"The disk types (storageAccountType) of VM {vm.name} are not known yet.")
    newer = [disk for disk in disks if disk.sku in ENHANCED_ONLY_SKUS and disk.lun is not None]
    if not newer:
        return result.passed(NAME, f"No data disk of VM {vm.name} is an Ultra Disk or Premium SSD v2.")
    luns = tuple(disk.lun for disk in newer if disk.lun is not None)
    backed_up = [disk for disk in newer if disk.lun not in ctx.disk_selection.excluded(luns)]
    names = ", ".join(f"{disk.name} (LUN {disk.lun}, {ENHANCED_ONLY_SKUS[disk.sku or '']})" for disk in newer)
    if ctx.policy_type is facts.PolicyType.ENHANCED or not backed_up:
        how = "the Enhanced policy backs them up" if backed_up else "the disk selection excludes them"
        return result.passed(NAME, f"VM {vm.name} has {names}; {how}.")
    if ctx.policy_type is None:
        return result.unknown(NAME, f"VM {vm.name} has {names}, which only the Enhanced policy backs up; "
                                    "the policy type is not known yet.")
    wanted = ", ".join(str(disk.lun) for disk in backed_up)
    return result.failed(
        NAME,
        Reason.DISK_NEEDS_ENHANCED_POLICY,
        f"VM {vm.name} has {names}. Since the 2018 guide Azure added these disk types, and the Standard policy "
        f"cannot back them up: use an Enhanced policy, or exclude LUN {wanted} "
        "(spec.diskSelection.excludeLuns) to back up the other disks with this policy.",
    )
