"""The api-versions ARM accepts, per resource type, and ARM's refusals of the others.

ARM routes a request to a resource provider only when the provider registered the request's
api-version for the resource type of the path; otherwise it answers 400 itself. The versions are data
(`data/api-versions.json`): per spec (a *train*), the `stable/` and `preview/` folder names Azure publishes
in Azure/azure-rest-api-specs, plus the versions the pinned SDKs and `az` send, with where and when each
list was read (`hack/api_versions.py` regenerates it from a checkout). Every resource type a spec defines
shares its spec's list; where a type appeared in a later version than the train's first, the emulator
still accepts the earlier ones (documented choice).

Pure data and pure functions: the data file is read once at import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from azure_emulator.errors import ArmError

DATA_FILE = "api-versions.json"


@dataclass(frozen=True)
class Train:
    """One spec's api-versions and where they come from."""

    folders: tuple[str, ...]  #: the spec folders whose `stable/` and `preview/` subfolders name versions
    files: tuple[str, ...]  #: a version folder belongs to this train when it holds one of these
    published: tuple[str, ...]  #: the folder names Azure publishes
    sdk: Mapping[str, str]  #: version -> which pinned SDK or `az` sends it
    arm: tuple[str, ...] = ()  #: ARM's own list (its InvalidApiVersionParameter answer), for ARM's own types

    @property
    def versions(self) -> tuple[str, ...]:
        """Every version ARM accepts for the train's types, oldest first."""
        return tuple(sorted({*self.published, *self.sdk, *self.arm}))


def load_trains(document: Mapping[str, Any]) -> dict[str, Train]:
    """The trains of a parsed `api-versions.json`."""
    return {
        name: Train(
            folders=tuple(raw["folders"]),
            files=tuple(raw["files"]),
            published=tuple(raw["published"]),
            sdk=dict(raw["sdk"]),
            arm=tuple(raw.get("arm", ())),
        )
        for name, raw in document["trains"].items()
    }


def _read_data() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resources.files("azure_emulator").joinpath("data", DATA_FILE).read_text())
    return document


SOURCES: dict[str, Train] = load_trains(_read_data())

#: train -> the versions ARM accepts for its types (what the refusal message lists, in this order).
TRAINS: dict[str, tuple[str, ...]] = {name: train.versions for name, train in SOURCES.items()}

_V = "Microsoft.RecoveryServices/vaults"
_L = "Microsoft.RecoveryServices/locations"
_I = _V + "/backupFabrics/protectionContainers/protectedItems"

#: resource type (as ARM names it: namespace/type/child...) -> its train. Every route has an entry
#: (tests/emulator/test_emulator_apiversions.py).
TYPES: dict[str, str] = {
    "Microsoft.Resources/subscriptions": "Resources",
    "Microsoft.Resources/resourceGroups": "Resources",
    "Microsoft.Resources/providers": "Resources",
    # vaults.json
    _V: "RecoveryServices",
    _V + "/operationStatus": "RecoveryServices",
    _V + "/operationResults": "RecoveryServices",
    _L + "/checkNameAvailability": "RecoveryServices",
    _L + "/deletedVaults": "RecoveryServices",
    _L + "/deletedVaults/undelete": "RecoveryServices",
    _L + "/deletedVaults/operations": "RecoveryServices",
    # bms.json
    _V + "/backupstorageconfig": "RecoveryServicesBackup",
    _V + "/backupconfig": "RecoveryServicesBackup",
    _V + "/backupResourceGuardProxies": "RecoveryServicesBackup",
    _V + "/backupResourceGuardProxies/unlockDelete": "RecoveryServicesBackup",
    _V + "/backupPolicies": "RecoveryServicesBackup",
    _V + "/backupFabrics/refreshContainers": "RecoveryServicesBackup",
    _V + "/backupFabrics/operationResults": "RecoveryServicesBackup",
    _V + "/backupFabrics/operationsStatus": "RecoveryServicesBackup",
    _V + "/backupFabrics/protectionContainers": "RecoveryServicesBackup",
    _I: "RecoveryServicesBackup",
    _I + "/operationsStatus": "RecoveryServicesBackup",
    _I + "/operationResults": "RecoveryServicesBackup",
    _I + "/backup": "RecoveryServicesBackup",
    _I + "/recoveryPoints": "RecoveryServicesBackup",
    _I + "/recoveryPoints/restore": "RecoveryServicesBackup",
    _V + "/backupProtectableItems": "RecoveryServicesBackup",
    _V + "/backupProtectionContainers": "RecoveryServicesBackup",
    _V + "/backupProtectedItems": "RecoveryServicesBackup",
    _V + "/backupOperations": "RecoveryServicesBackup",
    _V + "/backupOperationResults": "RecoveryServicesBackup",
    _V + "/backupJobs": "RecoveryServicesBackup",
    _V + "/backupJobs/cancel": "RecoveryServicesBackup",
    _V + "/backupJobs/operationResults": "RecoveryServicesBackup",
    _V + "/backupValidateOperation": "RecoveryServicesBackup",
    _V + "/backupTriggerValidateOperation": "RecoveryServicesBackup",
    _V + "/backupValidateOperationResults": "RecoveryServicesBackup",
    _V + "/backupValidateOperationsStatuses": "RecoveryServicesBackup",
    _V + "/backupFabrics/backupProtectionIntent": "RecoveryServicesBackup",
    _L + "/backupStatus": "RecoveryServicesBackup",
    _L + "/backupPreValidateProtection": "RecoveryServicesBackup",
    _L + "/backupValidateFeatures": "RecoveryServicesBackup",
    # ComputeRP
    "Microsoft.Compute/virtualMachines": "ComputeRP",
    "Microsoft.Compute/virtualMachines/instanceView": "ComputeRP",
    "Microsoft.Compute/virtualMachines/extensions": "ComputeRP",
    "Microsoft.Compute/virtualMachines/start": "ComputeRP",
    "Microsoft.Compute/locations/virtualMachines": "ComputeRP",
    # DiskRP
    "Microsoft.Compute/disks": "DiskRP",
    # Network
    "Microsoft.Network/networkInterfaces": "Network",
    "Microsoft.Network/networkInterfaces/effectiveNetworkSecurityGroups": "Network",
    "Microsoft.Network/locations/operationResults": "Network",
    "Microsoft.Network/locations/serviceTags": "Network",
    "Microsoft.Network/networkSecurityGroups": "Network",
    "Microsoft.Network/networkSecurityGroups/securityRules": "Network",
    "Microsoft.Network/networkSecurityGroups/defaultSecurityRules": "Network",
    "Microsoft.Network/virtualNetworks": "Network",
    "Microsoft.Network/virtualNetworks/subnets": "Network",
    "Microsoft.Network/publicIPAddresses": "Network",
    # Storage
    "Microsoft.Storage/storageAccounts": "Storage",
    # Activity Log (`providers/microsoft.insights/eventtypes/management/values`)
    "Microsoft.Insights/eventtypes/values": "ActivityLog",
}

#: The api-versions of `GET /metadata/endpoints` (no resource type; exempt from the table above).
METADATA_VERSIONS = ("2015-01-01", "2019-05-01", "2020-06-01", "2022-09-01")

_WELL_FORMED = re.compile(r"^\d{4}-\d{2}-\d{2}(-[A-Za-z][A-Za-z0-9.]*)?$|^2014-04$")


def _lookup(rtype: str) -> str | None:
    """The train of a resource type (case-insensitive, as ARM compares types)."""
    low = rtype.lower()
    for name, train in TYPES.items():
        if name.lower() == low:
            return train
    return None


def resource_type(path: str) -> str | None:
    """The ARM resource type a path addresses, `Namespace/type/child/...`, or None for a non-ARM path.

    The type is the namespace after the last `/providers/` followed by every other segment (type,
    name, type, name, ... ; a trailing action counts as a type). Paths without a provider segment are
    ARM's own: `/subscriptions[/{id}]`, `.../resourceGroups[/{rg}]`, `/subscriptions/{id}/providers[/{ns}[/register]]`.
    Works on route templates too (`{name}` placeholders are segments).
    """
    segs = [s for s in path.split("/") if s]
    if not segs or segs[0].lower() != "subscriptions":
        return None
    low = [s.lower() for s in segs]
    if "providers" in low:
        at = len(low) - 1 - low[::-1].index("providers")
        rest = segs[at + 1 :]
        if at == 2 and (len(rest) <= 1 or (len(rest) == 2 and rest[1].lower() in ("register", "unregister"))):
            return "Microsoft.Resources/providers"
        if not rest:
            return None
        types = rest[1::2]
        return "/".join([rest[0], *types]) if types else "Microsoft.Resources/providers"
    if len(segs) > 2 and low[2] == "resourcegroups":
        return "Microsoft.Resources/resourceGroups"
    return "Microsoft.Resources/subscriptions"  # the subscription itself and its operationresults


def supported(rtype: str) -> tuple[str, ...]:
    train = _lookup(rtype)
    return TRAINS[train] if train else ()


@dataclass(frozen=True)
class Refusal:
    """Why ARM refuses an api-version (None from `check` when it does not)."""

    code: str
    message: str


def check(rtype: str | None, api_version: str | None, location: str, locations: Sequence[str]) -> Refusal | None:
    """ARM's answer to the api-version of a request for `rtype` (None: accepted).

    A type missing from the table is not refused here (the router answers it 404 InvalidResourceType).
    """
    if api_version is None:
        return Refusal(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if rtype is None:
        return None
    train = _lookup(rtype)
    if train is None:
        return None
    versions = TRAINS[train]
    if api_version in versions:
        return None
    if train == "Resources" or not _WELL_FORMED.match(api_version):
        # ARM's own message lists the newest first, comma-separated without spaces.
        listed = ",".join(_newest_first(versions))
        return Refusal(
            "InvalidApiVersionParameter",
            f"The api-version '{api_version}' is invalid. The supported versions are '{listed}'.",
        )
    short = rtype.split("/", 1)[1]
    return Refusal(
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{location}' and API version '{api_version}' for type "
        f"'{short}'. The supported api-versions are '{', '.join(versions)}'. The supported locations are "
        f"'{', '.join(locations)}'.",
    )


def _newest_first(versions: Iterable[str]) -> list[str]:
    return sorted(versions, reverse=True)


def refusal_error(refusal: Refusal) -> ArmError:
    return ArmError(400, refusal.code, refusal.message)
