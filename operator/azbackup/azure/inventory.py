"""Batched reads shared by every object: the VM fleet of a subscription, and a vault's protected items.

Reads grow with subscriptions and vaults, not with VMs: one paged list per collection per refresh.
Callers that arrive while a refresh is running await the same refresh (single flight), and a
snapshot younger than `max_age` is served from memory. What a fleet snapshot holds is the caller's
choice (`load_fleet`): the gateway reads, it does not decide what the reads mean.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from azbackup.azure import configure_jobs, errors, lists, operations
from azbackup.azure.gateway import Clients
from azbackup.azure.rest import all_items, rest
from azbackup.limits import capacity
from azbackup.toolkit import ids

T = TypeVar("T")
ANY_AGE = 1e12  # seconds: older than any real snapshot, younger than an invalidated one
FleetT = TypeVar("FleetT")


lower_id = ids.lower


def item_key(vault_id: str, vm_id: str) -> str:
    """The key of a vault's protected item for one VM in `Inventory.read_again` / `max_age`."""
    return f"{vault_id.lower()}#{vm_id.lower()}"


@dataclass(frozen=True)
class BackupStatus:
    """Azure Backup's answer to "which vault protects this VM" (backupStatus)."""

    protection_status: str
    vault_id: str | None


# The old name of `rest.all_items`, kept while other branches still import it from here.
collect = all_items


class SingleFlight(Generic[T]):
    """A value refreshed at most once at a time, and served from memory while fresh."""

    def __init__(self, load: Callable[[], Awaitable[T]], clock: Callable[[], float] = time.monotonic) -> None:
        self._load, self._clock = load, clock
        self._value: T | None = None
        self._at = float("-inf")  # when the current value's load started
        self._task: asyncio.Task[T] | None = None

    @property
    def age(self) -> float:
        return self._clock() - self._at

    def invalidate(self) -> None:
        self._at = float("-inf")

    @property
    def current(self) -> T | None:
        """The value held now, however old (None before the first read)."""
        return self._value

    async def settled(self) -> T | None:
        """The value once a read in flight has finished (a patch applied before it ends would be lost)."""
        if self._task is not None:
            return await asyncio.shield(self._task)
        return self._value

    def replace(self, value: T) -> None:
        """A value brought up to date by the caller: as old as the read it was patched from."""
        self._value = value

    @property
    def loaded_at(self) -> float:
        """When the read that produced the current value began (what it can reflect at most)."""
        return self._at

    async def get(self, max_age: float) -> T:
        """A value whose read began at most `max_age` ago; concurrent callers share one read."""
        if self._value is not None and self._clock() - self._at <= max_age:
            return self._value
        if self._task is None:
            self._task = asyncio.ensure_future(self._refresh(self._clock()))
        return await asyncio.shield(self._task)

    async def _refresh(self, started: float) -> T:
        try:
            value = await self._load()
            # The value is as fresh as the moment its read began.
            self._value, self._at = value, started
            return value
        finally:
            self._task = None


@dataclass(frozen=True)
class VaultItems:
    """The protected items of one vault, by lower-cased source VM id."""

    items: Mapping[str, Mapping[str, Any]]

    def for_vm(self, vm_id: str) -> Mapping[str, Any] | None:
        return self.items.get(vm_id.lower())

    def with_item(self, item_id: str, item: Mapping[str, Any] | None) -> tuple[VaultItems, str | None]:
        """The items with one read again by its id (None: deleted), and the VM it protects."""
        items = dict(self.items)
        if item is None:
            vm = next((vm for vm, held in items.items() if lower_id(held.get("id")) == lower_id(item_id)), None)
            if vm is not None:
                del items[vm]
            return VaultItems(items), vm
        props = item.get("properties") or {}
        source = lower_id(props.get("sourceResourceId") or props.get("virtualMachineId"))
        if not source:
            return self, None
        items[source] = compact_item(item)
        return VaultItems(items), source

    def capacity_items(self) -> list[capacity.Item]:
        """What Azure's limits count: each item's VM, policy, and whether it is soft-deleted."""
        out = []
        for vm, item in self.items.items():
            props = item.get("properties") or {}
            out.append(capacity.Item(vm, props.get("policyName"), bool(props.get("isScheduledForDeferredDelete"))))
        return out


# What the operator reads of a protected item (status, differences, state); the rest of Azure's item
# (KPI healths, extended info, ...) would be held in memory for every VM of the vault between reads.
_ITEM_PROPERTIES = ("protectedItemType", "friendlyName", "sourceResourceId", "virtualMachineId", "policyId",
                    "policyName", "protectionState", "healthStatus", "lastBackupStatus", "lastBackupTime",
                    "lastRecoveryPoint", "isScheduledForDeferredDelete", "policyType",
                    # the purge date of a soft-deleted item (kinds/vault_deletion.purge_date)
                    "deferredDeleteTimeInUTC", "softDeleteRetentionPeriodInDays")


def compact_item(item: Mapping[str, Any]) -> dict[str, Any]:
    props = item.get("properties") or {}
    kept = {k: props[k] for k in _ITEM_PROPERTIES if props.get(k) is not None}
    exclusion = (props.get("extendedProperties") or {}).get("diskExclusionProperties")
    if exclusion:
        kept["extendedProperties"] = {"diskExclusionProperties": exclusion}
    return {"id": item.get("id"), "name": item.get("name"), "properties": kept}


async def load_vault_items(clients: Clients, vault_name: str, resource_group: str) -> VaultItems:
    url = lists.vault_collection(clients.subscription_id, resource_group, vault_name, "backupProtectedItems",
                                 lists.IAAS_VM_ITEMS)
    by_vm: dict[str, Mapping[str, Any]] = {}
    async for item in lists.pages(clients.send_request, url):  # page by page: never the whole raw list
        props = item.get("properties") or {}
        source = props.get("sourceResourceId") or props.get("virtualMachineId")
        if source:
            by_vm[lower_id(source)] = compact_item(item)
    return VaultItems(by_vm)


class Inventory(Generic[FleetT]):
    """The shared caches of the process: fleets per subscription, items per vault, service tags."""

    def __init__(self, load_fleet: Callable[[Clients], Awaitable[FleetT]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._load_fleet = load_fleet
        self._fleets: dict[str, SingleFlight[FleetT]] = {}
        self._items: dict[str, SingleFlight[VaultItems]] = {}
        self._configures: dict[str, SingleFlight[frozenset[str]]] = {}
        self._tags: dict[tuple[str, str], SingleFlight[tuple[str, ...] | None]] = {}
        self._status: dict[str, tuple[float, BackupStatus]] = {}
        self._protectable: dict[str, SingleFlight[frozenset[str]]] = {}
        self._discoveries: dict[str, SingleFlight[float]] = {}
        # Resources (VMs, protected items) read again one by one after the change feed named them: their
        # entry in an older snapshot is as fresh as that read.
        self._read_at: dict[str, float] = {}

    def fleet(self, clients: Clients) -> SingleFlight[FleetT]:
        key = clients.subscription_id.lower()
        if key not in self._fleets:
            self._fleets[key] = SingleFlight(lambda: self._load_fleet(clients), self.clock)
        return self._fleets[key]

    def vault_items(self, clients: Clients, vault_id: str, vault_name: str, resource_group: str
                    ) -> SingleFlight[VaultItems]:
        key = vault_id.lower()
        if key not in self._items:
            self._items[key] = SingleFlight(lambda: load_vault_items(clients, vault_name, resource_group), self.clock)
        return self._items[key]

    def running_configures(self, clients: Clients, vault_id: str, vault_name: str, resource_group: str
                           ) -> SingleFlight[frozenset[str]]:
        """VMs with a configure-protection job running in the vault (azure.configure_jobs)."""
        key = vault_id.lower()
        if key not in self._configures:
            self._configures[key] = SingleFlight(
                lambda: configure_jobs.load_running(clients, vault_name, resource_group), self.clock)
        return self._configures[key]

    def storage_prefixes(self, clients: Clients, region: str) -> SingleFlight[tuple[str, ...] | None]:
        key = (clients.subscription_id.lower(), region.replace(" ", "").lower())
        if key not in self._tags:
            async def load() -> tuple[str, ...] | None:
                result = await lists.get(clients.send_request, lists.service_tags(clients.subscription_id, key[1]))
                wanted = f"storage.{key[1]}"
                for value in result.get("values") or ():
                    if str(value.get("name", "")).lower() == wanted:
                        return tuple((value.get("properties") or {}).get("addressPrefixes") or ())
                return None
            self._tags[key] = SingleFlight(load, self.clock)
        return self._tags[key]

    async def protection(self, clients: Clients, vm_id: str, region: str, max_age: float) -> BackupStatus:
        """Which vault protects a VM (backupStatus), cached per VM: asked only for VMs not yet ours."""
        cached = self._status.get(vm_id.lower())
        if cached and self.clock() - cached[0] <= max_age:
            return cached[1]
        with errors.guard():
            answer = rest(await clients.backup.backup_status.get(
                region.replace(" ", "").lower(), {"resourceType": "VM", "resourceId": vm_id}))
        protection = BackupStatus(str(answer.get("protectionStatus") or "NotProtected"), answer.get("vaultId"))
        self._status[vm_id.lower()] = (self.clock(), protection)
        return protection

    def protectable(self, clients: Clients, vault_id: str, vault_name: str, resource_group: str
                    ) -> SingleFlight[frozenset[str]]:
        """VMs Azure Backup's discovery lists for a vault: unprotected VMs of its subscription and region."""
        key = vault_id.lower()
        if key not in self._protectable:
            async def load() -> frozenset[str]:
                url = lists.vault_collection(clients.subscription_id, resource_group, vault_name,
                                             "backupProtectableItems", lists.IAAS_VM)
                # Interned: every vault of a region lists the same VM ids, so they share one string each.
                return frozenset([sys.intern(lower_id((i.get("properties") or {}).get("virtualMachineId")))
                                  async for i in lists.pages(clients.send_request, url)])
            self._protectable[key] = SingleFlight(load, self.clock)
        return self._protectable[key]

    async def discover(self, clients: Clients, vault_id: str, vault_name: str, resource_group: str,
                       cooldown: float) -> None:
        """refreshContainers for a vault, at most once per `cooldown`, shared by every caller (one POST and
        one wait per vault, not per VM). Discovery is a read-only action, though ARM counts the POST."""
        key = vault_id.lower()
        if key not in self._discoveries:
            async def refresh() -> float:
                capture = operations.HeaderCapture()
                with errors.guard():
                    await clients.backup.protection_containers.refresh(vault_name, resource_group, "Azure",
                                                                       raw_response_hook=capture)
                url = capture.headers.get("Location") or capture.headers.get("location")
                wait = float(capture.headers.get("Retry-After") or 2)
                for _ in range(60 if url else 0):
                    polled = await operations.poll(clients.backup.send_request, url or "")
                    if polled.state is not operations.State.RUNNING:
                        break
                    await asyncio.sleep(wait)
                if (flight := self._protectable.get(key)) is not None:
                    flight.invalidate()
                return self.clock()
            self._discoveries[key] = SingleFlight(refresh, self.clock)
        await self._discoveries[key].get(cooldown)

    def read_again(self, resource_ids: Iterable[str]) -> None:
        """These entries of the snapshots were just read one by one (the change feed named them)."""
        now = self.clock()
        for resource_id in resource_ids:
            self._read_at[resource_id.lower()] = now
        if len(self._read_at) > 10000:
            self._read_at = {k: at for k, at in self._read_at.items() if now - at < 3600.0}

    def max_age(self, resource_id: str, wanted: float) -> float:
        """How old a snapshot may be for this resource: any age if it alone was read within `wanted`.
        (Finite: an invalidated snapshot, whose age is infinite, is read again all the same.)"""
        at = self._read_at.get(resource_id.lower())
        return ANY_AGE if at is not None and self.clock() - at <= wanted else wanted

    def forget_protection(self, vm_id: str) -> None:
        self._status.pop(vm_id.lower(), None)

    def invalidate_vault(self, vault_id: str) -> None:
        if (flight := self._items.get(vault_id.lower())) is not None:
            flight.invalidate()

    def invalidate_subscription(self, subscription_id: str, older_than: float = 0.0) -> None:
        """Re-read the fleet next time, unless another vault's pass read it less than `older_than` ago."""
        if (flight := self._fleets.get(subscription_id.lower())) is not None and flight.age >= older_than:
            flight.invalidate()
