"""VaultCapacity / PolicyCapacity: whether one more VM fits the vault and the policy, before the write.

Azure Backup FAQ: "You can register up to 1000 Azure Virtual machines per vault" (past it, the
configure-protection job fails with UserErrorProtectionQuotaExceeded); the Azure CLI refuses a policy with
1000 protected VMs. The operator counts from the vault's protected-item list it already reads (one paged
list per vault) plus the configure-protection writes it has sent that the list does not show yet, so a
selector matching 1500 VMs sends 1000 writes, not 1500. Pure: the caller counts, this decides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Final

from azbackup.reasons import Reason

MAX_VMS_PER_VAULT: Final = 1000
MAX_ITEMS_PER_POLICY: Final = 1000


@dataclasses.dataclass(frozen=True)
class Item:
    """One protected item of the vault's list: its VM, its policy, and whether it is soft-deleted."""

    vm_id: str
    policy: str | None
    soft_deleted: bool = False


@dataclasses.dataclass(frozen=True)
class Counts:
    vault: int  # VMs registered in the vault (soft-deleted items excluded), pending writes included
    policy: int  # items on the requested policy, pending writes included
    registered: bool  # the VM already holds a place in the vault
    on_policy: bool  # the VM is already on the requested policy


def count(items: Iterable[Item], pending: Mapping[str, str], vm_id: str, policy: str) -> Counts:
    """Counts from the vault's list and the writes sent since (`pending`: VM id -> policy name)."""
    policies: dict[str, str | None] = {i.vm_id.lower(): i.policy for i in items if not i.soft_deleted}
    policies.update({vm.lower(): name for vm, name in pending.items()})
    wanted, vm = policy.lower(), vm_id.lower()
    on_policy = sum(1 for name in policies.values() if (name or "").lower() == wanted)
    return Counts(len(policies), on_policy, vm in policies, (policies.get(vm) or "").lower() == wanted)


@dataclasses.dataclass(frozen=True)
class Refusal:
    reason: Reason
    message: str


def decide(counts: Counts, vault_name: str, policy: str) -> Refusal | None:
    """None when the VM fits; else why the configure-protection write is not sent, and what to do."""
    if not counts.registered and counts.vault >= MAX_VMS_PER_VAULT:
        return Refusal(
            Reason.VAULT_CAPACITY_REACHED,
            f"vault {vault_name} already protects {counts.vault} VMs, Azure's limit is {MAX_VMS_PER_VAULT} per "
            "vault (Azure would fail the write with UserErrorProtectionQuotaExceeded). Protect this VM in another "
            "BackupVault of the same region, or stop protecting a VM here; nothing was sent")
    if not counts.on_policy and counts.policy >= MAX_ITEMS_PER_POLICY:
        return Refusal(
            Reason.POLICY_CAPACITY_REACHED,
            f"policy {policy} of vault {vault_name} already has {counts.policy} VMs, Azure's limit is "
            f"{MAX_ITEMS_PER_POLICY} per policy. Give this ProtectedVM another policyRef (a copy of the policy "
            "works); nothing was sent")
    return None
