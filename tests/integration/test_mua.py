"""Multi-User Authorization: a BackupVault linked to a Resource Guard that someone else owns. A guarded
change waits for the guard's approval (AwaitingMUAApproval, retried at a fixed interval, not in a hot
loop) and completes after it, with no other Azure write in between; removing MUA waits the same way.

Assertions are on what a user sees (conditions, Events) and on what Azure received (the emulator's
counters): the approval itself is granted through the emulator's admin API, as a PIM activation would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.harness import SUB, Arm, Cluster, OperatorProcess, eventually, policy, protected_vm, vault, vm_id

GUARD = f"/subscriptions/{SUB}/resourceGroups/rg-security/providers/Microsoft.DataProtection/resourceGuards/sec-guard"
APPROVAL_RETRY = 120.0 * 0.02  # LoopSettings.approval_retry under the harness's --retry-scale 0.02


@pytest.fixture
def arm(emulator: Any) -> Iterator[Arm]:
    client = Arm(emulator)
    yield client
    client.close()


def writes(emulator: Any) -> int:
    kinds = emulator.admin.counters()["kinds"]
    return int(kinds["write"]) + int(kinds["delete"])


def proxy_guard(emulator: Any) -> str | None:
    vault_obj = emulator.emulator.state.subscription(SUB).vaults.get("rg-backup", "vault-mua")
    return vault_obj.resource_guard if vault_obj else None


def waiting(cluster: Cluster, operator: OperatorProcess, operation: str, kind: str = "backupvault",
            name: str = "vault-mua") -> dict[str, Any]:
    obj = cluster.wait_for(kind, name, type_="Reconciling", reason="AwaitingMUAApproval", operator=operator)
    reconciling = next(c for c in obj["status"]["conditions"] if c["type"] == "Reconciling")
    assert operation in reconciling["message"], reconciling
    assert GUARD in reconciling["message"], reconciling
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "AwaitingMUAApproval")
    return obj


def test_a_guarded_change_waits_for_approval_then_completes_with_no_write_between(
        cluster: Cluster, operator: OperatorProcess, arm: Arm, emulator: Any) -> None:
    emulator.admin.put_resource_guard(GUARD, description="Ask the security team for JIT access")
    cluster.apply(vault("vault-mua", resourceGuard=GUARD))
    obj = cluster.wait_for("backupvault", "vault-mua", operator=operator)
    assert obj["status"]["resourceGuard"] == GUARD
    assert proxy_guard(emulator) == GUARD

    emulator.admin.reset_counters()
    cluster.patch("backupvault", "vault-mua", {"spec": {"softDelete": {"state": "Disabled"}}})
    waiting(cluster, operator, "disableSoftDeleteRequests")
    assert "AwaitingMUAApproval" in [e["reason"] for e in cluster.events("vault-mua")]

    # Not a hot loop: the refused write is tried again only after the fixed approval interval.
    def refused() -> int:
        return int(emulator.admin.count("Vaults_Update", 403))

    seen = refused()
    assert seen >= 1
    eventually(lambda: refused() > seen, timeout=4 * APPROVAL_RETRY, what="the next try")
    tried = time.monotonic()
    eventually(lambda: refused() > seen + 1, timeout=4 * APPROVAL_RETRY, what="the try after it")
    assert time.monotonic() - tried >= APPROVAL_RETRY - 1.0
    assert arm.vault("rg-backup", "vault-mua")["properties"]["securitySettings"]["softDeleteSettings"][
        "softDeleteState"] == "Enabled"

    available = events_of(cluster, "Available")
    emulator.admin.approve(GUARD, "disableSoftDeleteRequests", minutes=30)
    cluster.wait_for("backupvault", "vault-mua", timeout=4 * APPROVAL_RETRY + 30, operator=operator)
    soft = arm.vault("rg-backup", "vault-mua")["properties"]["securitySettings"]["softDeleteSettings"]
    assert soft["softDeleteState"] == "Disabled"
    # Every write since the spec change was the guarded PATCH: refused while unapproved, then once accepted.
    assert emulator.admin.count("Vaults_Update", 200) == 1
    assert writes(emulator) == emulator.admin.count("Vaults_Update")
    assert events_of(cluster, "Available") > available  # the transition back to Ready is an Event too


def events_of(cluster: Cluster, reason: str) -> int:
    """How many Events of this reason the vault has had (an Event repeated in place counts each time)."""
    return sum(int(e.get("count") or 1) for e in cluster.events("vault-mua") if e["reason"] == reason)


def test_removing_mua_is_itself_guarded(cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    emulator.admin.put_resource_guard(GUARD)
    cluster.apply(vault("vault-mua", resourceGuard=GUARD))
    cluster.wait_for("backupvault", "vault-mua", operator=operator)

    emulator.admin.reset_counters()
    cluster.kubectl("patch", "backupvault", "vault-mua", "--type=json",
                    "-p", '[{"op": "remove", "path": "/spec/resourceGuard"}]')
    waiting(cluster, operator, "deleteResourceGuardProxyRequests")
    assert proxy_guard(emulator) == GUARD
    assert emulator.admin.count("ResourceGuardProxy_Delete") == 0  # nothing is deleted before the unlock

    emulator.admin.approve(GUARD, "deleteResourceGuardProxyRequests", minutes=30)
    obj = cluster.wait_for("backupvault", "vault-mua", timeout=4 * APPROVAL_RETRY + 30, operator=operator)
    assert proxy_guard(emulator) is None
    assert not obj["status"].get("resourceGuard")
    assert emulator.admin.count("ResourceGuardProxy_UnlockDelete", 200) == 1
    assert emulator.admin.count("ResourceGuardProxy_Delete", 200) == 1


def test_a_retention_cut_waits_for_approval_a_longer_retention_does_not(
        cluster: Cluster, operator: OperatorProcess, emulator: Any) -> None:
    emulator.admin.put_resource_guard(GUARD)
    cluster.apply(vault("vault-mua", resourceGuard=GUARD), policy("daily", "vault-mua"))
    cluster.wait_for("backuppolicy", "daily", operator=operator)
    cluster.patch("backuppolicy", "daily", {"spec": {"retention": {"daily": {"count": 60}}}})
    eventually(lambda: retention(emulator) == 60, what="the longer retention applied without approval")
    cluster.wait_for("backuppolicy", "daily", operator=operator)

    cluster.patch("backuppolicy", "daily", {"spec": {"retention": {"daily": {"count": 7}}}})
    waiting(cluster, operator, "updateProtectionPolicyRequests", "backuppolicy", "daily")
    assert retention(emulator) == 60
    emulator.admin.approve(GUARD, "updateProtectionPolicyRequests", minutes=30)
    cluster.wait_for("backuppolicy", "daily", timeout=4 * APPROVAL_RETRY + 30, operator=operator)
    assert retention(emulator) == 7


def retention(emulator: Any) -> int:
    vault_obj = emulator.emulator.state.subscription(SUB).vaults.get("rg-backup", "vault-mua")
    props = vault_obj.policies["daily"].properties
    return int(props["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"])


def test_deleting_backup_data_waits_for_approval(cluster: Cluster, operator: OperatorProcess, arm: Arm,
                                                 emulator: Any) -> None:
    emulator.admin.put_resource_guard(GUARD)
    cluster.apply(vault("vault-mua", resourceGuard=GUARD),
                  protected_vm("web", "vault-mua", vm_id("rg-web", "vm-web-02"), onDelete="DeleteData"))
    cluster.wait_for("protectedvm", "web", reason="Protected", operator=operator)
    cluster.delete("protectedvm", "web")
    waiting(cluster, operator, "deleteProtectedItemRequests", "protectedvm", "web")
    assert emulator.admin.count("ProtectedItems_Delete") == 0  # nothing is deleted before the approval
    emulator.admin.approve(GUARD, "deleteProtectedItemRequests", minutes=30)
    cluster.wait_gone("protectedvm", "web", timeout=4 * APPROVAL_RETRY + 60, operator=operator)
    props = (arm.item("rg-backup", "vault-mua", "rg-web", "vm-web-02") or {}).get("properties") or {}
    assert props.get("isScheduledForDeferredDelete")  # soft-deleted, as on any vault with soft delete on
