"""The Helm chart installed by the real helm into the session's control plane.

The control plane is etcd + kube-apiserver + kube-controller-manager and no kubelet: nothing is
scheduled and no container starts, so the operator pod never runs here. What these tests show:
- the apiserver (with its real validation, admission and RBAC) accepts every object the chart makes,
  for a single-replica Deployment, an active/standby StatefulSet and the per-namespace variant;
- the RBAC the chart grants is enough, and no more than needed: `azbackup run`, started on this
  machine with the chart's own arguments and the chart's ServiceAccount token, brings a vault and a
  policy to Ready against the emulator and writes no Forbidden into its log.

CRDs: the session fixture has already applied crds/ (the same files the chart ships). The tests
install the chart with its CRDs all the same: Helm skips a CRD that already exists and creates the
kopf peering CRDs of the kopf-peering subchart, which is the path a first install takes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from azbackup.devtools import control_plane
from azbackup.process import children

from tests.integration.harness import Cluster, eventually, operator_env, policy, vault

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "azbackup-operator"


class Helm:
    """The pinned helm, bound to the session's control plane, with its own cache and config dirs."""

    def __init__(self, plane: control_plane.ControlPlane, home: Path) -> None:
        self.plane = plane
        self.env = dict(os.environ, HELM_CACHE_HOME=str(home / "cache"), HELM_CONFIG_HOME=str(home / "config"),
                        HELM_DATA_HOME=str(home / "data"))

    def __call__(self, *args: str, values: Mapping[str, Any] | None = None,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.plane.bin_dir / "helm"), "--kubeconfig", str(self.plane.kubeconfig), *args]
        if values is not None:
            cmd += ["-f", "-"]
        out = subprocess.run(cmd, input=json.dumps(values) if values is not None else None, text=True,
                             capture_output=True, env=self.env, timeout=180)
        if check and out.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        return out


class Release:
    """One `helm install` into a fresh namespace, uninstalled (with its namespace) afterwards."""

    def __init__(self, helm: Helm, values: Mapping[str, Any]) -> None:
        self.helm, self.values = helm, dict(values)
        self.name = f"azb-{uuid.uuid4().hex[:6]}"
        self.namespace = f"{self.name}-system"
        self.fullname = f"{self.name}-azbackup-operator"
        self.notes = ""

    def install(self) -> Release:
        # --wait=false: with no kubelet the pods never become ready, so waiting would only time out.
        out = self.helm("install", self.name, str(CHART), "--namespace", self.namespace, "--create-namespace",
                        "--wait=false", values=self.values)
        self.notes = out.stdout
        return self

    def uninstall(self) -> None:
        self.helm("uninstall", self.name, "--namespace", self.namespace, "--wait=false", check=False)
        self.helm.plane.kubectl("delete", "namespace", self.namespace, "--wait=false", check=False)

    def manifest(self) -> str:
        return self.helm("get", "manifest", self.name, "--namespace", self.namespace).stdout

    def objects(self) -> list[dict[str, Any]]:
        """Every object of the release as the apiserver stores it (fails if one is missing)."""
        out = self.helm.plane.kubectl("get", "-f", "-", "-o", "json", input=self.manifest())
        data = json.loads(out.stdout)
        return list(data["items"]) if data.get("kind") == "List" else [data]


@pytest.fixture
def helm(control_plane_instance: control_plane.ControlPlane, tmp_path: Path) -> Helm:
    return Helm(control_plane_instance, tmp_path / "helm")


@pytest.fixture
def install(helm: Helm) -> Iterator[Any]:
    releases: list[Release] = []

    def _install(values: Mapping[str, Any]) -> Release:
        release = Release(helm, values)
        releases.append(release)
        return release.install()

    yield _install
    for release in releases:
        release.uninstall()


def by_kind(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        out.setdefault(obj["kind"], []).append(obj)
    return out


def test_default_install_is_accepted_by_the_apiserver(install: Any, helm: Helm) -> None:
    release = install({"dashboard": {"enabled": True}})
    status = json.loads(helm("status", release.name, "-n", release.namespace, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"
    kinds = by_kind(release.objects())
    assert sorted(kinds) == ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Service",
                             "ServiceAccount"]
    deployment = kinds["Deployment"][0]
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == release.fullname
    assert kinds["ConfigMap"][0]["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "It watches the whole cluster." in release.notes
    # The CRDs are there (Helm skipped the five the session applied) with the kopf peering ones.
    crds = json.loads(helm.plane.kubectl("get", "crds", "-o", "json").stdout)["items"]
    names = {c["metadata"]["name"] for c in crds}
    assert {"backupvaults.azbackup.dev", "clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"} <= names


def test_active_standby_install_is_a_statefulset_with_a_cluster_peering(install: Any) -> None:
    release = install({"replicas": 2, "peering": {"enabled": True}, "azure": {
        "workloadIdentity": {"enabled": True, "clientId": "11111111-2222-3333-4444-555555555555"}}})
    kinds = by_kind(release.objects())
    assert "Deployment" not in kinds
    sts = kinds["StatefulSet"][0]
    assert sts["spec"]["replicas"] == 2
    assert sts["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert kinds["ServiceAccount"][0]["metadata"]["annotations"]["azure.workload.identity/client-id"] == (
        "11111111-2222-3333-4444-555555555555")
    assert [p["metadata"]["name"] for p in kinds["ClusterKopfPeering"]] == [release.fullname]


def test_watched_namespaces_install_roles_and_peerings_in_each(install: Any, helm: Helm) -> None:
    watched = [f"w-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for ns in watched:
        helm.plane.kubectl("create", "namespace", ns)
    try:
        release = install({"watchNamespaces": watched, "peering": {"enabled": True}})
        kinds = by_kind(release.objects())
        # Cluster-wide, only reading namespaces and CRDs (kopf lists and watches them): no kinds.
        [cluster_role] = kinds["ClusterRole"]
        assert sorted(r for rule in cluster_role["rules"] for r in rule["resources"]) == [
            "customresourcedefinitions", "namespaces"]
        for kind in ("Role", "RoleBinding", "KopfPeering"):
            assert sorted(o["metadata"]["namespace"] for o in kinds[kind]) == sorted(watched), kind
        sa = f"system:serviceaccount:{release.namespace}:{release.fullname}"
        for verb, resource, allowed in [("patch", "backupvaults", "yes"), ("watch", "protectedvms", "yes"),
                                        ("create", "protectedvms", "yes"), ("patch", "backupvaults/status", "yes"),
                                        ("get", "secrets", "yes"), ("patch", "kopfpeerings.kopf.dev", "yes"),
                                        ("update", "backupvaults", "no"), ("delete", "backupvaults", "no"),
                                        ("create", "backupvaults", "no"), ("list", "secrets", "no")]:
            resource_arg, _, sub = resource.partition("/")
            args = ["auth", "can-i", verb, resource_arg, f"--as={sa}", "-n", watched[0]]
            if sub:
                args.append(f"--subresource={sub}")
            answer = helm.plane.kubectl(*args, check=False).stdout.strip()
            assert answer == allowed, f"{verb} {resource}: {answer}"
        for verb, resource in [("get", "backupvaults"), ("get", "secrets"), ("create", "events")]:
            other = helm.plane.kubectl("auth", "can-i", verb, resource, f"--as={sa}", "-n", "default",
                                       check=False).stdout.strip()
            assert other == "no", f"{verb} {resource} outside the watched namespaces"
    finally:
        for ns in watched:
            helm.plane.kubectl("delete", "namespace", ns, "--wait=false", check=False)


# -- the operator under the chart's RBAC ----------------------------------------------------------------

def service_account_kubeconfig(plane: control_plane.ControlPlane, namespace: str, name: str, path: Path) -> Path:
    """A kubeconfig that authenticates as the ServiceAccount (a short-lived TokenRequest token)."""
    token = plane.kubectl("create", "token", name, "-n", namespace, "--duration=1h").stdout.strip()
    assert plane.pki is not None
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "sa",
        "clusters": [{"name": "local", "cluster": {"server": plane.server,
                                                   "certificate-authority": str(plane.pki.ca_cert)}}],
        "users": [{"name": "sa", "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "local", "user": "sa"}}],
    }))
    return path


def chart_args(release: Release) -> list[str]:
    """The operator's arguments exactly as the chart renders them, with local ports."""
    docs = [d for d in yaml.safe_load_all(release.manifest()) if d]
    workload = next(d for d in docs if d["kind"] in ("Deployment", "StatefulSet"))
    args = list(workload["spec"]["template"]["spec"]["containers"][0]["args"])
    local = {"--liveness": f"http://127.0.0.1:{control_plane.free_port()}/healthz",
             "--metrics-port": str(control_plane.free_port())}
    out = []
    for arg in args:
        flag = arg.split("=", 1)[0]
        out.append(f"{flag}={local[flag]}" if flag in local else arg)
    return out


class ChartOperator:
    """`azbackup run` with the chart's arguments and the chart's ServiceAccount, as a process here."""

    # Short timings for the test; argparse keeps the last value, so these win over the chart's.
    FAST = ("--sync-period=4", "--poll-interval=1", "--retry-scale=0.02")

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.proc = children.spawn("operator", [sys.executable, "-m", "azbackup.cli", "run", *args, *self.FAST],
                                   env=env, log=log)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        children.stop(self.proc)


@pytest.mark.parametrize("scope", ["watched-namespace", "cluster-wide-shard"])
def test_operator_reconciles_with_only_the_rbac_the_chart_grants(
        scope: str, install: Any, cluster: Cluster, emulator: Any, tmp_path: Path) -> None:
    shard = f"t{uuid.uuid4().hex[:8]}"
    values: dict[str, Any] = {"peering": {"enabled": True}, "logFormat": "text",
                              "azure": {"armEndpoint": emulator.url, "authorityHost": emulator.url}}
    if scope == "watched-namespace":
        values["watchNamespaces"] = [cluster.namespace]
    else:
        # Cluster-wide, but only objects with this label: other tests' objects stay invisible to it.
        values["labelSelector"] = f"azbackup.dev/test-shard={shard}"
    release = install(values)
    plane = cluster.plane
    env = operator_env(plane, emulator)  # the emulator's endpoint, CA bundle and client secret
    env["KUBECONFIG"] = str(service_account_kubeconfig(plane, release.namespace, release.fullname,
                                                       tmp_path / "sa.kubeconfig"))
    env["POD_ID"] = f"{release.name}-0"
    operator = ChartOperator(chart_args(release), env, tmp_path / "operator.log")
    try:
        labels = {"azbackup.dev/test-shard": shard}
        objs = [vault("vault-a"), policy("daily", "vault-a")]
        for obj in objs:
            obj["metadata"]["labels"] = labels
        cluster.apply(*objs)
        obj = cluster.wait_for("backupvault", "vault-a", timeout=90, operator=operator)
        cluster.wait_for("backuppolicy", "daily", timeout=90, operator=operator)
        assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
        # kopf's finalizer (a patch), the status subresource, and an Event: all through the chart's RBAC.
        assert "azbackup.dev/finalizer" in obj["metadata"]["finalizers"]
        eventually(lambda: "Available" in [e["reason"] for e in cluster.events("vault-a")], what="an Event")
        # The replica announced itself in the peering object the chart made (kopf patches it).
        if scope == "watched-namespace":
            peering = cluster.get("kopfpeering", release.fullname)
        else:
            out = plane.kubectl("get", "clusterkopfpeering", release.fullname, "-o", "json")
            peering = json.loads(out.stdout)
        assert f"{release.name}-0" in (peering or {}).get("status", {})
        # Deleting honours the finalizer (deletionPolicy Retain): one more patch, still allowed.
        cluster.delete("backuppolicy", "daily")
        cluster.wait_gone("backuppolicy", "daily", operator=operator)
    finally:
        operator.stop()
        logs = operator.logs()
    assert denied_lines(logs) == [], logs[-4000:]


def denied_lines(logs: str) -> list[str]:
    """Log lines that report an RBAC denial. The timestamp is cut off first: its milliseconds
    can read 403."""
    return [line for line in logs.splitlines()
            if re.search(r"\b403\b|forbidden", line.split("] ", 1)[-1], re.IGNORECASE)]


def test_denied_lines_ignores_a_timestamp_that_reads_403() -> None:
    logs = ("[2026-11-25 14:09:38,403] kopf.activities.authen [INFO   ] Activity succeeded.\n"
            "[2026-11-25 14:09:39,001] kopf.objects [ERROR  ] (403) Reason: Forbidden\n")
    assert denied_lines(logs) == [logs.splitlines()[1]]
