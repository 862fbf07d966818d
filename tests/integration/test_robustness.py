"""What users and Azure can throw at the operator without breaking its bookkeeping or its promises."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.integration.harness import Cluster, OperatorProcess, eventually, protected_vm, vault, vm_id

DIFFBASE = "kopf.azbackup.dev/last-handled-configuration"


def test_a_large_foreign_annotation_does_not_break_kopfs_bookkeeping(cluster: Cluster, operator: OperatorProcess,
                                                                      emulator: Any) -> None:
    doc = vault("vault-a")
    doc["metadata"]["annotations"] = {"example.com/notes": "x" * 150_000}  # fits once, not twice
    cluster.kubectl("create", "-f", "-", input=yaml.safe_dump(doc))  # apply would copy it into last-applied
    cluster.wait_for("backupvault", "vault-a", timeout=60, operator=operator)
    cluster.patch("backupvault", "vault-a", {"spec": {"tags": {"cost-center": "42"}}})

    def handled() -> bool:
        obj = cluster.get("backupvault", "vault-a") or {}
        base = json.loads((obj["metadata"].get("annotations") or {}).get(DIFFBASE) or "{}")
        return (base.get("spec") or {}).get("tags") == {"cost-center": "42"}

    eventually(handled, timeout=60, what="kopf recorded the handled change")
    assert "422" not in operator.logs()


def quiet_events(cluster: Cluster, reasons: set[str]) -> dict[str, int]:
    return {name: sum(e.get("count") or 1 for e in cluster.events(name) if e["reason"] in reasons)
            for name in ("vault-a", "web", "db")}


def test_a_vault_blip_flips_nothing(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")),
                  protected_vm("db", "vault-a", vm_id("rg-web", "vm-web-02")))
    for name in ("web", "db"):
        cluster.wait_for("protectedvm", name, reason="Protected", timeout=90, operator=operator)
    since = cluster.condition("backupvault", "vault-a")
    quiet = {"AzureUnavailable", "Throttled", "VaultNotReady"}
    before = quiet_events(cluster, quiet)
    emulator.admin.add_fault(operation="Vaults_Get", status=503, count=4)
    emulator.admin.add_fault(operation="Vaults_Get", status=429, retryAfter=1, count=1)
    eventually(lambda: all(f["count"] == 0 for f in emulator.admin.faults()), timeout=60,
               what="every faulted vault read answered")
    eventually(lambda: emulator.admin.count("Vaults_Get", 200) > 0 and "holding its Ready state" in operator.logs(),
               timeout=30, what="a good vault read after the blip")
    assert cluster.condition("backupvault", "vault-a") == since  # not even a lastTransitionTime moved
    assert quiet_events(cluster, quiet) == before  # no Event for a failed read


def test_deleting_the_acting_duplicate_hands_the_vm_over_without_stopping_protection(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    vm = vm_id("rg-web", "vm-web-01")
    cluster.apply(vault("vault-a"), protected_vm("first", "vault-a", vm))
    cluster.wait_for("protectedvm", "first", reason="Protected", operator=operator)
    cluster.apply(protected_vm("second", "vault-a", vm))
    cluster.wait_for("protectedvm", "second", status="False", reason="DuplicateProtectedVM", operator=operator)
    cluster.delete("protectedvm", "first")
    cluster.wait_gone("protectedvm", "first", operator=operator)
    cluster.wait_for("protectedvm", "second", reason="Protected", timeout=60, operator=operator)
    stops = [j for j in emulator.admin.state()["jobs"] if j["operation"] in ("DisableBackup", "DeleteBackupData")]
    assert stops == []  # protection never stopped: the claim moved, not the item


def test_deleting_a_vault_mid_protection_follows_its_members_to_the_end(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    emulator.admin.set_settings(durations={"configureProtection": 500})  # 10 s at the tests' time scale
    cluster.apply(vault("vault-a"), protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01")),
                  protected_vm("db", "vault-a", vm_id("rg-web", "vm-web-02")))
    for name in ("web", "db"):
        cluster.wait_for("protectedvm", name, status="False", reason="WaitingForOperation", timeout=60,
                         operator=operator)
    puts = emulator.admin.count("ProtectedItems_CreateOrUpdate")
    cluster.delete("backupvault", "vault-a")
    cluster.wait_gone("backupvault", "vault-a", timeout=90, operator=operator)
    for name in ("web", "db"):
        ready = cluster.condition("protectedvm", name) or {}
        assert ready.get("reason") == "Protected", (name, ready)  # followed to the end, not a wait nobody ends
    assert emulator.admin.count("ProtectedItems_CreateOrUpdate") == puts  # nothing more sent to the vault
    items = [i for s in emulator.admin.state()["subscriptions"] for v in s["vaults"] for i in v["items"]
             if v["id"].lower().endswith("/vaults/vault-a")]
    assert len(items) == 2  # the started protections ran to their end (deletionPolicy Retain keeps the vault)
