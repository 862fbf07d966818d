"""The emulator and the operator as pods of a local real-node cluster (azbackup.devtools.cluster).

The emulator runs from the operator's own image (it ships both packages) as a plain Pod: its state is
in memory, so a controller that replaced it would only hide a restart. It listens on its pod IP with
a certificate from a CA made here, which the chart is given through azure.caBundleConfigMap; the
chart's azure.armEndpoint and azure.authorityHost point at it. No Service: pods reach each other by
IP on the node's bridge, and so does this machine.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from azbackup.devtools import cluster as cluster_mod
from azbackup.devtools import control_plane, stack

EMULATOR_PORT = 8443
EMULATOR_CA_CONFIGMAP = "azure-emulator-ca"


@dataclass
class PodEmulator:
    """The emulator pod: its URL (pod IP), the CA bundle on this machine, and its admin API."""

    url: str
    ca_bundle: str
    pod: str
    namespace: str

    def admin(self, method: str, path: str, body: object = None) -> Any:
        return stack.call_admin(self.url, self.ca_bundle, method, path, body)


T = TypeVar("T")


def wait(what: str, check: Callable[[], T], timeout: float, interval: float = 0.5) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def apply(c: cluster_mod.Cluster, *docs: Mapping[str, Any], timeout: float = 60) -> None:
    """kubectl apply, retried while a new namespace's default ServiceAccount does not exist yet."""
    text = yaml.safe_dump_all([dict(d) for d in docs])

    def attempt() -> bool:
        out = c.kubectl("apply", "-f", "-", input=text, check=False)
        if out.returncode == 0:
            return True
        if "serviceaccount" in out.stderr.lower() and "not found" in out.stderr.lower():
            return False
        raise RuntimeError(f"kubectl apply failed: {out.stderr}")

    wait("kubectl apply", attempt, timeout)


def pod_ip(c: cluster_mod.Cluster, namespace: str, pod: str) -> str:
    out = c.kubectl("get", "pod", pod, "-n", namespace, "-o", "jsonpath={.status.podIP}", check=False)
    return out.stdout.strip()


def pod_ready(c: cluster_mod.Cluster, namespace: str, pod: str) -> bool:
    out = c.kubectl("get", "pod", pod, "-n", namespace, "-o", "json", check=False)
    if out.returncode != 0:
        return False
    conditions = json.loads(out.stdout).get("status", {}).get("conditions") or []
    return any(x["type"] == "Ready" and x["status"] == "True" for x in conditions)


def deploy_emulator(c: cluster_mod.Cluster, namespace: str, workdir: Path, *, time_scale: float = 0.05,
                    timeout: float = 120) -> PodEmulator:
    """The emulator as a Pod from the operator image, with the sample fleet; returns once it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    pki = control_plane.make_pki(workdir / "emulator-ca")  # only its CA is used: an EC key the emulator reuses
    ca_pem, ca_key = pki.ca_cert.read_bytes(), pki.ca_key.read_bytes()
    name = "azure-emulator"
    c.kubectl("create", "namespace", namespace, check=False)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-ca", "namespace": namespace},
              "data": {"ca.pem": base64.b64encode(ca_pem).decode(), "ca-key.pem": base64.b64encode(ca_key).decode()}}
    restricted = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                  "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                  "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "automountServiceAccountToken": False, "enableServiceLinks": False,
            "securityContext": {"fsGroup": 65532},
            "containers": [{
                "name": "emulator", "image": c.images.image, "imagePullPolicy": "Never",
                # The emulator reuses a CA found in its state directory and issues its server
                # certificate for the address it binds: the pod IP, which the operator dials.
                "command": ["/bin/sh", "-c",
                            "mkdir -p /tmp/state && cp /ca/ca.pem /ca/ca-key.pem /tmp/state/ && "
                            f"exec python -m azure_emulator --host \"$POD_IP\" --port {EMULATOR_PORT} "
                            f"--state-dir /tmp/state --time-scale {time_scale} --log-level INFO"],
                "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
                "ports": [{"name": "https", "containerPort": EMULATOR_PORT}],
                "readinessProbe": {"tcpSocket": {"port": EMULATOR_PORT}, "periodSeconds": 1},
                "securityContext": restricted,
                "volumeMounts": [{"name": "ca", "mountPath": "/ca", "readOnly": True},
                                 {"name": "tmp", "mountPath": "/tmp"}],
            }],
            "volumes": [{"name": "ca", "secret": {"secretName": f"{name}-ca", "defaultMode": 0o440}},
                        {"name": "tmp", "emptyDir": {}}],
        },
    }
    apply(c, secret, pod)
    wait("the emulator pod to be Ready", lambda: pod_ready(c, namespace, name), timeout)
    ip = pod_ip(c, namespace, name)
    emulator = PodEmulator(f"https://{ip}:{EMULATOR_PORT}", str(pki.ca_cert), name, namespace)
    wait("the emulator's admin API", lambda: _answers(emulator), 30)
    return emulator


def _answers(emulator: PodEmulator) -> bool:
    try:
        emulator.admin("GET", "counters")
    except OSError:
        return False
    return True


def chart_values(c: cluster_mod.Cluster, emulator: PodEmulator, **extra: Any) -> dict[str, Any]:
    """The chart's values for the locally built image and the emulator pod (its CA in a ConfigMap)."""
    values: dict[str, Any] = {
        "image": {"repository": c.images.repository, "tag": c.images.tag, "pullPolicy": "Never"},
        "azure": {"armEndpoint": emulator.url, "authorityHost": emulator.url,
                  "caBundleConfigMap": EMULATOR_CA_CONFIGMAP, "caBundleKey": "ca.crt"},
        # The emulator's service principal (its sample fleet's tenant); a real cluster would use
        # workload identity instead.
        "extraEnv": [{"name": "AZURE_TENANT_ID", "value": stack.EMULATOR_TENANT},
                     {"name": "AZURE_CLIENT_ID", "value": stack.EMULATOR_CLIENT_ID},
                     {"name": "AZURE_CLIENT_SECRET", "value": stack.EMULATOR_SECRET}],
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return values


def ca_configmap(c: cluster_mod.Cluster, namespace: str, emulator: PodEmulator) -> None:
    c.kubectl("create", "namespace", namespace, check=False)
    apply(c, {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": EMULATOR_CA_CONFIGMAP, "namespace": namespace},
              "data": {"ca.crt": Path(emulator.ca_bundle).read_text()}})


class Helm:
    """The pinned helm against the cluster, with its own cache and config directories."""

    def __init__(self, c: cluster_mod.Cluster, home: Path) -> None:
        self.cluster = c
        self.env = dict(os.environ, HELM_CACHE_HOME=str(home / "cache"), HELM_CONFIG_HOME=str(home / "config"),
                        HELM_DATA_HOME=str(home / "data"))

    def __call__(self, *args: str, values: Mapping[str, Any] | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.cluster.plane.bin_dir / "helm"), "--kubeconfig", str(self.cluster.plane.kubeconfig), *args]
        if values is not None:
            cmd += ["-f", "-"]
        out = subprocess.run(cmd, input=json.dumps(values) if values is not None else None, text=True,
                             capture_output=True, env=self.env, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"helm {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        return out


def install_chart(helm: Helm, chart: Path, release: str, namespace: str, values: Mapping[str, Any],
                  timeout: str = "4m") -> subprocess.CompletedProcess[str]:
    """`helm install --wait`: returns once the workload's pods are Ready through their real probes."""
    return helm("install", release, str(chart), "--namespace", namespace, "--create-namespace",
                "--wait", "--timeout", timeout, values=values)
