"""The emulator's in-memory world: subscriptions and their resources, identities, operations, jobs.

Everything is indexed by lower-cased keys (ARM names are case-insensitive) in dicts, so a lookup
is O(1) and a list is O(size of what it lists), also with thousands of VMs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from azure_emulator import errors, ids, inventory, mua, netrules, resource_types, verdicts, vmspec
from azure_emulator.activity_log import ActivityLog
from azure_emulator.backup_model import DeletedVault, Vault
from azure_emulator.lro import Job, Operation, Timeline
from azure_emulator.records import Identity, ManagedDisk, Nic, Nsg, StorageAccount, Subnet, Vm, Vnet
from azure_emulator.resource_types import ResourceType
from azure_emulator.restore_model import Restore
from azure_emulator.settings import Settings

T = TypeVar("T")


class Clock:
    """Wall-clock seconds, with an offset the admin API can advance (`/_admin/clock/advance`)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += max(0.0, seconds)


class Index(Generic[T]):
    """Resources of one type in one subscription, by resource group then name (lower-cased keys)."""

    def __init__(self) -> None:
        self._groups: dict[str, dict[str, T]] = {}
        self._count = 0

    def get(self, rg: str, name: str) -> T | None:
        return self._groups.get(ids.key(rg), {}).get(ids.key(name))

    def put(self, rg: str, name: str, value: T) -> None:
        group = self._groups.setdefault(ids.key(rg), {})
        if ids.key(name) not in group:
            self._count += 1
        group[ids.key(name)] = value

    def pop(self, rg: str, name: str) -> T | None:
        group = self._groups.get(ids.key(rg), {})
        value = group.pop(ids.key(name), None)
        if value is not None:
            self._count -= 1
        return value

    def in_group(self, rg: str) -> list[T]:
        return list(self._groups.get(ids.key(rg), {}).values())

    def values(self) -> Iterator[T]:
        for group in self._groups.values():
            yield from group.values()

    def __len__(self) -> int:
        return self._count


@dataclass
class JobFault:
    """An injected job failure: the next `count` jobs of `operation` for the VM fail with `code`."""

    id: str
    vm: str  #: VM name or id (lower-cased)
    operation: str  #: Backup, ConfigureBackup or Restore
    code: str
    message: str
    count: int | None = 1
    result: str = "Failed"  #: Restore only: `CompletedWithWarnings` restores the disks but not the VM


@dataclass
class Subscription:
    id: str
    display_name: str
    groups: dict[str, tuple[str, str]] = field(default_factory=dict)  #: key -> (name, location)
    #: one index per resource type of the table, by its short name
    indexes: dict[str, Index[Any]] = field(default_factory=lambda: {t.name: Index() for t in resource_types.ALL})
    deleted_vaults: dict[tuple[str, str], DeletedVault] = field(default_factory=dict)
    group_tags: dict[str, dict[str, str]] = field(default_factory=dict)  #: resource group key -> tags
    unregistered: set[str] = field(default_factory=set)  #: lower-cased provider namespaces not registered

    def of(self, kind: ResourceType[T]) -> Index[T]:
        """The subscription's index of one resource type of `resource_types.ALL`."""
        return cast(Index[T], self.indexes[kind.name])

    # the indexes of today's types by name, as the handlers have always read them

    @property
    def vms(self) -> Index[Vm]:
        return self.of(resource_types.VMS)

    @property
    def nics(self) -> Index[Nic]:
        return self.of(resource_types.NICS)

    @property
    def nsgs(self) -> Index[Nsg]:
        return self.of(resource_types.NSGS)

    @property
    def vnets(self) -> Index[Vnet]:
        return self.of(resource_types.VNETS)

    @property
    def storage(self) -> Index[StorageAccount]:
        return self.of(resource_types.STORAGE)

    @property
    def disks(self) -> Index[ManagedDisk]:
        return self.of(resource_types.DISKS)

    @property
    def vaults(self) -> Index[Vault]:
        return self.of(resource_types.VAULTS)


class State:
    """All resources, identities, operations and jobs of one emulator instance."""

    def __init__(self, seed: inventory.Inventory, settings: Settings, clock: Clock) -> None:
        self.seed = seed
        self.settings = settings
        self.clock = clock
        self.tenant_id = seed.tenant_id
        self.regions = set(seed.regions)
        self.subscriptions: dict[str, Subscription] = {}
        self.identities: dict[tuple[str, str], Identity] = {
            (ids.key(i.tenant_id), ids.key(i.client_id)): i for i in seed.identities
        }
        self.operations: dict[str, Operation] = {}
        self.jobs: dict[str, Job] = {}
        self.timeline = Timeline()
        self.protection: dict[str, tuple[str, str]] = {}  #: vm id key -> (vault key, item key)
        self.vaults_by_id: dict[str, Vault] = {}
        self.job_faults: list[JobFault] = []
        self.restores: dict[str, Restore] = {}  #: by Restore job id
        self.validations: dict[str, list[dict[str, Any]]] = {}  #: validate-operation results by operation id
        self.activity = ActivityLog()  #: Azure's Activity Log of every subscription (`activity_log.py`)
        self.mua = mua.Registry()  #: Resource Guards, their approvals and unlocked deletes (`mua.py`)
        for sub_seed in seed.subscriptions:
            self._seed_subscription(sub_seed)

    # -- subscriptions and resource groups ---------------------------------------------------

    def _seed_subscription(self, s: inventory.SubscriptionSeed) -> None:
        sub = self.subscriptions[ids.key(s.id)] = Subscription(s.id, s.display_name)
        sub.unregistered = {ns.lower() for ns in s.unregistered_providers}
        for name, location in s.resource_groups.items():
            self.ensure_group(sub, name, location)
        for nsg in s.nsgs:
            self.ensure_group(sub, nsg.resource_group, nsg.location)
            sub.nsgs.put(nsg.resource_group, nsg.name, nsg)
        for vnet in s.vnets:
            self.ensure_group(sub, vnet.resource_group, vnet.location)
            sub.vnets.put(vnet.resource_group, vnet.name, vnet)
        for account in s.storage_accounts:
            self.ensure_group(sub, account.resource_group, account.location)
            sub.storage.put(account.resource_group, account.name, account)
        for index, doc in enumerate(s.vms):
            self.add_vm(sub.id, doc, index=index)

    def subscription(self, sub_id: str) -> Subscription:
        sub = self.subscriptions.get(ids.key(sub_id))
        if sub is None:
            raise errors.subscription_not_found(sub_id)
        return sub

    def ensure_group(self, sub: Subscription, rg: str, location: str) -> None:
        sub.groups.setdefault(ids.key(rg), (rg, ids.norm_location(location)))

    def group(self, sub: Subscription, rg: str) -> tuple[str, str]:
        """The resource group's (name, location); 404 ResourceGroupNotFound when it does not exist."""
        found = sub.groups.get(ids.key(rg))
        if found is None:
            raise errors.resource_group_not_found(rg)
        return found

    # -- VMs and what they bring ---------------------------------------------------------------

    def add_vm(self, sub_id: str, doc: Mapping[str, Any], *, index: int = 0) -> Vm:
        sub = self.subscription(sub_id)
        rg_locations = {k: loc for k, (_, loc) in sub.groups.items()}
        bundle = vmspec.build_vm(
            doc, sub.id, default_location=self.seed.default_location, rg_locations=rg_locations, index=index
        )
        vm = bundle.vm
        self.ensure_group(sub, vm.resource_group, vm.location)
        for rg, vnet_name, subnet, location in bundle.subnets:
            self.ensure_group(sub, rg, location)
            vnet = sub.vnets.get(rg, vnet_name)
            if vnet is None:
                vnet = Vnet(sub.id, rg, vnet_name, location)
                sub.vnets.put(rg, vnet_name, vnet)
            vnet.subnets.setdefault(ids.key(subnet), Subnet(subnet, f"10.{len(vnet.subnets)}.0.0/24"))
        for rg, name, location in bundle.nsgs:
            self.ensure_group(sub, rg, location)
            if sub.nsgs.get(rg, name) is None:
                sub.nsgs.put(rg, name, Nsg(sub.id, rg, name, location))
        for rg, name, location in bundle.storage_accounts:
            self.ensure_group(sub, rg, location)
            if sub.storage.get(rg, name) is None:
                sub.storage.put(rg, name, StorageAccount(sub.id, rg, name, location))
        old = sub.vms.get(vm.resource_group, vm.name)
        if old is not None:
            self._detach(sub, old)
        sub.vms.put(vm.resource_group, vm.name, vm)
        for nic in bundle.nics:
            home = self.subnet_of(nic)
            if home is not None:
                vmspec.place_in_subnet(nic, home.address_prefix)
            sub.nics.put(nic.resource_group, nic.name, nic)
        for disk in vm.disks:
            if disk.managed and not disk.ephemeral:  # an ephemeral OS disk is no disk resource
                md = sub.disks.get(disk.resource_group, disk.name)
                if md is None:
                    md = ManagedDisk(sub.id, vm.location, disk, os_type=vm.os_type if disk.lun is None else None)
                    sub.disks.put(disk.resource_group, disk.name, md)
                if vm.id not in md.vm_ids:
                    md.vm_ids.append(vm.id)
        return vm

    def _detach(self, sub: Subscription, vm: Vm) -> None:
        for nic_id in vm.nic_ids:
            ref = ids.parse_resource_id(nic_id)
            if ref:
                sub.nics.pop(ref.resource_group, ref.name)
        for disk in vm.disks:
            md = sub.disks.get(disk.resource_group, disk.name) if disk.managed else None
            if md is not None:
                md.vm_ids = [v for v in md.vm_ids if ids.key(v) != ids.key(vm.id)]
                if not md.vm_ids:
                    sub.disks.pop(disk.resource_group, disk.name)

    def remove_vm(self, sub_id: str, rg: str, name: str) -> Vm | None:
        sub = self.subscription(sub_id)
        vm = sub.vms.pop(rg, name)
        if vm is not None:
            self._detach(sub, vm)
        return vm

    def delete_vm_only(self, sub_id: str, rg: str, name: str) -> Vm | None:
        """`VirtualMachines_Delete`: the VM goes; its NICs and disks stay, detached (Azure's default
        `deleteOption: Detach`, which a restored VM has: emulator choice, docs/emulator.md)."""
        sub = self.subscription(sub_id)
        vm = sub.vms.pop(rg, name)
        if vm is None:
            return None
        for nic_id in vm.nic_ids:
            nic = self.find(resource_types.NICS, nic_id)
            if nic is not None:
                nic.vm_id = None
        for disk in vm.disks:
            md = sub.disks.get(disk.resource_group, disk.name) if disk.managed else None
            if md is not None:
                md.vm_ids = [v for v in md.vm_ids if ids.key(v) != ids.key(vm.id)]
        return vm

    def update_vm(self, vm: Vm, patch: Mapping[str, Any]) -> Vm:
        """Merge a partial inventory document into a VM (name and resource group stay)."""
        return self.replace_vm(vm, inventory.merge(vm.doc, patch))

    def replace_vm(self, vm: Vm, doc: Mapping[str, Any]) -> Vm:
        """Rebuild a VM from a new document; extensions Azure installed at run time (VMSnapshot) stay."""
        doc = {**doc, "name": vm.name, "resourceGroup": vm.resource_group}
        new = self.add_vm(vm.subscription, doc)
        names = {ids.key(e.name) for e in new.extensions}
        new.extensions.extend(
            e for e in vm.extensions if ids.key(e.name) not in names and e.type.startswith("VMSnapshot")
        )
        return new

    def vm_by_id(self, vm_id: str) -> Vm | None:
        ref = ids.parse_resource_id(vm_id)
        if ref is None or not ref.is_type("Microsoft.Compute", "virtualMachines"):
            return None
        sub = self.subscriptions.get(ids.key(ref.subscription))
        return sub.vms.get(ref.resource_group, ref.name) if sub else None

    def find_vm(self, text: str) -> Vm | None:
        """A VM by id, by `rg/name`, or by a name unique across the inventory."""
        if text.startswith("/"):
            return self.vm_by_id(text)
        rg, _, name = text.rpartition("/")
        for sub in self.subscriptions.values():
            for vm in sub.vms.in_group(rg) if rg else sub.vms.values():
                if ids.key(vm.name) == ids.key(name):
                    return vm
        return None

    def find(self, kind: ResourceType[T], rid: str | None) -> T | None:
        """A resource of one type by its id (or by the id of a child of it: a subnet finds its vnet)."""
        ref = ids.parse_resource_id(rid) if rid else None
        sub = self.subscriptions.get(ids.key(ref.subscription)) if ref else None
        if ref is None or sub is None:
            return None
        return sub.of(kind).get(ref.resource_group, ref.names[0])

    def by_id(self, index_name: str, rid: str | None) -> Any:
        """`find` by the index's short name (`nics`, `nsgs`, `vnets`, `storage`, ...)."""
        kind = next((t for t in resource_types.ALL if t.name == index_name), None)
        if kind is None:
            raise AttributeError(f"no index {index_name!r}")
        return self.find(kind, rid)

    def subnet_of(self, nic: Nic) -> Subnet | None:
        vnet: Vnet | None = self.find(resource_types.VNETS, nic.subnet_id)
        return vnet.subnets.get(ids.key(nic.subnet_id.rsplit("/", 1)[-1])) if vnet else None

    def nsg_layers(self, nic: Nic) -> tuple[tuple[netrules.Rule, ...] | None, ...]:
        """The NSGs outbound traffic of a NIC passes: the NIC's, then its subnet's (None: none attached)."""
        layers: list[tuple[netrules.Rule, ...] | None] = []
        for nsg_id in (nic.nsg_id, (self.subnet_of(nic) or Subnet("", "")).nsg_id):
            nsg: Nsg | None = self.find(resource_types.NSGS, nsg_id)
            layers.append(tuple(nsg.rules) if nsg else None)
        return tuple(layers)

    def facts(self, vm: Vm | None, vm_id: str = "") -> verdicts.VmFacts:
        """The facts Azure Backup evaluates for a VM (`exists=False` when it is gone)."""
        if vm is None:
            return verdicts.VmFacts(vm_id=vm_id, location="", exists=False)
        nics: list[Nic] = [n for n in (self.find(resource_types.NICS, i) for i in vm.nic_ids) if n is not None]
        primary = next((n for n in nics if n.primary), nics[0] if nics else None)
        disks = []
        for d in vm.disks:
            account: StorageAccount | None = None
            if not d.managed and d.storage_account:
                sub = self.subscriptions[ids.key(vm.subscription)]
                account = sub.storage.get(d.storage_account_rg or vm.resource_group, d.storage_account)
            disks.append(
                verdicts.DiskFacts(
                    lun=d.lun,
                    size_gb=d.size_gb,
                    managed=d.managed,
                    write_accelerator=d.write_accelerator,
                    shared=d.max_shares > 1,
                    encrypted=d.encrypted,
                    sku=d.sku if d.managed else "",
                    ephemeral=d.ephemeral is not None,
                    data_access_auth=d.data_access_auth_mode == "AzureActiveDirectory",
                    storage_blocks_trusted_services=bool(account and account.blocks_trusted_services),
                )
            )
        return verdicts.VmFacts(
            vm_id=vm.id,
            location=vm.location,
            os_type=vm.os_type,
            os_name=vm.os_name,
            os_version=vm.os_version,
            image_publisher=vm.image.get("publisher", ""),
            image_offer=vm.image.get("offer", ""),
            agent=vm.agent,
            agent_version=vm.agent_version,
            power_state=vm.power_state,
            provisioning_state=vm.provisioning_state,
            allow_extension_operations=vm.allow_extension_operations,
            disks=tuple(disks),
            encryption=vm.encryption.method if vm.encryption else None,
            encryption_switched_from_aad=bool(vm.encryption and vm.encryption.switched_from_aad),
            security_type=vm.security_type or "",
            outbound_layers=self.nsg_layers(primary) if primary else (),
            http_proxy=vm.http_proxy,
        )

    # -- identities ----------------------------------------------------------------------------

    def identity(self, tenant: str, client_id: str) -> Identity | None:
        return self.identities.get((ids.key(tenant), ids.key(client_id)))

    def identity_by_client(self, client_id: str) -> Identity | None:
        return next((i for i in self.identities.values() if ids.key(i.client_id) == ids.key(client_id)), None)

    def tenants(self) -> set[str]:
        return {ids.key(self.tenant_id)} | {t for t, _ in self.identities}

    # -- time ----------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def settle(self) -> float:
        """Run every completion that is due; return the current time."""
        now = self.clock.now()
        self.timeline.settle(now)
        return now

    def scaled(self, seconds: float) -> float:
        return self.settings.scaled(seconds)
