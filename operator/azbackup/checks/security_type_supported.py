"""SecurityTypeSupported: the VM's security type can be backed up with the policy type."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "SecurityTypeSupported"
BLOCKS: Final = True
# Newer than the 2018 guide. Today's IaaS support matrix: Confidential VMs are backed up with the Enhanced
# policy only. backup-azure-vms-enhanced-policy (06/2025): Trusted Launch VMs work with the Standard policy
# from REST api-version 2025-01-01, older than every version the SDKs this operator pins send.


def security_type_supported(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    kind = vm.security_type
    if kind is None:
        return result.unknown(NAME, f"The security type of VM {vm.name} is not known yet.")
    if kind is facts.SecurityType.STANDARD:
        return result.passed(NAME, f"VM {vm.name} has the Standard security type.")
    if kind is facts.SecurityType.TRUSTED_LAUNCH:
        return result.passed(NAME, f"VM {vm.name} is a Trusted Launch VM, which both policy types back up today "
                                   "(the Standard policy since REST api-version 2025-01-01).")
    if ctx.policy_type is facts.PolicyType.ENHANCED:
        return result.passed(NAME, f"VM {vm.name} is a Confidential VM, backed up by the Enhanced policy.")
    if ctx.policy_type is None:
        return result.unknown(NAME, f"VM {vm.name} is a Confidential VM, which only the Enhanced policy backs up; "
                                    "the policy type is not known yet.")
    return result.failed(
        NAME,
        Reason.CONFIDENTIAL_VM_NEEDS_ENHANCED_POLICY,
        f"VM {vm.name} is a Confidential VM, a VM type Azure added after the 2018 guide; only the Enhanced "
        "policy backs it up. Use an Enhanced policy (policyRef to a BackupPolicy with policyType Enhanced).",
    )
