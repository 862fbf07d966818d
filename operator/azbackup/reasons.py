"""Every condition and check reason the operator reports: stable CamelCase facts.

The README's reason table is generated from this module (``azbackup reasons --markdown``) and a unit
test fails when the two disagree. Renaming a member is an API change: Argo CD, Flux and users' alerts
match on these strings.

This module sits below every layer (checks, azure and reconcile all name reasons), so it imports nothing.
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    """A stable reason; the docstring of each member is its one-line meaning."""

    # --- Summary (Ready / Reconciling / Stalled) ---
    AVAILABLE = "Available"
    """Converged: Azure matches the spec and reports the resource usable."""
    CREATING = "Creating"
    """The Azure resource is being created."""
    UPDATING = "Updating"
    """Azure differs from the spec and is being updated."""
    PROVISIONING = "Provisioning"
    """Azure accepted the resource and is still provisioning it."""
    DELETING = "Deleting"
    """The object is being deleted and Azure clean-up is in progress."""
    WAITING_FOR_OPERATION = "WaitingForOperation"
    """A long-running Azure operation is in progress; the operator polls its saved URL."""
    RECONCILE_PAUSED = "ReconcilePaused"
    """The annotation azbackup.dev/reconcile-policy is `skip`: nothing is read or written."""
    DRIFT_DETECTED = "DriftDetected"
    """reconcile-policy `observe`: Azure differs from the spec; the difference is reported, not fixed."""
    NOT_FOUND_IN_AZURE = "NotFoundInAzure"
    """reconcile-policy `observe`: the Azure resource does not exist and will not be created."""
    CREATE_OUTCOME_UNKNOWN = "CreateOutcomeUnknown"
    """A create was sent but its outcome is unknown; the operator looks for what it started before sending another."""

    # --- Azure access and transport ---
    AUTHENTICATION_FAILED = "AuthenticationFailed"
    """Azure rejected the credential (wrong secret, expired certificate, bad federated token)."""
    AUTHORIZATION_FAILED = "AuthorizationFailed"
    """The identity lacks an Azure RBAC role for this operation."""
    AWAITING_MUA_APPROVAL = "AwaitingMUAApproval"
    """A critical operation waits for Multi-User Authorization: the vault's Resource Guard has not approved it yet."""
    SECRET_NOT_FOUND = "SecretNotFound"
    """The credentialRef Secret does not exist in the object's namespace."""
    SECRET_INVALID = "SecretInvalid"
    """The credentialRef Secret lacks the keys a credential needs."""
    THROTTLED = "Throttled"
    """Azure Resource Manager throttled the request (HTTP 429); retried after Retry-After."""
    AZURE_UNAVAILABLE = "AzureUnavailable"
    """Azure answered 5xx or the connection failed; retried with backoff."""
    AZURE_ERROR = "AzureError"
    """Azure refused the request with an error that has no more specific reason; see the message."""
    SUBSCRIPTION_NOT_REGISTERED = "SubscriptionNotRegistered"
    """The subscription is not registered for the Microsoft.RecoveryServices resource provider."""
    RESOURCE_GROUP_NOT_FOUND = "ResourceGroupNotFound"
    """The resource group named in the spec does not exist."""
    INVALID_SPEC = "InvalidSpec"
    """Azure rejected a value in the spec; fix the spec."""

    # --- References and ownership ---
    VAULT_NOT_FOUND = "VaultNotFound"
    """vaultRef names no BackupVault in this namespace."""
    VAULT_NOT_READY = "VaultNotReady"
    """The referenced BackupVault is not Ready yet; waiting."""
    POLICY_NOT_FOUND = "PolicyNotFound"
    """policyRef names no BackupPolicy in this namespace."""
    POLICY_NOT_READY = "PolicyNotReady"
    """The referenced BackupPolicy is not Ready yet; waiting."""
    POLICY_VAULT_MISMATCH = "PolicyVaultMismatch"
    """The referenced BackupPolicy belongs to a different vault than vaultRef."""
    OWNED_BY_ANOTHER_OBJECT = "OwnedByAnotherObject"
    """The Azure resource is tagged as owned by another Kubernetes object; it is left alone."""

    # --- BackupVault ---
    VAULT_NAME_UNAVAILABLE = "VaultNameUnavailable"
    """Azure refused the vault name (taken, or recently deleted)."""
    LOCATION_NOT_SUPPORTED = "LocationNotSupported"
    """Azure does not offer Recovery Services vaults in this location."""
    STORAGE_REDUNDANCY_LOCKED = "StorageRedundancyLocked"
    """Storage redundancy cannot change once an item is protected in the vault."""
    CROSS_REGION_RESTORE_IRREVERSIBLE = "CrossRegionRestoreIrreversible"
    """Cross-region restore cannot be turned off once on; a new vault is needed."""
    CROSS_REGION_RESTORE_NEEDS_GEO_REDUNDANCY = "CrossRegionRestoreNeedsGeoRedundancy"
    """Cross-region restore is only available with GeoRedundant storage."""
    IMMUTABILITY_LOCKED = "ImmutabilityLocked"
    """Immutability is Locked, which is irreversible."""
    SOFT_DELETE_ALWAYS_ON = "SoftDeleteAlwaysOn"
    """Soft delete is AlwaysON, which is irreversible."""
    ENCRYPTION_IRREVERSIBLE = "EncryptionIrreversible"
    """Customer-managed-key encryption cannot be turned off once on."""
    DELETE_BLOCKED = "DeleteBlocked"
    """Azure refuses to delete the vault (items or soft-deleted items remain); retried with backoff."""
    CROSS_SUBSCRIPTION_RESTORE_PERMANENTLY_DISABLED = "CrossSubscriptionRestorePermanentlyDisabled"
    """Cross-subscription restore is PermanentlyDisabled in Azure, which is irreversible."""
    SECURITY_LEVEL_BELOW_MINIMUM = "SecurityLevelBelowMinimum"
    """Azure rates the vault's security (bcdrSecurityLevel) lower than spec.security.minimumLevel."""
    SECURITY_LEVEL_MET = "SecurityLevelMet"
    """Azure rates the vault's security at or above spec.security.minimumLevel."""
    SECURITY_LEVEL_UNKNOWN = "SecurityLevelUnknown"
    """Azure reports no bcdrSecurityLevel for the vault."""
    WAITING_FOR_PROTECTED_ITEMS = "WaitingForProtectedItems"
    """Vault deletion waits: items in the vault are still protected or hold retained data."""
    WAITING_FOR_SOFT_DELETED_DATA = "WaitingForSoftDeletedData"
    """Vault deletion waits: soft-deleted backup data stays in the vault until its purge date."""
    WAITING_FOR_PRIVATE_ENDPOINTS = "WaitingForPrivateEndpoints"
    """Vault deletion waits: private endpoints of the vault must be removed first."""
    WAITING_FOR_RESOURCE_GUARD_PROXY = "WaitingForResourceGuardProxy"
    """Vault deletion waits: the vault's Resource Guard proxy must be removed first."""

    # --- BackupPolicy ---
    POLICY_TYPE_CHANGE_REQUIRES_MIGRATION = "PolicyTypeChangeRequiresMigration"
    """Standard to Enhanced is a migration Azure performs per item, never a silent update."""
    POLICY_IN_USE = "PolicyInUse"
    """The policy still protects items and cannot be deleted."""
    RETENTION_CUT_ON_IMMUTABLE_VAULT = "RetentionCutOnImmutableVault"
    """The spec shortens a retention in an immutable vault, which Azure refuses; nothing was sent."""

    # --- ProtectedVM: summary conditions ---
    PREREQUISITES_MET = "PrerequisitesMet"
    """Every blocking prerequisite check passed."""
    PREREQUISITES_UNKNOWN = "PrerequisitesUnknown"
    """A fact needed by a blocking check could not be read yet."""
    VM_NOT_FOUND = "VMNotFound"
    """The VM named in spec.vm does not exist."""
    SUBSCRIPTION_MISMATCH = "SubscriptionMismatch"
    """The VM is in another subscription than the vault; Azure VM Backup needs both in one subscription."""
    VM_NOT_DISCOVERABLE = "VMNotDiscoverable"
    """Azure Backup's discovery does not list the VM for this vault yet; retried after the next discovery."""
    DUPLICATE_PROTECTED_VM = "DuplicateProtectedVM"
    """Another ProtectedVM object already manages this VM; this one writes nothing."""
    PROTECTION_PENDING = "ProtectionPending"
    """Protection was requested; Azure has not yet reported the item protected."""
    PROTECTED = "Protected"
    """Azure reports the VM protected."""
    PROTECTION_ERROR = "ProtectionError"
    """Azure reports the protected item in error; see the message."""
    PROTECTION_STOPPED = "ProtectionStopped"
    """Protection is stopped as the spec asks; existing recovery points are retained."""
    BACKUPS_SUSPENDED = "BackupsSuspended"
    """Backups are suspended as the spec asks; recovery points are retained per policy."""
    SUSPEND_NEEDS_IMMUTABLE_VAULT = "SuspendNeedsImmutableVault"
    """state BackupsSuspended needs a vault with immutability Unlocked or Locked."""
    CONFIGURE_PROTECTION_FAILED = "ConfigureProtectionFailed"
    """Azure's configure-protection operation failed; the message carries Azure's error code."""
    REMEDIATION_FAILED = "RemediationFailed"
    """Azure refused the opt-in VM fix (osProfile.allowExtensionOperations); the message carries its code."""
    SOFT_DELETED = "SoftDeleted"
    """The item is soft-deleted in Azure; it is re-protected (rehydrated) when the spec asks for protection."""
    KEPT_SOFT_DELETED = "KeptSoftDeleted"
    """Deleted: Azure keeps the item's backup data soft-deleted until its purge date (undelete possible)."""
    KEPT_BY_IMMUTABILITY = "KeptByImmutability"
    """Deleted in an immutable vault: backups are suspended and Azure keeps the points until they expire."""
    KEPT_PROTECTION_STOPPED = "KeptProtectionStopped"
    """Deleted with RetainData: protection is stopped and Azure keeps the points until their data is deleted."""
    BACKUP_HEALTHY = "BackupHealthy"
    """The last backup succeeded within the policy's schedule."""
    NO_BACKUP_YET = "NoBackupYet"
    """No backup has run yet; the first runs on the policy schedule or on demand."""
    LAST_BACKUP_FAILED = "LastBackupFailed"
    """The most recent backup job failed."""
    BACKUP_OVERDUE = "BackupOverdue"
    """No successful backup within the policy's schedule window."""

    MIGRATING_TO_ENHANCED_POLICY = "MigratingToEnhancedPolicy"
    """The item moves from a Standard to an Enhanced policy (Azure's migration job); recovery points are kept."""
    ENHANCED_TO_STANDARD_NOT_SUPPORTED = "EnhancedToStandardNotSupported"
    """Azure cannot move an item from an Enhanced policy back to a Standard one; nothing is written."""
    MIGRATION_NEEDS_MANAGED_DISKS = "MigrationNeedsManagedDisks"
    """Azure migrates only VMs with managed disks to the Enhanced policy; nothing is written."""
    MIGRATION_SHARED_DISK_ATTACHED = "MigrationSharedDiskAttached"
    """A shared disk must be detached for the migration to the Enhanced policy and attached again after it."""
    MIGRATION_WAITS_FOR_BACKUP = "MigrationWaitsForBackup"
    """A backup job of the VM is running; the migration to the Enhanced policy starts after it."""
    MIGRATION_FACTS_UNKNOWN = "MigrationFactsUnknown"
    """Whether the VM can migrate to the Enhanced policy (its disks) is not known yet; nothing is written."""

    VAULT_CAPACITY_REACHED = "VaultCapacityReached"
    """The vault already protects 1000 VMs, Azure's limit; no configure-protection is sent."""
    POLICY_CAPACITY_REACHED = "PolicyCapacityReached"
    """The policy already has 1000 VMs, Azure's limit; no configure-protection is sent."""

    # --- ProtectedVM prerequisite checks ---
    CHECK_PASSED = "CheckPassed"
    """The prerequisite holds."""
    REGION_MISMATCH = "RegionMismatch"
    """The VM and the vault are in different regions; cross-region backup is unsupported."""
    ALREADY_PROTECTED_BY_OTHER_VAULT = "AlreadyProtectedByOtherVault"
    """Another Recovery Services vault already protects this VM."""
    VM_AGENT_NOT_INSTALLED = "VMAgentNotInstalled"
    """The VM was created without the VM agent (provisionVMAgent false) and reports none."""
    VM_AGENT_NOT_READY = "VMAgentNotReady"
    """The VM agent does not report Ready."""
    VM_AGENT_NOT_REPORTING = "VMAgentNotReporting"
    """The VM is not running, so its agent cannot report; it is checked once the VM runs (warning)."""
    VM_AGENT_TOO_OLD = "VMAgentTooOld"
    """The VM agent is older than the guide's minimum (Windows 2.6.1198.718) or Azure's Linux minimum (2.2.53.1)."""
    VM_STOPPED = "VMStopped"
    """The VM is not running; backups will be crash-consistent only (warning)."""
    NO_NETWORK_PATH = "NoNetworkPath"
    """Effective NSG rules deny outbound HTTPS to Azure Storage and no HTTP proxy is declared."""
    UNSUPPORTED_OS = "UnsupportedOS"
    """The operating system is not supported by Azure VM Backup."""
    TOO_MANY_DATA_DISKS = "TooManyDataDisks"
    """More than 32 data disks are attached."""
    WRITE_ACCELERATOR_ENABLED = "WriteAcceleratorEnabled"
    """A disk has Write Accelerator enabled; supported since 2022 only with outbound internet access."""
    DISK_ENCRYPTION_UNSUPPORTED = "DiskEncryptionUnsupported"
    """The VM's disk encryption is one Azure Backup cannot back up."""
    STORAGE_ACCOUNT_FIREWALL = "StorageAccountFirewall"
    """An unmanaged disk's storage account firewall does not allow trusted Microsoft services."""
    SHARED_DISK = "SharedDisk"
    """A shared disk is attached; backups have no multi-VM consistency (warning)."""
    RESTORE_NETWORK_CONFIG = "RestoreNetworkConfig"
    """A portal restore would drop part of the network configuration (warning)."""
    FACT_UNAVAILABLE = "FactUnavailable"
    """A fact the check needs could not be read; the check result is Unknown."""
    EXTENSION_OPERATIONS_DISABLED = "ExtensionOperationsDisabled"
    """osProfile.allowExtensionOperations is false, so Azure Backup cannot install its snapshot extension."""
    VM_AGENT_OUTDATED = "VMAgentOutdated"
    """The VM agent is older than Azure's minimum supported version for extensions (warning)."""
    OS_SUPPORT_UNCERTAIN = "OSSupportUncertain"
    """Azure's support matrix does not settle whether this OS can be backed up with the VM agent (warning)."""
    UNMANAGED_DISKS_DEPRECATED = "UnmanagedDisksDeprecated"
    """No longer reported (UnmanagedDisksRetired replaced it); kept because a reason is API."""
    UNMANAGED_DISKS_RETIRED = "UnmanagedDisksRetired"
    """The VM has unmanaged disks, which Azure retired: it stays deallocated until converted (warning)."""
    STORAGE_ACCOUNT_NOT_OPEN = "StorageAccountNotOpenToAllNetworks"
    """An unmanaged disk's storage account admits only trusted Microsoft services, not all networks (warning)."""
    DISK_NEEDS_ENHANCED_POLICY = "DiskNeedsEnhancedPolicy"
    """Since the guide: an Ultra Disk or Premium SSD v2 data disk is backed up by the Enhanced policy only."""
    EPHEMERAL_OS_DISK = "EphemeralOSDisk"
    """Since the guide: the VM has an ephemeral OS disk, which Azure Backup cannot back up."""
    DISK_DATA_ACCESS_AUTH = "DiskDataAccessAuth"
    """Since the guide: a disk has data-access authentication (Entra ID), with which backups fail."""
    CONFIDENTIAL_VM_NEEDS_ENHANCED_POLICY = "ConfidentialVMNeedsEnhancedPolicy"
    """Since the guide: a Confidential VM is backed up by the Enhanced policy only."""

    # --- BackupPolicy writes ---
    POLICY_EDIT_BUDGET_EXHAUSTED = "PolicyEditBudgetExhausted"
    """The vault's 50 policy creates/edits in 24 hours are spent; the write waits until the budget frees up."""
    DRIFT_KEEPS_RETURNING = "DriftKeepsReturning"
    """The policy was changed in Azure and corrected repeatedly; the operator stops rewriting and reports."""

    # --- OnDemandBackup ---
    TARGET_NOT_PROTECTED = "TargetNotProtected"
    """The target ProtectedVM is not protected yet; the backup waits."""
    TARGET_NOT_FOUND = "TargetNotFound"
    """protectedVMRef names no ProtectedVM in this namespace."""
    BACKUP_TRIGGERED = "BackupTriggered"
    """The backup was triggered; following the Azure job."""
    BACKUP_SUCCEEDED = "BackupSucceeded"
    """The Azure backup job completed and created a recovery point."""
    BACKUP_FAILED = "BackupFailed"
    """The Azure backup job failed; the message carries Azure's error code."""
    TRIGGER_OUTCOME_UNKNOWN = "TriggerOutcomeUnknown"
    """A trigger's answer was lost; the operator looks for its job, and triggers again only if Azure shows none."""

    # --- VMRestore ---
    RESTORE_TARGET_EXISTS = "RestoreTargetExists"
    """A VM of the target name already exists in the target resource group; a restore never replaces a VM."""
    RECOVERY_POINT_NOT_FOUND = "RecoveryPointNotFound"
    """No recovery point matches the spec (name, time, consistency) in a tier that can be restored."""
    RECOVERY_POINT_ARCHIVED = "RecoveryPointArchived"
    """The chosen point is only in the archive tier and the spec does not allow rehydration."""
    NO_HEALTHY_RECOVERY_POINT = "NoHealthyRecoveryPoint"
    """recoveryPoint.requireThreatStatus asks for a Healthy point and Azure's threat scan reports none that matches."""
    SUBNET_REGION_MISMATCH = "SubnetRegionMismatch"
    """The target VNet or subnet is missing or is not in the source VM's region."""
    STAGING_ACCOUNT_REGION_MISMATCH = "StagingAccountRegionMismatch"
    """The staging storage account is missing or is not in the vault's region."""
    RESTORE_TRIGGERED = "RestoreTriggered"
    """The restore was triggered; following the Azure Restore job."""
    RESTORE_SUCCEEDED = "RestoreSucceeded"
    """The Azure Restore job completed and created what the spec asked for."""
    RESTORE_FAILED = "RestoreFailed"
    """The Azure Restore job failed (or restored disks but not the VM); the message carries Azure's code."""

    # --- RestoreDrill ---
    DRILL_SCHEDULED = "DrillScheduled"
    """No drill run is in flight; the next one starts at status.nextRun."""
    DRILL_RUNNING = "DrillRunning"
    """A drill run is restoring, verifying or cleaning up."""
    DRILL_PASSED = "DrillPassed"
    """The last drill run restored every target, which booted with its agent Ready in time."""
    DRILL_FAILED = "DrillFailed"
    """The last drill run failed to restore or verify a target; the run's evidence says why."""
    OBJECTIVE_MISSED = "ObjectiveMissed"
    """The last run's achieved RPO or RTO exceeded rpoObjective or rtoObjective (condition Degraded)."""
    OBJECTIVES_MET = "ObjectivesMet"
    """The last run met its rpoObjective and rtoObjective."""
    UNHEALTHY_RECOVERY_POINT = "UnhealthyRecoveryPoint"
    """The last run passed over a newer point that Azure's threat scan reports UnHealthy or Warning (Degraded)."""
    INVALID_SCHEDULE = "InvalidSchedule"
    """The cron schedule or the time zone cannot be parsed."""
    NO_DRILL_TARGETS = "NoDrillTargets"
    """No ProtectedVM matches the drill's targets."""

    # --- VMBackupSelector ---
    SELECTING = "Selecting"
    """The selector is matching VMs and creating ProtectedVM children."""
    ALL_PROTECTED = "AllProtected"
    """Every matched VM is protected."""
    SOME_BLOCKED = "SomeBlocked"
    """Some matched VMs cannot be protected; status.blocked says why."""

    @property
    def doc(self) -> str:
        return _DOCS[self][1]

    @property
    def section(self) -> str:
        return _DOCS[self][0]


def _member_docs() -> dict[Reason, tuple[str, str]]:
    """Read each member's section comment and docstring from this file, the table's one source."""
    import pathlib
    import re

    docs: dict[Reason, tuple[str, str]] = {}
    section, member = "", None
    for line in pathlib.Path(__file__).read_text().splitlines():
        if m := re.match(r"\s+# --- (.+) ---$", line):
            section = m.group(1)
        elif m := re.match(r"\s+([A-Z][A-Z0-9_]+) = \"", line):
            member = Reason[m.group(1)]
        elif member is not None and (m := re.match(r'\s+"""(.+)"""$', line)):
            docs[member] = (section, m.group(1))
            member = None
    missing = [r.name for r in Reason if r not in docs]
    if missing:
        raise RuntimeError(f"reasons without a one-line docstring: {missing}")
    return docs


_DOCS = _member_docs()


def markdown_table() -> str:
    """The README's reason table: one row per reason, grouped by what reports it."""
    lines = ["| Reason | Meaning |", "|---|---|"]
    section = None
    for reason in Reason:
        if reason.section != section:
            section = reason.section
            lines.append(f"| **{section}** | |")
        lines.append(f"| `{reason.value}` | {reason.doc} |")
    return "\n".join(lines)
