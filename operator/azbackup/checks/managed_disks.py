"""ManagedDisks: the VM's disks are managed disks (a warning: Azure retired unmanaged disks)."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "ManagedDisks"
# Azure retired unmanaged disks (learn.microsoft.com/azure/virtual-machines/unmanaged-disks-deprecation): it no
# longer starts VMs that use them and deallocated those still running. Backup does not refuse them: the support
# matrix (backup-support-matrix-iaas) still backs up an offline VM (crash-consistent only) and unmanaged VMs
# up to 16 disks, and "Back up disks after migrating to managed disks: backup will continue to work, no action
# is required". Protecting such a VM now keeps its data and survives the conversion, so this warns and does
# not block. StorageAccountAccess judges the storage accounts' firewalls on its own.
BLOCKS: Final = False


def managed_disks(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    disks = vm.disks
    if disks is None or any(disk.managed is None for disk in disks):
        return result.unknown(NAME, f"Whether the disks of VM {vm.name} are managed is not known yet.")
    unmanaged = [disk.name for disk in disks if not disk.managed]
    if not unmanaged:
        return result.passed(NAME, f"VM {vm.name} has managed disks only.")
    return result.warning(
        NAME,
        Reason.UNMANAGED_DISKS_RETIRED,
        f"VM {vm.name} has unmanaged disks ({', '.join(unmanaged)}), which Azure has retired: it no longer "
        "starts such a VM and has deallocated it, so its backups are crash-consistent only. Existing recovery "
        "points stay restorable for their retention (restore them as managed disks), and protection continues "
        f"unchanged after conversion. Convert it: az vm deallocate -g {vm.resource_group} -n {vm.name}; "
        f"az vm convert -g {vm.resource_group} -n {vm.name}.",
    )
