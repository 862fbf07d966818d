"""Azure resource ids and names: how the emulator builds them and how it reads them back.

ARM compares ids and names case-insensitively, so every index in the emulator is keyed by
the lower-cased form (`key()`), while responses keep the casing Azure's examples show.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

RSV = "Microsoft.RecoveryServices"

#: Display names of the public regions, used for regional service tags (`Storage.WestEurope`).
REGION_DISPLAY: dict[str, str] = {
    "eastus": "EastUS",
    "eastus2": "EastUS2",
    "westus": "WestUS",
    "westus2": "WestUS2",
    "westus3": "WestUS3",
    "centralus": "CentralUS",
    "northcentralus": "NorthCentralUS",
    "southcentralus": "SouthCentralUS",
    "westcentralus": "WestCentralUS",
    "canadacentral": "CanadaCentral",
    "canadaeast": "CanadaEast",
    "brazilsouth": "BrazilSouth",
    "mexicocentral": "MexicoCentral",
    "northeurope": "NorthEurope",
    "westeurope": "WestEurope",
    "uksouth": "UKSouth",
    "ukwest": "UKWest",
    "francecentral": "FranceCentral",
    "francesouth": "FranceSouth",
    "germanywestcentral": "GermanyWestCentral",
    "germanynorth": "GermanyNorth",
    "switzerlandnorth": "SwitzerlandNorth",
    "switzerlandwest": "SwitzerlandWest",
    "norwayeast": "NorwayEast",
    "norwaywest": "NorwayWest",
    "swedencentral": "SwedenCentral",
    "polandcentral": "PolandCentral",
    "italynorth": "ItalyNorth",
    "spaincentral": "SpainCentral",
    "eastasia": "EastAsia",
    "southeastasia": "SoutheastAsia",
    "japaneast": "JapanEast",
    "japanwest": "JapanWest",
    "koreacentral": "KoreaCentral",
    "koreasouth": "KoreaSouth",
    "australiaeast": "AustraliaEast",
    "australiasoutheast": "AustraliaSoutheast",
    "australiacentral": "AustraliaCentral",
    "centralindia": "CentralIndia",
    "southindia": "SouthIndia",
    "westindia": "WestIndia",
    "uaenorth": "UAENorth",
    "southafricanorth": "SouthAfricaNorth",
    "qatarcentral": "QatarCentral",
    "israelcentral": "IsraelCentral",
    "newzealandnorth": "NewZealandNorth",
}

#: Regions where the emulator accepts Recovery Services vaults unless settings say otherwise.
DEFAULT_REGIONS: tuple[str, ...] = tuple(REGION_DISPLAY)

_NAMESPACE = uuid.UUID("6f1c1a52-6a8e-4c55-9d43-1d0f0b7f5c10")


def key(name: str) -> str:
    """The index key of a name or id: ARM compares them case-insensitively."""
    return name.lower()


def norm_location(location: str) -> str:
    """`West Europe` -> `westeurope`, the form ARM answers with."""
    return location.replace(" ", "").lower()


def stable_uuid(*parts: str) -> str:
    """A deterministic GUID for a seed value, so a reset gives the same ids."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(p.lower() for p in parts)))


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def resource_id(sub: str, rg: str, provider: str, *type_and_names: str) -> str:
    """`/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{type}/{name}[/...]`."""
    return f"{rg_id(sub, rg)}/providers/{provider}/" + "/".join(type_and_names)


def vault_id(sub: str, rg: str, vault: str) -> str:
    return resource_id(sub, rg, RSV, "vaults", vault)


def backup_vault_prefix(sub: str, rg: str, vault: str) -> str:
    """Backup sub-resources (policies, jobs, protectable items) answer with a capital `/Subscriptions/`."""
    return f"/Subscriptions/{sub}/resourceGroups/{rg}/providers/{RSV}/vaults/{vault}"


def container_name(rg: str, vm: str) -> str:
    return f"IaasVMContainer;iaasvmcontainerv2;{rg};{vm}"


def item_name(rg: str, vm: str) -> str:
    return f"VM;iaasvmcontainerv2;{rg};{vm}"


def short_container_name(rg: str, vm: str) -> str:
    """The `containerName` property of a protected item: the name without its type prefix."""
    return f"iaasvmcontainerv2;{rg};{vm}"


def item_id(sub: str, rg: str, vault: str, vm_rg: str, vm: str) -> str:
    return (
        f"{vault_id(sub, rg, vault)}/backupFabrics/Azure/protectionContainers/"
        f"{container_name(vm_rg, vm)}/protectedItems/{item_name(vm_rg, vm)}"
    )


_CONTAINER = re.compile(r"^(?:iaasvmcontainer;)?iaasvmcontainerv2;([^;]+);([^;]+)$", re.I)
_ITEM = re.compile(r"^vm;iaasvmcontainerv2;([^;]+);([^;]+)$", re.I)


def parse_container_name(name: str) -> tuple[str, str] | None:
    """`IaasVMContainer;iaasvmcontainerv2;rg;vm` (any case) -> `(rg, vm)`."""
    m = _CONTAINER.match(name)
    return (m.group(1), m.group(2)) if m else None


def parse_item_name(name: str) -> tuple[str, str] | None:
    """`VM;iaasvmcontainerv2;rg;vm` (any case) -> `(rg, vm)`."""
    m = _ITEM.match(name)
    return (m.group(1), m.group(2)) if m else None


@dataclass(frozen=True)
class ResourceRef:
    """The parts of an ARM resource id the emulator needs: subscription, group, type path, name."""

    subscription: str
    resource_group: str
    provider: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.names[-1]

    def is_type(self, provider: str, *types: str) -> bool:
        return key(self.provider) == key(provider) and tuple(map(key, self.types)) == tuple(map(key, types))


_ID = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/([^/]+)/(.+)$", re.I)


def parse_resource_id(rid: str) -> ResourceRef | None:
    """Read an ARM id such as a VM id or a subnet id; None when it is not one."""
    m = _ID.match(rid.strip().rstrip("/"))
    if not m:
        return None
    rest = m.group(4).split("/")
    if len(rest) % 2:
        return None
    return ResourceRef(m.group(1), m.group(2), m.group(3), tuple(rest[0::2]), tuple(rest[1::2]))


def new_id() -> str:
    return str(uuid.uuid4())
