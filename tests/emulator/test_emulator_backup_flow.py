"""The backup lifecycle with the unmodified aio SDK clients: vault, redundancy, policy, discovery,
protection, on-demand backup, jobs, recovery points, stop protection, soft delete, vault delete."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.recoveryservices import models as rsm
from azure.mgmt.recoveryservicesbackup import models as bm
from azure_emulator.server import EmulatorProcess
from emulator_support import SUB, Azure, container, item, vault_id, vm_id

RG = "rg-backup"
VAULT = "rsv-prod"


async def create_vault(azure: Azure, name: str = VAULT, **props: Any) -> Any:
    body = rsm.Vault(
        location="West Europe",
        sku=rsm.Sku(name="Standard"),
        properties=rsm.VaultProperties(public_network_access="Enabled", **props),
    )
    poller = await azure.vaults.vaults.begin_create_or_update(RG, name, body)
    return await poller.result()


async def refresh(azure: Azure, vault: str = VAULT) -> None:
    headers = await azure.backup.protection_containers.refresh(
        vault, RG, "Azure", cls=lambda pr, _d, _h: pr.http_response.headers
    )
    op_id = headers["Location"].split("/operationResults/")[1].split("?")[0]
    for _ in range(200):
        status = await azure.backup.protection_container_refresh_operation_results.get(
            vault, RG, "Azure", op_id, cls=lambda pr, _d, _h: pr.http_response.status_code
        )
        if status == 204:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("refresh did not finish")


def policy_id(name: str, vault: str = VAULT) -> str:
    return f"{vault_id(RG, vault)}/backupPolicies/{name}"


async def protect(
    azure: Azure, rg: str, vm: str, policy: str = "DefaultPolicy", vault: str = VAULT, **props: Any
) -> Any:
    body = bm.ProtectedItemResource(
        properties=bm.AzureIaaSComputeVMProtectedItem(
            source_resource_id=vm_id(rg, vm), policy_id=policy_id(policy, vault), **props
        )
    )
    poller = await azure.backup.protected_items.begin_create_or_update(
        vault, RG, "Azure", container(rg, vm), item(rg, vm), body
    )
    return await poller.result()


async def set_item(azure: Azure, rg: str, vm: str, props: dict[str, Any], vault: str = VAULT) -> Any:
    """A raw item PUT (stop protection, rehydrate): the body as the CLI sends it."""
    body = {
        "properties": {
            "protectedItemType": "Microsoft.Compute/virtualMachines",
            "sourceResourceId": vm_id(rg, vm),
            **props,
        }
    }
    poller = await azure.backup.protected_items.begin_create_or_update(
        vault, RG, "Azure", container(rg, vm), item(rg, vm), body
    )
    return await poller.result()


async def get_item(azure: Azure, rg: str, vm: str, vault: str = VAULT) -> Any:
    return await azure.backup.protected_items.get(vault, RG, "Azure", container(rg, vm), item(rg, vm))


async def backup_now(azure: Azure, rg: str, vm: str, vault: str = VAULT) -> Any:
    """Trigger an on-demand backup, follow its operation to the job, and wait for the job."""
    headers = await azure.backup.backups.trigger(
        vault,
        RG,
        "Azure",
        container(rg, vm),
        item(rg, vm),
        bm.BackupRequestResource(properties=bm.IaasVMBackupRequest()),
        cls=lambda pr, _d, _h: pr.http_response.headers,
    )
    assert headers["Retry-After"] == "1"
    op_id = headers["Azure-AsyncOperation"].split("/operationsStatus/")[1].split("?")[0]
    for _ in range(200):
        status = await azure.backup.protected_item_operation_statuses.get(
            vault, RG, "Azure", container(rg, vm), item(rg, vm), op_id
        )
        if status.status != "InProgress":
            break
        await asyncio.sleep(0.01)
    assert status.status == "Succeeded"
    return await azure.wait_job(vault, RG, status.properties.job_id)


def code_of(exc: HttpResponseError) -> str:
    assert exc.error is not None
    return str(exc.error.code)


async def test_full_lifecycle_with_sdk_clients(emu: EmulatorProcess, azure: Azure) -> None:
    vault = await create_vault(azure)
    assert (vault.location, vault.properties.provisioning_state) == ("westeurope", "Succeeded")

    await azure.backup.backup_resource_storage_configs_non_crr.patch(
        VAULT, RG, bm.BackupResourceConfigResource(properties=bm.BackupResourceConfig(storage_type="LocallyRedundant"))
    )
    config = await azure.backup.backup_resource_storage_configs_non_crr.get(VAULT, RG)
    assert (config.properties.storage_type, config.properties.storage_type_state) == ("LocallyRedundant", "Unlocked")
    got = await azure.vaults.vaults.get(RG, VAULT)
    assert got.properties.redundancy_settings.standard_tier_storage_redundancy == "LocallyRedundant"

    enhanced = bm.AzureIaaSVMProtectionPolicy(
        policy_type="V2",
        time_zone="UTC",
        instant_rp_retention_range_in_days=7,
        schedule_policy=bm.SimpleSchedulePolicyV2(
            schedule_run_frequency="Hourly",
            hourly_schedule=bm.HourlySchedule(
                interval=4, schedule_window_start_time="2026-01-01T08:00:00Z", schedule_window_duration=12
            ),
        ),
        retention_policy=bm.LongTermRetentionPolicy(
            daily_schedule=bm.DailyRetentionSchedule(
                retention_times=["2026-01-01T08:00:00Z"],
                retention_duration=bm.RetentionDuration(count=30, duration_type="Days"),
            )
        ),
    )
    policy = await azure.backup.protection_policies.create_or_update(
        VAULT, RG, "hourly-enhanced", bm.ProtectionPolicyResource(properties=enhanced)
    )
    assert policy.properties.policy_type == "V2"
    names = {
        p.name
        async for p in azure.backup.backup_policies.list(VAULT, RG, filter="backupManagementType eq 'AzureIaasVM'")
    }
    assert names == {"DefaultPolicy", "EnhancedPolicy", "hourly-enhanced"}

    await refresh(azure)
    protectable = {
        p.properties["friendlyName"]
        async for p in azure.backup.backup_protectable_items.list(
            VAULT, RG, filter="backupManagementType eq 'AzureIaasVM'"
        )
    }
    assert "vm-web-01" in protectable
    assert "vm-legacy-erp" not in protectable  # protected by another vault
    assert "vm-neu-app" not in protectable  # another region

    protected = await protect(azure, "rg-web", "vm-web-01", "hourly-enhanced")
    # SDK 11.2 deserializes IaaS VM items to the base ProtectedItem (nested discriminator); read them as mappings.
    assert protected.properties["protectionState"] == "IRPending"
    assert protected.properties["policyType"] == "V2"

    config = await azure.backup.backup_resource_storage_configs_non_crr.get(VAULT, RG)
    assert config.properties.storage_type_state == "Locked"
    with pytest.raises(HttpResponseError) as refused:
        await azure.backup.backup_resource_storage_configs_non_crr.update(
            VAULT, RG, bm.BackupResourceConfigResource(properties=bm.BackupResourceConfig(storage_type="GeoRedundant"))
        )
    assert (refused.value.status_code, code_of(refused.value)) == (400, "StorageModelModifyError")

    job = await backup_now(azure, "rg-web", "vm-web-01")
    assert (job.properties.operation, job.properties.status) == ("Backup", "Completed")
    points = [
        rp
        async for rp in azure.backup.recovery_points.list(
            VAULT, RG, "Azure", container("rg-web", "vm-web-01"), item("rg-web", "vm-web-01")
        )
    ]
    assert [rp.properties.recovery_point_type for rp in points] == ["FileSystemConsistent"]
    point = await azure.backup.recovery_points.get(
        VAULT, RG, "Azure", container("rg-web", "vm-web-01"), item("rg-web", "vm-web-01"), points[0].name
    )
    assert point.name == points[0].name
    current = await get_item(azure, "rg-web", "vm-web-01")
    assert (current.properties["protectionState"], current.properties["lastBackupStatus"]) == ("Protected", "Completed")
    jobs = [j async for j in azure.backup.backup_jobs.list(VAULT, RG, filter="operation eq 'Backup'")]
    assert [j.name for j in jobs] == [job.name]
    all_jobs = [j.properties.operation async for j in azure.backup.backup_jobs.list(VAULT, RG)]
    assert all_jobs == ["Backup", "ConfigureBackup"]

    items = [
        i
        async for i in azure.backup.backup_protected_items.list(
            VAULT, RG, filter="backupManagementType eq 'AzureIaasVM' and itemType eq 'VM'"
        )
    ]
    assert [i.name for i in items] == ["VM;iaasvmcontainerv2;rg-web;vm-web-01"]

    status = await azure.backup.backup_status.get(
        "westeurope", bm.BackupStatusRequest(resource_type="VM", resource_id=vm_id("rg-web", "vm-web-01"))
    )
    assert (status.protection_status, status.vault_id.lower()) == ("Protected", vault_id(RG, VAULT).lower())

    with pytest.raises(HttpResponseError) as in_use:
        await (await azure.backup.protection_policies.begin_delete(VAULT, RG, "hourly-enhanced")).result()
    assert code_of(in_use.value) == "BMSUserErrorPolicyInUse"

    stopped = await set_item(azure, "rg-web", "vm-web-01", {"protectionState": "ProtectionStopped", "policyId": ""})
    assert stopped.properties["protectionState"] == "ProtectionStopped"
    # Azure keeps the policy of a stopped item (the StopProtection example), also when `policyId` is ""
    assert (stopped.properties["policyName"], stopped.properties["policyId"].rsplit("/", 1)[1]) == (
        "hourly-enhanced",
        "hourly-enhanced",
    )

    with pytest.raises(HttpResponseError) as not_empty:
        await (await azure.vaults.vaults.begin_delete(RG, VAULT)).result()
    assert code_of(not_empty.value) == "ServiceResourceNotEmptyWithBackendMessage"
    assert "vm-web-01" in not_empty.value.error.message  # type: ignore[union-attr]

    # stop protection and delete data: soft-deleted (deferred delete) because soft delete is on
    headers = await azure.backup.protected_items.delete(
        VAULT,
        RG,
        "Azure",
        container("rg-web", "vm-web-01"),
        item("rg-web", "vm-web-01"),
        cls=lambda pr, _d, _h: pr.http_response.headers,
    )
    op_id = headers["Azure-AsyncOperation"].split("/backupOperations/")[1].split("?")[0]
    for _ in range(200):
        op = await azure.backup.backup_operation_statuses.get(VAULT, RG, op_id)
        if op.status != "InProgress":
            break
        await asyncio.sleep(0.01)
    deleted = await get_item(azure, "rg-web", "vm-web-01")
    assert deleted.properties["isScheduledForDeferredDelete"] is True
    with pytest.raises(HttpResponseError) as soft:
        await (await azure.vaults.vaults.begin_delete(RG, VAULT)).result()
    assert "soft delete state" in soft.value.error.message  # type: ignore[union-attr]

    with pytest.raises(HttpResponseError) as needs_undelete:
        await protect(azure, "rg-web", "vm-web-01")
    assert code_of(needs_undelete.value) == "BMSUserErrorInvalidInput"
    rehydrated = await set_item(
        azure, "rg-web", "vm-web-01", {"protectionState": "ProtectionStopped", "isRehydrate": True}
    )
    assert rehydrated.properties["isScheduledForDeferredDelete"] is False
    assert rehydrated.properties["protectionState"] == "ProtectionStopped"
    resumed = await protect(azure, "rg-web", "vm-web-01", "hourly-enhanced")
    assert resumed.properties["protectionState"] == "Protected"  # it has a recovery point

    # turn soft delete off, then stop protection and delete data for good, then delete the vault
    await azure.backup.backup_resource_vault_configs.update(
        VAULT,
        RG,
        bm.BackupResourceVaultConfigResource(
            properties=bm.BackupResourceVaultConfig(soft_delete_feature_state="Disabled")
        ),
    )
    await azure.backup.protected_items.delete(
        VAULT, RG, "Azure", container("rg-web", "vm-web-01"), item("rg-web", "vm-web-01")
    )
    for _ in range(200):
        try:
            await get_item(azure, "rg-web", "vm-web-01")
        except ResourceNotFoundError:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the item was not purged")
    await (await azure.vaults.vaults.begin_delete(RG, VAULT)).result()
    with pytest.raises(ResourceNotFoundError):
        await azure.vaults.vaults.get(RG, VAULT)
    deleted_vaults = [d.name async for d in azure.vaults.deleted_vaults.list_by_subscription_id("westeurope")]
    assert deleted_vaults == [VAULT]
    assert emu.admin.count("Vaults_Delete", 400) == 2
    assert emu.admin.count("ProtectedItems_CreateOrUpdate") >= 5


@pytest.mark.parametrize(
    ("rg", "vm", "code"),
    [
        pytest.param("rg-apps", "vm-agent-down", "UserErrorGuestAgentStatusUnavailable", id="agent-not-ready"),
        pytest.param("rg-legacy", "vm-legacy-erp", "VirtualMachineAlreadyProtected", id="protected-by-other-vault"),
        pytest.param("rg-neu", "vm-neu-app", "UserErrorVmVaultLocationMismatch", id="other-region"),
        pytest.param("rg-data", "vm-bigdata", "UserErrorBCMUnsupportedDiskCount", id="33-data-disks"),
        pytest.param("rg-apps", "vm-coreos", "UserErrorUnsupportedOperatingSystem", id="coreos"),
        pytest.param("rg-data", "vm-locked-down", "UserErrorVMInternetConnectivityIssue", id="nsg-denies-storage"),
        pytest.param(
            "rg-data", "vm-sap-hana", "UserErrorWAEnabledDisksNotSupported", id="write-accelerator-no-internet"
        ),
        pytest.param("rg-data", "vm-ade-switched", "UserErrorInvalidVMEncryptionInfo", id="unsupported-encryption"),
    ],
)
async def test_configure_protection_fails_with_the_azure_code(
    emu: EmulatorProcess, azure: Azure, rg: str, vm: str, code: str
) -> None:
    await create_vault(azure)
    await refresh(azure)
    with pytest.raises(HttpResponseError) as failed:
        await protect(azure, rg, vm)
    assert code_of(failed.value) == code
    jobs = [j async for j in azure.backup.backup_jobs.list(VAULT, RG, filter="status eq 'Failed'")]
    assert len(jobs) == 1
    assert jobs[0].properties.operation == "ConfigureBackup"
    assert jobs[0].properties.error_details[0].error_title == code
    with pytest.raises(ResourceNotFoundError):
        await get_item(azure, rg, vm)


async def test_protecting_an_undiscovered_vm_is_refused(azure: Azure) -> None:
    await create_vault(azure)
    with pytest.raises(HttpResponseError) as refused:
        await protect(azure, "rg-web", "vm-web-01")
    assert (refused.value.status_code, code_of(refused.value)) == (400, "BMSUserErrorInvalidConfigureProtectionRequest")


async def test_prevalidate_and_backup_status_name_the_owning_vault(azure: Azure) -> None:
    erp = vm_id("rg-legacy", "vm-legacy-erp")
    status = await azure.backup.backup_status.get(
        "westeurope", bm.BackupStatusRequest(resource_type="VM", resource_id=erp)
    )
    assert status.vault_id.lower().endswith("/vaults/rsv-legacy")
    free = await azure.backup.backup_status.get(
        "westeurope", bm.BackupStatusRequest(resource_type="VM", resource_id=vm_id("rg-web", "vm-web-02"))
    )
    assert (free.protection_status, free.vault_id) == ("NotProtected", None)
    check = await azure.backup.protection_intent.validate(
        "westeurope",
        bm.PreValidateEnableBackupRequest(
            resource_type="VM", resource_id=erp, vault_id=vault_id(RG, VAULT), properties=""
        ),
    )
    assert (check.status, check.error_code) == ("Failed", "VirtualMachineAlreadyProtected")


async def test_stopped_vm_backs_up_crash_consistent_with_a_warning(azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-apps", "vm-stopped")
    job = await backup_now(azure, "rg-apps", "vm-stopped")
    assert job.properties.status == "CompletedWithWarnings"
    assert job.properties.error_details[0].error_title == "AzureVmOffline"
    points = [
        rp
        async for rp in azure.backup.recovery_points.list(
            VAULT, RG, "Azure", container("rg-apps", "vm-stopped"), item("rg-apps", "vm-stopped")
        )
    ]
    assert points[0].properties.recovery_point_type == "CrashConsistent"


async def test_backup_job_fails_with_the_azure_code(emu: EmulatorProcess, azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-apps", "vm-api-01")
    # A Windows agent older than Azure's supported 2.7.41491.1010 needs its own path to storage.
    emu.admin.update_vm(
        SUB,
        "rg-apps",
        "vm-api-01",
        {
            "agent": {"status": "Ready", "version": "2.7.41491.949"},
            "nics": [{"subnet": "rg-network/vnet-weu/default", "nsg": "rg-network/nsg-deny-storage"}],
        },
    )
    job = await backup_now(azure, "rg-apps", "vm-api-01")
    assert job.properties.status == "Failed"
    assert job.properties.error_details[0].error_title == "ExtensionSnapshotFailedNoNetwork"
    got = await get_item(azure, "rg-apps", "vm-api-01")
    assert (got.properties["lastBackupStatus"], got.properties["healthStatus"]) == ("Failed", "ActionRequired")


async def test_injected_job_failure_and_scheduled_backups(emu: EmulatorProcess, azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-web", "vm-web-01")
    await protect(azure, "rg-legacy", "vm-classic-disks")
    emu.admin.add_job_fault("vm-web-01", "UserErrorRpCollectionLimitReached", operation="Backup", count=1)
    job_ids = emu.admin.run_scheduled_backups(vault_id(RG, VAULT))
    assert len(job_ids) == 2
    outcomes = {}
    for job_id in job_ids:
        job = await azure.wait_job(VAULT, RG, job_id)
        assert job.properties.is_user_triggered is False
        outcomes[job.properties.entity_friendly_name] = job.properties.error_details[0].error_title
    assert outcomes == {
        "vm-web-01": "UserErrorRpCollectionLimitReached",
        "vm-classic-disks": "UserErrorStorageAccountFirewallBlocksBackup",
    }
    second = [await azure.wait_job(VAULT, RG, j) for j in emu.admin.run_scheduled_backups(vault_id(RG, VAULT))]
    job = next(j for j in second if j.properties.entity_friendly_name == "vm-web-01")
    assert job.properties.status == "Completed"  # the injected failure was used once


async def test_policy_and_disk_exclusion_change_by_re_put(azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-data", "vm-db-01")
    exclusion = bm.ExtendedProperties(
        disk_exclusion_properties=bm.DiskExclusionProperties(disk_lun_list=[0], is_inclusion_list=True)
    )
    changed = await protect(azure, "rg-data", "vm-db-01", "EnhancedPolicy", extended_properties=exclusion)
    assert changed.properties["policyName"] == "EnhancedPolicy"
    assert changed.properties["extendedProperties"]["diskExclusionProperties"] == {
        "diskLunList": [0],
        "isInclusionList": True,
    }
    with pytest.raises(HttpResponseError) as downgrade:
        await protect(azure, "rg-data", "vm-db-01", "DefaultPolicy")
    assert code_of(downgrade.value) == "BMSUserErrorInvalidInput"


async def test_encrypted_vm_with_disk_exclusion_needs_enhanced_policy(azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    exclusion = bm.ExtendedProperties(
        disk_exclusion_properties=bm.DiskExclusionProperties(disk_lun_list=[0], is_inclusion_list=False)
    )
    with pytest.raises(HttpResponseError) as failed:
        await protect(azure, "rg-data", "vm-ade-ok", "DefaultPolicy", extended_properties=exclusion)
    assert code_of(failed.value) == "UserErrorEncryptedVmNotSupportedWithDiskEx"
    ok = await protect(azure, "rg-data", "vm-ade-ok", "EnhancedPolicy", extended_properties=exclusion)
    assert ok.properties["protectionState"] == "IRPending"


async def test_backups_suspended_needs_an_immutable_vault(azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-web", "vm-web-01")
    suspend = {"protectionState": "BackupsSuspended", "policyId": policy_id("DefaultPolicy")}
    with pytest.raises(HttpResponseError) as refused:
        await set_item(azure, "rg-web", "vm-web-01", suspend)
    assert code_of(refused.value) == "BMSUserErrorInvalidInput"
    await (
        await azure.vaults.vaults.begin_update(
            RG,
            VAULT,
            rsm.PatchVault(
                properties=rsm.VaultProperties(
                    security_settings=rsm.SecuritySettings(
                        immutability_settings=rsm.ImmutabilitySettings(state="Unlocked")
                    )
                )
            ),
        )
    ).result()
    suspended = await set_item(azure, "rg-web", "vm-web-01", suspend)
    assert suspended.properties["protectionState"] == "BackupsSuspended"
    assert suspended.properties["policyName"] == "DefaultPolicy"


async def test_second_backup_while_one_runs_is_refused(emu: EmulatorProcess, azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-web", "vm-web-01")
    emu.admin.set_settings(durations={"backupJob": 5000})  # 10 s at the test time scale
    request = bm.BackupRequestResource(properties=bm.IaasVMBackupRequest())
    await azure.backup.backups.trigger(
        VAULT, RG, "Azure", container("rg-web", "vm-web-01"), item("rg-web", "vm-web-01"), request
    )
    with pytest.raises(HttpResponseError) as busy:
        await azure.backup.backups.trigger(
            VAULT, RG, "Azure", container("rg-web", "vm-web-01"), item("rg-web", "vm-web-01"), request
        )
    assert code_of(busy.value) == "UserErrorBackupOperationInProgress"
    running = [j async for j in azure.backup.backup_jobs.list(VAULT, RG, filter="status eq 'InProgress'")]
    assert running[0].properties.actions_info == ["Cancellable"]
    await azure.backup.job_cancellations.trigger(VAULT, RG, running[0].name)
    cancelled = await azure.backup.job_details.get(VAULT, RG, running[0].name)
    assert cancelled.properties.status == "Cancelled"


async def test_soft_deleted_vault_can_be_undeleted(azure: Azure) -> None:
    await create_vault(azure, "rsv-temp")
    await (await azure.vaults.vaults.begin_delete(RG, "rsv-temp")).result()
    deleted = await azure.vaults.deleted_vaults.get("westeurope", "rsv-temp")
    assert deleted.properties.vault_id.endswith("/vaults/rsv-temp")
    await (
        await azure.vaults.deleted_vaults.begin_undelete(
            "westeurope",
            "rsv-temp",
            rsm.DeletedVaultUndeleteInput(
                properties=rsm.DeletedVaultUndeleteInputProperties(
                    recovery_resource_group_id=f"/subscriptions/{SUB}/resourceGroups/{RG}"
                )
            ),
        )
    ).result()
    assert (await azure.vaults.vaults.get(RG, "rsv-temp")).name == "rsv-temp"


async def test_missing_vault_delete_is_idempotent(azure: Azure) -> None:
    await (await azure.vaults.vaults.begin_delete(RG, "rsv-never-existed")).result()


async def delete_data(azure: Azure, rg: str, vm: str, vault: str = VAULT) -> Any:
    """Stop protection and delete data; follow the operation to its end and return its status."""
    headers = await azure.backup.protected_items.delete(
        vault, RG, "Azure", container(rg, vm), item(rg, vm), cls=lambda pr, _d, _h: pr.http_response.headers
    )
    op_id = headers["Azure-AsyncOperation"].split("/backupOperations/")[1].split("?")[0]
    for _ in range(400):
        op = await azure.backup.backup_operation_statuses.get(vault, RG, op_id)
        if op.status != "InProgress":
            return op
        await asyncio.sleep(0.01)
    raise AssertionError("the delete never ended")


async def test_immutable_vault_refuses_retention_cuts_and_early_deletes(azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-web", "vm-web-01")
    await backup_now(azure, "rg-web", "vm-web-01")
    await (
        await azure.vaults.vaults.begin_update(
            RG,
            VAULT,
            rsm.PatchVault(
                properties=rsm.VaultProperties(
                    security_settings=rsm.SecuritySettings(
                        immutability_settings=rsm.ImmutabilitySettings(state="Unlocked")
                    )
                )
            ),
        )
    ).result()
    policy = await azure.backup.protection_policies.get(VAULT, RG, "DefaultPolicy")
    policy.properties.retention_policy.daily_schedule.retention_duration.count = 7
    with pytest.raises(HttpResponseError) as cut:
        await azure.backup.protection_policies.create_or_update(VAULT, RG, "DefaultPolicy", policy)
    assert code_of(cut.value) == "UserErrorOperationDeniedOnImmutableItem"

    # Azure accepts the delete and fails its operation: the points are immutable until they expire
    op = await delete_data(azure, "rg-web", "vm-web-01")
    assert (op.status, op.error.code) == ("Failed", "UserErrorDeleteBackupItemOnImmutableItem")
    assert (await get_item(azure, "rg-web", "vm-web-01")).properties["isScheduledForDeferredDelete"] is False


async def test_soft_deleted_item_frees_the_vm_and_is_purged_at_its_date(emu: EmulatorProcess, azure: Azure) -> None:
    await create_vault(azure)
    await create_vault(azure, "rsv-other")
    await refresh(azure)
    await refresh(azure, "rsv-other")
    await protect(azure, "rg-web", "vm-web-01")
    assert (await delete_data(azure, "rg-web", "vm-web-01")).status == "Succeeded"
    soft = await get_item(azure, "rg-web", "vm-web-01")
    assert soft.properties["isScheduledForDeferredDelete"] is True

    # soft-deleted, it protects nothing: another vault may protect the VM now
    await protect(azure, "rg-web", "vm-web-01", vault="rsv-other")
    with pytest.raises(HttpResponseError) as twice:
        await set_item(azure, "rg-web", "vm-web-01", {"protectionState": "ProtectionStopped", "isRehydrate": True})
    assert code_of(twice.value) == "BMSUserErrorInvalidInput"

    vault_id = (await azure.vaults.vaults.get(RG, VAULT)).id
    assert emu.admin.age_soft_deleted(vault_id, days=13)["left"] == ["vm-web-01"]
    assert emu.admin.age_soft_deleted(vault_id, days=1)["left"] == []
    with pytest.raises(HttpResponseError):
        await get_item(azure, "rg-web", "vm-web-01")
    await (await azure.vaults.vaults.begin_delete(RG, VAULT)).result()
