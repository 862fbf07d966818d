"""A real local Kubernetes control plane: etcd, kube-apiserver and kube-controller-manager on loopback.

No kubelet and no containers: objects are stored, validated, garbage-collected and their namespaces
finalized exactly as in a cluster, which is all an operator needs. Used by the integration tests,
`azbackup demo` and `hack/control-plane.sh`.

Every run gets its own directory, certificates and free ports, so two runs at once do not clash.
Its processes are children of the caller (azbackup.process.children): they stop with it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from azbackup.process import children

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "helm")
KCM_CONTROLLERS = (
    # Owner-reference garbage collection and namespace deletion are what an operator's tests need;
    # the service-account controllers let `helm install` create workloads that reference an SA.
    "garbage-collector-controller,namespace-controller,serviceaccount-controller,"
    "serviceaccount-token-controller,root-ca-certificate-publisher-controller"
)


def repo_root() -> Path | None:
    """The checkout this package runs from, if it runs from one (it has hack/build-tools.sh)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "hack" / "build-tools.sh").is_file():
            return parent
    return None


def tool_dir() -> Path:
    """Directory with the pinned binaries: built (or found in the cache) by hack/build-tools.sh.

    `KUBEBUILDER_ASSETS` is honoured by the script itself, as envtest does.
    """
    if explicit := os.environ.get("AZBACKUP_TOOLS"):
        return Path(explicit)
    root = repo_root()
    if root is None:
        assets = os.environ.get("KUBEBUILDER_ASSETS")
        if assets:
            return Path(assets)
        raise RuntimeError("no hack/build-tools.sh here and KUBEBUILDER_ASSETS is unset: "
                           "run from a checkout of the repository or set KUBEBUILDER_ASSETS")
    # A signal during a build stops the script's compilers too, not only bash (children.call).
    out = children.call("build-tools", ["bash", str(root / "hack" / "build-tools.sh")], stderr=None)
    out.check_returncode()
    return Path(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------------
# Certificates


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def make_pki(directory: Path) -> Pki:
    """A throwaway CA, an apiserver serving certificate for loopback, an admin client certificate
    (group system:masters) and the service-account signing key pair."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    valid = (now - dt.timedelta(hours=1), now + dt.timedelta(days=30))

    def issue(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
              issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool,
              san: list[x509.GeneralName] | None = None, client: bool = False) -> x509.Certificate:
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(valid[0]).not_valid_after(valid[1])
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san:
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        if not ca:
            usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
            b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "azbackup-local-ca")])
    ca = issue(ca_name, ca_key, ca_name, ca_key, ca=True)

    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv = issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]), srv_key, ca_name,
                ca_key, ca=False,
                san=[x509.DNSName("localhost"), x509.DNSName("kubernetes.default.svc"),
                     x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                     x509.IPAddress(ipaddress.ip_address("10.0.0.1"))])

    adm_key = ec.generate_private_key(ec.SECP256R1())
    adm = issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "admin"),
                           x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters")]),
                adm_key, ca_name, ca_key, ca=False, client=True)

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    pki = Pki(*(directory / n for n in ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key",
                                        "admin.crt", "admin.key", "sa.key", "sa.pub")))
    pki.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.ca_key, ca_key)
    pki.serving_cert.write_bytes(srv.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.serving_key, srv_key)
    pki.admin_cert.write_bytes(adm.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.admin_key, adm_key)
    _write_key(pki.sa_key, sa_key)
    pki.sa_pub.write_bytes(sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return pki


def kubeconfig_text(server: str, pki: Pki) -> str:
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: azbackup-local\n  cluster:\n    server: {server}\n"
        f"    certificate-authority: {pki.ca_cert}\n"
        f"users:\n- name: admin\n  user:\n    client-certificate: {pki.admin_cert}\n"
        f"    client-key: {pki.admin_key}\n"
        "contexts:\n- name: azbackup-local\n  context:\n    cluster: azbackup-local\n    user: admin\n"
        "current-context: azbackup-local\n"
    )


# ---------------------------------------------------------------------------------------------------
# Processes


@dataclass
class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager in `workdir`, stopped by `stop()`."""

    bin_dir: Path
    workdir: Path
    keep_workdir: bool = False
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    server: str = ""
    pki: Pki | None = None
    #: For a real node (azbackup.devtools.node): the directory with kube-scheduler. Set, it also turns on
    #: ServiceAccount admission and every KCM controller (Deployments and StatefulSets get pods), and the
    #: apiserver dials kubelets by InternalIP with the admin client certificate.
    scheduler_dir: Path | None = None
    #: Called with (name, pid) for every process started, so a killed run can be cleaned up.
    on_spawn: Callable[[str, int], None] | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    def env(self) -> dict[str, str]:
        """Environment for a child process that should talk to this control plane."""
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig))
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env

    def _spawn(self, name: str, args: Sequence[str], bin_dir: Path | None = None) -> subprocess.Popen[bytes]:
        proc = children.spawn(name, [str((bin_dir or self.bin_dir) / name), *args], log=self.workdir / f"{name}.log")
        self.processes.append((name, proc))
        if self.on_spawn is not None:
            self.on_spawn(name, proc.pid)
        return proc

    def _wait_ready(self, name: str, url: str, timeout: float, context: ssl.SSLContext | None) -> None:
        proc = dict(self.processes)[name]
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            try:
                with urllib.request.urlopen(url, timeout=2, context=context) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise TimeoutError(f"{name} not ready at {url} after {timeout}s ({last}):\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def start(self, timeout: float = 90.0) -> ControlPlane:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        pki = self.pki = make_pki(self.workdir / "pki")

        etcd_port = free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        self._spawn("etcd", [
            f"--data-dir={self.workdir / 'etcd'}", f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            # Port 0 for peers: a single member never dials them, and a fixed 2380 would clash.
            "--listen-peer-urls=http://127.0.0.1:0", "--unsafe-no-fsync", "--log-level=warn",
            "--quota-backend-bytes=4294967296",
        ])
        self._wait_ready("etcd", f"{etcd_url}/health", timeout, None)

        api_port = free_port()
        self.server = f"https://127.0.0.1:{api_port}"
        real_node = self.scheduler_dir is not None
        node_flags = [
            # Pods get their ServiceAccount token; `kubectl logs/exec` reach the kubelet by its IP
            # (the node name does not resolve) as the admin, whose CA the kubelet trusts.
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-client-certificate={pki.admin_cert}", f"--kubelet-client-key={pki.admin_key}",
        ] if real_node else [
            # No kubelet runs pods, so the admission plugin that waits for a default SA buys nothing.
            "--disable-admission-plugins=ServiceAccount",
        ]
        self._spawn("kube-apiserver", [
            *node_flags,
            f"--etcd-servers={etcd_url}", f"--cert-dir={self.workdir / 'apiserver-certs'}",
            f"--tls-cert-file={pki.serving_cert}", f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}", f"--secure-port={api_port}", "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1", "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true", "--authorization-mode=RBAC",
            f"--service-account-issuer={self.server}", f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            "--enable-priority-and-fairness=false", "--profiling=false", "--v=0",
        ])
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        context.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
        self._wait_ready("kube-apiserver", f"{self.server}/readyz", timeout, context)
        self.kubeconfig.write_text(kubeconfig_text(self.server, pki))

        kcm_port = free_port()
        self._spawn("kube-controller-manager", [
            f"--kubeconfig={self.kubeconfig}", f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}", "--leader-elect=false",
            "--use-service-account-credentials=false", f"--controllers={'*' if real_node else KCM_CONTROLLERS}",
            f"--service-account-private-key-file={pki.sa_key}", f"--root-ca-file={pki.ca_cert}",
            "--bind-address=127.0.0.1", f"--secure-port={kcm_port}",
            "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
        ])
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE  # KCM serves a self-signed certificate on loopback
        self._wait_ready("kube-controller-manager", f"https://127.0.0.1:{kcm_port}/healthz", timeout, insecure)
        if self.scheduler_dir is not None:
            scheduler_port = free_port()
            self._spawn("kube-scheduler", [
                f"--kubeconfig={self.kubeconfig}", f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}", "--leader-elect=false",
                "--bind-address=127.0.0.1", f"--secure-port={scheduler_port}",
                "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
            ], bin_dir=self.scheduler_dir)
            self._wait_ready("kube-scheduler", f"https://127.0.0.1:{scheduler_port}/healthz", timeout, insecure)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM in reverse start order, SIGKILL after `timeout`; remove the workdir unless kept."""
        while self.processes:
            children.stop(self.processes.pop()[1], timeout)
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin_dir / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
                              input=input, text=True, capture_output=True, check=check, timeout=timeout)


@contextlib.contextmanager
def running(workdir: Path | None = None, bin_dir: Path | None = None,
            keep: bool = False) -> Iterator[ControlPlane]:
    """Start a control plane for the `with` block and stop it afterwards, whatever happens."""
    bin_dir = bin_dir or tool_dir()
    own = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="azbackup-cp-"))
    plane = ControlPlane(bin_dir=bin_dir, workdir=workdir, keep_workdir=keep or not own)
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


def main(argv: Sequence[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", type=Path, help="work directory (default: a new temporary directory); "
                        "the admin kubeconfig is written to DIR/kubeconfig")
    common.add_argument("--keep", action="store_true", help="keep the work directory on exit")
    parser = argparse.ArgumentParser(
        prog="control-plane",
        description="Run a local control plane (etcd, kube-apiserver, kube-controller-manager) on loopback.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("start", parents=[common],
                   help="start, print the kubeconfig path, and run until SIGINT or SIGTERM")
    run = sub.add_parser("run", parents=[common], help="start, run COMMAND with KUBECONFIG set, then stop")
    run.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    # SIGTERM, SIGINT or SIGHUP unwind this block: the control plane stops, its directory goes unless kept.
    with children.run("azbackup-cp-", keep=args.keep, workdir=args.dir) as owned, \
            running(owned.workdir, keep=True) as plane:
        if args.command == "run":
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            return subprocess.run(cmd or ["kubectl", "get", "--raw=/readyz"], env=plane.env()).returncode
        print(f"control plane ready: {plane.server}")
        print(f"export KUBECONFIG={plane.kubeconfig}", flush=True)
        with contextlib.suppress(children.Interrupted):  # a signal is how `start` is meant to end
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
