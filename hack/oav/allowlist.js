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
    code: "INVALID_TYPE",
    path: /\/tagMap$/,
    operations: ["NetworkInterfaces_ListEffectiveNetworkSecurityGroups"],
    source: "response",
    why:
      "networkInterface.json 2024-03-01 declares tagMap `type: string` with array additionalProperties " +
      "(a spec bug); azure-mgmt-network 33.1 (2026-03-01) reads it as a map of string lists",
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

// Emulator route names that differ from the spec's operationId for the same operation: name -> operationId.
const SAME_OPERATION = {};

module.exports = { ISSUES, NO_SPEC, SAME_OPERATION };
