"""A local one-node cluster: the control plane in real-node mode plus a kubelet node on this machine.

    hack/real-node.sh start [--dir DIR]     build what is missing, start, print KUBECONFIG, run until Ctrl-C
    hack/real-node.sh run -- CMD...         start, run CMD with KUBECONFIG set, stop
    hack/real-node.sh cleanup [--all]       undo what killed runs left (bridge, rule, mounts, cgroups, processes,
                                            and the processes and directories of any other killed command)

The images (pause and the operator image from the Dockerfile) are imported into the node before it
starts; pods use them with imagePullPolicy Never. Needs root. Every step that fails names itself.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from azbackup.devtools import control_plane, footprint
from azbackup.devtools import node as realnode
from azbackup.process import children


@dataclass
class Cluster:
    plane: control_plane.ControlPlane
    node: realnode.RealNode
    images: realnode.Images
    node_bin: Path

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.plane.kubectl(*args, input=input, check=check, timeout=timeout)


@dataclass(frozen=True)
class Tools:
    control_plane: Path
    node: Path
    images: realnode.Images


def build(report: bool = True) -> Tools:
    """Every build the cluster needs, each skipped when cached; prints how long each took."""
    timings = []
    started = time.monotonic()
    try:
        cp = control_plane.tool_dir()
    except subprocess.CalledProcessError as exc:
        raise realnode.StepFailed("control-plane tools (hack/build-tools.sh)", str(exc)) from exc
    timings.append(f"control-plane tools {time.monotonic() - started:.0f}s")
    started = time.monotonic()
    nb = realnode.node_tool_dir()
    timings.append(f"node tools {time.monotonic() - started:.0f}s")
    started = time.monotonic()
    images = realnode.build_images()
    timings.append(f"images {time.monotonic() - started:.0f}s")
    if report:
        print("[real-node] builds: " + ", ".join(timings), file=sys.stderr, flush=True)
    return Tools(cp, nb, images)


def cleanup_stale() -> list[str]:
    """Undo what killed runs left: the nodes first (their mounts), then every other command's processes and
    directories (azbackup.process.children), which a directory with mounts below it would hold back."""
    cleaned = realnode.cleanup_stale()
    for record in children.stale():
        if children.reap(record):
            cleaned.append(record.id)
    return cleaned


@contextlib.contextmanager
def running(workdir: Path | None = None, keep: bool = False, tools: Tools | None = None) -> Iterator[Cluster]:
    """Build (or find) everything, start control plane and node, stop and clean up afterwards."""
    realnode.require_root()
    cleanup_stale()
    tools = tools or build()
    own = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="azbackup-node-"))
    plane = control_plane.ControlPlane(bin_dir=tools.control_plane, workdir=workdir / "control-plane",
                                       keep_workdir=True, scheduler_dir=tools.node)
    real = realnode.RealNode(plane=plane, bin_dir=tools.node, workdir=workdir,
                         preload=(tools.images.pause_archive, tools.images.image_archive))
    fp = real.reserve()
    fp.remove_workdir = own and not keep
    fp.save()
    plane.on_spawn = fp.add_process
    began = time.monotonic()
    try:
        try:
            plane.start()
        except Exception as exc:
            raise realnode.StepFailed("control plane (real-node mode)", str(exc)) from exc
        started = time.monotonic()
        real.start()
        steps = ", ".join(f"{k} {v:.0f}s" for k, v in real.timings.items())
        print(f"[real-node] control plane {started - began:.0f}s, node: {steps}", file=sys.stderr, flush=True)
        yield Cluster(plane, real, tools.images, tools.node)
    finally:
        left = real.stop()
        plane.stop()
        if left:
            print("[real-node] clean-up left: " + "; ".join(left), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="real-node", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "run"):
        p = sub.add_parser(name)
        p.add_argument("--dir", type=Path, help="work directory (default: a new temporary one)")
        p.add_argument("--keep", action="store_true", help="keep the work directory")
        if name == "run":
            p.add_argument("cmd", nargs=argparse.REMAINDER)
    clean = sub.add_parser("cleanup", help="undo what killed runs left behind")
    clean.add_argument("--all", action="store_true", help="also runs whose owner is alive (careful)")
    args = parser.parse_args(argv)

    if args.command == "cleanup":
        fps = [footprint.Footprint.load(p) for p in sorted(footprint.REGISTRY.glob("*.json"))] if args.all \
            else footprint.stale()
        for fp in fps:
            left = footprint.cleanup(fp)
            print(f"{fp.id}: " + ("clean" if not left else "left " + "; ".join(left)))
        records = children.stale()
        for record in records:
            print(f"{record.id}: " + ("clean" if children.reap(record) else f"left {record.workdir} (mounts below)"))
        if not fps and not records:
            print("nothing to clean up")
        return 0

    realnode.require_root()
    cleanup_stale()  # before the run is recorded: a killed run's directory is only removable once unmounted
    # SIGTERM, SIGINT or SIGHUP unwind these blocks: node and control plane stop, the directory goes unless kept.
    with children.run("azbackup-node-", keep=args.keep, workdir=args.dir) as owned, \
            running(owned.workdir, keep=True) as cluster:
        env = cluster.plane.env()
        if args.command == "run":
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            return subprocess.run(cmd or ["kubectl", "get", "nodes", "-o", "wide"], env=env).returncode
        print(f"node {cluster.node.name} Ready at {cluster.node.address}; image {cluster.images.image}")
        print(f"export KUBECONFIG={cluster.plane.kubeconfig}", flush=True)
        with contextlib.suppress(children.Interrupted):  # a signal is how `start` is meant to end
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
