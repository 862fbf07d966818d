"""The five CustomResourceDefinitions, built in code: the one source of truth for `crds/`.

`azbackup crds --write crds/` renders them; a unit test fails when the committed files differ.
Validation that a schema can express lives here (patterns, enums, bounds, CEL rules with messages that
say what to do instead); only Azure's own answers become condition reasons at run time.
"""

from __future__ import annotations

import enum
from typing import Any

from azbackup import API_GROUP, API_VERSION
from azbackup.api import names
from azbackup.api import status as api_status
from azbackup.api.schema import (
    Schema,
    array,
    boolean,
    date_time,
    integer,
    obj,
    rule,
    string,
    string_map,
)

CATEGORY = "azbackup"

# Bounds and patterns, each with the source that sets it.
# Azure naming rules, learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
VAULT_NAME_PATTERN = r"^[a-zA-Z][a-zA-Z0-9-]{1,49}$"  # vaults: 2-50, alphanumerics and hyphens, starts with a letter
POLICY_NAME_PATTERN = r"^[a-zA-Z][a-zA-Z0-9-]{1,148}[a-zA-Z0-9]$"  # backupPolicies: 3-150, no trailing hyphen
RESOURCE_GROUP_PATTERN = r"^[-\w._()]{0,89}[-\w_()]$"  # 1-90, cannot end in a period
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
VM_ID_PATTERN = (
    r"(?i)^/subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"/resourceGroups/[-\w._()]{1,90}/providers/Microsoft\.Compute/virtualMachines/[-\w.]{1,64}$"
)
USER_IDENTITY_ID_PATTERN = (
    r"(?i)^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]{1,90}"
    r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[-\w]{3,128}$"
)
RESOURCE_GUARD_ID_PATTERN = (
    r"(?i)^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]{1,90}"
    r"/providers/Microsoft\.DataProtection/resourceGuards/[-a-zA-Z0-9]{1,50}$"
)
KEY_URI_PATTERN = r"^https://[-a-zA-Z0-9.]+/keys/[-a-zA-Z0-9]{1,127}(/[0-9a-fA-F]{32})?$"
LOCATION_PATTERN = r"^[A-Za-z][A-Za-z0-9 ]{1,40}$"
K8S_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
# Backup schedule times are on the hour or half hour (portal and ARM both refuse other minutes).
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):(00|30)$"
# Retention maxima: Azure Backup support matrix ("up to 9999 days, 5163 weeks, 1188 months, 99 years").
MAX_DAILY, MAX_WEEKLY, MAX_MONTHLY, MAX_YEARLY = 9999, 5163, 1188, 99
MIN_DAILY = 7  # the portal and Terraform's azurerm (retention_daily.count 7-9999)
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
WEEKS_OF_MONTH = ("First", "Second", "Third", "Fourth", "Last")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


# ---------------------------------------------------------------------------------------------------
# Shared pieces


def values(states: type[enum.StrEnum]) -> list[str]:
    """A state machine's states (`api/status.py`) as a schema enum: one list, kept by the code that writes them."""
    return [state.value for state in states]


def local_ref(kind: str, what: str) -> Schema:
    return obj(
        f"Reference to a {kind} in this object's own namespace ({what}). Cross-namespace references "
        "are not allowed, so one tenant cannot attach resources to another namespace's vault.",
        {"name": string(f"metadata.name of the {kind}.", pattern=K8S_NAME_PATTERN, max_length=253)},
        required=["name"],
    )


def immutable(field: str, instead: str) -> Schema:
    return rule("self == oldSelf", f"{field} is immutable: {instead}", reason="FieldValueForbidden")


def condition_schema() -> Schema:
    return obj(
        "A condition in the metav1.Condition shape (kstatus): Ready is the summary, Reconciling and "
        "Stalled say whether the operator is still working or needs a human.",
        {
            "type": string("Condition type, e.g. Ready, Reconciling, Stalled, PrerequisitesMet."),
            "status": string("True, False or Unknown.", enum=["True", "False", "Unknown"]),
            "reason": string("A stable CamelCase reason from the README's reason table."),
            "message": string("What happened and what to do, in words; never contains a secret."),
            "lastTransitionTime": date_time("When status last changed (not when the message did)."),
            "observedGeneration": integer("The metadata.generation this condition was computed for."),
        },
        required=["type", "status"],
    )


def common_status(extra: dict[str, Schema], what: str) -> Schema:
    props: dict[str, Schema] = {
        "observedGeneration": integer("The metadata.generation the operator last acted on."),
        "conditions": array(
            "Current conditions: Ready, Reconciling, Stalled (and per kind more, see the README).",
            condition_schema(),
            list_type="map",
        ),
    }
    props["conditions"]["x-kubernetes-list-map-keys"] = ["type"]
    props["backoff"] = obj(
        "After a failure, when the operator calls Azure again for this generation. Kept on the object, so a "
        "restarted operator and the periodic passes honour it; a spec change is acted on at once.",
        {
            "until": date_time("No Azure call for this object before this time."),
            "attempts": integer("Failed attempts so far; each one doubles the wait, up to the cap."),
            "generation": integer("The metadata.generation the backoff applies to."),
        },
    )
    # The loop reports drift for every kind under reconcile-policy observe.
    props["drift"] = array("Fields where Azure differs from the spec (reconcile-policy observe, or while an "
                           "update is pending).", string("One difference."), max_items=64)
    props.update(extra)
    return obj(f"Observed state of the {what}, written only by the operator.", props)


def operation_schema() -> Schema:
    return obj(
        "A long-running Azure operation the operator started and is following. Saved before waiting, "
        "so a restarted operator polls it instead of sending the write again.",
        {
            "kind": string("What the operation does, e.g. ConfigureProtection, StopProtection, Delete."),
            "url": string("The operation's Azure-AsyncOperation (or Location) URL."),
            "startedAt": date_time("When the write that started it was accepted."),
            "generation": integer("The metadata.generation the write was made for."),
        },
    )


def printer(name: str, json_path: str, description: str, kind: str = "string",
            priority: int = 0) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name, "type": kind, "jsonPath": json_path, "description": description}
    if priority:
        col["priority"] = priority
    return col


READY_COLUMNS = [
    printer("Ready", '.status.conditions[?(@.type=="Ready")].status', "Whether the object is Ready."),
    printer("Reason", '.status.conditions[?(@.type=="Ready")].reason', "Why it is (not) Ready."),
]
AGE_COLUMN = printer("Age", ".metadata.creationTimestamp", "Time since creation.", "date")


def crd(kind_name: names.KindName, description: str, spec: Schema, status: Schema,
        columns: list[dict[str, Any]], root_rules: list[Schema] | None = None) -> dict[str, Any]:
    kind, plural = kind_name.kind, kind_name.plural
    root = obj(
        description,
        {
            "apiVersion": string("APIVersion of this representation of the object (azbackup.dev/v1alpha1)."),
            "kind": string(f"Kind of this object ({kind})."),
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
        required=["spec"],
        rules=root_rules or [],
    )
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{API_GROUP}",
            "labels": {"app.kubernetes.io/name": "azbackup-operator", "app.kubernetes.io/part-of": "azbackup"},
        },
        "spec": {
            "group": API_GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": list(kind_name.short_names),
                "categories": [CATEGORY],
            },
            "versions": [
                {
                    "name": API_VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [*columns, *READY_COLUMNS, AGE_COLUMN],
                    "schema": {"openAPIV3Schema": root},
                }
            ],
        },
    }


# ---------------------------------------------------------------------------------------------------
# BackupVault


def backup_vault() -> dict[str, Any]:
    spec = obj(
        "Desired state of a Recovery Services vault: the guide's 'Create a Recovery Services vault' "
        "and 'Set storage replication' steps as fields.",
        {
            "subscriptionId": string(
                "Azure subscription (a GUID) that holds the vault.", pattern=GUID_PATTERN,
                rules=[immutable("subscriptionId", "a vault cannot move subscriptions; create a new "
                                 "BackupVault instead")]),
            "resourceGroup": string(
                "Resource group of the vault (1-90 characters: letters, digits, '_', '-', '.', '(', "
                "')'; not ending in '.'). It must exist.", pattern=RESOURCE_GROUP_PATTERN,
                rules=[immutable("resourceGroup", "a vault cannot move resource groups here; create a "
                                 "new BackupVault instead")]),
            "location": string(
                "Azure region of the vault, e.g. westeurope. Protected VMs must be in the same region "
                "(the guide: cross-region backup is unsupported).", pattern=LOCATION_PATTERN,
                rules=[immutable("location", "a vault cannot move regions; create a new BackupVault "
                                 "in the new region and protect the VMs there")]),
            "vaultName": string(
                "Name of the vault in Azure; defaults to metadata.name. 2-50 characters, starting "
                "with a letter, only letters, digits and hyphens.", pattern=VAULT_NAME_PATTERN),
            "sku": string("Vault SKU.", enum=["Standard", "RS0"], default="Standard"),
            "storageRedundancy": string(
                "Backup storage replication. GeoRedundant (the default) keeps a copy in the paired "
                "region; LocallyRedundant is cheaper. Azure locks it when the first item is "
                "protected: the operator applies it before protecting anything and reports "
                "StorageRedundancyLocked if it is changed afterwards.",
                enum=["GeoRedundant", "LocallyRedundant", "ZoneRedundant"], default="GeoRedundant"),
            "crossRegionRestore": boolean(
                "Allow restores in the paired region. Needs GeoRedundant storage; once on it cannot "
                "be turned off (a new vault is needed), so the API server refuses true -> false.",
                default=False),
            "crossSubscriptionRestore": string(
                "Restores into another subscription: Enabled (Azure's default), Disabled, or "
                "PermanentlyDisabled (irreversible: the API server refuses going back). Omit to leave "
                "Azure's setting as it is.", enum=["Enabled", "Disabled", "PermanentlyDisabled"]),
            "security": obj(
                "The security posture asked of the vault.",
                {
                    "minimumLevel": string(
                        "The lowest bcdrSecurityLevel Azure may rate the vault (Poor < Fair < Good < "
                        "Excellent); a lower rating is the warning condition SecurityLevel, not a "
                        "failure.", enum=["Poor", "Fair", "Good", "Excellent"]),
                },
            ),
            "softDelete": obj(
                "Soft delete keeps deleted backup data for a retention period.",
                {
                    "state": string(
                        "Enabled, Disabled, or AlwaysOn (irreversible: it can never be turned off, and "
                        "the API server refuses going back).",
                        enum=["Enabled", "Disabled", "AlwaysOn"], default="Enabled"),
                    "retentionDays": integer("Days soft-deleted data is kept (14-180).",
                                             minimum=14, maximum=180, default=14),
                },
                default={},
            ),
            "immutability": string(
                "Immutable vault: Disabled, Unlocked, or Locked (irreversible: the API server refuses "
                "going back). Immutable (Unlocked or Locked), Azure refuses whatever would lose recovery "
                "points early: a shorter retention, deleting backup data. Azure locks only an immutable "
                "vault, so Disabled -> Locked is applied as Unlocked, then Locked. BackupsSuspended on a "
                "ProtectedVM needs Unlocked or Locked.",
                enum=["Disabled", "Unlocked", "Locked"], default="Disabled"),
            "publicNetworkAccess": string("Whether the vault is reachable from public networks.",
                                          enum=["Enabled", "Disabled"], default="Enabled"),
            "identity": obj(
                "Managed identities of the vault (needed for customer-managed-key encryption).",
                {
                    "systemAssigned": boolean("Enable the system-assigned identity.", default=False),
                    "userAssigned": array(
                        "Resource ids of user-assigned identities to attach.",
                        string("A user-assigned identity resource id.", pattern=USER_IDENTITY_ID_PATTERN),
                        max_items=20, unique=True),
                },
            ),
            "encryption": obj(
                "Customer-managed-key encryption of backup data. Once on it cannot be turned off.",
                {
                    "keyUri": string("Key Vault key URI, e.g. https://kv.vault.azure.net/keys/k or "
                                     "with a version.", pattern=KEY_URI_PATTERN),
                    "userAssignedIdentity": string(
                        "Identity that reads the key; omit to use the system-assigned identity.",
                        pattern=USER_IDENTITY_ID_PATTERN),
                    "infrastructureEncryption": boolean(
                        "Double encryption at the infrastructure layer; fixed at first use.",
                        default=False),
                },
                required=["keyUri"],
            ),
            "monitoring": obj(
                "Alerts of the vault (monitoringSettings).",
                {
                    "jobFailureAlerts": boolean(
                        "Azure Monitor alerts for every backup job failure "
                        "(azureMonitorAlertSettings.alertsForAllJobFailures).", default=True),
                    "criticalOperationAlerts": boolean(
                        "Classic alerts for critical operations such as stop protection with delete "
                        "data (classicAlertSettings.alertsForCriticalOperations). Azure Monitor's "
                        "built-in security alerts fire whatever this says; false turns the retired "
                        "classic alerts off.", default=True),
                },
                default={},
            ),
            "tags": string_map(
                "Azure tags of the vault. The operator adds azbackup.dev-owner naming this object; "
                "at most 50 tags in all, keys up to 512 and values up to 256 characters.",
                max_properties=49, value=string("Tag value.", max_length=256),
                rules=[rule("self.all(k, size(k) <= 512 && !k.matches('[<>%&?/\\\\\\\\]'))",
                            "tag keys are at most 512 characters and cannot contain < > % & \\ ? /")]),
            "credentialRef": obj(
                "Secret in this namespace with the Azure credential for this vault and everything "
                "in it (keys: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or "
                "AZURE_CLIENT_CERTIFICATE (PEM), or AZURE_FEDERATED_TOKEN_FILE for workload "
                "identity). Omit to use the operator's own identity (DefaultAzureCredential).",
                {"name": string("Name of the Secret.", pattern=K8S_NAME_PATTERN, max_length=253)},
                required=["name"],
            ),
            "resourceGuard": string(
                "Resource id of a Resource Guard (Microsoft.DataProtection/resourceGuards) that protects "
                "the vault's critical operations (Multi-User Authorization). The guard belongs to someone "
                "else: the operator only links the vault to it. Turning soft delete off, and removing or "
                "changing this field, then wait for an approval on the guard (AwaitingMUAApproval).",
                pattern=RESOURCE_GUARD_ID_PATTERN),
            "deletionPolicy": string(
                "What deleting this object does in Azure: Retain (the default) leaves the vault; "
                "Delete deletes it, once no items or soft-deleted items remain.",
                enum=["Retain", "Delete"], default="Retain"),
        },
        required=["subscriptionId", "resourceGroup", "location"],
        rules=[
            rule("has(self.vaultName) == has(oldSelf.vaultName) && "
                 "(!has(self.vaultName) || self.vaultName == oldSelf.vaultName)",
                 "vaultName is immutable: create a new BackupVault to use another vault name",
                 field_path=".vaultName", reason="FieldValueForbidden"),
            # One-way Azure states: once the spec asked for them the operator may have applied them, so
            # going back is refused here, before anything is sent (kinds/vault_diff.py reports Azure's side).
            rule("!has(oldSelf.immutability) || oldSelf.immutability != 'Locked' || "
                 "(has(self.immutability) && self.immutability == 'Locked')",
                 "immutability Locked is irreversible in Azure: it cannot go back to Unlocked or Disabled",
                 field_path=".immutability", reason="FieldValueForbidden"),
            rule("!has(oldSelf.softDelete) || !has(oldSelf.softDelete.state) || "
                 "oldSelf.softDelete.state != 'AlwaysOn' || (has(self.softDelete) && "
                 "has(self.softDelete.state) && self.softDelete.state == 'AlwaysOn')",
                 "softDelete.state AlwaysOn is irreversible in Azure: it cannot be turned off",
                 field_path=".softDelete.state", reason="FieldValueForbidden"),
            rule("!has(oldSelf.crossRegionRestore) || !oldSelf.crossRegionRestore || "
                 "(has(self.crossRegionRestore) && self.crossRegionRestore)",
                 "crossRegionRestore cannot be turned off once on; a new vault is needed",
                 field_path=".crossRegionRestore", reason="FieldValueForbidden"),
            rule("!has(oldSelf.crossSubscriptionRestore) || oldSelf.crossSubscriptionRestore != "
                 "'PermanentlyDisabled' || (has(self.crossSubscriptionRestore) && "
                 "self.crossSubscriptionRestore == 'PermanentlyDisabled')",
                 "crossSubscriptionRestore PermanentlyDisabled is irreversible in Azure",
                 field_path=".crossSubscriptionRestore", reason="FieldValueForbidden"),
            rule("!self.crossRegionRestore || self.storageRedundancy == 'GeoRedundant'",
                 "crossRegionRestore needs storageRedundancy GeoRedundant", field_path=".crossRegionRestore"),
            rule("!has(self.encryption) || (has(self.identity) && ((has(self.identity.systemAssigned) "
                 "&& self.identity.systemAssigned) || has(self.encryption.userAssignedIdentity)))",
                 "encryption needs an identity: set identity.systemAssigned: true or "
                 "encryption.userAssignedIdentity", field_path=".encryption"),
            rule("!has(self.encryption) || !has(self.encryption.userAssignedIdentity) || "
                 "(has(self.identity.userAssigned) && "
                 "self.encryption.userAssignedIdentity in self.identity.userAssigned)",
                 "encryption.userAssignedIdentity must also be listed in identity.userAssigned",
                 field_path=".encryption.userAssignedIdentity"),
        ],
    )
    status = common_status(
        {
            "vaultId": string("Azure resource id of the vault."),
            "vaultName": string("Name of the vault in Azure."),
            "location": string("Region Azure reports for the vault."),
            "provisioningState": string("provisioningState Azure reports."),
            "storageRedundancy": string("Storage redundancy Azure reports."),
            "storageRedundancyLocked": boolean(
                "True once an item is protected: Azure no longer accepts a redundancy change."),
            "identityPrincipalId": string("Object id of the system-assigned identity, when enabled."),
            "resourceGuard": string("Resource Guard the vault is linked to in Azure (Multi-User Authorization)."),
            "bcdrSecurityLevel": string("Azure's rating of the vault's security settings (Poor, Fair, "
                                        "Good, Excellent)."),
            "immutability": string("Immutability state Azure reports (Disabled, Unlocked, Locked)."),
            "softDeleteState": string("Soft delete state Azure reports (Enabled, Disabled, AlwaysON)."),
            "deletion": obj(
                "While the vault is deleted (deletionPolicy Delete): the steps Azure requires, in order.",
                {"steps": array("One step of the vault's deletion.", obj("One step.", {
                    "name": string("ItemsStopped, SoftDeletedDataPurged, PrivateEndpointsRemoved, "
                                   "ResourceGuardProxyRemoved."),
                    "done": boolean("Whether Azure no longer holds the vault back for this step."),
                    "message": string("What remains, and who or what must act."),
                    "canProceedAt": string("When the step can be done at the earliest (RFC 3339), when "
                                           "Azure sets the date (a purge date).", fmt="date-time"),
                }), max_items=8)},
            ),
            "operation": operation_schema(),
        },
        "vault",
    )
    return crd(
        names.VAULT,
        "A Recovery Services vault that holds VM backups (the guide's step 'Create a Recovery "
        "Services vault').",
        spec, status,
        [
            printer("Location", ".spec.location", "Azure region."),
            printer("Redundancy", ".spec.storageRedundancy", "Storage replication."),
            printer("Security", ".status.bcdrSecurityLevel", "Azure's security rating of the vault."),
        ],
        root_rules=[
            rule(f"has(self.spec.vaultName) || self.metadata.name.matches('{VAULT_NAME_PATTERN}')",
                 "metadata.name is not a valid vault name (2-50 characters, starting with a letter, "
                 "only letters, digits and hyphens): set spec.vaultName"),
        ],
    )


# ---------------------------------------------------------------------------------------------------
# BackupPolicy


def _days_or_weekdays(description: str, extra: dict[str, Schema] | None = None,
                      required: list[str] | None = None) -> Schema:
    props: dict[str, Schema] = {
        "count": integer("How many to keep (see the bounds of each kind of retention).", minimum=1),
        "days": array("Days of the month (1-28) to keep, instead of weekdays and weeks.",
                      integer("Day of the month.", minimum=1, maximum=28), max_items=28, unique=True),
        "includeLastDay": boolean("Also keep the backup of the last day of the month (with days).",
                                  default=False),
        "weekdays": array("Weekdays to keep (with weeks).",
                          string("A weekday.", enum=list(WEEKDAYS)), max_items=7, unique=True),
        "weeks": array("Weeks of the month to keep (with weekdays).",
                       string("A week of the month.", enum=list(WEEKS_OF_MONTH)), max_items=5, unique=True),
    }
    props.update(extra or {})
    return obj(
        description, props, required=["count", *(required or [])],
        rules=[rule("has(self.days) ? !(has(self.weekdays) || has(self.weeks)) : "
                    "(has(self.weekdays) && has(self.weeks))",
                    "give either days (and includeLastDay) or weekdays and weeks, not both")],
    )


def backup_policy() -> dict[str, Any]:
    schedule = obj(
        "When backups run (the guide's 'backup policy': schedule).",
        {
            "frequency": string("Hourly (Enhanced policies only), Daily or Weekly.",
                                enum=["Hourly", "Daily", "Weekly"]),
            "time": string("Time of day HH:MM (on the hour or half hour) for Daily and Weekly.",
                           pattern=TIME_OF_DAY_PATTERN),
            "weekdays": array("Days a Weekly schedule runs.", string("A weekday.", enum=list(WEEKDAYS)),
                              min_items=1, max_items=7, unique=True),
            "hourly": obj(
                "Hourly schedule (Enhanced policies).",
                {
                    "intervalHours": integer("Hours between backups.", enum=[4, 6, 8, 12]),
                    "windowStartTime": string("Start of the daily backup window, HH:MM.",
                                              pattern=TIME_OF_DAY_PATTERN),
                    "windowDurationHours": integer("Length of the window in hours (4-24), a multiple of "
                                                   "intervalHours.", minimum=4, maximum=24),
                },
                required=["intervalHours", "windowStartTime", "windowDurationHours"],
                rules=[rule("self.windowDurationHours % self.intervalHours == 0",
                            "windowDurationHours must be a multiple of intervalHours")],
            ),
        },
        required=["frequency"],
        rules=[
            rule("self.frequency != 'Hourly' || has(self.hourly)", "an Hourly schedule needs schedule.hourly"),
            rule("self.frequency == 'Hourly' || has(self.time)", "a Daily or Weekly schedule needs schedule.time"),
            rule("self.frequency == 'Weekly' || !has(self.weekdays)",
                 "schedule.weekdays is only for Weekly schedules"),
            rule("self.frequency != 'Weekly' || has(self.weekdays)", "a Weekly schedule needs schedule.weekdays"),
        ],
    )
    retention = obj(
        "How long recovery points are kept (the guide's 'backup policy': retention range).",
        {
            "daily": obj("Keep daily backup points.",
                         {"count": integer(f"Days to keep ({MIN_DAILY}-{MAX_DAILY}).",
                                           minimum=MIN_DAILY, maximum=MAX_DAILY)},
                         required=["count"]),
            "weekly": obj("Keep weekly backup points.",
                          {"count": integer(f"Weeks to keep (1-{MAX_WEEKLY}).", minimum=1, maximum=MAX_WEEKLY),
                           "weekdays": array("Weekdays whose backup is kept.",
                                             string("A weekday.", enum=list(WEEKDAYS)),
                                             min_items=1, max_items=7, unique=True)},
                          required=["count", "weekdays"]),
            "monthly": _days_or_weekdays(f"Keep monthly backup points (count 1-{MAX_MONTHLY} months)."),
            "yearly": _days_or_weekdays(
                f"Keep yearly backup points (count 1-{MAX_YEARLY} years).",
                {"months": array("Months whose backup is kept.", string("A month.", enum=list(MONTHS)),
                                 min_items=1, max_items=12, unique=True)},
                ["months"]),
        },
        rules=[
            rule(f"!has(self.monthly) || self.monthly.count <= {MAX_MONTHLY}",
                 f"retention.monthly.count is at most {MAX_MONTHLY} months", field_path=".monthly.count"),
            rule(f"!has(self.yearly) || self.yearly.count <= {MAX_YEARLY}",
                 f"retention.yearly.count is at most {MAX_YEARLY} years", field_path=".yearly.count"),
        ],
    )
    spec = obj(
        "Desired state of an AzureIaasVM backup policy in a vault.",
        {
            "vaultRef": local_ref("BackupVault", "the vault that holds the policy"),
            "policyName": string("Name of the policy in Azure; defaults to metadata.name. 3-150 "
                                 "characters, starting with a letter, letters, digits and hyphens, "
                                 "not ending with a hyphen.", pattern=POLICY_NAME_PATTERN),
            "policyType": string(
                "Standard (V1, daily/weekly, snapshots 1-5 days) or Enhanced (V2: hourly schedules, "
                "snapshots up to 30 days, required for Trusted Launch VMs). Standard to Enhanced is a "
                "migration and is never done silently.", enum=["Standard", "Enhanced"], default="Enhanced"),
            "schedule": schedule,
            "timeZone": string("Windows time-zone name the schedule is in, e.g. UTC or "
                               "'W. Europe Standard Time'.", max_length=64, default="UTC"),
            "instantRestoreRetentionDays": integer(
                "Days instant-restore snapshots are kept: 1-5 for Standard (exactly 5 with a weekly "
                "schedule), 1-30 for Enhanced.", minimum=1, maximum=30),
            "instantRestoreResourceGroup": obj(
                "Resource group the snapshots go to: <prefix>N<suffix>, N counting from 1.",
                {"prefix": string("Prefix of the resource group name.", min_length=1, max_length=80),
                 "suffix": string("Suffix of the resource group name.", max_length=10)},
                required=["prefix"]),
            "retention": retention,
            "tiering": obj(
                "Move older recovery points to the archive tier.",
                {"mode": string("TierAfter a duration, TierRecommended points, or DoNotTier.",
                                enum=["TierAfter", "TierRecommended", "DoNotTier"]),
                 "duration": integer("With TierAfter: how long after creation.", minimum=1),
                 "durationType": string("Unit of duration.", enum=["Days", "Weeks", "Months", "Years"],
                                        default="Months")},
                required=["mode"],
                rules=[rule("self.mode != 'TierAfter' || has(self.duration)", "tiering TierAfter needs duration")]),
            "consistency": string(
                "Default (application-consistent where the agent can, else file-system or crash "
                "consistent) or OnlyCrashConsistent (opt in to skip application consistency).",
                enum=["Default", "OnlyCrashConsistent"], default="Default"),
            "deletionPolicy": string(
                "What deleting this object does in Azure: Delete (the default) deletes the policy, "
                "which Azure refuses while it protects items (reason PolicyInUse); Retain leaves it.",
                enum=["Retain", "Delete"], default="Delete"),
        },
        required=["vaultRef", "schedule", "retention"],
        rules=[
            rule("has(self.policyName) == has(oldSelf.policyName) && "
                 "(!has(self.policyName) || self.policyName == oldSelf.policyName)",
                 "policyName is immutable: create a new BackupPolicy to use another name",
                 field_path=".policyName", reason="FieldValueForbidden"),
            rule("self.vaultRef == oldSelf.vaultRef",
                 "vaultRef is immutable: a policy cannot move to another vault; create a new BackupPolicy",
                 field_path=".vaultRef", reason="FieldValueForbidden"),
            rule("self.schedule.frequency != 'Hourly' || self.policyType == 'Enhanced'",
                 "an Hourly schedule needs policyType Enhanced", field_path=".schedule.frequency"),
            rule("!has(self.instantRestoreRetentionDays) || self.policyType == 'Enhanced' || "
                 "self.instantRestoreRetentionDays <= 5",
                 "Standard policies keep instant-restore snapshots 1-5 days; use policyType Enhanced "
                 "for up to 30", field_path=".instantRestoreRetentionDays"),
            rule("self.schedule.frequency != 'Weekly' || self.policyType == 'Enhanced' || "
                 "!has(self.instantRestoreRetentionDays) || self.instantRestoreRetentionDays == 5",
                 "Standard policies with a Weekly schedule keep instant-restore snapshots exactly 5 days",
                 field_path=".instantRestoreRetentionDays"),
            rule("self.schedule.frequency == 'Weekly' || has(self.retention.daily)",
                 "a Daily or Hourly schedule needs retention.daily", field_path=".retention"),
            rule("self.schedule.frequency != 'Weekly' || !has(self.retention.daily)",
                 "a Weekly schedule has no daily points: remove retention.daily", field_path=".retention.daily"),
            rule("self.schedule.frequency != 'Weekly' || has(self.retention.weekly)",
                 "a Weekly schedule needs retention.weekly", field_path=".retention"),
        ],
    )
    status = common_status(
        {
            "policyId": string("Azure resource id of the policy."),
            "policyName": string("Name of the policy in Azure."),
            "vaultId": string("Azure resource id of the vault that holds it."),
            "policyType": string("Policy type Azure reports (V1 Standard, V2 Enhanced)."),
            "protectedItemsCount": integer("Items Azure reports protected by this policy."),
            "policyWrites": array(
                "Creates and edits of this policy the operator sent in the last 24 hours (Azure allows 50 per vault).",
                obj("One write.", {"at": string("When it was sent (RFC 3339, UTC)."),
                                   "generation": integer("The spec generation it wrote."),
                                   "refused": boolean("Azure refused it for the budget.")}),
                max_items=64),
            "operation": operation_schema(),
        },
        "policy",
    )
    return crd(
        names.POLICY,
        "A VM backup policy (schedule and retention) in a BackupVault.",
        spec, status,
        [
            printer("Vault", ".spec.vaultRef.name", "BackupVault holding the policy."),
            printer("Type", ".spec.policyType", "Standard or Enhanced."),
        ],
        root_rules=[
            rule(f"has(self.spec.policyName) || self.metadata.name.matches('{POLICY_NAME_PATTERN}')",
                 "metadata.name is not a valid policy name (3-150 characters, starting with a letter, "
                 "letters, digits and hyphens, not ending with a hyphen): set spec.policyName"),
        ],
    )


# ---------------------------------------------------------------------------------------------------
# ProtectedVM


def disk_selection() -> Schema:
    lun = integer("A data disk LUN (0-63).", minimum=0, maximum=63)
    return obj(
        "Which disks are backed up; by default the OS disk and every data disk.",
        {
            "includeLuns": array("Back up the OS disk and only these data disks.", lun, max_items=64, unique=True),
            "excludeLuns": array("Back up every disk except these data disks.", lun, max_items=64, unique=True),
            "osDiskOnly": boolean("Back up the OS disk only.", default=False),
        },
        rules=[
            rule("!(has(self.includeLuns) && has(self.excludeLuns))",
                 "set includeLuns or excludeLuns, not both"),
            rule("!self.osDiskOnly || !(has(self.includeLuns) || has(self.excludeLuns))",
                 "osDiskOnly backs up no data disk: remove includeLuns and excludeLuns"),
        ],
    )


def protected_vm_options() -> dict[str, Schema]:
    """Fields a ProtectedVM and a VMBackupSelector's child template share."""
    return {
        "diskSelection": disk_selection(),
        "httpProxy": string(
            "HTTP proxy the VM uses to reach Azure Storage (the guide's alternative to NSG rules). "
            "Declaring it satisfies the NetworkPath check; authenticated proxies are unsupported.",
            pattern=r"^https?://[^\s/@]+(:[0-9]{1,5})?/?$"),
        "remediation": obj(
            "Fixes the operator may apply to the VM, each an explicit opt-in.",
            {"allowExtensionOperations": boolean(
                "After a manual VM agent install, set osProfile.allowExtensionOperations on the VM "
                "(today's ARM equivalent of the guide's ProvisionGuestAgent flag).", default=False)},
        ),
        "state": string(
            "Protected (the default); BackupsSuspended (stop backups, keep points per policy; needs "
            "an immutable vault); ProtectionStopped (stop backups, retain existing data).",
            enum=["Protected", "BackupsSuspended", "ProtectionStopped"], default="Protected"),
        "onDelete": string(
            "What deleting this object does: RetainData (the default: stop protection, keep the "
            "recovery points), DeleteData (stop and delete backup data; soft delete may keep it "
            "for its retention), Orphan (leave Azure as it is).",
            enum=["RetainData", "DeleteData", "Orphan"], default="RetainData"),
    }


CHECK_NAMES = [
    "SameRegion", "NotProtectedElsewhere", "VMAgentReady", "ApplicationConsistent", "NetworkPath",
    "SupportedOS", "DataDiskLimit", "NoWriteAccelerator", "DiskEncryptionSupported",
    "StorageAccountAccess", "ManagedDisks", "NoSharedDisks", "RestoreNetworkConfig",
    # prerequisites Azure added after the 2018 guide
    "DiskTypeSupported", "NoEphemeralOSDisk", "NoDataAccessAuthDisks", "SecurityTypeSupported",
]


def protected_vm() -> dict[str, Any]:
    spec = obj(
        "One VM under protection: the guide's 'Enable backup' for one VM.",
        {
            "vaultRef": local_ref("BackupVault", "the vault that protects the VM; same region as the VM"),
            "policyRef": local_ref("BackupPolicy", "omit to use the vault's built-in DefaultPolicy"),
            "vm": string(
                "Azure resource id of the VM: /subscriptions/<guid>/resourceGroups/<rg>/providers/"
                "Microsoft.Compute/virtualMachines/<name>.", pattern=VM_ID_PATTERN,
                rules=[immutable("vm", "a ProtectedVM protects one VM for life; create another "
                                 "ProtectedVM for a different VM")]),
            **protected_vm_options(),
        },
        required=["vaultRef", "vm"],
        rules=[rule("self.vaultRef == oldSelf.vaultRef",
                    "vaultRef is immutable: a protected VM cannot move vaults in place; delete this "
                    "ProtectedVM (onDelete decides what happens to its backups) and create another",
                    field_path=".vaultRef", reason="FieldValueForbidden")],
    )
    status = common_status(
        {
            "vmName": string("Name of the VM."),
            "vaultId": string("Azure resource id of the vault protecting the VM."),
            "protectedItemId": string("Azure resource id of the protected item."),
            "policyName": string("Name of the policy Azure reports for the item."),
            "protectionState": string("protectionState Azure reports (IRPending, Protected, "
                                      "ProtectionStopped, BackupsSuspended, ProtectionError, ...)."),
            "healthStatus": string("healthStatus Azure reports (Passed, ActionRequired, ...)."),
            "lastBackupStatus": string("lastBackupStatus Azure reports."),
            "lastBackupTime": date_time("When the last backup completed."),
            "lastRecoveryPoint": date_time("Time of the newest recovery point."),
            "softDeleted": boolean("True while the item is soft-deleted in Azure."),
            "retainedInAzure": obj(
                "While the object is deleted: what Azure keeps of its backups, and until when.",
                {"what": string("SoftDeleted, BackupsSuspended (immutable vault) or ProtectionStopped."),
                 "vault": string("The vault that keeps it."),
                 "points": integer("Recovery points kept (BackupsSuspended)."),
                 "until": date_time("When Azure purges it or the last point expires, where Azure says.")}),
            "checks": array(
                "Every prerequisite of the guide, evaluated against the VM's current facts.",
                obj("One prerequisite check.",
                    {"name": string("Check name.", enum=CHECK_NAMES),
                     "result": string("Outcome.", enum=["Passed", "Failed", "Warning", "Unknown"]),
                     "reason": string("Stable reason (see the README's reason table)."),
                     "message": string("What the check found and what to do.")},
                    required=["name", "result"]),
                max_items=32, list_type="map"),
            "operation": operation_schema(),
        },
        "protected VM",
    )
    status["properties"]["checks"]["x-kubernetes-list-map-keys"] = ["name"]
    return crd(
        names.PROTECTED_VM,
        "An Azure VM protected by a BackupVault, with every prerequisite of the guide as a condition.",
        spec, status,
        [
            printer("Vault", ".spec.vaultRef.name", "BackupVault protecting the VM."),
            printer("Policy", ".status.policyName", "Backup policy in effect."),
            printer("Last Backup", ".status.lastBackupTime", "When the last backup completed.", "date"),
            printer("VM", ".status.vmName", "VM name.", priority=1),
        ],
    )


# ---------------------------------------------------------------------------------------------------
# VMBackupSelector


def vm_backup_selector() -> dict[str, Any]:
    expression = obj(
        "A tag requirement, like a Kubernetes label selector expression.",
        {
            "key": string("Tag name (compared case-insensitively, as Azure does).", min_length=1, max_length=512),
            "operator": string("In, NotIn, Exists or DoesNotExist.", enum=["In", "NotIn", "Exists", "DoesNotExist"]),
            "values": array("Tag values for In and NotIn.", string("A tag value.", max_length=256),
                            max_items=64, unique=True),
        },
        required=["key", "operator"],
        rules=[rule("(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
                    "In and NotIn need values; Exists and DoesNotExist take none")],
    )
    spec = obj(
        "Auto-protection: every VM in the vault's subscription and region that matches gets a "
        "ProtectedVM child, and keeps getting one as VMs appear, change tags or disappear.",
        {
            "vaultRef": local_ref("BackupVault", "the vault that protects matching VMs"),
            "policyRef": local_ref("BackupPolicy", "omit to use the vault's DefaultPolicy; changing "
                                   "it re-policies every child"),
            "matchTags": string_map("Tags a VM must have with exactly these values.", max_properties=32,
                                    value=string("Required tag value.", max_length=256)),
            "matchExpressions": array("Tag requirements; all must hold.", expression, max_items=32),
            "resourceGroups": array("Only VMs in these resource groups (any, when empty).",
                                    string("Resource group name.", pattern=RESOURCE_GROUP_PATTERN),
                                    max_items=100, unique=True),
            "osTypes": array("Only VMs with these OS types (any, when empty).",
                             string("OS type.", enum=["Windows", "Linux"]), max_items=2, unique=True),
            "exclude": array("VMs never selected: names or resource ids.",
                             string("VM name or resource id.", max_length=1024), max_items=1000, unique=True),
            "template": obj("Settings copied to every ProtectedVM child.", protected_vm_options()),
        },
        required=["vaultRef"],
        rules=[rule("self.vaultRef == oldSelf.vaultRef",
                    "vaultRef is immutable: create a new VMBackupSelector for another vault",
                    field_path=".vaultRef", reason="FieldValueForbidden")],
    )
    status = common_status(
        {
            "matched": integer("VMs that match the selector in the vault's region."),
            "protected": integer("Matched VMs whose ProtectedVM is Ready."),
            "blocked": integer("Matched VMs that cannot be protected (see blockedByReason)."),
            "excluded": integer("VMs left out by exclude."),
            "blockedByReason": string_map("Blocked VMs counted by reason.", value=integer("Count.")),
            "protectedElsewhere": array("Matched VMs another vault protects; never taken over.",
                                        string("VM resource id."), max_items=100),
            "notFitted": integer("Matched VMs left unprotected because the vault or the policy holds Azure's "
                                 "limit of 1000 VMs."),
        },
        "selector",
    )
    return crd(
        names.SELECTOR,
        "Protects every VM that matches tags, resource groups and OS type, as they come and go.",
        spec, status,
        [
            printer("Vault", ".spec.vaultRef.name", "BackupVault protecting matched VMs."),
            printer("Matched", ".status.matched", "VMs matched.", "integer"),
            printer("Protected", ".status.protected", "Matched VMs protected.", "integer"),
            printer("Blocked", ".status.blocked", "Matched VMs blocked by a prerequisite.", "integer"),
        ],
    )


# ---------------------------------------------------------------------------------------------------
# OnDemandBackup


def on_demand_backup() -> dict[str, Any]:
    spec = obj(
        "One backup now, like a Kubernetes Job: the guide's 'Back up now'. The spec cannot change "
        "after creation; create another object for another backup.",
        {
            "protectedVMRef": local_ref("ProtectedVM", "the VM to back up; it must be protected"),
            "retainUntil": date_time("Keep the recovery point until this time (RFC 3339)."),
            "retentionDays": integer("Keep the recovery point this many days (default 30).",
                                     minimum=1, maximum=36135),
            "ttlSecondsAfterFinished": integer(
                "Delete this object this many seconds after it finished (the recovery point stays).",
                minimum=0),
        },
        required=["protectedVMRef"],
        rules=[
            rule("self == oldSelf", "an OnDemandBackup is one backup: its spec cannot change; create a "
                 "new OnDemandBackup", reason="FieldValueForbidden"),
            rule("!(has(self.retainUntil) && has(self.retentionDays))", "set retainUntil or retentionDays, not both"),
        ],
    )
    status = common_status(
        {
            "phase": string("Pending, Running, Succeeded or Failed.", enum=values(api_status.JobPhase)),
            "jobId": string("Azure backup job id."),
            "triggeredAt": date_time("When the trigger was sent."),
            "startTime": date_time("When the Azure job started."),
            "completionTime": date_time("When the Azure job ended."),
            "duration": string("Job duration Azure reports (ISO 8601)."),
            "errorCode": string("Azure's error code when the job failed."),
            "errorMessage": string("Azure's error message when the job failed."),
            "retainUntil": date_time("Expiry of the recovery point."),
            "recoveryPoint": string("Name of the recovery point the job created."),
            "operation": operation_schema(),
        },
        "on-demand backup",
    )
    return crd(
        names.ON_DEMAND,
        "One on-demand backup of a ProtectedVM, followed to Succeeded or Failed.",
        spec, status,
        [
            printer("Target", ".spec.protectedVMRef.name", "ProtectedVM backed up."),
            printer("Phase", ".status.phase", "Where the backup is."),
            printer("Recovery Point", ".status.recoveryPoint", "Recovery point created."),
        ],
    )


# ---------------------------------------------------------------------------------------------------
# VMRestore and RestoreDrill

SUBNET_ID_PATTERN = (
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+"
    r"/subnets/[^/]+$"
)
STORAGE_ACCOUNT_ID_PATTERN = (
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Storage/storageAccounts/[a-z0-9]{3,24}$"
)
# Azure VM names: 1-64 characters (Linux), letters, digits, hyphens, periods, underscores (not at the end).
AZURE_VM_NAME_PATTERN = r"^[a-zA-Z0-9][-a-zA-Z0-9_.]{0,62}[a-zA-Z0-9_]$|^[a-zA-Z0-9]$"
# Go-style durations as Kubernetes writes them: 90s, 30m, 26h, 1h30m.
DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
# Five cron fields or a macro; the fields' values are checked by the operator (reason InvalidSchedule).
CRON_PATTERN = (
    r"^(@(yearly|annually|monthly|weekly|daily|hourly)|([-0-9A-Za-z*,/?#]+[ \t]+){4}[-0-9A-Za-z*,/?#]+)$"
)


def duration(description: str) -> Schema:
    return string(description + " A duration such as 90s, 30m, 26h or 1h30m.", pattern=DURATION_PATTERN,
                  min_length=2, max_length=32)


def recovery_point_choice() -> Schema:
    return obj(
        "Which recovery point to restore. Default: the latest one that can be restored without "
        "rehydration.",
        {
            "name": string("`latest` (default) or the name of a recovery point (status.recoveryPoint of an "
                           "OnDemandBackup, or `az backup recoverypoint list`).", default="latest",
                           min_length=1, max_length=64),
            "before": date_time("Restore the newest point taken before this time (RFC 3339) instead."),
            "consistency": string("Only points of this type (Azure's recoveryPointType).",
                                  enum=["AppConsistent", "FileSystemConsistent", "CrashConsistent"]),
            "requireThreatStatus": string(
                "Only a point that Microsoft Defender's source scan reports Healthy (Azure's threatStatus): the "
                "newest such point that also matches the rest of this choice; newer points passed over are "
                "listed in status.skippedRecoveryPoints. Healthy refuses when no point is Healthy "
                "(NoHealthyRecoveryPoint), also when the vault does not scan; HealthyWhenScanned requires "
                "Healthy only once the item's points carry a threat status (RestoreDrill's default).",
                enum=["Healthy", "HealthyWhenScanned"]),
            "rehydration": obj(
                "Allow restoring a point whose only copy is in the archive tier, rehydrating it first "
                "(IaasVMRestoreWithRehydrationRequest). Without it such a point is refused with "
                "RecoveryPointArchived.",
                {
                    "priority": string("Rehydration priority.", enum=["Standard", "High"], default="Standard"),
                    "days": integer("How long the rehydrated copy is kept (days; the CLI allows 10-30).",
                                    minimum=10, maximum=30, default=15),
                },
            ),
        },
        rules=[rule("!(has(self.before) && has(self.name) && self.name != 'latest')",
                    "set recoveryPoint.name or recoveryPoint.before, not both")],
    )


def restore_target(what: str, vm_name: bool) -> Schema:
    props: dict[str, Schema] = {
        "resourceGroup": string(f"Resource group (in the vault's subscription) that receives the {what}. It "
                                "must exist.", pattern=RESOURCE_GROUP_PATTERN, max_length=90),
        "subnetId": string("ARM id of the subnet the new VM's NIC joins (its VNet must be in the source VM's "
                           "region). Required for mode NewVM.", pattern=SUBNET_ID_PATTERN),
        "stagingStorageAccountId": string(
            "ARM id of the staging storage account Azure Backup writes the VM configuration (and for some "
            "points the VHDs) to. It must be in the vault's region.", pattern=STORAGE_ACCOUNT_ID_PATTERN),
        "zones": array("Availability zone of the restored VM or disks (Cross-Zonal Restore), e.g. [\"1\"].",
                       string("A zone: 1, 2, 3 or NoZone.", enum=["1", "2", "3", "NoZone"]), max_items=1),
    }
    if vm_name:
        props["vmName"] = string("Name of the new VM. It must not exist in the target resource group: a "
                                 "restore never replaces a VM (reason RestoreTargetExists).",
                                 pattern=AZURE_VM_NAME_PATTERN, max_length=64)
    required = ["resourceGroup", "stagingStorageAccountId"] + ([] if vm_name else ["subnetId"])
    return obj(f"Where the {what} go.", props, required=required)


def skipped_points_schema() -> Schema:
    return array(
        "Newer points passed over because recoveryPoint.requireThreatStatus asked for a Healthy one (newest "
        "first, at most 10); on NoHealthyRecoveryPoint, the points that matched.",
        obj("A recovery point passed over.", {
            "name": string("The point's name."),
            "time": date_time("When it was taken."),
            "threatStatus": string("Its threatStatus (UnHealthy, Warning, Unknown, NotAvailable), or NotReported "
                                   "when Azure reports none."),
        }), max_items=10)


def created_schema() -> Schema:
    return obj(
        "Azure resources the restore created (read back from compute; Azure's job names none).",
        {
            "virtualMachine": string("ARM id of the restored VM."),
            "networkInterfaces": array("ARM ids of its NICs.", string("A NIC id.")),
            "disks": array("ARM ids of the restored managed disks.", string("A disk id.")),
        },
    )


def vm_restore() -> dict[str, Any]:
    spec = obj(
        "One restore of a ProtectedVM from a recovery point, like a Kubernetes Job: to a new VM (Azure's "
        "AlternateLocation) or to managed disks (RestoreDisks). The source VM is never touched or replaced. "
        "The spec cannot change after creation; create another object for another restore.",
        {
            "protectedVMRef": local_ref("ProtectedVM", "the VM whose recovery points are restored"),
            "mode": string("NewVM creates a VM (with its NIC and disks); Disks restores managed disks only.",
                           enum=["NewVM", "Disks"], default="NewVM"),
            "recoveryPoint": recovery_point_choice(),
            "target": restore_target("restored VM and its disks", vm_name=True),
            "cleanup": string("What deleting this object does to what the restore created: Retain (default) "
                              "keeps it; Delete deletes the VM, its NICs and disks.",
                              enum=["Retain", "Delete"], default="Retain"),
            "ttlSecondsAfterFinished": integer(
                "Delete this object this many seconds after it finished (what it created follows cleanup).",
                minimum=0),
        },
        required=["protectedVMRef", "target"],
        rules=[
            rule("self == oldSelf", "a VMRestore is one restore: its spec cannot change; create a new VMRestore",
                 reason="FieldValueForbidden"),
            rule("self.mode != 'NewVM' || (has(self.target.vmName) && has(self.target.subnetId))",
                 "mode NewVM needs target.vmName and target.subnetId"),
        ],
    )
    status = common_status(
        {
            "phase": string("Pending, Running, Succeeded or Failed.", enum=values(api_status.JobPhase)),
            "jobId": string("Azure Restore job id (saved before waiting on it)."),
            "jobStatus": string("The job's status as Azure reports it (e.g. CompletedWithWarnings)."),
            "recoveryPoint": string("Name of the recovery point restored."),
            "recoveryPointTime": date_time("When that recovery point was taken."),
            "recoveryPointType": string("Its consistency (AppConsistent, CrashConsistent, ...)."),
            "rehydrated": boolean("True when the point was rehydrated from the archive tier."),
            "recoveryPointThreatStatus": string("The restored point's threatStatus as Azure's threat scan "
                                                "reports it (absent when the point was not scanned)."),
            "skippedRecoveryPoints": skipped_points_schema(),
            "startTime": date_time("When the Azure job started."),
            "completionTime": date_time("When the Azure job ended."),
            "duration": string("Job duration Azure reports."),
            "errorCode": string("Azure's error (or warning) code when the restore failed."),
            "errorMessage": string("Azure's message when the restore failed."),
            "created": created_schema(),
            "remaining": array("While deleting with cleanup Delete: what is left to delete.", string("An id.")),
            "warnings": array("What the restored VM lacks compared with the source (load balancer, several "
                              "NICs or public IPs: the RestoreNetworkConfig facts).", string("A warning.")),
            "operation": operation_schema(),
        },
        "restore",
    )
    return crd(
        names.VM_RESTORE,
        "One restore of a ProtectedVM, followed through Azure's Restore job to Succeeded or Failed.",
        spec, status,
        [
            printer("Source", ".spec.protectedVMRef.name", "ProtectedVM restored."),
            printer("Mode", ".spec.mode", "NewVM or Disks."),
            printer("Phase", ".status.phase", "Where the restore is."),
            printer("Recovery Point", ".status.recoveryPointTime", "When the restored point was taken.", "date"),
            printer("Job", ".status.jobId", "Azure Restore job.", priority=1),
            printer("Threat", ".status.recoveryPointThreatStatus", "The restored point's threat status.", priority=1),
        ],
    )


def drill_run_schema(what: str) -> Schema:
    target = obj(
        "Evidence for one drilled VM.",
        {
            "protectedVM": string("The ProtectedVM drilled."),
            "restore": string("The VMRestore this run created for it."),
            "vmName": string("Name of the restored VM (unique per run)."),
            "recoveryPoint": string("Recovery point restored."),
            "recoveryPointTime": date_time("When that point was taken."),
            "rpoSeconds": integer("Achieved RPO: the point's age when the run started."),
            "jobSeconds": integer("Restore job duration."),
            "bootSeconds": integer("From the job's end to the VM running with its agent Ready."),
            "rtoSeconds": integer("Achieved RTO: restore job duration + time to boot."),
            "threatStatus": string("The restored point's threatStatus (Healthy, ...), or NotReported when Azure's "
                                   "threat scan reports none."),
            "skippedRecoveryPoints": skipped_points_schema(),
            "result": string("Passed, Failed or Running.", enum=values(api_status.Result)),
            "reason": string("Why (a reason from the README)."),
            "message": string("What happened."),
            "cleanedUp": boolean("True once what the run created for this VM was deleted."),
        },
    )
    return obj(
        what,
        {
            "id": integer("Run number (1, 2, ...)."),
            "scheduledFor": date_time("The schedule time this run is for."),
            "startedAt": date_time("When the run started."),
            "finishedAt": date_time("When verification ended."),
            "phase": string("Restoring, CleaningUp or Done.", enum=values(api_status.RunPhase)),
            "result": string("Passed, Failed or Running.", enum=values(api_status.Result)),
            "reason": string("Why (a reason from the README)."),
            "achievedRPO": string("The worst achieved RPO of the run (e.g. 6h2m)."),
            "achievedRTO": string("The worst achieved RTO of the run."),
            "objectivesMet": boolean("False when achievedRPO or achievedRTO exceeded an objective."),
            "missed": array("The objectives the run missed, in words.", string("A missed objective.")),
            "targets": array("Evidence per drilled VM.", target),
        },
    )


def restore_drill() -> dict[str, Any]:
    spec = obj(
        "Scheduled proof that backups restore: on a cron schedule, restore a sample of ProtectedVMs into an "
        "isolated resource group and subnet (no public IP), check that each boots (PowerState/running and "
        "its VM agent Ready) within a deadline, record the achieved RPO and RTO, and clean up exactly what "
        "the run created.",
        {
            "vaultRef": local_ref("BackupVault", "the vault whose ProtectedVMs are drilled"),
            "schedule": string("Cron schedule (five fields, or @daily/@weekly/...), e.g. `0 3 * * 0`.",
                               pattern=CRON_PATTERN, max_length=128),
            "timeZone": string("IANA time zone of the schedule, e.g. Europe/Berlin (default UTC).",
                               default="UTC", max_length=64),
            "suspend": boolean("Start no new run while true (a run in flight finishes).", default=False),
            "targets": obj(
                "Which ProtectedVMs to drill: by name or by label selector (exactly one).",
                {
                    "names": array("ProtectedVM names in this namespace.",
                                   string("A ProtectedVM name.", pattern=K8S_NAME_PATTERN, max_length=253),
                                   min_items=1, max_items=100, unique=True),
                    "selector": obj("Label selector on ProtectedVMs in this namespace.", {
                        "matchLabels": string_map("Labels a ProtectedVM must have.", max_properties=20),
                    }, required=["matchLabels"]),
                    "sampleSize": integer("How many VMs one run restores; runs rotate so every VM is drilled "
                                          "over time (default 1).", minimum=1, maximum=20, default=1),
                },
                rules=[rule("has(self.names) != has(self.selector)",
                            "set exactly one of targets.names or targets.selector")],
            ),
            "target": restore_target("restored VMs (an isolated resource group and subnet)", vm_name=False),
            "recoveryPoint": obj("Which points runs restore.", {
                "consistency": string("Only points of this type.",
                                      enum=["AppConsistent", "FileSystemConsistent", "CrashConsistent"]),
                "requireThreatStatus": string(
                    "HealthyWhenScanned (default): once Microsoft Defender's source scan reports on the VM's "
                    "points, restore the newest Healthy one; Healthy: always require a Healthy point; Any: the "
                    "latest point whatever its threat status. A newer UnHealthy or Warning point passed over sets "
                    "Degraded=True (UnhealthyRecoveryPoint); every run records its point's threat status.",
                    enum=["HealthyWhenScanned", "Healthy", "Any"], default="HealthyWhenScanned"),
            }),
            "verificationDeadline": duration("How long a restored VM may take, after its restore job, to run "
                                             "with its agent Ready (default 30m)."),
            "rpoObjective": duration("The largest acceptable age of the restored point; a miss sets "
                                     "Degraded=True and posts a Warning Event."),
            "rtoObjective": duration("The largest acceptable restore job duration + time to boot; a miss sets "
                                     "Degraded=True and posts a Warning Event."),
            "cleanup": string("Delete what a run created: Always (default), OnSuccess (keep a failed run's VM to "
                              "investigate) or Never.", enum=["Always", "OnSuccess", "Never"], default="Always"),
            "historyLimit": integer("How many finished runs status.runs keeps (default 10).", minimum=1,
                                    maximum=50, default=10),
        },
        required=["vaultRef", "schedule", "targets", "target"],
    )
    status = common_status(
        {
            "nextRun": date_time("When the next run starts."),
            "lastRunTime": date_time("When the last finished run started."),
            "lastResult": string("Passed or Failed: the last finished run."),
            "lastRPO": string("The last finished run's achieved RPO."),
            "lastRTO": string("The last finished run's achieved RTO."),
            "runCount": integer("How many runs started so far."),
            "passedRuns": integer("How many runs passed so far."),
            "failedRuns": integer("How many runs failed so far."),
            "lastScheduled": date_time("The schedule time of the last run started (or skipped)."),
            "currentRun": drill_run_schema("The run in flight (at most one)."),
            "runs": array("The last finished runs (historyLimit), newest first.",
                          drill_run_schema("A finished run.")),
            "lastDrilled": string_map("When each ProtectedVM was last drilled (for the rotation)."),
        },
        "restore drill",
    )
    return crd(
        names.RESTORE_DRILL,
        "Scheduled restore drills with evidence: achieved RPO and RTO per run, objectives, clean-up.",
        spec, status,
        [
            printer("Schedule", ".spec.schedule", "Cron schedule."),
            printer("Last Run", ".status.lastRunTime", "When the last run started.", "date"),
            printer("Result", ".status.lastResult", "The last run's result."),
            printer("RPO", ".status.lastRPO", "The last run's achieved RPO."),
            printer("RTO", ".status.lastRTO", "The last run's achieved RTO."),
            printer("Next Run", ".status.nextRun", "When the next run starts."),
        ],
    )

