"""Applying what the change feed named to a fleet snapshot, reading only those resources."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from azbackup.azure.lists import resource_type
from azbackup.checks import fleet_changes
from azbackup.checks.gather import Compact, Fleet, load_fleet

SUB = "/subscriptions/s/resourceGroups/rg/providers"
VNET = f"{SUB}/Microsoft.Network/virtualNetworks/vnet"
SUBNET = f"{VNET}/subnets/default"
NSG = f"{SUB}/Microsoft.Network/networkSecurityGroups/nsg"


def vm(name: str, tags: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"id": f"{SUB}/Microsoft.Compute/virtualMachines/{name}", "name": name, "location": "westeurope",
            "tags": dict(tags or {}),
            "properties": {
                "storageProfile": {"osDisk": {"name": f"{name}-os", "osType": "Linux",
                                              "managedDisk": {"id": f"{SUB}/Microsoft.Compute/disks/{name}-os"}}},
                "networkProfile": {"networkInterfaces": [
                    {"id": f"{SUB}/Microsoft.Network/networkInterfaces/{name}-nic"}]},
                "instanceView": {"statuses": [{"code": "PowerState/running"}]}}}


def nic(name: str) -> dict[str, Any]:
    return {"id": f"{SUB}/Microsoft.Network/networkInterfaces/{name}-nic", "name": f"{name}-nic",
            "properties": {"ipConfigurations": [{"properties": {"privateIPAddress": "10.0.0.4",
                                                                "subnet": {"id": SUBNET}}}]}}


def disk(name: str, max_shares: int = 1) -> dict[str, Any]:
    return {"id": f"{SUB}/Microsoft.Compute/disks/{name}-os",
            "managedBy": f"{SUB}/Microsoft.Compute/virtualMachines/{name}", "properties": {"maxShares": max_shares}}


def vnet(nsg: bool = True) -> dict[str, Any]:
    subnet: dict[str, Any] = {"id": SUBNET, "properties": {}}
    if nsg:
        subnet["properties"]["networkSecurityGroup"] = {"id": NSG}
    return {"id": VNET, "properties": {"subnets": [subnet]}}


def nsg() -> dict[str, Any]:
    return {"id": NSG, "name": "nsg", "properties": {"securityRules": []}}


class World:
    """A subscription as ARM JSON by id: the fleet's collections and its reads by id, counted."""

    def __init__(self, names: list[str]) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        for name in names:
            self.add(name)
        self.put(vnet())
        self.put(nsg())
        self.reads: list[str] = []

    def put(self, raw: dict[str, Any]) -> None:
        self.resources[raw["id"].lower()] = raw

    def add(self, name: str, tags: Mapping[str, str] | None = None) -> None:
        for raw in (vm(name, tags), nic(name), disk(name)):
            self.put(raw)

    def _of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.resources.values() if f"/{kind.lower()}/" in r["id"].lower()
                and "/subnets/" not in r["id"].lower()]

    async def network_and_disks(self, compact_disk: Compact, compact_nic: Compact) -> tuple[list[dict[str, Any]], ...]:
        return ([compact_disk(d) for d in self._of("disks")], [compact_nic(n) for n in self._of("networkInterfaces")],
                self._of("networkSecurityGroups"), self._of("virtualNetworks"))

    async def virtual_machines(self) -> AsyncIterator[dict[str, Any]]:
        for raw in self._of("virtualMachines"):
            yield raw

    async def storage_accounts(self) -> list[dict[str, Any]]:
        return []

    async def resource(self, resource_id: str) -> dict[str, Any] | None:
        self.reads.append(resource_id.rsplit("/", 1)[-1])
        return self.resources.get(resource_id.lower())


def loaded(world: World) -> Fleet:
    fleet = asyncio.run(load_fleet(world))
    world.reads.clear()
    return fleet


def apply(fleet: Fleet, world: World, *ids: str) -> fleet_changes.Applied:
    return asyncio.run(fleet_changes.apply_changes(fleet, fleet_changes.Named.of(ids, resource_type), world))


def vm_id(name: str) -> str:
    return f"{SUB}/Microsoft.Compute/virtualMachines/{name}".lower()


def test_a_new_vm_is_read_with_its_nic_and_disk_and_changes_membership() -> None:
    world = World(["a"])
    fleet = loaded(world)
    world.add("b", {"backup": "daily"})
    applied = apply(fleet, world, vm_id("b"))
    assert applied.fleet is not None
    assert applied.membership
    assert sorted(applied.fleet.vms) == [vm_id("a"), vm_id("b")]
    assert applied.fleet.raw[vm_id("b")]["tags"] == {"backup": "daily"}
    assert sorted(world.reads) == ["b", "b-nic", "b-os"]  # nothing of VM a, no list
    facts = applied.fleet.get(vm_id("b"))
    assert facts is not None
    assert facts.nics is not None
    assert facts.nics[0].security_groups


def test_a_re_tagged_vm_changes_membership_and_a_vm_extension_counts_as_its_vm() -> None:
    world = World(["a"])
    fleet = loaded(world)
    world.put({**vm("a"), "tags": {"backup": "none"}})
    applied = apply(fleet, world, vm_id("a") + "/extensions/VMSnapshotLinux")
    assert applied.fleet is not None
    assert applied.membership
    assert applied.vms == {vm_id("a")}
    assert world.reads == ["a"]


def test_an_unchanged_vm_read_again_changes_no_membership() -> None:
    world = World(["a"])
    applied = apply(loaded(world), world, vm_id("a"))
    assert applied.fleet is not None
    assert not applied.membership
    assert applied.vms == {vm_id("a")}


def test_a_deleted_vm_leaves_the_fleet() -> None:
    world = World(["a", "b"])
    fleet = loaded(world)
    del world.resources[vm_id("b")]
    applied = apply(fleet, world, vm_id("b"))
    assert applied.fleet is not None
    assert applied.membership
    assert sorted(applied.fleet.vms) == [vm_id("a")]


def test_a_shared_disk_made_shareable_rejoins_the_vm_that_uses_it() -> None:
    world = World(["a"])
    fleet = loaded(world)
    world.put(disk("a", max_shares=2))
    applied = apply(fleet, world, f"{SUB}/Microsoft.Compute/disks/a-os")
    assert applied.fleet is not None
    assert applied.vms == {vm_id("a")}
    facts = applied.fleet.get(vm_id("a"))
    assert facts is not None
    assert facts.os_disk is not None
    assert facts.os_disk.max_shares == 2


def test_an_nsg_change_rejoins_the_vms_behind_it() -> None:
    world = World(["a", "b"])
    fleet = loaded(world)
    world.put({**nsg(), "properties": {"securityRules": [{"name": "deny", "properties": {
        "priority": 100, "direction": "Outbound", "access": "Deny", "protocol": "*",
        "destinationAddressPrefix": "Storage", "destinationPortRange": "443"}}]}})
    applied = apply(fleet, world, NSG)
    assert applied.fleet is not None
    assert applied.vms == {vm_id("a"), vm_id("b")}
    facts = applied.fleet.get(vm_id("a"))
    assert facts is not None
    assert facts.nics is not None
    assert [r.name for g in facts.nics[0].security_groups or () for r in g.rules] == ["deny"]


def test_a_change_behind_too_many_vms_asks_for_the_whole_fleet() -> None:
    world = World([f"vm{i}" for i in range(fleet_changes.MAX_VMS + 1)])
    applied = apply(loaded(world), world, NSG)
    assert applied.fleet is None


@pytest.mark.parametrize("resource", [
    pytest.param(f"{SUB}/Microsoft.KeyVault/vaults/kv", id="a key vault"),
    pytest.param(f"{SUB}/Microsoft.Storage/storageAccounts/diag", id="a storage account no VM disk is on"),
])
def test_resources_the_fleet_does_not_hold_are_not_read(resource: str) -> None:
    world = World(["a"])
    fleet = loaded(world)
    applied = apply(fleet, world, resource)
    assert applied.fleet is not None
    assert not applied.vms
    assert world.reads == []
