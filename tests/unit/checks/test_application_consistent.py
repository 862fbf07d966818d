from __future__ import annotations

import pytest
from azbackup.checks import application_consistent
from azbackup.checks.facts import PowerState
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, outcome, vm

STOPPED = (Result.WARNING, Reason.VM_STOPPED)


@pytest.mark.parametrize(
    ("state", "want"),
    [
        pytest.param(PowerState.RUNNING, (Result.PASSED, Reason.CHECK_PASSED), id="running-passes"),
        pytest.param(PowerState.STOPPED, STOPPED, id="stopped-warns-VMStopped"),
        pytest.param(PowerState.DEALLOCATED, STOPPED, id="deallocated-warns-VMStopped"),
        pytest.param(PowerState.STOPPING, STOPPED, id="stopping-warns-VMStopped"),
        pytest.param(PowerState.STARTING, STOPPED, id="starting-is-not-running-yet"),
        pytest.param(None, (Result.UNKNOWN, Reason.FACT_UNAVAILABLE), id="unknown-power-state-is-unknown"),
    ],
)
def test_application_consistent(state: PowerState | None, want: tuple[Result, Reason]) -> None:
    assert outcome(application_consistent.application_consistent(vm(power_state=state), CTX)) == want


def test_never_blocks() -> None:
    assert application_consistent.BLOCKS is False


def test_stopped_vm_message_says_crash_consistent() -> None:
    got = application_consistent.application_consistent(vm(power_state=PowerState.DEALLOCATED), CTX)
    assert got == CheckResult(
        "ApplicationConsistent",
        Result.WARNING,
        Reason.VM_STOPPED,
        "VM vm-app is deallocated: while it is not running its backups are crash-consistent only. Start the VM "
        "before the backup window for application-consistent recovery points.",
    )
