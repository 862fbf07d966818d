from __future__ import annotations

import pytest
from azbackup.checks import not_protected_elsewhere
from azbackup.checks.facts import Protection
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, OTHER_VAULT_ID, VAULT_ID, outcome, vm

PASSED = (Result.PASSED, Reason.CHECK_PASSED)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)
OTHER = (Result.FAILED, Reason.ALREADY_PROTECTED_BY_OTHER_VAULT)


@pytest.mark.parametrize(
    ("protection", "want"),
    [
        pytest.param(Protection("NotProtected", None), PASSED, id="unprotected-passes"),
        pytest.param(Protection("Protected", VAULT_ID), PASSED, id="protected-by-this-vault-passes"),
        pytest.param(
            Protection("Protected", VAULT_ID.upper().replace("/SUBSCRIPTIONS/", "/Subscriptions/")),
            PASSED,
            id="this-vault-id-compared-case-insensitively",
        ),
        pytest.param(
            Protection("Protected", OTHER_VAULT_ID), OTHER, id="other-vault-fails-AlreadyProtectedByOtherVault"
        ),
        pytest.param(Protection("Protecting", OTHER_VAULT_ID), OTHER, id="protection-in-progress-elsewhere-fails"),
        pytest.param(Protection("Protected", None), UNKNOWN, id="protected-without-vault-id-is-unknown"),
        pytest.param(None, UNKNOWN, id="unread-backup-status-is-unknown"),
    ],
)
def test_not_protected_elsewhere(protection: Protection | None, want: tuple[Result, Reason]) -> None:
    assert outcome(not_protected_elsewhere.not_protected_elsewhere(vm(protection=protection), CTX)) == want


def test_other_vault_is_named() -> None:
    got = not_protected_elsewhere.not_protected_elsewhere(vm(protection=Protection("Protected", OTHER_VAULT_ID)), CTX)
    assert got == CheckResult(
        "NotProtectedElsewhere",
        Result.FAILED,
        Reason.ALREADY_PROTECTED_BY_OTHER_VAULT,
        f"VM vm-app is already protected by vault vault-old ({OTHER_VAULT_ID}); a VM can be protected by one "
        "vault only. Stop protection in vault-old (retaining or deleting its backup data) before protecting it here.",
    )
