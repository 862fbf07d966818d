"""VMRestore against the emulator: to a new VM and to disks, the checks that send nothing, Azure's job
failures, and exactly one restore across a SIGKILL between the trigger and its record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.integration.harness import SUB, Cluster, OperatorProcess, eventually, protected_vm, vault, vm_id

VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/vault-a"
SUBNET = (f"/subscriptions/{SUB}/resourceGroups/rg-drill/providers/Microsoft.Network/virtualNetworks/vnet-drill"
          "/subnets/default")
STAGING = f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.Storage/storageAccounts/strestorestaging"


def vm_restore(name: str, vm_name: str | None = "vm-web-01-restored", *, mode: str = "NewVM",
               group: str = "rg-drill", **spec: Any) -> dict[str, Any]:
    target: dict[str, Any] = {"resourceGroup": group, "stagingStorageAccountId": STAGING}
    if mode == "NewVM":
        target.update(vmName=vm_name, subnetId=SUBNET)
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "VMRestore", "metadata": {"name": name},
            "spec": {"protectedVMRef": {"name": "web"}, "mode": mode, "target": target, **spec}}


def protected_with_points(cluster: Cluster, operator: OperatorProcess, emulator: Any, **point: Any) -> None:
    """vm-web-01 protected in vault-a, with one recovery point made to order (default: 3 hours old)."""
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")))
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=90, operator=operator)
    emulator.admin.add_recovery_point(VAULT_ID, "rg-web/vm-web-01", **(point or {"ageHours": 3}))


def group_resources(emulator: Any, rg: str) -> set[str]:
    """Ids (lower case) of the VMs, NICs and managed disks in a resource group of the in-process emulator."""
    sub = emulator.emulator.state.subscription(SUB)
    return {r.id.lower() for index in (sub.vms, sub.nics, sub.disks) for r in index.in_group(rg)}


def test_restore_to_a_new_vm_names_what_it_created_and_cleanup_delete_removes_it(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    protected_with_points(cluster, operator, emulator)
    cluster.apply(vm_restore("new", cleanup="Delete"))
    obj = cluster.wait_for("vmrestore", "new", reason="RestoreSucceeded", timeout=90, operator=operator)
    status = obj["status"]
    assert status["phase"] == "Succeeded", status
    assert status["jobId"], status
    assert status["recoveryPoint"], status
    created = status["created"]
    assert created["virtualMachine"].endswith("/resourceGroups/rg-drill/providers/Microsoft.Compute/virtualMachines/"
                                              "vm-web-01-restored")
    assert len(created["networkInterfaces"]) == 1, created
    assert created["disks"], created
    assert emulator.admin.count("Restores_Trigger") == 1
    [restore] = emulator.admin.restores()
    assert restore["recoveryType"] == "AlternateLocation"
    assert {d.lower() for d in created["disks"]} == {d.lower() for d in restore["created"]["disks"]}
    assert emulator.admin.count("VirtualMachines_Update") == 0  # the source VM is never written

    made = {created["virtualMachine"], *created["networkInterfaces"], *created["disks"]}
    assert {m.lower() for m in made} <= group_resources(emulator, "rg-drill")
    cluster.delete("vmrestore", "new")
    cluster.wait_gone("vmrestore", "new", timeout=60, operator=operator)
    assert not {m.lower() for m in made} & group_resources(emulator, "rg-drill")
    assert emulator.admin.count("VirtualMachines_Delete") == 1
    assert emulator.admin.count("Disks_Delete") == len(created["disks"])
    assert emulator.admin.count("NetworkInterfaces_Delete") == 1


def test_restore_to_disks_lists_the_disks(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    protected_with_points(cluster, operator, emulator)
    cluster.apply(vm_restore("disks", mode="Disks"))
    obj = cluster.wait_for("vmrestore", "disks", reason="RestoreSucceeded", timeout=90, operator=operator)
    created = obj["status"]["created"]
    assert created.get("virtualMachine") is None
    assert created["disks"], created
    assert all("/resourceGroups/rg-drill/" in d for d in created["disks"]), created
    assert all("/disks/vm-web-01-osdisk-" in d or "/disks/vm-web-01-datadisk-" in d for d in created["disks"])
    cluster.delete("vmrestore", "disks")
    cluster.wait_gone("vmrestore", "disks", timeout=60, operator=operator)
    assert emulator.admin.count("Disks_Delete") == 0  # cleanup Retain (the default) keeps them


def test_target_name_taken_is_refused_before_anything_is_sent(cluster: Cluster, operator: OperatorProcess,
                                                              emulator: Any) -> None:
    protected_with_points(cluster, operator, emulator)
    cluster.apply(vm_restore("taken", "vm-web-02", group="rg-web"))
    obj = cluster.wait_for("vmrestore", "taken", type_="Stalled", reason="RestoreTargetExists", timeout=60,
                           operator=operator)
    assert "vm-web-02" in cluster.condition("vmrestore", "taken", "Ready")["message"]  # type: ignore[index]
    assert obj["status"]["phase"] == "Pending"
    assert emulator.admin.count("Restores_Trigger") == 0


def test_an_archived_only_point_needs_rehydration(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    protected_with_points(cluster, operator, emulator, ageDays=60, tiers=["ArchivedRP"])
    before = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cluster.apply(vm_restore("archived", recoveryPoint={"before": before}))
    cluster.wait_for("vmrestore", "archived", type_="Stalled", reason="RecoveryPointArchived", timeout=60,
                     operator=operator)
    assert emulator.admin.count("Restores_Trigger") == 0


def test_a_failed_job_carries_azures_code(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    protected_with_points(cluster, operator, emulator)
    emulator.admin.add_job_fault("vm-web-01", "UserErrorSkuNotAvailable", operation="Restore")
    cluster.apply(vm_restore("fails"))
    obj = cluster.wait_for("vmrestore", "fails", type_="Stalled", reason="RestoreFailed", timeout=90,
                           operator=operator)
    assert obj["status"]["phase"] == "Failed"
    assert obj["status"]["errorCode"] == "UserErrorSkuNotAvailable"


def test_completed_with_warnings_without_the_vm_is_a_failure(cluster: Cluster, operator: OperatorProcess,
                                                             emulator: Any) -> None:
    protected_with_points(cluster, operator, emulator)
    emulator.admin.add_job_fault("vm-web-01", "UserErrorCoreCountSubscriptionQuotaReached", operation="Restore",
                                 result="CompletedWithWarnings")
    cluster.apply(vm_restore("warned"))
    obj = cluster.wait_for("vmrestore", "warned", type_="Stalled", reason="RestoreFailed", timeout=90,
                           operator=operator)
    status = obj["status"]
    assert (status["phase"], status["jobStatus"]) == ("Failed", "CompletedWithWarnings")
    assert status["errorCode"] == "UserErrorCoreCountSubscriptionQuotaReached"
    assert status["created"].get("virtualMachine") is None, status
    assert status["created"]["disks"], status  # the disks Azure restored before giving up on the VM


def test_killed_between_trigger_and_its_record_restores_once(cluster: Cluster, operator: OperatorProcess,
                                                            emulator: Any) -> None:
    protected_with_points(cluster, operator, emulator)
    # Azure starts the Restore job, then the answer is held: the journal says "pending" with no outcome.
    emulator.admin.add_fault(operation="Restores_Trigger", latency=30, phase="after", count=1)
    cluster.apply(vm_restore("once"))
    eventually(lambda: emulator.admin.restores(), timeout=60, what="the trigger reached Azure")
    eventually(lambda: "azbackup.dev/external-create-pending" in
               ((cluster.get("vmrestore", "once") or {}).get("metadata") or {}).get("annotations", {}),
               timeout=30, what="intent recorded before the trigger")
    operator.kill()
    operator.start()
    obj = cluster.wait_for("vmrestore", "once", reason="RestoreSucceeded", timeout=90, operator=operator)
    assert len(emulator.admin.restores()) == 1, "exactly one restore job"
    assert emulator.admin.count("Restores_Trigger") <= 1  # the held one (counted when answered), never a second
    assert obj["status"]["created"]["virtualMachine"]
