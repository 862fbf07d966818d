"""Clean restore points against the emulator: with the vault's Defender source scan on, a drill whose
latest point is UnHealthy restores the newest Healthy one and reports the skipped point as a finding, and
a VMRestore with requireThreatStatus picks the right point or refuses before any trigger."""

from __future__ import annotations

from typing import Any

from tests.integration.harness import Arm, Cluster, OperatorProcess, eventually
from tests.integration.test_restore import VAULT_ID, protected_with_points, vm_restore
from tests.integration.test_restore_drill import drill, finished_run

VM = "rg-web/vm-web-01"


def scanned_points(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> tuple[str, str]:
    """vm-web-01 protected in vault-a with the source scan on: a Healthy point 6 hours old and an UnHealthy
    one 1 hour old (the latest). Returns (healthy, unhealthy) names."""
    protected_with_points(cluster, operator, emulator, ageHours=30)  # taken before the scan: not scanned
    Arm(emulator).patch_vault("rg-backup", "vault-a", {"properties": {"securitySettings": {
        "sourceScanConfiguration": {"state": "Enabled"}}}})
    healthy = emulator.admin.add_recovery_point(VAULT_ID, VM, ageHours=6)
    assert healthy["properties"]["threatStatus"] == "Healthy", healthy
    emulator.admin.add_recovery_point(VAULT_ID, VM, ageHours=1)
    unhealthy = emulator.admin.mark_threat(VAULT_ID, VM, "UnHealthy")
    return str(healthy["name"]), str(unhealthy["name"])


def test_a_drill_whose_latest_point_is_unhealthy_restores_the_newest_healthy_one_and_says_so(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    healthy, unhealthy = scanned_points(cluster, operator, emulator)
    cluster.apply(drill("weekly"))
    status = finished_run(cluster, "weekly")
    run = status["runs"][0]
    assert run["result"] == "Passed", run
    [target] = run["targets"]
    assert (target["recoveryPoint"], target["threatStatus"]) == (healthy, "Healthy"), target
    [skipped] = target["skippedRecoveryPoints"]
    assert (skipped["name"], skipped["threatStatus"]) == (unhealthy, "UnHealthy"), target
    [restore] = emulator.admin.restores()
    assert restore["recoveryPoint"] == healthy, "the UnHealthy latest point is never restored"

    # Not skipped silently: a finding on the drill, as `kubectl get` and Events show it.
    degraded = cluster.condition("restoredrill", "weekly", "Degraded")
    assert degraded is not None
    assert (degraded["status"], degraded["reason"]) == ("True", "UnhealthyRecoveryPoint"), degraded
    assert unhealthy in degraded["message"]
    assert healthy in degraded["message"]
    eventually(lambda: [e for e in cluster.events("weekly")
                        if e.get("type") == "Warning" and e.get("reason") == "UnhealthyRecoveryPoint"],
               timeout=30, what="a Warning Event for the UnHealthy point")
    ready = cluster.condition("restoredrill", "weekly")
    assert ready is not None
    assert (ready["status"], ready["reason"]) == ("True", "DrillPassed"), ready


def test_a_restore_that_requires_a_healthy_point_takes_the_newest_one_or_refuses_before_the_trigger(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    healthy, unhealthy = scanned_points(cluster, operator, emulator)
    cluster.apply(vm_restore("clean", recoveryPoint={"requireThreatStatus": "Healthy"}))
    status = cluster.wait_for("vmrestore", "clean", reason="RestoreSucceeded", timeout=90,
                              operator=operator)["status"]
    assert (status["recoveryPoint"], status["recoveryPointThreatStatus"]) == (healthy, "Healthy"), status
    assert [p["name"] for p in status["skippedRecoveryPoints"]] == [unhealthy], status
    [restore] = emulator.admin.restores()
    assert restore["recoveryPoint"] == healthy

    # Once the scan flags that point too, nothing scanned is Healthy: refused, nothing sent to Azure.
    emulator.admin.mark_threat(VAULT_ID, VM, "Warning", recovery_point=healthy)
    cluster.apply(vm_restore("none", vm_name="vm-web-01-second", recoveryPoint={"requireThreatStatus": "Healthy"}))
    obj = cluster.wait_for("vmrestore", "none", type_="Stalled", reason="NoHealthyRecoveryPoint", timeout=60,
                           operator=operator)
    listed = {p["name"]: p["threatStatus"] for p in obj["status"]["skippedRecoveryPoints"]}
    assert listed.items() >= {unhealthy: "UnHealthy", healthy: "Warning"}.items(), obj["status"]
    assert emulator.admin.count("Restores_Trigger") == 1
