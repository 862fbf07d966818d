"""Every command that starts processes stops them all when told to stop (issue 27).

Each command runs as a user runs it, is sent SIGTERM mid-run, and leaves no process (found by an
environment marker every descendant inherits), no listening port and no work directory (kept with
--keep). A SIGKILLed command's processes die with it, and the next run removes what it left. A benchmark
run right after a stopped one succeeds on the same metrics port.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
from azbackup.devtools import control_plane

from tests.integration.harness import eventually
from tests.process import watch

REPO = Path(__file__).resolve().parents[2]
CONTROL_PLANE = str(REPO / "hack" / "control-plane.sh")
TERM = 128 + signal.SIGTERM


@pytest.fixture(scope="module")
def tools() -> dict[str, str]:
    """The commands find the built control plane here instead of asking hack/build-tools.sh again."""
    return {"AZBACKUP_TOOLS": str(control_plane.tool_dir())}


def assert_nothing_left(cmd: watch.Command, sockets: set[str], prefix: str) -> None:
    assert cmd.gone() == [], cmd.output()
    assert watch.still_listening(sockets) == []
    assert cmd.dirs(prefix) == []
    assert cmd.records() == []


@pytest.mark.parametrize("keep", [False, True], ids=["removed", "kept"])
def test_control_plane_start_stops_everything_on_sigterm(tmp_path: Path, tools: dict[str, str], keep: bool) -> None:
    with watch.command([CONTROL_PLANE, "start", *(["--keep"] if keep else [])], tmp_path, tools) as cmd:
        cmd.wait_for("export KUBECONFIG")
        sockets = cmd.sockets()
        assert len(sockets) >= 3, cmd.output()  # etcd, kube-apiserver, kube-controller-manager
        cmd.send(signal.SIGTERM)
        assert cmd.finish() == 0, cmd.output()  # a signal is how `start` ends
        if keep:
            [kept] = cmd.dirs("azbackup-cp-")
            assert (kept / "kube-apiserver.log").exists()
            assert cmd.gone() == []
        else:
            assert_nothing_left(cmd, sockets, "azbackup-cp-")


def test_a_sigkilled_control_plane_dies_with_it_and_the_next_run_removes_its_directory(
        tmp_path: Path, tools: dict[str, str]) -> None:
    with watch.command([CONTROL_PLANE, "start"], tmp_path, tools) as killed:
        killed.wait_for("export KUBECONFIG")
        sockets = killed.sockets()
        killed.send(signal.SIGKILL)
        assert killed.finish() == -signal.SIGKILL
        assert killed.gone() == []  # etcd, kube-apiserver and kube-controller-manager died with their parent
        assert watch.still_listening(sockets) == []
        assert len(killed.dirs("azbackup-cp-")) == 1  # nobody was left to remove it
        with watch.command([CONTROL_PLANE, "run", "--", "true"], tmp_path, tools, name="next") as following:
            assert following.finish(120) == 0, following.output()
        assert killed.dirs("azbackup-cp-") == []
        assert killed.records() == []


def test_demo_stops_everything_on_sigterm(tmp_path: Path, tools: dict[str, str]) -> None:
    azbackup = str(Path(sys.executable).with_name("azbackup"))
    with watch.command([azbackup, "demo"], tmp_path, tools) as cmd:
        cmd.wait_for("==> applying examples/")  # control plane, emulator and operator all run
        sockets = cmd.sockets()
        assert len(sockets) >= 4, cmd.output()  # etcd, kube-apiserver, kube-controller-manager, the emulator
        cmd.send(signal.SIGTERM)
        assert cmd.finish() == TERM, cmd.output()
        assert_nothing_left(cmd, sockets, "azbackup-demo-")


def test_bench_fleet_stopped_by_sigterm_leaves_nothing_and_the_next_run_succeeds(
        tmp_path: Path, tools: dict[str, str]) -> None:
    port = control_plane.free_port()
    args = ["-m", "bench.fleet", "--vms", "20", "--vaults", "1", "--sync-period", "1", "--steady-periods", "1",
            "--time-scale", "0.01", "--no-naive", "--no-freshness", "--metrics-port", str(port)]
    with watch.command(watch.python(*args), tmp_path, tools, name="stopped") as stopped:
        stopped.wait_for("converge t=")
        eventually(lambda: port in stopped.ports(), timeout=60, what="the operator serving its metrics")
        sockets = stopped.sockets()
        stopped.send(signal.SIGTERM)
        assert stopped.finish() == TERM, stopped.output()
        assert_nothing_left(stopped, sockets, "azbackup-bench-")
    with watch.command(watch.python(*args), tmp_path, tools, name="next") as following:
        assert following.finish(240) == 0, following.output()
        assert "Azure writes after SIGKILL + restart" in following.output()
        assert following.gone() == []
        assert not watch.listening(port)
        assert following.dirs("azbackup-bench-") == []


def test_bench_chaos_stops_everything_on_sigterm(tmp_path: Path, tools: dict[str, str]) -> None:
    args = ["-m", "bench.chaos", "--seeds", "1", "--vms", "10", "--vaults", "1", "--ondemand", "1", "--kills", "1"]
    with watch.command(watch.python(*args), tmp_path, tools) as cmd:
        # The replica's metrics port: the operator runs beside the control plane and the emulator.
        eventually(lambda: 19190 in cmd.ports() or cmd.proc.poll() is not None, timeout=120,
                   what="the operator replica serving its metrics")
        sockets = cmd.sockets()
        assert 19190 in cmd.ports(), cmd.output()
        cmd.send(signal.SIGTERM)
        assert cmd.finish() == TERM, cmd.output()
        assert_nothing_left(cmd, sockets, "azbackup-chaos-")


FIXTURE_TEST = """
import time

def test_holds_the_control_plane(control_plane_instance):
    print("started", control_plane_instance.server, flush=True)
    time.sleep(600)
"""


def test_a_test_run_stopped_by_sigterm_leaves_no_control_plane(tmp_path: Path, tools: dict[str, str]) -> None:
    # pytest has no handler for SIGTERM: it dies at once, its fixtures never torn down. The session's
    # control plane dies with it all the same (bound to the test process's life).
    test = tmp_path / "test_holding.py"
    test.write_text(FIXTURE_TEST)
    args = ["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "tests.integration.conftest",
            "--rootdir", str(tmp_path), "-c", "/dev/null", str(test)]
    with watch.command(watch.python(*args), tmp_path, tools) as cmd:
        cmd.wait_for("started")
        sockets = cmd.sockets()
        assert len(sockets) >= 3, cmd.output()
        cmd.send(signal.SIGTERM)
        assert cmd.finish() == -signal.SIGTERM
        assert cmd.gone() == [], cmd.output()
        assert watch.still_listening(sockets) == []
