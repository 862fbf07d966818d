"""Every resource type a subscription holds, one line each in `ALL`.

A new resource type is its record, its `arm/` module and one line here: each subscription then has an
index of it (`Subscription.of(KIND)`), `State.find(KIND, id)` finds one by id, and a resource group
that holds one cannot be deleted (`arm/resources.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from azure_emulator.backup_model import Vault
from azure_emulator.records import ManagedDisk, Nic, Nsg, StorageAccount, Vm, Vnet

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class ResourceType(Generic[T_co]):
    """One ARM resource type and the record type its index holds (the type parameter)."""

    namespace: str
    type: str
    name: str  #: the index's short name: `Subscription.nics`, `State.by_id("nics", ...)`

    @property
    def arm_type(self) -> str:
        return f"{self.namespace}/{self.type}"


VMS: Final = ResourceType[Vm]("Microsoft.Compute", "virtualMachines", "vms")
NICS: Final = ResourceType[Nic]("Microsoft.Network", "networkInterfaces", "nics")
NSGS: Final = ResourceType[Nsg]("Microsoft.Network", "networkSecurityGroups", "nsgs")
VNETS: Final = ResourceType[Vnet]("Microsoft.Network", "virtualNetworks", "vnets")
STORAGE: Final = ResourceType[StorageAccount]("Microsoft.Storage", "storageAccounts", "storage")
DISKS: Final = ResourceType[ManagedDisk]("Microsoft.Compute", "disks", "disks")
VAULTS: Final = ResourceType[Vault]("Microsoft.RecoveryServices", "vaults", "vaults")

#: the table: every subscription gets an index of each
ALL: Final[tuple[ResourceType[object], ...]] = (VMS, NICS, NSGS, VNETS, STORAGE, DISKS, VAULTS)
