"""SameRegion: the VM and the vault are in one Azure region."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "SameRegion"
BLOCKS: Final = True


def same_region(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    # A vault backs up VMs of its own region only: discovery lists no other VM, and configure
    # protection fails with UserErrorVmVaultLocationMismatch. ARM writes "West Europe" or "westeurope".
    if vm.region is None:
        return result.unknown(NAME, f"The region of VM {vm.name} is not known yet.")
    if facts.normalize_region(vm.region) == facts.normalize_region(ctx.vault_region):
        return result.passed(NAME, f"VM {vm.name} and the vault are both in {vm.region}.")
    return result.failed(
        NAME,
        Reason.REGION_MISMATCH,
        f"VM {vm.name} is in {vm.region} but the vault is in {ctx.vault_region}; a vault backs up VMs of its "
        f"own region only. Use a Recovery Services vault in {vm.region}.",
    )
