"""VMBackupSelector auto-protection and OnDemandBackup, against the emulator's sample fleet."""

from __future__ import annotations

from typing import Any

from tests.integration.harness import (
    SUB,
    Arm,
    Cluster,
    OperatorProcess,
    eventually,
    on_demand,
    policy,
    protected_names,
    protected_vm,
    selected,
    selector,
    vault,
    vm_id,
)

# backup=daily and env=prod in the sample fleet, in westeurope, minus the excluded vm-api-01.
HEALTHY_PROD = {"vm-web-01", "vm-web-02", "vm-db-01", "vm-ade-ok", "vm-appvhd", "vm-cluster-1", "vm-cluster-2",
                "vm-multi-nic"}


# The selectors here take the prod VMs of backup=daily, but not vm-api-01.
PROD = {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}], "exclude": ["vm-api-01"]}


def test_selector_protects_exactly_the_matching_healthy_vms(cluster: Cluster, operator: OperatorProcess,
                                                             emulator: Any) -> None:
    cluster.apply(vault("vault-a"), selector("daily", "vault-a", **PROD))
    obj = cluster.wait_for("vmbackupselector", "daily", status="True", type_="Stalled", reason="SomeBlocked",
                           timeout=90, operator=operator)
    assert protected_names(cluster) == HEALTHY_PROD
    status = obj["status"]
    assert (status["matched"], status["protected"], status["excluded"]) == (18, 8, 1)
    assert status["blockedByReason"]["AlreadyProtectedByOtherVault"] == 1
    assert status["protectedElsewhere"] == [vm_id("rg-legacy", "vm-legacy-erp")]
    assert all(child["metadata"]["ownerReferences"][0]["name"] == "daily" for child in selected(cluster).values())
    # Nothing written for a blocked VM; the VM protected by another vault is reported, never taken.
    assert emulator.admin.count("ProtectedItems_CreateOrUpdate") == len(HEALTHY_PROD)


def test_children_follow_vms_that_appear_and_change_tags(cluster: Cluster, operator: OperatorProcess,
                                                         emulator: Any, arm: Arm) -> None:
    cluster.apply(vault("vault-a"), selector("daily", "vault-a", resourceGroups=["rg-web"],
                                             template={"onDelete": "RetainData"}, **PROD))
    eventually(lambda: protected_names(cluster) == {"vm-web-01", "vm-web-02", "vm-multi-nic"}, timeout=60,
               what="the rg-web VMs protected")
    emulator.admin.add_vm({"name": "vm-web-03", "resourceGroup": "rg-web", "tags": {"backup": "daily", "env": "prod"},
                           "nics": [{"subnet": "rg-network/vnet-weu/default"}]}, subscription=SUB)
    eventually(lambda: "vm-web-03" in protected_names(cluster), timeout=60, what="a new VM gets a child")
    emulator.admin.update_vm(SUB, "rg-web", "vm-web-02", {"tags": {"backup": "none", "env": "prod"}})
    eventually(lambda: "vm-web-02" not in selected(cluster), timeout=60, what="a re-tagged VM loses its child")
    # The child's onDelete (RetainData) ran: protection stopped, recovery points kept.
    eventually(lambda: ((arm.item("rg-backup", "vault-a", "rg-web", "vm-web-02") or {}).get("properties") or {})
               .get("protectionState") == "ProtectionStopped", timeout=60, what="protection stopped")


def test_selector_policy_change_repolicies_children(cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("vault-a"), policy("daily", "vault-a"), policy("hourly", "vault-a", schedule={
        "frequency": "Hourly", "hourly": {"intervalHours": 4, "windowStartTime": "08:00", "windowDurationHours": 12}}),
        selector("web", "vault-a", resourceGroups=["rg-web"], policyRef={"name": "daily"}, **PROD))
    eventually(lambda: len(protected_names(cluster)) == 3, timeout=60, what="rg-web protected")
    cluster.patch("vmbackupselector", "web", {"spec": {"policyRef": {"name": "hourly"}}})

    def repolicied() -> bool:
        items = [arm.item("rg-backup", "vault-a", "rg-web", vm) for vm in ("vm-web-01", "vm-web-02", "vm-multi-nic")]
        return all(((i or {}).get("properties") or {}).get("policyName") == "hourly" for i in items)

    eventually(repolicied, timeout=90, what="every child moved to the hourly policy in Azure")


def test_deleting_the_selector_follows_each_childs_on_delete(cluster: Cluster, operator: OperatorProcess,
                                                             arm: Arm) -> None:
    cluster.apply(vault("vault-a"), selector("web", "vault-a", resourceGroups=["rg-web"],
                                             template={"onDelete": "DeleteData"}, **PROD))
    eventually(lambda: len(protected_names(cluster)) == 3, timeout=60, what="rg-web protected")
    cluster.delete("vmbackupselector", "web")
    eventually(lambda: not selected(cluster), timeout=90, what="children garbage-collected")
    for vm in ("vm-web-01", "vm-web-02", "vm-multi-nic"):
        props = (arm.item("rg-backup", "vault-a", "rg-web", vm) or {}).get("properties") or {}
        assert props.get("isScheduledForDeferredDelete") is True, vm  # DeleteData, kept by soft delete


def test_on_demand_backup_succeeds_and_names_its_recovery_point(cluster: Cluster, operator: OperatorProcess,
                                                                emulator: Any) -> None:
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")),
                  on_demand("now", "web", retentionDays=10))
    obj = cluster.wait_for("ondemandbackup", "now", reason="BackupSucceeded", timeout=60, operator=operator)
    status = obj["status"]
    assert status["phase"] == "Succeeded"
    assert all(status.get(key) for key in ("jobId", "recoveryPoint", "duration", "retainUntil")), status
    assert emulator.admin.count("Backups_Trigger") == 1
    pvm = cluster.wait_for("protectedvm", "web", reason="Protected", operator=operator)
    eventually(lambda: (cluster.get("protectedvm", "web") or {}).get("status", {}).get("lastBackupTime"),
               timeout=30, what="the ProtectedVM reports the backup")
    assert pvm


def test_on_demand_backup_failure_carries_azures_code(cluster: Cluster, operator: OperatorProcess,
                                                      emulator: Any) -> None:
    emulator.admin.add_job_fault("vm-web-01", "UserErrorGuestAgentStatusUnavailable", operation="Backup")
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")),
                  on_demand("now", "web"))
    obj = cluster.wait_for("ondemandbackup", "now", status="True", type_="Stalled", reason="BackupFailed",
                           timeout=60, operator=operator)
    assert obj["status"]["phase"] == "Failed"
    assert obj["status"]["errorCode"] == "UserErrorGuestAgentStatusUnavailable"
    assert obj["status"]["errorMessage"]


def test_a_failed_backup_after_a_good_one_keeps_protection_and_a_new_backup_clears_it(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    # Azure marks the item ProtectionError after a failed backup once it has points: protection is still
    # configured, so no new configure PUT, and the next OnDemandBackup (the remedy) is not held back.
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")),
                  on_demand("first", "web"))
    cluster.wait_for("ondemandbackup", "first", reason="BackupSucceeded", timeout=60, operator=operator)
    configured = emulator.admin.count("ProtectedItems_CreateOrUpdate")
    emulator.admin.add_job_fault("vm-web-01", "UserErrorGuestAgentStatusUnavailable", operation="Backup")
    cluster.apply(on_demand("failing", "web"))
    cluster.wait_for("ondemandbackup", "failing", status="False", reason="BackupFailed", timeout=60,
                     operator=operator)
    cluster.wait_for("protectedvm", "web", type_="BackupHealthy", status="False", reason="LastBackupFailed",
                     timeout=60, operator=operator)
    cluster.wait_for("protectedvm", "web", reason="Protected", operator=operator)
    cluster.apply(on_demand("again", "web"))
    cluster.wait_for("ondemandbackup", "again", reason="BackupSucceeded", timeout=60, operator=operator)
    cluster.wait_for("protectedvm", "web", type_="BackupHealthy", status="True", timeout=60, operator=operator)
    assert emulator.admin.count("ProtectedItems_CreateOrUpdate") == configured


def test_on_demand_backup_waits_for_protection(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    cluster.apply(vault("vault-a"), protected_vm("down", "vault-a", vm_id("rg-apps", "vm-agent-down")),
                  on_demand("now", "down"))
    cluster.wait_for("ondemandbackup", "now", status="False", reason="TargetNotProtected", operator=operator)
    assert emulator.admin.count("Backups_Trigger") == 0
    emulator.admin.update_vm(SUB, "rg-apps", "vm-agent-down", {"agent": {"status": "Ready"}})
    cluster.wait_for("ondemandbackup", "now", reason="BackupSucceeded", timeout=90, operator=operator)


def test_restart_mid_job_triggers_once(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    emulator.admin.set_settings(durations={"backupJob": 1000})  # 20 s at the tests' time scale
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")),
                  on_demand("now", "web"))
    cluster.wait_for("ondemandbackup", "now", status="False", reason="BackupTriggered", timeout=60,
                     operator=operator)
    operator.kill()
    operator.start()
    cluster.wait_for("ondemandbackup", "now", reason="BackupSucceeded", timeout=90, operator=operator)
    assert emulator.admin.count("Backups_Trigger") == 1


def test_killed_between_trigger_and_its_record_finds_the_job(cluster: Cluster, operator: OperatorProcess,
                                                            emulator: Any) -> None:
    # Azure starts the job, then the answer is lost: the journal says "pending" with no outcome.
    emulator.admin.add_fault(operation="Backups_Trigger", latency=30, phase="after", count=1)
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")),
                  on_demand("now", "web"))
    eventually(lambda: emulator.admin.counters()["operations"].get("Backups_Trigger") or
               any(j for j in emulator.admin.state().get("jobs", []) if j.get("operation") == "Backup"),
               timeout=60, what="the trigger reached Azure")
    eventually(lambda: "azbackup.dev/external-create-pending" in
               ((cluster.get("ondemandbackup", "now") or {}).get("metadata") or {}).get("annotations", {}),
               timeout=30, what="intent recorded before the trigger")
    operator.kill()
    operator.start()
    cluster.wait_for("ondemandbackup", "now", reason="BackupSucceeded", timeout=90, operator=operator)
    assert emulator.admin.count("Backups_Trigger") <= 1  # the held one (counted when answered), never a second
