"""Azure's limits before the write: a vault at 1000 VMs, the 51st policy edit of a day, and drift that keeps
coming back. The emulator is seeded with the 1000 protected items through its inventory (no reconciles)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure_emulator.inventory import synthetic
from azure_emulator.server import EmulatorProcess

from tests.integration.harness import Arm, Cluster, OperatorProcess, eventually, policy, protected_vm, vault, vm_id

FULL = "rsv-full"


def full_vault() -> dict[str, Any]:
    """1002 healthy VMs; vault rg-backup/rsv-full protects the first 1000; the last two are tagged batch=late."""
    doc = synthetic(1002, vault=False)
    sub = doc["subscriptions"][0]
    for vm in sub["vms"][1000:]:
        vm["tags"] = {"batch": "late"}
    sub["vaults"] = [{"name": FULL, "resourceGroup": "rg-backup", "location": "westeurope",
                      "protectedItems": [f"{v['resourceGroup']}/{v['name']}" for v in sub["vms"][:1000]]}]
    return doc


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[EmulatorProcess]:
    emu = EmulatorProcess.start_thread(full_vault(), time_scale=0.02, state_dir=tmp_path / "emulator")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def seeded_operator(control_plane_instance: Any, seeded: EmulatorProcess, namespace: str,
                    tmp_path: Path) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(control_plane_instance, seeded, namespace, tmp_path).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_a_vault_at_1000_vms_sends_no_configure_protection(cluster: Cluster, seeded_operator: OperatorProcess,
                                                           seeded: EmulatorProcess) -> None:
    late = synthetic(1002, vault=False)["subscriptions"][0]["vms"][1001]
    cluster.apply(vault(FULL), protected_vm("late", FULL, vm_id(late["resourceGroup"], late["name"])),
                  {"apiVersion": "azbackup.dev/v1alpha1", "kind": "VMBackupSelector", "metadata": {"name": "late"},
                   "spec": {"vaultRef": {"name": FULL}, "matchTags": {"batch": "late"}}})
    obj = cluster.wait_for("protectedvm", "late", status="False", reason="VaultCapacityReached", timeout=120,
                           operator=seeded_operator)
    message = next(c["message"] for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert "already protects 1000 VMs" in message
    assert "another BackupVault" in message
    selector = cluster.wait_for("vmbackupselector", "late", status="True", type_="Stalled", reason="SomeBlocked",
                                timeout=120, operator=seeded_operator)
    # vm-01001 is matched by the selector too, but the ProtectedVM "late" already manages it (a duplicate).
    assert selector["status"]["matched"] == 2
    assert selector["status"]["notFitted"] == 1
    assert seeded.admin.count("ProtectedItems_CreateOrUpdate") == 0


def test_the_51st_policy_write_of_a_day_waits_even_across_a_restart(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    cluster.apply(vault("vault-a"), *(policy(f"p{n:02d}", "vault-a") for n in range(50)))
    for n in range(50):
        cluster.wait_for("backuppolicy", f"p{n:02d}", timeout=180, operator=operator)
    assert emulator.admin.count("ProtectionPolicies_CreateOrUpdate") == 50
    operator.kill()  # what the operator sent is in each policy's status, not in its memory
    operator.start()
    cluster.apply(policy("p50", "vault-a"))
    obj = cluster.wait_for("backuppolicy", "p50", status="False", reason="PolicyEditBudgetExhausted", timeout=120,
                           operator=operator)
    assert "sent 50 policy creates/edits" in next(c["message"] for c in obj["status"]["conditions"]
                                                     if c["type"] == "Ready")
    assert emulator.admin.count("ProtectionPolicies_CreateOrUpdate") == 50


def test_drift_that_keeps_returning_is_reported_not_rewritten(cluster: Cluster, operator: OperatorProcess,
                                                                emulator: Any) -> None:
    arm = Arm(emulator)
    try:
        cluster.apply(vault("vault-a"), policy("daily", "vault-a"))
        cluster.wait_for("backuppolicy", "daily", operator=operator)
        for edit in range(4):  # someone keeps changing the retention in the portal
            found = arm.backup.protection_policies.get("vault-a", "rg-backup", "daily")
            found.properties.retention_policy.daily_schedule.retention_duration.count = 7 + edit
            arm.backup.protection_policies.create_or_update("vault-a", "rg-backup", "daily", found)
            if edit < 3:  # corrected back to the spec's 30 days
                eventually(lambda: _count(arm) == 30, timeout=60, what=f"correction {edit + 1}")
        obj = cluster.wait_for("backuppolicy", "daily", status="False", reason="DriftKeepsReturning", timeout=60,
                               operator=operator)
        assert _count(arm) == 10, "the fourth change is left in place"
        assert len(obj["status"]["policyWrites"]) == 4  # the create and three corrections
    finally:
        arm.close()


def _count(arm: Arm) -> int:
    found = arm.backup.protection_policies.get("vault-a", "rg-backup", "daily")
    return int(found.properties.retention_policy.daily_schedule.retention_duration.count)
