"""A real Kubernetes node on this machine: containerd 2 + runc + kubelet, its pods on a private bridge.

With the local control plane in real-node mode (a kube-scheduler, every controller, ServiceAccount
tokens) this is a one-node cluster that runs the chart's pods from images built here (hack/):

- pods live on their own bridge (`azb<id>`, 10.244.N.0/24, N free on this machine) with no default
  route: they reach each other, the host, and the apiserver at 10.0.0.1:443 (one DNAT rule to its
  loopback port), and nothing else. IP forwarding is left alone;
- every run has its own names, ports, directories and cgroup (`/azbackup-<id>` in every hierarchy,
  the kubelet's cgroupRoot), so runs beside it (other control planes, other nodes) are not touched;
- everything it changes is recorded first in a footprint (azbackup.devtools.footprint), so `stop()`
  and, after a killed run, `cleanup_stale()` undo exactly that.

Needs root, cgroup v1 or v2, iptables, iproute2 and the CNI plugins in /usr/lib/cni (Debian:
containernetworking-plugins). Binaries: hack/build-node-tools.sh; images: hack/build-images.sh.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from azbackup.devtools import footprint
from azbackup.devtools.control_plane import ControlPlane, free_port, repo_root
from azbackup.process import children

CNI_BIN = Path(os.environ.get("AZBACKUP_CNI_BIN", "/usr/lib/cni"))
SERVICE_IP = "10.0.0.1"  # the `kubernetes` Service in the control plane's 10.0.0.0/24 range


class StepFailed(RuntimeError):
    """A named step of building or starting the node failed."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"real node: step '{step}' failed: {detail}")
        self.step = step


def _run(step: str, cmd: list[str], *, timeout: float = 1800, env: dict[str, str] | None = None) -> str:
    try:
        # Build scripts start compilers and buildah: a signal or the timeout stops them all (children.call).
        out = children.call(step, cmd, timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StepFailed(step, str(exc)) from exc
    if out.returncode != 0:
        raise StepFailed(step, f"{' '.join(cmd)} exited with {out.returncode}:\n{out.stderr[-4000:]}")
    return out.stdout


# ---------------------------------------------------------------------------------------------------
# Builds (hack/)


def _hack(script: str) -> Path:
    root = repo_root()
    if root is None:
        raise StepFailed(script, "run from a checkout of the repository (hack/ is needed)")
    return root / "hack" / script


def node_tool_dir() -> Path:
    """kubelet, kube-scheduler, containerd, runc, pause and kstatus (hack/build-node-tools.sh)."""
    if explicit := os.environ.get("AZBACKUP_NODE_TOOLS"):
        return Path(explicit)
    out = _run("hack/build-node-tools.sh", ["bash", str(_hack("build-node-tools.sh"))])
    return Path(out.strip().splitlines()[-1])


def kstatus_binary(bin_dir: Path) -> Path:
    """hack/kstatus built by hack/build-node-tools.sh, named by the hash of its source."""
    import hashlib

    directory = _hack("kstatus")
    digest = hashlib.sha256(b"".join((directory / n).read_bytes() for n in ("go.mod", "go.sum", "main.go")))
    return bin_dir / f"kstatus-{digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class Images:
    pause_archive: Path
    image: str            # localhost/azbackup-operator:dev-<hash>
    image_archive: Path

    @property
    def repository(self) -> str:
        return self.image.rsplit(":", 1)[0]

    @property
    def tag(self) -> str:
        return self.image.rsplit(":", 1)[1]


def build_images() -> Images:
    """The pause image and the operator image from the Dockerfile (hack/build-images.sh)."""
    out = _run("hack/build-images.sh", ["bash", str(_hack("build-images.sh"))])
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return Images(Path(values["PAUSE_ARCHIVE"]), values["IMAGE"], Path(values["IMAGE_ARCHIVE"]))


# ---------------------------------------------------------------------------------------------------
# Configuration files


def containerd_config(state: Path, root: Path, cni_conf: Path, bin_dir: Path, pause_image: str) -> str:
    return f"""version = 3
root = '{root}'
state = '{state}'
[grpc]
  address = '{state}/containerd.sock'
[plugins]
  # NRI listens on a fixed /var/run/nri socket, which two nodes on one machine would share.
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '{pause_image}'
  [plugins.'io.containerd.cri.v1.runtime']
    # Root here may lack CAP_SYS_RESOURCE and then cannot lower oom_score_adj below its own: runc
    # init dies with "can't get final child's PID from pipe: EOF". Clamp to containerd's own score.
    restrict_oom_score_adj = true
    # Network namespaces under the state directory, not /var/run/netns: the clean-up finds them.
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = '{bin_dir}/runc'
          Root = '{state}/runc'
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['{CNI_BIN}']
      conf_dir = '{cni_conf}'
"""


def cni_config(bridge: str, subnet: str, gateway: str, ipam_dir: Path) -> str:
    """A bridge with no gateway role: the plugin leaves ip_forward alone and pods get no default
    route, only the service range through the host (for the apiserver's DNAT)."""
    return json.dumps({
        "cniVersion": "1.0.0", "name": bridge,
        "plugins": [{
            "type": "bridge", "bridge": bridge, "isGateway": False, "ipMasq": False, "hairpinMode": True,
            "ipam": {"type": "host-local", "ranges": [[{"subnet": subnet, "gateway": gateway}]],
                     "routes": [{"dst": "10.0.0.0/24", "gw": gateway}], "dataDir": str(ipam_dir)},
        }],
    }, indent=1)


def kubelet_config(*, address: str, socket: Path, cgroup_root: str, healthz_port: int, ca: Path,
                   logs: Path, resolv: Path) -> str:
    return json.dumps({
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        # Kubernetes 1.36 refuses cgroup v1 unless told otherwise; some machines have nothing else.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs", "failSwapOn": False,
        "containerRuntimeEndpoint": f"unix://{socket}",
        "cgroupRoot": cgroup_root,
        "address": address, "port": 10250, "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1", "healthzPort": healthz_port,
        # The apiserver calls the kubelet with the admin client certificate; nobody else may.
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False},
                           "x509": {"clientCAFile": str(ca)}},
        "authorization": {"mode": "AlwaysAllow"},
        "podLogsDir": str(logs),
        "resolvConf": str(resolv),
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        # The imported images cannot be pulled again: never garbage-collect them.
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        "maxPods": 30, "registerNode": True, "serializeImagePulls": False,
    }, indent=1)


# ---------------------------------------------------------------------------------------------------
# The node


def _used_subnets() -> set[int]:
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
    return {int(m) for m in re.findall(r"inet 10\.244\.(\d+)\.", out)}


def _write_cgroup_defaults(directory: Path) -> None:
    """A new v1 cpuset cgroup starts with no CPUs and no memory nodes: copy the parent's."""
    for name in ("cpuset.cpus", "cpuset.mems"):
        mine, parent = directory / name, directory.parent / name
        if mine.exists() and not mine.read_text().strip():
            mine.write_text(parent.read_text())


@dataclass
class RealNode:
    """One kubelet node of `plane`, in `workdir`; `start()` returns when the node is Ready."""

    plane: ControlPlane
    bin_dir: Path
    workdir: Path
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    fp: footprint.Footprint | None = None
    #: OCI archives imported into containerd before the kubelet starts (the pause image first).
    preload: tuple[Path, ...] = ()
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    address: str = ""
    timings: dict[str, float] = field(default_factory=dict)  #: seconds per start-up step

    @property
    def name(self) -> str:
        return f"azbackup-{self.id}"

    @property
    def state_dir(self) -> Path:
        return footprint.REGISTRY / self.id

    @property
    def socket(self) -> Path:
        return self.state_dir / "containerd.sock"

    def reserve(self) -> footprint.Footprint:
        """Record the run before changing anything; the owner is this process."""
        fp = footprint.Footprint(id=self.id, owner=os.getpid(), owner_start=children.start_time(os.getpid()) or "",
                                 workdir=str(self.workdir), state_dir=str(self.state_dir))
        fp.save()
        self.fp = fp
        return fp

    def start(self, timeout: float = 120.0) -> RealNode:
        fp = self.fp or self.reserve()
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.state_dir.mkdir(parents=True, exist_ok=True)
            steps: list[tuple[str, Callable[[], None]]] = [
                ("network", lambda: self._network(fp)), ("cgroup", lambda: self._cgroup(fp)),
                ("containerd", lambda: self._containerd(fp, timeout)), ("images", self._import_images),
                ("kubelet", lambda: self._kubelet(fp, timeout))]
            for name, step in steps:
                started = time.monotonic()
                step()
                self.timings[name] = time.monotonic() - started
        except BaseException:
            self.stop()
            raise
        return self

    def _network(self, fp: footprint.Footprint) -> None:
        step = "network: private bridge and the apiserver DNAT rule"
        with footprint.registry_lock():
            free = [n for n in range(10, 250) if n not in _used_subnets()]
            if not free:
                raise StepFailed(step, "no free 10.244.N.0/24 subnet")
            n = free[0]
            fp.bridge = f"azb{self.id}"
            fp.save()
            self.address = f"10.244.{n}.1"
            _run(step, ["ip", "link", "add", fp.bridge, "type", "bridge"])
            _run(step, ["ip", "addr", "add", f"{self.address}/24", "dev", fp.bridge])
        _run(step, ["ip", "link", "set", fp.bridge, "up"])
        # The apiserver listens on loopback only; pods reach it at the `kubernetes` Service address.
        Path(f"/proc/sys/net/ipv4/conf/{fp.bridge}/route_localnet").write_text("1")
        api_port = self.plane.server.rsplit(":", 1)[1]
        fp.nat_rule = ["PREROUTING", "-i", fp.bridge, "-d", f"{SERVICE_IP}/32", "-p", "tcp", "--dport", "443",
                       "-m", "comment", "--comment", f"azbackup-node-{self.id}", "-j", "DNAT",
                       "--to-destination", f"127.0.0.1:{api_port}"]
        fp.save()
        _run(step, ["iptables", "-t", "nat", "-A", *fp.nat_rule])
        cni = self.workdir / "cni"
        (cni / "net.d").mkdir(parents=True, exist_ok=True)
        (cni / "net.d" / "10-azbackup.conflist").write_text(
            cni_config(fp.bridge, f"10.244.{n}.0/24", self.address, cni / "ipam"))

    def _cgroup(self, fp: footprint.Footprint) -> None:
        fp.cgroup = f"azbackup-{self.id}"
        fp.save()
        for directory in footprint.cgroup_dirs(fp.cgroup):
            directory.mkdir(exist_ok=True)
            _write_cgroup_defaults(directory)

    def _spawn(self, fp: footprint.Footprint, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        proc = children.spawn(name, cmd, log=self.workdir / f"{name}.log", env=env)
        self.processes.append((name, proc))
        fp.add_process(name, proc.pid)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _containerd(self, fp: footprint.Footprint, timeout: float) -> None:
        step = "containerd"
        config = self.workdir / "containerd.toml"
        config.write_text(containerd_config(self.state_dir, self.workdir / "containerd", self.workdir / "cni" / "net.d",
                                             self.bin_dir, "registry.k8s.io/pause:" + pause_version()))
        # Its shim is looked up on PATH: ours, not a distribution's containerd 1.x shim.
        env = dict(os.environ, PATH=f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
        self._spawn(fp, "containerd", [str(self.bin_dir / "containerd"), "--config", str(config)], env)
        deadline = time.monotonic() + timeout
        while self.ctr("version", check=False).returncode != 0:
            if self.processes[-1][1].poll() is not None or time.monotonic() > deadline:
                raise StepFailed(step, f"containerd did not start:\n{self.log_tail('containerd')}")
            time.sleep(0.2)

    def ctr(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([str(self.bin_dir / "ctr"), "--address", str(self.socket), "--namespace", "k8s.io",
                              *args], capture_output=True, text=True, timeout=timeout)
        if check and out.returncode != 0:
            raise StepFailed(f"ctr {args[0]}", out.stderr[-2000:])
        return out

    def import_image(self, archive: Path) -> None:
        """An OCI archive into the node's image store (the kubelet runs it with imagePullPolicy Never)."""
        out = self.ctr("images", "import", "--local", str(archive), check=False)
        if out.returncode != 0:
            raise StepFailed(f"importing {archive.name} into containerd", out.stderr[-2000:])

    def _import_images(self) -> None:
        for archive in self.preload:
            self.import_image(archive)

    def _kubelet(self, fp: footprint.Footprint, timeout: float) -> None:
        step = "kubelet"
        assert self.plane.pki is not None
        resolv = self.workdir / "resolv.conf"
        resolv.write_text("")  # pods have no DNS server to reach: say so, rather than the host's
        config = self.workdir / "kubelet.json"
        config.write_text(kubelet_config(address=self.address, socket=self.socket, cgroup_root=f"/{fp.cgroup}",
                                         healthz_port=free_port(), ca=self.plane.pki.ca_cert,
                                         logs=self.workdir / "pod-logs", resolv=resolv))
        self._spawn(fp, "kubelet", [
            str(self.bin_dir / "kubelet"), f"--config={config}", f"--kubeconfig={self.plane.kubeconfig}",
            f"--root-dir={self.workdir / 'kubelet'}", f"--cert-dir={self.workdir / 'kubelet-pki'}",
            f"--hostname-override={self.name}", f"--node-ip={self.address}", "--v=1",
        ])
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.processes[-1][1].poll() is not None or time.monotonic() > deadline:
                raise StepFailed(step, f"node {self.name} not Ready:\n{self.log_tail('kubelet')}")
            time.sleep(0.5)

    def ready(self) -> bool:
        out = self.plane.kubectl("get", "node", self.name, "-o", "json", check=False)
        if out.returncode != 0:
            return False
        conditions = json.loads(out.stdout).get("status", {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def stop(self) -> list[str]:
        """Stop everything and undo every change; returns what could not be undone."""
        if self.fp is None:
            return []
        left = footprint.cleanup(self.fp)
        for _, proc in self.processes:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.processes.clear()
        return left


def pause_version() -> str:
    root = repo_root()
    text = (root / "hack" / "versions.env").read_text() if root else ""
    match = re.search(r"^PAUSE_VERSION=(\S+)", text, re.MULTILINE)
    return match.group(1) if match else "3.10.1"


def cleanup_stale() -> list[str]:
    """Undo what killed runs left behind (their owner process is gone); returns their ids."""
    cleaned = []
    for fp in footprint.stale():
        footprint.cleanup(fp)
        cleaned.append(fp.id)
    return cleaned


def require_root() -> None:
    if os.geteuid() != 0:
        raise StepFailed("preflight", "a real node needs root (bridge, iptables, cgroups, mounts)")
    for tool in ("ip", "iptables", "umount"):
        if shutil.which(tool) is None:
            raise StepFailed("preflight", f"{tool} is not installed (Debian: iproute2, iptables, mount)")
    if not (CNI_BIN / "bridge").exists():
        raise StepFailed("preflight", f"no CNI bridge plugin in {CNI_BIN} (Debian: containernetworking-plugins)")
