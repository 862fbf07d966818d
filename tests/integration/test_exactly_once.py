"""Exactly once under faults: a lost answer never becomes a second backup, nor a wait for a person."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from azure_emulator.inventory import DEFAULT_CLIENT_ID

from tests.integration.harness import Cluster, OperatorProcess, eventually, on_demand, protected_vm, vault, vm_id

VM = vm_id("rg-web", "vm-web-01")


def backup_jobs(emulator: Any, vm: str = VM) -> list[dict[str, Any]]:
    return [j for j in emulator.admin.state()["jobs"]
            if j["operation"] == "Backup" and str(j.get("vm") or "").lower() == vm.lower()]


def protect(cluster: Cluster, operator: OperatorProcess) -> None:
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", VM))
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=60, operator=operator)


@pytest.mark.parametrize("fault", [
    pytest.param({"status": 503, "retryAfter": 1}, id="a 503 after Azure started the backup"),
    pytest.param({"drop": True}, id="a dropped connection after Azure started the backup"),
])
def test_a_lost_trigger_answer_is_adopted_not_repeated(cluster: Cluster, operator: OperatorProcess, emulator: Any,
                                                       fault: dict[str, Any]) -> None:
    emulator.admin.set_settings(durations={"backupJob": 1000})  # 20 s at the tests' time scale
    protect(cluster, operator)
    emulator.admin.add_fault(operation="Backups_Trigger", phase="after", count=1, **fault)
    cluster.apply(on_demand("now", "web"))
    obj = cluster.wait_for("ondemandbackup", "now", reason="BackupSucceeded", timeout=90, operator=operator)
    jobs = backup_jobs(emulator)
    assert len(jobs) == 1, jobs  # neither azure-core nor the loop sent a second trigger
    assert obj["status"]["jobId"] == jobs[0]["id"]
    assert "adopting backup job" in operator.logs()


def test_a_trigger_recorded_but_never_sent_is_sent_by_the_operator_itself(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    # As if the operator died right after recording its intent, before the POST left.
    protect(cluster, operator)
    pending = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cluster.apply(on_demand("now", "web", {"azbackup.dev/external-create-pending": pending}))
    cluster.wait_for("ondemandbackup", "now", status="False", reason="TriggerOutcomeUnknown", timeout=30,
                     operator=operator)
    assert backup_jobs(emulator) == []  # looking is reads only
    cluster.wait_for("ondemandbackup", "now", reason="BackupSucceeded", timeout=90, operator=operator)
    assert len(backup_jobs(emulator)) == 1


def test_a_trigger_killed_in_flight_is_adopted_after_the_restart(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    emulator.admin.set_settings(durations={"backupJob": 1000})
    protect(cluster, operator)
    # Azure starts the job, the answer is held; the operator dies with only "pending" on record.
    emulator.admin.add_fault(operation="Backups_Trigger", latency=30, phase="after", count=1)
    cluster.apply(on_demand("now", "web"))
    eventually(lambda: backup_jobs(emulator), timeout=60, what="the trigger reached Azure")
    operator.kill()
    operator.start()
    obj = cluster.wait_for("ondemandbackup", "now", reason="BackupSucceeded", timeout=90, operator=operator)
    assert [j["id"] for j in backup_jobs(emulator)] == [obj["status"]["jobId"]]


def test_a_recorded_backoff_is_honoured_by_periodic_passes_and_after_a_restart(
        control_plane_instance: Any, emulator: Any, namespace: str, cluster: Cluster, tmp_path: Path) -> None:
    # Real retry delays (a missing role is retried after 120 s), with a periodic pass every 4 s.
    op = OperatorProcess(control_plane_instance, emulator, namespace, tmp_path, extra=("--retry-scale", "1"))
    emulator.admin.set_authorization(DEFAULT_CLIENT_ID, ["Microsoft.RecoveryServices/vaults/write"])
    op.start()
    try:
        cluster.apply(vault("vault-a"))
        obj = cluster.wait_for("backupvault", "vault-a", type_="Stalled", reason="AuthorizationFailed", operator=op)
        assert obj["status"]["backoff"]["attempts"] == 1
        puts = emulator.admin.count("Vaults_CreateOrUpdate")
        eventually(lambda: "BackupVault" in op.logs() and "backing off" in op.logs(), timeout=30,
                   what="a periodic pass that waits out the backoff")
        op.kill()
        op.start()
        eventually(lambda: "backing off" in op.log_path.read_text(errors="replace"), timeout=30,
                   what="the restarted operator's first pass waits out the backoff")
        assert emulator.admin.count("Vaults_CreateOrUpdate") == puts
    finally:
        op.stop()


def configure_jobs(emulator: Any, vm: str = VM) -> list[dict[str, Any]]:
    return [j for j in emulator.admin.state()["jobs"]
            if j["operation"] == "ConfigureBackup" and str(j.get("vm") or "").lower() == vm.lower()]


@pytest.mark.parametrize("fault", [
    pytest.param({"drop": True}, id="a dropped connection after Azure accepted the PUT"),
    pytest.param({"status": 503, "retryAfter": 1}, id="a 503 after Azure accepted the PUT"),
])
def test_a_lost_configure_answer_is_followed_not_repeated(cluster: Cluster, operator: OperatorProcess,
                                                          emulator: Any, fault: dict[str, Any]) -> None:
    emulator.admin.set_settings(durations={"configureProtection": 500})  # 10 s at the tests' time scale
    emulator.admin.add_fault(operation="ProtectedItems_CreateOrUpdate", phase="after", count=1, **fault)
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", VM))
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=90, operator=operator)
    assert len(configure_jobs(emulator)) == 1


def test_a_configure_killed_in_flight_is_waited_for_after_the_restart(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    emulator.admin.set_settings(durations={"configureProtection": 1000})  # outlasts the restart
    emulator.admin.add_fault(operation="ProtectedItems_CreateOrUpdate", phase="after", latency=30, count=1)
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", VM))
    eventually(lambda: configure_jobs(emulator), timeout=60, what="the PUT reached Azure")
    operator.kill()
    operator.start()
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=90, operator=operator)
    assert len(configure_jobs(emulator)) == 1
