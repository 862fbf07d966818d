"""VM agent version numbers: parsing, and the minimums Azure documents."""

from __future__ import annotations

from typing import Final

from . import facts

Version = tuple[int, ...]

# The guide "Prepare your environment to back up Resource Manager-deployed VMs": the Windows agent's
# Product Version "should be 2.6.1198.718 or higher". Below it Azure Backup cannot use the agent.
WINDOWS_BACKUP_MINIMUM: Final[Version] = (2, 6, 1198, 718)
# Microsoft KB 4049215 "Minimum version support for virtual machine agents in Azure": extensions are
# supported from Windows agent 2.7.41491.1010 and Linux agent 2.2.53.1 (the goal-state version that
# instanceView.vmAgent.vmAgentVersion reports). The 2018 guide names no Linux minimum; Azure Backup
# fails old Linux agents with UserErrorGuestAgentVersionUnsupported, so 2.2.53.1 is the Linux floor.
WINDOWS_SUPPORTED_MINIMUM: Final[Version] = (2, 7, 41491, 1010)
LINUX_SUPPORTED_MINIMUM: Final[Version] = (2, 2, 53, 1)


def parse(text: str | None) -> Version | None:
    """ "2.7.41491.949" -> (2, 7, 41491, 949); None for "Unknown", empty or malformed strings."""
    if not text:
        return None
    parts = text.strip().split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def at_least(version: Version, minimum: Version) -> bool:
    """Compare part by part as numbers; missing trailing parts count as 0 (2.2.53 == 2.2.53.0)."""
    width = max(len(version), len(minimum))
    return version + (0,) * (width - len(version)) >= minimum + (0,) * (width - len(minimum))


def show(version: Version) -> str:
    return ".".join(str(part) for part in version)


def supported_minimum(os_type: facts.OSType) -> Version:
    return WINDOWS_SUPPORTED_MINIMUM if os_type is facts.OSType.WINDOWS else LINUX_SUPPORTED_MINIMUM


def agent_supported(vm: facts.VMFacts) -> bool | None:
    """Whether the agent is at least Azure's supported minimum for extensions; None when not known."""
    version = parse(vm.agent.version)
    if version is None or vm.os.type is None:
        return None
    return at_least(version, supported_minimum(vm.os.type))
