"""NoEphemeralOSDisk: the OS disk is a persistent managed disk, not an ephemeral one."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "NoEphemeralOSDisk"
BLOCKS: Final = True
# Newer than the 2018 guide: ephemeral OS disks (osDisk.diffDiskSettings, 2019) live on the host's cache or
# resource disk, and today's IaaS support matrix says they cannot be backed up. The OS disk cannot be
# excluded, so no policy or disk selection helps.


def no_ephemeral_os_disk(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    disk = vm.os_disk
    if disk is None or disk.ephemeral is None:
        return result.unknown(NAME, f"Whether the OS disk of VM {vm.name} is ephemeral is not known yet.")
    if not disk.ephemeral:
        return result.passed(NAME, f"The OS disk of VM {vm.name} is persistent.")
    return result.failed(
        NAME,
        Reason.EPHEMERAL_OS_DISK,
        f"VM {vm.name} runs on an ephemeral OS disk ({disk.name}), which Azure added after the 2018 guide and "
        "Azure Backup cannot back up. Keep its state on data disks and rebuild it from its image, or recreate "
        "the VM with a managed OS disk to protect it.",
    )
