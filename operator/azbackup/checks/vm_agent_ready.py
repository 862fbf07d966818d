"""VMAgentReady: the VM agent is installed, reports Ready, may run extensions, and is new enough."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result, versions

NAME: Final = "VMAgentReady"
BLOCKS: Final = True

_INSTALL = {
    facts.OSType.WINDOWS: "install the Windows VM agent (https://go.microsoft.com/fwlink/?LinkID=394789)",
    facts.OSType.LINUX: "install the Azure Linux agent (walinuxagent) from your distribution's repository",
}
_SERVICE = {
    facts.OSType.WINDOWS: "the Windows Azure Guest Agent service",
    facts.OSType.LINUX: "the walinuxagent/waagent service (with Extensions.Enable=y in /etc/waagent.conf)",
}


def vm_agent_ready(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    # Azure Backup snapshots a VM through an extension that the VM agent runs, so configure protection
    # and every backup fail with UserErrorGuestAgentStatusUnavailable when the agent is missing or stuck.
    agent, os_type = vm.agent, vm.os.type
    if vm.power_state not in (None, facts.PowerState.RUNNING) and agent.ready is not True:
        # A VM that is not running has no agent to ask; Azure backs it up crash-consistent without one.
        return result.warning(
            NAME,
            Reason.VM_AGENT_NOT_REPORTING,
            f"VM {vm.name} is {vm.power_state}, so its agent cannot report; it is checked again once the VM "
            "runs. Until then backups are crash-consistent, taken without the agent.",
        )
    if agent.reported is None:
        return result.unknown(NAME, f"The instance view of VM {vm.name} has not been read, so its agent is not known.")
    version = versions.parse(agent.version)
    if not agent.reported or (version is None and agent.ready is not True):
        if agent.provision_vm_agent is False:
            install = _INSTALL.get(os_type, "install the VM agent") if os_type else "install the VM agent"
            return result.failed(
                NAME,
                Reason.VM_AGENT_NOT_INSTALLED,
                f"VM {vm.name} was created without the VM agent (osProfile provisionVMAgent false) and reports "
                f"none: {install}, then set osProfile.allowExtensionOperations to true and update the VM "
                "(or set spec.remediation.allowExtensionOperations and the operator does it). The guide's "
                "ProvisionGuestAgent flag is the classic-VM switch; provisionVMAgent cannot be changed "
                "after a Resource Manager VM is created (Azure answers PropertyChangeNotAllowed).",
            )
        return _not_ready(vm, "reports no working VM agent")
    if agent.ready is None:
        return result.unknown(NAME, f"The VM agent of {vm.name} reports no status yet.")
    if not agent.ready:
        return _not_ready(vm, f"reports its VM agent (version {agent.version}) Not Ready")
    if agent.allow_extension_operations is False:
        return result.failed(
            NAME,
            Reason.EXTENSION_OPERATIONS_DISABLED,
            f"VM {vm.name} has osProfile.allowExtensionOperations false, so Azure Backup cannot install its "
            "snapshot extension: set it to true and update the VM (needed after a manual agent install), or "
            "set spec.remediation.allowExtensionOperations and the operator does it.",
        )
    if os_type is None:
        return result.unknown(NAME, f"The OS type of VM {vm.name} is not known, so its agent version cannot be judged.")
    if version is None:
        return result.unknown(NAME, f"VM {vm.name} reports agent version {agent.version!r}, not a version number.")
    return _version(vm, os_type, version)


def _version(vm: facts.VMFacts, os_type: facts.OSType, version: versions.Version) -> result.CheckResult:
    shown = versions.show(version)
    if os_type is facts.OSType.WINDOWS and not versions.at_least(version, versions.WINDOWS_BACKUP_MINIMUM):
        return result.failed(
            NAME,
            Reason.VM_AGENT_TOO_OLD,
            f"The Windows VM agent of {vm.name} is {shown}; Azure Backup needs "
            f"{versions.show(versions.WINDOWS_BACKUP_MINIMUM)} or higher. Install the latest agent "
            "(https://go.microsoft.com/fwlink/?LinkID=394789).",
        )
    minimum = versions.supported_minimum(os_type)
    if os_type is facts.OSType.LINUX and not versions.at_least(version, minimum):
        return result.failed(
            NAME,
            Reason.VM_AGENT_TOO_OLD,
            f"The Linux VM agent of {vm.name} is {shown}; Azure supports extensions, Backup's included, from "
            f"{versions.show(minimum)} (KB 4049215; the 2018 guide names no Linux minimum). Update walinuxagent "
            "from your distribution's repository and set AutoUpdate.Enabled=y in /etc/waagent.conf.",
        )
    if not versions.at_least(version, minimum):
        return result.warning(
            NAME,
            Reason.VM_AGENT_OUTDATED,
            f"The Windows VM agent of {vm.name} is {shown}: enough for the guide's "
            f"{versions.show(versions.WINDOWS_BACKUP_MINIMUM)}, but Azure supports extensions only from "
            f"{versions.show(minimum)} today (KB 4049215). Install the latest agent.",
        )
    return result.passed(NAME, f"The VM agent of {vm.name} is Ready, version {shown}.")


def _not_ready(vm: facts.VMFacts, what: str) -> result.CheckResult:
    service = _SERVICE.get(vm.os.type, "the VM agent service") if vm.os.type else "the VM agent service"
    return result.failed(
        NAME,
        Reason.VM_AGENT_NOT_READY,
        f"VM {vm.name} {what}: make sure {service} is installed, running and up to date, and that the VM "
        "can reach 168.63.129.16 with DHCP enabled in the guest; then the agent reports Ready.",
    )
