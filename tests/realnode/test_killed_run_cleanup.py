"""A second cluster beside the session's, killed with SIGKILL while a pod runs: `hack/real-node.sh cleanup`
removes everything it left (processes, containers, mounts, cgroups, bridge, iptables rule) and nothing
of the session's cluster, which keeps running. This is also the proof that two runs do not clash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from azbackup.devtools import cluster, footprint

from tests.integration.harness import eventually

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(600)


def kubectl(plane_bin: Path, kubeconfig: Path, *args: str, input: str | None = None) -> Any:
    return subprocess.run([str(plane_bin / "kubectl"), f"--kubeconfig={kubeconfig}", *args], input=input,
                          text=True, capture_output=True, timeout=60)


def test_a_killed_run_is_cleaned_up_without_touching_another(real_cluster: cluster.Cluster, tmp_path: Path,
                                                             short_tmp: Path) -> None:
    workdir = short_tmp / "killed"
    log = open(tmp_path / "start.log", "w")  # noqa: SIM115 (the child owns it)
    env = dict(os.environ, AZBACKUP_TOOLS=str(real_cluster.plane.bin_dir))
    proc = subprocess.Popen([str(REPO / "hack" / "real-node.sh"), "start", "--dir", str(workdir)], stdout=log,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    log.close()
    try:
        kubeconfig = workdir / "control-plane" / "kubeconfig"
        eventually(lambda: "export KUBECONFIG" in (tmp_path / "start.log").read_text() or proc.poll() is not None,
                   timeout=300, what="the second cluster to start")
        assert proc.poll() is None, (tmp_path / "start.log").read_text()
        # The pause image: always in the node (the operator image is named by the code it was built from).
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleeper", "namespace": "default"},
               "spec": {"containers": [{"name": "s", "image": "registry.k8s.io/pause:3.10.1",
                                        "imagePullPolicy": "Never"}], "automountServiceAccountToken": False}}

        def running() -> bool:
            kubectl(real_cluster.plane.bin_dir, kubeconfig, "apply", "-f", "-", input=yaml.safe_dump(pod))
            out = kubectl(real_cluster.plane.bin_dir, kubeconfig, "get", "pod", "sleeper", "-o", "json")
            return out.returncode == 0 and json.loads(out.stdout)["status"].get("phase") == "Running"

        eventually(running, timeout=120, what="a pod running on the second node")
        [fp] = [f for f in (footprint.Footprint.load(p) for p in footprint.REGISTRY.glob("*.json"))
                if f.owner == proc.pid]
        assert footprint.mounts_under(fp.workdir, fp.state_dir), "the pod made no mounts?"
        assert any(d.exists() for d in footprint.cgroup_dirs(fp.cgroup))
    finally:
        if proc.poll() is None:  # a start that failed has exited already: its own error says why
            os.kill(proc.pid, signal.SIGKILL)  # the python process only: its children live on, as after a CI kill
        proc.wait()

    assert footprint.leftovers(fp), "a killed run leaves things behind (or this test proves nothing)"
    started = time.monotonic()
    out = subprocess.run([str(REPO / "hack" / "real-node.sh"), "cleanup"], text=True, capture_output=True,
                         timeout=120)
    print(f"\n[real-node] clean-up after a killed run: {time.monotonic() - started:.1f}s: {out.stdout.strip()}")
    assert out.returncode == 0, out.stderr
    assert f"{fp.id}: clean" in out.stdout
    assert footprint.leftovers(fp) == []
    assert not fp.path.exists()
    # The session's cluster is untouched: its node is still Ready and its footprint still there.
    assert real_cluster.node.ready()
    assert real_cluster.node.fp is not None
    assert real_cluster.node.fp.path.exists()
    assert footprint.leftovers(real_cluster.node.fp)
