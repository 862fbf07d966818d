"""Standard to Enhanced, end to end: a ProtectedVM whose policyRef moves to an Enhanced BackupPolicy is
migrated as Azure migrates it (its recovery points kept); what Azure does not allow is refused before any
write."""

from __future__ import annotations

from typing import Any

from tests.integration.harness import (
    Arm,
    Cluster,
    OperatorProcess,
    container,
    eventually,
    item,
    policy,
    protected_vm,
    vault,
    vm_id,
)

WRITES = ("ProtectedItems_CreateOrUpdate", "ProtectedItems_Delete", "ProtectionPolicies_CreateOrUpdate",
          "Backups_Trigger", "VirtualMachines_Update")


def standard_and_enhanced() -> list[dict[str, Any]]:
    return [vault("vault-a"), policy("standard-daily", "vault-a", policyType="Standard"),
            policy("enhanced-daily", "vault-a", policyType="Enhanced")]


def recovery_points(arm: Arm, vm_rg: str, vm: str) -> set[str]:
    return {str(p.name) for p in arm.backup.recovery_points.list("vault-a", "rg-backup", "Azure",
                                                                 container(vm_rg, vm), item(vm_rg, vm))}


def item_policy(arm: Arm, vm_rg: str, vm: str) -> tuple[str, str]:
    props = (arm.item("rg-backup", "vault-a", vm_rg, vm) or {}).get("properties") or {}
    return str(props.get("policyName")), str(props.get("policyType"))


def writes(emulator: Any) -> dict[str, int]:
    return {name: n for name in WRITES if (n := emulator.admin.count(name))}


def test_standard_to_enhanced_migrates_and_keeps_the_recovery_points(
        cluster: Cluster, operator: OperatorProcess, arm: Arm, emulator: Any) -> None:
    cluster.apply(*standard_and_enhanced(),
                  protected_vm("db", "vault-a", vm_id("rg-data", "vm-db-01"), policyRef={"name": "standard-daily"}))
    obj = cluster.wait_for("protectedvm", "db", reason="Protected", timeout=90, operator=operator)
    for name in ("standard-daily", "enhanced-daily"):
        cluster.wait_for("backuppolicy", name, operator=operator)
    # Backed up once under the Standard policy: two recovery points, as the portal would list them.
    vault_id = obj["status"]["vaultId"]
    for age in (2, 1):
        emulator.admin.add_recovery_point(vault_id, vm_id("rg-data", "vm-db-01"), ageDays=age)
    before = recovery_points(arm, "rg-data", "vm-db-01")
    assert len(before) == 2
    # Long enough to see the migration job in status at the tests' time scale.
    emulator.admin.set_settings(durations={"modifyProtection": 400})
    emulator.admin.reset_counters()

    cluster.patch("protectedvm", "db", {"spec": {"policyRef": {"name": "enhanced-daily"}}})
    migrating = cluster.wait_for("protectedvm", "db", status="False", reason="MigratingToEnhancedPolicy",
                                 timeout=60, operator=operator)
    assert migrating["status"]["operation"]["kind"] == "MigrateToEnhancedPolicy"
    # From the same read as Ready: a second GET may already see the migration done (8 s at this time scale).
    [reconciling] = [c for c in migrating["status"]["conditions"] if c["type"] == "Reconciling"]
    assert (reconciling["status"], reconciling["reason"]) == ("True", "MigratingToEnhancedPolicy")
    done = cluster.wait_for("protectedvm", "db", reason="Protected", timeout=90, operator=operator)

    assert done["status"]["policyName"] == "enhanced-daily"
    assert item_policy(arm, "rg-data", "vm-db-01") == ("enhanced-daily", "V2")
    assert before <= recovery_points(arm, "rg-data", "vm-db-01")
    # Exactly one write: the item PUT with the Enhanced policy's id (Azure runs the migration job).
    assert writes(emulator) == {"ProtectedItems_CreateOrUpdate": 1}
    assert "MigratingToEnhancedPolicy" in [e["reason"] for e in cluster.events("db")]
    # The migration's own backup job adds a point; none of the earlier ones goes.
    eventually(lambda: before < recovery_points(arm, "rg-data", "vm-db-01"), timeout=60,
               what="the migration's backup job added a recovery point")


def test_what_azure_does_not_allow_is_refused_before_any_write(
        cluster: Cluster, operator: OperatorProcess, arm: Arm, emulator: Any) -> None:
    cluster.apply(*standard_and_enhanced(),
                  protected_vm("cluster", "vault-a", vm_id("rg-data", "vm-cluster-1"),
                               policyRef={"name": "standard-daily"}),
                  protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01"), policyRef={"name": "enhanced-daily"}))
    for name in ("cluster", "web"):
        cluster.wait_for("protectedvm", name, reason="Protected", timeout=90, operator=operator)
    emulator.admin.reset_counters()

    # A shared disk must be detached before the migration (Azure's migration article).
    cluster.patch("protectedvm", "cluster", {"spec": {"policyRef": {"name": "enhanced-daily"}}})
    # Enhanced never goes back to Standard.
    cluster.patch("protectedvm", "web", {"spec": {"policyRef": {"name": "standard-daily"}}})
    shared = cluster.wait_for("protectedvm", "cluster", status="False", reason="MigrationSharedDiskAttached",
                              timeout=60, operator=operator)
    back = cluster.wait_for("protectedvm", "web", status="False", reason="EnhancedToStandardNotSupported",
                            timeout=60, operator=operator)
    for obj in (shared, back):
        stalled = next(c for c in obj["status"]["conditions"] if c["type"] == "Stalled")
        assert stalled["status"] == "True"
    assert "disk-cluster-shared" in next(c["message"] for c in shared["status"]["conditions"] if c["type"] == "Ready")

    assert writes(emulator) == {}
    assert item_policy(arm, "rg-data", "vm-cluster-1") == ("standard-daily", "V1")
    assert item_policy(arm, "rg-web", "vm-web-01") == ("enhanced-daily", "V2")
    assert "EnhancedToStandardNotSupported" in [e["reason"] for e in cluster.events("web")]
