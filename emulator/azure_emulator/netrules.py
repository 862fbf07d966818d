"""NSG security rules and the question "can this VM reach Azure Storage / the Internet on 443?".

Pure: no state, no I/O. Outbound traffic from a NIC passes the NIC's NSG and then its subnet's
NSG; each evaluates its rules (custom and the six defaults) by ascending priority and the first
rule that matches decides. A layer that is None (no NSG attached) allows everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Target(StrEnum):
    """Where the backup extension needs to go."""

    STORAGE = "Storage"  #: Azure Storage in the VM's region (snapshots, unmanaged disks)
    INTERNET = "Internet"  #: general outbound Internet (Write Accelerator disks)


@dataclass(frozen=True)
class Rule:
    """One NSG security rule, with the fields the REST API uses (singular and plural forms)."""

    name: str
    priority: int
    direction: str = "Outbound"
    access: str = "Allow"
    protocol: str = "*"
    source_address_prefix: str = "*"
    destination_address_prefix: str = "*"
    source_port_range: str = "*"
    destination_port_range: str = "*"
    source_address_prefixes: tuple[str, ...] = ()
    destination_address_prefixes: tuple[str, ...] = ()
    source_port_ranges: tuple[str, ...] = ()
    destination_port_ranges: tuple[str, ...] = ()
    description: str = ""
    default: bool = field(default=False, compare=False)

    @property
    def destinations(self) -> tuple[str, ...]:
        return self.destination_address_prefixes or (self.destination_address_prefix,)

    @property
    def destination_ports(self) -> tuple[str, ...]:
        return self.destination_port_ranges or (self.destination_port_range,)


def _default(name: str, priority: int, direction: str, access: str, src: str, dst: str, text: str) -> Rule:
    return Rule(name, priority, direction, access, "*", src, dst, description=text, default=True)


#: The six rules every NSG has (`defaultSecurityRules`).
DEFAULT_RULES: tuple[Rule, ...] = (
    _default(
        "AllowVnetInBound",
        65000,
        "Inbound",
        "Allow",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow inbound traffic from all VMs in VNET",
    ),
    _default(
        "AllowAzureLoadBalancerInBound",
        65001,
        "Inbound",
        "Allow",
        "AzureLoadBalancer",
        "*",
        "Allow inbound traffic from azure load balancer",
    ),
    _default("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*", "Deny all inbound traffic"),
    _default(
        "AllowVnetOutBound",
        65000,
        "Outbound",
        "Allow",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow outbound traffic from all VMs to all VMs in VNET",
    ),
    _default(
        "AllowInternetOutBound",
        65001,
        "Outbound",
        "Allow",
        "*",
        "Internet",
        "Allow outbound traffic from all VMs to Internet",
    ),
    _default("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*", "Deny all outbound traffic"),
)

_ANY = {"*", "0.0.0.0/0", "any"}


def _covers(prefix: str, target: Target, region: str) -> bool:
    """Whether a destination prefix (service tag or CIDR) includes the target.

    Only tags and 0.0.0.0/0 are understood; any other CIDR is treated as not covering
    Azure Storage (the emulator's synthetic Storage prefixes are not matched by IP).
    """
    p = prefix.strip().lower()
    if p in _ANY or p == "internet":
        return True
    if target is Target.STORAGE:
        return p in {"storage", f"storage.{region.lower()}", "azurecloud", f"azurecloud.{region.lower()}"}
    return False


def _port_in(ranges: Iterable[str], port: int) -> bool:
    for r in ranges:
        r = r.strip()
        if r in ("*", ""):
            return True
        lo, _, hi = r.partition("-")
        try:
            if int(lo) <= port <= int(hi or lo):
                return True
        except ValueError:
            continue
    return False


def matches(rule: Rule, target: Target, region: str, port: int = 443) -> bool:
    """Whether an outbound TCP connection to `target:port` matches this rule."""
    return (
        rule.direction.lower() == "outbound"
        and rule.protocol.lower() in ("*", "tcp", "all")
        and _port_in(rule.destination_ports, port)
        and any(_covers(p, target, region) for p in rule.destinations)
    )


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    """Custom rules plus the defaults, by priority (what the NSG evaluates)."""
    return sorted([*rules, *DEFAULT_RULES], key=lambda r: r.priority)


def decide(rules: Sequence[Rule] | None, target: Target, region: str, port: int = 443) -> Rule | None:
    """The rule of one NSG that decides the connection, or None when no NSG is attached."""
    if rules is None:
        return None
    for rule in ordered(rules):
        if matches(rule, target, region, port):
            return rule
    return None  # unreachable: DenyAllOutBound matches everything outbound


def outbound_allowed(layers: Sequence[Sequence[Rule] | None], target: Target, region: str, port: int = 443) -> bool:
    """Whether every NSG on the path (NIC, then subnet) lets the connection out."""
    for rules in layers:
        rule = decide(rules, target, region, port)
        if rule is not None and rule.access.lower() != "allow":
            return False
    return True
