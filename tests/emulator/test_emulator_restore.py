"""Restores with the unmodified aio SDK clients: the trigger and its operation, the Restore job, what
it creates (read back through the compute and network clients), its failures, recovery-point tiers
and date filters, and the validate operations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.recoveryservicesbackup import models as bm
from azure_emulator.inventory import load_document
from azure_emulator.server import EmulatorProcess, running_emulator
from azure_emulator.settings import Settings
from emulator_support import SUB, TIME_SCALE, Azure, container, item, vault_id, vm_id

VAULT, VAULT_RG = "rsv-restore", "rg-backup"
SOURCE_RG, SOURCE = "rg-apps", "vm-api-01"  #: Windows, one 256 GB data disk, tags backup/env/app
TARGET_RG = "rg-restore"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-weu"
STAGING = f"/subscriptions/{SUB}/resourceGroups/{VAULT_RG}/providers/Microsoft.Storage/storageAccounts/ststaging"
NEU_STAGING = f"/subscriptions/{SUB}/resourceGroups/rg-neu/providers/Microsoft.Storage/storageAccounts/stneustaging"
SOURCE_TAGS = {"backup": "daily", "env": "prod", "app": "api"}


def restore_fleet() -> dict[str, Any]:
    """The sample fleet plus a restore target group, staging accounts, and a vault whose item has a
    40-day-old archived point, a 10-day-old vault-tier point and a 6-hour-old point in both tiers."""
    doc = load_document(None)
    sub = doc["subscriptions"][0]
    sub["resourceGroups"].append({"name": TARGET_RG, "location": "westeurope"})
    sub["storageAccounts"] += [
        {"name": "ststaging", "resourceGroup": VAULT_RG, "location": "westeurope"},
        {"name": "stneustaging", "resourceGroup": "rg-neu", "location": "northeurope"},
    ]
    sub["vaults"].append(
        {
            "name": VAULT,
            "resourceGroup": VAULT_RG,
            "location": "westeurope",
            "protectedItems": [
                {
                    "vm": f"{SOURCE_RG}/{SOURCE}",
                    "recoveryPoints": [
                        {"ageDays": 40, "type": "CrashConsistent", "tiers": ["ArchivedRP"]},
                        {"ageDays": 10, "type": "CrashConsistent", "tiers": ["HardenedRP"]},
                        {"ageHours": 6, "type": "AppConsistent"},
                    ],
                },
                {"vm": "rg-apps/vm-appvhd", "recoveryPoints": 1},
            ],
        }
    )
    return doc


@pytest.fixture(scope="module")
def restore_process() -> Iterator[EmulatorProcess]:
    with running_emulator(restore_fleet(), time_scale=TIME_SCALE) as emu:
        yield emu


@pytest.fixture
def emu(restore_process: EmulatorProcess) -> EmulatorProcess:
    """This module's emulator, back to its inventory (overrides conftest's, so `azure` uses it)."""
    assert restore_process.emulator is not None
    restore_process.emulator.apply_settings(Settings(time_scale=TIME_SCALE))
    restore_process.emulator.reset()
    return restore_process


async def points(azure: Azure, vm: str = SOURCE, rg: str = SOURCE_RG, **kw: Any) -> list[Any]:
    """The item's recovery points, newest first."""
    listed = azure.backup.recovery_points.list(VAULT, VAULT_RG, "Azure", container(rg, vm), item(rg, vm), **kw)
    rps = [rp async for rp in listed]
    return sorted(rps, key=lambda rp: rp.properties.recovery_point_time, reverse=True)


def tiers(rp: Any) -> dict[str, str]:
    return {t.type: t.status for t in rp.properties.recovery_point_tier_details}


def alr(
    rp: str,
    name: str,
    *,
    rg: str = TARGET_RG,
    staging: str = STAGING,
    kind: type[bm.IaasVMRestoreRequest] = bm.IaasVMRestoreRequest,
    **extra: Any,
) -> bm.IaasVMRestoreRequest:
    """An AlternateLocation (new VM) request as the CLI sends it."""
    return kind(
        recovery_point_id=rp,
        recovery_type="AlternateLocation",
        source_resource_id=vm_id(SOURCE_RG, SOURCE),
        target_virtual_machine_id=f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}",
        target_resource_group_id=f"/subscriptions/{SUB}/resourceGroups/{rg}",
        storage_account_id=staging,
        virtual_network_id=SUBNET,
        subnet_id=f"{SUBNET}/subnets/default",
        region="westeurope",
        create_new_cloud_service=False,
        original_storage_account_option=False,
        **extra,
    )


def disks_request(
    rp: str, *, rg: str | None = TARGET_RG, vm: str = SOURCE, vm_rg: str = SOURCE_RG
) -> bm.IaasVMRestoreRequest:
    """A RestoreDisks request; without a target group the disks become VHDs in the staging account."""
    return bm.IaasVMRestoreRequest(
        recovery_point_id=rp,
        recovery_type="RestoreDisks",
        source_resource_id=vm_id(vm_rg, vm),
        target_resource_group_id=f"/subscriptions/{SUB}/resourceGroups/{rg}" if rg else None,
        storage_account_id=STAGING,
        region="westeurope",
        create_new_cloud_service=False,
        original_storage_account_option=False,
    )


async def trigger(azure: Azure, rp: str, request: Any, vm: str = SOURCE, rg: str = SOURCE_RG) -> tuple[Any, str]:
    """POST restore the way the operator will (no polling, headers kept); returns (headers, job id)."""
    poller = await azure.backup.restores.begin_trigger(
        VAULT,
        VAULT_RG,
        "Azure",
        container(rg, vm),
        item(rg, vm),
        rp,
        bm.RestoreRequestResource(properties=request),
        polling=False,
        cls=lambda pr, _d, _h: pr.http_response.headers,
    )
    headers = await poller.result()
    op_id = headers["Azure-AsyncOperation"].split("/operationsStatus/")[1].split("?")[0]
    status = await azure.backup.protected_item_operation_statuses.get(
        VAULT, VAULT_RG, "Azure", container(rg, vm), item(rg, vm), op_id
    )
    assert status.status == "Succeeded"
    return headers, str(status.properties.job_id)


async def restore(azure: Azure, rp: str, request: Any, vm: str = SOURCE, rg: str = SOURCE_RG) -> Any:
    """Trigger, then wait for the Restore job (never the operation alone)."""
    _, job_id = await trigger(azure, rp, request, vm, rg)
    return await azure.wait_job(VAULT, VAULT_RG, job_id)


def error_code(job: Any) -> str:
    return str(job.properties.error_details[0].error_title)


async def test_restore_to_a_new_vm_creates_the_vm_its_nic_and_disks_tagged_like_the_source(
    emu: EmulatorProcess, azure: Azure
) -> None:
    newest = (await points(azure))[0]
    headers, job_id = await trigger(azure, newest.name, alr(newest.name, "vm-api-drill"))

    # the 202: both URLs under the item, the operation id is the job id (CLIREC)
    assert "/operationsStatus/" in headers["Azure-AsyncOperation"]
    assert "/operationResults/" in headers["Location"]
    assert headers["Azure-AsyncOperation"].split("/operationsStatus/")[1].split("?")[0] == job_id
    vault_level = await azure.backup.backup_operation_statuses.get(VAULT, VAULT_RG, job_id)
    assert (vault_level.status, vault_level.properties.job_id) == ("Succeeded", job_id)

    job = await azure.wait_job(VAULT, VAULT_RG, job_id)
    props = job.properties
    assert (props.operation, props.status, props.entity_friendly_name) == ("Restore", "Completed", SOURCE)
    bag = props.extended_info.property_bag
    assert bag["Job Type"] == "Recover VM to an alternate location"
    assert (bag["Original VM Name"], bag["Target VM Name"], bag["Target resource group"]) == (
        SOURCE,
        "vm-api-drill",
        TARGET_RG,
    )
    assert bag["Target VNet Name"] == "Group rg-network vnet-weu"
    assert bag["Target Storage Account Name"] == "ststaging"
    assert bag["Recovery point time "]  # filled in once the job runs
    assert props.extended_info.internal_property_bag == {"restoreLocationType": "AlternateLocation"}
    assert [(t.task_id, t.status) for t in props.extended_info.tasks_list] == [
        ("Transfer data from vault", "Completed"),
        ("Create the restored virtual machine", "Completed"),
    ]

    vm = await azure.compute.virtual_machines.get(TARGET_RG, "vm-api-drill", expand="instanceView")
    assert vm.tags == SOURCE_TAGS
    assert vm.location == "westeurope"
    assert vm.os_profile.computer_name == "vm-api-01"  # the copy keeps the source's hostname
    assert "PowerState/running" in [s.code for s in vm.instance_view.statuses]
    nic_id = vm.network_profile.network_interfaces[0].id
    nic = await azure.network.network_interfaces.get(TARGET_RG, nic_id.rsplit("/", 1)[1])
    assert nic.name.startswith("vm-api-drillRestoredNIC")
    assert nic.ip_configurations[0].subnet.id == f"{SUBNET}/subnets/default"
    assert nic.tags == SOURCE_TAGS
    assert nic.network_security_group is None
    disk_ids = [vm.storage_profile.os_disk.managed_disk.id] + [d.managed_disk.id for d in vm.storage_profile.data_disks]
    assert len(disk_ids) == 2
    for disk_id in disk_ids:
        disk = await azure.compute.disks.get(TARGET_RG, disk_id.rsplit("/", 1)[1])
        assert (disk.tags, disk.managed_by) == (SOURCE_TAGS, vm.id)

    [created] = emu.admin.restores()
    assert created["jobId"] == job_id
    assert created["created"]["virtualMachine"] == vm.id
    assert created["created"]["networkInterfaces"] == [nic.id]
    assert sorted(created["created"]["disks"]) == sorted(disk_ids)
    source = await azure.compute.virtual_machines.get(SOURCE_RG, SOURCE)
    assert source.storage_profile.os_disk.name == "vm-api-01_OsDisk_1"  # the source is never touched


async def test_the_sdk_default_poller_finishes_on_the_operation_not_the_job(emu: EmulatorProcess, azure: Azure) -> None:
    newest = (await points(azure))[0]
    poller = await azure.backup.restores.begin_trigger(
        VAULT,
        VAULT_RG,
        "Azure",
        container(SOURCE_RG, SOURCE),
        item(SOURCE_RG, SOURCE),
        newest.name,
        bm.RestoreRequestResource(properties=alr(newest.name, "vm-api-poller")),
    )
    assert await poller.result() is None  # the job id is not surfaced: follow the operation's jobId instead
    assert emu.admin.count("ProtectedItemOperationResults_Get", 204) == 1
    [created] = emu.admin.restores()
    job = await azure.wait_job(VAULT, VAULT_RG, created["jobId"])
    assert job.properties.status == "Completed"


async def test_restore_disks_puts_managed_disks_into_the_target_group_and_no_vm(
    emu: EmulatorProcess, azure: Azure
) -> None:
    newest = (await points(azure))[0]
    job = await restore(azure, newest.name, disks_request(newest.name))
    assert job.properties.status == "Completed"
    bag = job.properties.extended_info.property_bag
    assert bag["Job Type"] == "Recover disks"
    assert bag["Target resource group"] == TARGET_RG
    assert bag["Config Blob Name"] == f"config-vm-api-01-{job.name}.json"
    assert bag["Config Blob Uri"].startswith("https://ststaging.blob.core.windows.net/vm-api-01-")
    assert bag["Create VM Template Blob Uri"].endswith(f"/azuredeploy{job.name}.json")
    assert job.properties.extended_info.internal_property_bag == {"restoreLocationType": "RestoreDisks"}
    disks = [d async for d in azure.compute.disks.list_by_resource_group(TARGET_RG)]
    assert sorted(d.name.split("-2")[0] for d in disks) == ["vm-api-01-datadisk-0", "vm-api-01-osdisk"]
    assert {d.disk_state for d in disks} == {"Unattached"}
    assert all(d.tags == SOURCE_TAGS for d in disks)
    assert [v async for v in azure.compute.virtual_machines.list(TARGET_RG)] == []


async def test_restore_disks_without_a_target_group_writes_vhds_into_the_staging_account(
    emu: EmulatorProcess, azure: Azure
) -> None:
    [rp] = await points(azure, "vm-appvhd")
    job = await restore(azure, rp.name, disks_request(rp.name, rg=None, vm="vm-appvhd"), vm="vm-appvhd")
    assert job.properties.status == "Completed"
    assert "Target resource group" not in job.properties.extended_info.property_bag
    [created] = emu.admin.restores()
    assert created["created"]["disks"] == []
    [vhd] = created["created"]["vhds"]
    assert vhd.startswith("https://ststaging.blob.core.windows.net/vm-appvhd-")
    assert vhd.endswith(".vhd")
    assert [d async for d in azure.compute.disks.list_by_resource_group(TARGET_RG)] == []


@pytest.mark.parametrize(
    ("target", "staging", "code"),
    [
        pytest.param(("rg-restore", "vm-web-02"), STAGING, "UserErrorTargetVmNameAlreadyExists", id="a VM name taken"),
        pytest.param(("rg-missing", "vm-api-drill"), STAGING, "ResourceGroupNotFound", id="a missing target group"),
        pytest.param(
            ("rg-restore", "vm-api-drill"),
            NEU_STAGING,
            "UserErrorStorageAccountVaultLocationMismatch",
            id="a staging account in another region",
        ),
    ],
)
async def test_a_restore_job_fails_with_azures_code_and_creates_nothing(
    emu: EmulatorProcess, azure: Azure, target: tuple[str, str], staging: str, code: str
) -> None:
    newest = (await points(azure))[0]
    rg, name = target
    job = await restore(azure, newest.name, alr(newest.name, name, rg=rg, staging=staging))
    assert (job.properties.status, error_code(job)) == ("Failed", code)
    assert job.properties.extended_info.tasks_list[0].status == "Failed"
    assert [v async for v in azure.compute.virtual_machines.list(TARGET_RG)] == []
    assert [d async for d in azure.compute.disks.list_by_resource_group(TARGET_RG)] == []
    assert emu.admin.restores()[0]["created"]["virtualMachine"] is None


async def test_an_archived_point_is_refused_without_rehydration_and_restored_with_it(
    emu: EmulatorProcess, azure: Azure
) -> None:
    archived = (await points(azure))[-1]
    assert tiers(archived) == {"InstantRP": "Deleted", "HardenedRP": "Deleted", "ArchivedRP": "Valid"}
    with pytest.raises(HttpResponseError) as refused:
        await trigger(azure, archived.name, alr(archived.name, "vm-api-old"))
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "BMSUserErrorInvalidInput"
    assert "archive tier" in str(refused.value.error.message)
    assert emu.admin.restores() == []

    rehydrate = alr(
        archived.name,
        "vm-api-old",
        kind=bm.IaasVMRestoreWithRehydrationRequest,
        recovery_point_rehydration_info=bm.RecoveryPointRehydrationInfo(
            rehydration_retention_duration="P15D", rehydration_priority="Standard"
        ),
    )
    job = await restore(azure, archived.name, rehydrate)
    assert job.properties.status == "Completed"
    await azure.compute.virtual_machines.get(TARGET_RG, "vm-api-old")
    again = await azure.backup.recovery_points.get(
        VAULT, VAULT_RG, "Azure", container(SOURCE_RG, SOURCE), item(SOURCE_RG, SOURCE), archived.name
    )
    [archive] = [t for t in again.properties.recovery_point_tier_details if t.type == "ArchivedRP"]
    assert archive.status == "Rehydrated"
    assert "RehydratedRPExpiryTime" in archive.extended_info


async def test_job_faults_fail_a_restore_job_with_the_given_code(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.add_job_fault(f"{SOURCE_RG}/{SOURCE}", "UserErrorSkuNotAvailable", operation="Restore")
    newest = (await points(azure))[0]
    job = await restore(azure, newest.name, alr(newest.name, "vm-api-drill"))
    assert (job.properties.status, error_code(job)) == ("Failed", "UserErrorSkuNotAvailable")
    with pytest.raises(ResourceNotFoundError):
        await azure.compute.virtual_machines.get(TARGET_RG, "vm-api-drill")


async def test_completed_with_warnings_restores_the_disks_but_not_the_vm(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.add_job_fault(
        SOURCE, "UserErrorCoreCountSubscriptionQuotaReached", operation="Restore", result="CompletedWithWarnings"
    )
    newest = (await points(azure))[0]
    job = await restore(azure, newest.name, alr(newest.name, "vm-api-drill"))
    assert (job.properties.status, error_code(job)) == (
        "CompletedWithWarnings",
        "UserErrorCoreCountSubscriptionQuotaReached",
    )
    with pytest.raises(ResourceNotFoundError):
        await azure.compute.virtual_machines.get(TARGET_RG, "vm-api-drill")
    disks = [d async for d in azure.compute.disks.list_by_resource_group(TARGET_RG)]
    assert len(disks) == 2
    assert {d.disk_state for d in disks} == {"Unattached"}
    [created] = emu.admin.restores()
    assert created["created"]["virtualMachine"] is None
    assert len(created["created"]["disks"]) == 2


def cli_date(t: datetime) -> str:
    """The CLI's filter datetime format (`custom_help.get_query_dates`)."""
    return t.strftime("%Y-%m-%d %I:%M:%S %p")


@pytest.mark.parametrize(
    "clause",
    [
        pytest.param("startDate eq '{start}' and endDate eq '{end}'", id="start date first as the SDK docs write it"),
        pytest.param("endDate eq '{end}' and startDate eq '{start}'", id="keys sorted as the CLI sends them"),
    ],
)
async def test_recovery_points_filter_by_date_range_and_report_tiers_and_types(
    emu: EmulatorProcess, azure: Azure, clause: str
) -> None:
    newest, middle, archived = await points(azure)
    assert tiers(newest) == {"InstantRP": "Valid", "HardenedRP": "Valid"}
    assert tiers(middle) == {"InstantRP": "Deleted", "HardenedRP": "Valid"}
    assert [rp.properties.recovery_point_type for rp in (newest, middle, archived)] == [
        "AppConsistent",
        "CrashConsistent",
        "CrashConsistent",
    ]
    now = datetime.now(UTC)
    window = clause.format(start=cli_date(now - timedelta(days=20)), end=cli_date(now - timedelta(days=1)))
    assert [rp.name for rp in await points(azure, filter=window)] == [middle.name]


async def test_admin_seeds_a_recovery_point_of_a_given_age_tier_and_type(emu: EmulatorProcess, azure: Azure) -> None:
    seeded = emu.admin.add_recovery_point(
        vault_id(VAULT_RG, VAULT), f"{SOURCE_RG}/{SOURCE}", ageDays=400, type="AppConsistent", tiers=["ArchivedRP"]
    )
    oldest = (await points(azure))[-1]
    assert oldest.name == seeded["name"]
    assert (oldest.properties.recovery_point_type, tiers(oldest)["ArchivedRP"]) == ("AppConsistent", "Valid")
    age = datetime.now(UTC) - oldest.properties.recovery_point_time
    assert timedelta(days=399) < age < timedelta(days=401)


async def test_a_second_post_starts_a_second_restore_job(emu: EmulatorProcess, azure: Azure) -> None:
    newest = (await points(azure))[0]
    _, first = await trigger(azure, newest.name, alr(newest.name, "vm-api-a"))
    _, second = await trigger(azure, newest.name, alr(newest.name, "vm-api-b"))
    assert first != second  # Azure does not deduplicate: the operator must
    assert emu.admin.count("Restores_Trigger", 202) == 2
    jobs = [j async for j in azure.backup.backup_jobs.list(VAULT, VAULT_RG, filter="operation eq 'Restore'")]
    assert sorted(j.name for j in jobs) == sorted([first, second])
    for job_id in (first, second):
        assert (await azure.wait_job(VAULT, VAULT_RG, job_id)).properties.status == "Completed"


async def test_a_running_restore_job_can_be_cancelled_and_creates_nothing(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.set_settings(timeScale=1.0)
    newest = (await points(azure))[0]
    _, job_id = await trigger(azure, newest.name, alr(newest.name, "vm-api-drill"))
    running = await azure.backup.job_details.get(VAULT, VAULT_RG, job_id)
    assert running.properties.status == "InProgress"
    assert running.properties.actions_info == ["Cancellable"]
    assert running.properties.extended_info.property_bag["Recovery point time "] is None  # not yet read
    await azure.backup.job_cancellations.trigger(VAULT, VAULT_RG, job_id)
    assert (await azure.backup.job_details.get(VAULT, VAULT_RG, job_id)).properties.status == "Cancelled"
    emu.admin.advance_clock(60)
    with pytest.raises(ResourceNotFoundError):
        await azure.compute.virtual_machines.get(TARGET_RG, "vm-api-drill")


async def test_validate_operations_report_what_the_restore_job_would_fail_on(
    emu: EmulatorProcess, azure: Azure
) -> None:
    newest = (await points(azure))[0]
    body = bm.ValidateOperationRequestResource(
        id=newest.id,
        properties=bm.ValidateIaasVMRestoreOperationRequest(restore_request=alr(newest.name, "vm-web-02")),
    )
    answer = await azure.backup.operation.validate(VAULT, VAULT_RG, body)
    assert [r.code for r in answer.validate_operation_response.validation_results] == [
        "UserErrorTargetVmNameAlreadyExists"
    ]
    fine = bm.ValidateOperationRequestResource(
        id=newest.id,
        properties=bm.ValidateIaasVMRestoreOperationRequest(restore_request=alr(newest.name, "vm-api-new")),
    )
    poller = await azure.backup.validate_operation.begin_trigger(VAULT, VAULT_RG, fine)
    await poller.result()
    assert emu.admin.count("ValidateOperationStatuses_Get", 200) >= 1
    assert emu.admin.restores() == []  # validation restores nothing


async def test_a_restore_rebuilds_the_vm_from_the_point_after_the_source_is_deleted(
    emu: EmulatorProcess, azure: Azure
) -> None:
    newest = (await points(azure))[0]
    emu.admin.remove_vm(SUB, SOURCE_RG, SOURCE)
    job = await restore(azure, newest.name, alr(newest.name, "vm-api-01", restore_disk_lun_list=[]))
    assert job.properties.status == "Completed"  # the name is free again once the source is gone
    vm = await azure.compute.virtual_machines.get(TARGET_RG, "vm-api-01")
    assert (vm.hardware_profile.vm_size, vm.tags) == ("Standard_D2s_v3", SOURCE_TAGS)
    assert vm.storage_profile.os_disk.os_type == "Windows"
    assert vm.storage_profile.data_disks == []  # an empty LUN list restores the OS disk only
