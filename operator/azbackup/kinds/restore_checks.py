"""The checks a restore passes before anything is sent to Azure (pure; facts gathered by vmrestore.py).

The guide: "replacing an existing VM is not supported", so a new VM's name must be free in the target
resource group. Today's restore doc: the target VNet is in the source VM's region, and the staging
storage account in the vault's region (restore.md §1.3, §1.4). Azure would fail the Restore *job* for
these much later (`UserErrorTargetVmNameAlreadyExists`, `UserErrorVnetVaultLocationMismatch`,
`UserErrorStorageAccountVaultLocationMismatch`); checking first costs reads only.
"""

from __future__ import annotations

from dataclasses import dataclass

from azbackup.reasons import Reason


@dataclass(frozen=True)
class Located:
    """A resource the restore names: whether it exists, and where."""

    exists: bool
    region: str = ""


@dataclass(frozen=True)
class RestoreFacts:
    mode: str  # NewVM | Disks
    source_vm: str
    source_region: str
    vault_region: str
    target_group: str
    target_group_exists: bool
    staging: Located
    vm_name: str | None = None
    target_vm_exists: bool = False
    subnet: Located | None = None  # NewVM only


@dataclass(frozen=True)
class Failure:
    reason: Reason
    message: str


def _same(a: str, b: str) -> bool:
    return a.replace(" ", "").lower() == b.replace(" ", "").lower()


def check(facts: RestoreFacts) -> Failure | None:
    """The first check that fails, or None when the restore may be triggered."""
    if not facts.target_group_exists:
        return Failure(Reason.RESOURCE_GROUP_NOT_FOUND,
                       f"the target resource group {facts.target_group} does not exist; create it first")
    if not facts.staging.exists:
        return Failure(Reason.STAGING_ACCOUNT_REGION_MISMATCH,
                       "the staging storage account does not exist; name one in the vault's region "
                       f"({facts.vault_region})")
    if not _same(facts.staging.region, facts.vault_region):
        return Failure(Reason.STAGING_ACCOUNT_REGION_MISMATCH,
                       f"the staging storage account is in {facts.staging.region}, the vault in "
                       f"{facts.vault_region}: Azure Backup stages a restore only in the vault's region")
    if facts.mode != "NewVM":
        return None
    if facts.target_vm_exists:
        return Failure(Reason.RESTORE_TARGET_EXISTS,
                       f"a VM named {facts.vm_name} already exists in resource group {facts.target_group}; "
                       "a restore never replaces an existing VM (the guide: 'replacing an existing VM is not "
                       "supported'): choose another target.vmName")
    if facts.subnet is None or not facts.subnet.exists:
        return Failure(Reason.SUBNET_REGION_MISMATCH, "the target subnet does not exist")
    if not _same(facts.subnet.region, facts.source_region):
        return Failure(Reason.SUBNET_REGION_MISMATCH,
                       f"the target VNet is in {facts.subnet.region}, the source VM {facts.source_vm} in "
                       f"{facts.source_region}: a restored VM stays in its source's region")
    return None
