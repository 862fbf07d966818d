"""What Azure Backup decides about a VM: the error code (or None) of configure-protection and backup.

Pure: it takes the facts of one VM (`VmFacts`, built by the emulator from its records) and the
request's context, and returns a `Failure` (its `.code` is the string Azure Backup reports in the
operation status `error.code`) or None. The operator's own prerequisite checks are compared with
this module, so every rule names its source. Codes marked "emulator choice" have no verified
Azure counterpart; docs/emulator.md lists them.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from azure_emulator import netrules
from azure_emulator.lro import Failure

MAX_DATA_DISKS = 32  #: DOCS-2025 backup-support-matrix-iaas: 32 data disks
MAX_DISK_GB = 65536  #: 64 TB per disk (DOCS-2025 support matrix)
MAX_ENCRYPTED_DISK_GB = 4096  #: encrypted disks over 4 TB are unsupported (backup-azure-vms-encryption)
MIN_WINDOWS_AGENT = (2, 6, 1198, 718)  #: backup-azure-arm-vms-prepare: "2.6.1198.718 or higher"
MIN_LINUX_AGENT = (2, 2, 53, 1)  #: KB 4049215: the oldest Linux agent Azure supports for extensions
#: KB 4049215: the oldest Windows agent Azure supports for extensions. Such agents reach storage through
#: the host; older ones need an outbound path to Azure Storage (today's snapshot-timeout doc).
SUPPORTED_WINDOWS_AGENT = (2, 7, 41491, 1010)


class Agent(StrEnum):
    """The VM agent as the instance view shows it."""

    READY = "Ready"
    NOT_READY = "NotReady"
    NOT_INSTALLED = "NotInstalled"


@dataclass(frozen=True)
class DiskFacts:
    """One disk of a VM (the OS disk has no LUN)."""

    lun: int | None
    size_gb: int
    managed: bool = True
    write_accelerator: bool = False
    shared: bool = False
    encrypted: bool = False
    #: unmanaged disk whose storage account denies by default and does not let trusted services through
    storage_blocks_trusted_services: bool = False
    sku: str = "Premium_LRS"  #: managedDisk.storageAccountType ("" for an unmanaged disk)
    ephemeral: bool = False  #: OS disk with diffDiskSettings (ephemeral OS disk)
    data_access_auth: bool = False  #: the disk resource's dataAccessAuthMode is AzureActiveDirectory


@dataclass(frozen=True)
class VmFacts:
    """Everything Azure Backup looks at, for one VM."""

    vm_id: str
    location: str
    os_type: str = "Linux"
    os_name: str = ""
    os_version: str = ""
    image_publisher: str = ""
    image_offer: str = ""
    agent: Agent = Agent.READY
    agent_version: str = ""
    power_state: str = "running"
    provisioning_state: str = "Succeeded"
    allow_extension_operations: bool = True
    disks: tuple[DiskFacts, ...] = (DiskFacts(None, 30),)
    encryption: str | None = None  #: "ADE" (no Entra app) or "ADE-AAD"
    encryption_switched_from_aad: bool = False
    security_type: str = ""  #: securityProfile.securityType: "", "TrustedLaunch" or "ConfidentialVM"
    #: the NSGs on the primary NIC's path (NIC, then subnet); None where no NSG is attached
    outbound_layers: tuple[tuple[netrules.Rule, ...] | None, ...] = ()
    http_proxy: str | None = None
    exists: bool = True

    @property
    def running(self) -> bool:
        return self.power_state.lower() == "running"

    @property
    def data_disks(self) -> tuple[DiskFacts, ...]:
        return tuple(d for d in self.disks if d.lun is not None)


class Change(StrEnum):
    """What a configure-protection request does to the item."""

    ENABLE = "Enable"  #: first protection of the VM in this vault
    RESUME = "Resume"  #: protection stopped or suspended, now resumed
    MODIFY = "Modify"  #: policy or disk exclusion change of an item already protected
    MIGRATE = "Migrate"  #: a Standard (V1) item moved to an Enhanced (V2) policy (Azure's policy migration)


@dataclass(frozen=True)
class ProtectionRequest:
    """The context of a configure-protection request."""

    vault_location: str
    change: Change = Change.ENABLE
    other_vault: str | None = None  #: id of another vault that already protects the VM
    policy_type: str = "V1"  #: V1 (Standard) or V2 (Enhanced)
    excludes_disks: bool = False
    excluded_luns: frozenset[int] = frozenset()  #: the data-disk LUNs the disk selection leaves out


def excluded_luns(vm: VmFacts, exclusion: Mapping[str, Any] | None) -> frozenset[int]:
    """Which of the VM's data-disk LUNs a diskExclusionProperties leaves out of the backup (§3e)."""
    if not exclusion:
        return frozenset()
    listed = {int(lun) for lun in exclusion.get("diskLunList") or ()}
    attached = {d.lun for d in vm.data_disks if d.lun is not None}
    return frozenset(attached - listed if exclusion.get("isInclusionList") else attached & listed)


def _f(code: str, message: str, title: str = "", *recommendations: str) -> Failure:
    return Failure(code, message, title or message, tuple(recommendations))


def _version(text: str) -> tuple[int, ...] | None:
    parts = re.findall(r"\d+", text)
    return tuple(int(p) for p in parts) if parts else None


def unsupported_os(vm: VmFacts) -> bool:
    """CoreOS; Windows Server older than 2008 (NT 6.0); Windows client older than Windows 10.

    Today's IaaS support matrix, which is wider than the 2018 guide for servers (Windows Server 2008
    64-bit is listed) and narrower for clients (Windows 7, 8 and 8.1 are gone)."""
    text = " ".join((vm.os_name, vm.image_publisher, vm.image_offer)).lower()
    if "coreos" in text:
        return True
    if vm.os_type.lower() != "windows":
        return False
    name = vm.os_name.lower()
    if name and "server" not in name:
        return not any(client in name for client in ("windows 10", "windows 11"))
    nt = re.search(r"(\d+)\.(\d+)", vm.os_version)
    if nt:
        return (int(nt.group(1)), int(nt.group(2))) < (6, 0)
    return any(old in name for old in ("2003", "2000", "nt 4"))


def _agent_failure(vm: VmFacts) -> Failure | None:
    """Only a running VM's agent is asked; a stopped VM is backed up crash-consistent without it."""
    if not vm.running:
        return None
    if vm.agent is not Agent.READY or not vm.allow_extension_operations:
        return _f(
            "UserErrorGuestAgentStatusUnavailable",
            "VM Agent unable to communicate with Azure Backup",
            "VM agent unavailable",
            "Ensure the VM agent is installed, running and up to date, and that extension operations are allowed.",
        )
    version = _version(vm.agent_version)
    if vm.os_type.lower() == "windows":
        if version is not None and version < MIN_WINDOWS_AGENT:
            return _f(
                "UserErrorGuestAgentStatusUnavailable",
                "VM Agent unable to communicate with Azure Backup: the VM agent is outdated "
                f"(version {vm.agent_version}; 2.6.1198.718 or later is required)",
                "VM agent outdated",
                "Update the Windows VM agent.",
            )
    elif version is not None and version < MIN_LINUX_AGENT:
        return _f(
            "UserErrorGuestAgentVersionUnsupported",
            f"The Guest Agent version {vm.agent_version} on the VM is not supported by Azure Backup",
            "Unsupported VM agent version",
            "Update the Linux VM agent (waagent).",
        )
    return None


def needs_storage_path(vm: VmFacts) -> bool:
    """Only agents older than Azure's supported minimum need their own path to Azure Storage."""
    version = _version(vm.agent_version)
    if version is None:
        return True
    minimum = SUPPORTED_WINDOWS_AGENT if vm.os_type.lower() == "windows" else MIN_LINUX_AGENT
    return version < minimum


def has_path_to(vm: VmFacts, target: netrules.Target) -> bool:
    """A declared HTTP proxy or NSGs that let TCP 443 out to the target."""
    if vm.http_proxy:
        return True
    return netrules.outbound_allowed(vm.outbound_layers, target, vm.location)


def _encryption_failure(vm: VmFacts, excludes_disks: bool, policy_type: str) -> Failure | None:
    if vm.encryption and vm.encryption_switched_from_aad:
        return _f(
            "UserErrorInvalidVMEncryptionInfo",
            "Invalid Encryption information supplied for VM",
            "Invalid encryption information",
        )
    if any(d.size_gb > MAX_DISK_GB or (d.encrypted and d.size_gb > MAX_ENCRYPTED_DISK_GB) for d in vm.disks):
        return _f(
            "UserErrorUnsupportedDiskSize",
            "The configured disk size(s) is currently not supported by Azure Backup.",
            "Unsupported disk size",
        )
    if vm.encryption and excludes_disks and policy_type.upper() != "V2":
        return _f(
            "UserErrorEncryptedVmNotSupportedWithDiskEx",
            "Disk exclusion is not supported for encrypted virtual machines.",
            "Disk exclusion not supported",
        )
    return None


def _disk_count_failure(vm: VmFacts) -> Failure | None:
    if len(vm.data_disks) > MAX_DATA_DISKS:
        return _f(
            "UserErrorBCMUnsupportedDiskCount",
            "Number of data disks attached to the virtual machine exceeded the supported limit.",
            "Too many data disks",
        )
    return None


def _write_accelerator_failure(vm: VmFacts) -> Failure | None:
    # Supported since May 2022, but such VMs need outbound Internet (DOCS-2025 support matrix).
    if any(d.write_accelerator for d in vm.disks) and not has_path_to(vm, netrules.Target.INTERNET):
        return _f(
            "UserErrorWAEnabledDisksNotSupported",
            "Your VM has a Write Accelerator enabled disk and no outbound Internet connectivity, "
            "which Azure Backup needs for such disks.",
            "Write Accelerator disk without Internet connectivity",
        )
    return None


#: Disk SKUs the Standard policy cannot protect (backup-azure-vms-enhanced-policy, 06/2025).
ENHANCED_ONLY_SKUS = ("UltraSSD_LRS", "PremiumV2_LRS")


def _ephemeral_failure(vm: VmFacts) -> Failure | None:
    # Support matrix: ephemeral OS disks are not supported; the OS disk cannot be excluded.
    if any(d.ephemeral for d in vm.disks):
        return _f(
            "UserErrorEphemeralOSDiskNotSupported",  # emulator choice
            "Azure Backup does not support virtual machines with an ephemeral OS disk.",
            "Ephemeral OS disk not supported",
        )
    return None


def _policy_type_failure(vm: VmFacts, policy_type: str, excluded: frozenset[int]) -> Failure | None:
    """What only the Enhanced (V2) policy can protect: Confidential VMs, Ultra Disk and Premium SSD v2.

    Trusted Launch VMs pass with both: the Standard policy protects them from REST api-version 2025-01-01,
    older than every version the SDKs send (backup-azure-vms-enhanced-policy)."""
    if policy_type.upper() == "V2":
        return None
    if vm.security_type == "ConfidentialVM":
        return _f(
            "UserErrorConfidentialVMNotSupportedWithStandardPolicy",  # emulator choice
            "Confidential virtual machines can be protected with the Enhanced policy only.",
            "Confidential VM needs the Enhanced policy",
        )
    newer = [d for d in vm.data_disks if d.sku in ENHANCED_ONLY_SKUS and d.lun not in excluded]
    if newer:
        return _f(
            "UserErrorUnsupportedDiskTypeForStandardPolicy",  # emulator choice
            "The Standard policy does not support Ultra Disk and Premium SSD v2 disks (LUN "
            + ", ".join(str(d.lun) for d in newer)
            + "); use the Enhanced policy or exclude these disks.",
            "Disk type needs the Enhanced policy",
        )
    return None


def _data_access_failure(vm: VmFacts, excluded: frozenset[int]) -> Failure | None:
    # Enhanced-policy page: "Backups for VMs fail for disks enabled with data access authentication".
    # Excluded data disks are not snapshotted, so they do not count (emulator choice).
    if any(d.data_access_auth and (d.lun is None or d.lun not in excluded) for d in vm.disks):
        return _f(
            "UserErrorDiskDataAccessAuthModeNotSupported",  # emulator choice
            "Backup failed: a disk of the virtual machine has data access authentication "
            "(dataAccessAuthMode AzureActiveDirectory) enabled.",
            "Disk with data access authentication",
        )
    return None


def _common(vm: VmFacts) -> Failure | None:
    if not vm.exists:
        return _f("BCMV2VMNotFound", "The virtual machine doesn't exist")
    if vm.provisioning_state.lower() == "failed":
        return _f("UserErrorVmProvisioningStateFailed", "The VM is in failed provisioning state")
    return None


def configure_protection(vm: VmFacts, request: ProtectionRequest) -> Failure | None:
    """The failure of a configure-protection (ConfigureBackup) operation, or None when it succeeds."""
    if request.change in (Change.MODIFY, Change.MIGRATE):
        return (
            _common(vm)
            or _encryption_failure(vm, request.excludes_disks, request.policy_type)
            or _policy_type_failure(vm, request.policy_type, request.excluded_luns)
        )
    failure = _common(vm)
    if failure:
        return failure
    if vm.location.lower() != request.vault_location.lower():
        return _f("UserErrorVmVaultLocationMismatch", "Virtual machine and vault are in different region")
    if request.change is Change.ENABLE and request.other_vault:
        # Emulator choice for the PUT path: the pre-validate code, with the text seen on a failed enable.
        return _f(
            "VirtualMachineAlreadyProtected",
            "Virtual machine is already registered\\registering with another recovery services vault "
            "Please select a different virtual machine for registration.",
            "Virtual machine already protected",
        )
    if unsupported_os(vm):
        return _f(
            "UserErrorUnsupportedOperatingSystem",  # emulator choice
            "The operating system of the virtual machine is not supported by Azure Backup.",
            "Unsupported operating system",
        )
    failure = (
        _disk_count_failure(vm)
        or _ephemeral_failure(vm)
        or _policy_type_failure(vm, request.policy_type, request.excluded_luns)
        or _encryption_failure(vm, request.excludes_disks, request.policy_type)
        or _agent_failure(vm)
    )
    if failure:
        return failure
    if vm.running and needs_storage_path(vm) and not has_path_to(vm, netrules.Target.STORAGE):
        return _f(
            "UserErrorVMInternetConnectivityIssue",
            "VM is not able to contact Azure Backup service due to internet connectivity issues",
            "No outbound connectivity",
            "Allow outbound access to AzureBackup or Storage or Azure Active Directory services.",
        )
    return _write_accelerator_failure(vm)


def policy_change_refusal(vm: VmFacts, old_type: str, new_type: str, *, backup_running: bool) -> Failure | None:
    """Why Azure refuses, at once, to move a protected item from a policy of `old_type` to one of `new_type`.

    backup-azure-vm-migrate-enhanced-policy (04/2026): no going back to Standard once Enhanced; Standard to
    Enhanced for managed VMs only, with no backup job running, and a shared disk detached first. The codes
    and the synchronous answer are emulator choices (docs/emulator.md).
    """
    if old_type == "V2" and new_type == "V1":
        return _f("BMSUserErrorInvalidInput", "Input provided for the call is invalid. An item protected by an "
                  "Enhanced (V2) policy cannot move to a Standard (V1) policy.")
    if not (old_type == "V1" and new_type == "V2"):
        return None
    if any(not d.managed for d in vm.disks):
        return _f("BMSUserErrorInvalidInput", "Input provided for the call is invalid. Migration to the Enhanced "
                  "policy is supported for VMs with managed disks only.")
    if any(d.shared for d in vm.disks):
        return _f("BMSUserErrorInvalidInput", "Input provided for the call is invalid. Detach the shared disks "
                  "of the VM before migrating it to the Enhanced policy, then attach them again.")
    if backup_running:
        return _f("UserErrorBackupOperationInProgress",
                  "Unable to change the policy as a backup operation is currently in progress")
    return None


def backup(
    vm: VmFacts,
    *,
    actively_protected: bool = True,
    excludes_disks: bool = False,
    policy_type: str = "V1",
    excluded: frozenset[int] = frozenset(),
) -> Failure | None:
    """The failure of a backup job, or None when it succeeds (possibly with warnings)."""
    failure = _common(vm)
    if failure:
        return failure
    if not actively_protected:
        return _f(
            "UserErrorBcmDatasourceNotPresent",
            "Backup failed: This virtual machine is not (actively) protected by Azure Backup.",
        )
    failure = (
        _disk_count_failure(vm)
        or _ephemeral_failure(vm)
        or _policy_type_failure(vm, policy_type, excluded)
        or _encryption_failure(vm, excludes_disks, policy_type)
        or _agent_failure(vm)
        or _data_access_failure(vm, excluded)
    )
    if failure:
        return failure
    if vm.running and needs_storage_path(vm) and not has_path_to(vm, netrules.Target.STORAGE):
        return _f(
            "ExtensionSnapshotFailedNoNetwork",
            "Snapshot operation failed due to no network connectivity on the virtual machine",
            "No network connectivity",
        )
    failure = _write_accelerator_failure(vm)
    if failure:
        return failure
    if any(d.storage_blocks_trusted_services for d in vm.disks):
        return _f(
            "UserErrorStorageAccountFirewallBlocksBackup",  # emulator choice
            "The storage account of an unmanaged disk denies access and does not allow trusted "
            "Microsoft services, so Azure Backup cannot read the disk.",
            "Storage account firewall blocks Azure Backup",
            "Allow trusted Microsoft services to access the storage account.",
        )
    return None


def backup_warnings(
    vm: VmFacts, *, policy_type: str = "V1", excluded: frozenset[int] = frozenset()
) -> tuple[Failure, ...]:
    """Warnings of a successful backup: a VM that is not running is backed up crash-consistent only; a
    shared disk in the backup has no consistency across the VMs sharing it."""
    warnings: list[Failure] = []
    if vm.exists and not vm.running:
        warnings.append(
            _f(
                "AzureVmOffline",
                "The virtual machine is not running, so the backup is crash-consistent only.",
                "Crash-consistent backup",
            )
        )
    # Only the Enhanced policy can leave shared disks out (backup-azure-vms-enhanced-policy).
    enhanced = policy_type.upper() == "V2"
    if any(d.shared and not (enhanced and d.lun in excluded) for d in vm.disks):
        warnings.append(
            _f(
                "UserErrorSharedDiskBackedUpWithoutConsistency",  # emulator choice
                "A shared disk was backed up; the backup has no consistency across the VMs sharing it. "
                "Exclude shared disks with the Enhanced policy.",
                "Shared disk backed up",
            )
        )
    return tuple(warnings)


def recovery_point_type(vm: VmFacts) -> str:
    """AppConsistent for a running Windows VM, FileSystemConsistent for Linux, else CrashConsistent."""
    if not vm.running:
        return "CrashConsistent"
    return "AppConsistent" if vm.os_type.lower() == "windows" else "FileSystemConsistent"


#: Numeric job error codes Azure prints beside the string ones; others get a stable synthetic number.
NUMERIC_CODES: dict[str, int] = {"ResourceNotFound": 320001, "BCMV2VMNotFound": 400094, "AzureVmOffline": 380008}


def numeric_code(code: str) -> int:
    return NUMERIC_CODES.get(code, 100000 + zlib.crc32(code.encode()) % 800000)


def all_codes() -> Sequence[str]:
    """Every code this module can return (for documentation and tests)."""
    return (
        "BCMV2VMNotFound",
        "UserErrorVmProvisioningStateFailed",
        "UserErrorVmVaultLocationMismatch",
        "VirtualMachineAlreadyProtected",
        "UserErrorUnsupportedOperatingSystem",
        "UserErrorBCMUnsupportedDiskCount",
        "UserErrorInvalidVMEncryptionInfo",
        "UserErrorUnsupportedDiskSize",
        "UserErrorEncryptedVmNotSupportedWithDiskEx",
        "UserErrorGuestAgentStatusUnavailable",
        "UserErrorGuestAgentVersionUnsupported",
        "UserErrorVMInternetConnectivityIssue",
        "UserErrorWAEnabledDisksNotSupported",
        "UserErrorBcmDatasourceNotPresent",
        "ExtensionSnapshotFailedNoNetwork",
        "UserErrorStorageAccountFirewallBlocksBackup",
        "UserErrorEphemeralOSDiskNotSupported",
        "UserErrorConfidentialVMNotSupportedWithStandardPolicy",
        "UserErrorUnsupportedDiskTypeForStandardPolicy",
        "UserErrorDiskDataAccessAuthModeNotSupported",
    )
