"""A VM's placement, gallery applications, guest patch status and extensions' forceUpdateTag: answered in
Azure's shape when the inventory states them, absent when it does not, and bad inventory entries refused."""

from __future__ import annotations

from typing import Any

import pytest
from azure_emulator import inventory, world
from azure_emulator.arm import compute
from azure_emulator.inventory import InventoryError
from azure_emulator.settings import Settings

SUB = "00000000-0000-0000-0000-000000000001"
COMPUTE = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute"


def answer(**vm: Any) -> dict[str, Any]:
    """The VM model (with instance view and extensions) the emulator answers for one inventory VM."""
    doc = {"subscriptions": [{"id": SUB, "vms": [{"name": "vm1", "resourceGroup": "rg1", **vm}]}]}
    state = world.build_state(inventory.parse_inventory(doc), Settings())
    found = state.subscription(SUB).vms.get("rg1", "vm1")
    assert found is not None
    return compute.vm_json(state, found, 0.0, view=True, resources=True)


def test_a_vm_that_states_none_of_them_answers_none_of_their_keys() -> None:
    body = answer(extensions=[{"name": "CustomScript"}])
    assert "managedBy" not in body
    props = body["properties"]
    assert not {"proximityPlacementGroup", "applicationProfile", "virtualMachineScaleSet"} & set(props)
    assert not {"patchStatus", "isVMInStandbyPool"} & set(props["instanceView"])
    assert "forceUpdateTag" not in body["resources"][0]["properties"]


def test_placement_is_answered_as_resource_ids() -> None:
    body = answer(proximityPlacementGroup="rg2/ppg1", scaleSet="vmss1", inStandbyPool=True)
    vmss = f"{COMPUTE}/virtualMachineScaleSets/vmss1"
    assert body["managedBy"] == vmss
    assert body["properties"]["virtualMachineScaleSet"] == {"id": vmss}
    assert body["properties"]["proximityPlacementGroup"] == {
        "id": f"/subscriptions/{SUB}/resourceGroups/rg2/providers/Microsoft.Compute/proximityPlacementGroups/ppg1"
    }
    assert body["properties"]["instanceView"]["isVMInStandbyPool"] is True


def test_gallery_applications_keep_their_fields_and_get_full_ids() -> None:
    given = [
        "gal/app/1.0",
        {"packageReferenceId": "rg2/gal/app2/2.0", "order": 2, "tags": "t", "treatFailureAsDeploymentFailure": True},
    ]
    versions = f"{COMPUTE}/galleries/gal/applications/app/versions/1.0"
    other = f"/subscriptions/{SUB}/resourceGroups/rg2/providers/Microsoft.Compute/galleries/gal/applications/app2"
    assert answer(galleryApplications=given)["properties"]["applicationProfile"] == {
        "galleryApplications": [
            {"packageReferenceId": versions},
            {
                "packageReferenceId": f"{other}/versions/2.0",
                "order": 2,
                "tags": "t",
                "treatFailureAsDeploymentFailure": True,
            },
        ]
    }


def test_patch_status_fills_a_clean_run_around_what_the_inventory_states() -> None:
    status = answer(patchStatus={"availablePatchSummary": {"otherPatchCount": 4, "rebootPending": True}})
    patch = status["properties"]["instanceView"]["patchStatus"]
    assert set(patch) == {"availablePatchSummary", "configurationStatuses"}, "no installation was stated"
    summary = patch["availablePatchSummary"]
    assert (summary["status"], summary["otherPatchCount"], summary["criticalAndSecurityPatchCount"]) == (
        "Succeeded",
        4,
        0,
    )
    assert summary["rebootPending"] is True
    assert [s["code"] for s in patch["configurationStatuses"]] == [
        "PatchModeConfigurationState/Ready",
        "AssessmentModeConfigurationState/Ready",
    ]
    clean = answer(patchStatus=True)["properties"]["instanceView"]["patchStatus"]["availablePatchSummary"]
    assert (clean["status"], clean["otherPatchCount"], clean["rebootPending"]) == ("Succeeded", 0, False)


def test_an_extension_answers_the_force_update_tag_it_was_given() -> None:
    body = answer(extensions=[{"name": "CustomScript", "forceUpdateTag": "7"}])
    assert body["resources"][0]["properties"]["forceUpdateTag"] == "7"


@pytest.mark.parametrize(
    ("vm", "message"),
    [
        pytest.param({"scaleSet": "vmss1", "availabilitySet": "as1"}, "not both", id="scale-set-and-availability-set"),
        pytest.param({"inStandbyPool": True}, "needs the VM's scaleSet", id="standby-pool-without-scale-set"),
        pytest.param({"scaleSet": "vmss1", "inStandbyPool": "yes"}, "true or false", id="standby-pool-not-a-bool"),
        pytest.param({"galleryApplications": [{"order": 1}]}, "packageReferenceId", id="application-without-id"),
        pytest.param(
            {"galleryApplications": ["g/a/1", {"packageReferenceId": "g/a/2", "version": "x"}]},
            "unknown fields",
            id="application-unknown-field",
        ),
        pytest.param(
            {"galleryApplications": [{"packageReferenceId": "g/a/1", "order": "1"}]},
            "order is an integer",
            id="application-order-not-an-int",
        ),
        pytest.param({"patchStatus": {"installed": 3}}, "patchStatus is true or a mapping", id="patch-unknown-summary"),
        pytest.param(
            {"patchStatus": {"availablePatchSummary": {"status": "Done"}}},
            "status is one of",
            id="patch-unknown-status",
        ),
        pytest.param(
            {"patchStatus": {"lastPatchInstallationSummary": {"installedPatchCount": "3"}}},
            "installedPatchCount is an integer",
            id="patch-count-not-an-int",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_its_vm_named(vm: dict[str, Any], message: str) -> None:
    with pytest.raises(InventoryError, match=message) as refused:
        answer(**vm)
    assert "vm 'vm1'" in str(refused.value)
