"""The real-node commands stopped by SIGTERM mid-run (issue 27): no process of theirs is left, and nothing of
what their node changed on the machine (containers, mounts, cgroups, bridge, iptables rule), no port, no work
directory."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from azbackup.devtools import control_plane, footprint

from tests.process import watch

REPO = Path(__file__).resolve().parents[2]
TERM = 128 + signal.SIGTERM
pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def tools() -> dict[str, str]:
    if os.geteuid() != 0:
        if os.environ.get("AZBACKUP_REALNODE") == "required":
            pytest.fail("the real-node tests need root (AZBACKUP_REALNODE=required)")
        pytest.skip("the real-node tests need root (bridge, iptables, cgroups, mounts)")
    return {"AZBACKUP_TOOLS": str(control_plane.tool_dir())}


def footprints_of(pid: int) -> list[footprint.Footprint]:
    return [fp for fp in (footprint.Footprint.load(p) for p in footprint.REGISTRY.glob("*.json")) if fp.owner == pid]


def stop_and_check(cmd: watch.Command, code: int, prefix: str) -> None:
    [fp] = footprints_of(cmd.proc.pid)
    assert footprint.leftovers(fp), "the node made no change (or this test proves nothing)"
    sockets = cmd.sockets()
    cmd.send(signal.SIGTERM)
    assert cmd.finish(180) == code, cmd.output()
    assert cmd.gone() == []
    assert footprint.leftovers(fp) == []
    assert not fp.path.exists()
    assert watch.still_listening(sockets) == []
    assert cmd.dirs(prefix) == []
    assert cmd.records() == []


def test_demo_in_cluster_stops_everything_on_sigterm(tmp_path: Path, short_tmp: Path, tools: dict[str, str]) -> None:
    azbackup = str(Path(sys.executable).with_name("azbackup"))
    with watch.command([azbackup, "demo", "--in-cluster"], tmp_path, tools, tmp=short_tmp) as cmd:
        cmd.wait_for("==> helm install", timeout=600)  # the node Ready, the emulator's pod running
        stop_and_check(cmd, TERM, "azbackup-demo-")


def test_real_node_start_stops_everything_on_sigterm(tmp_path: Path, short_tmp: Path, tools: dict[str, str]) -> None:
    with watch.command([str(REPO / "hack" / "real-node.sh"), "start"], tmp_path, tools, tmp=short_tmp) as cmd:
        cmd.wait_for("export KUBECONFIG", timeout=600)
        stop_and_check(cmd, 0, "azbackup-node-")
