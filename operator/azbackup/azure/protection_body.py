"""ProtectedVM spec <-> protected item JSON (pure): names, request bodies, and what differs.

Names and bodies follow ConfigureProtection.json / StopProtection.json (api-version 2026-10-01) and
the CLI's enable/disable requests: container `IaasVMContainer;iaasvmcontainerv2;<rg>;<vm>`, item
`VM;iaasvmcontainerv2;<rg>;<vm>`, compared case-insensitively as the service does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azbackup.api.specs import DiskSelection, ProtectedVMSpec
from azbackup.toolkit import ids, times

FABRIC = "Azure"
VM_ITEM_TYPE = "Microsoft.Compute/virtualMachines"
# Azure reports the VM protected. IRPending: its first point is due. ProtectionError: protection is configured
# but the last backup failed (BackupHealthy says so); a new configure PUT does not clear it, a successful
# backup does, so it must neither be re-PUT every pass nor keep an OnDemandBackup waiting.
PROTECTED_STATES = frozenset({"protected", "irpending", "protectionerror"})
# VirtualMachineUpdate: only the flag; a PATCH leaves everything else of the VM as it is.
ENABLE_EXTENSION_OPERATIONS_BODY = {"properties": {"osProfile": {"allowExtensionOperations": True}}}
NEVER = "2001-01-01T00:00:00Z"  # what Azure reports as lastBackupTime before the first backup


@dataclass(frozen=True)
class VmRef:
    subscription_id: str
    resource_group: str
    name: str

    @classmethod
    def parse(cls, vm_id: str) -> VmRef:
        return cls(ids.segment(vm_id, "subscriptions").lower(), ids.resource_group(vm_id),
                   ids.segment(vm_id, "virtualMachines"))

    @property
    def container(self) -> str:
        return f"IaasVMContainer;iaasvmcontainerv2;{self.resource_group};{self.name}"

    @property
    def item(self) -> str:
        return f"VM;iaasvmcontainerv2;{self.resource_group};{self.name}"


def disk_exclusion(disks: DiskSelection) -> dict[str, Any] | None:
    if disks.os_disk_only:
        return {"diskLunList": [], "isInclusionList": True}
    if disks.include_luns is not None:
        return {"diskLunList": list(disks.include_luns), "isInclusionList": True}
    if disks.exclude_luns is not None:
        return {"diskLunList": list(disks.exclude_luns), "isInclusionList": False}
    return None


def protect_body(spec: ProtectedVMSpec, policy_id: str, *, rehydrate: bool = False,
                 had_selection: bool = False) -> dict[str, Any]:
    """Enable (or resume, or re-policy) protection; with rehydrate, undelete a soft-deleted item first."""
    props: dict[str, Any] = {"protectedItemType": VM_ITEM_TYPE, "sourceResourceId": spec.vm_id, "policyId": policy_id}
    exclusion = disk_exclusion(spec.disks)
    if exclusion is not None:
        props["extendedProperties"] = {"diskExclusionProperties": exclusion}
    elif had_selection:
        # "Exclude no disk" resets an earlier selection (the CLI's --disk-list-setting resetexclusionsettings).
        props["extendedProperties"] = {"diskExclusionProperties": {"diskLunList": [], "isInclusionList": False}}
    if spec.state == "BackupsSuspended":
        props["protectionState"] = "BackupsSuspended"
    if rehydrate:
        props["isRehydrate"] = True
        props["protectionState"] = "ProtectionStopped"
    return {"properties": props}


def stop_body(spec: ProtectedVMSpec, state: str = "ProtectionStopped") -> dict[str, Any]:
    """Stop protection and retain data: the spec's StopProtection.json plus the CLI's empty policyId.

    state BackupsSuspended retains the points as the policy says (immutable vaults only)."""
    return {"properties": {"protectedItemType": VM_ITEM_TYPE, "sourceResourceId": spec.vm_id,
                           "protectionState": state, "policyId": ""}}


def has_selection(item: Mapping[str, Any] | None) -> bool:
    return exclusion_of(item or {}) is not None


def exclusion_of(item: Mapping[str, Any]) -> tuple[tuple[int, ...], bool] | None:
    raw = ((item.get("properties") or {}).get("extendedProperties") or {}).get("diskExclusionProperties")
    if not raw or (not raw.get("diskLunList") and not raw.get("isInclusionList")):
        return None
    return tuple(sorted(raw.get("diskLunList") or ())), bool(raw.get("isInclusionList"))


@dataclass(frozen=True)
class ItemState:
    exists: bool
    soft_deleted: bool = False
    state: str = ""  # protectionState, lower-cased
    policy_name: str = ""

    @classmethod
    def of(cls, item: Mapping[str, Any] | None) -> ItemState:
        if not item:
            return cls(False)
        props = item.get("properties") or {}
        return cls(True, bool(props.get("isScheduledForDeferredDelete")),
                   str(props.get("protectionState", "")).lower(), str(props.get("policyName") or "").lower()
                   or ids.name(str(props.get("policyId") or "")).lower())


def parse_time(value: object) -> dt.datetime | None:
    # Azure writes 0001-01-01 (and 2001-01-01 in older answers) for "never".
    if not value or str(value).startswith("2001-01-01") or str(value).startswith("0001-01-01"):
        return None
    return times.parse(value)
