"""NotProtectedElsewhere: no other Recovery Services vault protects the VM."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason
from azbackup.toolkit import ids

from . import facts, result

NAME: Final = "NotProtectedElsewhere"
BLOCKS: Final = True


def not_protected_elsewhere(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    # A VM can be protected by one vault only; the vault's discovery hides VMs another vault holds.
    # ARM ids differ in case ("/Subscriptions/…", "…/Vaults/…"), so compare them case-insensitively.
    protection = vm.protection
    if protection is None:
        return result.unknown(NAME, f"The backup status of VM {vm.name} is not known yet.")
    if protection.vault_id is None:
        if protection.status == "NotProtected":
            return result.passed(NAME, f"No vault protects VM {vm.name}.")
        return result.unknown(NAME, f"VM {vm.name} reports backup status {protection.status} without naming a vault.")
    if protection.vault_id.lower() == ctx.vault_id.lower():
        return result.passed(NAME, f"VM {vm.name} is already protected by this vault.")
    other = ids.name(protection.vault_id)
    return result.failed(
        NAME,
        Reason.ALREADY_PROTECTED_BY_OTHER_VAULT,
        f"VM {vm.name} is already protected by vault {other} ({protection.vault_id}); a VM can be protected "
        f"by one vault only. Stop protection in {other} (retaining or deleting its backup data) before "
        "protecting it here.",
    )
