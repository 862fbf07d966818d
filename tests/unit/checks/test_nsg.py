"""The NSG evaluator on its own: one rule at a time, then whole groups and paths."""

from __future__ import annotations

import pytest
from azbackup.checks import nsg as evaluator
from azbackup.checks.facts import Direction, NetworkSecurityGroup, SecurityRule
from azbackup.checks.nsg import Decision, Match, Target, Verdict

from .builders import REGION, STORAGE_PREFIXES, VM_IP, deny, nsg, rule, subnet_nsg

STORAGE = Target(443, REGION, STORAGE_PREFIXES, (VM_IP,), ("asg-app",))
INTERNET = Target(443, None, None, (VM_IP,), ("asg-app",))
BLIND = Target(443, REGION, None, None, None)  # nothing known about prefixes or the VM's addresses


@pytest.mark.parametrize(
    ("subject", "target", "want"),
    [
        pytest.param(rule(destination=("*",)), STORAGE, Match.YES, id="star-covers-storage"),
        pytest.param(rule(destination=("Storage",)), STORAGE, Match.YES, id="Storage-covers-storage"),
        pytest.param(rule(destination=("storage.WESTEUROPE",)), STORAGE, Match.YES, id="regional-tag-any-case"),
        pytest.param(rule(destination=("Storage.West Europe",)), STORAGE, Match.YES, id="regional-tag-with-space"),
        pytest.param(rule(destination=("Storage.eastus",)), STORAGE, Match.NO, id="other-region-tag-does-not"),
        pytest.param(rule(destination=("AzureBackup",)), STORAGE, Match.NO, id="AzureBackup-does-not-cover-storage"),
        pytest.param(rule(destination=("VirtualNetwork",)), STORAGE, Match.NO, id="VirtualNetwork-does-not"),
        pytest.param(rule(destination=("AzureCloud",)), STORAGE, Match.YES, id="AzureCloud-covers-storage"),
        pytest.param(rule(destination=("20.0.0.0/8",)), STORAGE, Match.YES, id="cidr-containing-a-prefix-covers"),
        pytest.param(rule(destination=("20.60.0.0/16",)), STORAGE, Match.YES, id="cidr-equal-to-a-prefix-covers"),
        pytest.param(rule(destination=("20.60.128.0/17",)), STORAGE, Match.MAYBE, id="cidr-inside-a-prefix-is-maybe"),
        pytest.param(
            rule(destination=("2603:1020::/32",)), STORAGE, Match.YES, id="ipv6-cidr-containing-a-prefix-covers"
        ),
        pytest.param(rule(destination=("52.0.0.0/8",)), STORAGE, Match.NO, id="disjoint-cidr-does-not"),
        pytest.param(rule(destination=("0.0.0.0/0",)), BLIND, Match.YES, id="0.0.0.0/0-covers-without-prefixes"),
        pytest.param(rule(destination=("20.0.0.0/8",)), BLIND, Match.MAYBE, id="cidr-without-prefixes-is-maybe"),
        pytest.param(
            rule(destination=("AzureBackup", "Storage")), STORAGE, Match.YES, id="any-listed-prefix-may-cover"
        ),
        pytest.param(rule(destination=()), STORAGE, Match.NO, id="asg-destination-never-covers"),
        pytest.param(rule(destination=("Internet",)), INTERNET, Match.YES, id="Internet-covers-internet"),
        pytest.param(rule(destination=("Storage",)), INTERNET, Match.NO, id="Storage-is-only-part-of-internet"),
        pytest.param(rule(destination=("20.0.0.0/8",)), INTERNET, Match.NO, id="a-cidr-is-only-part-of-internet"),
        pytest.param(rule(ports=("443",)), STORAGE, Match.YES, id="exact-port"),
        pytest.param(rule(ports=("443-443",)), STORAGE, Match.YES, id="one-port-range"),
        pytest.param(rule(ports=("442",)), STORAGE, Match.NO, id="port-one-below"),
        pytest.param(rule(ports=("444-8443",)), STORAGE, Match.NO, id="range-one-above"),
        pytest.param(rule(ports=("80", "440-450")), STORAGE, Match.YES, id="port-list-with-covering-range"),
        pytest.param(rule(ports=("https",)), STORAGE, Match.MAYBE, id="unreadable-port-is-maybe"),
        pytest.param(rule(protocol="TCP"), STORAGE, Match.YES, id="protocol-any-case"),
        pytest.param(rule(protocol="Icmp"), STORAGE, Match.NO, id="icmp-does-not"),
        pytest.param(rule(direction=Direction.INBOUND), STORAGE, Match.NO, id="inbound-never-matches"),
        pytest.param(rule(source=("10.0.1.0/24",)), STORAGE, Match.YES, id="source-cidr-with-vm-ip"),
        pytest.param(rule(source=("10.0.2.0/24",)), STORAGE, Match.NO, id="source-cidr-without-vm-ip"),
        pytest.param(rule(source=("10.0.1.0/24",)), BLIND, Match.MAYBE, id="source-cidr-with-unknown-ip-is-maybe"),
        pytest.param(rule(source=("Internet",)), STORAGE, Match.NO, id="source-internet-is-not-the-vm"),
        pytest.param(rule(source=(), source_asgs=("asg-app",)), STORAGE, Match.YES, id="source-asg-of-the-nic"),
        pytest.param(rule(source=(), source_asgs=("asg-app",)), BLIND, Match.MAYBE, id="source-asg-unknown-membership"),
    ],
)
def test_rule_match(subject: SecurityRule, target: Target, want: Match) -> None:
    assert evaluator.rule_match(subject, target) is want


ALLOW_STORAGE = rule()
DENY_ALL = deny()


@pytest.mark.parametrize(
    ("group", "want"),
    [
        pytest.param(
            nsg(),
            Decision(Verdict.ALLOWED, nsg(), nsg().rules[4]),
            id="default-rules-only-allow-via-AllowInternetOutBound",
        ),
        pytest.param(
            nsg(ALLOW_STORAGE, DENY_ALL),
            Decision(Verdict.ALLOWED, nsg(ALLOW_STORAGE, DENY_ALL), ALLOW_STORAGE),
            id="allow-before-deny",
        ),
        pytest.param(
            nsg(DENY_ALL, rule(priority=4001)),
            Decision(Verdict.DENIED, nsg(DENY_ALL, rule(priority=4001)), DENY_ALL),
            id="deny-before-allow",
        ),
        pytest.param(
            nsg(rule(priority=4000), DENY_ALL),
            Decision(Verdict.DENIED, nsg(rule(priority=4000), DENY_ALL), DENY_ALL),
            id="tie-deny-first",
        ),
        pytest.param(
            nsg(DENY_ALL, rule(priority=4000)),
            Decision(Verdict.DENIED, nsg(DENY_ALL, rule(priority=4000)), DENY_ALL),
            id="tie-deny-first-in-any-order",
        ),
        pytest.param(
            nsg(rule(destination=("20.60.128.0/17",)), DENY_ALL),
            Decision(
                Verdict.UNDETERMINED,
                nsg(rule(destination=("20.60.128.0/17",)), DENY_ALL),
                rule(destination=("20.60.128.0/17",)),
            ),
            id="maybe-allow-before-deny-is-undetermined",
        ),
        pytest.param(
            nsg(deny(priority=100, destination=("20.60.128.0/17",)), DENY_ALL),
            Decision(Verdict.DENIED, nsg(deny(priority=100, destination=("20.60.128.0/17",)), DENY_ALL), DENY_ALL),
            id="maybe-deny-before-deny-is-denied",
        ),
        pytest.param(
            nsg(defaults=False),
            Decision(Verdict.UNDETERMINED, nsg(defaults=False), None),
            id="no-rules-is-undetermined",
        ),
    ],
)
def test_evaluate(group: NetworkSecurityGroup, want: Decision) -> None:
    assert evaluator.evaluate(group, STORAGE) == want


NIC_DENY = nsg(DENY_ALL)
SUBNET_DENY = subnet_nsg(DENY_ALL, name="nsg-subnet-deny")
NIC_MAYBE = nsg(rule(destination=("20.60.128.0/17",)), DENY_ALL, name="nsg-nic-maybe")


@pytest.mark.parametrize(
    ("groups", "want"),
    [
        pytest.param((), Decision(Verdict.ALLOWED), id="no-nsg-allows"),
        pytest.param(
            (nsg(), subnet_nsg()), Decision(Verdict.ALLOWED, subnet_nsg(), subnet_nsg().rules[4]), id="both-allow"
        ),
        pytest.param((SUBNET_DENY, NIC_DENY), Decision(Verdict.DENIED, NIC_DENY, DENY_ALL), id="nic-nsg-is-read-first"),
        pytest.param((nsg(), SUBNET_DENY), Decision(Verdict.DENIED, SUBNET_DENY, DENY_ALL), id="subnet-deny-blocks"),
        pytest.param(
            (NIC_MAYBE, SUBNET_DENY), Decision(Verdict.DENIED, SUBNET_DENY, DENY_ALL), id="a-deny-beats-an-undetermined"
        ),
        pytest.param(
            (NIC_MAYBE, subnet_nsg()),
            Decision(Verdict.UNDETERMINED, NIC_MAYBE, rule(destination=("20.60.128.0/17",))),
            id="undetermined-nic-with-allowing-subnet",
        ),
    ],
)
def test_evaluate_path(groups: tuple[NetworkSecurityGroup, ...], want: Decision) -> None:
    assert evaluator.evaluate_path(groups, STORAGE) == want
