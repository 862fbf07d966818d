"""NoWriteAccelerator: Write Accelerator disks are backed up only when the VM has outbound internet access."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, network_path, nsg, result

NAME: Final = "NoWriteAccelerator"
BLOCKS: Final = True

# The 2018 guide: VMs with Write Accelerator disks cannot be backed up (UserErrorWAEnabledDisksNotSupported).
# Support matrix today: backup of such VMs "became available in all Azure public regions on May 18, 2022",
# and "virtual machines with write accelerator disks need internet connectivity for a successful backup,
# even though those disks are excluded from the backup".
_CHANGED: Final = "The 2018 guide called such VMs unsupported; since 18 May 2022 Azure backs them up"


def no_write_accelerator(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    disks = vm.disks
    if disks is None:
        return result.unknown(NAME, f"The disks of VM {vm.name} are not known yet.")
    accelerated = [disk for disk in disks if disk.write_accelerator]
    if not accelerated:
        if any(disk.write_accelerator is None for disk in disks):
            return result.unknown(NAME, f"Whether the disks of VM {vm.name} use Write Accelerator is not known yet.")
        return result.passed(NAME, f"No disk of VM {vm.name} has Write Accelerator enabled.")
    names = ", ".join(disk.name if disk.lun is None else f"{disk.name} (LUN {disk.lun})" for disk in accelerated)
    head = f"VM {vm.name} has Write Accelerator enabled on {names}. {_CHANGED}"
    reachable, how = internet_access(vm, ctx)
    if reachable is None:
        return result.unknown(NAME, f"{head} when the VM has outbound internet access, which is not known: {how}")
    if reachable:
        return result.warning(
            NAME,
            Reason.WRITE_ACCELERATOR_ENABLED,
            f"{head}, provided the VM keeps outbound internet access ({how}), even if these disks are excluded.",
        )
    return result.failed(
        NAME,
        Reason.WRITE_ACCELERATOR_ENABLED,
        f"{head} only when the VM has outbound internet access, even if these disks are excluded, and it has "
        f"none. Fix: allow outbound HTTPS (TCP 443) from the VM to the Internet. {how} Or disable Write "
        "Accelerator on these disks.",
    )


def internet_access(vm: facts.VMFacts, ctx: facts.CheckContext) -> tuple[bool | None, str]:
    """Whether the VM can open TCP 443 to the internet at large, and how we know."""
    if ctx.http_proxy:
        return True, "through the declared httpProxy"
    nic = vm.primary_nic
    if nic is None or nic.security_groups is None:
        return None, "the primary NIC or its NSGs have not been read."
    target = nsg.to_internet(network_path.PORT, nic)
    decision = nsg.evaluate_path(nic.security_groups, target)
    if decision.verdict is nsg.Verdict.ALLOWED:
        return True, "its NSGs allow TCP 443 to the Internet"
    if decision.verdict is nsg.Verdict.DENIED and decision.nsg and decision.rule:
        return False, network_path.denied(target, decision.nsg, decision.rule)
    return None, network_path.undetermined(vm, target, decision)
