from __future__ import annotations

import pytest
from azbackup.checks import managed_disks
from azbackup.checks.facts import VMFacts
from azbackup.checks.result import Result
from azbackup.reasons import Reason

from .builders import CTX, disk, outcome, storage_account, vm

UNMANAGED = disk(managed=False, storage_account="stvhds")


@pytest.mark.parametrize(
    ("subject", "want"),
    [
        pytest.param(vm(), (Result.PASSED, Reason.CHECK_PASSED), id="managed-disks-pass"),
        pytest.param(vm(os_disk=UNMANAGED, data_disks=(), storage_accounts=(storage_account(),)),
                     (Result.WARNING, Reason.UNMANAGED_DISKS_RETIRED), id="unmanaged-os-disk-warns-retired"),
        pytest.param(vm(data_disks=(UNMANAGED,), storage_accounts=(storage_account(),)),
                     (Result.WARNING, Reason.UNMANAGED_DISKS_RETIRED), id="one-unmanaged-data-disk-warns-retired"),
        pytest.param(vm(os_disk=disk(managed=None)), (Result.UNKNOWN, Reason.FACT_UNAVAILABLE),
                     id="unknown-is-unknown"),
    ],
)
def test_managed_disks(subject: VMFacts, want: tuple[Result, Reason]) -> None:
    assert outcome(managed_disks.managed_disks(subject, CTX)) == want


def test_never_blocks_and_says_retired_recovery_points_and_the_conversion() -> None:
    # The support matrix still backs up offline and unmanaged VMs, and protection survives the conversion.
    assert managed_disks.BLOCKS is False
    message = managed_disks.managed_disks(vm(os_disk=UNMANAGED, data_disks=()), CTX).message
    assert "which Azure has retired" in message
    assert "has deallocated it, so its backups are crash-consistent only" in message
    assert "Existing recovery points stay restorable for their retention (restore them as managed disks)" in message
    assert message.endswith("az vm deallocate -g rg-app -n vm-app; az vm convert -g rg-app -n vm-app.")
