"""ManagedDisks: the VM's disks are managed disks (a warning: backup of unmanaged disks is deprecated)."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "ManagedDisks"
BLOCKS: Final = False
# Since the 2018 guide Azure deprecated the backup of VMs with unmanaged disks (support matrix); they are
# still backed up. StorageAccountAccess judges their storage accounts' firewalls on its own.


def managed_disks(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    disks = vm.disks
    if disks is None or any(disk.managed is None for disk in disks):
        return result.unknown(NAME, f"Whether the disks of VM {vm.name} are managed is not known yet.")
    unmanaged = [disk.name for disk in disks if not disk.managed]
    if not unmanaged:
        return result.passed(NAME, f"VM {vm.name} has managed disks only.")
    return result.warning(
        NAME,
        Reason.UNMANAGED_DISKS_DEPRECATED,
        f"VM {vm.name} has unmanaged disks ({', '.join(unmanaged)}). Azure deprecated the backup of VMs with "
        "unmanaged disks after the 2018 guide (support matrix); it still works. Convert the VM to managed "
        "disks (ConvertTo-AzVMManagedDisk / az vm convert) to keep it protected.",
    )
