"""The change feed end to end: the operator at its default one-hour full pass, so only the subscription's
Activity Log (read every second here, entries visible a second late) can tell it what changed."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import (
    Arm,
    Cluster,
    OperatorProcess,
    eventually,
    policy,
    protected_names,
    protected_vm,
    selector,
    vault,
    vm_id,
)

HOUR = "3600"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Metrics:
    def __init__(self, port: int) -> None:
        self.port = port

    def value(self, name: str, **labels: str) -> float:
        """The sum of a metric's samples whose labels include these."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
                text = response.read().decode()
        except OSError:
            return 0.0
        total = 0.0
        for line in text.splitlines():
            if not (line.startswith(name + "{") or line.startswith(name + " ")):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(free_port())


@pytest.fixture
def feed_operator(control_plane_instance: Any, emulator: Any, namespace: str, tmp_path: Path,
                  metrics: Metrics) -> Iterator[OperatorProcess]:
    """The operator with an hour between full passes and the change feed read every second."""
    emulator.admin.set_settings(activityLogDelay=1)
    proc = OperatorProcess(control_plane_instance, emulator, namespace, tmp_path, extra=(
        "--sync-period", HOUR, "--change-feed-interval", "1", "--metrics-port", str(metrics.port))).start()
    try:
        yield proc
    finally:
        proc.stop()


def retention(arm: Arm, vault_name: str, name: str) -> int:
    body = arm.backup.protection_policies.get(vault_name, "rg-backup", name).as_dict()
    return int(body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"])


def edit_retention(arm: Arm, vault_name: str, name: str, count: int) -> None:
    body = arm.backup.protection_policies.get(vault_name, "rg-backup", name).as_dict()
    body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = count
    arm.backup.protection_policies.create_or_update(vault_name, "rg-backup", name, {"properties": body["properties"]})


def test_a_new_vm_is_protected_through_the_feed(cluster: Cluster, feed_operator: OperatorProcess, emulator: Any,
                                               metrics: Metrics) -> None:
    cluster.apply(vault("vault-a"), selector("daily", "vault-a", resourceGroups=["rg-web"]))
    eventually(lambda: protected_names(cluster) == {"vm-web-01", "vm-web-02", "vm-multi-nic"}, timeout=90,
               what="the rg-web VMs protected by the first pass")
    emulator.admin.add_vm({"name": "vm-web-03", "resourceGroup": "rg-web", "tags": {"backup": "daily"},
                           "nics": [{"subnet": "rg-network/vnet-weu/default"}]})
    eventually(lambda: "vm-web-03" in protected_names(cluster), timeout=60,
               what="the new VM protected, an hour before the next full pass")
    assert metrics.value("azbackup_vault_passes_total") == 1  # the first pass only: the feed found it
    assert metrics.value("azbackup_change_feed_wakes_total") >= 1
    # Read by its id (with its NIC and disks), never by listing the subscription again.
    assert emulator.admin.count("VirtualMachines_ListAll") == 1


def test_portal_drift_is_corrected_through_the_feed(cluster: Cluster, feed_operator: OperatorProcess, arm: Arm,
                                                    metrics: Metrics) -> None:
    cluster.apply(vault("vault-a"), policy("daily", "vault-a", policyType="Standard"),
                  protected_vm("web-01", "vault-a", vm_id("rg-web", "vm-web-01")))
    cluster.wait_for("protectedvm", "web-01", timeout=90, operator=feed_operator)
    cluster.wait_for("backuppolicy", "daily", operator=feed_operator)
    # A person moves the VM to another policy and edits the policy, in the portal.
    arm.protect("rg-backup", "vault-a", "rg-web", "vm-web-01", policy="daily")
    edit_retention(arm, "vault-a", "daily", 7)
    eventually(lambda: ((arm.item("rg-backup", "vault-a", "rg-web", "vm-web-01") or {}).get("properties") or {})
               .get("policyName") == "DefaultPolicy", timeout=60, what="the item back on its policy")
    eventually(lambda: retention(arm, "vault-a", "daily") == 30, timeout=60, what="the policy's retention back")
    assert metrics.value("azbackup_vault_passes_total") == 1  # no full pass did it
    assert metrics.value("azbackup_change_feed_entries_total", origin="change") >= 2


def test_the_operators_own_writes_come_back_and_are_ignored(cluster: Cluster, feed_operator: OperatorProcess,
                                                           emulator: Any, metrics: Metrics) -> None:
    cluster.apply(vault("vault-a"), protected_vm("web-01", "vault-a", vm_id("rg-web", "vm-web-01")))
    cluster.wait_for("protectedvm", "web-01", timeout=90, operator=feed_operator)
    eventually(lambda: metrics.value("azbackup_change_feed_entries_total", origin="own") >= 3, timeout=30,
               what="the vault PUT, the discovery and the protection PUT seen in the feed")
    emulator.admin.reset_counters()
    reads = metrics.value("azbackup_change_feed_reads_total", result="ok")
    eventually(lambda: metrics.value("azbackup_change_feed_reads_total", result="ok") >= reads + 3, timeout=30,
               what="three more reads of the feed")
    assert metrics.value("azbackup_change_feed_entries_total", origin="change") == 0
    assert metrics.value("azbackup_change_feed_wakes_total") == 0
    counters = emulator.admin.counters()
    assert counters["kinds"]["write"] == 0
    # No echo of the operator's own writes: nothing the feed names was read again by its id (a requeue
    # the process had scheduled anyway may still read its vault).
    by_id = {"ProtectedItems_Get", "VirtualMachines_Get", "NetworkInterfaces_Get", "Disks_Get",
             "ProtectionPolicies_Get"}
    assert not by_id & set(counters["operations"]), counters["operations"]
    assert counters["operations"]["ActivityLogs_List"]["total"] >= 3


def test_a_feed_outage_falls_back_to_a_full_pass(cluster: Cluster, feed_operator: OperatorProcess, arm: Arm,
                                                 emulator: Any, metrics: Metrics) -> None:
    cluster.apply(vault("vault-a"), policy("daily", "vault-a", policyType="Standard"))
    cluster.wait_for("backuppolicy", "daily", timeout=60, operator=feed_operator)
    eventually(lambda: metrics.value("azbackup_change_feed_reads_total", result="ok") >= 1, timeout=30,
               what="the feed read once")
    emulator.admin.add_fault(operation="ActivityLogs_List", status=503, code="ServiceUnavailable", count=None)
    edit_retention(arm, "vault-a", "daily", 7)  # made while the feed cannot tell
    eventually(lambda: metrics.value("azbackup_change_feed_reads_total", result="gap") >= 1, timeout=60,
               what="the outage noticed")
    eventually(lambda: retention(arm, "vault-a", "daily") == 30, timeout=60,
               what="the change corrected by the full pass that replaced the feed")
    assert metrics.value("azbackup_vault_passes_total") >= 2
    assert "has a gap" in feed_operator.logs()
