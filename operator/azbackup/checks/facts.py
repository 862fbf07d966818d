"""What the checks know about a VM and its surroundings: plain values, filled in by azure/inventory.

Every field that ARM may not tell us is Optional, and None always means "not known"; a check that
needs such a fact answers Unknown. Where "known to be absent" must differ from "not known", the field
is a tuple: () is known-empty, None is unknown. The comment on each field names the ARM field that
fills it (paths are relative to the resource's JSON as the REST API returns it).
"""

from __future__ import annotations

import dataclasses
import enum


def normalize_region(name: str) -> str:
    """ARM spells a region "West Europe" or "westeurope"; compare them as "westeurope"."""
    return name.replace(" ", "").lower()


class OSType(enum.StrEnum):
    WINDOWS = "Windows"
    LINUX = "Linux"


class PowerState(enum.StrEnum):
    """The suffix of instanceView.statuses[].code "PowerState/<state>"."""

    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    DEALLOCATING = "deallocating"
    DEALLOCATED = "deallocated"


class AdeFlavour(enum.StrEnum):
    """Azure Disk Encryption comes in two schemas, told apart by version numbers."""

    WITH_AAD_APP = "WithAADApp"  # encryptionSettingsVersion "1.0"; extension Windows 1.x, Linux 0.x
    WITHOUT_AAD_APP = "WithoutAADApp"  # encryptionSettingsVersion "1.1"; extension Windows 2.x, Linux 1.x


class SecurityType(enum.StrEnum):
    """properties.securityProfile.securityType; a VM without it is a Standard (security type) VM."""

    STANDARD = "Standard"
    TRUSTED_LAUNCH = "TrustedLaunch"
    CONFIDENTIAL_VM = "ConfidentialVM"


class PolicyType(enum.StrEnum):
    STANDARD = "Standard"  # backupPolicies properties.policyType "V1"
    ENHANCED = "Enhanced"  # backupPolicies properties.policyType "V2"


@dataclasses.dataclass(frozen=True, slots=True)
class ImageReference:
    publisher: str | None  # properties.storageProfile.imageReference.publisher ("MicrosoftWindowsServer")
    offer: str | None  # properties.storageProfile.imageReference.offer ("WindowsServer", "0001-com-ubuntu-…")
    sku: str | None  # properties.storageProfile.imageReference.sku ("2019-Datacenter", "22_04-lts-gen2")


@dataclasses.dataclass(frozen=True, slots=True)
class OSInfo:
    type: OSType | None  # properties.storageProfile.osDisk.osType
    image: ImageReference | None  # properties.storageProfile.imageReference; None for attached/custom disks
    name: str | None  # properties.instanceView.osName ("Windows Server 2019 Datacenter", "ubuntu")
    version: str | None  # properties.instanceView.osVersion ("10.0.17763", "22.04")


@dataclasses.dataclass(frozen=True, slots=True)
class AgentInfo:
    """The VM agent: what the VM model asks for and what the instance view reports."""

    # properties.osProfile.windowsConfiguration.provisionVMAgent or …linuxConfiguration.provisionVMAgent
    provision_vm_agent: bool | None
    allow_extension_operations: bool | None  # properties.osProfile.allowExtensionOperations
    # True: properties.instanceView.vmAgent is present; False: the instance view was read and has
    # no vmAgent; None: the instance view was not read.
    reported: bool | None
    version: str | None  # properties.instanceView.vmAgent.vmAgentVersion, verbatim ("Unknown" when unresponsive)
    # properties.instanceView.vmAgent.statuses[0].displayStatus == "Ready"; None when there is no status
    ready: bool | None


@dataclasses.dataclass(frozen=True, slots=True)
class Disk:
    name: str  # storageProfile.osDisk.name / storageProfile.dataDisks[].name
    lun: int | None  # storageProfile.dataDisks[].lun; None for the OS disk
    size_gb: int | None  # …diskSizeGB (or the disk resource's properties.diskSizeGB)
    managed: bool | None  # True: …managedDisk is set; False: …vhd is set (unmanaged)
    storage_account: str | None  # unmanaged only: the account in …vhd.uri (https://<account>.blob.core.windows.net/…)
    write_accelerator: bool | None  # …writeAcceleratorEnabled (absent means false)
    max_shares: int | None  # the disk resource's properties.maxShares (Microsoft.Compute/disks GET); absent is 1
    # Azure Disk Encryption on this disk: instanceView.disks[].encryptionSettings[].enabled, or the disk
    # resource's properties.encryptionSettingsCollection.enabled, or osDisk.encryptionSettings.enabled.
    # Server-side encryption (platform or customer-managed keys) is not ADE and does not count.
    ade_encrypted: bool | None
    # the disk resource's properties.encryptionSettingsCollection.encryptionSettingsVersion
    # ("1.0" with AAD app, "1.1" without); None when not encrypted or not known
    ade_flavour: AdeFlavour | None
    # Facts of prerequisites Azure added after the 2018 guide (None: not known).
    sku: str | None = None  # …managedDisk.storageAccountType ("Premium_LRS", "UltraSSD_LRS", "PremiumV2_LRS")
    ephemeral: bool | None = None  # storageProfile.osDisk.diffDiskSettings is set (ephemeral OS disk)
    # the disk resource's properties.dataAccessAuthMode == "AzureActiveDirectory" (Entra data access)
    data_access_auth: bool | None = None

    @property
    def shared(self) -> bool | None:
        return None if self.max_shares is None else self.max_shares > 1


@dataclasses.dataclass(frozen=True, slots=True)
class Extension:
    publisher: str  # resources[].properties.publisher ("Microsoft.Azure.Security")
    type: str  # resources[].properties.type ("AzureDiskEncryption", "AzureDiskEncryptionForLinux")
    version: str | None  # resources[].properties.typeHandlerVersion ("2.2", "1.1", "0.1")


class Access(enum.StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class Direction(enum.StrEnum):
    INBOUND = "Inbound"
    OUTBOUND = "Outbound"


class NsgLevel(enum.StrEnum):
    """Where a network security group is associated; outbound traffic meets the NIC's first."""

    NIC = "NetworkInterface"  # networkInterfaces properties.networkSecurityGroup.id
    SUBNET = "Subnet"  # virtualNetworks/subnets properties.networkSecurityGroup.id


@dataclasses.dataclass(frozen=True, slots=True)
class SecurityRule:
    """One rule of securityRules[] or defaultSecurityRules[] (or an effectiveSecurityRules[] entry)."""

    name: str  # name
    priority: int  # properties.priority (100-4096; default rules 65000-65500)
    direction: Direction  # properties.direction
    access: Access  # properties.access
    protocol: str  # properties.protocol: "*", "Tcp", "Udp", "Icmp", "Esp", "Ah"; effective rules say "All"
    # properties.destinationAddressPrefix plus destinationAddressPrefixes[]: "*", a CIDR or a service tag.
    # Empty when the rule targets application security groups (those never contain Azure Storage).
    destination_prefixes: tuple[str, ...]
    destination_ports: tuple[str, ...]  # properties.destinationPortRange plus destinationPortRanges[]
    source_prefixes: tuple[str, ...] = ("*",)  # properties.sourceAddressPrefix plus sourceAddressPrefixes[]
    source_asgs: tuple[str, ...] = ()  # properties.sourceApplicationSecurityGroups[].id


@dataclasses.dataclass(frozen=True, slots=True)
class NetworkSecurityGroup:
    id: str  # networkSecurityGroups id
    name: str  # networkSecurityGroups name
    level: NsgLevel  # which association brought it here (NIC or the NIC's subnet)
    rules: tuple[SecurityRule, ...]  # properties.securityRules[] + properties.defaultSecurityRules[] (all 6)


@dataclasses.dataclass(frozen=True, slots=True)
class NetworkInterface:
    id: str  # properties.networkProfile.networkInterfaces[].id
    name: str  # networkInterfaces name
    primary: bool | None  # properties.networkProfile.networkInterfaces[].properties.primary (or NIC properties.primary)
    private_ips: tuple[str, ...] | None  # properties.ipConfigurations[].properties.privateIPAddress
    public_ip_ids: tuple[str, ...] | None  # properties.ipConfigurations[].properties.publicIPAddress.id
    # properties.ipConfigurations[].properties.loadBalancerBackendAddressPools[].id
    backend_pools: tuple[str, ...] | None
    asg_ids: tuple[str, ...] | None  # properties.ipConfigurations[].properties.applicationSecurityGroups[].id
    # The NIC's NSG and its subnet's NSG, those that exist: () means neither has one; None: not read.
    security_groups: tuple[NetworkSecurityGroup, ...] | None


@dataclasses.dataclass(frozen=True, slots=True)
class StorageAccount:
    """A storage account that holds an unmanaged disk (Microsoft.Storage/storageAccounts GET)."""

    name: str  # name
    default_action: str | None  # properties.networkAcls.defaultAction: "Allow" | "Deny"
    bypass_azure_services: bool | None  # properties.networkAcls.bypass contains "AzureServices"


@dataclasses.dataclass(frozen=True, slots=True)
class Protection:
    """Answer of POST …/locations/{vm region}/backupStatus {"resourceType":"VM","resourceId":vm id}."""

    status: str  # protectionStatus: NotProtected | Protecting | Protected | ProtectionFailed | Invalid
    vault_id: str | None  # vaultId; None when no vault holds the VM


@dataclasses.dataclass(frozen=True, slots=True)
class VMFacts:
    """Everything the checks read about one VM; built by azure/inventory.py, never by a check."""

    id: str  # id
    name: str  # name
    resource_group: str  # the resourceGroups segment of id
    region: str | None  # location
    os: OSInfo
    agent: AgentInfo
    power_state: PowerState | None  # properties.instanceView.statuses[].code "PowerState/<state>"
    os_disk: Disk | None  # properties.storageProfile.osDisk
    data_disks: tuple[Disk, ...] | None  # properties.storageProfile.dataDisks[]
    extensions: tuple[Extension, ...] | None  # resources[] of type virtualMachines/extensions
    nics: tuple[NetworkInterface, ...] | None  # properties.networkProfile.networkInterfaces[]
    storage_accounts: tuple[StorageAccount, ...] | None  # the accounts named by unmanaged disks
    protection: Protection | None  # backupStatus; None when not read
    security_type: SecurityType | None = None  # properties.securityProfile.securityType (absent: Standard)

    @property
    def disks(self) -> tuple[Disk, ...] | None:
        """The OS disk and the data disks; None when either is not known."""
        if self.os_disk is None or self.data_disks is None:
            return None
        return (self.os_disk, *self.data_disks)

    @property
    def primary_nic(self) -> NetworkInterface | None:
        """The NIC whose traffic leaves the VM by default: the only one, or the one marked primary."""
        if not self.nics:
            return None
        if len(self.nics) == 1:
            return self.nics[0]
        return next((nic for nic in self.nics if nic.primary), None)


@dataclasses.dataclass(frozen=True, slots=True)
class DiskSelection:
    """The ProtectedVM's disk choice, sent as extendedProperties.diskExclusionProperties."""

    include_luns: tuple[int, ...] | None = None  # isInclusionList true, diskLunList these LUNs
    exclude_luns: tuple[int, ...] | None = None  # isInclusionList false, diskLunList these LUNs
    os_disk_only: bool = False  # isInclusionList true, diskLunList []

    def excluded(self, luns: tuple[int, ...]) -> tuple[int, ...]:
        """Which of the attached data-disk LUNs this selection leaves out of the backup."""
        if self.os_disk_only:
            return luns
        if self.include_luns is not None:
            return tuple(lun for lun in luns if lun not in self.include_luns)
        if self.exclude_luns is not None:
            return tuple(lun for lun in luns if lun in self.exclude_luns)
        return ()


@dataclasses.dataclass(frozen=True, slots=True)
class CheckContext:
    """What the checks know about the protection being asked for (from the specs and the vault)."""

    vault_id: str  # the BackupVault's Azure id
    vault_region: str  # the BackupVault's location
    policy_type: PolicyType | None  # the BackupPolicy's policyType; None until the policy is read
    disk_selection: DiskSelection = DiskSelection()  # ProtectedVM spec disk include/exclude
    http_proxy: str | None = None  # ProtectedVM spec httpProxy, as declared
    # The addressPrefixes of service tag Storage.<VM region> (Service Tags API, values[].properties);
    # None when not read, which leaves rules naming CIDRs undecided.
    storage_prefixes: tuple[str, ...] | None = None
