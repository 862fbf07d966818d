"""Fixtures for tests against a real kube-apiserver + etcd (+ kube-controller-manager) from hack/."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azbackup.devtools import control_plane

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def control_plane_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[control_plane.ControlPlane]:
    """One control plane per test session with the CRDs of crds/ installed (the files the chart ships)."""
    with control_plane.running(tmp_path_factory.mktemp("control-plane")) as plane:
        plane.kubectl("apply", "-f", str(REPO / "crds"))
        plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        yield plane


@pytest.fixture
def namespace(control_plane_instance: control_plane.ControlPlane) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (the namespace controller finalizes it)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    control_plane_instance.kubectl("create", "namespace", name)
    yield name
    control_plane_instance.kubectl("delete", "namespace", name, "--wait=false", check=False)


class Kubectl:
    """kubectl bound to the session's control plane and one namespace."""

    def __init__(self, plane: control_plane.ControlPlane, namespace: str) -> None:
        self.plane, self.namespace = plane, namespace

    def __call__(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.plane.kubectl("-n", self.namespace, *args, input=input, check=check)

    def apply(self, manifest: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self("apply", "-f", "-", input=manifest, check=check)

    def get(self, kind: str, name: str) -> dict[str, object]:
        return json.loads(self("get", kind, name, "-o", "json").stdout)


@pytest.fixture
def kubectl(control_plane_instance: control_plane.ControlPlane, namespace: str) -> Kubectl:
    return Kubectl(control_plane_instance, namespace)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Any]:
    """A fresh emulator with the sample fleet, on a short time scale, in a thread of this process."""
    from azure_emulator.server import EmulatorProcess

    emu = EmulatorProcess.start_thread(time_scale=0.02, state_dir=tmp_path / "emulator")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def cluster(control_plane_instance: control_plane.ControlPlane, namespace: str) -> Any:
    from tests.integration.harness import Cluster

    return Cluster(control_plane_instance, namespace)


@pytest.fixture
def operator(control_plane_instance: control_plane.ControlPlane, emulator: Any, namespace: str,
             tmp_path: Path) -> Iterator[Any]:
    """`azbackup run` watching this test's namespace; its log is printed when a test fails."""
    from tests.integration.harness import OperatorProcess

    proc = OperatorProcess(control_plane_instance, emulator, namespace, tmp_path).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def arm(emulator: Any) -> Iterator[Any]:
    """The SDK's own clients on this test's emulator, to look at Azure or change it behind the operator."""
    from tests.integration.harness import Arm

    client = Arm(emulator)
    try:
        yield client
    finally:
        client.close()
