"""The Helm chart as the pinned helm renders it: lint, least-privilege RBAC, a restricted pod, the
operator's flags, peering, workload identity, monitoring, the CRDs, and the Grafana dashboard.

helm comes from hack/build-tools.sh (cached; the first build takes minutes). Rendering needs no
cluster: `helm template` with an explicit --kube-version, because a helm built from its Go module
assumes Kubernetes v1.20 and the chart requires >= 1.30.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from azbackup import cli, kinds, metrics
from azbackup.devtools import control_plane
from azbackup.reconcile.leases import LEASE_VERBS

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "azbackup-operator"
NAMESPACE = "azbackup-system"
RELEASE = "azb"
FULLNAME = "azb-azbackup-operator"
KINDS = ("backupvaults", "backuppolicies", "protectedvms", "vmbackupselectors", "ondemandbackups", "vmrestores",
         "restoredrills")


def kube_version() -> str:
    versions = dict(line.split("=", 1) for line in (REPO / "hack" / "versions.env").read_text().splitlines()
                    if line and not line.startswith("#"))
    return versions["KUBERNETES_VERSION"].lstrip("v")


@functools.cache
def helm() -> str:
    return str(control_plane.tool_dir() / "helm")


def run_helm(*args: str, values: Mapping[str, Any] | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
    # JSON is YAML: the value set goes in on stdin (-f -), exactly as a values file would.
    if values is None:
        return subprocess.run([helm(), *args], text=True, capture_output=True, check=check, timeout=120)
    return subprocess.run([helm(), *args, "-f", "-"], input=json.dumps(values), text=True,
                          capture_output=True, check=check, timeout=120)


@functools.cache
def _render(values_json: str, include_crds: bool) -> tuple[dict[str, Any], ...]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", kube_version()]
    if include_crds:
        args.append("--include-crds")
    out = run_helm(*args, values=json.loads(values_json))
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


def render(values: Mapping[str, Any] | None = None, include_crds: bool = False) -> list[dict[str, Any]]:
    return list(_render(json.dumps(values or {}, sort_keys=True), include_crds))


def of_kind(docs: Sequence[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any]:
    found = of_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def workload(docs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    found = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    assert len(found) == 1
    return found[0]


def container(docs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    containers = workload(docs)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def args_of(docs: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(container(docs)["args"])


def rule_triples(role: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    """Every (apiGroup, resource, verb) a Role or ClusterRole grants."""
    return {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def grants(group: str, resources: Sequence[str], verbs: Sequence[str]) -> set[tuple[str, str, str]]:
    return {(group, r, v) for r in resources for v in verbs}


# What the operator does with each namespaced object, and nothing more (see templates/_helpers.tpl).
NAMESPACED_GRANTS = (
    grants("azbackup.dev", KINDS, ["get", "list", "watch", "patch"])
    | grants("azbackup.dev", ["protectedvms"], ["create", "delete"])
    | grants("azbackup.dev", ["ondemandbackups", "vmrestores"], ["delete"])
    | grants("azbackup.dev", ["vmrestores"], ["create"])
    | grants("azbackup.dev", [f"{k}/status" for k in KINDS], ["patch"])
    | grants("", ["events"], ["create", "patch"])
    | grants("events.k8s.io", ["events"], ["create", "patch"])
    | grants("", ["secrets"], ["get"])
)
CRD_READS = grants("apiextensions.k8s.io", ["customresourcedefinitions"], ["get", "list", "watch"])
NAMESPACE_READS = grants("", ["namespaces"], ["get", "list", "watch"])

VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "watch-namespaces": {"watchNamespaces": ["a", "b"]},
    "replicas-2-with-peering": {"replicas": 2, "peering": {"enabled": True}},
    "replicas-3-sharing": {"replicas": 3, "sharding": {"enabled": True}},
    "workload-identity": {"azure": {"workloadIdentity": {"enabled": True,
                                                         "clientId": "11111111-2222-3333-4444-555555555555"}}},
    "service-monitor-and-dashboard": {"metrics": {"serviceMonitor": {"enabled": True}}, "dashboard": {"enabled": True}},
    "label-selector": {"labelSelector": "shard=a"},
    "everything": {"watchNamespaces": ["a", "b"], "replicas": 3, "peering": {"enabled": True},
                   "labelSelector": "shard=a", "rbac": {"clusterScopedReads": True},
                   "azure": {"caBundleConfigMap": "corp-ca",
                             "workloadIdentity": {"enabled": True, "clientId": "c", "tenantId": "t"}},
                   "metrics": {"serviceMonitor": {"enabled": True}}, "dashboard": {"enabled": True}},
}
ALL_SETS = [pytest.param(values, id=name) for name, values in VALUE_SETS.items()]


# -- lint -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values", ALL_SETS)
def test_helm_lint_passes_strictly(values: dict[str, Any]) -> None:
    out = run_helm("lint", "--strict", str(CHART), "--kube-version", kube_version(), values=values or {},
                   check=False)
    assert out.returncode == 0, out.stdout + out.stderr


# -- RBAC -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values", ALL_SETS)
def test_no_rbac_rule_uses_a_wildcard(values: dict[str, Any]) -> None:
    for role in of_kind(render(values), "ClusterRole") + of_kind(render(values), "Role"):
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                assert not any("*" in item for item in rule.get(field, ())), (role["metadata"]["name"], rule)


@pytest.mark.parametrize("values", ALL_SETS)
def test_nothing_is_bound_to_a_builtin_admin_role(values: dict[str, Any]) -> None:
    docs = render(values)
    for binding in of_kind(docs, "ClusterRoleBinding") + of_kind(docs, "RoleBinding"):
        assert binding["roleRef"]["name"] not in ("cluster-admin", "admin", "edit"), binding
        assert binding["roleRef"]["name"].startswith(FULLNAME)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}]


def test_cluster_wide_operator_gets_exactly_its_verbs_and_crd_reads() -> None:
    role = one(render(), "ClusterRole")
    assert rule_triples(role) == NAMESPACED_GRANTS | CRD_READS
    assert one(render(), "ClusterRoleBinding")["roleRef"]["name"] == role["metadata"]["name"]
    assert of_kind(render(), "Role") == []


def test_reading_secrets_can_be_turned_off() -> None:
    role = one(render({"rbac": {"readSecrets": False}}), "ClusterRole")
    assert rule_triples(role) == (NAMESPACED_GRANTS - grants("", ["secrets"], ["get"])) | CRD_READS


def test_watched_namespaces_get_a_role_and_binding_each_and_only_cluster_reads() -> None:
    docs = render({"watchNamespaces": ["a", "b"]})
    roles = {r["metadata"]["namespace"]: r for r in of_kind(docs, "Role")}
    bindings = {b["metadata"]["namespace"]: b for b in of_kind(docs, "RoleBinding")}
    assert sorted(roles) == sorted(bindings) == ["a", "b"]
    for ns in ("a", "b"):
        assert rule_triples(roles[ns]) == NAMESPACED_GRANTS
        assert bindings[ns]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                           "name": roles[ns]["metadata"]["name"]}
    # No ClusterRole for the kinds: the only cluster-wide grant is reading namespaces and CRDs,
    # which kopf lists and watches even when it watches a namespace list.
    cluster_role = one(docs, "ClusterRole")
    assert rule_triples(cluster_role) == NAMESPACE_READS | CRD_READS
    assert one(docs, "ClusterRoleBinding")["roleRef"]["name"] == cluster_role["metadata"]["name"]
    assert args_of(docs).count("--namespace=a") == 1
    assert args_of(docs).count("--namespace=b") == 1


def test_watched_namespaces_need_no_cluster_scoped_rbac_when_asked() -> None:
    docs = render({"watchNamespaces": ["a"], "rbac": {"clusterScopedReads": False}})
    assert of_kind(docs, "ClusterRole") == []
    assert of_kind(docs, "ClusterRoleBinding") == []
    assert len(of_kind(docs, "Role")) == 1


def test_rbac_can_be_left_to_the_user() -> None:
    docs = render({"rbac": {"create": False}})
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")]


# -- the pod ----------------------------------------------------------------------------------------

RESTRICTED_CONTAINER = {
    "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_POD = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                  "seccompProfile": {"type": "RuntimeDefault"}}


@pytest.mark.parametrize("values", ALL_SETS)
def test_operator_pod_runs_restricted_with_a_writable_tmp_only(values: dict[str, Any]) -> None:
    docs = render(values)
    pod = workload(docs)["spec"]["template"]["spec"]
    assert pod["securityContext"] == RESTRICTED_POD
    assert container(docs)["securityContext"] == RESTRICTED_CONTAINER
    mounts = {m["mountPath"]: m for m in container(docs)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    assert all(m.get("readOnly") for path, m in mounts.items() if path != "/tmp")
    assert not pod.get("hostNetwork")
    assert not pod.get("hostPID")


@pytest.mark.parametrize("values", ALL_SETS)
def test_probes_ask_kopf_liveness_endpoint(values: dict[str, Any]) -> None:
    docs = render(values)
    c = container(docs)
    assert "--liveness=http://0.0.0.0:8080/healthz" in c["args"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "health"}, probe
    assert ports["health"] == 8080


def test_probe_port_follows_the_value() -> None:
    c = container(render({"probes": {"port": 8181}}))
    assert "--liveness=http://0.0.0.0:8181/healthz" in c["args"]
    assert {p["name"]: p["containerPort"] for p in c["ports"]}["health"] == 8181


@pytest.mark.parametrize("values", ALL_SETS)
def test_container_has_resource_requests_and_limits(values: dict[str, Any]) -> None:
    resources = container(render(values))["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}


def test_image_tag_defaults_to_the_app_version_and_a_digest_wins() -> None:
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert container(render())["image"] == f"azbackup-operator:{app_version}"
    tagged = render({"image": {"repository": "r.example/azb", "tag": "1.2.3"}})
    assert container(tagged)["image"] == "r.example/azb:1.2.3"
    digest = "sha256:" + "a" * 64
    assert container(render({"image": {"digest": digest}}))["image"] == f"azbackup-operator@{digest}"


def test_scheduling_values_reach_the_pod() -> None:
    values = {"nodeSelector": {"pool": "system"}, "tolerations": [{"key": "k", "operator": "Exists"}],
              "affinity": {"nodeAffinity": {}}, "podAnnotations": {"a": "b"}, "podLabels": {"team": "x"},
              "extraEnv": [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}]}
    docs = render(values)
    template = workload(docs)["spec"]["template"]
    assert template["spec"]["nodeSelector"] == {"pool": "system"}
    assert template["spec"]["tolerations"] == [{"key": "k", "operator": "Exists"}]
    assert template["spec"]["affinity"] == {"nodeAffinity": {}}
    assert template["metadata"]["annotations"] == {"a": "b"}
    assert template["metadata"]["labels"]["team"] == "x"
    assert {"name": "HTTPS_PROXY", "value": "http://proxy:3128"} in container(docs)["env"]


# -- the operator's flags ---------------------------------------------------------------------------

def test_args_carry_the_values() -> None:
    values = {"syncPeriod": 600, "pollInterval": 5, "concurrency": 8, "workerLimit": 32, "writeRate": 2.5,
              "writeBurst": 50, "clusterName": "prod-weu", "labelSelector": "shard=a", "logFormat": "text",
              "verbose": True, "extraArgs": ["--retry-scale=0.5"], "changeFeed": {"interval": 120},
              "azure": {"armEndpoint": "https://arm.example", "authorityHost": "https://login.example"}}
    args = args_of(render(values))
    for flag in ("--sync-period=600", "--change-feed-interval=120", "--poll-interval=5", "--concurrency=8",
                 "--worker-limit=32",
                 "--write-rate=2.5", "--write-burst=50", "--cluster-name=prod-weu", "--label-selector=shard=a",
                 "--log-format=text", "--verbose", "--arm-endpoint=https://arm.example",
                 "--authority-host=https://login.example"):
        assert flag in args, flag
    assert args[-1] == "--retry-scale=0.5"


def test_defaults_log_json_and_serve_metrics_without_peering() -> None:
    args = args_of(render())
    assert "--change-feed-interval=60" in args
    assert "--log-format=json" in args
    assert "--metrics-port=9090" in args
    assert not [a for a in args if a.startswith(("--peering", "--priority", "--namespace", "--label-selector"))]


@pytest.mark.parametrize(("cloud", "arm", "authority"), [
    pytest.param("AzurePublicCloud", "https://management.azure.com", "https://login.microsoftonline.com", id="public"),
    pytest.param("AzureUSGovernment", "https://management.usgovcloudapi.net", "https://login.microsoftonline.us",
                 id="us-government"),
    pytest.param("AzureChinaCloud", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn",
                 id="china"),
])
def test_cloud_picks_the_arm_endpoint_and_authority(cloud: str, arm: str, authority: str) -> None:
    args = args_of(render({"azure": {"cloud": cloud}}))
    assert f"--arm-endpoint={arm}" in args
    assert f"--authority-host={authority}" in args


def test_ca_bundle_config_map_is_mounted_read_only_and_passed() -> None:
    docs = render({"azure": {"caBundleConfigMap": "corp-ca", "caBundleKey": "bundle.pem"}})
    assert "--ca-bundle=/etc/azbackup/ca/bundle.pem" in args_of(docs)
    pod = workload(docs)["spec"]["template"]["spec"]
    assert {"name": "ca-bundle", "configMap": {"name": "corp-ca"}} in pod["volumes"]
    assert {"name": "ca-bundle", "mountPath": "/etc/azbackup/ca", "readOnly": True} in container(docs)["volumeMounts"]


@pytest.mark.parametrize("values", ALL_SETS)
def test_rendered_args_are_accepted_by_azbackup_run(values: dict[str, Any]) -> None:
    # The kubelet expands $(POD_INDEX) from the pod's env; any ordinal will do for the parser.
    args = [a.replace("$(POD_INDEX)", "1") for a in args_of(render(values))]
    parsed = cli.build_parser().parse_args(["run", *args])
    assert parsed.liveness == "http://0.0.0.0:8080/healthz"
    assert parsed.sync_period == 3600


# -- replicas and peering ---------------------------------------------------------------------------

def test_one_replica_is_a_deployment_that_recreates() -> None:
    deployment = one(render(), "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert of_kind(render(), "StatefulSet") == []


def test_several_replicas_are_a_statefulset_with_ordinal_priorities() -> None:
    docs = render({"replicas": 2, "peering": {"enabled": True}})
    sts = one(docs, "StatefulSet")
    assert sts["spec"]["replicas"] == 2
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    assert of_kind(docs, "Deployment") == []
    args = args_of(docs)
    assert f"--peering={FULLNAME}" in args
    assert "--priority=$(POD_INDEX)" in args
    env = {e["name"]: e for e in container(docs)["env"]}
    pod_index = {"fieldRef": {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}}
    assert env["POD_INDEX"]["valueFrom"] == pod_index
    assert env["POD_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    # kopf never creates its peering object, so the chart does; the replicas may patch and watch it.
    assert one(docs, "ClusterKopfPeering")["metadata"]["name"] == FULLNAME
    assert rule_triples(one(docs, "ClusterRole")) == (
        NAMESPACED_GRANTS | CRD_READS | grants("kopf.dev", ["clusterkopfpeerings"], ["get", "list", "watch", "patch"]))


def test_several_replicas_without_peering_are_refused() -> None:
    out = run_helm("template", RELEASE, str(CHART), "--kube-version", kube_version(), values={"replicas": 2},
                   check=False)
    assert out.returncode != 0
    assert "replicas > 1 needs peering.enabled=true" in out.stderr


def test_sharing_replicas_are_a_statefulset_named_by_pod_with_lease_rights_in_their_namespace() -> None:
    docs = render({"replicas": 3, "sharding": {"enabled": True, "leaseDuration": 20}})
    assert one(docs, "StatefulSet")["spec"]["replicas"] == 3
    args = args_of(docs)
    assert "--sharding" in args
    assert f"--shard-group={FULLNAME}" in args
    assert "--shard-lease-duration=20" in args
    assert not [a for a in args if a.startswith(("--peering", "--priority"))]
    env = {e["name"]: e for e in container(docs)["env"]}
    assert env["POD_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}  # the identity
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    role = next(r for r in of_kind(docs, "Role") if r["metadata"]["name"] == f"{FULLNAME}-shards")
    assert role["metadata"]["namespace"] == NAMESPACE
    # exactly the verbs the Lease keeper sends (reconcile/leases.py), nothing cluster-wide
    assert rule_triples(role) == grants("coordination.k8s.io", ["leases"], list(LEASE_VERBS))
    assert not [r for r in of_kind(docs, "ClusterRole") if "leases" in str(r["rules"])]
    assert of_kind(docs, "ClusterKopfPeering") == []


def test_sharding_and_peering_exclude_each_other() -> None:
    out = run_helm("template", RELEASE, str(CHART), "--kube-version", kube_version(),
                   values={"replicas": 2, "peering": {"enabled": True}, "sharding": {"enabled": True}}, check=False)
    assert out.returncode != 0
    assert "exclude each other" in out.stderr


def test_peering_with_one_replica_keeps_the_deployment_and_a_fixed_priority() -> None:
    docs = render({"peering": {"enabled": True, "name": "shared", "priority": 7}})
    assert one(docs, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}
    assert "--peering=shared" in args_of(docs)
    assert "--priority=7" in args_of(docs)
    assert one(docs, "ClusterKopfPeering")["metadata"]["name"] == "shared"


def test_peering_in_watched_namespaces_uses_one_kopf_peering_per_namespace() -> None:
    docs = render({"watchNamespaces": ["a", "b"], "replicas": 2, "peering": {"enabled": True}})
    assert of_kind(docs, "ClusterKopfPeering") == []
    assert sorted(p["metadata"]["namespace"] for p in of_kind(docs, "KopfPeering")) == ["a", "b"]
    for role in of_kind(docs, "Role"):
        assert rule_triples(role) == NAMESPACED_GRANTS | grants("kopf.dev", ["kopfpeerings"],
                                                                ["get", "list", "watch", "patch"])


def test_no_peering_objects_without_peering() -> None:
    docs = render({"watchNamespaces": ["a"]})
    assert of_kind(docs, "KopfPeering") == []
    assert of_kind(docs, "ClusterKopfPeering") == []


# -- Azure workload identity ------------------------------------------------------------------------

def test_workload_identity_labels_the_pod_and_annotates_the_service_account() -> None:
    docs = render({"azure": {"workloadIdentity": {"enabled": True, "clientId": "cid", "tenantId": "tid"}},
                   "serviceAccount": {"annotations": {"team": "backup"}}})
    labels = workload(docs)["spec"]["template"]["metadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true"
    sa = one(docs, "ServiceAccount")
    assert sa["metadata"]["annotations"] == {"azure.workload.identity/client-id": "cid",
                                             "azure.workload.identity/tenant-id": "tid", "team": "backup"}
    assert workload(docs)["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]


def test_without_workload_identity_there_is_no_label_or_annotation() -> None:
    docs = render()
    assert "azure.workload.identity/use" not in workload(docs)["spec"]["template"]["metadata"]["labels"]
    assert "annotations" not in one(docs, "ServiceAccount")["metadata"]


def test_workload_identity_without_a_client_id_is_refused() -> None:
    out = run_helm("template", RELEASE, str(CHART), "--kube-version", kube_version(),
                   values={"azure": {"workloadIdentity": {"enabled": True}}}, check=False)
    assert out.returncode != 0
    assert "needs azure.workloadIdentity.clientId" in out.stderr


def test_an_existing_service_account_can_be_used() -> None:
    docs = render({"serviceAccount": {"create": False, "name": "mine"}})
    assert of_kind(docs, "ServiceAccount") == []
    assert workload(docs)["spec"]["template"]["spec"]["serviceAccountName"] == "mine"
    assert one(docs, "ClusterRoleBinding")["subjects"][0]["name"] == "mine"


# -- metrics, ServiceMonitor, dashboard -------------------------------------------------------------

def test_metrics_service_targets_the_metrics_port() -> None:
    docs = render()
    service = one(docs, "Service")
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}]
    assert service["spec"]["selector"].items() <= workload(docs)["spec"]["template"]["metadata"]["labels"].items()
    assert {p["name"]: p["containerPort"] for p in container(docs)["ports"]}["metrics"] == 9090


def test_metrics_can_be_turned_off() -> None:
    docs = render({"metrics": {"enabled": False}})
    assert of_kind(docs, "Service") == []
    assert not [a for a in args_of(docs) if a.startswith("--metrics-port")]


def test_service_monitor_only_when_enabled() -> None:
    assert of_kind(render(), "ServiceMonitor") == []
    docs = render({"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}}})
    monitor = one(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= one(docs, "Service")["metadata"]["labels"].items()


def test_dashboard_config_map_only_when_enabled_and_carries_the_dashboard() -> None:
    assert of_kind(render(), "ConfigMap") == []
    config_map = one(render({"dashboard": {"enabled": True, "namespace": "monitoring"}}), "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["namespace"] == "monitoring"
    shipped = json.loads(config_map["data"]["azbackup.json"])
    assert shipped == json.loads((CHART / "dashboards" / "azbackup.json").read_text())


# -- CRDs -------------------------------------------------------------------------------------------

def test_chart_crds_are_the_repository_crds_byte_for_byte() -> None:
    # One source: `make crds` writes both directories from operator/azbackup/api/crds.py.
    repo = {p.name: p.read_bytes() for p in (REPO / "crds").glob("*.yaml")}
    chart = {p.name: p.read_bytes() for p in (CHART / "crds").iterdir()}
    assert sorted(chart) == sorted(repo), "charts/azbackup-operator/crds/ has other files than crds/: run `make crds`"
    stale = [name for name in repo if chart[name] != repo[name]]
    assert stale == [], f"charts/azbackup-operator/crds/ differs from crds/ in {stale}: run `make crds`"


def test_kopf_peering_crds_come_with_the_chart_unless_turned_off() -> None:
    def crds(values: dict[str, Any]) -> set[str]:
        return {d["metadata"]["name"] for d in render(values, include_crds=True)
                if d["kind"] == "CustomResourceDefinition"}

    ours = {f"{plural}.azbackup.dev" for plural in KINDS}
    assert crds({}) == ours | {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"}
    assert crds({"peering": {"installCRDs": False}}) == ours


def test_packaged_chart_carries_crds_subchart_dashboard_and_schema(tmp_path: Path) -> None:
    run_helm("package", str(CHART), "--destination", str(tmp_path))
    [archive] = tmp_path.glob("azbackup-operator-*.tgz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    wanted = {f"azbackup-operator/crds/{p.name}" for p in (REPO / "crds").glob("*.yaml")} | {
        "azbackup-operator/charts/kopf-peering/crds/kopf-peering.yaml",
        "azbackup-operator/dashboards/azbackup.json", "azbackup-operator/values.schema.json",
        "azbackup-operator/templates/NOTES.txt"}
    assert wanted <= names


# -- values -----------------------------------------------------------------------------------------

def test_values_schema_rejects_a_misspelt_key() -> None:
    out = run_helm("template", RELEASE, str(CHART), "--kube-version", kube_version(),
                   values={"watchNamespace": ["a"]}, check=False)
    assert out.returncode != 0
    assert "watchNamespace" in out.stderr


def leaves(values: Mapping[str, Any], schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, schema) of every key in values.yaml, down to the schema's free-form objects."""
    for key, value in values.items():
        sub = schema.get("properties", {}).get(key)
        yield f"{path}{key}", sub
        if isinstance(value, dict) and sub and "properties" in sub:
            yield from leaves(value, sub, f"{path}{key}.")


def test_every_value_is_in_the_schema_with_a_description() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    missing = [path for path, sub in leaves(values, schema) if not (sub and sub.get("description"))]
    assert missing == []


def test_every_top_level_value_is_commented_in_values_yaml() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented = []
    for i, line in enumerate(lines):
        if re.match(r"^[A-Za-z]\w*:", line):
            above = lines[i - 1] if i else ""
            if not above.startswith("#"):
                undocumented.append(line.split(":")[0])
    # A group (image:, azure:, ...) is documented by the comments of its keys.
    groups = {k for k, v in yaml.safe_load("\n".join(lines)).items() if isinstance(v, dict) and v and
              k not in ("resources", "podSecurityContext", "securityContext")}
    assert [k for k in undocumented if k not in groups] == []


# -- the Grafana dashboard --------------------------------------------------------------------------

PROMQL_WORDS = {
    # aggregation operators and their modifiers
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
    # the functions the dashboard may use
    "rate", "irate", "increase", "delta", "histogram_quantile", "vector", "scalar", "clamp_min", "clamp_max",
    "label_values", "sort", "sort_desc", "abs", "round", "time", "absent",
}


def dashboard_queries(node: Any) -> Iterator[str]:
    """Every PromQL text in a dashboard: panel targets and templating variable queries."""
    if isinstance(node, dict):
        for key, value in node.items():
            promql = key in ("expr", "definition") or (key == "query" and node.get("type") == "query")
            if promql and isinstance(value, str):
                yield value
            elif key == "query" and isinstance(value, dict) and isinstance(value.get("query"), str):
                yield value["query"]
            else:
                yield from dashboard_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_queries(item)


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords or labels."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals (label values, regexes)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # label lists
    text = re.sub(r"\$\{?\w+\}?", "", text)  # Grafana variables
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group()
        if word in PROMQL_WORDS or text[match.end():].lstrip().startswith("("):
            continue
        names.add(word)
    # label_values(metric, label): the second argument is a label, not a metric.
    for match in re.finditer(r"label_values\(\s*[A-Za-z_:][\w:]*\s*,\s*(\w+)\s*\)", text):
        names.discard(match.group(1))
    return names


def exported_name(name: str) -> str | None:
    """The exported metric a series name belongs to (histogram and counter suffixes allowed)."""
    exported = set(metrics.EXPORTED) | kinds.metric_names()
    if name in exported:
        return name
    for suffix in ("_bucket", "_sum", "_count", "_created"):
        if name.endswith(suffix) and name.removesuffix(suffix) in exported:
            return name.removesuffix(suffix)
    return None


DASHBOARD = json.loads((CHART / "dashboards" / "azbackup.json").read_text())


def test_metric_name_extraction_sees_through_promql() -> None:
    expr = ('histogram_quantile(0.95, sum by (kind, le) (rate(azbackup_reconcile_duration_seconds_bucket'
            '{job=~"$job", result=~"a|b"}[$__rate_interval]))) / on (kind) group_left sum(up) or vector(0)')
    assert metric_names(expr) == {"azbackup_reconcile_duration_seconds_bucket", "up"}
    assert metric_names("label_values(azbackup_reconcile_total, job)") == {"azbackup_reconcile_total"}


@pytest.mark.parametrize("expr", sorted(set(dashboard_queries(DASHBOARD))))
def test_dashboard_queries_name_only_exported_metrics(expr: str) -> None:
    names = metric_names(expr)
    assert names, f"no metric in {expr!r}"
    assert [n for n in names if exported_name(n) is None] == [], expr


def test_dashboard_covers_what_operators_watch() -> None:
    used = {exported_name(n) for expr in dashboard_queries(DASHBOARD) for n in metric_names(expr)}
    assert {"azbackup_objects", "azbackup_reconcile_total", "azbackup_reconcile_duration_seconds",
            "azbackup_azure_requests_total", "azbackup_azure_throttled_total",
            "azbackup_azure_throttle_wait_seconds_total", "azbackup_kube_writes_total"} <= used


def test_dashboard_panels_use_the_datasource_variable_and_have_unique_ids() -> None:
    panels = [p for p in DASHBOARD["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in DASHBOARD["panels"]}) == len(DASHBOARD["panels"])
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        assert panel.get("description"), panel["title"]
