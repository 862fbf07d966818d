from __future__ import annotations

import pytest
from azbackup.checks import no_write_accelerator
from azbackup.checks.facts import CheckContext, VMFacts
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, ctx, data_disks, deny, disk, nic, nsg, outcome, rule, vm

WA_DATA = (*data_disks(1), disk("vm-app-log", 1, write_accelerator=True))
WARNS = (Result.WARNING, Reason.WRITE_ACCELERATOR_ENABLED)
FAILS = (Result.FAILED, Reason.WRITE_ACCELERATOR_ENABLED)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)
NO_INTERNET = (nic(security_groups=(nsg(rule(destination=("Storage",)), deny(destination=("Internet",))),)),)


@pytest.mark.parametrize(
    ("subject", "context", "want"),
    [
        pytest.param(vm(), CTX, (Result.PASSED, Reason.CHECK_PASSED), id="no-accelerated-disk-passes"),
        pytest.param(vm(data_disks=WA_DATA), CTX, WARNS, id="accelerated-disk-with-internet-warns"),
        pytest.param(vm(os_disk=disk(write_accelerator=True)), CTX, WARNS, id="accelerated-os-disk-warns"),
        pytest.param(
            vm(data_disks=WA_DATA, nics=NO_INTERNET), CTX, FAILS, id="accelerated-disk-without-internet-fails"
        ),
        pytest.param(
            vm(data_disks=WA_DATA, nics=NO_INTERNET),
            ctx(http_proxy="http://proxy.corp:3128"),
            WARNS,
            id="proxy-counts-as-internet",
        ),
        pytest.param(
            vm(data_disks=WA_DATA, nics=(nic(security_groups=(nsg(deny(destination=("10.0.0.0/8",))),)),)),
            CTX,
            WARNS,
            id="deny-of-a-private-range-keeps-internet",
        ),
        pytest.param(
            vm(data_disks=WA_DATA, nics=(nic(security_groups=(nsg(deny(destination=("Storage",))),)),)),
            CTX,
            WARNS,
            id="deny-of-storage-only-keeps-the-internet",
        ),
        pytest.param(
            vm(data_disks=WA_DATA, nics=(nic(security_groups=None),)), CTX, UNKNOWN, id="unread-nsgs-are-unknown"
        ),
        pytest.param(
            vm(data_disks=(disk("d", 0, write_accelerator=None),)), CTX, UNKNOWN, id="unknown-flag-is-unknown"
        ),
        pytest.param(vm(data_disks=None), CTX, UNKNOWN, id="unread-disks-are-unknown"),
    ],
)
def test_no_write_accelerator(subject: VMFacts, context: CheckContext, want: tuple[Result, Reason]) -> None:
    assert outcome(no_write_accelerator.no_write_accelerator(subject, context)) == want


def test_warning_says_azure_changed_since_the_guide() -> None:
    assert no_write_accelerator.no_write_accelerator(vm(data_disks=WA_DATA), CTX) == CheckResult(
        "NoWriteAccelerator",
        Result.WARNING,
        Reason.WRITE_ACCELERATOR_ENABLED,
        "VM vm-app has Write Accelerator enabled on vm-app-log (LUN 1). The 2018 guide called such VMs unsupported; "
        "since 18 May 2022 Azure backs them up, provided the VM keeps outbound internet access (its NSGs allow TCP "
        "443 to the Internet), even if these disks are excluded.",
    )


def test_failure_names_the_denying_rule() -> None:
    got = no_write_accelerator.no_write_accelerator(vm(data_disks=WA_DATA, nics=NO_INTERNET), CTX)
    assert got == CheckResult(
        "NoWriteAccelerator",
        Result.FAILED,
        Reason.WRITE_ACCELERATOR_ENABLED,
        "VM vm-app has Write Accelerator enabled on vm-app-log (LUN 1). The 2018 guide called such VMs unsupported; "
        "since 18 May 2022 Azure backs them up only when the VM has outbound internet access, even if these disks "
        "are excluded, and it has none. Fix: allow outbound HTTPS (TCP 443) from the VM to the Internet. The NIC "
        "NSG nsg-nic denies TCP 443 to the Internet by rule deny-all-out "
        "(priority 4000). Add an outbound rule in nsg-nic that allows TCP 443 to service tag Internet with a "
        "priority number lower than 4000 (for example 3999), or declare an httpProxy. Or disable Write "
        "Accelerator on these disks.",
    )
