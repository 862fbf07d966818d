"""Whether a protected item matches its ProtectedVM's spec (pure): the drift the kind corrects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azbackup.api.specs import ProtectedVMSpec
from azbackup.azure.protection_body import PROTECTED_STATES, ItemState, disk_exclusion, exclusion_of


def differences(spec: ProtectedVMSpec, policy_name: str, item: Mapping[str, Any]) -> tuple[str, ...]:
    """What the protected item lacks against the spec (state, policy, disks); empty when converged."""
    have = ItemState.of(item)
    out: list[str] = []
    if have.soft_deleted:
        if spec.state != "ProtectionStopped":
            out.append("the item is soft-deleted in Azure; re-protecting it (isRehydrate)")
        return tuple(out)
    want_state = spec.state.lower()
    if want_state == "protected":
        if have.state not in PROTECTED_STATES:
            out.append(f"protectionState: Azure {have.state or 'none'}, spec Protected")
    elif have.state != want_state:
        out.append(f"protectionState: Azure {have.state or 'none'}, spec {spec.state}")
    if want_state != "protectionstopped" and have.policy_name and have.policy_name != policy_name.lower():
        out.append(f"policy: Azure {have.policy_name}, spec {policy_name}")
    want_disks = disk_exclusion(spec.disks)
    want = (tuple(sorted(want_disks["diskLunList"])), bool(want_disks["isInclusionList"])) if want_disks else None
    if want_state != "protectionstopped" and exclusion_of(item) != want:
        out.append(f"disk selection: Azure {exclusion_of(item)}, spec {want}")
    return tuple(out)
