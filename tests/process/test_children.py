"""azbackup.process.children: a command's children stop with it, whatever ends it, and a killed run is undone by
the next one. The command here is a small script with the shapes the real ones have: a plain child, a shell
with children of its own, and a server on a port."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.process import watch

SCRIPT = """
import sys, time
from azbackup.process import children
if "--exit" in sys.argv:
    with children.run("azbackup-t-"):
        sys.exit(0)
with children.run("azbackup-t-", keep="--keep" in sys.argv) as run:
    children.spawn("sleeper", ["sleep", "600"])
    children.spawn("shell", ["sh", "-c", "sleep 600 & sleep 600 & wait"])
    children.spawn("server", [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "0"],
                   log=run.workdir / "server.log")
    while "Serving HTTP" not in (run.workdir / "server.log").read_text():
        time.sleep(0.05)
    print("started", run.workdir, flush=True)
    if "--crash" in sys.argv:
        raise RuntimeError("a bug in the command")
    time.sleep(600)
"""
PREFIX = "azbackup-t-"


def started(cmd: watch.Command) -> set[str]:
    cmd.wait_for("started", timeout=30)
    assert len(cmd.descendants()) == 5, cmd.output()  # sleeper, shell and its two sleeps, server
    sockets = cmd.sockets()
    assert sockets, "the server listens on a port"
    assert len(cmd.dirs(PREFIX)) == 1
    assert len(cmd.records()) == 1
    return sockets


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_stops_every_child_frees_its_ports_and_removes_the_workdir(tmp_path: Path,
                                                                             sig: signal.Signals) -> None:
    with watch.command(watch.python("-c", SCRIPT), tmp_path) as cmd:
        sockets = started(cmd)
        cmd.send(sig)
        assert cmd.finish() == 128 + sig
        assert cmd.gone() == []
        assert watch.still_listening(sockets) == []
        assert cmd.dirs(PREFIX) == []
        assert cmd.records() == []


def test_keep_keeps_the_workdir_but_no_process(tmp_path: Path) -> None:
    with watch.command(watch.python("-c", SCRIPT, "--keep"), tmp_path) as cmd:
        started(cmd)
        cmd.send(signal.SIGTERM)
        assert cmd.finish() == 128 + signal.SIGTERM
        assert cmd.gone() == []
        [kept] = cmd.dirs(PREFIX)
        assert (kept / "server.log").exists()
        assert cmd.records() == []


def test_a_crash_of_the_command_stops_its_children_too(tmp_path: Path) -> None:
    with watch.command(watch.python("-c", SCRIPT, "--crash"), tmp_path) as cmd:
        cmd.wait_for("started", timeout=30)
        assert cmd.finish() == 1
        assert "a bug in the command" in cmd.output()
        assert cmd.gone() == []
        assert cmd.dirs(PREFIX) == []


def test_a_sigkilled_command_loses_its_children_and_the_next_run_undoes_the_rest(tmp_path: Path) -> None:
    with watch.command(watch.python("-c", SCRIPT), tmp_path) as killed:
        sockets = started(killed)
        shell_children = {pid for pid in killed.descendants() if _parent_name(pid) == "sh"}
        killed.send(signal.SIGKILL)
        assert killed.finish() == -signal.SIGKILL
        # Its own children die with it (the kernel's parent-death signal) and free their ports; the shell's
        # children were not the command's: re-parented, they live on until the next run.
        assert set(killed.gone(timeout=10)) == shell_children
        assert watch.still_listening(sockets) == []
        assert len(killed.dirs(PREFIX)) == 1
        with watch.command(watch.python("-c", SCRIPT, "--exit"), tmp_path, name="next") as following:
            assert following.finish() == 0, following.output()
        assert killed.gone() == []
        assert killed.dirs(PREFIX) == []
        assert killed.records() == []


def _parent_name(pid: int) -> str:
    ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    return Path(f"/proc/{ppid}/comm").read_text().strip()
