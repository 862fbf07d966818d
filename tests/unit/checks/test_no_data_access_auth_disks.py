from __future__ import annotations

import pytest
from azbackup.checks import no_data_access_auth_disks
from azbackup.checks.facts import CheckContext, DiskSelection, PolicyType, VMFacts
from azbackup.checks.result import Result
from azbackup.reasons import Reason

from .builders import CTX, ctx, disk, outcome, vm

ENTRA_DATA = (disk("vm-app-data0", 0), disk("vm-app-secure", 1, data_access_auth=True))
PASSED = (Result.PASSED, Reason.CHECK_PASSED)
FAILS = (Result.FAILED, Reason.DISK_DATA_ACCESS_AUTH)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)


@pytest.mark.parametrize(
    ("subject", "context", "want"),
    [
        pytest.param(vm(), CTX, PASSED, id="no-data-access-authentication-passes"),
        pytest.param(vm(data_disks=ENTRA_DATA), CTX, FAILS, id="data-disk-with-entra-auth-fails-DiskDataAccessAuth"),
        pytest.param(vm(data_disks=ENTRA_DATA), ctx(policy_type=PolicyType.ENHANCED), FAILS,
                     id="enhanced-policy-does-not-help"),
        pytest.param(vm(data_disks=ENTRA_DATA), ctx(disk_selection=DiskSelection(exclude_luns=(1,))), PASSED,
                     id="excluding-the-disk-passes"),
        pytest.param(vm(data_disks=ENTRA_DATA), ctx(disk_selection=DiskSelection(os_disk_only=True)), PASSED,
                     id="os-disk-only-passes"),
        pytest.param(vm(os_disk=disk(data_access_auth=True)), ctx(disk_selection=DiskSelection(os_disk_only=True)),
                     FAILS, id="os-disk-with-entra-auth-cannot-be-excluded"),
        pytest.param(vm(data_disks=(disk("d", 0, data_access_auth=None),)), CTX, UNKNOWN,
                     id="unread-disk-resource-is-unknown"),
        pytest.param(vm(os_disk=None), CTX, UNKNOWN, id="unread-disks-are-unknown"),
    ],
)
def test_no_data_access_auth_disks(subject: VMFacts, context: CheckContext, want: tuple[Result, Reason]) -> None:
    assert outcome(no_data_access_auth_disks.no_data_access_auth_disks(subject, context)) == want


@pytest.mark.parametrize(
    ("subject", "fix"),
    [
        pytest.param(vm(data_disks=ENTRA_DATA), "exclude LUN 1 (spec.diskSelection.excludeLuns), or set "
                     "dataAccessAuthMode to None on the disk resource", id="a-data-disk-can-be-excluded"),
        pytest.param(vm(os_disk=disk(data_access_auth=True)), "backups of such disks fail: set dataAccessAuthMode "
                     "to None", id="the-os-disk-must-change"),
    ],
)
def test_message_names_the_cheapest_fix(subject: VMFacts, fix: str) -> None:
    message = no_data_access_auth_disks.no_data_access_auth_disks(subject, CTX).message
    assert fix in message
    assert "after the 2018 guide" in message
