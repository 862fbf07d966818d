"""ApplicationConsistent: the VM runs, so backups can be application-consistent (a warning only)."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "ApplicationConsistent"
BLOCKS: Final = False


def application_consistent(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    # Azure backs up a VM that is shut down too, but without the guest's help the snapshot is
    # crash-consistent only (support matrix: "Back up a VM that's shut down or offline").
    if vm.power_state is None:
        return result.unknown(NAME, f"The power state of VM {vm.name} is not known yet.")
    if vm.power_state is facts.PowerState.RUNNING:
        return result.passed(NAME, f"VM {vm.name} is running, so backups can be application- or file-consistent.")
    return result.warning(
        NAME,
        Reason.VM_STOPPED,
        f"VM {vm.name} is {vm.power_state}: while it is not running its backups are crash-consistent only. "
        "Start the VM before the backup window for application-consistent recovery points.",
    )
