"""The api-versions ARM accepts, per resource type, and ARM's refusals of the others.

ARM routes a request to a resource provider only when the provider registered the request's
api-version for the resource type of the path; otherwise it answers 400 itself. The versions below
are the folder names of each spec in Azure/azure-rest-api-specs (`stable/` and `preview/`) as
Azure's template reference lists them per resource type (learn.microsoft.com/azure/templates/
<namespace>/allversions), plus the versions the SDKs pinned in this project and `az` 2.91 send.
Every resource type a spec defines shares its spec's list (a *train*); where a type appeared in a
later version than the train's first, the emulator still accepts the earlier ones (documented choice).

Pure data and pure functions: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from azure_emulator.errors import ArmError

# -- version trains (one per spec) ----------------------------------------------------------------

#: Microsoft.RecoveryServices vaults (`RecoveryServices/.../vaults.json`, TypeSpec `openapi.json`).
#: Template reference for `Microsoft.RecoveryServices/vaults`; 2026-07-01 is azure-mgmt-recoveryservices 4.2.0's
#: (what `az` 2.91 sends), 2026-11-01 4.3.0's.
RECOVERY_SERVICES = (
    "2016-06-01", "2020-02-02", "2020-10-01", "2021-01-01", "2021-02-10", "2021-03-01", "2021-04-01",
    "2021-06-01", "2021-07-01", "2021-08-01", "2021-11-01-preview", "2021-12-01", "2022-01-01",
    "2022-01-31-preview", "2022-02-01", "2022-03-01", "2022-04-01", "2022-05-01", "2022-08-01", "2022-09-10",
    "2022-09-30-preview", "2022-10-01", "2023-01-01", "2023-02-01", "2023-04-01", "2023-06-01", "2023-08-01",
    "2024-01-01", "2024-02-01", "2024-04-01", "2024-04-30-preview", "2024-09-30-preview", "2024-10-01",
    "2025-01-01", "2025-02-01", "2025-08-01", "2026-01-01", "2026-07-01", "2026-11-01",
)  # fmt: skip

#: Azure Backup (`recoveryservicesbackup/.../bms.json`): the 2016-12-01 and 2017-07-01 folders hold the
#: first bms.json (Azure's own examples still hand out `?api-version=2016-12-01` in LRO headers); the rest
#: is the template reference for `vaults/backupconfig`; 2026-08-01 is azure-mgmt-recoveryservicesbackup 11.1.0's
#: (what `az` 2.91 sends), 2026-10-01 11.2.0's.
BACKUP = (
    "2016-06-01", "2016-08-10", "2016-12-01", "2017-07-01", "2019-05-13", "2019-06-15", "2020-10-01",
    "2020-12-01", "2021-01-01", "2021-02-01-preview", "2021-02-01", "2021-02-10", "2021-03-01", "2021-04-01",
    "2021-06-01", "2021-07-01", "2021-08-01", "2021-10-01", "2021-12-01", "2022-01-01", "2022-02-01",
    "2022-03-01", "2022-04-01", "2022-06-01-preview", "2022-09-01-preview", "2022-09-30-preview", "2022-10-01",
    "2023-01-01", "2023-02-01", "2023-04-01", "2023-06-01", "2023-08-01", "2024-01-01", "2024-02-01",
    "2024-04-01", "2024-04-30-preview", "2024-07-30-preview", "2024-10-01", "2024-11-01-preview", "2025-01-01",
    "2025-02-01", "2025-02-28-preview", "2025-08-01", "2026-01-01", "2026-08-01", "2026-10-01",
)  # fmt: skip

#: Microsoft.Compute `ComputeRP` (virtual machines, extensions, ...): template reference for
#: `availabilitySets`; 2026-04-01 is azure-mgmt-compute 39.0.0's.
COMPUTE = (
    "2015-05-01-preview", "2015-06-15", "2016-03-30", "2016-04-30-preview", "2017-03-30", "2017-12-01",
    "2018-04-01", "2018-06-01", "2018-10-01", "2019-03-01", "2019-07-01", "2019-12-01", "2020-06-01",
    "2020-12-01", "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01", "2022-03-01", "2022-08-01",
    "2022-11-01", "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01",
    "2025-04-01", "2026-04-01",
)  # fmt: skip

#: Microsoft.Compute `DiskRP` (managed disks): before 2020-12-01 disks shipped with the ComputeRP train's
#: versions that carried them; 2025-01-02 from the SDK's DiskApiVersion; 2026-03-02 is azure-mgmt-compute 39.0.0's.
DISKS = (
    "2016-04-30-preview", "2017-03-30", "2018-04-01", "2018-06-01", "2018-09-30", "2019-03-01", "2019-07-01",
    "2019-11-01", "2020-05-01", "2020-06-30", "2020-09-30", "2020-12-01", "2021-04-01", "2021-08-01",
    "2021-12-01", "2022-03-02", "2022-07-02", "2023-01-02", "2023-04-02", "2023-10-02", "2024-03-02",
    "2025-01-02", "2026-03-02",
)  # fmt: skip

#: Microsoft.Network (one train for every network type): the versions ARM lists for `networkInterfaces`
#: (Azure/azure-cli#28496) and the template reference; 2025-09-01 is what `az` 2.91's network commands send for
#: some operations, 2026-03-01 azure-mgmt-network 33.1.0's.
NETWORK = (
    "2014-12-01-preview", "2015-05-01-preview", "2015-06-15", "2016-03-30", "2016-06-01", "2016-07-01",
    "2016-08-01", "2016-09-01", "2016-10-01", "2016-11-01", "2016-12-01", "2017-03-01", "2017-04-01",
    "2017-06-01", "2017-08-01", "2017-09-01", "2017-10-01", "2017-11-01", "2018-01-01", "2018-02-01",
    "2018-03-01", "2018-04-01", "2018-05-01", "2018-06-01", "2018-07-01", "2018-08-01", "2018-10-01",
    "2018-11-01", "2018-12-01", "2019-02-01", "2019-04-01", "2019-06-01", "2019-07-01", "2019-08-01",
    "2019-09-01", "2019-11-01", "2019-12-01", "2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01",
    "2020-07-01", "2020-08-01", "2020-11-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01",
    "2022-01-01", "2022-05-01", "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01",
    "2023-05-01", "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01",
    "2024-07-01", "2024-10-01", "2025-01-01", "2025-03-01", "2025-05-01", "2025-09-01", "2026-03-01",
)  # fmt: skip

#: Microsoft.Storage: template reference for `storageAccounts`; 2025-08-01 is azure-mgmt-storage 25.0.0's (`az` 2.91),
#: 2026-09-01 25.3.0's.
STORAGE = (
    "2015-05-01-preview", "2015-06-15", "2016-01-01", "2016-05-01", "2016-12-01", "2017-06-01", "2017-10-01",
    "2018-02-01", "2018-03-01-preview", "2018-07-01", "2018-11-01", "2019-04-01", "2019-06-01",
    "2020-08-01-preview", "2021-01-01", "2021-02-01", "2021-04-01", "2021-06-01", "2021-08-01", "2021-09-01",
    "2022-05-01", "2022-09-01", "2023-01-01", "2023-04-01", "2023-05-01", "2024-01-01", "2025-01-01",
    "2025-06-01", "2025-08-01", "2026-09-01",
)  # fmt: skip

#: ARM's own types (subscriptions, resource groups, providers): the list ARM answers with in
#: InvalidApiVersionParameter (ansible-collections/azure#1739, Azure/azure-cli#28038) plus 2024-11-01
#: (azure-mgmt-resource 24, which `az` 2.91 sends; its folders also hold 2025-03-01) and 2025-04-01
#: (azure-mgmt-resource 26, the tests').
#: ARM also accepts the odd '2014-02-26' and '2014-04'.
RESOURCES = (
    "2013-03-01", "2014-01-01", "2014-02-26", "2014-04", "2014-04-01", "2014-04-01-preview", "2015-01-01",
    "2015-11-01", "2016-02-01", "2016-06-01", "2016-07-01", "2016-09-01", "2017-03-01", "2017-05-01",
    "2017-05-10", "2017-06-01", "2017-08-01", "2017-12-01", "2018-01-01", "2018-02-01", "2018-05-01",
    "2018-06-01", "2018-07-01", "2018-08-01", "2018-09-01", "2018-11-01", "2019-03-01", "2019-05-01",
    "2019-05-10", "2019-06-01", "2019-07-01", "2019-08-01", "2019-09-01", "2019-10-01", "2019-11-01",
    "2020-01-01", "2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01", "2020-09-01", "2020-10-01",
    "2021-01-01", "2021-04-01", "2022-01-01", "2022-03-01-preview", "2022-05-01", "2022-06-01", "2022-09-01",
    "2022-11-01-preview", "2022-12-01", "2023-03-01-preview", "2023-07-01", "2023-07-01-preview",
    "2024-03-01", "2024-06-01-preview", "2024-08-01", "2024-11-01", "2025-03-01", "2025-04-01",
)  # fmt: skip

#: Microsoft.Insights Activity Log (`monitor/.../Microsoft.Insights/stable/2015-04-01/activityLogs_API.json`): the
#: api-version of the only spec that defines `ActivityLogs_List`, and what `az` 2.91 sends.
ACTIVITY_LOG = ("2015-04-01",)

TRAINS: dict[str, tuple[str, ...]] = {
    "RecoveryServices": RECOVERY_SERVICES,
    "RecoveryServicesBackup": BACKUP,
    "ComputeRP": COMPUTE,
    "DiskRP": DISKS,
    "Network": NETWORK,
    "Storage": STORAGE,
    "Resources": RESOURCES,
    "ActivityLog": ACTIVITY_LOG,
}

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
