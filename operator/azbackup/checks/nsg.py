"""Would the VM's network security groups let one outbound TCP flow leave it?

Azure evaluates outbound traffic against the NIC's NSG and then the subnet's NSG; both must allow it.
Inside one NSG the rules are read by priority (lowest number first) and the first rule that matches
decides, allow or deny. Azure forbids two rules with one priority and direction in an NSG; should the
facts hold such a tie anyway, Deny is read first, so the verdict never depends on list order.

A rule can also match only "maybe": its destination is a CIDR and the storage prefixes are unknown,
or its source is a CIDR or an application security group and the VM's addresses are unknown. When a
"maybe" rule with the other access comes before the deciding rule, the verdict is UNDETERMINED.

Destinations, for a flow to Azure Storage in the VM's region:
- "*", 0.0.0.0/0, ::/0, Internet (Azure's public space is part of it), Storage, Storage.<region>,
  AzureCloud and AzureCloud.<region> (all Azure datacenter addresses) cover it;
- a CIDR covers it when it contains one of the known Storage.<region> prefixes;
- VirtualNetwork does not (it is the private address space);
- AzureBackup does not. The service tag table says the tag "has a dependency on the Storage and
  AzureActiveDirectory tags": it holds the Backup service's own front ends, and the snapshot extension
  of an IaaS VM backup talks to Storage. So an allow to AzureBackup alone opens no path to storage,
  and a deny to it closes none. (learn.microsoft.com/azure/virtual-network/service-tags-overview)
For a flow to "the internet at large" only "*", Internet and 0.0.0.0/0 count: a service tag or a
narrower CIDR is part of the internet, not a way to it.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from collections.abc import Sequence

from . import facts

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Verdict(enum.StrEnum):
    ALLOWED = "Allowed"
    DENIED = "Denied"
    UNDETERMINED = "Undetermined"


class Match(enum.IntEnum):
    NO = 0
    MAYBE = 1
    YES = 2


@dataclasses.dataclass(frozen=True)
class Target:
    """One outbound TCP flow from the VM: to Azure Storage in a region, or (region None) to the internet."""

    port: int
    storage_region: str | None
    storage_prefixes: tuple[str, ...] | None = None
    source_ips: tuple[str, ...] | None = None
    source_asgs: tuple[str, ...] | None = None

    def describe(self) -> str:
        where = "the Internet" if self.storage_region is None else f"Storage.{self.storage_region}"
        return f"TCP {self.port} to {where}"


@dataclasses.dataclass(frozen=True)
class Decision:
    verdict: Verdict
    nsg: facts.NetworkSecurityGroup | None = None
    rule: facts.SecurityRule | None = None  # the deciding rule; for UNDETERMINED the rule in doubt


def to_storage(region: str, port: int, prefixes: tuple[str, ...] | None, nic: facts.NetworkInterface) -> Target:
    return Target(port, facts.normalize_region(region), prefixes, nic.private_ips, nic.asg_ids)


def to_internet(port: int, nic: facts.NetworkInterface) -> Target:
    return Target(port, None, None, nic.private_ips, nic.asg_ids)


def evaluate_path(nsgs: Sequence[facts.NetworkSecurityGroup], target: Target) -> Decision:
    """Every NSG on the way must allow; no NSG at all allows everything."""
    decisions = [evaluate(nsg, target) for nsg in sorted(nsgs, key=lambda n: n.level is not facts.NsgLevel.NIC)]
    for verdict in (Verdict.DENIED, Verdict.UNDETERMINED):
        found = next((d for d in decisions if d.verdict is verdict), None)
        if found is not None:
            return found
    return decisions[-1] if decisions else Decision(Verdict.ALLOWED)


def evaluate(nsg: facts.NetworkSecurityGroup, target: Target) -> Decision:
    """The first matching rule by priority decides; see the module docstring for "maybe"."""
    doubtful: list[facts.SecurityRule] = []
    for rule in sorted(nsg.rules, key=lambda r: (r.priority, r.access is not facts.Access.DENY, r.name)):
        match = rule_match(rule, target)
        if match is Match.YES:
            doubt = next((r for r in doubtful if r.access is not rule.access), None)
            if doubt is not None:
                return Decision(Verdict.UNDETERMINED, nsg, doubt)
            allowed = rule.access is facts.Access.ALLOW
            return Decision(Verdict.ALLOWED if allowed else Verdict.DENIED, nsg, rule)
        if match is Match.MAYBE:
            doubtful.append(rule)
    # Only an NSG read without its default rules ends here: DenyAllOutBound matches everything.
    return Decision(Verdict.UNDETERMINED, nsg, doubtful[0] if doubtful else None)


def rule_match(rule: facts.SecurityRule, target: Target) -> Match:
    if rule.direction is not facts.Direction.OUTBOUND:
        return Match.NO
    if rule.protocol.strip().lower() not in ("*", "tcp", "all"):
        return Match.NO
    cover = _covers_internet if target.storage_region is None else _covers_storage
    destination = max((cover(p, target) for p in rule.destination_prefixes), default=Match.NO)
    return min(_port(rule.destination_ports, target.port), destination, _source(rule, target))


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _covers_storage(prefix: str, target: Target) -> Match:
    name = prefix.strip().lower()
    if name in ("*", "internet", "storage", "azurecloud"):
        return Match.YES
    tag, _, region = name.partition(".")
    if tag in ("storage", "azurecloud") and region:
        return Match.YES if facts.normalize_region(region) == target.storage_region else Match.NO
    network = _network(name)
    if network is None:  # another service tag: AzureBackup, VirtualNetwork, Sql, …
        return Match.NO
    if network.prefixlen == 0:
        return Match.YES
    if target.storage_prefixes is None:
        return Match.MAYBE
    storage = [n for n in map(_network, target.storage_prefixes) if n and n.version == network.version]
    if any(s.subnet_of(network) for s in storage):  # type: ignore[arg-type]
        return Match.YES
    return Match.MAYBE if any(s.overlaps(network) for s in storage) else Match.NO


def _covers_internet(prefix: str, target: Target) -> Match:
    name = prefix.strip().lower()
    if name in ("*", "internet"):
        return Match.YES
    network = _network(name)
    return Match.YES if network is not None and network.prefixlen == 0 else Match.NO


def _port(ranges: tuple[str, ...], port: int) -> Match:
    best = Match.NO
    for text in ranges:
        low, dash, high = text.strip().partition("-")
        if low == "*":
            return Match.YES
        if not low.isdigit() or (dash and not high.isdigit()):
            best = Match.MAYBE  # ARM validates ports, so this is a fact we failed to read
        elif int(low) <= port <= int(high if dash else low):
            return Match.YES
    return best


def _source(rule: facts.SecurityRule, target: Target) -> Match:
    best = Match.NO
    for prefix in rule.source_prefixes:
        name = prefix.strip().lower()
        network = _network(name)
        if name in ("*", "virtualnetwork") or (network is not None and network.prefixlen == 0):
            return Match.YES
        if network is None:  # Internet, AzureLoadBalancer, …: not where the VM's traffic starts
            continue
        if target.source_ips is None:
            best = Match.MAYBE
        elif any(ipaddress.ip_address(ip) in network for ip in target.source_ips if _same_family(ip, network)):
            return Match.YES
    for asg in rule.source_asgs:
        if target.source_asgs is None:
            best = Match.MAYBE
        elif asg.lower() in (a.lower() for a in target.source_asgs):
            return Match.YES
    return best


def _same_family(ip: str, network: Network) -> bool:
    return ipaddress.ip_address(ip).version == network.version
