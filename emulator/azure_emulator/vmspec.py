"""How an inventory VM document becomes records: OS presets, disks, encryption, NICs, NSG rules."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azure_emulator import ids, netrules, vmprofile
from azure_emulator.inventory_fields import InventoryError, required, split_ref, tags_of
from azure_emulator.records import Disk, Encryption, Extension, IpConfig, Nic, Vm
from azure_emulator.verdicts import Agent

#: OS presets for `os:` — image reference and what the instance view reports.
OS_PRESETS: dict[str, dict[str, Any]] = {
    "ubuntu": {
        "osType": "Linux",
        "osName": "ubuntu",
        "osVersion": "22.04",
        "image": {
            "publisher": "Canonical",
            "offer": "0001-com-ubuntu-server-jammy",
            "sku": "22_04-lts-gen2",
            "version": "latest",
        },
    },
    "rhel": {
        "osType": "Linux",
        "osName": "redhat",
        "osVersion": "9.4",
        "image": {"publisher": "RedHat", "offer": "RHEL", "sku": "9-lvm-gen2", "version": "latest"},
    },
    "coreos": {
        "osType": "Linux",
        "osName": "coreos",
        "osVersion": "2345.3.0",
        "image": {"publisher": "CoreOS", "offer": "CoreOS", "sku": "Stable", "version": "latest"},
    },
    "windows2022": {
        "osType": "Windows",
        "osName": "Windows Server 2022 Datacenter Azure Edition",
        "osVersion": "10.0.20348",
        "image": {
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2022-datacenter-azure-edition",
            "version": "latest",
        },
    },
    "windows2019": {
        "osType": "Windows",
        "osName": "Windows Server 2019 Datacenter",
        "osVersion": "10.0.17763",
        "image": {
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2019-Datacenter",
            "version": "latest",
        },
    },
    "windows2008r2": {
        "osType": "Windows",
        "osName": "Windows Server 2008 R2 Datacenter",
        "osVersion": "6.1.7601",
        "image": {
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2008-R2-SP1",
            "version": "latest",
        },
    },
    "windows2003": {
        "osType": "Windows",
        "osName": "Windows Server 2003 R2 Enterprise",
        "osVersion": "5.2.3790",
        "image": {
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2003-R2",
            "version": "latest",
        },
    },
    "windows2008": {
        "osType": "Windows",
        "osName": "Windows Server 2008 Datacenter",
        "osVersion": "6.0.6002",
        "image": {
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2008-SP2",
            "version": "latest",
        },
    },
}


DEFAULT_OS = {"linux": "ubuntu", "windows": "windows2022"}


DEFAULT_AGENT_VERSION = {"linux": "2.10.0.8", "windows": "2.7.41491.1102"}


@dataclass
class VmBundle:
    """A parsed VM with the NICs it brings and the resources it refers to (created if missing)."""

    vm: Vm
    nics: list[Nic]
    subnets: list[tuple[str, str, str, str]]  #: (rg, vnet, subnet, location)
    nsgs: list[tuple[str, str, str]]  #: (rg, name, location)
    storage_accounts: list[tuple[str, str, str]]  #: (rg, name, location)


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("/".join(p.lower() for p in parts).encode()).digest()


def parse_rule(doc: Mapping[str, Any], where: str) -> netrules.Rule:
    """An NSG rule; `destination`, `port`, `source` are short for the ARM field names."""

    def many(*names: str) -> tuple[str, ...]:
        for n in names:
            if n in doc and isinstance(doc[n], list):
                return tuple(str(x) for x in doc[n])
        return ()

    return netrules.Rule(
        name=str(required(doc, "name", where)),
        priority=int(required(doc, "priority", where)),
        direction=str(doc.get("direction", "Outbound")).capitalize(),
        access=str(doc.get("access", "Allow")).capitalize(),
        protocol=str(doc.get("protocol", "*")),
        source_address_prefix=str(doc.get("sourceAddressPrefix", doc.get("source", "*"))),
        destination_address_prefix=str(doc.get("destinationAddressPrefix", doc.get("destination", "*"))),
        source_port_range=str(doc.get("sourcePortRange", "*")),
        destination_port_range=str(doc.get("destinationPortRange", doc.get("port", "*"))),
        source_address_prefixes=many("sourceAddressPrefixes", "sources"),
        destination_address_prefixes=many("destinationAddressPrefixes", "destinations"),
        destination_port_ranges=many("destinationPortRanges", "ports"),
        description=str(doc.get("description", "")),
    )


def _disk(doc: Mapping[str, Any] | int, *, vm: str, rg: str, lun: int | None, where: str) -> Disk:
    if isinstance(doc, int):
        doc = {"sizeGB": doc}
    if not isinstance(doc, Mapping):
        raise InventoryError(f"{where}: a disk is a mapping or a size in GB")
    lun = int(doc.get("lun", lun)) if lun is not None else None
    name = str(doc.get("name") or (f"{vm}_OsDisk_1" if lun is None else f"{vm}_DataDisk_{lun}"))
    vhd = doc.get("vhdUri")
    account = doc.get("storageAccount")
    managed = bool(doc.get("managed", not (vhd or account)))
    account_rg = rg
    if not managed:
        if account:
            account_rg, account = split_ref(str(account), rg, 1)
        elif vhd:
            account = str(vhd).split("//", 1)[-1].split(".", 1)[0]
        else:
            account = (vm.replace("-", "") + "disks")[:24].lower()
        vhd = vhd or f"https://{account}.blob.core.windows.net/vhds/{name}.vhd"
    sku = str(doc.get("sku", "Premium_LRS"))
    if lun is None and sku in DATA_DISK_ONLY_SKUS:
        # computeRPCommon StorageAccountType: "UltraSSD_LRS can only be used with data disks"; Premium SSD v2
        # cannot be an OS disk either (disks-types).
        raise InventoryError(f"{where}: an OS disk cannot be {sku}")
    ephemeral = _ephemeral(doc, lun, managed, where)
    auth = doc.get("dataAccessAuthMode")
    if auth not in (None, "None", "AzureActiveDirectory"):
        raise InventoryError(f"{where}: dataAccessAuthMode must be AzureActiveDirectory or None")
    return Disk(
        name=name,
        lun=lun,
        size_gb=int(doc.get("sizeGB", 30 if lun is None else 128)),
        managed=managed,
        resource_group=str(doc.get("resourceGroup", rg)),
        sku=sku,
        # An ephemeral OS disk lives in the host's cache or resource disk and is always ReadOnly cached.
        caching=str(doc.get("caching", "ReadOnly" if ephemeral else "ReadWrite" if lun is None else "ReadOnly")),
        create_option="FromImage" if lun is None else str(doc.get("createOption", "Empty")),
        write_accelerator=bool(doc.get("writeAccelerator", False)),
        max_shares=int(doc.get("maxShares", 1)),
        vhd_uri=None if managed else str(vhd),
        storage_account=None if managed else str(account),
        storage_account_rg=None if managed else account_rg,
        data_access_auth_mode=None if auth in (None, "None") else str(auth),
        ephemeral=ephemeral,
    )


#: Disk SKUs Azure allows for data disks only (SPEC computeRPCommon StorageAccountType).
DATA_DISK_ONLY_SKUS = ("UltraSSD_LRS", "PremiumV2_LRS")


def _power_state(doc: Mapping[str, Any], disks: Sequence[Disk]) -> str:
    """The inventory's power state, except that a VM with an unmanaged disk is deallocated.

    Azure retired unmanaged disks: it no longer starts IaaS VMs that use them and stopped and deallocated
    those still running (learn.microsoft.com/azure/virtual-machines/unmanaged-disks-deprecation), so an
    inventory cannot ask for one to run.
    """
    if any(not disk.managed for disk in disks):
        return "deallocated"
    return str(doc.get("powerState", "running")).lower()


def _ephemeral(doc: Mapping[str, Any], lun: int | None, managed: bool, where: str) -> str | None:
    """`ephemeral: true` (CacheDisk), `ephemeral: ResourceDisk`, or ARM's `diffDiskSettings` (OS disk only)."""
    settings = doc.get("diffDiskSettings")
    value = doc.get("ephemeral")
    if settings is None and value in (None, False):
        return None
    if lun is not None:
        raise InventoryError(f"{where}: only the OS disk can be ephemeral")
    if not managed:
        raise InventoryError(f"{where}: an ephemeral OS disk is a managed disk (DiffDiskSettings)")
    if isinstance(settings, Mapping):
        return str(settings.get("placement", "CacheDisk"))
    return "CacheDisk" if value is True else str(value)


def _encryption(value: object, where: str) -> Encryption | None:
    if value in (None, False, "none", "None"):
        return None
    if isinstance(value, str):
        value = {"method": value}
    if not isinstance(value, Mapping):
        raise InventoryError(f"{where}: encryption is ADE, ADE-AAD or a mapping")
    method = str(value.get("method", "ADE")).upper()
    if method not in ("ADE", "ADE-AAD"):
        raise InventoryError(f"{where}: encryption.method must be ADE or ADE-AAD")
    return Encryption(
        method=method,
        disks=str(value.get("disks", "all")).lower(),
        switched_from_aad=bool(value.get("switchedFromAad", False)),
        key_vault_id=str(value.get("keyVaultId", "")),
        secret_url=str(value.get("secretUrl", "")),
    )


def _security_type(value: object, where: str) -> str | None:
    """securityProfile.securityType: TrustedLaunch or ConfidentialVM (SPEC computeRPCommon SecurityTypes)."""
    if value in (None, "", "Standard"):
        return None
    if value not in ("TrustedLaunch", "ConfidentialVM"):
        raise InventoryError(f"{where}: securityType must be TrustedLaunch or ConfidentialVM")
    return str(value)


@dataclass(frozen=True)
class _Os:
    """What the OS preset and its overrides give a VM: its type, name, version and image."""

    os_type: str
    os_name: str
    os_version: str
    image: dict[str, str]


def _os(doc: Mapping[str, Any], where: str) -> _Os:
    """`os:` names a preset (default by `osType`); `osType`, `osName`, `osVersion`, `image` override it."""
    os_type_hint = str(doc.get("osType", "Linux")).lower()
    preset_name = str(doc.get("os") or DEFAULT_OS.get(os_type_hint, "ubuntu")).lower().replace("-", "").replace(" ", "")
    if preset_name not in OS_PRESETS:
        raise InventoryError(f"{where}: unknown os preset '{doc.get('os')}' (one of {', '.join(OS_PRESETS)})")
    preset = OS_PRESETS[preset_name]
    return _Os(
        os_type=str(doc.get("osType", preset["osType"])).capitalize(),
        os_name=str(doc.get("osName", preset["osName"])),
        os_version=str(doc.get("osVersion", preset["osVersion"])),
        image={**preset["image"], **{k: str(v) for k, v in (doc.get("image") or {}).items()}},
    )


def _agent(doc: Mapping[str, Any], os_type: str, where: str) -> tuple[Agent, str]:
    """The guest agent's status and version (`agent: NotReady` is short for `agent: {status: NotReady}`)."""
    agent_doc = doc.get("agent") or {}
    if isinstance(agent_doc, str):
        agent_doc = {"status": agent_doc}
    try:
        agent = Agent(str(agent_doc.get("status", "Ready")))
    except ValueError as exc:
        raise InventoryError(f"{where}: agent.status must be Ready, NotReady or NotInstalled") from exc
    installed = agent is not Agent.NOT_INSTALLED
    return agent, str(agent_doc.get("version", DEFAULT_AGENT_VERSION[os_type.lower()] if installed else "Unknown"))


@dataclass(frozen=True)
class _Disks:
    os_disk: Disk
    data_disks: list[Disk]
    encryption: Encryption | None


def _disks(doc: Mapping[str, Any], subscription: str, rg: str, name: str, where: str) -> _Disks:
    """The OS and data disks (`dataDisks: 3` is three default disks) and the encryption over them."""
    data_doc = doc.get("dataDisks") or []
    if isinstance(data_doc, int):
        data_doc = [{} for _ in range(data_doc)]
    data_disks = [_disk(d, vm=name, rg=rg, lun=i, where=where) for i, d in enumerate(data_doc)]
    os_disk = _disk(doc.get("osDisk") or {}, vm=name, rg=rg, lun=None, where=where)
    encryption = _encryption(doc.get("encryption"), where)
    if encryption:
        for disk in [os_disk] + ([] if encryption.disks == "os" else data_disks):
            disk.encrypted = True
        encryption.key_vault_id = encryption.key_vault_id or ids.resource_id(
            subscription, rg, "Microsoft.KeyVault", "vaults", f"kv-{rg}"[:24]
        )
        encryption.secret_url = encryption.secret_url or (
            f"https://kv-{rg}.vault.azure.net/secrets/{name}-bek/{ids.stable_uuid(name).replace('-', '')}"
        )
    return _Disks(os_disk, data_disks, encryption)


def _extensions(doc: Mapping[str, Any], where: str) -> list[Extension]:
    return [
        Extension(
            str(e["name"]),
            str(e.get("publisher", "Microsoft.Azure.Extensions")),
            str(e.get("type", e["name"])),
            str(e.get("version", "1.0")),
            settings=dict(e.get("settings") or {}),
            tags=tags_of(e.get("tags"), f"{where} extension '{e['name']}'"),
            force_update_tag=str(e["forceUpdateTag"]) if e.get("forceUpdateTag") is not None else None,
        )
        for e in doc.get("extensions") or []
    ]


def _ade_extension(encryption: Encryption, os_type: str) -> Extension:
    """The Azure Disk Encryption extension an encrypted VM carries (single pass, or dual pass with AAD)."""
    linux = os_type == "Linux"
    version = {("ADE", True): "1.1", ("ADE", False): "2.2", ("ADE-AAD", True): "0.1", ("ADE-AAD", False): "1.1"}
    name = "AzureDiskEncryptionForLinux" if linux else "AzureDiskEncryption"
    return Extension(name, "Microsoft.Azure.Security", name, version[(encryption.method, linux)])


def _place(vm: Vm, doc: Mapping[str, Any], where: str) -> None:
    """Where the VM runs: placement group, scale set, standby pool and availability set."""
    subscription, rg = vm.subscription, vm.resource_group
    place = vmprofile.placement(doc, subscription, rg, where)
    vm.proximity_placement_group, vm.scale_set, vm.in_standby_pool = (
        place.proximity_placement_group,
        place.scale_set,
        place.in_standby_pool,
    )
    if doc.get("availabilitySet"):
        aset_rg, aset = split_ref(str(doc["availabilitySet"]), rg, 1)
        vm.availability_set = ids.resource_id(subscription, aset_rg, "Microsoft.Compute", "availabilitySets", aset)
        # Azure spreads a set's VMs over its domains (2 fault, 5 update by default); a stable pick here
        domains = _digest(subscription, rg, vm.name)
        vm.fault_domain, vm.update_domain = domains[6] % 2, domains[7] % 5


def build_vm(
    doc: Mapping[str, Any],
    subscription: str,
    *,
    default_location: str,
    rg_locations: Mapping[str, str] | None = None,
    index: int = 0,
) -> VmBundle:
    """Parse one inventory VM document (after defaults) into its records."""
    name = str(required(doc, "name", "vm"))
    where = f"vm '{name}'"
    rg = str(required(doc, "resourceGroup", where))
    location = ids.norm_location(str(doc.get("location") or (rg_locations or {}).get(ids.key(rg)) or default_location))
    os = _os(doc, where)
    agent, agent_version = _agent(doc, os.os_type, where)
    installed = agent is not Agent.NOT_INSTALLED
    disks = _disks(doc, subscription, rg, name, where)
    # Freeze the flags derived from the agent at creation: installing the agent later (an admin
    # update of `agent`) does not change provisionVMAgent, which only a new VM could.
    doc = {
        **doc,
        "provisionVMAgent": bool(doc.get("provisionVMAgent", installed)),
        "allowExtensionOperations": bool(doc.get("allowExtensionOperations", installed)),
    }
    vm = Vm(
        subscription=subscription,
        resource_group=rg,
        name=name,
        location=location,
        doc=dict(doc),
        tags=tags_of(doc.get("tags"), where),
        size=str(doc.get("size", "Standard_D2s_v3")),
        zones=[str(z) for z in doc.get("zones") or []],
        os_type=os.os_type,
        os_name=os.os_name,
        os_version=os.os_version,
        image=os.image,
        agent=agent,
        agent_version=agent_version,
        power_state=_power_state(doc, [disks.os_disk, *disks.data_disks]),
        provisioning_state=str(doc.get("provisioningState", "Succeeded")),
        provision_vm_agent=bool(doc["provisionVMAgent"]),
        allow_extension_operations=bool(doc["allowExtensionOperations"]),
        os_disk=disks.os_disk,
        data_disks=disks.data_disks,
        encryption=disks.encryption,
        security_type=_security_type(doc.get("securityType"), where),
        http_proxy=doc.get("httpProxy"),
        vm_id=ids.stable_uuid(subscription, rg, name, "vmId"),
        computer_name=str(doc.get("computerName", name[:15])),
        extensions=_extensions(doc, where),
        user_data=str(doc["userData"]) if doc.get("userData") is not None else None,
        boot_diagnostics=doc.get("bootDiagnostics", True) is not False,
        boot_diagnostics_uri=(str(doc["bootDiagnostics"]) if isinstance(doc.get("bootDiagnostics"), str) else None),
    )
    _place(vm, doc, where)
    vm.gallery_applications = vmprofile.gallery_applications(doc.get("galleryApplications"), subscription, rg, where)
    vm.patch_status = vmprofile.patch_status(doc.get("patchStatus"), vm.id, where)
    if disks.encryption:
        vm.extensions.append(_ade_extension(disks.encryption, os.os_type))
    bundle = VmBundle(vm, [], [], [], [])
    for n, nic_doc in enumerate(doc.get("nics") or [{}]):
        nic = _nic({"name": nic_doc} if isinstance(nic_doc, str) else nic_doc, n, vm, bundle)
        bundle.nics.append(nic)
        vm.nic_ids.append(nic.id)
    for disk in vm.disks:
        if not disk.managed and disk.storage_account:
            bundle.storage_accounts.append((disk.storage_account_rg or rg, disk.storage_account, location))
    return bundle


def _nic(doc: Mapping[str, Any], n: int, vm: Vm, bundle: VmBundle) -> Nic:
    """The VM's `n`th NIC; the subnet and NSG it names join the bundle (created if missing)."""
    subscription, rg, location = vm.subscription, vm.resource_group, vm.location
    nic_name = str(doc.get("name") or (f"{vm.name}-nic" if n == 0 else f"{vm.name}-nic{n}"))
    vnet_rg, vnet, subnet = split_ref(str(doc.get("subnet") or f"vnet-{location}/default"), rg, 2)
    nsg_id = None
    if doc.get("nsg"):
        nsg_rg, nsg_name = split_ref(str(doc["nsg"]), rg, 1)
        nsg_id = ids.resource_id(subscription, nsg_rg, "Microsoft.Network", "networkSecurityGroups", nsg_name)
        bundle.nsgs.append((nsg_rg, nsg_name, location))
    bundle.subnets.append((vnet_rg, vnet, subnet, location))
    digest = _digest(subscription, rg, nic_name)
    return Nic(
        subscription=subscription,
        resource_group=rg,
        name=nic_name,
        location=location,
        subnet_id=ids.resource_id(
            subscription, vnet_rg, "Microsoft.Network", "virtualNetworks", vnet, "subnets", subnet
        ),
        nsg_id=nsg_id,
        ip_configs=[
            _ip_config(doc, c, nic_name, rg, subscription, digest) for c in range(1 + int(doc.get("extraIpConfigs", 0)))
        ],
        primary=n == 0,
        vm_id=vm.id,
        mac="-".join(f"{b:02X}" for b in (0x00, 0x0D, 0x3A, digest[3], digest[4], digest[5])),
        accelerated_networking=bool(doc.get("acceleratedNetworking", False)),
    )


def _ip_config(doc: Mapping[str, Any], c: int, nic_name: str, rg: str, subscription: str, digest: bytes) -> IpConfig:
    """The NIC's `c`th IP configuration: the first carries the public IP and load balancer pools."""
    public = doc.get("publicIp") if c == 0 else None
    public_id = None
    if public:
        pip = f"{nic_name}-pip" if public is True else str(public)
        public_id = ids.resource_id(subscription, rg, "Microsoft.Network", "publicIPAddresses", pip)
    pools = []
    for pool in (doc.get("loadBalancerPools") or []) if c == 0 else []:
        lb_rg, lb, pool_name = split_ref(str(pool), rg, 2)
        pools.append(
            ids.resource_id(
                subscription, lb_rg, "Microsoft.Network", "loadBalancers", lb, "backendAddressPools", pool_name
            )
        )
    given = doc.get("privateIp") if c == 0 else (doc.get("extraPrivateIps") or [])[c - 1 : c]
    given = given[0] if isinstance(given, list) and given else given
    ip_seed = int.from_bytes(digest[:4], "big") + c
    return IpConfig(
        name="ipconfig1" if c == 0 else f"ipconfig{c + 1}",
        private_ip=str(given) if given else f"10.{digest[0] % 200}.{digest[1]}.{ip_seed % 250 + 4}",
        primary=c == 0,
        public_ip_id=public_id,
        lb_pool_ids=pools,
        seed=None if given else ip_seed,
    )


@functools.lru_cache(maxsize=1024)
def _network(address_prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    # Parsed once per prefix: seeding 20,000 VMs into a few subnets parsed the same few strings 20,000 times.
    try:
        return ipaddress.ip_network(address_prefix, strict=False)
    except ValueError:
        return None


def place_in_subnet(nic: Nic, address_prefix: str) -> None:
    """Give each IP configuration without an inventory address one inside its subnet's range (Azure
    keeps the first four addresses and the last one of a subnet)."""
    net = _network(address_prefix)
    if net is None:
        return
    usable = net.num_addresses - 5
    if usable <= 0:
        return
    for config in nic.ip_configs:
        if config.seed is not None:
            config.private_ip = str(net.network_address + 4 + config.seed % usable)
