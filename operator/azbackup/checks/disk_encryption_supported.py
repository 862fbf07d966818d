"""DiskEncryptionSupported: the VM's Azure Disk Encryption is a kind Azure Backup can back up."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result, versions

NAME: Final = "DiskEncryptionSupported"
BLOCKS: Final = True
# "Backup of encrypted disks greater than 4 TB in size isn't currently supported" (UserErrorUnsupportedDiskSize).
MAX_ENCRYPTED_DISK_GB: Final = 4096

# The 2018 guide says Linux VMs encrypted with LUKS cannot be backed up. Today Azure Disk Encryption
# (ADE) encrypts Linux disks with dm-crypt/LUKS through the AzureDiskEncryptionForLinux extension, and
# the support matrix says "Azure VMs enabled with Azure Disk Encryption can be backed up (with or
# without the Microsoft Entra app)". So ADE, Linux or Windows, is supported, within the limits checked
# here (backup-azure-vms-encryption, backup-azure-encrypted-vm-troubleshoot). LUKS set up inside the
# guest without ADE is invisible to ARM (the disks look unencrypted) and Azure documents nothing about
# it, so this check cannot and does not judge it. Server-side encryption (platform or customer keys)
# is not ADE and always supported.


def disk_encryption_supported(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    disks = vm.disks
    if disks is None or any(disk.ade_encrypted is None for disk in disks):
        return result.unknown(NAME, f"Whether the disks of VM {vm.name} use Azure Disk Encryption is not known yet.")
    encrypted = [disk for disk in disks if disk.ade_encrypted]
    if not encrypted:
        return result.passed(NAME, f"VM {vm.name} does not use Azure Disk Encryption.")
    causes = [
        f"disk {disk.name} is {disk.size_gb} GB, and encrypted disks over 4 TB ({MAX_ENCRYPTED_DISK_GB} GB) "
        "cannot be backed up: split its data onto smaller disks"
        for disk in encrypted
        if disk.size_gb is not None and disk.size_gb > MAX_ENCRYPTED_DISK_GB
    ]
    missing = [f"the size of disk {disk.name}" for disk in encrypted if disk.size_gb is None]
    data_luns = tuple(disk.lun for disk in disks if disk.lun is not None)
    excluded = ctx.disk_selection.excluded(data_luns)
    if excluded and ctx.policy_type is facts.PolicyType.STANDARD:
        causes.append(
            f"the disk selection excludes LUN {', '.join(map(str, excluded))}, and a Standard policy cannot "
            "exclude disks of an encrypted VM (UserErrorEncryptedVmNotSupportedWithDiskEx): back up all "
            "disks, or use an Enhanced policy"
        )
    elif excluded and ctx.policy_type is None:
        missing.append("the policy type (disk exclusion on an encrypted VM needs an Enhanced policy)")
    flavours = {disk.ade_flavour for disk in encrypted if disk.ade_flavour is not None}
    flavours |= {f for f in map(_extension_flavour, vm.extensions or ()) if f is not None}
    if len(flavours) > 1:
        causes.append(
            "its encryption settings mix ADE with and without the Microsoft Entra (AAD) app, which Backup "
            "rejects as invalid encryption information (UserErrorInvalidVMEncryptionInfo): keep the schema "
            "the VM was first encrypted with"
        )
    if causes:
        return result.failed(
            NAME,
            Reason.DISK_ENCRYPTION_UNSUPPORTED,
            f"VM {vm.name} uses Azure Disk Encryption, which Azure Backup supports, but {'; and '.join(causes)}.",
        )
    if missing:
        return result.unknown(NAME, f"VM {vm.name} uses Azure Disk Encryption; not known yet: {', '.join(missing)}.")
    flavour = " and ".join(sorted(flavours)) or "schema unknown"
    return result.passed(
        NAME,
        f"VM {vm.name} uses Azure Disk Encryption ({flavour}), which Azure Backup supports (the 2018 guide's "
        "'LUKS-encrypted Linux unsupported' does not apply to ADE). Give the Backup Management Service "
        "get, list and backup access to the Key Vault keys and secrets. ADE retires in September 2028.",
    )


def _extension_flavour(extension: facts.Extension) -> facts.AdeFlavour | None:
    """The ADE schema an extension version implies: Windows 1.x / Linux 0.x need the AAD app."""
    if extension.publisher.lower() != "microsoft.azure.security":
        return None
    version = versions.parse(extension.version)
    kind = extension.type.lower()
    if version is None or kind not in ("azurediskencryption", "azurediskencryptionforlinux"):
        return None
    first_without_aad = 2 if kind == "azurediskencryption" else 1
    return facts.AdeFlavour.WITHOUT_AAD_APP if version[0] >= first_without_aad else facts.AdeFlavour.WITH_AAD_APP
