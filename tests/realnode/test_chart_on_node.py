"""The chart installed for real: `helm install` on a one-node cluster (kubelet + containerd + runc on this
machine) with the image built from the Dockerfile; the operator runs as a pod against the emulator,
which runs as a pod too. What `helm template` and the control-plane tests cannot show is shown here:
the image starts as uid 65532 on a read-only root filesystem, the real probes pass, the ServiceAccount
token and the chart's RBAC suffice, a deleted pod is replaced without a second write to Azure, the
standby of an active/standby pair takes over, and Flux and Argo CD agree on every object's health.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from azbackup.devtools import cluster, incluster, node

from tests.integration.harness import Cluster, eventually, policy, protected_vm, vault, vm_id
from tests.realnode import gitops
from tests.realnode.conftest import Release, denied_lines

# The first test also waits for the session's builds when they are cold (`make test` builds them first).
pytestmark = pytest.mark.timeout(1800)


def on_demand(name: str, target: str) -> dict[str, Any]:
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "OnDemandBackup", "metadata": {"name": name},
            "spec": {"protectedVMRef": {"name": target}}}


class PodOperator:
    """The release's operator pod(s), as Cluster.wait_for wants an operator: alive() and logs()."""

    def __init__(self, release: Release) -> None:
        self.release = release

    def alive(self) -> bool:
        return True  # the Deployment replaces a dead pod; a crash shows as restarts, checked separately

    def logs(self) -> str:
        return "\n".join(self.release.logs(p["metadata"]["name"]) for p in self.release.pods())


def ready_pods(release: Release) -> list[dict[str, Any]]:
    return [p for p in release.pods() if not p["metadata"].get("deletionTimestamp") and any(
        c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or ())]


WRITES = ("Vaults_CreateOrUpdate", "ProtectionPolicies_CreateOrUpdate", "ProtectedItems_CreateOrUpdate",
          "Backups_Trigger")


def writes(emulator: incluster.PodEmulator) -> dict[str, int]:
    """Azure writes so far, by operation. The emulator is shared by the module's tests and never reset
    (a reset would make it forget the earlier tests' vaults, which the operator would then re-create):
    tests compare before and after."""
    counters = emulator.admin("GET", "counters")["operations"]
    return {op: int(counters.get(op, {}).get("total", 0)) for op in WRITES}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: after[op] - before[op] for op in WRITES if after[op] != before[op]}


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


@pytest.fixture(scope="module")
def single(real_cluster: cluster.Cluster, helm: incluster.Helm,
           emulator_pod: incluster.PodEmulator) -> Iterator[Release]:
    """One release, one replica (a Deployment), shared by the tests of this module in order."""
    release = Release(real_cluster, helm, emulator_pod).install()
    print(f"\n[real-node] helm install --wait (pod Ready through its probes): {release.install_seconds:.0f}s")
    yield release
    release.uninstall()


def test_the_pod_runs_non_root_on_a_read_only_root_and_serves_probes_and_metrics(
        single: Release, real_cluster: cluster.Cluster) -> None:
    [pod] = ready_pods(single)
    name, ip = pod["metadata"]["name"], pod["status"]["podIP"]
    [status] = pod["status"]["containerStatuses"]
    assert status["ready"]
    assert status["restartCount"] == 0
    assert status["image"].endswith(real_cluster.images.image.split("/", 1)[1])
    assert pod["spec"]["nodeName"] == real_cluster.node.name

    def exec_(*cmd: str) -> Any:
        return real_cluster.kubectl("exec", name, "-n", single.namespace, "--", *cmd, check=False)

    assert exec_("id", "-u").stdout.strip() == "65532"
    assert exec_("id", "-g").stdout.strip() == "65532"
    denied = exec_("sh", "-c", "touch /opt/venv/probe")
    assert denied.returncode != 0
    assert "Read-only file system" in denied.stderr
    assert exec_("sh", "-c", "touch /tmp/probe && echo ok").stdout.strip() == "ok"  # the emptyDir

    assert get(f"http://{ip}:8080/healthz")[0] == 200
    code, metrics = get(f"http://{ip}:9090/metrics")
    assert code == 200
    assert "azbackup_vault_passes_total" in metrics

    lines = [line for line in single.logs(name).splitlines() if line.strip()]
    assert lines, "the operator logged nothing"
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert isinstance(record, dict), line
        assert record.get("message") is not None, line


def test_the_operator_pod_reconciles_against_the_emulator_pod_and_gitops_tools_agree(
        single: Release, real_cluster: cluster.Cluster, emulator_pod: incluster.PodEmulator) -> None:
    before = writes(emulator_pod)
    # ConfigureBackup takes 10 s and a backup job 20 s here, so the in-progress stage can be seen.
    emulator_pod.admin("PATCH", "settings", {"durations": {"configureProtection": 500, "backupJob": 1000}})
    objects = Cluster(real_cluster.plane, single.watched)
    vms = {"vm-web-01": "rg-web", "vm-web-02": "rg-web", "vm-db-01": "rg-data"}
    observe = vault("vault-elsewhere")
    observe["metadata"]["annotations"] = {"azbackup.dev/reconcile-policy": "observe"}
    objects.apply(vault("vault-a"), policy("daily", "vault-a"), observe,
                  *[protected_vm(v, "vault-a", vm_id(rg, v), policyRef={"name": "daily"}) for v, rg in vms.items()],
                  on_demand("now", "vm-web-01"))

    binary = node.kstatus_binary(real_cluster.node_bin)
    seen: dict[tuple[str, str], set[str]] = {}
    without_status: set[tuple[str, str, str]] = set()

    def sample() -> bool:
        out = real_cluster.kubectl("get", ",".join(gitops.KINDS), "-n", single.watched, "-o", "json")
        items = json.loads(out.stdout)["items"]
        for kind, name, flux, argo, has_status in gitops.verdicts(binary, items):
            if not has_status:
                # Before the operator's first status write kstatus knows nothing about a custom kind
                # and says Current; health.lua says Progressing. Recorded, not compared.
                without_status.add((kind, flux, argo))
                continue
            assert gitops.AGREEING.get(flux) == argo, f"{kind}/{name}: kstatus {flux}, Argo CD {argo}"
            seen.setdefault((kind, flux), set()).add(name)
        done = [o for o in items if o["kind"] != "BackupVault" or o["metadata"]["name"] != "vault-elsewhere"]
        health = {f"{o['kind']}/{o['metadata']['name']}": gitops.argocd(o) for o in done}
        assert len(done) == 6
        assert all(h["status"] == "Healthy" for h in health.values()), health
        return True

    eventually(sample, timeout=180, what="every object Healthy (kstatus Current)")
    for kind in ("ProtectedVM", "OnDemandBackup"):
        assert (kind, "InProgress") in seen, f"{kind} was never seen InProgress: {sorted(seen)}"
    for kind in ("BackupVault", "BackupPolicy", "ProtectedVM", "OnDemandBackup"):
        assert (kind, "Current") in seen, f"{kind} was never seen Current: {sorted(seen)}"
    assert seen.get(("BackupVault", "Failed")) == {"vault-elsewhere"}  # Stalled: NotFoundInAzure
    print(f"\n[real-node] stages seen (kind, kstatus): {sorted(seen)}; without status: {sorted(without_status)}")

    assert delta(before, writes(emulator_pod)) == {"Vaults_CreateOrUpdate": 1, "ProtectionPolicies_CreateOrUpdate": 1,
                                                   "ProtectedItems_CreateOrUpdate": len(vms), "Backups_Trigger": 1}
    # The workload itself, as both tools see it.
    out = real_cluster.kubectl("get", "deployment", single.fullname, "-n", single.namespace, "-o", "json")
    [(_, _, flux, _, _)] = gitops.verdicts(binary, [json.loads(out.stdout)])
    assert flux == "Current"


def test_a_deleted_operator_pod_is_replaced_without_a_second_write(
        single: Release, real_cluster: cluster.Cluster, emulator_pod: incluster.PodEmulator) -> None:
    emulator_pod.admin("PATCH", "settings", {"durations": {"backupJob": 1500}})  # 30 s at this time scale
    before = writes(emulator_pod)
    objects = Cluster(real_cluster.plane, single.watched)
    operator = PodOperator(single)
    objects.apply(vault("vault-b"), protected_vm("web", "vault-b", vm_id("rg-apps", "vm-api-01")),
                  on_demand("again", "web"))
    objects.wait_for("ondemandbackup", "again", status="False", reason="BackupTriggered", timeout=120,
                     operator=operator)
    [old] = ready_pods(single)
    real_cluster.kubectl("delete", "pod", old["metadata"]["name"], "-n", single.namespace, "--wait=false")
    started = time.monotonic()
    new = eventually(lambda: [p for p in ready_pods(single) if p["metadata"]["uid"] != old["metadata"]["uid"]],
                     timeout=120, what="a replacement pod Ready")
    replaced = time.monotonic() - started
    objects.wait_for("ondemandbackup", "again", reason="BackupSucceeded", timeout=120, operator=operator)
    print(f"\n[real-node] pod deleted mid-job: replacement Ready in {replaced:.1f}s "
          f"({new[0]['metadata']['name']})")
    # One write of each, although the operator that sent them was deleted while the job ran.
    assert delta(before, writes(emulator_pod)) == {"Vaults_CreateOrUpdate": 1, "ProtectedItems_CreateOrUpdate": 1,
                                                   "Backups_Trigger": 1}


def test_the_chart_rbac_is_enough_and_no_more(single: Release, real_cluster: cluster.Cluster) -> None:
    logs = "\n".join(single.logs(p["metadata"]["name"]) for p in single.pods())
    assert denied_lines(logs) == [], logs[-3000:]
    sa = f"system:serviceaccount:{single.namespace}:{single.fullname}"
    for verb, resource, namespace, allowed in [
            ("patch", "backupvaults", single.watched, "yes"), ("patch", "protectedvms/status", single.watched, "yes"),
            ("create", "events", single.watched, "yes"),
            ("update", "backupvaults", single.watched, "no"), ("create", "backupvaults", single.watched, "no"),
            ("delete", "backupvaults", single.watched, "no"), ("list", "secrets", single.watched, "no"),
            ("create", "pods", single.watched, "no"), ("get", "backupvaults", "default", "no"),
            ("get", "secrets", single.namespace, "no"), ("create", "deployments", single.namespace, "no")]:
        resource_arg, _, sub = resource.partition("/")
        args = ["auth", "can-i", verb, resource_arg, f"--as={sa}", "-n", namespace]
        if sub:
            args.append(f"--subresource={sub}")
        answer = real_cluster.kubectl(*args, check=False).stdout.strip()
        assert answer == allowed, f"{verb} {resource} in {namespace}: {answer}"


def azure_requests(pod: dict[str, Any], kind: str) -> float:
    """What this pod has sent to Azure (its own /metrics: azbackup_azure_requests_total{kind=...})."""
    from prometheus_client.parser import text_string_to_metric_families

    text = get(f"http://{pod['status']['podIP']}:9090/metrics")[1]
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "azbackup_azure_requests_total" and sample.labels.get("kind") == kind)


def peering_state(logs: str) -> str:
    """The pod's latest kopf peering decision: "resumed", "paused", or "" (kopf starts paused silently)."""
    state = ""
    for line in logs.splitlines():
        if "Resuming operations" in line:
            state = "resumed"
        elif "Pausing operations" in line:
            state = "paused"
    return state


def test_active_standby_the_standby_takes_over(install: Any, real_cluster: cluster.Cluster,
                                               emulator_pod: incluster.PodEmulator) -> None:
    release: Release = install(replicas=2, peering={"enabled": True})
    print(f"\n[real-node] helm install --wait, replicas 2: {release.install_seconds:.0f}s")
    before = writes(emulator_pod)
    objects = Cluster(real_cluster.plane, release.watched)
    active, standby = f"{release.fullname}-1", f"{release.fullname}-0"  # the highest ordinal wins
    assert {p["metadata"]["name"] for p in ready_pods(release)} == {active, standby}
    # With mandatory peering kopf resumes only while no live peer outranks it. The StatefulSet starts
    # -0 (the standby) first, so it may resume for a moment and pause again once -1 appears: what counts
    # is each pod's latest peering decision, and that the standby sent nothing to Azure.
    eventually(lambda: peering_state(release.logs(active)) == "resumed", timeout=60, what="the active pod resumes")
    objects.apply(vault("vault-c"), policy("weekly", "vault-c"))
    objects.wait_for("backuppolicy", "weekly", timeout=90)
    pods = {p["metadata"]["name"]: p for p in ready_pods(release)}
    assert azure_requests(pods[active], "writes") >= 2
    assert azure_requests(pods[standby], "writes") == 0  # only the active pod writes
    assert azure_requests(pods[standby], "reads") == 0
    assert peering_state(release.logs(standby)) != "resumed"  # paused from the start, or paused again

    real_cluster.kubectl("delete", "pod", active, "-n", release.namespace, "--wait=false")
    started = time.monotonic()
    eventually(lambda: peering_state(release.logs(standby)) == "resumed", timeout=120, what="the standby resumes")
    takeover = time.monotonic() - started
    print(f"\n[real-node] takeover: the standby resumed {takeover:.1f}s after the active pod was deleted")
    objects.apply(vault("vault-d"))
    objects.wait_for("backupvault", "vault-d", timeout=90)
    assert delta(before, writes(emulator_pod)) == {"Vaults_CreateOrUpdate": 2, "ProtectionPolicies_CreateOrUpdate": 1}
    logs = "\n".join(release.logs(p["metadata"]["name"]) for p in release.pods()) + release.logs(standby)
    assert denied_lines(logs) == [], logs[-3000:]
