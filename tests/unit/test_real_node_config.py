"""The real node's configuration files (azbackup.devtools.node): each setting that keeps the node on
this machine private, or that a machine of this kind needs, is there. Pure text, no node started."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from azbackup.devtools import footprint, node

STATE, ROOT, CNI, BIN = Path("/run/azbackup-node/abc"), Path("/w/containerd"), Path("/w/cni/net.d"), Path("/b")


def containerd() -> dict[str, Any]:
    return tomllib.loads(node.containerd_config(STATE, ROOT, CNI, BIN, "registry.k8s.io/pause:3.10.1"))


def cni() -> dict[str, Any]:
    return dict(json.loads(node.cni_config("azbabc", "10.244.12.0/24", "10.244.12.1", Path("/w/ipam"))))


def kubelet() -> dict[str, Any]:
    return dict(json.loads(node.kubelet_config(address="10.244.12.1", socket=STATE / "containerd.sock",
                                               cgroup_root="/azbackup-abc", healthz_port=4321, ca=Path("/ca.crt"),
                                               logs=Path("/w/pod-logs"), resolv=Path("/w/resolv.conf"))))


def plugin(name: str) -> dict[str, Any]:
    return dict(containerd()["plugins"][name])


@pytest.mark.parametrize(("what", "value", "expected"), [
    ("containerd's socket is in the run's own state directory", lambda: containerd()["grpc"]["address"],
     f"{STATE}/containerd.sock"),
    ("NRI, whose socket path is fixed, is off", lambda: plugin("io.containerd.nri.v1.nri")["disable"], True),
    ("oom_score_adj is clamped (root may lack CAP_SYS_RESOURCE)",
     lambda: plugin("io.containerd.cri.v1.runtime")["restrict_oom_score_adj"], True),
    ("network namespaces live under the state directory",
     lambda: plugin("io.containerd.cri.v1.runtime")["netns_mounts_under_state_dir"], True),
    ("runc keeps its state under the run's directory", lambda: plugin("io.containerd.cri.v1.runtime")[
        "containerd"]["runtimes"]["runc"]["options"]["Root"], f"{STATE}/runc"),
    ("the sandbox image is the locally built pause",
     lambda: plugin("io.containerd.cri.v1.images")["pinned_images"]["sandbox"], "registry.k8s.io/pause:3.10.1"),
    ("the bridge is no gateway, so ip_forward stays as it is", lambda: cni()["plugins"][0]["isGateway"], False),
    ("no masquerading out of the machine", lambda: cni()["plugins"][0]["ipMasq"], False),
    ("pods get one route only, to the service range", lambda: cni()["plugins"][0]["ipam"]["routes"],
     [{"dst": "10.0.0.0/24", "gw": "10.244.12.1"}]),
    ("the kubelet serves on the bridge address only", lambda: kubelet()["address"], "10.244.12.1"),
    ("pods go under the run's own cgroup", lambda: kubelet()["cgroupRoot"], "/azbackup-abc"),
    ("cgroup v1 hosts are accepted", lambda: kubelet()["failCgroupV1"], False),
    ("nobody anonymous reaches the kubelet", lambda: kubelet()["authentication"]["anonymous"]["enabled"], False),
    ("imported images are never garbage-collected", lambda: kubelet()["imageGCHighThresholdPercent"], 100),
    ("pod logs stay in the run's directory", lambda: kubelet()["podLogsDir"], "/w/pod-logs"),
], ids=lambda v: v if isinstance(v, str) and " " in v else "")
def test_node_configuration(what: str, value: Any, expected: Any) -> None:
    assert value() == expected


@pytest.mark.parametrize(("mountinfo_points", "prefixes", "expected"), [
    (["/w", "/w/kubelet", "/w/kubelet/pods/x/volumes", "/other"], ["/w"],
     ["/w/kubelet/pods/x/volumes", "/w/kubelet", "/w"]),
    (["/wx", "/w2/a"], ["/w"], []),
    (["/run/azbackup-node/abc/netns/cni-1", "/run/azbackup-node/abcd"], ["/run/azbackup-node/abc"],
     ["/run/azbackup-node/abc/netns/cni-1"]),
], ids=["deepest first, only under the prefix", "a prefix is a directory, not a string prefix",
        "another run's state directory is not ours"])
def test_points_under(mountinfo_points: list[str], prefixes: list[str], expected: list[str]) -> None:
    info = "".join(f"1 2 0:1 / {p} rw - ext4 /dev/x rw\n" for p in mountinfo_points)
    assert footprint.points_under(info, tuple(prefixes)) == expected
