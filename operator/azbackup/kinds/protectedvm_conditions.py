"""ProtectedVM's own conditions and status: PrerequisitesMet, Protected, BackupHealthy (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from azbackup import checks
from azbackup.api import status as api_status
from azbackup.api.specs import ProtectedVMSpec
from azbackup.azure import protection_body as pb
from azbackup.kinds.references import PolicyRef
from azbackup.managed import ExtraCondition
from azbackup.reasons import Reason
from azbackup.toolkit import times


def remediable(results: list[checks.CheckResult], spec: ProtectedVMSpec) -> bool:
    """True when the only thing blocking protection is one the spec lets the operator fix on the VM."""
    failures = checks.blocking_failures(results)
    return (spec.allow_extension_operations and bool(failures) and not checks.blocking_unknowns(results)
            and all(r.reason is Reason.EXTENSION_OPERATIONS_DISABLED for r in failures))


def item_status(item: Mapping[str, Any] | None, vault_id: str) -> api_status.ProtectedVMStatus:
    props = (item or {}).get("properties") or {}
    last = pb.parse_time(props.get("lastBackupTime"))
    point = pb.parse_time(props.get("lastRecoveryPoint"))
    return {
        "vaultId": vault_id,
        "protectedItemId": (item or {}).get("id"),
        "policyName": props.get("policyName") or None,
        "protectionState": props.get("protectionState") or None,
        "healthStatus": props.get("healthStatus") or None,
        "lastBackupStatus": props.get("lastBackupStatus") or None,
        "lastBackupTime": times.rfc3339_optional(last),
        "lastRecoveryPoint": times.rfc3339_optional(point),
        "softDeleted": bool(props.get("isScheduledForDeferredDelete")) or None,
    }


def prerequisites_condition(results: list[checks.CheckResult]) -> ExtraCondition:
    failures = checks.blocking_failures(results)
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more failed checks)" if len(failures) > 1 else ""
        return ExtraCondition("PrerequisitesMet", "False", first.reason, f"{first.name}: {first.message}{more}")
    unknowns = checks.blocking_unknowns(results)
    if unknowns:
        return ExtraCondition("PrerequisitesMet", "Unknown", Reason.PREREQUISITES_UNKNOWN,
                              f"{unknowns[0].name}: {unknowns[0].message}")
    warnings = [r for r in results if r.result is checks.Result.WARNING]
    note = f"; warnings: {', '.join(r.name for r in warnings)}" if warnings else ""
    return ExtraCondition("PrerequisitesMet", "True", Reason.PREREQUISITES_MET, f"every blocking check passed{note}")


def protected_condition(item: Mapping[str, Any] | None, spec: ProtectedVMSpec) -> ExtraCondition:
    state = pb.ItemState.of(item)
    if not state.exists:
        return ExtraCondition("Protected", "False", Reason.PROTECTION_PENDING, "the vault holds no item for this VM")
    if state.soft_deleted:
        return ExtraCondition("Protected", "False", Reason.SOFT_DELETED, "the item is soft-deleted in Azure")
    if state.state in pb.PROTECTED_STATES:
        return ExtraCondition("Protected", "True", Reason.PROTECTED, f"protectionState {state.state}")
    if state.state == "protectionstopped":
        return ExtraCondition("Protected", "False", Reason.PROTECTION_STOPPED, "protection is stopped")
    if state.state == "backupssuspended":
        return ExtraCondition("Protected", "False", Reason.BACKUPS_SUSPENDED, "backups are suspended")
    return ExtraCondition("Protected", "False", Reason.PROTECTION_ERROR, f"protectionState {state.state}")


def backup_healthy(item: Mapping[str, Any] | None, policy: PolicyRef, now: dt.datetime) -> ExtraCondition:
    """The last backup against the schedule: Unknown until the first one, False when failed or overdue."""
    props = (item or {}).get("properties") or {}
    last = pb.parse_time(props.get("lastBackupTime"))
    status = str(props.get("lastBackupStatus") or "")
    if status.lower() in ("failed", "unhealthy"):
        return ExtraCondition("BackupHealthy", "False", Reason.LAST_BACKUP_FAILED, f"last backup status {status}")
    if last is None:
        return ExtraCondition("BackupHealthy", "Unknown", Reason.NO_BACKUP_YET,
                              "no backup has run yet; the first runs on the policy schedule or on demand")
    # Overdue after one and a half schedule periods plus an hour of slack for the backup window.
    allowed = dt.timedelta(hours=policy.interval_hours * 1.5 + 1)
    if now - last > allowed:
        return ExtraCondition("BackupHealthy", "False", Reason.BACKUP_OVERDUE,
                              f"last backup {last:%Y-%m-%dT%H:%MZ}, more than {allowed} ago for a "
                              f"{policy.frequency} policy")
    return ExtraCondition("BackupHealthy", "True", Reason.BACKUP_HEALTHY, f"last backup {last:%Y-%m-%dT%H:%MZ}")
