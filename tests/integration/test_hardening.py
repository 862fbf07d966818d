"""Hardening against an attacker, as a user sees it: one-way vault states refused before any write, what
Azure keeps of a deleted ProtectedVM and until when, re-protection of soft-deleted items, and the vault
deletion sequence with each step in status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import Arm, Cluster, OperatorProcess, eventually, policy, protected_vm, vault, vm_id

WEB = vm_id("rg-web", "vm-web-02")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def arm(emulator: Any) -> Iterator[Arm]:
    client = Arm(emulator)
    yield client
    client.close()


def event_reasons(cluster: Cluster, name: str) -> dict[str, str]:
    return {str(e.get("reason")): str(e.get("message")) for e in cluster.events(name)}


def test_a_retention_cut_on_a_locked_vault_is_refused_before_any_write(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    cluster.apply(vault("vault-a", immutability="Locked"), policy("daily", "vault-a"))
    # Azure locks only an immutable vault: the operator creates it Unlocked, then locks it.
    eventually(lambda: (cluster.get("backupvault", "vault-a") or {}).get("status", {}).get("immutability")
               == "Locked", timeout=60, what="the vault Locked in Azure")
    cluster.wait_for("backupvault", "vault-a", operator=operator)
    cluster.wait_for("backuppolicy", "daily", operator=operator)
    emulator.admin.reset_counters()

    cluster.patch("backuppolicy", "daily", {"spec": {"retention": {"daily": {"count": 7}}}})
    obj = cluster.wait_for("backuppolicy", "daily", type_="Stalled", reason="RetentionCutOnImmutableVault",
                           operator=operator)
    stalled = next(c for c in obj["status"]["conditions"] if c["type"] == "Stalled")
    assert "daily 30 -> 7 days" in stalled["message"]
    assert emulator.admin.count("ProtectionPolicies_CreateOrUpdate") == 0

    # Going back on a Locked vault is refused by the API server itself, before the operator sees it.
    refused = cluster.kubectl("patch", "backupvault", "vault-a", "--type=merge", "-p",
                              '{"spec": {"immutability": "Unlocked"}}', check=False)
    assert refused.returncode != 0
    assert "irreversible" in refused.stderr
    assert emulator.admin.count("Vaults_Update") == 0


def test_a_protectedvm_deleted_under_always_on_soft_delete_reports_what_azure_keeps(
        cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("vault-a", softDelete={"state": "AlwaysOn", "retentionDays": 30}),
                  protected_vm("web", "vault-a", WEB, onDelete="DeleteData"))
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=90, operator=operator)
    cluster.delete("protectedvm", "web")
    cluster.wait_gone("protectedvm", "web", timeout=90, operator=operator)

    props = (arm.item("rg-backup", "vault-a", "rg-web", "vm-web-02") or {}).get("properties") or {}
    assert props.get("isScheduledForDeferredDelete") is True
    message = eventually(lambda: event_reasons(cluster, "web").get("KeptSoftDeleted"), what="the Event")
    assert "until 20" in message
    assert "AlwaysON" in message
    assert "vault-a" in message


def test_a_soft_deleted_item_is_reprotected_in_another_vault(
        cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.apply(vault("vault-a"), vault("vault-b"), protected_vm("web", "vault-a", WEB, onDelete="DeleteData"))
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=90, operator=operator)
    cluster.delete("protectedvm", "web")
    cluster.wait_gone("protectedvm", "web", timeout=90, operator=operator)

    cluster.apply(protected_vm("web-b", "vault-b", WEB))
    obj = cluster.wait_for("protectedvm", "web-b", reason="Protected", timeout=90, operator=operator)
    assert "vault-b" in obj["status"]["vaultId"]
    kept = (arm.item("rg-backup", "vault-a", "rg-web", "vm-web-02") or {}).get("properties") or {}
    assert kept.get("isScheduledForDeferredDelete") is True  # vault-a keeps its soft-deleted copy


def test_a_vault_with_soft_deleted_items_is_deleted_by_the_documented_sequence(
        cluster: Cluster, operator: OperatorProcess, emulator: Any, arm: Arm) -> None:
    cluster.apply(vault("vault-a", deletionPolicy="Delete"), protected_vm("web", "vault-a", WEB, onDelete="DeleteData"))
    cluster.wait_for("protectedvm", "web", reason="Protected", timeout=90, operator=operator)
    vault_id = cluster.wait_for("backupvault", "vault-a", operator=operator)["status"]["vaultId"]
    cluster.delete("protectedvm", "web")
    cluster.wait_gone("protectedvm", "web", timeout=90, operator=operator)

    cluster.delete("backupvault", "vault-a")
    obj = cluster.wait_for("backupvault", "vault-a", type_="Reconciling", reason="WaitingForSoftDeletedData",
                           timeout=60, operator=operator)
    steps = {s["name"]: s for s in obj["status"]["deletion"]["steps"]}
    assert steps["ItemsStopped"]["done"] is True
    assert steps["SoftDeletedDataPurged"]["done"] is False
    assert steps["SoftDeletedDataPurged"]["canProceedAt"].startswith("20")
    assert {"PrivateEndpointsRemoved", "ResourceGuardProxyRemoved"} <= set(steps)
    assert emulator.admin.count("Vaults_Delete") == 0  # not sent while Azure would refuse it

    emulator.admin.age_soft_deleted(vault_id, days=15)  # past the 14-day purge date
    cluster.wait_gone("backupvault", "vault-a", timeout=60, operator=operator)
    assert "vault-a" not in arm.vault_names("rg-backup")


def test_the_hardened_example_converges_and_meets_its_minimum_level(
        cluster: Cluster, operator: OperatorProcess, arm: Arm) -> None:
    cluster.kubectl("apply", "-k", str(EXAMPLES / "hardened"))
    cluster.wait_for("protectedvm", "web-01-hardened", reason="Protected", timeout=120, operator=operator)
    obj = cluster.wait_for("backupvault", "vault-hardened", type_="SecurityLevel", reason="SecurityLevelMet",
                           operator=operator)
    assert obj["status"]["bcdrSecurityLevel"] == "Excellent"
    security = arm.vault("rg-backup", "vault-hardened")["properties"]["securitySettings"]
    assert security["immutabilitySettings"]["state"] == "Locked"
    assert security["softDeleteSettings"]["softDeleteState"] == "AlwaysON"
    printed = cluster.kubectl("get", "backupvault", "vault-hardened").stdout
    assert "SECURITY" in printed
    assert "Excellent" in printed
