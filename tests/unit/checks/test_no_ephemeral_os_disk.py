from __future__ import annotations

import pytest
from azbackup.checks import no_ephemeral_os_disk
from azbackup.checks.facts import CheckContext, PolicyType, VMFacts
from azbackup.checks.result import Result
from azbackup.reasons import Reason

from .builders import CTX, ctx, disk, outcome, vm

EPHEMERAL = disk(ephemeral=True, sku="Standard_LRS")


@pytest.mark.parametrize(
    ("subject", "context", "want"),
    [
        pytest.param(vm(), CTX, (Result.PASSED, Reason.CHECK_PASSED), id="persistent-os-disk-passes"),
        pytest.param(vm(os_disk=EPHEMERAL), CTX, (Result.FAILED, Reason.EPHEMERAL_OS_DISK),
                     id="ephemeral-os-disk-fails-EphemeralOSDisk"),
        pytest.param(vm(os_disk=EPHEMERAL), ctx(policy_type=PolicyType.ENHANCED),
                     (Result.FAILED, Reason.EPHEMERAL_OS_DISK), id="ephemeral-os-disk-fails-with-enhanced-too"),
        pytest.param(vm(os_disk=disk(ephemeral=None)), CTX, (Result.UNKNOWN, Reason.FACT_UNAVAILABLE),
                     id="unknown-is-unknown"),
        pytest.param(vm(os_disk=None), CTX, (Result.UNKNOWN, Reason.FACT_UNAVAILABLE), id="unread-os-disk"),
    ],
)
def test_no_ephemeral_os_disk(subject: VMFacts, context: CheckContext, want: tuple[Result, Reason]) -> None:
    assert outcome(no_ephemeral_os_disk.no_ephemeral_os_disk(subject, context)) == want


def test_message_is_newer_than_the_guide_and_says_what_to_do() -> None:
    message = no_ephemeral_os_disk.no_ephemeral_os_disk(vm(os_disk=EPHEMERAL), CTX).message
    assert "after the 2018 guide" in message
    assert "recreate the VM with a managed OS disk" in message
