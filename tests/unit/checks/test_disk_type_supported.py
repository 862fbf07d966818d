from __future__ import annotations

import pytest
from azbackup.checks import disk_type_supported
from azbackup.checks.facts import CheckContext, DiskSelection, PolicyType, VMFacts
from azbackup.checks.result import Result
from azbackup.reasons import Reason

from .builders import CTX, ctx, disk, outcome, vm

ULTRA = (disk("vm-app-data0", 0), disk("vm-app-ultra", 1, sku="UltraSSD_LRS"))
PV2 = (disk("vm-app-pv2", 0, sku="PremiumV2_LRS"),)
PASSED = (Result.PASSED, Reason.CHECK_PASSED)
FAILS = (Result.FAILED, Reason.DISK_NEEDS_ENHANCED_POLICY)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)
ENHANCED = ctx(policy_type=PolicyType.ENHANCED)


@pytest.mark.parametrize(
    ("subject", "context", "want"),
    [
        pytest.param(vm(), CTX, PASSED, id="premium-ssd-data-disks-pass-with-standard"),
        pytest.param(vm(data_disks=ULTRA), CTX, FAILS, id="ultra-disk-with-standard-fails-DiskNeedsEnhancedPolicy"),
        pytest.param(vm(data_disks=PV2), CTX, FAILS, id="premium-ssd-v2-with-standard-fails"),
        pytest.param(vm(data_disks=ULTRA), ENHANCED, PASSED, id="ultra-disk-with-enhanced-passes"),
        pytest.param(vm(data_disks=ULTRA), ctx(disk_selection=DiskSelection(exclude_luns=(1,))), PASSED,
                     id="excluding-the-ultra-disk-passes-with-standard"),
        pytest.param(vm(data_disks=ULTRA), ctx(disk_selection=DiskSelection(include_luns=(0,))), PASSED,
                     id="including-only-other-disks-passes-with-standard"),
        pytest.param(vm(data_disks=ULTRA), ctx(disk_selection=DiskSelection(exclude_luns=(0,))), FAILS,
                     id="excluding-another-disk-still-fails"),
        pytest.param(vm(data_disks=ULTRA), ctx(policy_type=None), UNKNOWN, id="unknown-policy-type-is-unknown"),
        pytest.param(vm(data_disks=(disk("d", 0, sku=None),)), CTX, UNKNOWN, id="unknown-disk-type-is-unknown"),
        pytest.param(vm(data_disks=(disk("d", 0, sku=None, managed=False),)), CTX, PASSED,
                     id="unmanaged-disk-is-never-ultra"),
        pytest.param(vm(data_disks=None), CTX, UNKNOWN, id="unread-disks-are-unknown"),
    ],
)
def test_disk_type_supported(subject: VMFacts, context: CheckContext, want: tuple[Result, Reason]) -> None:
    assert outcome(disk_type_supported.disk_type_supported(subject, context)) == want


def test_message_says_what_to_do_and_that_it_is_newer_than_the_guide() -> None:
    message = disk_type_supported.disk_type_supported(vm(data_disks=ULTRA), CTX).message
    assert "vm-app-ultra (LUN 1, Ultra Disk)" in message
    assert "Since the 2018 guide" in message
    assert "Enhanced policy" in message
    assert "exclude LUN 1 (spec.diskSelection.excludeLuns)" in message
