"""Pure restore rules: recovery-point tiers as the CLI folds them, and which restore bodies are refused."""

from __future__ import annotations

from typing import Any

import pytest
from azure_emulator.backup_model import RecoveryPoint
from azure_emulator.errors import ArmError
from azure_emulator.recovery_tiers import Tier, needs_rehydration, rehydration_days, tier_details, tier_of
from azure_emulator.restore_request import parse

DAY = 86400.0
NOW = 1_800_000_000.0
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
VM = f"{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
VNET = f"{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"
STAGING = f"{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st"


def rp(**kw: Any) -> RecoveryPoint:
    fields: dict[str, Any] = {"instant_until": NOW + DAY, "vault_tier": True, **kw}
    return RecoveryPoint("1", NOW - DAY, "AppConsistent", NOW + 30 * DAY, "Standard_D2s_v3", False, True, **fields)


@pytest.mark.parametrize(
    ("point", "tier", "details"),
    [
        pytest.param(
            rp(),
            Tier.SNAPSHOT_AND_VAULT_STANDARD,
            [{"type": "InstantRP", "status": "Valid"}, {"type": "HardenedRP", "status": "Valid"}],
            id="a fresh point has its snapshot and its vault copy",
        ),
        pytest.param(
            rp(instant_until=NOW - 1),
            Tier.VAULT_STANDARD,
            [{"type": "InstantRP", "status": "Deleted"}, {"type": "HardenedRP", "status": "Valid"}],
            id="an older point has lost its snapshot",
        ),
        pytest.param(
            rp(vault_tier=False),
            Tier.SNAPSHOT,
            [{"type": "InstantRP", "status": "Valid"}],
            id="a point not yet transferred has only its snapshot",
        ),
        pytest.param(
            rp(instant_until=NOW - 1, vault_tier=False, archived=True),
            Tier.VAULT_ARCHIVE,
            [
                {"type": "InstantRP", "status": "Deleted"},
                {"type": "HardenedRP", "status": "Deleted"},
                {"type": "ArchivedRP", "status": "Valid"},
            ],
            id="an archived point has only its archive copy",
        ),
        pytest.param(
            rp(instant_until=NOW - 1, vault_tier=False, archived=True, rehydrated_until=NOW + DAY),
            Tier.VAULT_STANDARD_REHYDRATED,
            [
                {"type": "InstantRP", "status": "Deleted"},
                {"type": "HardenedRP", "status": "Deleted"},
                {
                    "type": "ArchivedRP",
                    "status": "Rehydrated",
                    "extendedInfo": {"RehydratedRPExpiryTime": "2027-01-16T08:00:00.000000Z"},
                },
            ],
            id="a rehydrated archived point can be restored until its rehydration expires",
        ),
        pytest.param(
            rp(instant_until=NOW - 1, vault_tier=False),
            Tier.NONE,
            [{"type": "InstantRP", "status": "Deleted"}],
            id="a point whose snapshot is gone and never reached the vault has nothing to restore",
        ),
    ],
)
def test_tiers_of_a_recovery_point(point: RecoveryPoint, tier: Tier, details: list[dict[str, Any]]) -> None:
    assert tier_of(point, NOW) is tier
    assert tier_details(point, NOW) == details
    assert needs_rehydration(point, NOW) is (tier is Tier.VAULT_ARCHIVE)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        pytest.param("P15D", 15, id="the CLI's default duration"),
        pytest.param("p7d", 7, id="lower case is read"),
        pytest.param("PT15H", None, id="hours are not a rehydration duration"),
        pytest.param("15", None, id="a bare number is not an ISO duration"),
    ],
)
def test_rehydration_duration(text: str, days: int | None) -> None:
    assert rehydration_days(text) == days


def body(**props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "objectType": "IaasVMRestoreRequest",
        "recoveryPointId": "1",
        "recoveryType": "AlternateLocation",
        "sourceResourceId": VM,
        "storageAccountId": STAGING,
        "targetVirtualMachineId": f"{SUB}/resourceGroups/rg-t/providers/Microsoft.Compute/virtualMachines/new",
        "targetResourceGroupId": f"{SUB}/resourceGroups/rg-t",
        "virtualNetworkId": VNET,
        "subnetId": f"{VNET}/subnets/default",
        "region": "westeurope",
    }
    return {"properties": {k: v for k, v in {**base, **props}.items() if v is not None}}


@pytest.mark.parametrize(
    ("request_body", "reason"),
    [
        pytest.param(body(objectType="AzureFileShareRestoreRequest"), "objectType", id="another workload is refused"),
        pytest.param(body(recoveryType="OriginalLocation"), "recoveryType", id="replacing disks is not emulated"),
        pytest.param(body(recoveryPointId="2"), "recoveryPointId", id="a point other than the URL's is refused"),
        pytest.param(body(subnetId=None), "subnetId", id="a new VM needs a subnet"),
        pytest.param(body(storageAccountId=None), "staging", id="every restore needs a staging account"),
        pytest.param(
            body(targetResourceGroupId=f"{SUB}/resourceGroups/rg-other"),
            "targetVirtualMachineId is not in",
            id="the new VM must be in the target group",
        ),
        pytest.param(
            body(subnetId=f"{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/other/subnets/x"),
            "not a subnet of",
            id="the subnet must be in the given VNet",
        ),
        pytest.param(
            body(objectType="IaasVMRestoreWithRehydrationRequest"),
            "recoveryPointRehydrationInfo",
            id="a rehydration request needs its rehydration info",
        ),
        pytest.param(
            body(
                objectType="IaasVMRestoreWithRehydrationRequest",
                recoveryPointRehydrationInfo={"rehydrationRetentionDuration": "P15D", "rehydrationPriority": "Fast"},
            ),
            "rehydrationPriority",
            id="rehydration priority is Standard or High",
        ),
    ],
)
def test_bad_restore_bodies_are_refused_synchronously(request_body: dict[str, Any], reason: str) -> None:
    with pytest.raises(ArmError) as refused:
        parse(request_body, "1")
    assert (refused.value.status, refused.value.code) == (400, "BMSUserErrorInvalidInput")
    assert reason in refused.value.message


@pytest.mark.parametrize(
    ("request_body", "luns", "managed_identity_staging"),
    [
        pytest.param(body(), None, False, id="no LUN list restores every disk"),
        pytest.param(body(restoreDiskLunList=[]), (), False, id="an empty LUN list restores only the OS disk"),
        pytest.param(
            body(
                recoveryType="RestoreDisks",
                storageAccountId=None,
                identityBasedRestoreDetails={"targetStorageAccountId": STAGING},
                targetVirtualMachineId=None,
                virtualNetworkId=None,
                subnetId=None,
            ),
            None,
            True,
            id="a managed-identity restore names its staging account in identityBasedRestoreDetails",
        ),
    ],
)
def test_good_restore_bodies_are_read(
    request_body: dict[str, Any], luns: tuple[int, ...] | None, managed_identity_staging: bool
) -> None:
    request = parse(request_body, "1")
    assert request.restore_disk_luns == luns
    assert request.storage_account_id == STAGING
    assert request.alternate_location is not managed_identity_staging
