"""The one place gateway reads become check facts: a subscription's VMs, disks, NICs, NSGs, VNets and
storage accounts, joined into `VMFacts` (as cert-manager's policies gatherer does for certificates).

The gateway reads each collection once per subscription (one paged list call each) and this module
joins them in memory, so facts for a thousand VMs cost a handful of calls instead of thousands of GETs.
It does no I/O of its own: the pages come from a `FleetSource`, which the ProtectedVM kind and
preflight both build from the gateway, so the two can never gather differently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

from azbackup.toolkit import ids
from azbackup.toolkit.json import dig

from . import facts as f

Json = Mapping[str, Any]


lower_id = ids.lower


def _rule(raw: Json) -> f.SecurityRule | None:
    props = raw.get("properties") or {}
    try:
        return f.SecurityRule(
            name=str(raw.get("name", "")), priority=int(props["priority"]),
            direction=f.Direction(props.get("direction", "Outbound")), access=f.Access(props.get("access", "Allow")),
            protocol=str(props.get("protocol", "*")),
            destination_prefixes=tuple(x for x in (props.get("destinationAddressPrefix"),
                                                   *(props.get("destinationAddressPrefixes") or ())) if x),
            destination_ports=tuple(x for x in (props.get("destinationPortRange"),
                                                *(props.get("destinationPortRanges") or ())) if x),
            source_prefixes=tuple(x for x in (props.get("sourceAddressPrefix"),
                                              *(props.get("sourceAddressPrefixes") or ())) if x) or ("*",),
            source_asgs=tuple(a.get("id", "") for a in props.get("sourceApplicationSecurityGroups") or ()),
        )
    except (KeyError, ValueError, TypeError):
        return None


def nsg_facts(raw: Json, level: f.NsgLevel) -> f.NetworkSecurityGroup:
    props = raw.get("properties") or {}
    rules = [_rule(r) for r in (*(props.get("securityRules") or ()), *(props.get("defaultSecurityRules") or ()))]
    return f.NetworkSecurityGroup(id=str(raw.get("id", "")), name=str(raw.get("name", "")), level=level,
                                  rules=tuple(r for r in rules if r is not None))


def _storage_account_of(uri: str | None) -> str | None:
    host = urlsplit(uri or "").hostname or ""
    return host.split(".", 1)[0] or None


def _disk(raw: Json, lun: int | None, disk_resources: Mapping[str, Json],
          encrypted_names: Mapping[str, bool]) -> f.Disk:
    managed = raw.get("managedDisk")
    resource = disk_resources.get(lower_id(dig(managed, "id"))) if managed else None
    rprops = (resource or {}).get("properties") or {}
    collection = rprops.get("encryptionSettingsCollection") or {}
    name = str(raw.get("name", ""))
    ade = bool(dig(raw, "encryptionSettings", "enabled")) or bool(collection.get("enabled")) \
        or encrypted_names.get(name.lower(), False)
    version = collection.get("encryptionSettingsVersion")
    flavour = None
    if bool(dig(raw, "encryptionSettings", "enabled")):
        # storageProfile.osDisk.encryptionSettings is where ADE with the Entra (AAD) app keeps its keys; a
        # VM still carrying it was encrypted with the app, whatever the disk resource says since.
        flavour = f.AdeFlavour.WITH_AAD_APP
    elif ade and version in ("1.0", "1.1"):
        flavour = f.AdeFlavour.WITH_AAD_APP if version == "1.0" else f.AdeFlavour.WITHOUT_AAD_APP
    # An ephemeral OS disk (osDisk.diffDiskSettings) is no disk resource, and is never shared.
    ephemeral = bool(raw.get("diffDiskSettings"))
    # A disk resource without maxShares is not shareable (absent means 1); an unmanaged disk never is.
    max_shares = rprops.get("maxShares", 1) if resource is not None else (1 if not managed or ephemeral else None)
    # Known when the disk resource was read (or there is none to read): Entra data-access authentication.
    data_access = rprops.get("dataAccessAuthMode") == "AzureActiveDirectory" \
        if resource is not None else (False if not managed or ephemeral else None)
    return f.Disk(
        name=name, lun=lun, size_gb=raw.get("diskSizeGB") or rprops.get("diskSizeGB"),
        managed=bool(managed) if (managed or raw.get("vhd")) else None,
        storage_account=_storage_account_of(dig(raw, "vhd", "uri")) if raw.get("vhd") else None,
        write_accelerator=bool(raw.get("writeAcceleratorEnabled", False)),
        max_shares=int(max_shares) if max_shares is not None else None,
        ade_encrypted=ade, ade_flavour=flavour,
        sku=dig(managed, "storageAccountType") if managed else None, ephemeral=ephemeral,
        data_access_auth=data_access)


def _power_state(statuses: Iterable[Json]) -> f.PowerState | None:
    for status in statuses:
        code = str(status.get("code", ""))
        if code.startswith("PowerState/"):
            try:
                return f.PowerState(code.split("/", 1)[1].lower())
            except ValueError:
                return None
    return None


def _agent(props: Json, view: Json | None) -> f.AgentInfo:
    os_profile = props.get("osProfile") or {}
    config = os_profile.get("windowsConfiguration") or os_profile.get("linuxConfiguration") or {}
    provision = config.get("provisionVMAgent")
    allow = os_profile.get("allowExtensionOperations")
    if view is None:
        return f.AgentInfo(provision, allow, None, None, None)
    agent = view.get("vmAgent")
    if not agent:
        return f.AgentInfo(provision, allow, False, None, None)
    statuses = agent.get("statuses") or ()
    ready = (statuses[0].get("displayStatus") == "Ready") if statuses else None
    return f.AgentInfo(provision, allow, True, agent.get("vmAgentVersion"), ready)


def _os(props: Json, view: Json | None) -> f.OSInfo:
    storage = props.get("storageProfile") or {}
    image = storage.get("imageReference")
    os_type = dig(storage, "osDisk", "osType")
    return f.OSInfo(
        type=f.OSType(os_type) if os_type in ("Windows", "Linux") else None,
        image=f.ImageReference(image.get("publisher"), image.get("offer"), image.get("sku"))
        if image and (image.get("publisher") or image.get("offer")) else None,
        name=(view or {}).get("osName"), version=(view or {}).get("osVersion"))


def _extensions(view: Json | None, vm: Json) -> tuple[f.Extension, ...] | None:
    found: list[f.Extension] = []
    for res in vm.get("resources") or ():
        props = res.get("properties") or {}
        if props.get("publisher") and props.get("type"):
            found.append(f.Extension(props["publisher"], props["type"], props.get("typeHandlerVersion")))
    if view is not None:
        for ext in view.get("extensions") or ():
            full = str(ext.get("type", ""))
            if "." in full:
                publisher, _, type_ = full.rpartition(".")
                found.append(f.Extension(publisher, type_, ext.get("typeHandlerVersion")))
    if not found and view is None and not vm.get("resources"):
        return None
    return tuple(dict.fromkeys(found))


def compact_nic(nic: Json) -> dict[str, Any]:
    """The fields of a NIC the checks read; a NIC's JSON carries far more (DNS, IP forwarding, etags...)."""
    props = nic.get("properties") or {}
    configs = []
    for config in props.get("ipConfigurations") or ():
        cp = config.get("properties") or {}
        configs.append({"properties": {k: cp[k] for k in ("privateIPAddress", "publicIPAddress", "subnet",
                                                          "loadBalancerBackendAddressPools",
                                                          "applicationSecurityGroups") if k in cp}})
    keep = {k: props[k] for k in ("networkSecurityGroup", "primary") if k in props}
    return {"id": nic.get("id"), "name": nic.get("name"), "properties": {**keep, "ipConfigurations": configs}}


class Network:
    """NICs, NSGs and subnets of a subscription, indexed by id (lower-cased, as ARM ids compare)."""

    def __init__(self, nics: Iterable[Json], nsgs: Iterable[Json], vnets: Iterable[Json]) -> None:
        self.nics = {lower_id(n.get("id")): compact_nic(n) for n in nics}
        self.nsgs = {lower_id(n.get("id")): n for n in nsgs}
        # One facts object per (NSG, level), shared by every NIC behind it: a subnet NSG in front of a
        # thousand VMs is held once, not a thousand times.
        self._nsg_facts: dict[tuple[str, f.NsgLevel], f.NetworkSecurityGroup] = {}
        self.subnets: dict[str, Json] = {}
        for vnet in vnets:
            for subnet in dig(vnet, "properties", "subnets") or ():
                self.subnets[lower_id(subnet.get("id"))] = subnet

    def put(self, kind: str, resource_id: str, raw: Json | None) -> None:
        """A NIC, NSG or VNet read again (None: deleted); facts built from the old one are dropped."""
        key = lower_id(resource_id)
        if kind == "networkinterfaces":
            if raw is None:
                self.nics.pop(key, None)
            else:
                self.nics[key] = compact_nic(raw)
        elif kind == "networksecuritygroups":
            self._nsg_facts = {k: v for k, v in self._nsg_facts.items() if k[0] != key}
            if raw is None:
                self.nsgs.pop(key, None)
            else:
                self.nsgs[key] = raw
        elif kind == "virtualnetworks":
            self.subnets = {k: v for k, v in self.subnets.items() if not k.startswith(key + "/subnets/")}
            for subnet in dig(raw, "properties", "subnets") or ():
                self.subnets[lower_id(subnet.get("id"))] = subnet

    def nics_using(self, nsg_ids: set[str], vnet_ids: set[str]) -> set[str]:
        """NICs behind one of these NSGs (their own, or their subnet's) or in a subnet of these VNets."""
        found = set()
        for nic_id, raw in self.nics.items():
            props = raw.get("properties") or {}
            if lower_id(dig(props, "networkSecurityGroup", "id")) in nsg_ids:
                found.add(nic_id)
                continue
            for config in props.get("ipConfigurations") or ():
                subnet_id = lower_id(dig(config, "properties", "subnet", "id"))
                subnet_nsg = lower_id(dig(self.subnets.get(subnet_id), "properties", "networkSecurityGroup", "id"))
                if subnet_id.split("/subnets/")[0] in vnet_ids or subnet_nsg in nsg_ids:
                    found.add(nic_id)
        return found

    def _nsg(self, nsg_id: str, level: f.NsgLevel) -> f.NetworkSecurityGroup | None:
        key = (lower_id(nsg_id), level)
        if key not in self._nsg_facts:
            raw = self.nsgs.get(key[0])
            if raw is None:
                return None
            self._nsg_facts[key] = nsg_facts(raw, level)
        return self._nsg_facts[key]

    def nic(self, nic_id: str, primary: bool | None) -> f.NetworkInterface | None:
        raw = self.nics.get(lower_id(nic_id))
        if raw is None:
            return None
        props = raw.get("properties") or {}
        configs = [c.get("properties") or {} for c in props.get("ipConfigurations") or ()]
        groups: list[f.NetworkSecurityGroup] = []
        nsg_id = dig(props, "networkSecurityGroup", "id")
        if nsg_id and (nsg := self._nsg(nsg_id, f.NsgLevel.NIC)):
            groups.append(nsg)
        unreadable = False
        for subnet_id in dict.fromkeys(lower_id(dig(c, "subnet", "id")) for c in configs if dig(c, "subnet", "id")):
            subnet = self.subnets.get(subnet_id)
            if subnet is None:
                unreadable = True
                continue
            sub_nsg = dig(subnet, "properties", "networkSecurityGroup", "id")
            if sub_nsg:
                if (nsg := self._nsg(sub_nsg, f.NsgLevel.SUBNET)) is not None:
                    groups.append(nsg)
                else:
                    unreadable = True
        return f.NetworkInterface(
            id=str(raw.get("id", nic_id)), name=str(raw.get("name", "")),
            primary=primary if primary is not None else props.get("primary"),
            private_ips=tuple(c["privateIPAddress"] for c in configs if c.get("privateIPAddress")),
            public_ip_ids=tuple(dig(c, "publicIPAddress", "id") for c in configs if dig(c, "publicIPAddress", "id")),
            backend_pools=tuple(p.get("id", "") for c in configs
                                for p in c.get("loadBalancerBackendAddressPools") or ()),
            asg_ids=tuple(a.get("id", "") for c in configs for a in c.get("applicationSecurityGroups") or ()),
            security_groups=None if unreadable else tuple(groups))


def _storage_accounts(names: Iterable[str], accounts: Mapping[str, Json]) -> tuple[f.StorageAccount, ...]:
    """Firewall facts of the named storage accounts (those the subscription list holds)."""
    return tuple(
        f.StorageAccount(name, dig(accounts.get(name), "properties", "networkAcls", "defaultAction"),
                         "azureservices" in str(dig(accounts.get(name), "properties", "networkAcls", "bypass")
                                                or "").lower().replace(" ", ""))
        for name in sorted(names) if name in accounts)


def with_storage_accounts(vm: f.VMFacts, accounts: Mapping[str, Json]) -> f.VMFacts:
    """Complete the storage-account facts of a VM with unmanaged disks, once the accounts were read."""
    return replace(vm, storage_accounts=_storage_accounts(
        {d.storage_account for d in (vm.disks or ()) if d.storage_account}, accounts))


def vm_facts(vm: Json, disks: Mapping[str, Json], network: Network,
             accounts: Mapping[str, Json] | None) -> f.VMFacts:
    """Facts of one VM from the joined collections. `accounts` None: storage accounts were not read."""
    props = vm.get("properties") or {}
    view = props.get("instanceView")
    storage = props.get("storageProfile") or {}
    encrypted = {str(d.get("name", "")).lower(): any(e.get("enabled") for e in d.get("encryptionSettings") or ())
                 for d in (view or {}).get("disks") or ()}
    os_disk = _disk(storage["osDisk"], None, disks, encrypted) if storage.get("osDisk") else None
    data = tuple(_disk(d, d.get("lun"), disks, encrypted) for d in storage.get("dataDisks") or ())
    nic_refs: Sequence[Json] = dig(props, "networkProfile", "networkInterfaces") or ()
    nics = tuple(network.nic(str(r.get("id")), dig(r, "properties", "primary")) for r in nic_refs)
    unmanaged = {d.storage_account for d in (os_disk, *data) if d and d.storage_account}
    sa: tuple[f.StorageAccount, ...] | None = ()
    if unmanaged:
        sa = None if accounts is None else _storage_accounts(unmanaged, accounts)
    vm_id = str(vm.get("id", ""))
    rg = ids.resource_group(vm_id)
    return f.VMFacts(
        id=vm_id, name=str(vm.get("name", "")), resource_group=rg, region=vm.get("location"),
        os=_os(props, view), agent=_agent(props, view),
        power_state=_power_state((view or {}).get("statuses") or ()) if view is not None else None,
        os_disk=os_disk, data_disks=data, extensions=_extensions(view, vm),
        nics=None if any(n is None for n in nics) else tuple(n for n in nics if n is not None),
        storage_accounts=sa, protection=None, security_type=_security_type(props))


def _security_type(props: Json) -> f.SecurityType | None:
    """properties.securityProfile.securityType; a VM without one has the Standard security type."""
    value = dig(props, "securityProfile", "securityType")
    if not value:
        return f.SecurityType.STANDARD
    try:
        return f.SecurityType(value)
    except ValueError:
        return None  # a type newer than this operator: Unknown, never Passed


Compact = Callable[[Mapping[str, Any]], dict[str, Any]]


class FleetSource(Protocol):
    """A subscription's collections as ARM JSON (the gateway's list reads)."""

    async def network_and_disks(self, compact_disk: Compact, compact_nic: Compact
                                ) -> tuple[list[dict[str, Any]], ...]:
        """(disks, NICs, NSGs, VNets), read at once; disks and NICs compacted page by page as they arrive."""
        ...

    def virtual_machines(self) -> AsyncIterator[dict[str, Any]]: ...

    async def storage_accounts(self) -> list[dict[str, Any]]: ...

    async def resource(self, resource_id: str) -> dict[str, Any] | None:
        """One resource by id, as its collection shows it; None when it is gone."""
        ...


@dataclass(frozen=True)
class Fleet:
    """Facts of every VM of a subscription at one moment, and what a selector matches on.

    The compacted disks and network it was joined from are kept, so a change to one VM (or one NIC,
    disk, NSG or VNet) is applied by reading that resource alone (`apply_changes`).
    """

    vms: Mapping[str, f.VMFacts]  # by lower-cased resource id
    raw: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    disks: Mapping[str, Json] = field(default_factory=dict)
    network: Network | None = None

    def get(self, vm_id: str) -> f.VMFacts | None:
        return self.vms.get(vm_id.lower())


async def load_fleet(source: FleetSource) -> Fleet:
    """Every VM of a subscription as facts, from one list call per collection.

    The VM list, the largest, is turned into facts page by page, so memory holds one page of VM JSON
    at a time (on top of the compacted disks and network), not the whole subscription.
    """
    # Disks and NICs (one or more per VM) are compacted page by page too; NSGs and VNets are few.
    disk_list, nics, nsgs, vnets = await source.network_and_disks(compact_disk, compact_nic)
    disks = {lower_id(d.get("id")): d for d in disk_list}
    network = Network(nics, nsgs, vnets)
    del disk_list, nics, nsgs, vnets
    built: dict[str, f.VMFacts] = {}
    selectable: dict[str, dict[str, Any]] = {}
    async for vm in source.virtual_machines():
        key = lower_id(vm.get("id"))
        # Storage accounts are read only if some VM has unmanaged disks (facts completed below).
        built[key] = vm_facts(vm, disks, network, None)
        selectable[key] = _selectable(vm)
    if any(facts.storage_accounts is None for facts in built.values()):
        accounts = {str(a.get("name", "")).lower(): a for a in await source.storage_accounts()}
        built = {k: with_storage_accounts(v, accounts) if v.storage_accounts is None else v
                 for k, v in built.items()}
    return Fleet(built, selectable, disks, network)


def compact_disk(disk: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a managed disk the checks read (maxShares, size, Azure Disk Encryption settings,
    data-access authentication)."""
    props = disk.get("properties") or {}
    keep = {k: props[k] for k in ("maxShares", "diskSizeGB", "encryptionSettingsCollection", "dataAccessAuthMode")
            if k in props}
    return {"id": disk.get("id"), "properties": keep}


def _selectable(vm: Mapping[str, Any]) -> dict[str, Any]:
    """The few fields a VMBackupSelector matches on; the rest of the VM JSON is not kept."""
    os_disk = ((vm.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {}
    return {"id": vm.get("id"), "name": vm.get("name"), "location": vm.get("location"), "tags": vm.get("tags") or {},
            "properties": {"storageProfile": {"osDisk": {"osType": os_disk.get("osType")}}}}


def protection(status: str | None, vault_id: str | None) -> f.Protection:
    """Azure's backupStatus answer as the fact `NotProtectedElsewhere` reads."""
    return f.Protection(status or "NotProtected", vault_id)


async def complete(vm: f.VMFacts, protection: Callable[[f.VMFacts], Awaitable[f.Protection | None]],
                   storage_prefixes: Callable[[str], Awaitable[tuple[str, ...] | None]]
                   ) -> tuple[f.VMFacts, tuple[str, ...] | None]:
    """One VM's facts made ready for the checks: which vault protects it, and the region's Storage
    prefixes, read only when an NSG rule names a CIDR (service-tag rules need no prefixes)."""
    vm = replace(vm, protection=await protection(vm))
    prefixes = await storage_prefixes(vm.region) if vm.region and nsgs_name_cidrs(vm) else None
    return vm, prefixes


def nsgs_name_cidrs(vm: f.VMFacts) -> bool:
    """True when an NSG rule names a CIDR: only then do the checks need the region's Storage prefixes."""
    for nic in vm.nics or ():
        for group in nic.security_groups or ():
            for rule in group.rules:
                if any(p[:1].isdigit() and p != "0.0.0.0/0" for p in rule.destination_prefixes):
                    return True
    return False
