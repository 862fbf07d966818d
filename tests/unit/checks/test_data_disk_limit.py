from __future__ import annotations

import pytest
from azbackup.checks import data_disk_limit
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, data_disks, outcome, vm


@pytest.mark.parametrize(
    ("disks", "want"),
    [
        pytest.param(0, (Result.PASSED, Reason.CHECK_PASSED), id="no-data-disks-passes"),
        pytest.param(31, (Result.PASSED, Reason.CHECK_PASSED), id="31-passes"),
        pytest.param(32, (Result.PASSED, Reason.CHECK_PASSED), id="exactly-32-passes"),
        pytest.param(33, (Result.FAILED, Reason.TOO_MANY_DATA_DISKS), id="33-fails-TooManyDataDisks"),
        pytest.param(64, (Result.FAILED, Reason.TOO_MANY_DATA_DISKS), id="64-fails-TooManyDataDisks"),
    ],
)
def test_data_disk_limit(disks: int, want: tuple[Result, Reason]) -> None:
    assert outcome(data_disk_limit.data_disk_limit(vm(data_disks=data_disks(disks)), CTX)) == want


def test_unknown_data_disks_are_unknown() -> None:
    assert outcome(data_disk_limit.data_disk_limit(vm(data_disks=None), CTX)) == (
        Result.UNKNOWN,
        Reason.FACT_UNAVAILABLE,
    )


def test_too_many_names_the_count_and_the_excess() -> None:
    assert data_disk_limit.data_disk_limit(vm(data_disks=data_disks(33)), CTX) == CheckResult(
        "DataDiskLimit",
        Result.FAILED,
        Reason.TOO_MANY_DATA_DISKS,
        "VM vm-app has 33 data disks; Azure Backup supports at most 32. Detach 1 of them (for example by "
        "consolidating data onto larger disks).",
    )
