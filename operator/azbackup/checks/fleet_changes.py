"""A subscription's fleet brought up to date with the resources a change feed named, reading only those.

The hourly pass reads every collection of the subscription; between passes, a VM that was created,
re-tagged or deleted, or a NIC, disk, NSG or VNet that changed, is read again by its id and joined with
what the fleet already holds. A change that touches many VMs at once (an NSG in front of hundreds) is
cheaper to answer with one read of the whole fleet: `apply_changes` then says so instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azbackup.toolkit import ids
from azbackup.toolkit.json import dig as get_path

from .gather import Fleet, FleetSource, Json, Network, compact_disk, lower_id, vm_facts, with_storage_accounts
from .gather import _selectable as selectable_of

# More VMs than this touched by one batch: re-read the whole fleet (about a dozen list pages for a
# thousand VMs) rather than one VM at a time.
MAX_VMS = 25
_NETWORK = ("networkinterfaces", "networksecuritygroups", "virtualnetworks")


_top = ids.top_level


@dataclass(frozen=True)
class Named:
    """Resource ids the feed named since the last batch, by what they are to the fleet (lower-cased)."""

    vms: frozenset[str] = frozenset()
    disks: frozenset[str] = frozenset()
    network: Mapping[str, frozenset[str]] = field(default_factory=lambda: {kind: frozenset() for kind in _NETWORK})
    storage_accounts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, resource_ids: Iterable[str], type_of: Callable[[str], str]) -> Named:
        """Sorts ids by type (`type_of`: 'microsoft.compute/virtualmachines' for a VM id, the gateway's
        reading of ARM ids); a VM's extension (the agent's, the backup extension) counts as its VM."""
        vms, disks, accounts = set(), set(), set()
        network: dict[str, set[str]] = {kind: set() for kind in _NETWORK}
        for resource_id in resource_ids:
            kind = type_of(resource_id)
            if kind.startswith("microsoft.compute/virtualmachines"):
                vms.add(_top(resource_id))
            elif kind == "microsoft.compute/disks":
                disks.add(resource_id.lower())
            elif kind.startswith("microsoft.network/") and kind.split("/")[1] in network:
                network[kind.split("/")[1]].add(_top(resource_id))
            elif kind == "microsoft.storage/storageaccounts":
                accounts.add(resource_id.lower())
        return cls(frozenset(vms), frozenset(disks), {k: frozenset(v) for k, v in network.items()},
                   frozenset(accounts))

    def __bool__(self) -> bool:
        return bool(self.vms or self.disks or self.storage_accounts or any(self.network.values()))


@dataclass(frozen=True)
class Applied:
    """The fleet after a batch; `fleet` None: too much changed, read the whole fleet again."""

    fleet: Fleet | None
    vms: frozenset[str] = frozenset()  # VMs whose facts changed, appeared or went
    membership: bool = False  # a VM appeared, went, or changed what selectors match on
    reads: int = 0


class _Reader:
    def __init__(self, source: FleetSource) -> None:
        self.source, self.reads = source, 0

    async def get(self, resource_id: str) -> dict[str, Any] | None:
        self.reads += 1
        return await self.source.resource(resource_id)


async def apply_changes(fleet: Fleet, named: Named, source: FleetSource) -> Applied:
    """Read the named resources (and anything a changed VM refers to that the fleet lacks) and rejoin
    the VMs they concern."""
    network = fleet.network
    if network is None:
        return Applied(None)
    reader = _Reader(source)
    unmanaged = {d.storage_account for vm in fleet.vms.values() for d in (vm.os_disk, *(vm.data_disks or ()))
                 if d is not None and d.storage_account}
    if any(ids.name(account) in unmanaged for account in named.storage_accounts):
        return Applied(None)  # firewall facts of unmanaged disks: rare enough to re-read everything
    disks = dict(fleet.disks)
    touched: set[str] = set(named.vms)
    vm_of_nic = {nic.id.lower(): vm_id for vm_id, vm in fleet.vms.items() for nic in vm.nics or ()}
    for disk_id in named.disks:
        raw = await reader.get(disk_id)
        if raw is None:
            disks.pop(disk_id, None)
            continue
        disks[disk_id] = compact_disk(raw)
        if raw.get("managedBy"):
            touched.add(lower_id(raw["managedBy"]))
    for kind in _NETWORK:
        for resource_id in named.network[kind]:
            network.put(kind, resource_id, await reader.get(resource_id))
    nics = set(named.network["networkinterfaces"]) | network.nics_using(
        set(named.network["networksecuritygroups"]), set(named.network["virtualnetworks"]))
    touched |= {vm_of_nic[nic] for nic in nics if nic in vm_of_nic}
    touched &= set(fleet.vms) | set(named.vms)
    if len(touched) > MAX_VMS:
        return Applied(None, reads=reader.reads)

    vms, raw_vms = dict(fleet.vms), dict(fleet.raw)
    membership = False
    for vm_id in sorted(touched):  # at most MAX_VMS reads, one after the other (checks import no asyncio)
        raw = await reader.get(vm_id)
        if raw is None:
            membership |= vms.pop(vm_id, None) is not None
            raw_vms.pop(vm_id, None)
            continue
        await _complete_references(raw, disks, network, reader)
        facts = vm_facts(raw, disks, network, None)
        if facts.storage_accounts is None:
            accounts = {str(a.get("name", "")).lower(): a for a in await source.storage_accounts()}
            reader.reads += 1
            facts = with_storage_accounts(facts, accounts)
        selectable = selectable_of(raw)
        membership |= raw_vms.get(vm_id) != selectable
        vms[vm_id], raw_vms[vm_id] = facts, selectable
    return Applied(Fleet(vms, raw_vms, disks, network), frozenset(touched), membership, reader.reads)


async def _complete_references(vm: Json, disks: dict[str, Json], network: Network, reader: _Reader) -> None:
    """A new VM refers to NICs, disks, subnets and NSGs the fleet may not hold yet: read those."""
    props = vm.get("properties") or {}
    storage = props.get("storageProfile") or {}
    for disk in (storage.get("osDisk"), *(storage.get("dataDisks") or ())):
        disk_id = lower_id(get_path(disk, "managedDisk", "id"))
        if disk_id and disk_id not in disks and (raw := await reader.get(disk_id)) is not None:
            disks[disk_id] = compact_disk(raw)
    for ref in get_path(props, "networkProfile", "networkInterfaces") or ():
        nic_id = lower_id(ref.get("id"))
        if nic_id and nic_id not in network.nics:
            network.put("networkinterfaces", nic_id, await reader.get(nic_id))
        nic = network.nics.get(nic_id) or {}
        nsg = lower_id(get_path(nic, "properties", "networkSecurityGroup", "id"))
        if nsg and nsg not in network.nsgs:
            network.put("networksecuritygroups", nsg, await reader.get(nsg))
        for config in get_path(nic, "properties", "ipConfigurations") or ():
            subnet = lower_id(get_path(config, "properties", "subnet", "id"))
            if subnet and subnet not in network.subnets:
                vnet = subnet.split("/subnets/")[0]
                network.put("virtualnetworks", vnet, await reader.get(vnet))
            subnet_nsg = lower_id(get_path(network.subnets.get(subnet), "properties", "networkSecurityGroup", "id"))
            if subnet_nsg and subnet_nsg not in network.nsgs:
                network.put("networksecuritygroups", subnet_nsg, await reader.get(subnet_nsg))

