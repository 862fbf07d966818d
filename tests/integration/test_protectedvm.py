"""ProtectedVM: the guide's prerequisites as conditions, and protection itself, against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.harness import SUB, Arm, Cluster, OperatorProcess, eventually, policy, protected_vm, vault, vm_id

# The sample fleet: the VM for each limitation of the guide, and the reason it must report.
BLOCKED = {
    ("rg-neu", "vm-neu-app"): "RegionMismatch",
    ("rg-legacy", "vm-legacy-erp"): "AlreadyProtectedByOtherVault",
    ("rg-apps", "vm-noagent"): "VMAgentNotInstalled",
    ("rg-apps", "vm-agent-down"): "VMAgentNotReady",
    ("rg-apps", "vm-win-oldagent"): "VMAgentTooOld",
    ("rg-data", "vm-locked-down"): "NoNetworkPath",
    ("rg-apps", "vm-coreos"): "UnsupportedOS",
    ("rg-legacy", "vm-win2003"): "UnsupportedOS",
    ("rg-data", "vm-bigdata"): "TooManyDataDisks",
    ("rg-data", "vm-sap-hana"): "WriteAcceleratorEnabled",
    ("rg-data", "vm-ade-switched"): "DiskEncryptionUnsupported",
    ("rg-legacy", "vm-classic-disks"): "StorageAccountFirewall",
}
# Healthy, or with warnings only (warnings never block).
PROTECTABLE = {
    ("rg-web", "vm-web-01"): [], ("rg-apps", "vm-api-01"): [], ("rg-data", "vm-ade-ok"): [],
    ("rg-apps", "vm-stopped"): ["ApplicationConsistent", "VMAgentReady"],
    ("rg-data", "vm-cluster-1"): ["NoSharedDisks"], ("rg-web", "vm-multi-nic"): ["RestoreNetworkConfig"],
    # retired unmanaged disks: deallocated, and a firewall that lets only trusted services in
    ("rg-apps", "vm-appvhd"): ["ApplicationConsistent", "ManagedDisks", "StorageAccountAccess", "VMAgentReady"],
}


def ready_reason(cluster: Cluster, name: str) -> str | None:
    cond = cluster.condition("protectedvm", name)
    return cond["reason"] if cond else None


def test_each_limitation_reports_its_reason_and_nothing_is_written(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    everything = {**{k: None for k in PROTECTABLE}, **BLOCKED}
    cluster.apply(vault("vault-a"), *(protected_vm(name, "vault-a", vm_id(rg, name)) for rg, name in everything))
    for (_, name), reason in BLOCKED.items():
        obj = cluster.wait_for("protectedvm", name, status="False", reason=reason, operator=operator)
        failed = [c["name"] for c in obj["status"]["checks"] if c["result"] == "Failed"]
        assert len(failed) == 1, (name, obj["status"]["checks"])
        prereq = cluster.condition("protectedvm", name, "PrerequisitesMet")
        assert prereq is not None
        assert (prereq["status"], prereq["reason"]) == ("False", reason)
    for (_, name), warnings in PROTECTABLE.items():
        obj = cluster.wait_for("protectedvm", name, reason="Protected", operator=operator)
        got = sorted(c["name"] for c in obj["status"]["checks"] if c["result"] == "Warning")
        assert got == sorted(warnings), name
        assert obj["status"]["protectionState"] in ("IRPending", "Protected")
    # One configure-protection PUT per protectable VM, none for a blocked one.
    assert emulator.admin.count("ProtectedItems_CreateOrUpdate") == len(PROTECTABLE)


def test_a_fixed_vm_becomes_ready_unaided(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    cluster.apply(vault("vault-a"), protected_vm("agent-down", "vault-a", vm_id("rg-apps", "vm-agent-down")))
    cluster.wait_for("protectedvm", "agent-down", status="False", reason="VMAgentNotReady", operator=operator)
    emulator.admin.update_vm(SUB, "rg-apps", "vm-agent-down", {"agent": {"status": "Ready"}})
    cluster.wait_for("protectedvm", "agent-down", reason="Protected", timeout=60, operator=operator)
    events = [e["reason"] for e in cluster.events("agent-down")]
    assert "VMAgentNotReady" in events
    assert "Protected" in events


def test_vm_protected_by_another_vault_is_reported_and_that_vault_untouched(
        cluster: Cluster, operator: OperatorProcess, arm: Arm, emulator: Any) -> None:
    before = arm.item("rg-legacy", "rsv-legacy", "rg-legacy", "vm-legacy-erp")
    cluster.apply(vault("vault-a"), protected_vm("erp", "vault-a", vm_id("rg-legacy", "vm-legacy-erp")))
    obj = cluster.wait_for("protectedvm", "erp", status="False", reason="AlreadyProtectedByOtherVault",
                           operator=operator)
    message = next(c["message"] for c in obj["status"]["checks"] if c["name"] == "NotProtectedElsewhere")
    assert "rsv-legacy" in message
    assert emulator.admin.count("ProtectedItems_CreateOrUpdate") == 0
    assert arm.item("rg-legacy", "rsv-legacy", "rg-legacy", "vm-legacy-erp") == before


def test_duplicate_protectedvm_writes_nothing(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    cluster.apply(vault("vault-a"), protected_vm("first", "vault-a", vm_id("rg-web", "vm-web-01")))
    cluster.wait_for("protectedvm", "first", reason="Protected", operator=operator)
    cluster.apply(protected_vm("second", "vault-a", vm_id("rg-web", "vm-web-01")))
    cluster.wait_for("protectedvm", "second", status="False", reason="DuplicateProtectedVM", operator=operator)
    assert emulator.admin.count("ProtectedItems_CreateOrUpdate") == 1


def test_missing_vm_and_missing_vault(cluster: Cluster, operator: OperatorProcess) -> None:
    cluster.apply(protected_vm("orphan", "no-such-vault", vm_id("rg-web", "vm-web-01")))
    cluster.wait_for("protectedvm", "orphan", status="False", reason="VaultNotFound", operator=operator)
    cluster.apply(vault("vault-a"), protected_vm("ghost", "vault-a", vm_id("rg-web", "vm-does-not-exist")))
    cluster.wait_for("protectedvm", "ghost", status="False", reason="VMNotFound", operator=operator)


def test_policy_change_and_disk_selection_change(cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("vault-a"), policy("daily", "vault-a"), policy("weekly", "vault-a", schedule={
        "frequency": "Weekly", "time": "22:00", "weekdays": ["Sunday"]},
        retention={"weekly": {"count": 12, "weekdays": ["Sunday"]}}),
        protected_vm("db", "vault-a", vm_id("rg-data", "vm-db-01"), policyRef={"name": "daily"}))
    cluster.wait_for("protectedvm", "db", reason="Protected", operator=operator)
    cluster.patch("protectedvm", "db", {"spec": {"policyRef": {"name": "weekly"},
                                                  "diskSelection": {"excludeLuns": [1]}}})

    def changed() -> bool:
        item = arm.item("rg-backup", "vault-a", "rg-data", "vm-db-01") or {}
        props = item.get("properties") or {}
        exclusion = (props.get("extendedProperties") or {}).get("diskExclusionProperties") or {}
        return props.get("policyName") == "weekly" and exclusion.get("diskLunList") == [1]

    eventually(changed, timeout=60, what="policy and disk exclusion changed in Azure")
    obj = cluster.wait_for("protectedvm", "db", reason="Protected", operator=operator)
    assert obj["status"]["policyName"] == "weekly"


@pytest.mark.parametrize(("on_delete", "left"), [
    pytest.param("RetainData", "ProtectionStopped", id="retain-data-stops-protection"),
    pytest.param("DeleteData", "soft-deleted", id="delete-data-deletes-the-item"),
    pytest.param("Orphan", "IRPending", id="orphan-leaves-azure-alone"),
])
def test_on_delete(cluster: Cluster, operator: OperatorProcess, arm: Arm, on_delete: str, left: str) -> None:
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-02"), onDelete=on_delete))
    cluster.wait_for("protectedvm", "web", reason="Protected", operator=operator)
    cluster.delete("protectedvm", "web")
    cluster.wait_gone("protectedvm", "web", timeout=60, operator=operator)
    props = (arm.item("rg-backup", "vault-a", "rg-web", "vm-web-02") or {}).get("properties") or {}
    state = "soft-deleted" if props.get("isScheduledForDeferredDelete") else props.get("protectionState")
    assert state == left


def test_soft_deleted_item_is_reprotected(cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-02"), onDelete="DeleteData"))
    cluster.wait_for("protectedvm", "web", reason="Protected", operator=operator)
    cluster.delete("protectedvm", "web")
    cluster.wait_gone("protectedvm", "web", timeout=60, operator=operator)
    cluster.apply(protected_vm("web-again", "vault-a", vm_id("rg-web", "vm-web-02")))
    cluster.wait_for("protectedvm", "web-again", reason="Protected", timeout=90, operator=operator)
    props = (arm.item("rg-backup", "vault-a", "rg-web", "vm-web-02") or {}).get("properties") or {}
    assert not props.get("isScheduledForDeferredDelete")


def test_suspend_needs_an_immutable_vault(cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01"),
                                                 state="BackupsSuspended"))
    cluster.wait_for("protectedvm", "web", status="False", reason="SuspendNeedsImmutableVault", operator=operator)
    cluster.patch("backupvault", "vault-a", {"spec": {"immutability": "Unlocked"}})
    cluster.patch("protectedvm", "web", {"spec": {"state": "Protected"}})
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=60, operator=operator)
    cluster.patch("protectedvm", "web", {"spec": {"state": "BackupsSuspended"}})
    cluster.wait_for("protectedvm", "web", reason="BackupsSuspended", timeout=60, operator=operator)
    cluster.patch("protectedvm", "web", {"spec": {"state": "ProtectionStopped"}})
    cluster.wait_for("protectedvm", "web", reason="ProtectionStopped", timeout=60, operator=operator)
    cluster.patch("protectedvm", "web", {"spec": {"state": "Protected"}})
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=60, operator=operator)


def test_killed_while_configure_runs_polls_instead_of_putting_again(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    emulator.admin.set_settings(durations={"configureProtection": 600})  # 12 s at the tests' time scale
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")))
    obj = cluster.wait_for("protectedvm", "web", status="False", reason="WaitingForOperation", operator=operator)
    assert "operationsStatus" in obj["status"]["operation"]["url"]
    operator.kill()
    operator.start()
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=60, operator=operator)
    assert emulator.admin.count("ProtectedItems_CreateOrUpdate") == 1
    assert emulator.admin.count("ProtectedItemOperationStatuses_Get") >= 1


def test_opt_in_remediation_sets_allow_extension_operations_after_a_manual_agent_install(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    cluster.apply(vault("vault-a"),
                  protected_vm("noagent", "vault-a", vm_id("rg-apps", "vm-noagent"),
                               remediation={"allowExtensionOperations": True}))
    # No agent at all: nothing the operator may fix (provisionVMAgent is create-time only).
    obj = cluster.wait_for("protectedvm", "noagent", status="False", reason="VMAgentNotInstalled", operator=operator)
    assert any("PropertyChangeNotAllowed" in c["message"] for c in obj["status"]["checks"])
    assert emulator.admin.count("VirtualMachines_Update") == 0
    # The user installs the agent by hand; allowExtensionOperations is still false on the VM.
    emulator.admin.update_vm(SUB, "rg-apps", "vm-noagent", {"agent": {"status": "Ready"}})
    cluster.wait_for("protectedvm", "noagent", reason="Protected", timeout=90, operator=operator)
    assert emulator.admin.count("VirtualMachines_Update") == 1
    vm = emulator.admin.vm(SUB, "rg-apps", "vm-noagent")
    assert (vm["allowExtensionOperations"], vm["provisionVMAgent"]) == (True, False)


def test_without_the_opt_in_extension_operations_stay_a_reason(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    emulator.admin.update_vm(SUB, "rg-apps", "vm-noagent", {"agent": {"status": "Ready"}})
    cluster.apply(vault("vault-a"), protected_vm("noagent", "vault-a", vm_id("rg-apps", "vm-noagent")))
    obj = cluster.wait_for("protectedvm", "noagent", status="False", reason="ExtensionOperationsDisabled",
                           operator=operator)
    assert any("spec.remediation.allowExtensionOperations" in c["message"] for c in obj["status"]["checks"])
    assert emulator.admin.count("VirtualMachines_Update") == 0
    assert emulator.admin.count("ProtectedItems_CreateOrUpdate") == 0


# Prerequisites Azure added after the 2018 guide, with the vault's DefaultPolicy (Standard).
TODAY_BLOCKED = {
    ("rg-data", "vm-ultra-db"): "DiskNeedsEnhancedPolicy",
    ("rg-apps", "vm-pv2-app"): "DiskNeedsEnhancedPolicy",
    ("rg-dev", "vm-ephemeral"): "EphemeralOSDisk",
    ("rg-data", "vm-entra-disk"): "DiskDataAccessAuth",
    ("rg-apps", "vm-confidential"): "ConfidentialVMNeedsEnhancedPolicy",
}


def test_todays_prerequisites_block_before_any_write_and_excluding_the_disk_protects(
        cluster: Cluster, operator: OperatorProcess, arm: Arm, emulator: Any) -> None:
    cluster.apply(vault("vault-a"), protected_vm("trusted", "vault-a", vm_id("rg-apps", "vm-trusted")),
                  *(protected_vm(name, "vault-a", vm_id(rg, name)) for rg, name in TODAY_BLOCKED))
    for (_, name), reason in TODAY_BLOCKED.items():
        obj = cluster.wait_for("protectedvm", name, status="False", reason=reason, operator=operator)
        message = next(c["message"] for c in obj["status"]["checks"] if c["result"] == "Failed")
        assert "2018 guide" in message, message
    cluster.wait_for("protectedvm", "trusted", reason="Protected", operator=operator)
    assert emulator.admin.count("ProtectedItems_CreateOrUpdate") == 1
    # Excluding the offending data disk is enough where Azure allows it.
    cluster.patch("protectedvm", "vm-ultra-db", {"spec": {"diskSelection": {"excludeLuns": [1]}}})
    cluster.patch("protectedvm", "vm-entra-disk", {"spec": {"diskSelection": {"excludeLuns": [0]}}})
    for name, lun in (("vm-ultra-db", 1), ("vm-entra-disk", 0)):
        cluster.wait_for("protectedvm", name, reason="Protected", timeout=60, operator=operator)
        rg = "rg-data"
        props = (arm.item("rg-backup", "vault-a", rg, name) or {}).get("properties") or {}
        assert props["extendedProperties"]["diskExclusionProperties"] == {"diskLunList": [lun],
                                                                          "isInclusionList": False}
