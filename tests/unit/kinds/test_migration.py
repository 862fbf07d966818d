"""The policy-type move of a protected VM (kinds/migration.py): one row per behaviour."""

from __future__ import annotations

import pytest
from azbackup.checks.facts import PolicyType, VMFacts
from azbackup.kinds import migration
from azbackup.kinds.migration import Move
from azbackup.reasons import Reason

from tests.unit.checks.builders import data_disks, disk, vm

STD, ENH = PolicyType.STANDARD, PolicyType.ENHANCED


@pytest.mark.parametrize(("current", "target", "want"), [
    pytest.param(STD, ENH, Move.MIGRATION, id="standard-to-enhanced-is-a-migration"),
    pytest.param(ENH, STD, Move.BACK_TO_STANDARD, id="enhanced-to-standard-is-the-way-back"),
    pytest.param(STD, STD, Move.SAME_TYPE, id="standard-to-standard-is-ordinary"),
    pytest.param(ENH, ENH, Move.SAME_TYPE, id="enhanced-to-enhanced-is-ordinary"),
    pytest.param(None, ENH, Move.SAME_TYPE, id="unknown-current-type-left-to-azure"),
    pytest.param(STD, None, Move.SAME_TYPE, id="unknown-target-type-left-to-azure"),
])
def test_move_of(current: PolicyType | None, target: PolicyType | None, want: Move) -> None:
    assert migration.move_of(current, target) is want


@pytest.mark.parametrize(("raw", "want"), [
    pytest.param("V1", STD, id="V1-is-standard"), pytest.param("v2", ENH, id="v2-is-enhanced"),
    pytest.param(None, None, id="absent-is-unknown"), pytest.param("V3", None, id="other-is-unknown"),
])
def test_item_policy_type(raw: object, want: PolicyType | None) -> None:
    assert migration.item_policy_type(raw) is want


@pytest.mark.parametrize(("current", "target", "facts", "running", "want"), [
    pytest.param(STD, ENH, vm(), False, None, id="managed-unshared-idle-vm-migrates"),
    pytest.param(STD, ENH, vm(security_type="TrustedLaunch"), False, None, id="trusted-launch-vm-migrates"),
    pytest.param(ENH, STD, vm(), False, Reason.ENHANCED_TO_STANDARD_NOT_SUPPORTED,
                 id="enhanced-to-standard-refused"),
    pytest.param(STD, ENH, vm(os_disk=disk(managed=False, storage_account="sa")), False,
                 Reason.MIGRATION_NEEDS_MANAGED_DISKS, id="unmanaged-os-disk-refused"),
    pytest.param(STD, ENH, vm(data_disks=data_disks(1, max_shares=2)), False,
                 Reason.MIGRATION_SHARED_DISK_ATTACHED, id="shared-data-disk-refused"),
    pytest.param(STD, ENH, vm(), True, Reason.MIGRATION_WAITS_FOR_BACKUP, id="running-backup-waits"),
    pytest.param(STD, ENH, vm(data_disks=None), False, Reason.MIGRATION_FACTS_UNKNOWN,
                 id="unknown-disks-wait"),
    pytest.param(STD, ENH, vm(data_disks=data_disks(1, max_shares=None)), False, Reason.MIGRATION_FACTS_UNKNOWN,
                 id="unknown-sharing-waits"),
    pytest.param(STD, STD, vm(os_disk=disk(managed=False)), True, None,
                 id="ordinary-change-needs-no-migration-check"),
])
def test_decide(current: PolicyType, target: PolicyType, facts: VMFacts, running: bool,
                want: Reason | None) -> None:
    got = migration.decide(current, target, facts, backup_running=running, policy="enhanced-daily")
    assert (got.refusal.reason if got.refusal else None) == want
    assert got.migrates is (want is None and migration.move_of(current, target) is Move.MIGRATION)


@pytest.mark.parametrize(("reason", "stalls"), [
    pytest.param(Reason.ENHANCED_TO_STANDARD_NOT_SUPPORTED, True, id="way-back-needs-a-human"),
    pytest.param(Reason.MIGRATION_WAITS_FOR_BACKUP, False, id="running-backup-is-waited-for"),
])
def test_refusals_stall_only_when_a_human_must_act(reason: Reason, stalls: bool) -> None:
    current, target, running = (ENH, STD, False) if reason is Reason.ENHANCED_TO_STANDARD_NOT_SUPPORTED else (
        STD, ENH, True)
    got = migration.decide(current, target, vm(), backup_running=running, policy="p")
    assert got.refusal is not None
    assert (got.refusal.reason, got.refusal.stalls) == (reason, stalls)


@pytest.mark.parametrize(("declared", "name", "want"), [
    pytest.param({}, "defaultpolicy", STD, id="built-in-DefaultPolicy-is-standard"),
    pytest.param({}, "enhancedpolicy", ENH, id="built-in-EnhancedPolicy-is-enhanced"),
    pytest.param({"Gold-4h": "Enhanced"}, "gold-4h", ENH, id="declared-policy-by-lower-cased-name"),
    pytest.param({"odd": "Premium"}, "odd", None, id="unknown-type-left-out"),
])
def test_policy_types(declared: dict[str, object], name: str, want: PolicyType | None) -> None:
    assert migration.policy_types(declared).get(name) is want
