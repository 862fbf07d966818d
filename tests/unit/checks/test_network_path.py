from __future__ import annotations

import dataclasses

import pytest
from azbackup.checks import network_path
from azbackup.checks.facts import CheckContext, Direction, NetworkSecurityGroup, VMFacts
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, OLD_WINDOWS_AGENT, agent, ctx, deny, nic, nsg, outcome, rule, subnet_nsg, vm

PASSED = (Result.PASSED, Reason.CHECK_PASSED)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)
FAILED = (Result.FAILED, Reason.NO_NETWORK_PATH)
DENY_ALL = deny()  # priority 4000, every destination and port


def old_agent_vm(*groups: NetworkSecurityGroup) -> VMFacts:
    return vm(agent=agent(version=OLD_WINDOWS_AGENT), nics=(nic(security_groups=groups),))


@pytest.mark.parametrize(
    ("groups", "want"),
    [
        pytest.param((), PASSED, id="no-nsg-at-all-passes"),
        pytest.param((nsg(),), PASSED, id="nic-nsg-with-default-rules-only-passes"),
        pytest.param((nsg(), subnet_nsg()), PASSED, id="nic-and-subnet-default-rules-pass"),
        pytest.param((nsg(DENY_ALL),), FAILED, id="nic-nsg-deny-all-fails-NoNetworkPath"),
        pytest.param((subnet_nsg(DENY_ALL),), FAILED, id="subnet-nsg-deny-all-fails-NoNetworkPath"),
        pytest.param((nsg(), subnet_nsg(DENY_ALL)), FAILED, id="nic-allows-but-subnet-denies-fails"),
        pytest.param((nsg(DENY_ALL), subnet_nsg()), FAILED, id="subnet-allows-but-nic-denies-fails"),
        pytest.param((nsg(rule(), DENY_ALL),), PASSED, id="allow-Storage-before-deny-passes"),
        pytest.param(
            (nsg(rule(destination=("Storage.westeurope",)), DENY_ALL),), PASSED, id="allow-regional-tag-passes"
        ),
        pytest.param(
            (nsg(rule(destination=("Storage.WestEurope",)), DENY_ALL),), PASSED, id="regional-tag-ignores-case"
        ),
        pytest.param((nsg(rule(destination=("Storage.NorthEurope",)), DENY_ALL),), FAILED, id="other-region-tag-fails"),
        pytest.param(
            (nsg(rule(destination=("AzureBackup",)), DENY_ALL),), FAILED, id="AzureBackup-alone-does-not-reach-storage"
        ),
        pytest.param(
            (nsg(rule(destination=("VirtualNetwork",)), DENY_ALL),), FAILED, id="VirtualNetwork-does-not-reach-storage"
        ),
        pytest.param((nsg(rule(destination=("Internet",)), DENY_ALL),), PASSED, id="allow-Internet-passes"),
        pytest.param(
            (nsg(rule(destination=("AzureCloud.westeurope",)), DENY_ALL),), PASSED, id="allow-AzureCloud-region-passes"
        ),
        pytest.param((nsg(rule(priority=4001), DENY_ALL),), FAILED, id="allow-after-deny-fails"),
        pytest.param((nsg(rule(priority=4000), DENY_ALL),), FAILED, id="priority-tie-deny-wins"),
        pytest.param(
            (nsg(deny(priority=100, destination=("Storage",)), rule(priority=200)),),
            FAILED,
            id="deny-Storage-before-allow-fails",
        ),
        pytest.param((nsg(deny(destination=("Internet",))),), FAILED, id="deny-Internet-fails"),
        pytest.param((nsg(deny(destination=("AzureBackup",))),), PASSED, id="deny-AzureBackup-leaves-storage-open"),
        pytest.param((nsg(deny(destination=("Sql",))),), PASSED, id="deny-other-service-tag-passes"),
        pytest.param((nsg(deny(protocol="Udp")),), PASSED, id="deny-udp-only-passes"),
        pytest.param((nsg(deny(protocol="All")),), FAILED, id="deny-protocol-All-fails"),
        pytest.param((nsg(deny(protocol="*")),), FAILED, id="deny-protocol-star-fails"),
        pytest.param((nsg(deny(ports=("80",))),), PASSED, id="deny-port-80-only-passes"),
        pytest.param((nsg(deny(ports=("400-500",))),), FAILED, id="deny-port-range-over-443-fails"),
        pytest.param((nsg(deny(ports=("1-442", "444-65535"))),), PASSED, id="deny-ranges-around-443-pass"),
        pytest.param((nsg(deny(ports=("80", "443"))),), FAILED, id="deny-port-list-with-443-fails"),
        pytest.param((nsg(deny(destination=("0.0.0.0/0",))),), FAILED, id="deny-0.0.0.0/0-fails"),
        pytest.param((nsg(deny(destination=("20.0.0.0/8",))),), FAILED, id="deny-cidr-containing-storage-prefix-fails"),
        pytest.param((nsg(deny(destination=("10.0.0.0/8",))),), PASSED, id="deny-private-cidr-passes"),
        pytest.param(
            (nsg(rule(destination=("20.60.0.0/16",)), DENY_ALL),),
            PASSED,
            id="allow-cidr-equal-to-storage-prefix-passes",
        ),
        pytest.param(
            (nsg(rule(destination=("20.60.1.0/24",)), DENY_ALL),),
            UNKNOWN,
            id="allow-part-of-a-storage-prefix-is-unknown",
        ),
        pytest.param(
            (nsg(rule(destination=("10.0.0.0/8",)), DENY_ALL),), FAILED, id="allow-private-cidr-then-deny-fails"
        ),
        pytest.param((nsg(deny(direction=Direction.INBOUND)),), PASSED, id="inbound-deny-does-not-matter"),
        pytest.param((nsg(deny(source=("10.9.0.0/16",))),), PASSED, id="deny-for-another-subnet-passes"),
        pytest.param((nsg(deny(source=("10.0.1.0/24",))),), FAILED, id="deny-for-the-vm-subnet-fails"),
        pytest.param((nsg(deny(source=("VirtualNetwork",))),), FAILED, id="deny-from-VirtualNetwork-fails"),
        pytest.param(
            (nsg(deny(source=(), source_asgs=("asg-web",))),), PASSED, id="deny-for-an-asg-the-nic-is-not-in-passes"
        ),
        pytest.param((nsg(deny(source=(), source_asgs=("ASG-APP",))),), FAILED, id="deny-for-the-nic-asg-fails"),
    ],
)
def test_network_path_with_an_old_agent(groups: tuple[NetworkSecurityGroup, ...], want: tuple[Result, Reason]) -> None:
    subject = dataclasses.replace(old_agent_vm(*groups), nics=(nic(security_groups=groups, asg_ids=("asg-app",)),))
    assert outcome(network_path.network_path(subject, CTX)) == want


@pytest.mark.parametrize(
    ("agent_version", "want"),
    [
        pytest.param("2.7.41491.1102", (Result.WARNING, Reason.NO_NETWORK_PATH), id="supported-agent-only-warns"),
        pytest.param("2.7.41491.1010", (Result.WARNING, Reason.NO_NETWORK_PATH), id="agent-at-supported-minimum-warns"),
        pytest.param(OLD_WINDOWS_AGENT, FAILED, id="agent-below-supported-minimum-fails"),
        pytest.param("Unknown", FAILED, id="unknown-agent-version-fails"),
    ],
)
def test_denied_path_depends_on_the_agent(agent_version: str, want: tuple[Result, Reason]) -> None:
    subject = vm(agent=agent(version=agent_version), nics=(nic(security_groups=(nsg(DENY_ALL),)),))
    assert outcome(network_path.network_path(subject, CTX)) == want


@pytest.mark.parametrize(
    ("subject", "context", "want"),
    [
        pytest.param(vm(nics=(nic(security_groups=None),)), CTX, UNKNOWN, id="unread-nsgs-are-unknown"),
        pytest.param(vm(nics=None), CTX, UNKNOWN, id="unread-nics-are-unknown"),
        pytest.param(vm(region=None), CTX, UNKNOWN, id="unknown-region-is-unknown"),
        pytest.param(
            vm(nics=(nic(name="a", primary=None), nic(name="b", primary=None))),
            CTX,
            UNKNOWN,
            id="no-primary-nic-is-unknown",
        ),
        pytest.param(
            vm(nics=(nic(name="a", primary=False, security_groups=(nsg(DENY_ALL),)), nic(name="b"))),
            CTX,
            PASSED,
            id="only-the-primary-nic-counts",
        ),
        pytest.param(
            vm(nics=(nic(security_groups=(nsg(rule(destination=("20.60.0.0/16",)), DENY_ALL),)),)),
            ctx(storage_prefixes=None),
            UNKNOWN,
            id="cidr-rule-without-storage-prefixes-is-unknown",
        ),
        pytest.param(
            vm(nics=(nic(private_ips=None, security_groups=(nsg(deny(source=("10.0.1.0/24",))),)),)),
            CTX,
            UNKNOWN,
            id="source-cidr-without-vm-address-is-unknown",
        ),
        pytest.param(
            vm(nics=(nic(security_groups=(nsg(DENY_ALL, defaults=False),)),)),
            ctx(http_proxy="http://proxy.corp:3128"),
            PASSED,
            id="declared-proxy-passes-despite-deny",
        ),
        pytest.param(
            vm(), ctx(http_proxy="http://user:secret@proxy.corp:3128"), FAILED, id="authenticated-proxy-fails"
        ),
        pytest.param(
            vm(nics=(nic(security_groups=(nsg(rule(), defaults=False),)),)),
            CTX,
            PASSED,
            id="first-match-needs-no-defaults",
        ),
        pytest.param(
            vm(nics=(nic(security_groups=(nsg(rule(protocol="Udp"), defaults=False),)),)),
            CTX,
            UNKNOWN,
            id="nsg-without-deciding-rule-is-unknown",
        ),
    ],
)
def test_network_path_facts(subject: VMFacts, context: CheckContext, want: tuple[Result, Reason]) -> None:
    assert outcome(network_path.network_path(subject, context)) == want


def test_denial_names_nsg_rule_and_the_rule_to_add() -> None:
    subject = vm(agent=agent(version=OLD_WINDOWS_AGENT), nics=(nic(security_groups=(subnet_nsg(DENY_ALL),)),))
    assert network_path.network_path(subject, CTX) == CheckResult(
        "NetworkPath",
        Result.FAILED,
        Reason.NO_NETWORK_PATH,
        "The subnet NSG nsg-subnet denies TCP 443 to Storage.westeurope by rule deny-all-out (priority 4000). Add "
        "an outbound rule in nsg-subnet that allows TCP 443 to service tag Storage.westeurope with a priority "
        "number lower than 4000 (for example 3999), or declare an httpProxy. Only because the VM agent is older "
        "than Azure's supported minimum (or unknown) does it need this path: the cheapest fix is to update the VM "
        "agent to 2.7.41491.1010 or later, which reaches Azure Storage through the host (168.63.129.16), so no NSG "
        "rule is needed.",
    )


def test_proxy_credentials_never_reach_the_message() -> None:
    got = network_path.network_path(vm(), ctx(http_proxy="http://user:secret@proxy.corp:3128"))
    assert got == CheckResult(
        "NetworkPath",
        Result.FAILED,
        Reason.NO_NETWORK_PATH,
        "The declared httpProxy proxy.corp:3128 carries credentials; Azure Backup does not support authenticated "
        "proxies. Use a proxy that lets the VM through without them.",
    )


def test_proxy_is_assumed_to_reach_storage() -> None:
    assert network_path.network_path(vm(), ctx(http_proxy="http://proxy.corp:3128")) == CheckResult(
        "NetworkPath",
        Result.PASSED,
        Reason.CHECK_PASSED,
        "An httpProxy (http://proxy.corp:3128) is declared; it is assumed to reach Azure Storage, so NSG rules "
        "are not evaluated. Azure Backup does not support authenticated proxies.",
    )


def test_deny_at_priority_100_cannot_be_preceded() -> None:
    got = network_path.network_path(old_agent_vm(nsg(deny(priority=100))), CTX)
    assert got.message.startswith(
        "The NIC NSG nsg-nic denies TCP 443 to Storage.westeurope by rule deny-all-out (priority 100). No rule can "
        "precede it: narrow it so it no longer covers Storage.westeurope, or declare an httpProxy."
    )


def test_undetermined_names_the_missing_fact() -> None:
    subject = vm(nics=(nic(security_groups=(nsg(rule(destination=("20.60.0.0/16",)), deny()),)),))
    assert network_path.network_path(subject, ctx(storage_prefixes=None)) == CheckResult(
        "NetworkPath",
        Result.UNKNOWN,
        Reason.FACT_UNAVAILABLE,
        "Cannot tell whether NSG nsg-nic of VM vm-app lets TCP 443 to Storage.westeurope out: rule allow-storage "
        "(priority 100) may or may not match; not known yet: the Storage.westeurope prefixes.",
    )


def test_undetermined_partial_prefix_suggests_the_service_tag() -> None:
    subject = vm(nics=(nic(security_groups=(nsg(rule(destination=("20.60.1.0/24",)), deny()),)),))
    assert network_path.network_path(subject, CTX) == CheckResult(
        "NetworkPath",
        Result.UNKNOWN,
        Reason.FACT_UNAVAILABLE,
        "Cannot tell whether NSG nsg-nic of VM vm-app lets TCP 443 to Storage.westeurope out: rule allow-storage "
        "(priority 100) may or may not match: it names only part of the address space it is meant for (or a port "
        "range that cannot be read). Name the service tag instead of address prefixes.",
    )
