"""The verdict module: one row per behaviour of configure-protection and backup."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from azure_emulator import netrules, verdicts
from azure_emulator.verdicts import Agent, Change, DiskFacts, ProtectionRequest, VmFacts

DENY_STORAGE = (
    netrules.Rule(
        "deny-storage",
        100,
        access="Deny",
        protocol="Tcp",
        destination_address_prefix="Storage",
        destination_port_range="443",
    ),
)
DENY_INTERNET = (netrules.Rule("deny-internet", 200, access="Deny", destination_address_prefix="Internet"),)
ALLOW_STORAGE_DENY_INTERNET = (
    netrules.Rule(
        "allow-storage",
        100,
        access="Allow",
        protocol="Tcp",
        destination_address_prefix="Storage.WestEurope",
        destination_port_range="443",
    ),
    *DENY_INTERNET,
)


def vm(**changes: Any) -> VmFacts:
    """A healthy running Linux VM in westeurope, with only the named fields changed."""
    base = VmFacts(
        vm_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
        location="westeurope",
        os_type="Linux",
        os_name="ubuntu",
        os_version="22.04",
        agent_version="2.10.0.8",
        disks=(DiskFacts(None, 30), DiskFacts(0, 128)),
    )
    return dataclasses.replace(base, **changes)


def disks(n: int, **kw: Any) -> tuple[DiskFacts, ...]:
    return (DiskFacts(None, 30), *(DiskFacts(i, 128, **kw) for i in range(n)))


REQ = ProtectionRequest("westeurope")
#: A Windows VM whose agent passes the guide's minimum but not today's supported one: it needs a path.
NEEDS_PATH = {
    "os_type": "Windows",
    "os_name": "Windows Server 2019",
    "os_version": "10.0.17763",
    "agent_version": "2.7.41491.949",
}


@pytest.mark.parametrize(
    ("facts", "request_", "want"),
    [
        pytest.param(vm(), REQ, None, id="healthy-vm-succeeds"),
        pytest.param(vm(exists=False), REQ, "BCMV2VMNotFound", id="deleted-vm-fails-BCMV2VMNotFound"),
        pytest.param(
            vm(provisioning_state="Failed"), REQ, "UserErrorVmProvisioningStateFailed", id="failed-provisioning"
        ),
        pytest.param(vm(location="northeurope"), REQ, "UserErrorVmVaultLocationMismatch", id="other-region-fails"),
        pytest.param(
            vm(),
            ProtectionRequest("westeurope", other_vault="/x/vaults/other"),
            "VirtualMachineAlreadyProtected",
            id="protected-by-other-vault-fails",
        ),
        pytest.param(
            vm(),
            ProtectionRequest("westeurope", Change.RESUME, other_vault="/x/vaults/other"),
            None,
            id="resume-ignores-owner-check",
        ),
        pytest.param(
            vm(os_name="coreos", image_publisher="CoreOS"),
            REQ,
            "UserErrorUnsupportedOperatingSystem",
            id="coreos-unsupported",
        ),
        pytest.param(
            vm(
                os_type="Windows",
                os_name="Windows Server 2003 R2 Enterprise",
                os_version="5.2.3790",
                agent_version="2.7.41491.1102",
            ),
            REQ,
            "UserErrorUnsupportedOperatingSystem",
            id="windows-2003-unsupported",
        ),
        pytest.param(
            vm(
                os_type="Windows",
                os_name="Windows Server 2008 Datacenter",
                os_version="6.0.6002",
                agent_version="2.7.41491.1102",
            ),
            REQ,
            None,
            id="windows-2008-64-bit-supported-today",
        ),
        pytest.param(
            vm(
                os_type="Windows", os_name="Windows 7 Enterprise", os_version="6.1.7601", agent_version="2.7.41491.1102"
            ),
            REQ,
            "UserErrorUnsupportedOperatingSystem",
            id="windows-7-client-gone-from-todays-matrix",
        ),
        pytest.param(
            vm(
                os_type="Windows",
                os_name="Windows Server 2008 R2 Datacenter",
                os_version="6.1.7601",
                agent_version="2.7.41491.949",
            ),
            REQ,
            None,
            id="windows-2008-r2-supported",
        ),
        pytest.param(vm(disks=disks(32)), REQ, None, id="exactly-32-data-disks-pass"),
        pytest.param(vm(disks=disks(33)), REQ, "UserErrorBCMUnsupportedDiskCount", id="33-data-disks-fail"),
        pytest.param(
            vm(agent=Agent.NOT_READY), REQ, "UserErrorGuestAgentStatusUnavailable", id="agent-not-ready-fails"
        ),
        pytest.param(
            vm(agent=Agent.NOT_INSTALLED, allow_extension_operations=False),
            REQ,
            "UserErrorGuestAgentStatusUnavailable",
            id="agent-not-installed-fails",
        ),
        pytest.param(
            vm(agent=Agent.NOT_READY, power_state="deallocated"), REQ, None, id="stopped-vm-is-not-asked-for-its-agent"
        ),
        pytest.param(
            vm(allow_extension_operations=False),
            REQ,
            "UserErrorGuestAgentStatusUnavailable",
            id="extension-operations-disallowed-fails",
        ),
        pytest.param(
            vm(os_type="Windows", os_name="Windows Server 2019", os_version="10.0.17763", agent_version="2.6.1100.0"),
            REQ,
            "UserErrorGuestAgentStatusUnavailable",
            id="windows-agent-older-than-2.6.1198.718-fails",
        ),
        pytest.param(
            vm(os_type="Windows", os_name="Windows Server 2019", os_version="10.0.17763", agent_version="2.6.1198.718"),
            REQ,
            None,
            id="windows-agent-2.6.1198.718-passes",
        ),
        pytest.param(vm(agent_version="2.2.9"), REQ, "UserErrorGuestAgentVersionUnsupported", id="old-linux-agent"),
        pytest.param(
            vm(outbound_layers=(DENY_STORAGE,), **NEEDS_PATH),
            REQ,
            "UserErrorVMInternetConnectivityIssue",
            id="nsg-denying-storage-fails-for-an-agent-below-the-supported-minimum",
        ),
        pytest.param(
            vm(outbound_layers=(DENY_STORAGE,)),
            REQ,
            None,
            id="supported-agent-reaches-storage-through-the-host",
        ),
        pytest.param(
            vm(outbound_layers=(None, DENY_INTERNET), **NEEDS_PATH),
            REQ,
            "UserErrorVMInternetConnectivityIssue",
            id="subnet-nsg-denying-internet-fails",
        ),
        pytest.param(
            vm(outbound_layers=(DENY_STORAGE,), http_proxy="http://proxy:3128"),
            REQ,
            None,
            id="declared-proxy-satisfies-network",
        ),
        pytest.param(
            vm(outbound_layers=(DENY_STORAGE,), power_state="stopped"), REQ, None, id="stopped-vm-network-not-checked"
        ),
        pytest.param(
            vm(outbound_layers=(ALLOW_STORAGE_DENY_INTERNET,)),
            REQ,
            None,
            id="storage-allowed-above-internet-deny-passes",
        ),
        pytest.param(
            vm(disks=disks(1, write_accelerator=True)), REQ, None, id="write-accelerator-with-internet-passes"
        ),
        pytest.param(
            vm(disks=disks(1, write_accelerator=True), outbound_layers=(ALLOW_STORAGE_DENY_INTERNET,)),
            REQ,
            "UserErrorWAEnabledDisksNotSupported",
            id="write-accelerator-without-internet-fails",
        ),
        pytest.param(vm(encryption="ADE", disks=disks(1, encrypted=True)), REQ, None, id="ade-supported"),
        pytest.param(
            vm(encryption="ADE", encryption_switched_from_aad=True),
            REQ,
            "UserErrorInvalidVMEncryptionInfo",
            id="ade-switched-from-aad-fails",
        ),
        pytest.param(
            vm(encryption="ADE", disks=(DiskFacts(None, 30, encrypted=True), DiskFacts(0, 4097, encrypted=True))),
            REQ,
            "UserErrorUnsupportedDiskSize",
            id="encrypted-disk-over-4tb-fails",
        ),
        pytest.param(vm(disks=(DiskFacts(None, 30), DiskFacts(0, 4097))), REQ, None, id="plain-disk-over-4tb-passes"),
        pytest.param(
            vm(encryption="ADE"),
            ProtectionRequest("westeurope", excludes_disks=True, policy_type="V1"),
            "UserErrorEncryptedVmNotSupportedWithDiskEx",
            id="encrypted-disk-exclusion-standard-fails",
        ),
        pytest.param(
            vm(encryption="ADE"),
            ProtectionRequest("westeurope", excludes_disks=True, policy_type="V2"),
            None,
            id="encrypted-disk-exclusion-enhanced-passes",
        ),
        pytest.param(
            vm(agent=Agent.NOT_READY),
            ProtectionRequest("westeurope", Change.MODIFY),
            None,
            id="policy-change-does-not-ask-the-agent",
        ),
    ],
)
def test_configure_protection(facts: VmFacts, request_: ProtectionRequest, want: str | None) -> None:
    got = verdicts.configure_protection(facts, request_)
    assert (got.code if got else None) == want


@pytest.mark.parametrize(
    ("facts", "active", "want"),
    [
        pytest.param(vm(), True, None, id="healthy-backup-succeeds"),
        pytest.param(vm(), False, "UserErrorBcmDatasourceNotPresent", id="stopped-protection-fails"),
        pytest.param(vm(exists=False), True, "BCMV2VMNotFound", id="deleted-vm-fails"),
        pytest.param(vm(agent=Agent.NOT_READY), True, "UserErrorGuestAgentStatusUnavailable", id="agent-not-ready"),
        pytest.param(
            vm(outbound_layers=(DENY_STORAGE,), **NEEDS_PATH), True, "ExtensionSnapshotFailedNoNetwork", id="no-network"
        ),
        pytest.param(vm(disks=disks(33)), True, "UserErrorBCMUnsupportedDiskCount", id="too-many-disks"),
        pytest.param(
            vm(disks=(DiskFacts(None, 30, managed=False, storage_blocks_trusted_services=True),)),
            True,
            "UserErrorStorageAccountFirewallBlocksBackup",
            id="unmanaged-disk-firewall-blocks",
        ),
        pytest.param(vm(power_state="deallocated", agent=Agent.NOT_READY), True, None, id="deallocated-vm-backs-up"),
    ],
)
def test_backup(facts: VmFacts, active: bool, want: str | None) -> None:
    got = verdicts.backup(facts, actively_protected=active)
    assert (got.code if got else None) == want


@pytest.mark.parametrize(
    ("power", "os_type", "rp_type", "warnings"),
    [
        pytest.param("running", "Windows", "AppConsistent", [], id="running-windows-app-consistent"),
        pytest.param("running", "Linux", "FileSystemConsistent", [], id="running-linux-file-system-consistent"),
        pytest.param("deallocated", "Linux", "CrashConsistent", ["AzureVmOffline"], id="deallocated-crash-consistent"),
        pytest.param("stopped", "Windows", "CrashConsistent", ["AzureVmOffline"], id="stopped-crash-consistent"),
    ],
)
def test_consistency_follows_power_state(power: str, os_type: str, rp_type: str, warnings: list[str]) -> None:
    facts = vm(power_state=power, os_type=os_type)
    assert verdicts.recovery_point_type(facts) == rp_type
    assert [w.code for w in verdicts.backup_warnings(facts)] == warnings


@pytest.mark.parametrize(
    ("rules", "target", "want"),
    [
        pytest.param(None, netrules.Target.STORAGE, True, id="no-nsg-allows"),
        pytest.param((), netrules.Target.STORAGE, True, id="default-rules-allow-internet-out"),
        pytest.param(DENY_STORAGE, netrules.Target.STORAGE, False, id="deny-storage-blocks-storage"),
        pytest.param(DENY_STORAGE, netrules.Target.INTERNET, True, id="deny-storage-leaves-internet"),
        pytest.param(DENY_INTERNET, netrules.Target.STORAGE, False, id="deny-internet-blocks-storage-too"),
        pytest.param(
            (netrules.Rule("deny-80", 100, access="Deny", destination_port_range="80"),),
            netrules.Target.STORAGE,
            True,
            id="deny-other-port-irrelevant",
        ),
        pytest.param(
            (netrules.Rule("deny-in", 100, direction="Inbound", access="Deny"),),
            netrules.Target.STORAGE,
            True,
            id="inbound-rules-irrelevant",
        ),
        pytest.param(
            (netrules.Rule("deny-range", 100, access="Deny", destination_port_range="400-500"),),
            netrules.Target.STORAGE,
            False,
            id="port-range-covering-443-blocks",
        ),
        pytest.param(
            (netrules.Rule("deny-udp", 100, access="Deny", protocol="Udp"),),
            netrules.Target.STORAGE,
            True,
            id="udp-deny-irrelevant",
        ),
    ],
)
def test_outbound_rules(rules: tuple[netrules.Rule, ...] | None, target: netrules.Target, want: bool) -> None:
    assert netrules.outbound_allowed((rules,), target, "westeurope") is want


def test_every_returned_code_is_listed() -> None:
    assert len(set(verdicts.all_codes())) == len(verdicts.all_codes())
    assert verdicts.numeric_code("BCMV2VMNotFound") == 400094
    assert verdicts.numeric_code("UserErrorSomething") == verdicts.numeric_code("UserErrorSomething")
