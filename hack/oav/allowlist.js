// What the traffic validation (validate-traffic.js) lets through, each entry with its reason.
// Keep it short: an entry is for a field Azure added after the newest copied spec
// (../shared/reference/specs/SOURCES.md) or for a bug of the copied spec, never for a shape the
// emulator gets wrong. docs/emulator.md lists the same entries.
"use strict";

// Issues oav reports that are not errors of the emulator: {code, path (regex on the payload path),
// operations (spec operationIds; all when absent), source ("request" | "response"; both when absent), why}.
const ISSUES = [
  {
    code: "OBJECT_ADDITIONAL_PROPERTIES",
    path: /\/properties\/policyType$/,
    source: "response",
    why:
      "protected items' properties.policyType (V1/V2 policy) is newer than bms.json 2024-04-01; " +
      "the 2026-10-01 examples (rsbackup__Compute_ProtectedItem_Get.json) show it",
  },
  {
    code: "OBJECT_ADDITIONAL_PROPERTIES",
    path: /\/properties\/instantAccess(SnapshotEnabled|DurationMinutes)$/,
    why:
      "policies' instantAccessSnapshotEnabled / instantAccessDurationMinutes are newer than bms.json 2024-04-01; " +
      "Azure's 2026-10-01 example rsbackup__IaaS_v2_daily.json sends and answers them",
  },
  {
    code: "OBJECT_ADDITIONAL_PROPERTIES",
    path: /\/properties\/(threatStatus|threatInfo)$/,
    operations: ["RecoveryPoints_List", "RecoveryPoints_Get"],
    source: "response",
    why:
      "recovery points' threatStatus / threatInfo (Defender source scan) are newer than bms.json 2024-04-01; " +
      "bms.json 2026-10-01 defines them on RecoveryPoint (ThreatStatus, ThreatInfo), and the emulator's " +
      "values are checked against the SDK models generated from it (tests/emulator/test_emulator_threats.py)",
  },
  {
    code: "INVALID_TYPE",
    path: /\/tagMap$/,
    operations: ["NetworkInterfaces_ListEffectiveNetworkSecurityGroups"],
    source: "response",
    why:
      "networkInterface.json 2024-03-01 declares tagMap `type: string` with array additionalProperties " +
      "(a spec bug); azure-mgmt-network 33.1 (2026-03-01) reads it as a map of string lists",
  },
  {
    code: "OBJECT_ADDITIONAL_PROPERTIES",
    path: /\/properties\/costManagementSettings$/,
    operations: ["Vaults_CreateOrUpdate", "Vaults_Get", "Vaults_Update"],
    why:
      "vaults' costManagementSettings is newer than the RecoveryServices 2024-04-01 copy that the CLI's " +
      "2026-07-01 maps to; the 2026-11-01 copy defines it",
  },
  {
    code: "ENUM_CASE_MISMATCH",
    path: /\/softDeleteSettings\/(softDeleteState|enhancedSecurityState)$/,
    source: "request",
    why:
      "az 2.91 sends soft delete state `AlwaysOn` where the spec spells `AlwaysON`; ARM compares enum " +
      "values without regard to case (the request is the CLI's, not the emulator's)",
  },
  {
    code: "OBJECT_ADDITIONAL_PROPERTIES",
    path: /^\/(resourceGroup|properties\/instantRpDetails)$/,
    operations: ["ProtectionPolicies_CreateOrUpdate"],
    source: "request",
    why:
      "az 2.91's `backup policy set` sends back the policy as `az backup policy show` printed it: a " +
      "top-level resourceGroup and instantRpDetails in the CLI's casing (the request is the CLI's)",
  },
  {
    code: "INVALID_RESPONSE_CODE",
    operations: ["Disks_Get"],
    source: "response",
    why:
      "disk.json 2024-03-02 declares only 200 for Disks_Get, with no default error response (a spec gap); " +
      "ARM answers a disk that does not exist with 404 ResourceNotFound, as it does for every resource",
  },
  {
    code: "OBJECT_ADDITIONAL_PROPERTIES",
    path: /^\/error$/,
    operations: ["ActivityLogs_List"],
    source: "response",
    why:
      "ARM's own refusals before the provider (api-version, token, throttling) come in ARM's `{error: {code, " +
      "message}}` envelope on every route; activityLogs_API.json 2015-04-01 describes only the provider's flat " +
      "ErrorResponse `{code, message}`, which the emulator answers for a $filter it refuses",
  },
];

// Emulator operations that have no operation in any copied spec, so oav cannot validate them: name -> why.
const NO_SPEC = {
  ProtectionContainerRefreshOperationStatuses_Get:
    "backupFabrics/{fabric}/operationsStatus/{id} is newer than bms.json 2024-04-01 (SDK 11.x calls it)",
  NetworkOperationResults_Get:
    "Microsoft.Network's Location URL for long-running operations (locations/{loc}/operationResults/{id}) " +
    "is described by no operation of the network specs",
};
// Microsoft.Resources (subscriptions, resource groups, providers) serves clients around the backup work
// (az login, restore targets); reference/specs holds no copy of its specs, so these are not validated.
for (const operation of [
  "Subscriptions_List", "Subscriptions_Get", "ResourceGroups_List", "ResourceGroups_Get",
  "ResourceGroups_CheckExistence", "ResourceGroups_CreateOrUpdate", "ResourceGroups_Delete",
  "ResourceGroupOperationResults_Get", "Providers_List", "Providers_Get", "Providers_Register",
  "Providers_Unregister",
]) {
  NO_SPEC[operation] = "Microsoft.Resources: no copy of its specs in reference/specs";
}

// Emulator route names that differ from the spec's operationId for the same operation: name -> operationId.
const SAME_OPERATION = {};

module.exports = { ISSUES, NO_SPEC, SAME_OPERATION };
