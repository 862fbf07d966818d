"""Prometheus watching the operator pod on the real node, as a platform team runs it: it finds the pod
through the chart's metrics Service (Kubernetes service discovery over the Service's EndpointSlices, as a
ServiceMonitor does), evaluates the chart's alert rules, fires AzbackupBackupJobFailed when a backup job
fails in the emulator and resolves it when the next one succeeds, and every query of the Grafana
dashboard returns data.

Prometheus runs as a process on this machine, not as a pod: it is one static binary
(hack/build-prometheus.sh) and needs no image; the host reaches pod IPs on the node's bridge (Services'
cluster IPs need kube-proxy, which this node has not) and the apiserver on loopback for discovery.
The rules are files/alerts.yaml with every `for:` cut to a few seconds; the production ones stay.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from azbackup.devtools import cluster, incluster

from tests.integration.harness import SUB, Cluster, eventually, protected_vm, vault, vm_id
from tests.prometheus import tools
from tests.realnode.conftest import Release
from tests.unit import test_chart_static as chart

pytestmark = pytest.mark.timeout(1800)

INTERVAL = "2s"  # scrape and rule evaluation
SHORT_FOR = "2s"  # every rule's `for:` in this test
RATE_INTERVAL = "20s"  # Grafana's $__rate_interval for a 2 s scrape is at least four scrapes
VM = "vm-prom-01"
VM_ID = vm_id("rg-apps", VM)
VAULT = "vault-prom"
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
DRILL_TARGET = {
    "resourceGroup": "rg-drill",
    "subnetId": f"/subscriptions/{SUB}/resourceGroups/rg-drill/providers/Microsoft.Network/virtualNetworks/"
                "vnet-drill/subnets/default",
    "stagingStorageAccountId": f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.Storage/"
                               "storageAccounts/strestorestaging"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def short_rules(path: Path) -> Path:
    rules = yaml.safe_load(tools.RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = SHORT_FOR
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return path


class Prometheus:
    """prometheus as a process scraping one release's metrics Service; its HTTP API on loopback."""

    def __init__(self, c: cluster.Cluster, release: Release, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.job = f"{release.fullname}-metrics"
        # What the chart's ServiceMonitor asks of the Prometheus Operator, written by hand: the endpoints
        # of the Service named `metrics`, the object's own `namespace` label honoured.
        config = {
            "global": {"scrape_interval": INTERVAL, "scrape_timeout": INTERVAL, "evaluation_interval": INTERVAL},
            "rule_files": [str(short_rules(workdir / "alerts.yaml"))],
            "scrape_configs": [{
                "job_name": "azbackup",
                "honor_labels": True,
                "kubernetes_sd_configs": [{"role": "endpointslice", "kubeconfig_file": str(c.plane.kubeconfig),
                                           "namespaces": {"names": [release.namespace]}}],
                "relabel_configs": [
                    {"source_labels": ["__meta_kubernetes_service_name"], "regex": self.job, "action": "keep"},
                    {"source_labels": ["__meta_kubernetes_endpointslice_port_name"], "regex": "metrics",
                     "action": "keep"},
                    {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job"},
                    {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                    {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
                ],
            }],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        self.log = workdir / "prometheus.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Prometheus:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(tools.bin_dir() / "prometheus"), f"--config.file={self.workdir / 'prometheus.yml'}",
                 f"--storage.tsdb.path={self.workdir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}"],
                cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        eventually(self.ready, timeout=60, what="prometheus ready")
        return self

    def ready(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, f"prometheus exited:\n{self.log.read_text()[-3000:]}"
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/-/ready", timeout=5) as response:
            return bool(response.status == 200)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=30) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def firing(self, alertname: str) -> list[dict[str, str]]:
        """Labels of the alerts of that name that fire now (GET /api/v1/alerts)."""
        return [a["labels"] for a in self.api("alerts")["alerts"]
                if a["labels"]["alertname"] == alertname and a["state"] == "firing"]


@pytest.fixture(scope="module")
def watched(real_cluster: cluster.Cluster, helm: incluster.Helm, emulator_pod: incluster.PodEmulator,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Release, Prometheus]]:
    release = Release(real_cluster, helm, emulator_pod, changeFeed={"interval": 5}).install()
    prometheus = Prometheus(real_cluster, release, tmp_path_factory.mktemp("prometheus"))
    try:
        yield release, prometheus.start()
    finally:
        prometheus.stop()
        release.uninstall()


def test_prometheus_finds_the_operator_pod_through_the_charts_service(watched: tuple[Release, Prometheus]) -> None:
    release, prometheus = watched
    started = time.monotonic()

    def up() -> list[dict[str, Any]]:
        return [t for t in prometheus.api("targets", state="active")["activeTargets"] if t["health"] == "up"]

    [target] = eventually(up, timeout=120, what="the operator's target up")
    print(f"\n[prometheus] target up {time.monotonic() - started:.1f}s after start: {target['scrapeUrl']}")
    assert target["labels"]["job"] == prometheus.job
    assert target["labels"]["namespace"] == release.namespace
    assert target["discoveredLabels"]["__meta_kubernetes_service_name"] == prometheus.job
    [pod] = release.pods()
    assert target["scrapeUrl"] == f"http://{pod['status']['podIP']}:9090/metrics"
    leading = eventually(lambda: prometheus.api("query", query="azbackup_leading")["result"], timeout=30,
                         what="azbackup_leading scraped")
    assert [float(s["value"][1]) for s in leading] == [1.0]


def test_a_failed_backup_job_fires_its_alert_which_resolves_with_the_next_backup(
        watched: tuple[Release, Prometheus], real_cluster: cluster.Cluster,
        emulator_pod: incluster.PodEmulator) -> None:
    release, prometheus = watched
    objects = Cluster(real_cluster.plane, release.watched)
    # A VM of its own (as vm-api-01, without data disks), so no other test's vault protects it already.
    emulator_pod.admin("POST", "vms", {"name": VM, "resourceGroup": "rg-apps", "subscription": SUB,
                                       "nics": [{"subnet": "rg-network/vnet-weu/default"}]})
    elsewhere = vault("vault-prom-elsewhere")  # observed, not in Azure: Stalled (the dashboard's error panels)
    elsewhere["metadata"]["annotations"] = {"azbackup.dev/reconcile-policy": "observe"}
    objects.apply(vault(VAULT), elsewhere, protected_vm("web", VAULT, VM_ID))
    objects.wait_for("protectedvm", "web", reason="Protected", timeout=180)
    # A restore drill of the VM from a 3-hour-old point, against a 1-hour RPO objective: its run fills the
    # dashboard's drill panels while the backups below fail and succeed.
    emulator_pod.admin("POST", "recovery-points", {"vaultId": VAULT_ID, "vm": f"rg-apps/{VM}", "ageHours": 3})
    objects.apply({"apiVersion": "azbackup.dev/v1alpha1", "kind": "RestoreDrill", "metadata": {"name": "drill"},
                   "spec": {"vaultRef": {"name": VAULT}, "schedule": "* * * * *", "targets": {"names": ["web"]},
                            "target": DRILL_TARGET, "verificationDeadline": "5m", "rpoObjective": "1h"}})
    # A change in Azure the change feed reads (its lag histogram).
    emulator_pod.admin("PATCH", f"vms/{SUB}/rg-apps/{VM}", {"tags": {"team": "prometheus"}})

    emulator_pod.admin("POST", "job-faults", {"vm": VM_ID, "operation": "Backup", "count": 1,
                                              "code": "UserErrorGuestAgentStatusUnavailable"})
    objects.apply(on_demand("failing"))
    objects.wait_for("ondemandbackup", "failing", status="False", reason="BackupFailed", timeout=180)
    failed = time.monotonic()
    mine = {"namespace": release.watched, "name": "web"}

    def fires() -> list[dict[str, str]]:
        return [a for a in prometheus.firing("AzbackupBackupJobFailed") if mine.items() <= a.items()]

    [alert] = eventually(fires, timeout=120, what="AzbackupBackupJobFailed firing")
    fired = time.monotonic() - failed
    assert (alert["kind"], alert["condition"], alert["reason"]) == ("ProtectedVM", "BackupHealthy",
                                                                    "LastBackupFailed")
    assert alert["job"] == prometheus.job
    [also] = eventually(lambda: prometheus.firing("AzbackupOnDemandBackupOrRestoreFailed"), timeout=60,
                        what="AzbackupOnDemandBackupOrRestoreFailed firing")
    assert (also["kind"], also["name"], also["reason"]) == ("OnDemandBackup", "failing", "BackupFailed")

    objects.apply(on_demand("again"))
    objects.wait_for("ondemandbackup", "again", reason="BackupSucceeded", timeout=180)
    succeeded = time.monotonic()
    eventually(lambda: not fires(), timeout=120, what="AzbackupBackupJobFailed resolved")
    resolved = time.monotonic() - succeeded
    objects.delete("ondemandbackup", "failing")
    eventually(lambda: not prometheus.firing("AzbackupOnDemandBackupOrRestoreFailed"), timeout=60,
               what="AzbackupOnDemandBackupOrRestoreFailed resolved with its object deleted")
    print(f"\n[prometheus] AzbackupBackupJobFailed fired {fired:.1f}s after the job failed and resolved "
          f"{resolved:.1f}s after the next backup succeeded")


def on_demand(name: str) -> dict[str, Any]:
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "OnDemandBackup", "metadata": {"name": name},
            "spec": {"protectedVMRef": {"name": "web"}}}


def grafana(expr: str) -> str:
    """A dashboard query as Grafana sends it: every operator ($job All) and its rate interval."""
    return expr.replace("$__rate_interval", RATE_INTERVAL).replace("$job", ".*")


def test_every_dashboard_query_returns_data(watched: tuple[Release, Prometheus],
                                            real_cluster: cluster.Cluster) -> None:
    release, prometheus = watched
    objects = Cluster(real_cluster.plane, release.watched)
    # The drill's first run: its RPO and RTO gauges.
    eventually(lambda: ((objects.get("restoredrill", "drill") or {}).get("status") or {}).get("runs"), timeout=300,
               what="the drill finished a run")
    end = time.time()
    start = end - 900
    queries = sorted({q for q in chart.dashboard_queries(chart.DASHBOARD) if not q.startswith("label_values")})

    def empty() -> list[str]:
        """The queries whose panel would be empty: no series, or only NaN (a quantile of no events)."""
        missing = []
        for expr in queries:
            result = prometheus.api("query_range", query=grafana(expr), start=str(start), end=str(time.time()),
                                    step="2")["result"]
            if not any(not math.isnan(float(v)) for series in result for _, v in series["values"]):
                missing.append(expr)
        return missing

    missing, deadline = queries, time.monotonic() + 120
    while missing and time.monotonic() < deadline:
        missing = empty()
        if missing:
            time.sleep(2)  # polling with a deadline: the next scrapes may bring the last panels' data
    assert missing == []
    print(f"\n[prometheus] {len(queries)} dashboard queries, every one with data")
    # The dashboard's $job variable: label_values(azbackup_reconcile_total, job).
    assert prometheus.job in prometheus.api("label/job/values", **{"match[]": "azbackup_reconcile_total"})
