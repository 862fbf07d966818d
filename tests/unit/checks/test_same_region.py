from __future__ import annotations

import pytest
from azbackup.checks import same_region
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import ctx, outcome, vm

PASSED = (Result.PASSED, Reason.CHECK_PASSED)


@pytest.mark.parametrize(
    ("vm_region", "vault_region", "want"),
    [
        pytest.param("westeurope", "westeurope", PASSED, id="same-region-passes"),
        pytest.param("West Europe", "westeurope", PASSED, id="display-name-equals-canonical-name"),
        pytest.param("westeurope", "West Europe", PASSED, id="canonical-name-equals-display-name"),
        pytest.param("WestEurope", "westeurope", PASSED, id="case-is-ignored"),
        pytest.param(
            "northeurope", "westeurope", (Result.FAILED, Reason.REGION_MISMATCH), id="other-region-fails-RegionMismatch"
        ),
        pytest.param("westeurope2", "westeurope", (Result.FAILED, Reason.REGION_MISMATCH), id="prefix-is-not-a-match"),
        pytest.param(None, "westeurope", (Result.UNKNOWN, Reason.FACT_UNAVAILABLE), id="unknown-vm-region-is-unknown"),
    ],
)
def test_same_region(vm_region: str | None, vault_region: str, want: tuple[Result, Reason]) -> None:
    assert outcome(same_region.same_region(vm(region=vm_region), ctx(vault_region=vault_region))) == want


def test_region_mismatch_names_both_regions_and_the_fix() -> None:
    got = same_region.same_region(vm(region="North Europe"), ctx(vault_region="westeurope"))
    assert got == CheckResult(
        "SameRegion",
        Result.FAILED,
        Reason.REGION_MISMATCH,
        "VM vm-app is in North Europe but the vault is in westeurope; a vault backs up VMs of its own region "
        "only. Use a Recovery Services vault in North Europe.",
    )
