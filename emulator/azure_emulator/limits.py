"""The backup service's limits on a vault: VMs per vault, items per policy, policy writes per day.

Pure: the callers count (the vault's items, its policy-write times) and these functions decide.
Sources: Azure Backup FAQ ("You can register up to 1000 Azure Virtual machines per vault"; "adding new
backup policies or editing current policies through Azure Resource Manager (ARM) templates or Azure
Automation clients such as PowerShell, CLI is limited to 50 over a span of 24 hours"); the Azure CLI
refuses a policy with 1000 protected VMs ("Cannot configure backup for more than 1000 VMs per policy").
"""

from __future__ import annotations

from collections.abc import Sequence

from azure_emulator.errors import ArmError
from azure_emulator.lro import Failure

MAX_VMS_PER_VAULT = 1000
MAX_ITEMS_PER_POLICY = 1000
POLICY_WRITES_PER_DAY = 50
DAY = 86400.0


def vault_quota(protected: int) -> Failure | None:
    """The configure-protection job's failure when the vault already holds its 1000 VMs (reference §8.2)."""
    if protected < MAX_VMS_PER_VAULT:
        return None
    return Failure(
        "UserErrorProtectionQuotaExceeded",
        "VM protection quota has exceeded for this vault",
        "Vault protection quota exceeded",
        (f"A vault protects at most {MAX_VMS_PER_VAULT} Azure VMs; protect this VM in another vault.",),
    )


def policy_quota(protected: int) -> Failure | None:
    """The configure-protection job's failure when the policy already has 1000 items."""
    if protected < MAX_ITEMS_PER_POLICY:
        return None
    return Failure(
        "UserErrorPolicyProtectionQuotaExceeded",  # emulator choice: Azure's server-side code is unverified
        f"Cannot configure backup for more than {MAX_ITEMS_PER_POLICY} VMs per policy",
        "Policy protection quota exceeded",
        ("Assign this VM to another policy.",),
    )


def recent_writes(times: Sequence[float], now: float) -> list[float]:
    """The policy writes of the last 24 hours (a sliding window)."""
    return [t for t in times if now - t < DAY]


def policy_write_refusal(times: Sequence[float], now: float) -> ArmError | None:
    """The synchronous refusal of a policy create/edit beyond 50 in 24 hours, or None when it may go ahead."""
    recent = recent_writes(times, now)
    if len(recent) < POLICY_WRITES_PER_DAY:
        return None
    retry_in = int(min(recent) + DAY - now) + 1
    return ArmError(
        400,
        "UserErrorPolicyOperationQuotaExceeded",  # emulator choice: Azure's code is unverified
        f"Creating or editing backup policies through the API is limited to {POLICY_WRITES_PER_DAY} in 24 hours "
        f"for this vault; retry in {retry_in} seconds.",
    )
