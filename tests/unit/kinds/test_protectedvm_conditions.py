"""Which blocked VMs the opt-in remediation may fix: only allowExtensionOperations, only when asked."""

from __future__ import annotations

import pytest
from azbackup.api.specs import ProtectedVMSpec
from azbackup.checks.result import CheckResult, Result
from azbackup.kinds import protection_diff
from azbackup.kinds.protectedvm_conditions import protected_condition, remediable
from azbackup.reasons import Reason

VM = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/"
      "virtualMachines/vm")
DISABLED = CheckResult("VMAgentReady", Result.FAILED, Reason.EXTENSION_OPERATIONS_DISABLED, "flag off")
NOT_INSTALLED = CheckResult("VMAgentReady", Result.FAILED, Reason.VM_AGENT_NOT_INSTALLED, "no agent")
TOO_MANY_DISKS = CheckResult("DataDiskLimit", Result.FAILED, Reason.TOO_MANY_DATA_DISKS, "33")
NETWORK_UNKNOWN = CheckResult("NetworkPath", Result.UNKNOWN, Reason.FACT_UNAVAILABLE, "no NSG read")
STOPPED = CheckResult("ApplicationConsistent", Result.WARNING, Reason.VM_STOPPED, "stopped")
PASSED = CheckResult("SameRegion", Result.PASSED, Reason.CHECK_PASSED, "same region")


@pytest.mark.parametrize(("opted_in", "results", "expected"), [
    pytest.param(True, [PASSED, DISABLED], True, id="the-only-blocker-and-opted-in"),
    pytest.param(True, [DISABLED, STOPPED], True, id="warnings-do-not-matter"),
    pytest.param(False, [PASSED, DISABLED], False, id="not-opted-in"),
    pytest.param(True, [PASSED], False, id="nothing-to-fix"),
    pytest.param(True, [NOT_INSTALLED], False, id="no-agent-is-not-fixable"),
    pytest.param(True, [DISABLED, TOO_MANY_DISKS], False, id="another-blocker-would-remain"),
    pytest.param(True, [DISABLED, NETWORK_UNKNOWN], False, id="an-undecided-blocker-waits"),
])
def test_remediable(opted_in: bool, results: list[CheckResult], expected: bool) -> None:
    spec = ProtectedVMSpec(vault="v", policy=None, vm_id=VM, allow_extension_operations=opted_in)
    assert remediable(results, spec) is expected


def item(state: str, last_backup: str = "Failed") -> dict[str, object]:
    return {"id": "item", "properties": {"protectionState": state, "policyName": "DefaultPolicy",
                                         "lastBackupStatus": last_backup}}


@pytest.mark.parametrize("state", ["Protected", "IRPending", "ProtectionError"])
def test_a_failed_backup_leaves_the_vm_protected_and_asks_for_no_new_configure(state: str) -> None:
    spec = ProtectedVMSpec.parse({"vaultRef": {"name": "v"}, "vm": VM})
    assert protected_condition(item(state), spec).status == "True"
    assert protection_diff.differences(spec, "DefaultPolicy", item(state)) == ()
