"""What a real-node run changed on the machine, written down as it happens, so it can be undone.

A run that is killed (SIGKILL, a CI timeout) cannot clean up after itself: its kubelet, containerd,
containers, mounts, cgroups, bridge and iptables rule stay behind. Each change is recorded in a JSON
file under /run/azbackup-node/ *before* it is made; `cleanup` undoes exactly what a file lists, and
`stale` lists the files whose owner process is gone. Nothing that another run made is ever touched:
processes are matched by pid and start time, mounts by path prefix, cgroups, bridge and rule by name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from azbackup.process import children

REGISTRY = Path(os.environ.get("AZBACKUP_NODE_REGISTRY", "/run/azbackup-node"))
CGROUP_FS = Path("/sys/fs/cgroup")


@dataclass
class Footprint:
    id: str
    owner: int
    owner_start: str
    workdir: str
    state_dir: str
    bridge: str = ""
    nat_rule: list[str] = field(default_factory=list)
    cgroup: str = ""
    # name -> [pid, start time]; the control plane's processes too, so a killed run loses none.
    processes: dict[str, list[int | str]] = field(default_factory=dict)
    remove_workdir: bool = True

    @property
    def path(self) -> Path:
        return REGISTRY / f"{self.id}.json"

    def save(self) -> None:
        REGISTRY.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(self.path)

    def add_process(self, name: str, pid: int) -> None:
        self.processes[name] = [pid, children.start_time(pid) or ""]
        self.save()

    def owner_alive(self) -> bool:
        return children.start_time(self.owner) == self.owner_start

    @classmethod
    def load(cls, path: Path) -> Footprint:
        return cls(**json.loads(path.read_text()))


@contextlib.contextmanager
def registry_lock() -> Iterator[None]:
    """Serialises choosing a free bridge subnet and name between runs."""
    REGISTRY.mkdir(parents=True, exist_ok=True)
    with open(REGISTRY / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def stale() -> list[Footprint]:
    """Footprints whose owner process has gone (killed runs)."""
    out = []
    for path in sorted(REGISTRY.glob("*.json")) if REGISTRY.is_dir() else ():
        with contextlib.suppress(OSError, ValueError, TypeError):
            fp = Footprint.load(path)
            if not fp.owner_alive():
                out.append(fp)
    return out


def cgroup_dirs(name: str) -> list[Path]:
    """The run's cgroup in every mounted hierarchy (v1 controllers and the unified one)."""
    if not name:
        return []
    return [h / name for h in sorted(CGROUP_FS.iterdir()) if (h / "cgroup.procs").exists()]


def _kill_pid(pid: int, started: str, sig: int) -> bool:
    if not started or children.start_time(pid) != started:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    return True


def _wait_gone(pids: list[tuple[int, str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(children.start_time(p) == s for p, s in pids):
        time.sleep(0.1)


def stop_processes(fp: Footprint, timeout: float = 10.0) -> None:
    """SIGTERM in reverse start order, SIGKILL whatever is left after `timeout`."""
    listed = [(int(p), str(s)) for p, s in reversed(list(fp.processes.values()))]
    for pid, started in listed:
        _kill_pid(pid, started, signal.SIGTERM)
    _wait_gone(listed, timeout)
    for pid, started in listed:
        _kill_pid(pid, started, signal.SIGKILL)
    _wait_gone(listed, 5)


def kill_cgroup_members(fp: Footprint) -> None:
    """SIGKILL every process in the run's cgroups: the containers of its pods, whoever started them."""
    for _ in range(50):
        pids: set[int] = set()
        for top in cgroup_dirs(fp.cgroup):
            for procs in top.rglob("cgroup.procs"):
                with contextlib.suppress(OSError):
                    pids.update(int(p) for p in procs.read_text().split())
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def kill_shims(fp: Footprint) -> None:
    """containerd's shims outlive containerd; they are ours when they serve our containerd socket
    or run in a bundle under our state directory."""
    socket = os.path.join(fp.state_dir, "containerd.sock")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if not cmdline or not cmdline[0].endswith(b"containerd-shim-runc-v2"):
            continue
        if socket.encode() in cmdline or cwd.startswith(fp.state_dir + "/"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)


def mounts_under(*prefixes: str) -> list[str]:
    """Mount points under the given directories, deepest first (from /proc/self/mountinfo)."""
    return points_under(Path("/proc/self/mountinfo").read_text(), prefixes)


def points_under(mountinfo: str, prefixes: tuple[str, ...]) -> list[str]:
    """The mount points of a mountinfo text that are one of `prefixes` or below one, deepest first."""
    points = []
    for line in mountinfo.splitlines():
        point = line.split()[4].replace("\\040", " ")
        if any(point == p or point.startswith(p.rstrip("/") + "/") for p in prefixes if p):
            points.append(point)
    return sorted(set(points), key=lambda p: (-p.count("/"), p))


def unmount_all(fp: Footprint) -> None:
    for _ in range(5):
        points = mounts_under(fp.workdir, fp.state_dir)
        if not points:
            return
        for point in points:
            if subprocess.run(["umount", point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", point], capture_output=True)


def remove_cgroups(fp: Footprint) -> None:
    for top in cgroup_dirs(fp.cgroup):
        if not top.exists():
            continue
        for d in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                d.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def remove_network(fp: Footprint) -> None:
    if fp.nat_rule:
        # -D removes one copy; a rule that is not there makes iptables fail, which ends the loop.
        for _ in range(5):
            if subprocess.run(["iptables", "-t", "nat", "-D", *fp.nat_rule], capture_output=True).returncode:
                break
    if fp.bridge and Path(f"/sys/class/net/{fp.bridge}").exists():
        subprocess.run(["ip", "link", "delete", fp.bridge], capture_output=True)


def cleanup(fp: Footprint) -> list[str]:
    """Undo everything the footprint lists, in an order that works after a kill at any point.
    Returns what is still left (empty when clean)."""
    stop_processes(fp)             # kubelet, containerd, then the control plane
    kill_cgroup_members(fp)        # the pods' containers
    kill_shims(fp)
    unmount_all(fp)                # rootfs overlays, shm, netns, the kubelet's bind mounts
    remove_cgroups(fp)
    remove_network(fp)
    for directory in (fp.state_dir, fp.workdir if fp.remove_workdir else ""):
        if directory:
            shutil.rmtree(directory, ignore_errors=True)
    left = leftovers(fp)
    if not left:
        fp.path.unlink(missing_ok=True)
    return left


def leftovers(fp: Footprint) -> list[str]:
    """What of the footprint is still on the machine."""
    left = [f"process {name} ({p})" for name, (p, s) in fp.processes.items() if s and children.start_time(int(p)) == s]
    left += [f"mount {m}" for m in mounts_under(fp.workdir, fp.state_dir)]
    left += [f"cgroup {d}" for d in cgroup_dirs(fp.cgroup) if d.exists()]
    if fp.bridge and Path(f"/sys/class/net/{fp.bridge}").exists():
        left.append(f"bridge {fp.bridge}")
    if fp.nat_rule and subprocess.run(["iptables", "-t", "nat", "-C", *fp.nat_rule],
                                      capture_output=True).returncode == 0:
        left.append("iptables rule " + " ".join(fp.nat_rule))
    return left
