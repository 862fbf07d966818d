"""A command watched from outside, as a user would: its processes, their ports and its directories.

Every process of the command carries `AZBACKUP_TEST_MARK=<uuid>` in its environment (inherited from the
command, whatever it does to sessions or parents), so /proc shows what is left of it after it ends. It
runs with its own TMPDIR, so its work directories and run records are the test's alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from azbackup.process import children

REPO = Path(__file__).resolve().parents[2]
MARK = "AZBACKUP_TEST_MARK"
LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp


def listening_sockets(pids: Sequence[int]) -> set[str]:
    """The TCP addresses (as /proc/net/tcp writes them: hex IP:port) the given processes listen on, found by
    their socket inodes. An address, not a port: real nodes beside each other all listen on 10250."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    return {address for address, inode in _listeners() if inode in inodes}


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def listening(port: int) -> bool:
    """Anyone on this machine listens on the TCP port, on any address."""
    return any(port_of(address) == port for address, _ in _listeners())


def still_listening(sockets: set[str], timeout: float = 10.0) -> list[str]:
    """Which of the addresses someone still listens on after `timeout` (empty: all free). A process whose
    memory is gone (its environment unreadable, so no longer found by its marker) may still be closing its
    sockets for a moment."""
    deadline = time.monotonic() + timeout
    while (busy := sorted(sockets & {a for a, _ in _listeners()})) and time.monotonic() < deadline:
        time.sleep(0.2)
    return busy


def _listeners() -> list[tuple[str, str]]:
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == LISTEN:
                    found.append((fields[1], fields[9]))
    return found


@dataclass
class Command:
    proc: subprocess.Popen[bytes]
    mark: str
    log: Path
    tmp: Path  #: the command's TMPDIR

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        """Until the command prints `text`; fails with its output if it ends first or takes too long."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.proc.poll() is None, f"ended with {self.proc.returncode} before {text!r}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {text!r} after {timeout}s:\n{self.output()}"
            time.sleep(0.2)

    def __post_init__(self) -> None:
        self.seen: dict[int, str] = {}

    def processes(self) -> list[int]:
        """Its live processes: the command itself and everything started under it, including any seen before
        that still runs (a process on its way out may no longer show its environment)."""
        for pid in children.marked(self.mark, MARK):
            self.seen.setdefault(pid, children.start_time(pid) or "")
        return sorted(pid for pid, started in self.seen.items() if started and children.start_time(pid) == started)

    def descendants(self) -> list[int]:
        return [pid for pid in self.processes() if pid != self.proc.pid]

    def sockets(self) -> set[str]:
        return listening_sockets(self.processes())

    def ports(self) -> set[int]:
        return {port_of(address) for address in self.sockets()}

    def send(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)

    def finish(self, timeout: float = 60.0) -> int:
        """Its exit code, once it has exited (within `timeout`)."""
        return self.proc.wait(timeout)

    def gone(self, timeout: float = 20.0) -> list[int]:
        """What is still running of it after `timeout` (empty: nothing)."""
        deadline = time.monotonic() + timeout
        while (left := self.processes()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left

    def dirs(self, prefix: str) -> list[Path]:
        return sorted(self.tmp.glob(f"{prefix}*"))

    def records(self) -> list[Path]:
        return sorted((self.tmp / "azbackup-runs").glob("*.json"))


@contextlib.contextmanager
def command(cmd: Sequence[str], tmp_path: Path, env: Mapping[str, str] | None = None,
            name: str = "command", tmp: Path | None = None) -> Iterator[Command]:
    """Start `cmd` (a child of the test: it dies with the test run) and SIGKILL whatever is left of it at the end,
    so that a failing test leaves nothing either. `tmp`: its TMPDIR (default: tmp_path/tmp)."""
    tmp = tmp or tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    mark = uuid.uuid4().hex
    full_env = dict(os.environ, TMPDIR=str(tmp), **{MARK: mark}, **(env or {}))
    full_env.pop("AZBACKUP_RUN_REGISTRY", None)
    log = tmp_path / f"{name}.log"
    proc = children.spawn(name, cmd, log=log, env=full_env, cwd=REPO)
    watched = Command(proc, mark, log, tmp)
    try:
        yield watched
    finally:
        for pid in watched.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        children.stop(proc, timeout=5)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]
