from __future__ import annotations

import pytest
from azbackup.checks import security_type_supported
from azbackup.checks.facts import CheckContext, PolicyType, SecurityType, VMFacts
from azbackup.checks.result import Result
from azbackup.reasons import Reason

from .builders import CTX, ctx, outcome, vm

PASSED = (Result.PASSED, Reason.CHECK_PASSED)
ENHANCED = ctx(policy_type=PolicyType.ENHANCED)
CONFIDENTIAL = vm(security_type=SecurityType.CONFIDENTIAL_VM)


@pytest.mark.parametrize(
    ("subject", "context", "want"),
    [
        pytest.param(vm(), CTX, PASSED, id="standard-security-type-passes"),
        pytest.param(vm(security_type=SecurityType.TRUSTED_LAUNCH), CTX, PASSED,
                     id="trusted-launch-passes-with-standard-on-todays-api"),
        pytest.param(vm(security_type=SecurityType.TRUSTED_LAUNCH), ENHANCED, PASSED,
                     id="trusted-launch-passes-with-enhanced"),
        pytest.param(CONFIDENTIAL, CTX, (Result.FAILED, Reason.CONFIDENTIAL_VM_NEEDS_ENHANCED_POLICY),
                     id="confidential-vm-with-standard-fails-ConfidentialVMNeedsEnhancedPolicy"),
        pytest.param(CONFIDENTIAL, ENHANCED, PASSED, id="confidential-vm-with-enhanced-passes"),
        pytest.param(CONFIDENTIAL, ctx(policy_type=None), (Result.UNKNOWN, Reason.FACT_UNAVAILABLE),
                     id="confidential-vm-unknown-policy-type-is-unknown"),
        pytest.param(vm(security_type=None), CTX, (Result.UNKNOWN, Reason.FACT_UNAVAILABLE),
                     id="unknown-security-type-is-unknown"),
    ],
)
def test_security_type_supported(subject: VMFacts, context: CheckContext, want: tuple[Result, Reason]) -> None:
    assert outcome(security_type_supported.security_type_supported(subject, context)) == want


def test_message_is_newer_than_the_guide_and_says_what_to_do() -> None:
    message = security_type_supported.security_type_supported(CONFIDENTIAL, CTX).message
    assert "after the 2018 guide" in message
    assert "Use an Enhanced policy" in message
