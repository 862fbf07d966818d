"""The inventory: a YAML/JSON seed of identities, subscriptions and their resources.

Every field has a default, so `{name: web-1, resourceGroup: rg-web}` is a healthy Linux VM.
The format is documented in docs/emulator.md. `synthetic()` builds large inventories for benchmarks.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from azure_emulator import ids
from azure_emulator.inventory_fields import InventoryError, required, split_ref, tags_of
from azure_emulator.records import (
    Denial,
    Federation,
    Identity,
    Nsg,
    StorageAccount,
    Subnet,
    Vnet,
)
from azure_emulator.vmspec import VmBundle, build_vm, parse_rule

__all__ = ["InventoryError", "VmBundle", "build_vm", "parse_rule"]

DEFAULT_TENANT_ID = "11111111-1111-1111-1111-111111111111"
DEFAULT_CLIENT_ID = "22222222-2222-2222-2222-222222222222"
DEFAULT_CLIENT_SECRET = "emulator-secret"
DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001"
DEFAULT_LOCATION = "westeurope"


@dataclass
class PolicySeed:
    name: str
    doc: dict[str, Any]


@dataclass
class ItemSeed:
    """A protected item that exists at start: which VM, which policy, in what state."""

    vm_resource_group: str
    vm_name: str
    policy: str | None = "DefaultPolicy"
    state: str = "Protected"
    soft_deleted: bool = False
    recovery_points: int | list[dict[str, Any]] = 1  #: a count (daily points), or one document per point
    last_backup_status: str | None = None
    exclusion: dict[str, Any] | None = None


@dataclass
class VaultSeed:
    resource_group: str
    name: str
    location: str
    tags: dict[str, str] = field(default_factory=dict)
    sku: str = "Standard"
    storage_redundancy: str = "GeoRedundant"
    cross_region_restore: bool = False
    soft_delete: str = "Enabled"
    soft_delete_days: int = 14
    enhanced_security: str = "Enabled"  #: enhanced soft delete; a vault from before it says Disabled
    immutability: str = "Disabled"
    public_network_access: str = "Enabled"
    policies: list[PolicySeed] = field(default_factory=list)
    items: list[ItemSeed] = field(default_factory=list)
    resource_guard: str | None = None  #: a Resource Guard's id: the vault gets a backupResourceGuardProxy


@dataclass
class SubscriptionSeed:
    id: str
    display_name: str
    resource_groups: dict[str, str]  #: name -> location
    vms: list[dict[str, Any]]
    nsgs: list[Nsg]
    vnets: list[Vnet]
    storage_accounts: list[StorageAccount]
    vaults: list[VaultSeed]
    unregistered_providers: tuple[str, ...] = ()  #: namespaces not registered (e.g. Microsoft.RecoveryServices)


@dataclass
class Inventory:
    tenant_id: str
    identities: list[Identity]
    subscriptions: list[SubscriptionSeed]
    regions: tuple[str, ...]
    default_location: str
    document: dict[str, Any]


def _identity(doc: Mapping[str, Any], tenant: str, where: str) -> Identity:
    client = str(required(doc, "clientId", where))
    certs: list[str] = []
    for cert in ([doc["certificate"]] if doc.get("certificate") else []) + list(doc.get("certificates") or []):
        text = str(cert)
        if "-----BEGIN" not in text:
            try:
                text = Path(text).read_text()
            except OSError as exc:
                raise InventoryError(f"{where}: certificate is neither PEM text nor a readable file") from exc
        certs.append(text)
    deny = []
    for d in doc.get("deny") or []:
        deny.append(Denial(str(d)) if isinstance(d, str) else Denial(str(d.get("action", "*")), d.get("scope")))
    return Identity(
        client_id=client,
        tenant_id=str(doc.get("tenantId", tenant)),
        object_id=str(doc.get("objectId") or ids.stable_uuid(client, "objectId")),
        display_name=str(doc.get("name", client)),
        secret=doc.get("secret"),
        certificates=certs,
        federated=[
            Federation(
                str(required(f, "issuer", where)),
                str(required(f, "subject", where)),
                str(f.get("audience", "api://AzureADTokenExchange")),
            )
            for f in doc.get("federated") or []
        ],
        deny=deny,
    )


def _recovery_points(value: object, where: str) -> int | list[dict[str, Any]]:
    """`recoveryPoints: 3`, or a list of point documents (`rp_seed.seed_recovery_point` reads them)."""
    if isinstance(value, list):
        if not all(isinstance(rp, Mapping) for rp in value):
            raise InventoryError(f"{where}: each recovery point is a mapping")
        return [dict(rp) for rp in value]
    if not isinstance(value, int | float | str):
        raise InventoryError(f"{where}: recoveryPoints is a number or a list of recovery points")
    return int(value)


def _vault(doc: Mapping[str, Any], default_location: str, where: str) -> VaultSeed:
    name = str(required(doc, "name", where))
    policies = [PolicySeed(str(required(p, "name", f"{where} policy")), dict(p)) for p in doc.get("policies") or []]
    items = []
    for item in doc.get("protectedItems") or []:
        if isinstance(item, str):
            item = {"vm": item}
        ref = str(required(item, "vm", f"{where} protectedItems"))
        vm_rg, vm_name = split_ref(ref, str(doc.get("resourceGroup")), 1)
        exclusion = None
        if "includeLuns" in item:
            exclusion = {"diskLunList": list(item["includeLuns"]), "isInclusionList": True}
        elif "excludeLuns" in item:
            exclusion = {"diskLunList": list(item["excludeLuns"]), "isInclusionList": False}
        items.append(
            ItemSeed(
                vm_rg,
                vm_name,
                policy=item.get("policy", "DefaultPolicy"),
                state=str(item.get("state", "Protected")),
                soft_deleted=bool(item.get("softDeleted", False)),
                recovery_points=_recovery_points(item.get("recoveryPoints", 1), f"{where} item '{ref}'"),
                last_backup_status=item.get("lastBackupStatus"),
                exclusion=exclusion,
            )
        )
    return VaultSeed(
        resource_group=str(required(doc, "resourceGroup", where)),
        name=name,
        location=ids.norm_location(str(doc.get("location", default_location))),
        tags=tags_of(doc.get("tags"), where),
        sku=str(doc.get("sku", "Standard")),
        storage_redundancy=str(doc.get("storageRedundancy", "GeoRedundant")),
        cross_region_restore=bool(doc.get("crossRegionRestore", False)),
        soft_delete=str(doc.get("softDelete", "Enabled")),
        soft_delete_days=int(doc.get("softDeleteRetentionDays", 14)),
        enhanced_security=str(doc.get("enhancedSecurity", "Enabled")),
        immutability=str(doc.get("immutability", "Disabled")),
        public_network_access=str(doc.get("publicNetworkAccess", "Enabled")),
        policies=policies,
        items=items,
        resource_guard=str(doc["resourceGuard"]) if doc.get("resourceGuard") else None,
    )


def _subscription(doc: Mapping[str, Any], default_location: str, where: str) -> SubscriptionSeed:
    sub = str(required(doc, "id", where)).lower()
    rgs: dict[str, str] = {}
    for rg in doc.get("resourceGroups") or []:
        if isinstance(rg, str):
            rg = {"name": rg}
        rgs[str(required(rg, "name", f"{where} resourceGroups"))] = ids.norm_location(
            str(rg.get("location", default_location))
        )
    vms = []
    for i, vm in enumerate(doc.get("vms") or []):
        if not isinstance(vm, Mapping):
            raise InventoryError(f"{where}.vms[{i}]: a VM is a mapping")
        required(vm, "name", f"{where}.vms[{i}]")
        required(vm, "resourceGroup", f"{where}.vms[{i}]")
        vms.append(dict(vm))
    nsgs = [
        Nsg(
            sub,
            str(required(n, "resourceGroup", f"{where} nsg")),
            str(required(n, "name", f"{where} nsg")),
            ids.norm_location(str(n.get("location", default_location))),
            [parse_rule(r, f"nsg '{n['name']}'") for r in n.get("rules") or []],
            tags_of(n.get("tags"), where),
        )
        for n in doc.get("networkSecurityGroups") or []
    ]
    vnets = []
    for v in doc.get("virtualNetworks") or []:
        vrg = str(required(v, "resourceGroup", f"{where} vnet"))
        subnets = {}
        for s in v.get("subnets") or [{"name": "default"}]:
            nsg_id = None
            if s.get("nsg"):
                nrg, nname = split_ref(str(s["nsg"]), vrg, 1)
                nsg_id = ids.resource_id(sub, nrg, "Microsoft.Network", "networkSecurityGroups", nname)
            subnets[ids.key(str(s["name"]))] = Subnet(
                str(s["name"]), str(s.get("addressPrefix", "10.0.0.0/24")), nsg_id
            )
        vnets.append(
            Vnet(
                sub,
                vrg,
                str(required(v, "name", f"{where} vnet")),
                ids.norm_location(str(v.get("location", default_location))),
                list(v.get("addressPrefixes") or ["10.0.0.0/16"]),
                subnets,
                tags_of(v.get("tags"), where),
            )
        )
    accounts = []
    for a in doc.get("storageAccounts") or []:
        rules = a.get("networkRules") or {}
        accounts.append(
            StorageAccount(
                sub,
                str(required(a, "resourceGroup", f"{where} storageAccount")),
                str(required(a, "name", f"{where} storageAccount")),
                ids.norm_location(str(a.get("location", default_location))),
                default_action=str(rules.get("defaultAction", "Allow")),
                bypass=str(rules.get("bypass", "AzureServices")),
                ip_rules=[str(x) for x in rules.get("ipRules") or []],
                vnet_rules=[str(x) for x in rules.get("virtualNetworkRules") or []],
                sku=str(a.get("sku", "Standard_LRS")),
                kind=str(a.get("kind", "StorageV2")),
                tags=tags_of(a.get("tags"), where),
            )
        )
    vaults = [_vault(v, default_location, f"{where} vault") for v in doc.get("vaults") or []]
    unregistered = tuple(str(ns) for ns in doc.get("unregisteredProviders") or [])
    return SubscriptionSeed(
        sub, str(doc.get("name", "Emulated subscription")), rgs, vms, nsgs, vnets, accounts, vaults, unregistered
    )


def parse_inventory(document: Mapping[str, Any]) -> Inventory:
    """Validate an inventory document and fill in its defaults."""
    if not isinstance(document, Mapping):
        raise InventoryError("the inventory is a mapping")
    doc = copy.deepcopy(dict(document))
    tenant = str(doc.get("tenantId", DEFAULT_TENANT_ID))
    location = ids.norm_location(str(doc.get("defaultLocation", DEFAULT_LOCATION)))
    idents = [_identity(i, tenant, f"identities[{n}]") for n, i in enumerate(doc.get("identities") or [])]
    if not idents:
        idents = [
            Identity(
                DEFAULT_CLIENT_ID,
                tenant,
                ids.stable_uuid(DEFAULT_CLIENT_ID, "objectId"),
                "emulator-default",
                DEFAULT_CLIENT_SECRET,
            )
        ]
    subs = [_subscription(s, location, f"subscriptions[{n}]") for n, s in enumerate(doc.get("subscriptions") or [])]
    if not subs:
        subs = [_subscription({"id": DEFAULT_SUBSCRIPTION_ID}, location, "subscriptions[0]")]
    regions = tuple(ids.norm_location(r) for r in doc.get("regions") or ids.DEFAULT_REGIONS)
    return Inventory(tenant, idents, subs, regions, location, doc)


def sample_fleet_path() -> Path:
    """The sample fleet shipped with the package (`data/sample-fleet.yaml`)."""
    return Path(__file__).resolve().parent / "data" / "sample-fleet.yaml"


def _parse(path: Path) -> Any:
    """A `.json` file as JSON, anything else as YAML with libyaml when it is there: pure-Python YAML took
    10 CPU-seconds for a 20,000-VM inventory (JSON: 0.03 s), and the benchmarks write JSON."""
    text = path.read_text()
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError:
            pass  # JSON is YAML; YAML's own error message says where a hand-edited file went wrong
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_document(source: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """An inventory document from a YAML/JSON file, a mapping, or None (the sample fleet)."""
    if source is None:
        source = sample_fleet_path()
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    data = _parse(Path(source))
    if not isinstance(data, dict):
        raise InventoryError(f"{source}: the inventory is a mapping")
    return data


def load_inventory(source: str | Path | Mapping[str, Any] | None = None) -> Inventory:
    return parse_inventory(load_document(source))


def merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `patch` into a copy of `base` (mappings merge; lists and scalars replace; None deletes)."""
    out = copy.deepcopy(dict(base))
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def synthetic(
    n_vms: int,
    n_resource_groups: int = 10,
    *,
    subscription_id: str = DEFAULT_SUBSCRIPTION_ID,
    location: str = DEFAULT_LOCATION,
    windows_every: int = 5,
    vault: bool = True,
    tags: Sequence[Mapping[str, str]] = ({"backup": "daily", "env": "prod"}, {"backup": "daily", "env": "dev"}),
) -> dict[str, Any]:
    """An inventory document with `n_vms` healthy VMs spread over `n_resource_groups` groups.

    For benchmarks of 1000-5000 VMs. Every VM gets a tag set from `tags` (round robin); every
    `windows_every`-th VM runs Windows. With `vault`, the document also has an empty vault
    `rsv-bench` in `rg-backup`.
    """
    if n_vms < 0 or n_resource_groups < 1:
        raise ValueError("n_vms >= 0 and n_resource_groups >= 1")
    rgs = [f"rg-{i:03d}" for i in range(n_resource_groups)]
    vms = []
    for i in range(n_vms):
        vm: dict[str, Any] = {
            "name": f"vm-{i:05d}",
            "resourceGroup": rgs[i % n_resource_groups],
            "tags": dict(tags[i % len(tags)]) if tags else {},
        }
        if windows_every and i % windows_every == windows_every - 1:
            vm["os"] = "windows2022"
        vms.append(vm)
    sub: dict[str, Any] = {
        "id": subscription_id,
        "name": "Synthetic subscription",
        "resourceGroups": [{"name": rg, "location": location} for rg in [*rgs, "rg-backup"]],
        "vms": vms,
    }
    if vault:
        sub["vaults"] = [{"name": "rsv-bench", "resourceGroup": "rg-backup", "location": location}]
    return {"tenantId": DEFAULT_TENANT_ID, "defaultLocation": location, "subscriptions": [sub]}
