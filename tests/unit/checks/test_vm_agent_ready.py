from __future__ import annotations

import pytest
from azbackup.checks import vm_agent_ready
from azbackup.checks.facts import AgentInfo, OSInfo, PowerState
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, agent, linux, outcome, vm, windows

PASSED = (Result.PASSED, Reason.CHECK_PASSED)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)
TOO_OLD = (Result.FAILED, Reason.VM_AGENT_TOO_OLD)
OUTDATED = (Result.WARNING, Reason.VM_AGENT_OUTDATED)
NOT_READY = (Result.FAILED, Reason.VM_AGENT_NOT_READY)


@pytest.mark.parametrize(
    ("version", "want"),
    [
        pytest.param("2.6.1198.718", OUTDATED, id="equal-to-guide-minimum-is-not-too-old"),
        pytest.param("1.6.1198.718", TOO_OLD, id="one-below-in-major-fails-VMAgentTooOld"),
        pytest.param("2.5.1198.718", TOO_OLD, id="one-below-in-minor-fails-VMAgentTooOld"),
        pytest.param("2.6.1197.718", TOO_OLD, id="one-below-in-build-fails-VMAgentTooOld"),
        pytest.param("2.6.1198.717", TOO_OLD, id="one-below-in-revision-fails-VMAgentTooOld"),
        pytest.param("2.6.1198", TOO_OLD, id="missing-revision-counts-as-zero"),
        pytest.param("2.6.1198.719", OUTDATED, id="one-above-guide-minimum-warns-VMAgentOutdated"),
        pytest.param("2.6.10000.0", OUTDATED, id="builds-compare-as-numbers-not-text"),
        pytest.param("2.7.41491.1009", OUTDATED, id="one-below-supported-minimum-warns"),
        pytest.param("2.7.41491.1010", PASSED, id="equal-to-supported-minimum-passes"),
        pytest.param("2.10.0.0", PASSED, id="minor-10-is-newer-than-minor-7"),
        pytest.param("Unknown", UNKNOWN, id="Unknown-version-while-ready-is-unknown"),
        pytest.param("2.7.x.1", UNKNOWN, id="malformed-version-is-unknown"),
        pytest.param("", UNKNOWN, id="empty-version-is-unknown"),
    ],
)
def test_windows_agent_version(version: str, want: tuple[Result, Reason]) -> None:
    assert outcome(vm_agent_ready.vm_agent_ready(vm(agent=agent(version=version)), CTX)) == want


@pytest.mark.parametrize(
    ("version", "want"),
    [
        pytest.param("2.2.53.1", PASSED, id="equal-to-linux-minimum-passes"),
        pytest.param("1.2.53.1", TOO_OLD, id="one-below-in-major-fails"),
        pytest.param("2.1.53.1", TOO_OLD, id="one-below-in-minor-fails"),
        pytest.param("2.2.52.1", TOO_OLD, id="one-below-in-build-fails"),
        pytest.param("2.2.53.0", TOO_OLD, id="one-below-in-revision-fails"),
        pytest.param("2.2.53", TOO_OLD, id="three-parts-is-below-2.2.53.1"),
        pytest.param("2.2.54", PASSED, id="three-parts-above-passes"),
        pytest.param("2.9.1.1", PASSED, id="recent-agent-passes"),
        pytest.param("2.10.0.8", PASSED, id="minor-10-is-newer-than-minor-2"),
        pytest.param("2.6.1198.718", PASSED, id="windows-minimum-does-not-apply-to-linux"),
    ],
)
def test_linux_agent_version(version: str, want: tuple[Result, Reason]) -> None:
    assert outcome(vm_agent_ready.vm_agent_ready(vm(os=linux(), agent=agent(version=version)), CTX)) == want


@pytest.mark.parametrize(
    ("agent_info", "power", "os", "want"),
    [
        pytest.param(agent(), PowerState.RUNNING, windows(), PASSED, id="ready-recent-agent-passes"),
        pytest.param(
            agent(reported=False, version=None, ready=None, provision_vm_agent=False),
            PowerState.RUNNING,
            windows(),
            (Result.FAILED, Reason.VM_AGENT_NOT_INSTALLED),
            id="no-agent-and-provisionVMAgent-false-fails-VMAgentNotInstalled",
        ),
        pytest.param(
            agent(version="Unknown", ready=False, provision_vm_agent=False),
            PowerState.RUNNING,
            linux(),
            (Result.FAILED, Reason.VM_AGENT_NOT_INSTALLED),
            id="unresponsive-agent-never-provisioned-is-not-installed",
        ),
        pytest.param(
            agent(reported=False, version=None, ready=None),
            PowerState.RUNNING,
            windows(),
            NOT_READY,
            id="no-agent-though-provisioned-fails-VMAgentNotReady",
        ),
        pytest.param(
            agent(reported=False, version=None, ready=None, provision_vm_agent=None),
            PowerState.RUNNING,
            windows(),
            NOT_READY,
            id="no-agent-and-unknown-provision-flag-is-not-ready",
        ),
        pytest.param(
            agent(version="Unknown", ready=False),
            PowerState.RUNNING,
            windows(),
            NOT_READY,
            id="Unknown-version-and-not-ready-fails-VMAgentNotReady",
        ),
        pytest.param(
            agent(ready=False), PowerState.RUNNING, windows(), NOT_READY, id="not-ready-fails-VMAgentNotReady"
        ),
        pytest.param(agent(ready=None), PowerState.RUNNING, windows(), UNKNOWN, id="no-status-is-unknown"),
        pytest.param(
            agent(reported=None), PowerState.RUNNING, windows(), UNKNOWN, id="unread-instance-view-is-unknown"
        ),
        pytest.param(
            agent(allow_extension_operations=False),
            PowerState.RUNNING,
            windows(),
            (Result.FAILED, Reason.EXTENSION_OPERATIONS_DISABLED),
            id="extension-operations-off-fails-ExtensionOperationsDisabled",
        ),
        pytest.param(
            agent(allow_extension_operations=None),
            PowerState.RUNNING,
            windows(),
            PASSED,
            id="unknown-extension-flag-passes",
        ),
        pytest.param(
            agent(ready=False, reported=False),
            PowerState.DEALLOCATED,
            windows(),
            (Result.WARNING, Reason.VM_AGENT_NOT_REPORTING),
            id="deallocated-vm-warns-instead-of-failing",
        ),
        pytest.param(
            agent(reported=None, version=None, ready=None),
            PowerState.STOPPED,
            windows(),
            (Result.WARNING, Reason.VM_AGENT_NOT_REPORTING),
            id="stopped-vm-warns-even-without-instance-view",
        ),
        pytest.param(agent(), None, windows(), PASSED, id="unknown-power-state-still-judges-the-agent"),
        pytest.param(agent(), PowerState.RUNNING, windows(type=None), UNKNOWN, id="unknown-os-type-is-unknown"),
    ],
)
def test_vm_agent_ready(
    agent_info: AgentInfo, power: PowerState | None, os: OSInfo, want: tuple[Result, Reason]
) -> None:
    assert outcome(vm_agent_ready.vm_agent_ready(vm(agent=agent_info, power_state=power, os=os), CTX)) == want


def test_not_installed_says_to_set_allow_extension_operations() -> None:
    got = vm_agent_ready.vm_agent_ready(vm(agent=agent(reported=False, ready=None, provision_vm_agent=False)), CTX)
    assert got == CheckResult(
        "VMAgentReady",
        Result.FAILED,
        Reason.VM_AGENT_NOT_INSTALLED,
        "VM vm-app was created without the VM agent (osProfile provisionVMAgent false) and reports none: install "
        "the Windows VM agent (https://go.microsoft.com/fwlink/?LinkID=394789), then set "
        "osProfile.allowExtensionOperations to true and update the VM (or set "
        "spec.remediation.allowExtensionOperations and the operator does it). The guide's ProvisionGuestAgent "
        "flag is the classic-VM switch; provisionVMAgent cannot be changed after a Resource Manager VM is "
        "created (Azure answers PropertyChangeNotAllowed).",
    )


def test_too_old_names_version_and_minimum() -> None:
    got = vm_agent_ready.vm_agent_ready(vm(agent=agent(version="2.6.1198.717")), CTX)
    assert got == CheckResult(
        "VMAgentReady",
        Result.FAILED,
        Reason.VM_AGENT_TOO_OLD,
        "The Windows VM agent of vm-app is 2.6.1198.717; Azure Backup needs 2.6.1198.718 or higher. Install the "
        "latest agent (https://go.microsoft.com/fwlink/?LinkID=394789).",
    )
