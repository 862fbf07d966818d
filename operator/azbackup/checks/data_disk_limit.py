"""DataDiskLimit: at most 32 data disks are attached."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "DataDiskLimit"
BLOCKS: Final = True
# The support matrix allows 32 data disks (16 before 2019); backups of a VM with more fail with
# UserErrorBCMUnsupportedDiskCount.
MAX_DATA_DISKS: Final = 32


def data_disk_limit(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    if vm.data_disks is None:
        return result.unknown(NAME, f"The data disks of VM {vm.name} are not known yet.")
    count = len(vm.data_disks)
    if count <= MAX_DATA_DISKS:
        disks = "1 data disk" if count == 1 else f"{count} data disks"
        return result.passed(NAME, f"VM {vm.name} has {disks}; up to {MAX_DATA_DISKS} are supported.")
    return result.failed(
        NAME,
        Reason.TOO_MANY_DATA_DISKS,
        f"VM {vm.name} has {count} data disks; Azure Backup supports at most {MAX_DATA_DISKS}. Detach "
        f"{count - MAX_DATA_DISKS} of them (for example by consolidating data onto larger disks).",
    )
