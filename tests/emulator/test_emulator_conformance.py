"""Every operation the emulator serves answers with bodies shaped like Azure's: each key path exists in
the operation's example files (or is a declared SDK-model field the examples happen not to show) with
the same JSON type, and every key is a field of the SDK model the client deserializes into."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import pytest
from azure.mgmt.compute import models as cm
from azure.mgmt.network import models as nm
from azure.mgmt.recoveryservices import models as rsm
from azure.mgmt.recoveryservicesbackup import models as bm
from azure.mgmt.storage import models as sm
from azure_emulator import arm
from azure_emulator.server import EmulatorProcess
from emulator_schema import EXAMPLES, check_model, compare_with_examples, example_tree
from emulator_support import SUB, Azure, container, item, vault_id, vm_id

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"Azure example files not found at {EXAMPLES}")

V = "value[]"
#: example sources of each kind of body: (file, element) where element picks list items or a sub-path
KINDS: dict[str, list[tuple[str, str | None]]] = {
    "vault": [
        ("rsvault__GETVault.json", None),
        ("rsvault__PUTVault.json", None),
        ("rsvault__PUTVault_WithRedundancySettings.json", None),
        ("rsvault__PATCHVault.json", None),
        ("rsvault__PATCHVault_WithRedundancySettings.json", None),
        ("rsvault__GetOperationResult.json", None),
        ("rsvault__ListResources.json", V),
        ("rsvault__ListBySubscriptionIds.json", V),
    ],
    "vault-operation": [("rsvault__GetOperationStatus.json", None)],
    "storage-config": [
        ("rsbackup__BackupStorageConfig_Get.json", None),
        ("rsbackup__BackupStorageConfig_Put.json", None),
    ],
    "vault-config": [
        ("rsbackup__BackupResourceVaultConfigs_Get.json", None),
        ("rsbackup__BackupResourceVaultConfigs_Put.json", None),
        ("rsbackup__BackupResourceVaultConfigs_Patch.json", None),
    ],
    "policy": [
        ("rsbackup__ProtectionPolicies_Get.json", None),
        ("rsbackup__v2-Get-Policy.json", None),
        ("rsbackup__ProtectionPolicies_CreateOrUpdate_Simple.json", None),
        ("rsbackup__ProtectionPolicies_CreateOrUpdate_Complex.json", None),
        ("rsbackup__IaaS_v2_daily.json", None),
        ("rsbackup__IaaS_v2_hourly.json", None),
        ("rsbackup__BackupPolicies_List.json", V),
        ("rsbackup__v2-List-Policies.json", V),
    ],
    "refresh-status": [("rsbackup__RefreshContainers_OperationStatus.json", None)],
    "protectable": [("rsbackup__BackupProtectableItems_List.json", V)],
    "item": [
        ("rsbackup__Compute_ProtectedItem_Get.json", None),
        ("rsbackup__ConfigureProtection.json", None),
        ("rsbackup__StopProtection.json", None),
        ("rsbackup__ProtectedItemOperationResults.json", None),
        ("rsbackup__BackupProtectedItems_List.json", V),
    ],
    "item-status": [
        ("rsbackup__ProtectedItemOperationStatus.json", None),
        ("rsbackup__ProtectedItem_Delete_OperationStatus.json", None),
    ],
    "backup-status": [("rsbackup__GetBackupStatus.json", None)],
    "job": [
        ("rsbackup__GetJobDetails.json", None),
        ("rsbackup__ListJobs.json", V),
        ("rsbackup__ListJobsWithStartTimeAndEndTimeFilters.json", V),
    ],
    "recovery-point": [("rsbackup__RecoveryPoints_Get.json", None), ("rsbackup__RecoveryPoints_List.json", V)],
    "validate": [
        ("rsbackup__ValidateOperation_RestoreDisk.json", None),
        ("rsbackup__ValidateOperationResults.json", None),
    ],
    "validate-status": [("rsbackup__ValidateOperationStatus.json", None)],
    "vm": [
        ("compute__VirtualMachine_Get.json", None),
        ("compute__VirtualMachine_ListAll_MinimumSet_Gen.json", V),
        ("compute__VirtualMachine_List_MinimumSet_Gen.json", V),
        ("compute__VirtualMachine_ListBySubscription_ByLocation.json", V),
    ],
    "instance-view": [("compute__VirtualMachine_Get_InstanceView.json", None)],
    "extension": [
        ("compute__VirtualMachineExtension_Get_MaximumSet_Gen.json", None),
        ("compute__VirtualMachineExtension_Get_MinimumSet_Gen.json", None),
        ("compute__VirtualMachineExtension_List_MaximumSet_Gen.json", V),
    ],
    "nic": [("network__NetworkInterfaceGet.json", None), ("network__NetworkInterfaceList.json", V)],
    "nsg": [("network__NetworkSecurityGroupGet.json", None)],
    "nsg-rule": [
        ("network__NetworkSecurityGroupGet.json", "properties.securityRules[]"),
        ("network__NetworkSecurityGroupGet.json", "properties.defaultSecurityRules[]"),
    ],
    "effective-nsgs": [("network__NetworkInterfaceEffectiveNSGList.json", None)],
}

#: operation -> (example kind or None when Azure publishes no example here, SDK model, is a list)
OPERATIONS: dict[str, tuple[str | None, type, bool]] = {
    "Vaults_Get": ("vault", rsm.Vault, False),
    "Vaults_CreateOrUpdate": ("vault", rsm.Vault, False),
    "Vaults_Update": ("vault", rsm.Vault, False),
    "Vaults_ListByResourceGroup": ("vault", rsm.Vault, True),
    "Vaults_ListBySubscriptionId": ("vault", rsm.Vault, True),
    "GetOperationStatus": ("vault-operation", rsm.OperationResource, False),
    "RecoveryServices_CheckNameAvailability": (None, rsm.CheckNameAvailabilityResult, False),
    "DeletedVaults_ListBySubscriptionId": (None, rsm.DeletedVault, True),
    "DeletedVaults_Get": (None, rsm.DeletedVault, False),
    "DeletedVaults_GetOperationStatus": (None, rsm.OperationResource, False),
    "BackupResourceStorageConfigsNonCRR_Get": ("storage-config", bm.BackupResourceConfigResource, False),
    "BackupResourceStorageConfigsNonCRR_Update": ("storage-config", bm.BackupResourceConfigResource, False),
    "BackupResourceVaultConfigs_Get": ("vault-config", bm.BackupResourceVaultConfigResource, False),
    "BackupResourceVaultConfigs_Put": ("vault-config", bm.BackupResourceVaultConfigResource, False),
    "BackupResourceVaultConfigs_Update": ("vault-config", bm.BackupResourceVaultConfigResource, False),
    "ProtectionPolicies_Get": ("policy", bm.ProtectionPolicyResource, False),
    "ProtectionPolicies_CreateOrUpdate": ("policy", bm.ProtectionPolicyResource, False),
    "BackupPolicies_List": ("policy", bm.ProtectionPolicyResource, True),
    "ProtectionContainerRefreshOperationStatuses_Get": ("refresh-status", bm.OperationStatus, False),
    "BackupProtectableItems_List": ("protectable", bm.WorkloadProtectableItemResource, True),
    "BackupProtectionContainers_List": (None, bm.ProtectionContainerResource, True),
    "ProtectionContainers_Get": (None, bm.ProtectionContainerResource, False),
    "ProtectedItems_Get": ("item", bm.ProtectedItemResource, False),
    "ProtectedItemOperationResults_Get": ("item", bm.ProtectedItemResource, False),
    "BackupProtectedItems_List": ("item", bm.ProtectedItemResource, True),
    "ProtectedItemOperationStatuses_Get": ("item-status", bm.OperationStatus, False),
    "BackupOperationStatuses_Get": ("item-status", bm.OperationStatus, False),
    "BackupStatus_Get": ("backup-status", bm.BackupStatusResponse, False),
    "ProtectionIntent_Validate": (None, bm.PreValidateEnableBackupResponse, False),
    "FeatureSupport_Validate": (None, bm.AzureVMResourceFeatureSupportResponse, False),
    "JobDetails_Get": ("job", bm.JobResource, False),
    "BackupJobs_List": ("job", bm.JobResource, True),
    "RecoveryPoints_Get": ("recovery-point", bm.RecoveryPointResource, False),
    "RecoveryPoints_List": ("recovery-point", bm.RecoveryPointResource, True),
    "Operation_Validate": ("validate", bm.ValidateOperationsResponse, False),
    "ValidateOperationResults_Get": ("validate", bm.ValidateOperationsResponse, False),
    "ValidateOperationStatuses_Get": ("validate-status", bm.OperationStatus, False),
    "VirtualMachines_Get": ("vm", cm.VirtualMachine, False),
    "VirtualMachines_List": ("vm", cm.VirtualMachine, True),
    "VirtualMachines_ListAll": ("vm", cm.VirtualMachine, True),
    "VirtualMachines_ListByLocation": ("vm", cm.VirtualMachine, True),
    "VirtualMachines_Update": ("vm", cm.VirtualMachine, False),
    "VirtualMachines_CreateOrUpdate": ("vm", cm.VirtualMachine, False),
    "VirtualMachines_InstanceView": ("instance-view", cm.VirtualMachineInstanceView, False),
    "VirtualMachineExtensions_List": ("extension", cm.VirtualMachineExtension, True),
    "VirtualMachineExtensions_Get": ("extension", cm.VirtualMachineExtension, False),
    "Disks_Get": (None, cm.Disk, False),
    "Disks_List": (None, cm.Disk, True),
    "Disks_ListByResourceGroup": (None, cm.Disk, True),
    "NetworkInterfaces_Get": ("nic", nm.NetworkInterface, False),
    "NetworkInterfaces_List": ("nic", nm.NetworkInterface, True),
    "NetworkInterfaces_ListAll": ("nic", nm.NetworkInterface, True),
    "NetworkInterfaces_ListEffectiveNetworkSecurityGroups": (
        "effective-nsgs",
        nm.EffectiveNetworkSecurityGroupListResult,
        False,
    ),
    "NetworkOperationResults_Get": ("effective-nsgs", nm.EffectiveNetworkSecurityGroupListResult, False),
    "NetworkSecurityGroups_Get": ("nsg", nm.NetworkSecurityGroup, False),
    "NetworkSecurityGroups_List": ("nsg", nm.NetworkSecurityGroup, True),
    "NetworkSecurityGroups_ListAll": ("nsg", nm.NetworkSecurityGroup, True),
    "SecurityRules_List": ("nsg-rule", nm.SecurityRule, True),
    "SecurityRules_Get": ("nsg-rule", nm.SecurityRule, False),
    "DefaultSecurityRules_List": ("nsg-rule", nm.SecurityRule, True),
    "DefaultSecurityRules_Get": ("nsg-rule", nm.SecurityRule, False),
    "VirtualNetworks_Get": (None, nm.VirtualNetwork, False),
    "VirtualNetworks_List": (None, nm.VirtualNetwork, True),
    "VirtualNetworks_ListAll": (None, nm.VirtualNetwork, True),
    "Subnets_Get": (None, nm.Subnet, False),
    "Subnets_List": (None, nm.Subnet, True),
    "ServiceTags_List": (None, nm.ServiceTagsListResult, False),
    "StorageAccounts_GetProperties": (None, sm.StorageAccount, False),
    "StorageAccounts_List": (None, sm.StorageAccount, True),
    "StorageAccounts_ListByResourceGroup": (None, sm.StorageAccount, True),
}

#: Operations whose successful answers carry no body (202/204, or 200 without content).
BODYLESS = {
    "Vaults_Delete",
    "GetOperationResult",
    "DeletedVaults_Undelete",
    "BackupResourceStorageConfigsNonCRR_Patch",
    "ProtectionPolicies_Delete",
    "ProtectionContainers_Refresh",
    "ProtectionContainerRefreshOperationResults_Get",
    "ProtectedItems_CreateOrUpdate",
    "ProtectedItems_Delete",
    "BackupOperationResults_Get",
    "Backups_Trigger",
    "JobCancellations_Trigger",
    "JobOperationResults_Get",
    "Restores_Trigger",
    "ValidateOperation_Trigger",
    "VirtualMachines_Delete",
    "Disks_Delete",
    "NetworkInterfaces_Delete",
}

#: Key paths the emulator returns that the kind's example files do not show. Each is a field of the SDK
#: model (checked below); they are what the operator needs (soft delete, disk exclusion, job errors, ...).
EXTRAS: dict[str, set[str]] = {
    "vault": {
        "properties.restoreSettings",
        "properties.restoreSettings.crossSubscriptionRestoreSettings",
        "properties.restoreSettings.crossSubscriptionRestoreSettings.crossSubscriptionRestoreState",
        "properties.encryption",
        "properties.encryption.keyVaultProperties",
        "properties.encryption.keyVaultProperties.keyUri",
        "properties.encryption.kekIdentity",
        "properties.encryption.kekIdentity.useSystemAssignedIdentity",
        "properties.encryption.infrastructureEncryption",
        "identity.userAssignedIdentities",
    },
    "storage-config": {"properties.crossRegionRestoreFlag"},
    "vault-config": {"properties.softDeleteRetentionPeriodInDays", "properties.isSoftDeleteFeatureStateEditable"},
    "policy": {"properties.instantRPDetails"},
    "protectable": {"properties.virtualMachineVersion", "properties.resourceGroup"},
    "item": {
        "properties.policyName",
        "properties.isScheduledForDeferredDelete",
        "properties.deferredDeleteTimeInUTC",
        "properties.softDeleteRetentionPeriodInDays",
        "properties.healthDetails",
        "properties.healthDetails[]",
        "properties.healthDetails[].code",
        "properties.healthDetails[].title",
        "properties.healthDetails[].message",
        "properties.healthDetails[].recommendations",
        "properties.healthDetails[].recommendations[]",
        "properties.extendedProperties",
        "properties.extendedProperties.diskExclusionProperties",
        "properties.extendedProperties.diskExclusionProperties.diskLunList",
        "properties.extendedProperties.diskExclusionProperties.diskLunList[]",
        "properties.extendedProperties.diskExclusionProperties.isInclusionList",
        "properties.extendedInfo",
        "properties.extendedInfo.recoveryPointCount",
        "properties.extendedInfo.policyInconsistent",
        "properties.extendedInfo.oldestRecoveryPoint",
    },
    "item-status": {"error", "error.code", "error.message"},
    "job": {
        "properties.isUserTriggered",
        "properties.containerName",
        "properties.endTime",
        "properties.actionsInfo",
        "properties.actionsInfo[]",
        "properties.errorDetails",
        "properties.errorDetails[]",
        "properties.errorDetails[].errorCode",
        "properties.errorDetails[].errorString",
        "properties.errorDetails[].errorTitle",
        "properties.errorDetails[].recommendations",
        "properties.errorDetails[].recommendations[]",
        "properties.extendedInfo.progressPercentage",
        "properties.extendedInfo.dynamicErrorMessage",
        # Restore jobs (reference restore.md §2.1, CLIREC)
        "properties.extendedInfo.internalPropertyBag",
        "properties.extendedInfo.internalPropertyBag.restoreLocationType",
        "properties.extendedInfo.estimatedRemainingDuration",
    },
    "vm": {
        "properties.storageProfile.osDisk.vhd",
        "properties.storageProfile.osDisk.vhd.uri",
        "properties.storageProfile.dataDisks[].vhd",
        "properties.storageProfile.dataDisks[].vhd.uri",
        "properties.storageProfile.dataDisks[].toBeDetached",
        "properties.storageProfile.dataDisks[].writeAcceleratorEnabled",
        "properties.storageProfile.osDisk.encryptionSettings",
        "properties.storageProfile.osDisk.encryptionSettings.enabled",
        "properties.storageProfile.osDisk.encryptionSettings.diskEncryptionKey",
        "properties.storageProfile.osDisk.encryptionSettings.diskEncryptionKey.secretUrl",
        "properties.storageProfile.osDisk.encryptionSettings.diskEncryptionKey.sourceVault",
        "properties.storageProfile.osDisk.encryptionSettings.diskEncryptionKey.sourceVault.id",
        "properties.osProfile.linuxConfiguration",
        "properties.osProfile.linuxConfiguration.provisionVMAgent",
        "properties.osProfile.linuxConfiguration.disablePasswordAuthentication",
        "properties.networkProfile.networkInterfaces[].properties",
        "properties.networkProfile.networkInterfaces[].properties.primary",
        "zones",
        "zones[]",
        # today's prerequisites (SPEC computeRPCommon SecurityProfile, OSDisk.diffDiskSettings)
        "properties.securityProfile",
        "properties.securityProfile.securityType",
        "properties.securityProfile.uefiSettings",
        "properties.securityProfile.uefiSettings.secureBootEnabled",
        "properties.securityProfile.uefiSettings.vTpmEnabled",
        "properties.storageProfile.osDisk.diffDiskSettings",
        "properties.storageProfile.osDisk.diffDiskSettings.option",
        "properties.storageProfile.osDisk.diffDiskSettings.placement",
    },
    "instance-view": {
        "disks[].encryptionSettings",
        "disks[].encryptionSettings[]",
        "disks[].encryptionSettings[].enabled",
        "disks[].encryptionSettings[].diskEncryptionKey",
        "disks[].encryptionSettings[].diskEncryptionKey.secretUrl",
        "disks[].encryptionSettings[].diskEncryptionKey.sourceVault",
        "disks[].encryptionSettings[].diskEncryptionKey.sourceVault.id",
        "vmAgent.statuses[].message",
    },
    "extension": set(),
    "nic": {
        "tags",
        "properties.ipConfigurations[].properties.loadBalancerBackendAddressPools",
        "properties.ipConfigurations[].properties.loadBalancerBackendAddressPools[]",
        "properties.ipConfigurations[].properties.loadBalancerBackendAddressPools[].id",
    },
    "nsg": {"tags"},
    "effective-nsgs": {
        "value[].tagMap",
        "value[].effectiveSecurityRules[].expandedDestinationAddressPrefix",
        "value[].effectiveSecurityRules[].expandedDestinationAddressPrefix[]",
    },
}


async def exercise_restores(azure: Azure, vault: str, rg: str, rp: str) -> None:
    """A new-VM restore of vm-web-01 followed to its job, and both validate operations."""
    b, names = azure.backup, (container("rg-web", "vm-web-01"), item("rg-web", "vm-web-01"))
    vnet = f"/subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-weu"
    request = bm.IaasVMRestoreRequest(
        recovery_point_id=rp,
        recovery_type="AlternateLocation",
        source_resource_id=vm_id("rg-web", "vm-web-01"),
        target_virtual_machine_id=vm_id("rg-dev", "vm-web-01-restored"),
        target_resource_group_id=f"/subscriptions/{SUB}/resourceGroups/rg-dev",
        storage_account_id=f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Storage/storageAccounts/stappvhds",
        virtual_network_id=vnet,
        subnet_id=f"{vnet}/subnets/default",
        region="westeurope",
    )
    headers = await (
        await b.restores.begin_trigger(
            vault,
            rg,
            "Azure",
            *names,
            rp,
            bm.RestoreRequestResource(properties=request),
            polling=False,
            cls=lambda pr, _d, _h: pr.http_response.headers,
        )
    ).result()
    op = headers["Azure-AsyncOperation"].split("/operationsStatus/")[1].split("?")[0]
    await b.protected_item_operation_results.get(vault, rg, "Azure", *names, op)
    status = await b.backup_operation_statuses.get(vault, rg, op)
    await azure.wait_job(vault, rg, status.properties.job_id)
    validate = bm.ValidateOperationRequestResource(
        id=f"{vault_id(rg, vault)}/backupFabrics/Azure/protectionContainers/{names[0]}/protectedItems/{names[1]}"
        f"/recoveryPoints/{rp}",
        properties=bm.ValidateIaasVMRestoreOperationRequest(restore_request=request),
    )
    await b.operation.validate(vault, rg, validate)
    trig = await (
        await b.validate_operation.begin_trigger(
            vault, rg, validate, polling=False, cls=lambda pr, _d, _h: pr.http_response.headers
        )
    ).result()
    op = trig["Azure-AsyncOperation"].split("/backupValidateOperationsStatuses/")[1].split("?")[0]
    await b.validate_operation_statuses.get(vault, rg, op)
    await b.validate_operation_results.get(vault, rg, op)


async def exercise_every_operation(emu: EmulatorProcess, azure: Azure) -> None:
    """Call every operation with a body at least once, in states that fill in the optional fields."""
    b, rg, vault = azure.backup, "rg-backup", "rsv-conf"
    body = rsm.Vault(
        location="westeurope",
        sku=rsm.Sku(name="Standard"),
        identity=rsm.IdentityData(type="SystemAssigned"),
        properties=rsm.VaultProperties(
            encryption=rsm.VaultPropertiesEncryption(
                key_vault_properties=rsm.CmkKeyVaultProperties(key_uri="https://kv.vault.azure.net/keys/k/1"),
                kek_identity=rsm.CmkKekIdentity(use_system_assigned_identity=True),
                infrastructure_encryption="Disabled",
            ),
            restore_settings=rsm.RestoreSettings(
                cross_subscription_restore_settings=rsm.CrossSubscriptionRestoreSettings(
                    cross_subscription_restore_state="Enabled"
                )
            ),
            security_settings=rsm.SecuritySettings(immutability_settings=rsm.ImmutabilitySettings(state="Unlocked")),
        ),
    )
    await (await azure.vaults.vaults.begin_create_or_update(rg, vault, body)).result()
    await (await azure.vaults.vaults.begin_update(rg, vault, rsm.PatchVault(tags={"a": "b"}))).result()
    await azure.vaults.vaults.get(rg, vault)
    [v async for v in azure.vaults.vaults.list_by_resource_group(rg)]
    [v async for v in azure.vaults.vaults.list_by_subscription_id()]
    await azure.vaults.recovery_services.check_name_availability(
        rg, "westeurope", rsm.CheckNameAvailabilityParameters(type="Microsoft.RecoveryServices/Vaults", name=vault)
    )
    await b.backup_resource_storage_configs_non_crr.get(vault, rg)
    await b.backup_resource_storage_configs_non_crr.update(
        vault, rg, bm.BackupResourceConfigResource(properties=bm.BackupResourceConfig(storage_type="GeoRedundant"))
    )
    await b.backup_resource_vault_configs.get(vault, rg)
    await b.backup_resource_vault_configs.put(
        vault,
        rg,
        bm.BackupResourceVaultConfigResource(
            properties=bm.BackupResourceVaultConfig(soft_delete_feature_state="Enabled")
        ),
    )
    await b.backup_resource_vault_configs.update(
        vault,
        rg,
        bm.BackupResourceVaultConfigResource(
            properties=bm.BackupResourceVaultConfig(enhanced_security_state="Enabled")
        ),
    )
    policy = await b.protection_policies.get(vault, rg, "DefaultPolicy")
    await b.protection_policies.create_or_update(
        vault, rg, "copy", bm.ProtectionPolicyResource(properties=policy.properties)
    )
    [p async for p in b.backup_policies.list(vault, rg)]
    headers = await b.protection_containers.refresh(vault, rg, "Azure", cls=lambda pr, _d, _h: pr.http_response.headers)
    op = headers["Location"].split("/operationResults/")[1].split("?")[0]
    await asyncio.sleep(0.05)
    await b.protection_container_refresh_operation_statuses.get(  # this one takes the resource group first
        resource_group_name=rg, vault_name=vault, fabric_name="Azure", operation_id=op
    )
    [p async for p in b.backup_protectable_items.list(vault, rg)]
    protected: list[tuple[str, str]] = [("rg-web", "vm-web-01"), ("rg-apps", "vm-stopped"), ("rg-data", "vm-db-01")]
    for vm_rg, vm in protected:
        exclusion = (
            {"diskExclusionProperties": {"diskLunList": [0], "isInclusionList": True}} if vm == "vm-db-01" else None
        )
        props: dict[str, Any] = {
            "protectedItemType": "Microsoft.Compute/virtualMachines",
            "sourceResourceId": vm_id(vm_rg, vm),
            "policyId": f"{vault_id(rg, vault)}/backupPolicies/DefaultPolicy",
        }
        if exclusion:
            props["extendedProperties"] = exclusion
        await (
            await b.protected_items.begin_create_or_update(
                vault, rg, "Azure", container(vm_rg, vm), item(vm_rg, vm), {"properties": props}
            )
        ).result()
    with pytest.raises(Exception):  # noqa: B017, PT011 - a failed configure leaves a failed job with errorDetails
        await (
            await b.protected_items.begin_create_or_update(
                vault,
                rg,
                "Azure",
                container("rg-apps", "vm-agent-down"),
                item("rg-apps", "vm-agent-down"),
                {
                    "properties": {
                        "sourceResourceId": vm_id("rg-apps", "vm-agent-down"),
                        "policyId": f"{vault_id(rg, vault)}/backupPolicies/DefaultPolicy",
                    }
                },
            )
        ).result()
    [c async for c in b.backup_protection_containers.list(vault, rg)]
    await b.protection_containers.get(vault, rg, "Azure", container("rg-web", "vm-web-01"))
    for vm_rg, vm in protected:
        trig = await b.backups.trigger(
            vault,
            rg,
            "Azure",
            container(vm_rg, vm),
            item(vm_rg, vm),
            bm.BackupRequestResource(properties=bm.IaasVMBackupRequest()),
            cls=lambda pr, _d, _h: pr.http_response.headers,
        )
        op = trig["Azure-AsyncOperation"].split("/operationsStatus/")[1].split("?")[0]
        await asyncio.sleep(0.1)
        status = await b.protected_item_operation_statuses.get(
            vault, rg, "Azure", container(vm_rg, vm), item(vm_rg, vm), op
        )
        await b.protected_item_operation_results.get(vault, rg, "Azure", container(vm_rg, vm), item(vm_rg, vm), op)
        await b.backup_operation_statuses.get(vault, rg, op)
        await azure.wait_job(vault, rg, status.properties.job_id)
    emu.admin.add_job_fault("vm-web-01", "UserErrorGuestAgentStatusUnavailable")
    [job] = emu.admin.run_scheduled_backups(vault_id(rg, vault))[:1]
    await azure.wait_job(vault, rg, job)
    emu.admin.set_settings(durations={"backupJob": 5000})
    await b.backups.trigger(
        vault,
        rg,
        "Azure",
        container("rg-data", "vm-db-01"),
        item("rg-data", "vm-db-01"),
        bm.BackupRequestResource(properties=bm.IaasVMBackupRequest()),
    )
    [j async for j in b.backup_jobs.list(vault, rg)]
    await b.protected_items.get(
        vault,
        rg,
        "Azure",
        container("rg-web", "vm-web-01"),
        item("rg-web", "vm-web-01"),
        filter="expand eq 'extendedinfo'",
    )
    [i async for i in b.backup_protected_items.list(vault, rg)]
    points = [
        p
        async for p in b.recovery_points.list(
            vault, rg, "Azure", container("rg-web", "vm-web-01"), item("rg-web", "vm-web-01")
        )
    ]
    await b.recovery_points.get(
        vault, rg, "Azure", container("rg-web", "vm-web-01"), item("rg-web", "vm-web-01"), points[0].name
    )
    await exercise_restores(azure, vault, rg, points[0].name)
    await b.backup_status.get(
        "westeurope", bm.BackupStatusRequest(resource_type="VM", resource_id=vm_id("rg-web", "vm-web-01"))
    )
    await b.protection_intent.validate(
        "westeurope",
        bm.PreValidateEnableBackupRequest(
            resource_type="VM", resource_id=vm_id("rg-web", "vm-web-02"), vault_id=vault_id(rg, vault), properties=""
        ),
    )
    await b.feature_support.validate("westeurope", bm.AzureVMResourceFeatureSupportRequest(vm_size="Standard_D2s_v3"))
    await (await azure.vaults.vaults.begin_delete("rg-legacy", "rsv-gone")).result()
    await (
        await azure.vaults.vaults.begin_create_or_update(
            "rg-backup", "rsv-gone", rsm.Vault(location="westeurope", sku=rsm.Sku(name="RS0"))
        )
    ).result()
    await (await azure.vaults.vaults.begin_delete("rg-backup", "rsv-gone")).result()
    [d async for d in azure.vaults.deleted_vaults.list_by_subscription_id("westeurope")]
    await azure.vaults.deleted_vaults.get("westeurope", "rsv-gone")
    await (
        await azure.vaults.deleted_vaults.begin_undelete(
            "westeurope",
            "rsv-gone",
            rsm.DeletedVaultUndeleteInput(
                properties=rsm.DeletedVaultUndeleteInputProperties(recovery_resource_group_id=f"/subscriptions/{SUB}/x")
            ),
        )
    ).result()

    c = azure.compute
    await c.virtual_machines.get("rg-data", "vm-ade-switched", expand="instanceView")
    await c.virtual_machines.get("rg-data", "vm-ade-ok")
    [v async for v in c.virtual_machines.list("rg-legacy", expand="instanceView")]
    [v async for v in c.virtual_machines.list_all(expand="instanceView")]
    [v async for v in c.virtual_machines.list_by_location("northeurope")]
    await c.virtual_machines.instance_view("rg-data", "vm-ade-ok")
    await (
        await c.virtual_machines.begin_update("rg-web", "vm-web-02", cm.VirtualMachineUpdate(tags={"x": "y"}))
    ).result()
    vm = await c.virtual_machines.get("rg-web", "vm-web-01")
    await (await c.virtual_machines.begin_create_or_update("rg-web", "vm-web-01", vm)).result()
    await c.virtual_machine_extensions.list("rg-data", "vm-ade-ok", expand="instanceView")
    await c.virtual_machine_extensions.get("rg-data", "vm-ade-ok", "AzureDiskEncryptionForLinux")
    await c.disks.get("rg-data", "disk-cluster-shared")
    [d async for d in c.disks.list()]
    [d async for d in c.disks.list_by_resource_group("rg-data")]

    n = azure.network
    await n.network_interfaces.get("rg-web", "vm-multi-nic-nic")
    [x async for x in n.network_interfaces.list("rg-web")]
    [x async for x in n.network_interfaces.list_all()]
    await (
        await n.network_interfaces.begin_list_effective_network_security_groups("rg-web", "vm-multi-nic-nic")
    ).result()
    emu.admin.set_settings(effectiveNsgAsync=True)
    await (
        await n.network_interfaces.begin_list_effective_network_security_groups("rg-data", "vm-locked-down-nic")
    ).result()
    await n.network_security_groups.get("rg-network", "nsg-deny-storage")
    [x async for x in n.network_security_groups.list("rg-network")]
    [x async for x in n.network_security_groups.list_all()]
    [x async for x in n.security_rules.list("rg-network", "nsg-deny-storage")]
    await n.security_rules.get("rg-network", "nsg-deny-storage", "deny-storage-out")
    [x async for x in n.default_security_rules.list("rg-network", "nsg-deny-storage")]
    await n.default_security_rules.get("rg-network", "nsg-deny-storage", "AllowInternetOutBound")
    await n.virtual_networks.get("rg-network", "vnet-weu")
    [x async for x in n.virtual_networks.list("rg-network")]
    [x async for x in n.virtual_networks.list_all()]
    await n.subnets.get("rg-network", "vnet-weu", "restricted")
    [x async for x in n.subnets.list("rg-network", "vnet-weu")]
    await n.service_tags.list("westeurope")
    s = azure.storage
    await s.storage_accounts.get_properties("rg-legacy", "stlegacyvhds")
    [x async for x in s.storage_accounts.list()]
    [x async for x in s.storage_accounts.list_by_resource_group("rg-apps")]


async def test_every_body_matches_the_examples_and_the_sdk_models(emu: EmulatorProcess, azure: Azure) -> None:
    assert emu.emulator is not None
    seen: dict[str, list[Any]] = defaultdict(list)

    def record(operation: str, status: int, body: Any) -> None:
        if 200 <= status < 300 and body is not None:
            seen[operation].append(body)

    emu.emulator.observers.append(record)
    try:
        await exercise_every_operation(emu, azure)
    finally:
        emu.emulator.observers.remove(record)

    served = set(arm.operation_names())
    assert served == set(OPERATIONS) | BODYLESS, "every served operation is classified"
    assert set(OPERATIONS) - set(seen) == set(), "every operation with a body was exercised"
    trees = {kind: example_tree(sources) for kind, sources in KINDS.items()}
    nested = {"vm": {"properties.instanceView": "instance-view"}}
    problems: list[str] = []
    extras: dict[str, set[str]] = defaultdict(set)
    for operation, bodies in sorted(seen.items()):
        kind, model, is_list = OPERATIONS[operation]
        for body in bodies:
            elements = body["value"] if is_list else [body]
            if is_list:
                assert set(body) <= {"value", "nextLink"}, operation
            for element in elements:
                problems.extend(f"{operation} (model): {p}" for p in check_model(element, model))
                if kind is None:
                    continue
                found, mismatches = compare_with_examples(element, kind, trees, nested.get(kind, {}))
                for where, path in found:
                    extras[where].add(path)
                problems.extend(f"{operation} (example): {m}" for m in mismatches)
    for kind, found in sorted(extras.items()):
        undeclared = found - EXTRAS.get(kind, set())
        problems.extend(f"{kind}: '{path}' is in no example and not declared in EXTRAS" for path in sorted(undeclared))
    assert not problems, "\n".join(problems)
