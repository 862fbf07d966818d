from __future__ import annotations

import pytest
from azbackup.checks import no_shared_disks
from azbackup.checks.facts import CheckContext, DiskSelection, PolicyType, VMFacts
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, ctx, disk, outcome, vm

SHARED = (disk("vm-app-data0", 0), disk("vm-app-quorum", 1, max_shares=2))
WARNS = (Result.WARNING, Reason.SHARED_DISK)
PASSED = (Result.PASSED, Reason.CHECK_PASSED)
ENHANCED_WITHOUT_LUN_1 = ctx(policy_type=PolicyType.ENHANCED, disk_selection=DiskSelection(exclude_luns=(1,)))


@pytest.mark.parametrize(
    ("subject", "context", "want"),
    [
        pytest.param(vm(), CTX, PASSED, id="no-shared-disk-passes"),
        pytest.param(vm(data_disks=(disk("d", 0, max_shares=1),)), CTX, PASSED, id="maxShares-1-is-not-shared"),
        pytest.param(vm(data_disks=SHARED), CTX, WARNS, id="maxShares-2-warns-SharedDisk"),
        pytest.param(
            vm(data_disks=SHARED), ENHANCED_WITHOUT_LUN_1, PASSED, id="shared-disk-excluded-with-enhanced-passes"
        ),
        pytest.param(
            vm(data_disks=SHARED),
            ctx(disk_selection=DiskSelection(exclude_luns=(1,))),
            WARNS,
            id="exclusion-under-standard-policy-still-warns",
        ),
        pytest.param(
            vm(data_disks=SHARED),
            ctx(policy_type=PolicyType.ENHANCED, disk_selection=DiskSelection(exclude_luns=(0,))),
            WARNS,
            id="excluding-another-disk-still-warns",
        ),
        pytest.param(
            vm(data_disks=(disk("d", 0, max_shares=None),)),
            CTX,
            (Result.UNKNOWN, Reason.FACT_UNAVAILABLE),
            id="unknown-maxShares-is-unknown",
        ),
        pytest.param(vm(os_disk=None), CTX, (Result.UNKNOWN, Reason.FACT_UNAVAILABLE), id="unread-disks-are-unknown"),
    ],
)
def test_no_shared_disks(subject: VMFacts, context: CheckContext, want: tuple[Result, Reason]) -> None:
    assert outcome(no_shared_disks.no_shared_disks(subject, context)) == want


def test_never_blocks() -> None:
    assert no_shared_disks.BLOCKS is False


def test_warning_names_the_disk_and_the_way_out() -> None:
    assert no_shared_disks.no_shared_disks(vm(data_disks=SHARED), CTX) == CheckResult(
        "NoSharedDisks",
        Result.WARNING,
        Reason.SHARED_DISK,
        "VM vm-app has shared disks: vm-app-quorum (LUN 1). Azure Backup gives no consistency across the VMs "
        "sharing them (Cluster Shared Volumes and Scale-Out File Server may not come up after restore), and "
        "today's support matrix lists shared disks as unsupported: exclude LUN 1 with an Enhanced policy.",
    )
