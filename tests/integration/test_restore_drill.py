"""RestoreDrill against the emulator: a run on a short cron schedule with its evidence, a missed RPO
objective, clean-up of exactly the run's resources, and a restart in the middle of a run."""

from __future__ import annotations

from typing import Any

from tests.integration.harness import SUB, Cluster, OperatorProcess, eventually, protected_vm, vault, vm_id
from tests.integration.test_restore import STAGING, SUBNET, VAULT_ID, group_resources

KEEP = {"name": "vm-keep", "resourceGroup": "rg-drill", "tags": {"owner": "someone-else"},
        "nics": [{"subnet": "rg-drill/vnet-drill/default"}]}


def drill(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "RestoreDrill", "metadata": {"name": name},
            "spec": {"vaultRef": {"name": "vault-a"}, "schedule": "* * * * *", "targets": {"names": ["web"]},
                     "target": {"resourceGroup": "rg-drill", "subnetId": SUBNET, "stagingStorageAccountId": STAGING},
                     "verificationDeadline": "5m", **spec}}


def setup(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> set[str]:
    """vm-web-01 protected with a 3-hour-old point; a VM that is not the drill's in the target group."""
    emulator.admin.add_vm(KEEP, subscription=SUB)
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")))
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=90, operator=operator)
    emulator.admin.add_recovery_point(VAULT_ID, "rg-web/vm-web-01", ageHours=3)
    return group_resources(emulator, "rg-drill")


def finished_run(cluster: Cluster, name: str, timeout: float = 180) -> dict[str, Any]:
    def check() -> Any:
        status = (cluster.get("restoredrill", name) or {}).get("status") or {}
        return status if status.get("runs") else None
    return dict(eventually(check, timeout=timeout, what=f"drill {name} finished a run"))


def test_a_scheduled_run_records_evidence_flags_a_missed_rpo_and_cleans_up_only_its_own(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    before = setup(cluster, operator, emulator)
    cluster.apply(drill("weekly", rpoObjective="1h", rtoObjective="1h"))
    status = finished_run(cluster, "weekly")
    run = status["runs"][0]
    assert (run["result"], run["phase"]) == ("Passed", "Done"), run
    [target] = run["targets"]
    assert target["protectedVM"] == "web"
    assert target["recoveryPoint"], target
    assert target["rpoSeconds"] >= 3 * 3600 - 60, target
    assert target["rtoSeconds"] >= target["jobSeconds"], target
    assert target["cleanedUp"] is True
    assert (status["lastResult"], status["lastRPO"], status["lastRTO"]) == ("Passed", run["achievedRPO"],
                                                                          run["achievedRTO"])
    assert status["nextRun"]
    # A 3-hour-old point misses a 1-hour RPO objective: Degraded, with a Warning Event.
    degraded = cluster.condition("restoredrill", "weekly", "Degraded")
    assert degraded is not None
    assert (degraded["status"], degraded["reason"]) == ("True", "ObjectiveMissed"), degraded
    warnings = [e for e in cluster.events("weekly") if e.get("type") == "Warning" and e.get("reason") ==
                "ObjectiveMissed"]
    assert warnings, cluster.events("weekly")
    # Exactly what the run created is gone; the VM that was there before is still there.
    eventually(lambda: group_resources(emulator, "rg-drill") == before, timeout=60, what="the run cleaned up")
    assert emulator.admin.count("Restores_Trigger") == 1
    assert not [r for r in cluster.kubectl("get", "vmrestores", "-o", "name").stdout.split() if r]


def test_a_restart_mid_run_restores_once_and_still_cleans_up(cluster: Cluster, operator: OperatorProcess,
                                                             emulator: Any) -> None:
    before = setup(cluster, operator, emulator)
    emulator.admin.set_settings(durations={"restoreJob": 1000})  # 20 s at the tests' time scale
    cluster.apply(drill("nightly"))
    eventually(lambda: emulator.admin.restores(), timeout=150, what="the run triggered its restore")
    operator.kill()
    operator.start()
    status = finished_run(cluster, "nightly")
    assert status["runs"][0]["result"] == "Passed", status["runs"][0]
    assert len(emulator.admin.restores()) == 1, "a run in flight is never started twice"
    eventually(lambda: group_resources(emulator, "rg-drill") == before, timeout=60, what="the run cleaned up")
