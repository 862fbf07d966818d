"""Flux's source-controller and kustomize-controller as processes against the test's control plane, as
Flux's DEVELOPMENT.md runs them (`make run`), and what a Flux user reads from them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from azbackup.devtools.control_plane import ControlPlane, free_port, repo_root

NAMESPACE = "flux-system"
CONTROLLERS = ("source-controller", "kustomize-controller")


def build() -> Path:
    """hack/build-flux.sh: the controllers and their CRDs, built once into ~/.cache/azbackup."""
    root = repo_root()
    assert root is not None, "tests/gitops run from a checkout of the repository"
    out = subprocess.run(["bash", str(root / "hack" / "build-flux.sh")], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"hack/build-flux.sh failed:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


class Flux:
    """The two controllers, each in its own process group so that stop() ends whatever it started."""

    def __init__(self, bin_dir: Path, plane: ControlPlane, workdir: Path) -> None:
        self.bin_dir, self.plane, self.workdir = bin_dir, plane, workdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def install(self) -> None:
        self.plane.kubectl("apply", "--server-side", "-f", str(self.bin_dir / "crds"))
        self.plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        self.plane.kubectl("create", "namespace", NAMESPACE)

    def start(self) -> Flux:
        (self.workdir / "storage").mkdir(parents=True, exist_ok=True)
        storage = f"127.0.0.1:{free_port()}"
        # Leader election stays off (the default outside the Deployment): one replica of each.
        common = ["--metrics-addr=0", "--log-level=info", "--events-addr="]
        self._spawn("source-controller", [
            *common, f"--health-addr=127.0.0.1:{free_port()}", f"--storage-path={self.workdir / 'storage'}",
            # kustomize-controller downloads each artifact from the URL source-controller advertises.
            f"--storage-addr={storage}", f"--storage-adv-addr={storage}",
        ])
        self._spawn("kustomize-controller", [*common, f"--health-addr=127.0.0.1:{free_port()}"])
        return self

    def _spawn(self, name: str, args: list[str]) -> None:
        env = dict(os.environ, KUBECONFIG=str(self.plane.kubeconfig), RUNTIME_NAMESPACE=NAMESPACE)
        with open(self.log_path(name), "wb") as log:
            self.procs[name] = subprocess.Popen([str(self.bin_dir / name), *args], env=env, stdout=log,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                start_new_session=True)

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def logs(self, name: str) -> list[dict[str, Any]]:
        """The controller's JSON log lines."""
        out = []
        for line in self.log_path(name).read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = self.log_path(name).read_text(errors="replace")[-3000:]
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    # -- what `kubectl get kustomization` shows ----------------------------------------------------------

    def get(self, kind: str, name: str) -> dict[str, Any]:
        out = self.plane.kubectl("-n", NAMESPACE, "get", kind, name, "-o", "json")
        return dict(json.loads(out.stdout))

    def ready(self, kind: str, name: str) -> dict[str, Any]:
        obj = self.get(kind, name)
        for cond in (obj.get("status") or {}).get("conditions") or ():
            if cond.get("type") == "Ready":
                return dict(cond, lastAppliedRevision=obj["status"].get("lastAppliedRevision", ""),
                            lastAttemptedRevision=obj["status"].get("lastAttemptedRevision", ""))
        return {}

    def wait_ready(self, kind: str, name: str, *, status: str = "True", revision: str | None = None,
                   message: str | None = None, timeout: float = 180.0) -> dict[str, Any]:
        """Wait until Ready has `status` (at `revision`, with `message` in its text); fail with what was seen."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            self.alive()
            last = self.ready(kind, name)
            if (last.get("status") == status
                    and (revision is None or revision in last.get("lastAttemptedRevision", ""))
                    and (message is None or message in last.get("message", ""))):
                return last
            time.sleep(0.5)
        table = self.plane.kubectl("get", "-A", "gitrepositories,kustomizations", check=False).stdout
        raise AssertionError(f"{kind}/{name} Ready never {status} (revision {revision}, message {message!r}); "
                             f"last: {last}\n{table}")

    def request_reconcile(self, kind: str, name: str) -> None:
        """What `flux reconcile` does: the requestedAt annotation makes the controller act now."""
        self.plane.kubectl("-n", NAMESPACE, "annotate", "--overwrite", kind, name,
                           f"reconcile.fluxcd.io/requestedAt={time.time_ns()}")

    def events(self, name: str) -> list[dict[str, Any]]:
        out = self.plane.kubectl("-n", NAMESPACE, "get", "events", "-o", "json",
                                 f"--field-selector=involvedObject.name={name}")
        return list(json.loads(out.stdout)["items"])
