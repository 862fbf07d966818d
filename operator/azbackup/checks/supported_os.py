"""SupportedOS: the guest OS is one Azure Backup supports for agent-based VM backup."""

from __future__ import annotations

import re
from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "SupportedOS"
BLOCKS: Final = True

# Support matrix for Azure VM backups (learn.microsoft.com/azure/backup/backup-support-matrix-iaas, 2025):
# Windows Server 2008 (64-bit), 2008 R2 and every later Server; of client versions only Windows 10
# and 11, 64-bit. The 2018 guide also accepted Windows 7; today's matrix no longer lists it.
_MIN_SERVER_YEAR: Final = 2008
_CLIENTS: Final = {"10": True, "11": True, "7": False, "8": False, "8.1": False, "vista": False, "xp": False}

# Linux: "the Linux distributions endorsed by Azure", except CoreOS (matrix). The endorsed partners
# today (learn.microsoft.com/azure/virtual-machines/linux/endorsed-distros, 2024): AlmaLinux, Canonical
# Ubuntu, Credativ Debian, Kinvolk Flatcar, Oracle Linux, Red Hat, CIQ Rocky, SUSE SLES. Matched on
# instanceView.osName and the image publisher/offer; openSUSE is SUSE's but not endorsed.
_ENDORSED: Final = (
    ("Ubuntu", ("ubuntu", "canonical")),
    ("Debian", ("debian", "credativ")),
    ("Red Hat Enterprise Linux", ("rhel", "redhat", "red hat")),
    ("Oracle Linux", ("oracle",)),
    ("SUSE Linux Enterprise Server", ("sles", "suse")),
    ("AlmaLinux", ("almalinux",)),
    ("Rocky Linux", ("rocky",)),
)


def supported_os(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    if vm.os.type is facts.OSType.WINDOWS:
        return _windows(vm)
    if vm.os.type is facts.OSType.LINUX:
        return _linux(vm)
    return result.unknown(NAME, f"The OS type of VM {vm.name} is not known yet.")


def _windows(vm: facts.VMFacts) -> result.CheckResult:
    label, supported = windows_support(vm.os)
    if supported is None:
        return result.unknown(NAME, f"Cannot tell which Windows version VM {vm.name} runs ({label}).")
    if supported:
        if re.search(r"\b2008\b", label) and not re.search(r"\bR2\b", label, re.IGNORECASE):
            # The 2018 guide listed Windows Server 2008 R2 and later; today's matrix adds 2008 (64-bit).
            return result.passed(NAME, f"VM {vm.name} runs {label}, which Azure Backup supports today: Azure changed "
                                       "since the 2018 guide, which listed Windows Server 2008 R2 and later only.")
        return result.passed(NAME, f"VM {vm.name} runs {label}, which Azure Backup supports.")
    client = "server" not in label.lower()
    changed = " the 2018 guide still listed Windows 7, today's support matrix does not." if client else ""
    return result.failed(
        NAME,
        Reason.UNSUPPORTED_OS,
        f"VM {vm.name} runs {label}. Azure Backup supports Windows Server 2008 (64-bit) and newer, and of "
        f"client versions only Windows 10 and 11 (64-bit);{changed or ' older versions are not.'} Upgrade the OS "
        "to a supported version.",
    )


def windows_support(os: facts.OSInfo) -> tuple[str, bool | None]:
    """A label for messages, and whether the Windows version is supported (None: cannot tell)."""
    image = os.image or facts.ImageReference(None, None, None)
    label = os.name or " ".join(filter(None, (image.offer, image.sku))) or f"kernel {os.version}"
    name = (os.name or "").lower()
    if "windows" in name:
        year = re.search(r"\b(19|20)\d\d\b", name)
        client = re.search(r"windows (\d+(?:\.\d)?|vista|xp)\b", name)
        if "server" in name and year:
            return label, int(year.group()) >= _MIN_SERVER_YEAR
        if "server" not in name and client and client.group(1) in _CLIENTS:
            return label, _CLIENTS[client.group(1)]
    publisher, offer, sku = ((part or "").lower() for part in (image.publisher, image.offer, image.sku))
    if publisher == "microsoftwindowsserver":
        year = re.match(r"(19|20)\d\d", sku)
        # SKUs without a year are semi-annual-channel builds, all newer than Windows Server 2016.
        return label, int(year.group()) >= _MIN_SERVER_YEAR if year else True
    if publisher == "microsoftwindowsdesktop":
        client = re.search(r"win(?:dows)?-?(\d+)", f"{offer} {sku}")
        if client and client.group(1) in _CLIENTS:
            return label, _CLIENTS[client.group(1)]
    kernel = re.match(r"(\d+)\.(\d+)", os.version or "")
    if kernel:
        # 10.x is Windows 10/11 or Server 2016+, all supported; 5.x is XP/2003; 6.x is ambiguous
        # (6.1 is both Windows 7 and Server 2008 R2).
        major = int(kernel.group(1))
        return label, True if major >= 10 else False if major < 6 else None
    return label, None


def _linux(vm: facts.VMFacts) -> result.CheckResult:
    image = vm.os.image or facts.ImageReference(None, None, None)
    seen = " ".join(filter(None, (vm.os.name, image.publisher, image.offer, image.sku)))
    hay = seen.lower()
    if not hay:
        return result.unknown(NAME, f"Neither the instance view nor the image of VM {vm.name} names its distribution.")
    if "flatcar" in hay or "kinvolk" in hay:
        return result.warning(
            NAME,
            Reason.OS_SUPPORT_UNCERTAIN,
            f"VM {vm.name} runs Flatcar Container Linux. It is Azure-endorsed, and the matrix supports endorsed "
            "distributions, but it continues CoreOS, which the matrix excludes, and Azure's Linux extensions "
            "(the backup extension among them) lack the Python they need there (flatcar/Flatcar issue 764). "
            "Expect backups to fail unless a test backup succeeds.",
        )
    if "coreos" in hay:
        return result.failed(
            NAME,
            Reason.UNSUPPORTED_OS,
            f"VM {vm.name} runs CoreOS, which Azure Backup does not support. Move the workload to an "
            "Azure-endorsed Linux distribution.",
        )
    endorsed = None if "opensuse" in hay else next((d for d, words in _ENDORSED if any(w in hay for w in words)), None)
    if endorsed:
        return result.passed(NAME, f"VM {vm.name} runs {endorsed}, an Azure-endorsed distribution.")
    return result.warning(
        NAME,
        Reason.OS_SUPPORT_UNCERTAIN,
        f"VM {vm.name} runs {seen}, not an Azure-endorsed distribution. The support matrix says such "
        "distributions may work when the Azure Linux agent and a supported Python are installed; run a "
        "test backup.",
    )
