"""Properties of the NSG evaluator that must hold for any rule set."""

from __future__ import annotations

import dataclasses
import random

from azbackup.checks import nsg as evaluator
from azbackup.checks.facts import Access, Direction, NetworkSecurityGroup, NsgLevel, SecurityRule
from azbackup.checks.nsg import Target, Verdict
from hypothesis import given
from hypothesis import strategies as st

from .builders import DEFAULT_RULES, REGION, STORAGE_PREFIXES, VM_IP, nsg, rule

DESTINATIONS = [
    "*",
    "Internet",
    "Storage",
    "Storage.westeurope",
    "Storage.NorthEurope",
    "AzureBackup",
    "VirtualNetwork",
    "AzureCloud",
    "Sql",
    "0.0.0.0/0",
    "20.0.0.0/8",
    "20.60.0.0/16",
    "20.60.128.0/17",
    "10.0.0.0/8",
    "52.0.0.0/8",
]
SOURCES = ["*", "VirtualNetwork", "10.0.1.0/24", "10.9.0.0/16", "Internet", "0.0.0.0/0"]
PORTS = ["*", "443", "80", "400-500", "1-442", "444-65535", "8443"]

targets = st.builds(
    Target,
    port=st.sampled_from([443, 8443, 80]),
    storage_region=st.sampled_from([REGION, "northeurope", None]),
    storage_prefixes=st.sampled_from([STORAGE_PREFIXES, None]),
    source_ips=st.sampled_from([(VM_IP,), ("10.9.0.5",), None]),
    source_asgs=st.sampled_from([("asg-app",), (), None]),
)
custom_rules = st.builds(
    SecurityRule,
    name=st.text("abcdefgh", min_size=1, max_size=6),
    priority=st.integers(100, 4096),
    direction=st.sampled_from(Direction),
    access=st.sampled_from(Access),
    protocol=st.sampled_from(["*", "Tcp", "Udp", "All", "Icmp"]),
    destination_prefixes=st.lists(st.sampled_from(DESTINATIONS), min_size=1, max_size=2).map(tuple),
    destination_ports=st.lists(st.sampled_from(PORTS), min_size=1, max_size=2).map(tuple),
    source_prefixes=st.lists(st.sampled_from(SOURCES), min_size=1, max_size=2).map(tuple),
    source_asgs=st.sampled_from([(), ("asg-app",), ("asg-web",)]),
)
rule_lists = st.lists(custom_rules, max_size=8, unique_by=lambda r: r.name)


def group(rules: list[SecurityRule] | tuple[SecurityRule, ...]) -> NetworkSecurityGroup:
    return NetworkSecurityGroup("id", "nsg", NsgLevel.NIC, (*rules, *DEFAULT_RULES))


@given(rule_lists, targets, st.randoms(use_true_random=False))
def test_verdict_does_not_depend_on_rule_order(rules: list[SecurityRule], target: Target, rnd: random.Random) -> None:
    shuffled = list(rules)
    rnd.shuffle(shuffled)
    assert evaluator.evaluate(group(shuffled), target) == dataclasses.replace(
        evaluator.evaluate(group(rules), target), nsg=group(shuffled)
    )


@given(rule_lists, custom_rules, targets)
def test_rule_after_the_deciding_rule_changes_nothing(
    rules: list[SecurityRule], extra: SecurityRule, target: Target
) -> None:
    before = evaluator.evaluate(group(rules), target)
    if before.verdict is Verdict.UNDETERMINED or before.rule is None:
        return
    later = dataclasses.replace(extra, name=f"zz-{extra.name}", priority=before.rule.priority + 1)
    assert evaluator.evaluate(group([*rules, later]), target).verdict is before.verdict


@given(rule_lists, targets)
def test_highest_priority_deny_of_everything_always_blocks(rules: list[SecurityRule], target: Target) -> None:
    deny_all = rule("deny-everything", 100, Access.DENY, ("*",), ("*",), "*")
    assert evaluator.evaluate(group([*rules, deny_all]), target).verdict is Verdict.DENIED
    assert evaluator.evaluate_path((nsg(), group([*rules, deny_all])), target).verdict is Verdict.DENIED


@given(targets)
def test_default_rules_alone_allow_storage_and_internet(target: Target) -> None:
    decision = evaluator.evaluate(nsg(), target)
    assert (decision.verdict, decision.rule) == (Verdict.ALLOWED, DEFAULT_RULES[4])


@given(rule_lists, rule_lists, targets)
def test_a_path_allows_only_when_every_nsg_allows(
    nic_rules: list[SecurityRule], subnet_rules: list[SecurityRule], target: Target
) -> None:
    nic, subnet = group(nic_rules), dataclasses.replace(group(subnet_rules), level=NsgLevel.SUBNET)
    verdicts = {evaluator.evaluate(nic, target).verdict, evaluator.evaluate(subnet, target).verdict}
    path = evaluator.evaluate_path((subnet, nic), target).verdict
    if Verdict.DENIED in verdicts:
        assert path is Verdict.DENIED
    elif Verdict.UNDETERMINED in verdicts:
        assert path is Verdict.UNDETERMINED
    else:
        assert path is Verdict.ALLOWED


@given(rule_lists, targets)
def test_more_knowledge_never_flips_a_decided_verdict(rules: list[SecurityRule], target: Target) -> None:
    blind = dataclasses.replace(target, storage_prefixes=None, source_ips=None, source_asgs=None)
    decided = evaluator.evaluate(group(rules), blind)
    if decided.verdict is not Verdict.UNDETERMINED:
        assert evaluator.evaluate(group(rules), target).verdict is decided.verdict
