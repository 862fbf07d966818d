"""The embedded default, as processes: the Azure emulator and the operator beside a local control plane.

Used by `azbackup demo` and the benchmarks. The operator is the real `azbackup run`; only its ARM
endpoint, authority host, CA bundle and credential point at the emulator. Both are children of the
caller (azbackup.process.children): they stop with it.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from azbackup.process import children

# The emulator's default identity (its sample fleet and synthetic inventories use it).
EMULATOR_TENANT = "11111111-1111-1111-1111-111111111111"
EMULATOR_CLIENT_ID = "22222222-2222-2222-2222-222222222222"
EMULATOR_SECRET = "emulator-secret"


def call_admin(url: str, ca_bundle: str, method: str, path: str, body: object = None) -> Any:
    """Call an emulator's admin API (plain HTTPS: the operator package never imports the emulator)."""
    context = ssl.create_default_context(cafile=ca_bundle)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/_admin/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30, context=context) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


@dataclass
class Emulator:
    url: str
    ca_bundle: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        children.stop(self.process)

    def admin(self, method: str, path: str, body: object = None) -> Any:
        return call_admin(self.url, self.ca_bundle, method, path, body)


def start_emulator(workdir: Path, *, inventory: Path | None = None, time_scale: float = 0.05,
                   throttling: bool = False, extra: Sequence[str] = ()) -> Emulator:
    """`python -m azure_emulator` on a free port; waits for its one-line JSON greeting."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "azure_emulator", "--port", "0", "--state-dir", str(workdir),
           "--time-scale", str(time_scale), *extra]
    if inventory is not None:
        cmd += ["--inventory", str(inventory)]
    if throttling:
        cmd.append("--throttling")
    proc = children.spawn("emulator", cmd, log=workdir / "emulator.log", stdout=subprocess.PIPE, text=True)
    greeting = _first_json_line(proc.stdout, 60.0)
    if greeting is None:
        children.stop(proc)
        raise RuntimeError(f"the emulator did not start; see {workdir / 'emulator.log'}")
    return Emulator(greeting["url"], greeting["caBundle"], proc)


def _first_json_line(stream: IO[str] | None, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while stream is not None and time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            return None
        if line.startswith("{"):
            data: dict[str, Any] = json.loads(line)
            return data
    return None


def operator_env(kubeconfig: Path, emulator: Emulator, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    env = dict(base)
    env.update({
        "KUBECONFIG": str(kubeconfig), "AZBACKUP_ARM_ENDPOINT": emulator.url,
        "AZURE_AUTHORITY_HOST": emulator.url, "AZBACKUP_CA_BUNDLE": emulator.ca_bundle,
        "AZURE_TENANT_ID": EMULATOR_TENANT, "AZURE_CLIENT_ID": EMULATOR_CLIENT_ID,
        "AZURE_CLIENT_SECRET": EMULATOR_SECRET,
    })
    # As in the container image: glibc's per-thread malloc arenas would otherwise inflate the resident
    # memory of a process whose Kubernetes calls run on a thread pool.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    return env


def start_operator(kubeconfig: Path, emulator: Emulator, log_path: Path,
                   args: Sequence[str]) -> subprocess.Popen[bytes]:
    """`azbackup run` with the given flags, logging to `log_path`."""
    return children.spawn("operator", [sys.executable, "-m", "azbackup.cli", "run", *args], log=log_path,
                          env=operator_env(kubeconfig, emulator))


def stop(proc: subprocess.Popen[Any]) -> None:
    children.stop(proc)


def log_tail(path: Path, lines: int = 30) -> str:
    """The end of a child's log, for an error message (the work directory may be removed afterwards)."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
