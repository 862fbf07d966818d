"""Fixtures for the end-to-end tests on a real node: one cluster per session (control plane, kubelet,
containerd, the operator image built from the Dockerfile), the emulator as a pod in it.

Needs root (a bridge, an iptables rule, cgroups, mounts). Without root the tests are skipped, unless
AZBACKUP_REALNODE=required (as `.ci/run` sets), where they fail: CI must never skip them silently.
A build or start-up failure names its step (hack/build-*.sh, containerd, kubelet, ...).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azbackup.devtools import cluster, incluster

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "azbackup-operator"
EMULATOR_NAMESPACE = "azure-emulator"
# The operator's fast timings for tests (argparse keeps the last value: these win over the chart's).
FAST = ["--sync-period=4", "--poll-interval=1", "--retry-scale=0.02"]


# `make test` starts the tests without waiting for the real node's builds (the other tests need none of
# them): the first real-node test sets up the session's cluster, and so builds or waits for the node tools
# and images. Cold, on 2 loaded cores, that takes up to 25 minutes on top of the test's own time limit.
BUILD_ALLOWANCE = 1800


def pytest_itemcollected(item: pytest.Item) -> None:
    # Marked as each test is collected, before pytest-xdist (--dist loadgroup) reads the group into the
    # test ids: one worker runs them all, as they share the session's cluster (a second cluster per
    # worker would cost its start-up and image import again).
    if "tests/realnode/" in str(item.fspath):
        item.add_marker(pytest.mark.realnode)
        item.add_marker(pytest.mark.xdist_group("realnode"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The first in collection order runs first, here and on the group's worker.
    first = next((item for item in items if "tests/realnode/" in str(item.fspath)), None)
    if first is not None:
        marker = first.get_closest_marker("timeout")
        limit = float(marker.args[0]) if marker and marker.args else float(config.getini("timeout") or 300)
        first.add_marker(pytest.mark.timeout(limit + BUILD_ALLOWANCE), append=False)


@pytest.fixture
def short_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory short enough for the kubelet's unix sockets below it (108 bytes at most): a test's own
    tmp_path is too long under xdist (`popen-gwN/` and the test's name)."""
    return tmp_path_factory.mktemp("s")


@pytest.fixture(scope="session")
def real_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[cluster.Cluster]:
    if os.geteuid() != 0:
        if os.environ.get("AZBACKUP_REALNODE") == "required":
            pytest.fail("the real-node tests need root (AZBACKUP_REALNODE=required)")
        pytest.skip("the real-node tests need root (bridge, iptables, cgroups, mounts)")
    started = time.monotonic()
    tools = cluster.build()
    built = time.monotonic()
    with cluster.running(tmp_path_factory.mktemp("real-node"), tools=tools) as c:
        print(f"\n[real-node] builds {built - started:.0f}s, cluster with a Ready node "
              f"{time.monotonic() - built:.0f}s", flush=True)
        yield c


@pytest.fixture(scope="session")
def emulator_pod(real_cluster: cluster.Cluster, tmp_path_factory: pytest.TempPathFactory) -> incluster.PodEmulator:
    started = time.monotonic()
    emu = incluster.deploy_emulator(real_cluster, EMULATOR_NAMESPACE, tmp_path_factory.mktemp("emulator"),
                                    time_scale=0.02)
    print(f"\n[real-node] emulator pod Ready in {time.monotonic() - started:.0f}s at {emu.url}", flush=True)
    return emu


@pytest.fixture(scope="session")
def helm(real_cluster: cluster.Cluster, tmp_path_factory: pytest.TempPathFactory) -> incluster.Helm:
    return incluster.Helm(real_cluster, tmp_path_factory.mktemp("helm"))


class Release:
    """A `helm install --wait` of the chart watching one namespace of its own."""

    def __init__(self, c: cluster.Cluster, helm: incluster.Helm, emulator: incluster.PodEmulator,
                 **values: Any) -> None:
        self.cluster, self.helm, self.emulator = c, helm, emulator
        self.name = f"azb-{uuid.uuid4().hex[:6]}"
        self.namespace = f"{self.name}-system"
        self.watched = f"{self.name}-objects"
        self.fullname = f"{self.name}-azbackup-operator"
        extra = {"watchNamespaces": [self.watched], "extraArgs": FAST, **values}
        self.values = incluster.chart_values(c, emulator, **extra)
        self.install_seconds = 0.0

    def install(self) -> Release:
        self.cluster.kubectl("create", "namespace", self.watched)
        incluster.ca_configmap(self.cluster, self.namespace, self.emulator)
        started = time.monotonic()
        incluster.install_chart(self.helm, CHART, self.name, self.namespace, self.values)
        self.install_seconds = time.monotonic() - started
        return self

    def uninstall(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.helm("uninstall", self.name, "--namespace", self.namespace, "--wait", "--timeout", "60s")
        for ns in (self.watched, self.namespace):
            self.cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)

    def pods(self) -> list[dict[str, Any]]:
        out = self.cluster.kubectl("get", "pods", "-n", self.namespace, "-o", "json",
                                   "-l", f"app.kubernetes.io/instance={self.name}")
        return list(json.loads(out.stdout)["items"])

    def logs(self, pod: str, previous: bool = False) -> str:
        args = ["logs", pod, "-n", self.namespace] + (["--previous"] if previous else [])
        return self.cluster.kubectl(*args, check=False).stdout


@pytest.fixture
def install(real_cluster: cluster.Cluster, helm: incluster.Helm,
            emulator_pod: incluster.PodEmulator) -> Iterator[Any]:
    releases: list[Release] = []

    def _install(**values: Any) -> Release:
        release = Release(real_cluster, helm, emulator_pod, **values)
        releases.append(release)
        return release.install()

    yield _install
    for release in releases:
        release.uninstall()


def denied_lines(logs: str) -> list[str]:
    """Log lines that report an RBAC denial (JSON lines: the message and exception fields)."""
    out = []
    for line in logs.splitlines():
        try:
            text = json.dumps({k: v for k, v in json.loads(line).items() if k not in ("timestamp", "time")})
        except ValueError:
            text = line
        if re.search(r"\b403\b|forbidden", text, re.IGNORECASE):
            out.append(line)
    return out
