"""Every operation the emulator serves answers with bodies shaped like Azure's, both ways:
- each key path of an answer exists in the operation's example files (or is a declared SDK-model field
  the examples happen not to show) with the same JSON type, and is a field of the SDK model the client
  deserializes into;
- each key path Azure's example answers of an operation show (recursively: objects' keys, list
  elements' keys) is in the emulator's answers to that operation with the example's JSON type
  (`UNMODELLED` lists, with why, the few keys of states the emulator does not have), and each answer
  has every key of at least one of the operation's examples (but the keys `SOMETIMES` lists, with
  why: Azure gives them only in some states, which the exercise below reaches)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from typing import Any

import pytest
from azure.core.rest import HttpRequest
from azure.mgmt.compute import models as cm
from azure.mgmt.monitor import models as mm
from azure.mgmt.network import models as nm
from azure.mgmt.recoveryservices import models as rsm
from azure.mgmt.recoveryservicesbackup import models as bm
from azure.mgmt.resource.resources import models as resm
from azure.mgmt.resource.subscriptions import models as subm
from azure.mgmt.storage import models as sm
from azure_emulator import arm
from azure_emulator.server import EmulatorProcess
from emulator_schema import (
    EXAMPLES,
    LOCAL_EXAMPLES,
    check_model,
    compare_with_examples,
    element_paths,
    example_tree,
    examples_by_operation,
    missing_from,
)
from emulator_support import SUB, Azure, container, item, vault_id, vm_id

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"Azure example files not found at {EXAMPLES}")

V = "value[]"


def example_requests(operation: str) -> list[tuple[dict[str, Any], str]]:
    """`(parameters, file)` of Azure's example requests of an operation."""
    out = []
    for path in sorted(EXAMPLES.glob("*.json")):
        doc = json.loads(path.read_text())
        if doc.get("operationId") == operation:
            out.append((doc["parameters"], path.name))
    return out


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
    # Azure's Activity Log example, carried in tests/emulator/data (the shared examples have none)
    "activity-event": [(str(LOCAL_EXAMPLES / "monitor__GetActivityLogsFiltered.json"), V)],
}

#: operation -> (example kind or None when Azure publishes no example here, SDK model, is a list)
OPERATIONS: dict[str, tuple[str | None, type, bool]] = {
    "Vaults_Get": ("vault", rsm.Vault, False),
    "Vaults_CreateOrUpdate": ("vault", rsm.Vault, False),
    "Vaults_Update": ("vault", rsm.Vault, False),
    "Vaults_ListByResourceGroup": ("vault", rsm.Vault, True),
    "Vaults_ListBySubscriptionId": ("vault", rsm.Vault, True),
    "GetOperationStatus": ("vault-operation", rsm.OperationResource, False),
    "GetOperationResult": ("vault", rsm.Vault, False),
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
    "Subscriptions_List": (None, subm.Subscription, True),
    "Subscriptions_Get": (None, subm.Subscription, False),
    "ResourceGroups_List": (None, resm.ResourceGroup, True),
    "ResourceGroups_Get": (None, resm.ResourceGroup, False),
    "ResourceGroups_CreateOrUpdate": (None, resm.ResourceGroup, False),
    "Providers_List": (None, resm.Provider, True),
    "Providers_Get": (None, resm.Provider, False),
    "Providers_Register": (None, resm.Provider, False),
    "Providers_Unregister": (None, resm.Provider, False),
    "ResourceGuardProxies_Get": (None, bm.ResourceGuardProxyBaseResource, True),
    "ResourceGuardProxy_Get": (None, bm.ResourceGuardProxyBaseResource, False),
    "ResourceGuardProxy_Put": (None, bm.ResourceGuardProxyBaseResource, False),
    "ResourceGuardProxy_UnlockDelete": (None, bm.UnlockDeleteResponse, False),
    "PublicIPAddresses_Get": (None, nm.PublicIPAddress, False),
    "PublicIPAddresses_List": (None, nm.PublicIPAddress, True),
    "PublicIPAddresses_ListAll": (None, nm.PublicIPAddress, True),
    "ActivityLogs_List": ("activity-event", mm.EventData, True),
}

#: Operations whose successful answers carry no body (202/204, or 200 without content).
BODYLESS = {
    "Vaults_Delete",
    "DeletedVaults_Undelete",
    "BackupResourceStorageConfigsNonCRR_Patch",
    "ProtectionPolicies_Delete",
    "ProtectionContainers_Refresh",
    "ProtectionContainerRefreshOperationResults_Get",
    "ProtectedItems_CreateOrUpdate",
    "ProtectedItems_Delete",
    "ResourceGuardProxy_Delete",
    "BackupOperationResults_Get",
    "Backups_Trigger",
    "JobCancellations_Trigger",
    "JobOperationResults_Get",
    "ResourceGroups_CheckExistence",
    "ResourceGroups_Delete",
    "ResourceGroupOperationResults_Get",
    "Restores_Trigger",
    "ValidateOperation_Trigger",
    "VirtualMachines_Delete",
    "VirtualMachines_Start",
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
        "resources[].properties.enableAutomaticUpgrade",
        "resources[].properties.suppressFailures",
        "resources[].properties.forceUpdateTag",
        # a VM of a flexible scale set names it (SPEC VirtualMachineProperties), besides `managedBy`
        "properties.virtualMachineScaleSet",
        "properties.virtualMachineScaleSet.id",
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
        "extensions[].statuses[].time",
    },
    "extension": {"properties.instanceView.statuses[].message", "properties.instanceView.statuses[].time"},
    "nic": {
        "tags",
        "properties.nicType",
        "properties.ipConfigurations[].properties.loadBalancerBackendAddressPools",
        "properties.ipConfigurations[].properties.loadBalancerBackendAddressPools[]",
        "properties.ipConfigurations[].properties.loadBalancerBackendAddressPools[].id",
    },
    "nsg": {"tags"},
    # spec fields the example entry does not show; `properties` values as the portal's JSON view shows them
    "activity-event": {
        "category",
        "category.value",
        "category.localizedValue",
        "httpRequest.uri",
        "resourceId",
        "resourceType",
        "resourceType.value",
        "resourceType.localizedValue",
        "tenantId",
        "properties.eventCategory",
        "properties.entity",
        "properties.message",
        "properties.serviceRequestId",
        "properties.statusMessage",
    },
    "effective-nsgs": {
        "value[].tagMap",
        "value[].effectiveSecurityRules[].expandedDestinationAddressPrefix",
        "value[].effectiveSecurityRules[].expandedDestinationAddressPrefix[]",
    },
}


#: Keys Azure's example answers show only in states the emulator does not model: operation -> path -> why.
#: List answers are read element by element (paths without `value[].`); a path covers the keys below it.
_PRIVATE_LINK = "private endpoints are not modelled"
_RP_UNMODELLED = {
    "properties.recoveryPointProperties.immutabilityProperties": "newer than bms.json 2024-04-01 (oav would flag it)",
    "properties.extendedLocation": "edge zones are not modelled",
    "properties.securityType": "the VM security type comes with the Trusted Launch facts of another change",
    "properties.recoveryPointTierDetails[].extendedInfo": "rehydrated archive points are not modelled",
}
_EXTENSION_UNMODELLED = {
    "properties.protectedSettings": "Azure never returns protected settings (the MaximumSet example fills every field)",
    "properties.instanceView.substatuses": "per-extension substatuses (CustomScript output) are not modelled",
}
UNMODELLED: dict[str, dict[str, str]] = {
    "Vaults_Get": {
        "properties.privateEndpointConnections": _PRIVATE_LINK,
        "properties.securitySettings.sourceScanConfiguration": "source scanning (2026) has no documented default",
    },
    "RecoveryPoints_Get": _RP_UNMODELLED,
    "RecoveryPoints_List": _RP_UNMODELLED,
    "VirtualMachineExtensions_Get": _EXTENSION_UNMODELLED,
    "VirtualMachineExtensions_List": _EXTENSION_UNMODELLED,
    "NetworkInterfaces_Get": {
        "properties.dscpConfiguration": "DSCP configurations are not modelled",
        "properties.ipConfigurations[].properties.privateIPAddressPrefixLength": "IP prefix allocation is newer "
        "than network 2024-03-01 and not modelled",
    },
    "NetworkInterfaces_List": {
        "properties.ipConfigurations[].properties.privateIPAddressPrefixLength": "IP prefix allocation is newer "
        "than network 2024-03-01 and not modelled",
    },
    "NetworkInterfaces_ListEffectiveNetworkSecurityGroups": {
        "association.networkManager": "Azure Virtual Network Manager security admin rules are not modelled",
    },
}

#: Keys Azure gives only in some states (each reached by `exercise_every_operation`): operation -> path -> why.
_VM_SOMETIMES = {
    "properties.availabilitySet": "only VMs in an availability set",
    "properties.userData": "only with $expand=userData, of a VM that has user data",
    "properties.diagnosticsProfile.bootDiagnostics.storageUri": "only boot diagnostics in a storage account",
    "properties.osProfile.windowsConfiguration": "Windows VMs (Linux ones have linuxConfiguration)",
    "properties.storageProfile.dataDisks[]": "VMs with data disks",
    "properties.storageProfile.osDisk.vhd": "unmanaged disks only",
    "resources": "VMs with extensions",
    "properties.instanceView": "only with $expand=instanceView",
    "properties.proximityPlacementGroup": "only VMs in a proximity placement group",
    "properties.applicationProfile": "only VMs with gallery applications",
    "managedBy": "only VMs of a flexible scale set",
}
_EXTENSION_SOMETIMES = {
    "properties.instanceView": "only with $expand=instanceView",
    "properties.forceUpdateTag": "only extensions whose client set one",
}
SOMETIMES: dict[str, dict[str, str]] = {
    "Vaults_CreateOrUpdate": {"identity": "vaults with a managed identity"},
    "Vaults_Get": {
        "identity": "vaults with a managed identity",
        "properties.costManagementSettings": "vaults whose PUT or PATCH set it",
    },
    "ProtectionPolicies_Get": {
        "properties.schedulePolicy.dailySchedule": "daily Enhanced policies (hourly ones have hourlySchedule)",
        "properties.schedulePolicy.scheduleRunTimes": "Standard policies (Enhanced ones have a daily/hourlySchedule)",
        "properties.schedulePolicy.scheduleWeeklyFrequency": "Standard policies",
        "properties.retentionPolicy.dailySchedule": "daily policies (weekly ones keep weekly points)",
        "properties.snapshotConsistencyType": "Enhanced policies created with it (crash-consistent only)",
    },
    "ProtectedItems_Get": {"properties.lastRecoveryPoint": "items with a recovery point"},
    "ProtectedItemOperationStatuses_Get": {"endTime": "finished operations"},
    "GetOperationStatus": {"endTime": "finished operations"},
    "BackupJobs_List": {"nextLink": "all but the last page", "properties.endTime": "finished jobs"},
    "RecoveryPoints_List": {"nextLink": "all but the last page", "properties.zones": "points of zonal VMs"},
    "RecoveryPoints_Get": {"properties.zones": "points of zonal VMs"},
    "VirtualMachines_Get": _VM_SOMETIMES,
    "VirtualMachines_ListByLocation": _VM_SOMETIMES,
    "VirtualMachines_InstanceView": {
        "bootDiagnostics": "boot diagnostics in a storage account",
        "vmAgent": "running VMs with an agent",
        "extensions": "running VMs with an agent",
        "disks[]": "always, but a page of deallocated VMs may have none",
        "patchStatus": "only VMs whose guest reported a patch assessment",
        "isVMInStandbyPool": "only VMs of a scale set with a standby pool",
    },
    "VirtualMachineExtensions_Get": _EXTENSION_SOMETIMES,
    "VirtualMachineExtensions_List": _EXTENSION_SOMETIMES,
    "NetworkInterfaces_ListEffectiveNetworkSecurityGroups": {
        "association.subnet": "NSGs on the subnet (the NIC's own NSG has association.networkInterface)",
        "association.networkInterface": "NSGs on the NIC",
        "effectiveSecurityRules[].expandedDestinationAddressPrefix": "rules whose destination is a service tag",
    },
    "NetworkInterfaces_Get": {
        "properties.networkSecurityGroup": "NICs with an NSG",
        "properties.ipConfigurations[].properties.publicIPAddress": "IP configurations with a public IP",
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
        identity=rsm.IdentityData(
            type="SystemAssigned, UserAssigned",
            user_assigned_identities={
                f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.ManagedIdentity/"
                "userAssignedIdentities/id-backup": rsm.UserIdentity()
            },
        ),
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
    created: dict[str, str] = {}
    poller = await azure.vaults.vaults.begin_create_or_update(
        rg, vault, body, raw_response_hook=lambda r: created.update(r.http_response.headers)
    )
    await poller.result()
    result = await azure.vaults.send_request(HttpRequest("GET", created["Location"]))  # the creation's result
    assert result.status_code == 200, result.text()
    await (
        await azure.vaults.vaults.begin_update(
            rg,
            vault,
            {"tags": {"a": "b"}, "properties": {"costManagementSettings": {"granularityLevel": "ProtectedItemLevel"}}},
        )
    ).result()
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
    for i, (request, _) in enumerate(example_requests("ProtectionPolicies_CreateOrUpdate")):
        await b.protection_policies.create_or_update(vault, rg, f"example-{i}", request["parameters"])
        await b.protection_policies.get(vault, rg, f"example-{i}")
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
                        "protectedItemType": "Microsoft.Compute/virtualMachines",
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
    emu.admin.set_settings(pageSize=1)  # pages that carry a nextLink
    [j async for j in b.backup_jobs.list(vault, rg)]
    emu.admin.set_settings(pageSize=200)
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
    zonal = [  # vm-db-01 is zonal: its points carry the zone
        p
        async for p in b.recovery_points.list(
            vault, rg, "Azure", container("rg-data", "vm-db-01"), item("rg-data", "vm-db-01")
        )
    ]
    await b.recovery_points.get(
        vault, rg, "Azure", container("rg-data", "vm-db-01"), item("rg-data", "vm-db-01"), zonal[0].name
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
    await c.virtual_machine_extensions.get("rg-data", "vm-ade-ok", "AzureDiskEncryptionForLinux", expand="instanceView")
    await c.virtual_machines.get("rg-web", "vm-multi-nic", expand="userData")
    await c.virtual_machines.instance_view("rg-web", "vm-multi-nic")
    await c.virtual_machine_extensions.list("rg-web", "vm-multi-nic")
    await c.virtual_machine_extensions.get("rg-web", "vm-multi-nic", "CustomScript")
    await c.virtual_machines.get("rg-apps", "vm-api-01")  # a flexible scale set's VM, out of its standby pool
    await c.virtual_machines.instance_view("rg-apps", "vm-api-01")
    [v async for v in c.virtual_machines.list_by_location("westeurope")]
    await c.disks.get("rg-data", "disk-cluster-shared")
    [d async for d in c.disks.list()]
    [d async for d in c.disks.list_by_resource_group("rg-data")]

    n = azure.network
    await n.network_interfaces.get("rg-web", "vm-multi-nic-nic")
    await n.network_interfaces.get("rg-web", "vm-multi-nic-nic1")
    [x async for x in n.network_interfaces.list("rg-web")]
    [x async for x in n.network_interfaces.list_all()]
    await (
        await n.network_interfaces.begin_list_effective_network_security_groups("rg-web", "vm-multi-nic-nic")
    ).result()
    await (
        await n.network_interfaces.begin_list_effective_network_security_groups("rg-data", "vm-sap-hana-nic")
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

    [x async for x in azure.subscriptions.subscriptions.list()]
    await azure.subscriptions.subscriptions.get(SUB)
    r = azure.resources
    await r.resource_groups.create_or_update("rg-restore", resm.ResourceGroup(location="westeurope", tags={"a": "b"}))
    await r.resource_groups.check_existence("rg-restore")
    await r.resource_groups.get("rg-restore")
    [x async for x in r.resource_groups.list()]
    await (await r.resource_groups.begin_delete("rg-restore")).result()
    [x async for x in r.providers.list()]
    await r.providers.get("Microsoft.RecoveryServices")
    await r.providers.unregister("Microsoft.Storage")
    await r.providers.register("Microsoft.Storage")
    guarded = f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/resourceGuards/guard"
    await b.resource_guard_proxy.put("rsv-legacy", "rg-legacy", "VaultProxy",
                                     {"properties": {"resourceGuardResourceId": guarded}})
    [x async for x in b.resource_guard_proxies.get("rsv-legacy", "rg-legacy")]
    await b.resource_guard_proxy.get("rsv-legacy", "rg-legacy", "VaultProxy")
    emu.admin.approve(guarded, "deleteResourceGuardProxyRequests")
    legacy = f"/subscriptions/{SUB}/resourceGroups/rg-legacy/providers/Microsoft.RecoveryServices/vaults/rsv-legacy"
    await b.resource_guard_proxy.unlock_delete("rsv-legacy", "rg-legacy", "VaultProxy", {
        "resourceGuardOperationRequests": [f"{guarded}/deleteResourceGuardProxyRequests/default"],
        "resourceToBeDeleted": f"{legacy}/backupResourceGuardProxies/VaultProxy"})
    await b.resource_guard_proxy.delete("rsv-legacy", "rg-legacy", "VaultProxy")
    await n.public_ip_addresses.get("rg-web", "vm-web-01-nic-pip")
    [x async for x in n.public_ip_addresses.list("rg-web")]
    [x async for x in n.public_ip_addresses.list_all()]

    # The Activity Log of everything above, once its delay has passed (the SDK follows nextLink).
    emu.admin.advance_clock(emu.admin.settings()["activityLogDelay"] + 1)
    since = f"eventTimestamp ge '{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() - 86400))}'"
    assert [e async for e in azure.monitor.activity_logs.list(filter=since)]


async def answers_to_every_operation(emu: EmulatorProcess, azure: Azure) -> dict[str, list[Any]]:
    """Every 2xx answer body, by operation, while `exercise_every_operation` runs."""
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
    return seen


async def test_every_key_of_azures_example_answers_is_in_the_emulators(emu: EmulatorProcess, azure: Azure) -> None:
    seen = await answers_to_every_operation(emu, azure)
    served = set(arm.operation_names())
    problems: list[str] = []
    for operation, examples in sorted(examples_by_operation().items()):
        if operation not in served or operation in BODYLESS:
            continue  # a route another change adds, or answered 202/204 where an example shows a 200 body
        never = UNMODELLED.get(operation, {})
        answers = [element_paths(b) for b in seen[operation]]
        assert answers, f"{operation} was never answered with a body"
        for file, example in examples:
            problems.extend(f"{operation}: {path} ({file})" for path in missing_from(example, answers, never))
        for body, paths in zip(seen[operation], answers, strict=True):
            if isinstance(body.get("value"), list) and not body["value"]:
                continue  # an empty page has no elements to compare
            optional = {**never, **SOMETIMES.get(operation, {})}
            gaps = [missing_from(example, [paths], optional) for _, example in examples]
            if all(gaps):
                problems.append(f"{operation}: an answer lacks {min(gaps, key=len)} of every example")
    listed = {f"{op}: {path}" for table in (UNMODELLED, SOMETIMES) for op, paths in table.items() for path in paths}
    unused = {entry for entry in listed if entry.split(":")[0] not in served}
    assert not unused, f"UNMODELLED/SOMETIMES name operations the emulator does not serve: {sorted(unused)}"
    assert not problems, "\n".join(problems)


async def test_every_body_matches_the_examples_and_the_sdk_models(emu: EmulatorProcess, azure: Azure) -> None:
    seen = await answers_to_every_operation(emu, azure)

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
