"""The emulator's records of Azure resources: VMs and their disks and NICs, NSGs, VNets, storage
accounts, identities. They are filled from the inventory (`inventory.py`) and changed at run time
through the admin API; the ARM handlers render them as REST bodies.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from azure_emulator import ids, netrules
from azure_emulator.verdicts import Agent


@dataclass
class Disk:
    """An OS or data disk as the VM model shows it; managed disks are also `Microsoft.Compute/disks`."""

    name: str
    lun: int | None
    size_gb: int = 30
    managed: bool = True
    resource_group: str = ""  #: the managed disk's resource group
    sku: str = "Premium_LRS"
    caching: str = "ReadWrite"
    create_option: str = "FromImage"
    write_accelerator: bool = False
    max_shares: int = 1
    vhd_uri: str | None = None
    storage_account: str | None = None  #: account name of an unmanaged disk
    storage_account_rg: str | None = None
    encrypted: bool = False  #: carries Azure Disk Encryption settings
    #: the disk resource's properties.dataAccessAuthMode ("AzureActiveDirectory" or None)
    data_access_auth_mode: str | None = None
    #: OS disk only: the ephemeral OS disk placement (osDisk.diffDiskSettings.placement), None when persistent
    ephemeral: str | None = None


@dataclass
class Encryption:
    """Azure Disk Encryption on a VM: the extension plus encryption settings on its disks."""

    method: str = "ADE"  #: "ADE" (no Entra app, settings version 1.1) or "ADE-AAD" (1.0)
    disks: str = "all"  #: "all" or "os"
    switched_from_aad: bool = False  #: was ADE-AAD, re-encrypted without the app (Backup refuses it)
    key_vault_id: str = ""
    secret_url: str = ""


@dataclass
class Extension:
    name: str
    publisher: str
    type: str
    version: str
    provisioning_state: str = "Succeeded"
    settings: dict[str, Any] = field(default_factory=dict)  #: public settings (protected ones never show)
    tags: dict[str, str] = field(default_factory=dict)
    force_update_tag: str | None = None  #: properties.forceUpdateTag, shown only when the client set one


@dataclass
class IpConfig:
    name: str
    private_ip: str
    primary: bool = True
    public_ip_id: str | None = None
    lb_pool_ids: list[str] = field(default_factory=list)
    seed: int | None = None  #: picks the address inside the subnet's range (None: `private_ip` was given)


@dataclass
class Nic:
    subscription: str
    resource_group: str
    name: str
    location: str
    subnet_id: str
    nsg_id: str | None = None
    ip_configs: list[IpConfig] = field(default_factory=list)
    primary: bool = True
    vm_id: str | None = None
    mac: str = "00-0D-3A-00-00-01"
    accelerated_networking: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return ids.resource_id(
            self.subscription, self.resource_group, "Microsoft.Network", "networkInterfaces", self.name
        )


@dataclass
class Vm:
    """One virtual machine and every fact Azure Backup looks at."""

    subscription: str
    resource_group: str
    name: str
    location: str
    doc: dict[str, Any]  #: the normalized inventory document (the admin API merges into it)
    tags: dict[str, str] = field(default_factory=dict)
    size: str = "Standard_D2s_v3"
    zones: list[str] = field(default_factory=list)
    os_type: str = "Linux"
    os_name: str = "ubuntu"
    os_version: str = "22.04"
    image: dict[str, str] = field(default_factory=dict)
    agent: Agent = Agent.READY
    agent_version: str = "2.10.0.8"
    power_state: str = "running"
    provisioning_state: str = "Succeeded"
    provision_vm_agent: bool = True
    allow_extension_operations: bool = True
    os_disk: Disk = field(default_factory=lambda: Disk("osdisk", None))
    data_disks: list[Disk] = field(default_factory=list)
    encryption: Encryption | None = None
    security_type: str | None = None  #: properties.securityProfile.securityType (TrustedLaunch, ConfidentialVM)
    nic_ids: list[str] = field(default_factory=list)
    http_proxy: str | None = None
    extensions: list[Extension] = field(default_factory=list)
    vm_id: str = ""
    time_created: str = "2024-01-15T09:00:00.0000000+00:00"
    computer_name: str = ""
    admin_username: str = "azureuser"
    availability_set: str | None = None  #: id of the availability set the VM is in
    fault_domain: int = 0  #: platform fault and update domains (instance view)
    update_domain: int = 0
    user_data: str | None = None  #: base64 user data, shown with `$expand=userData`
    boot_diagnostics: bool = True  #: boot diagnostics on, in managed storage unless a storage URI is given
    boot_diagnostics_uri: str | None = None
    proximity_placement_group: str | None = None  #: id of the proximity placement group the VM is in
    scale_set: str | None = None  #: id of the flexible scale set the VM belongs to (Azure's `managedBy`)
    gallery_applications: list[dict[str, Any]] = field(default_factory=list)  #: applicationProfile, as ARM shows it
    patch_status: dict[str, Any] | None = None  #: the instance view's patchStatus, as ARM shows it
    in_standby_pool: bool | None = None  #: isVMInStandbyPool, for a VM of a scale set with a standby pool

    @functools.cached_property
    def id(self) -> str:
        # Cached: lists and discovery ask every VM of a subscription for its id on every page (a VM's
        # subscription, group and name never change; a changed VM is a new record).
        return ids.resource_id(
            self.subscription, self.resource_group, "Microsoft.Compute", "virtualMachines", self.name
        )

    @property
    def disks(self) -> list[Disk]:
        return [self.os_disk, *self.data_disks]


@dataclass
class ManagedDisk:
    """A `Microsoft.Compute/disks` resource: a managed disk and the VMs it is attached to."""

    subscription: str
    location: str
    disk: Disk
    vm_ids: list[str] = field(default_factory=list)
    os_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    created: float | None = None  #: creation time of a disk made at run time (a restore)

    @property
    def id(self) -> str:
        return ids.resource_id(
            self.subscription, self.disk.resource_group, "Microsoft.Compute", "disks", self.disk.name
        )


@dataclass
class Nsg:
    subscription: str
    resource_group: str
    name: str
    location: str
    rules: list[netrules.Rule] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return ids.resource_id(
            self.subscription, self.resource_group, "Microsoft.Network", "networkSecurityGroups", self.name
        )


@dataclass
class Subnet:
    name: str
    address_prefix: str
    nsg_id: str | None = None


@dataclass
class Vnet:
    subscription: str
    resource_group: str
    name: str
    location: str
    address_prefixes: list[str] = field(default_factory=lambda: ["10.0.0.0/16"])
    subnets: dict[str, Subnet] = field(default_factory=dict)  #: keyed by lower-cased name
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return ids.resource_id(
            self.subscription, self.resource_group, "Microsoft.Network", "virtualNetworks", self.name
        )

    def subnet_id(self, subnet: str) -> str:
        return f"{self.id}/subnets/{subnet}"


@dataclass
class StorageAccount:
    subscription: str
    resource_group: str
    name: str
    location: str
    default_action: str = "Allow"
    bypass: str = "AzureServices"
    ip_rules: list[str] = field(default_factory=list)
    vnet_rules: list[str] = field(default_factory=list)
    sku: str = "Standard_LRS"
    kind: str = "StorageV2"
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return ids.resource_id(
            self.subscription, self.resource_group, "Microsoft.Storage", "storageAccounts", self.name
        )

    @property
    def blocks_trusted_services(self) -> bool:
        """Deny by default and no `AzureServices` bypass: Azure Backup cannot read its page blobs."""
        bypass = {b.strip().lower() for b in self.bypass.split(",")}
        return self.default_action.lower() == "deny" and "azureservices" not in bypass


@dataclass(frozen=True)
class Federation:
    """A federated identity credential (workload identity): the token's issuer, subject and audience."""

    issuer: str
    subject: str
    audience: str = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class Denial:
    """An action the identity may not perform (`fnmatch` pattern), optionally only under a scope prefix."""

    action: str = "*"
    scope: str | None = None


@dataclass
class Identity:
    """A service principal: how it authenticates and what it is denied."""

    client_id: str
    tenant_id: str
    object_id: str
    display_name: str = ""
    secret: str | None = None
    certificates: list[str] = field(default_factory=list)  #: PEM certificates (public part)
    federated: list[Federation] = field(default_factory=list)
    deny: list[Denial] = field(default_factory=list)
