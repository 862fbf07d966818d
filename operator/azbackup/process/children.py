"""One owner for the processes a command starts: they stop when it stops, however it stops.

Every command and tool that starts processes (the demo, the control plane, the real node, the
benchmarks, the test fixtures) goes through this module:

    with children.run("azbackup-demo-", keep=args.keep) as run:      # once, in the command's main
        proc = children.spawn("etcd", [...], log=run.workdir / "etcd.log")
        ...
        children.stop(proc)                                           # or let the run stop it

- `spawn(name, cmd, ...)` is `subprocess.Popen` with three additions: the child leads its own
  process group (a signal to the group reaches anything it forks); it carries `AZBACKUP_RUN=<id>` in
  its environment, which its own children inherit (so `grep -l AZBACKUP_RUN= /proc/*/environ` finds
  every one of them, even re-parented to init); and it is bound to this process's life with
  `PR_SET_PDEATHSIG` (below). It is recorded in the run, if one is active.
- `stop(proc)` sends SIGTERM to the child's group, waits up to `timeout`, then SIGKILLs the group.
- `call(name, cmd)` is `subprocess.run(..., capture_output=True, text=True)` through `spawn`, for a child
  with children of its own (a build script): whatever interrupts it stops the whole group.
- `run(prefix, keep=...)` owns one command's run: a work directory (made with `prefix`, or the one
  given), the children spawned while it lasts, and the signals that end a command. On SIGTERM, SIGINT
  or SIGHUP it raises `Interrupted` (a `SystemExit` with the shell's 128+signal code) in the main
  thread, so every `with` and `finally` of the command unwinds as after an exception; further signals
  are ignored while it cleans up, so a second Ctrl-C cannot cut the clean-up short. On leaving, by
  any route, it stops every child still running (last started first) and removes the work directory
  unless kept. It also writes a record (`<tmp>/azbackup-runs/<id>.json`: owner pid and start time,
  children, work directory) and, when entered, undoes what a run that died without cleaning up
  (SIGKILL, OOM, a machine's session killed) left: the processes carrying its id, its directory.

Why PR_SET_PDEATHSIG and not a watchdog: the kernel delivers the signal to the child even when the
parent is SIGKILLed, with nothing of ours left to run; a watchdog would be one more process to own.
Its trap (prctl(2)): the signal fires when the *thread* that forked the child exits, not the process.
So it is set only for children spawned from the main thread, whose exit is the process's; a child
spawned from another thread (a thread pool starting two control planes at once) relies on its owner
stopping it and on the run record. The signal is SIGKILL: the parent is gone, so nobody would wait
out a graceful stop, and the next run removes the directory. The hook runs between fork and exec
(`preexec_fn`), calling only a libc function resolved beforehand; Python documents `preexec_fn` as
unsafe with threads because Python code in the child could meet a lock another thread held at fork
time, which a single ctypes call does not take.

The plumbing is by hand because the standard library has no process-group stop or parent-death
binding (`subprocess` kills the leader only), and psutil would add a dependency for two /proc reads.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

MARKER = "AZBACKUP_RUN"
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Interrupted(SystemExit):
    """The command was asked to stop by a signal; exits with 128 + the signal's number, as a shell reports it."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def registry() -> Path:
    """Where runs are recorded: under the temporary directory, so a test with its own TMPDIR has its own."""
    return Path(os.environ.get("AZBACKUP_RUN_REGISTRY") or Path(tempfile.gettempdir()) / "azbackup-runs")


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat); None if gone
    or a zombie (dead, only waiting for its parent to reap it). A pid with its start time names one
    process: a pid alone may have been reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else fields[19]


def marked(value: str, variable: str = MARKER) -> list[int]:
    """Live processes whose environment carries `variable=value`: by default a run's children and their
    descendants, re-parented or not (only processes whose environment this user may read)."""
    needle = f"{variable}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and start_time(int(entry.name)) is not None:
            found.append(int(entry.name))
    return found


# ---------------------------------------------------------------------------------------------------
# The run record


@dataclass
class Record:
    """What a run owns, written down before it is made, so that the next run can undo it."""

    id: str
    owner: int
    owner_start: str
    workdir: str
    remove_workdir: bool
    children: dict[str, list[str]] = field(default_factory=dict)  #: pid -> [name, start time]

    @property
    def path(self) -> Path:
        return registry() / f"{self.id}.json"

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(self.path)

    def owner_alive(self) -> bool:
        return start_time(self.owner) == self.owner_start

    @classmethod
    def load(cls, path: Path) -> Record:
        return cls(**json.loads(path.read_text()))


def _mounted_below(directory: str) -> bool:
    """A real node's overlays and bind mounts: removing the tree under them would reach into them."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            if line.split()[4].startswith(directory.rstrip("/") + "/"):
                return True
    return False


def reap(record: Record, timeout: float = 10.0) -> bool:
    """Undo what a dead run left: stop its processes, remove its directory. True when nothing is left.

    A directory with mounts below it is left (and so is the record, for the next run) until the
    real node's own clean-up (`hack/real-node.sh cleanup`) has unmounted them."""
    def left() -> list[int]:
        # The marker finds descendants; the recorded pids (with their start times) find a child whose
        # environment cannot be read.
        recorded = [int(pid) for pid, (_, started) in record.children.items() if start_time(int(pid)) == started]
        return sorted({*marked(record.id), *recorded})

    _signal_all(left(), signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while left() and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_all(left(), signal.SIGKILL)
    if record.remove_workdir and record.workdir:
        if _mounted_below(record.workdir):
            return False
        shutil.rmtree(record.workdir, ignore_errors=True)
    record.path.unlink(missing_ok=True)
    return True


def stale() -> list[Record]:
    """Records of runs whose owner has gone without cleaning up."""
    out = []
    for path in sorted(registry().glob("*.json")):
        with contextlib.suppress(OSError, ValueError, TypeError):
            record = Record.load(path)
            if not record.owner_alive():
                out.append(record)
    return out


def _signal_all(pids: Sequence[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


# ---------------------------------------------------------------------------------------------------
# Children


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    with contextlib.suppress(OSError, AttributeError):
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    return None


_PRCTL = _libc_prctl()  # resolved here, never between fork and exec


def _bind_to_parent(parent: int) -> Callable[[], None] | None:
    """The `preexec_fn` that makes the kernel SIGKILL the child when the thread that forked it exits."""
    prctl = _PRCTL
    if prctl is None or threading.current_thread() is not threading.main_thread():
        return None

    def bind() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the prctl: nobody would ever signal us
            os._exit(1)

    return bind


@dataclass
class Run:
    """One command's run: its id, work directory and children (see the module's docstring)."""

    id: str
    workdir: Path
    keep: bool
    record: Record | None = None
    children: list[tuple[str, subprocess.Popen[Any]]] = field(default_factory=list)


_lock = threading.Lock()
_active: Run | None = None


def active() -> Run | None:
    """The run this process is in, if any."""
    return _active


def spawn(name: str, cmd: Sequence[str], *, log: Path | None = None, env: Mapping[str, str] | None = None,
          stdout: int | IO[Any] | None = None, text: bool = False, **popen: Any) -> subprocess.Popen[Any]:
    """Start a child this process owns. `log`: its stderr, and its stdout unless `stdout` is given, go to
    that file (appended)."""
    run = _active
    child_env = dict(os.environ if env is None else env)
    child_env[MARKER] = run.id if run is not None else f"pid-{os.getpid()}"
    log_file = open(log, "ab") if log is not None else None  # noqa: SIM115 (closed below: the child has its copy)
    try:
        proc: subprocess.Popen[Any] = subprocess.Popen(
            list(cmd), env=child_env, stdin=popen.pop("stdin", subprocess.DEVNULL),
            stdout=stdout if stdout is not None else log_file, stderr=log_file or popen.pop("stderr", None),
            text=text, start_new_session=True, preexec_fn=_bind_to_parent(os.getpid()), **popen)
    finally:
        if log_file is not None:
            log_file.close()
    if run is not None:
        with _lock:
            run.children.append((name, proc))
            if run.record is not None:
                run.record.children[str(proc.pid)] = [name, start_time(proc.pid) or ""]
                run.record.save()
    return proc


def stop(proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """SIGTERM to the child's process group, SIGKILL to it after `timeout`; the child is reaped."""
    if proc.poll() is None:
        # The group's id cannot name anyone else while its leader is unreaped (a zombie still holds it).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # What the leader left in its group (a shell's own children). Just reaped, its id is still ours: the
        # kernel hands out a pid again only after its counter wraps. Never for a child reaped long ago.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    run = _active
    if run is not None:
        with _lock:
            run.children[:] = [(n, p) for n, p in run.children if p is not proc]
            if run.record is not None:
                run.record.children.pop(str(proc.pid), None)
                run.record.save()


def call(name: str, cmd: Sequence[str], *, timeout: float | None = None, env: Mapping[str, str] | None = None,
         stderr: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(cmd, capture_output=True, text=True)` for a child that starts its own (a build script):
    on a signal, a timeout (`subprocess.TimeoutExpired`) or an error its whole group stops, not only the shell
    that `subprocess.run` would kill. `stderr=None` shows its stderr (a build's progress) instead."""
    proc = spawn(name, cmd, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        stop(proc)
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def stop_all(timeout: float = 15.0) -> None:
    """Stop every child of the active run, last started first."""
    run = _active
    while run is not None and run.children:
        stop(run.children[-1][1], timeout)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    # From now on a signal only says so: the clean-up that the exception starts must run to its end.
    for sig in SIGNALS:
        signal.signal(sig, _while_stopping)
    print(f"\n{signal.Signals(signum).name}: stopping every process this command started", file=sys.stderr,
          flush=True)
    raise Interrupted(signum)


def _while_stopping(signum: int, _frame: FrameType | None) -> None:
    print(f"{signal.Signals(signum).name}: still stopping (SIGKILL the command to give up; the next run "
          "cleans up)", file=sys.stderr, flush=True)


@contextlib.contextmanager
def run(prefix: str, *, keep: bool = False, workdir: Path | None = None) -> Iterator[Run]:
    """Own a command's run (see the module's docstring). `workdir` given: it is never removed."""
    global _active
    if _active is not None:
        raise RuntimeError(f"a run is already active in this process ({_active.id})")
    for record in stale():
        reap(record)
    own = workdir is None
    directory = Path(tempfile.mkdtemp(prefix=prefix)) if workdir is None else workdir
    directory.mkdir(parents=True, exist_ok=True)
    current = Run(id=directory.name if own else f"{prefix}{uuid.uuid4().hex[:8]}", workdir=directory, keep=keep)
    current.record = Record(id=current.id, owner=os.getpid(), owner_start=start_time(os.getpid()) or "",
                            workdir=str(directory), remove_workdir=own and not keep)
    current.record.save()
    main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _on_signal) for sig in SIGNALS} if main else {}
    _active = current
    try:
        yield current
    finally:
        try:
            stop_all()
            if current.record.remove_workdir:
                shutil.rmtree(directory, ignore_errors=True)
            current.record.path.unlink(missing_ok=True)
        finally:
            _active = None
            for sig, handler in previous.items():
                signal.signal(sig, handler)
