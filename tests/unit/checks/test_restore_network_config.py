from __future__ import annotations

import pytest
from azbackup.checks import restore_network_config
from azbackup.checks.facts import VMFacts
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, SUBSCRIPTION, nic, outcome, vm

PIP = f"{SUBSCRIPTION}/resourceGroups/rg-app/providers/Microsoft.Network/publicIPAddresses"
POOL = f"{SUBSCRIPTION}/resourceGroups/rg-app/providers/Microsoft.Network/loadBalancers/lb-app/backendAddressPools/web"
WARNS = (Result.WARNING, Reason.RESTORE_NETWORK_CONFIG)
PASSED = (Result.PASSED, Reason.CHECK_PASSED)


@pytest.mark.parametrize(
    ("subject", "want"),
    [
        pytest.param(vm(), PASSED, id="one-nic-no-lb-passes"),
        pytest.param(vm(nics=(nic(public_ip_ids=(f"{PIP}/pip-1",)),)), PASSED, id="one-public-ip-passes"),
        pytest.param(vm(nics=(nic(name="nic-a"), nic(name="nic-b", primary=False))), WARNS, id="two-nics-warn"),
        pytest.param(vm(nics=(nic(backend_pools=(POOL,)),)), WARNS, id="load-balancer-pool-warns"),
        pytest.param(vm(nics=(nic(public_ip_ids=(f"{PIP}/pip-1", f"{PIP}/pip-2")),)), WARNS, id="two-public-ips-warn"),
        pytest.param(vm(nics=None), (Result.UNKNOWN, Reason.FACT_UNAVAILABLE), id="unread-nics-are-unknown"),
        pytest.param(
            vm(nics=(nic(backend_pools=None),)),
            (Result.UNKNOWN, Reason.FACT_UNAVAILABLE),
            id="unread-pools-are-unknown",
        ),
    ],
)
def test_restore_network_config(subject: VMFacts, want: tuple[Result, Reason]) -> None:
    assert outcome(restore_network_config.restore_network_config(subject, CTX)) == want


def test_never_blocks() -> None:
    assert restore_network_config.BLOCKS is False


def test_warning_names_everything_a_portal_restore_drops() -> None:
    subject = vm(
        nics=(
            nic(name="nic-a", backend_pools=(POOL,), public_ip_ids=(f"{PIP}/pip-1",)),
            nic(name="nic-b", primary=False, public_ip_ids=(f"{PIP}/pip-2",)),
        )
    )
    assert restore_network_config.restore_network_config(subject, CTX) == CheckResult(
        "RestoreNetworkConfig",
        Result.WARNING,
        Reason.RESTORE_NETWORK_CONFIG,
        "VM vm-app has 2 NICs (nic-a, nic-b); load balancer backend pool web; 2 public IP addresses (pip-1, "
        "pip-2). A portal 'Create new' restore does not rebuild these: restore it with 'Restore disks' and create "
        "the VM from the generated template or with PowerShell, then reattach them. (Since the 2018 guide the "
        "support matrix has changed for NICs: a restored VM gets as many NICs as the original, though the restore "
        "guide still lists several NICs as a special configuration.)",
    )
