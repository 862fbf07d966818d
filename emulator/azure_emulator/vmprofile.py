"""The inventory's VM facts beyond disks and network: placement, gallery applications, guest patch status.

Each is answered in Azure's shape when the inventory states it and is absent when it does not, as Azure
leaves these keys out of a VM that has none (SPEC ComputeRP 2024-07-01 virtualMachine.json).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure_emulator import ids
from azure_emulator.inventory_fields import InventoryError, split_ref


@dataclass(frozen=True)
class Placement:
    """Where a VM sits: its proximity placement group, its flexible scale set and that set's standby pool."""

    proximity_placement_group: str | None = None
    scale_set: str | None = None
    in_standby_pool: bool | None = None


def placement(doc: Mapping[str, Any], subscription: str, rg: str, where: str) -> Placement:
    """`proximityPlacementGroup`, `scaleSet` (a flexible one) and `inStandbyPool` of an inventory VM."""
    ppg = None
    if doc.get("proximityPlacementGroup"):
        ppg_rg, name = split_ref(str(doc["proximityPlacementGroup"]), rg, 1)
        ppg = ids.resource_id(subscription, ppg_rg, "Microsoft.Compute", "proximityPlacementGroups", name)
    scale_set = None
    if doc.get("scaleSet"):
        if doc.get("availabilitySet"):
            # SPEC VirtualMachineProperties.virtualMachineScaleSet: "This property cannot exist along with a
            # non-null properties.availabilitySet reference."
            raise InventoryError(f"{where}: a VM is in a scale set or in an availability set, not both")
        set_rg, name = split_ref(str(doc["scaleSet"]), rg, 1)
        scale_set = ids.resource_id(subscription, set_rg, "Microsoft.Compute", "virtualMachineScaleSets", name)
    pooled = doc.get("inStandbyPool")
    if pooled is not None:
        if not isinstance(pooled, bool):
            raise InventoryError(f"{where}: inStandbyPool is true or false")
        if scale_set is None:
            # a standby pool belongs to a flexible scale set (learn.microsoft.com/azure/virtual-machine-scale-sets/
            # standby-pools-overview), so only a VM of one can be in or out of it
            raise InventoryError(f"{where}: inStandbyPool needs the VM's scaleSet")
    return Placement(ppg, scale_set, pooled)


_KIND = {str: "a string", int: "an integer", bool: "true or false"}

#: VMGalleryApplication's fields and their JSON types (SPEC computeRPCommon VMGalleryApplication).
_APPLICATION_FIELDS: dict[str, type] = {
    "packageReferenceId": str,
    "order": int,
    "tags": str,
    "configurationReference": str,
    "treatFailureAsDeploymentFailure": bool,
    "enableAutomaticUpgrade": bool,
}


def gallery_applications(value: object, subscription: str, rg: str, where: str) -> list[dict[str, Any]]:
    """`galleryApplications`: application versions as ids or `[rg/]gallery/application/version`, or
    ARM's VMGalleryApplication mappings; answered as `properties.applicationProfile.galleryApplications`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InventoryError(f"{where}: galleryApplications is a list")
    out = []
    for i, app in enumerate(value):
        here = f"{where} galleryApplications[{i}]"
        entry = {"packageReferenceId": app} if isinstance(app, str) else app
        if not isinstance(entry, Mapping) or not entry.get("packageReferenceId"):
            raise InventoryError(f"{here}: an application version's id, or a mapping with packageReferenceId")
        unknown = sorted(set(entry) - set(_APPLICATION_FIELDS))
        if unknown:
            raise InventoryError(f"{here}: unknown fields {unknown} (one of {', '.join(_APPLICATION_FIELDS)})")
        for key, kind in _APPLICATION_FIELDS.items():
            if key in entry and (not isinstance(entry[key], kind) or (kind is int and isinstance(entry[key], bool))):
                raise InventoryError(f"{here}: {key} is {_KIND[kind]}")
        ref = str(entry["packageReferenceId"])
        if not ref.startswith("/"):
            app_rg, gallery, application, version = split_ref(ref, rg, 3)
            path = ("galleries", gallery, "applications", application, "versions", version)
            ref = ids.resource_id(subscription, app_rg, "Microsoft.Compute", *path)
        out.append({**entry, "packageReferenceId": ref})
    return out


#: The fields of each patch summary the inventory may state, with their defaults (SPEC
#: AvailablePatchSummary, LastPatchInstallationSummary); `status` is a PatchOperationStatus.
_SUMMARIES: dict[str, tuple[str, dict[str, Any]]] = {
    "availablePatchSummary": (
        "assessmentActivityId",
        {"status": "Succeeded", "rebootPending": False, "criticalAndSecurityPatchCount": 0, "otherPatchCount": 0},
    ),
    "lastPatchInstallationSummary": (
        "installationActivityId",
        {
            "status": "Succeeded",
            "maintenanceWindowExceeded": False,
            "notSelectedPatchCount": 0,
            "excludedPatchCount": 0,
            "pendingPatchCount": 0,
            "installedPatchCount": 0,
            "failedPatchCount": 0,
        },
    ),
}
_PATCH_OPERATION_STATUS = ("Unknown", "InProgress", "Failed", "Succeeded", "CompletedWithWarnings")
#: when the inventory's guests last assessed and installed patches (a fixed time keeps answers stable)
PATCHED_AT = "2024-01-15T09:10:00+00:00"


def patch_status(value: object, vm_id: str, where: str) -> dict[str, Any] | None:
    """`patchStatus`: true (an assessment that found nothing), or ARM's `availablePatchSummary` and
    `lastPatchInstallationSummary` with the fields that differ from a clean run; None when not stated."""
    if value is None or value is False:
        return None
    if value is True:
        value = {"availablePatchSummary": {}}
    if not isinstance(value, Mapping) or not value or set(value) - set(_SUMMARIES):
        raise InventoryError(f"{where}: patchStatus is true or a mapping of {' and '.join(_SUMMARIES)}")
    out: dict[str, Any] = {}
    for key, (activity, defaults) in _SUMMARIES.items():
        if key not in value:
            continue
        given = value[key] or {}
        if not isinstance(given, Mapping) or set(given) - set(defaults):
            raise InventoryError(f"{where}: patchStatus.{key} has only {', '.join(defaults)}")
        summary = {**defaults, **given}
        if summary["status"] not in _PATCH_OPERATION_STATUS:
            raise InventoryError(f"{where}: patchStatus.{key}.status is one of {', '.join(_PATCH_OPERATION_STATUS)}")
        for field, default in defaults.items():
            if type(summary[field]) is not type(default):
                raise InventoryError(f"{where}: patchStatus.{key}.{field} is {_KIND[type(default)]}")
        out[key] = {
            "status": summary.pop("status"),
            activity: ids.stable_uuid(vm_id, key),
            **summary,
            "startTime": PATCHED_AT,
            "lastModifiedTime": PATCHED_AT,
        }
    # The guest reports the state of its patch and assessment modes with the summaries (Azure's example
    # shows both codes); the emulator has no osProfile.patchSettings, so both are Ready.
    out["configurationStatuses"] = [
        {
            "code": f"{mode}ConfigurationState/Ready",
            "level": "Info",
            "displayStatus": f"Status_{mode}ConfigurationState_Ready",
            "time": PATCHED_AT,
        }
        for mode in ("PatchMode", "AssessmentMode")
    ]
    return out
