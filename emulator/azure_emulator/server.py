"""Running the emulator: the HTTPS listener, in a background thread (tests) or as a child process.

    with running_emulator(time_scale=0.01) as emu:     # in-process, port 0 picks a free port
        client = RecoveryServicesBackupClient(cred, sub, base_url=emu.url,
                                              credential_scopes=[emu.url + "/.default"],
                                              connection_verify=emu.ca_bundle)

A child process (`EmulatorProcess.start_subprocess`, or `python -m azure_emulator`) prints one JSON
line on stdout once it listens: `{"url", "caBundle", "adminUrl", "authority", "tenantId", "pid"}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from azure_emulator import tls
from azure_emulator.admin import AdminClient
from azure_emulator.app import Emulator
from azure_emulator.inventory import load_document
from azure_emulator.settings import Settings

log = logging.getLogger("azure_emulator")

InventorySource = str | Path | Mapping[str, Any] | None


@dataclass
class Listening:
    """Where a started emulator answers."""

    url: str
    ca_bundle: str
    runner: web.AppRunner

    @property
    def admin_url(self) -> str:
        return f"{self.url}/_admin"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def start(emulator: Emulator, *, host: str = "127.0.0.1", port: int = 0, state_dir: str | Path) -> Listening:
    """Listen on `host:port` (0 picks a free port) with a certificate from the emulator's own CA."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    bound = sock.getsockname()[1]
    hosts = [host] if host not in ("0.0.0.0", "::") else [socket.gethostname()]
    files = tls.ensure_tls(Path(state_dir), hosts)
    public = "127.0.0.1" if host == "0.0.0.0" else ("::1" if host == "::" else host)
    url = f"https://{_url_host(public)}:{bound}"
    emulator.base_urls = [url, f"https://localhost:{bound}", f"https://127.0.0.1:{bound}"]
    emulator.ca_bundle = str(files.ca_bundle)
    runner = web.AppRunner(emulator.application(), access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.SockSite(runner, sock, ssl_context=files.server_context())
    await site.start()
    return Listening(url, str(files.ca_bundle), runner)


def ready_line(emulator: Emulator, listening: Listening) -> str:
    """The machine-readable line a child process prints once it listens."""
    return json.dumps(
        {
            "url": listening.url,
            "caBundle": listening.ca_bundle,
            "adminUrl": listening.admin_url,
            "authority": listening.url,
            "tenantId": emulator.state.tenant_id,
            "pid": os.getpid(),
        }
    )


class EmulatorProcess:
    """A running emulator, in a background thread of this process or as a child process.

    `.url` (https://127.0.0.1:PORT), `.ca_bundle`, `.admin_url`, `.admin` (an `AdminClient`), `.stop()`.
    In a thread, `.emulator` is the live `Emulator` object.
    """

    def __init__(self, url: str, ca_bundle: str, *, tenant_id: str) -> None:
        self.url = url
        self.ca_bundle = ca_bundle
        self.tenant_id = tenant_id
        self.admin = AdminClient(url, ca_bundle)
        self.emulator: Emulator | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._process: subprocess.Popen[str] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def admin_url(self) -> str:
        return f"{self.url}/_admin"

    @property
    def authority(self) -> str:
        """The `authority` of azure-identity credentials (token endpoint: `{authority}/{tenant}/oauth2/v2.0/token`)."""
        return self.url

    @classmethod
    def start_thread(
        cls,
        inventory: InventorySource = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_scale: float = 1.0,
        throttling: bool = False,
        state_dir: str | Path | None = None,
        settings: Mapping[str, Any] | None = None,
        timeout: float = 30.0,
    ) -> EmulatorProcess:
        """Start an emulator with its own event loop in a daemon thread and wait until it listens."""
        tmp = None if state_dir else tempfile.TemporaryDirectory(prefix="azure-emulator-")
        directory = Path(state_dir or tmp.name)  # type: ignore[union-attr]
        base = Settings(time_scale=time_scale, throttling=throttling)
        emulator = Emulator(load_document(inventory), base.with_changes(dict(settings or {})))
        ready = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            stop = asyncio.Event()

            async def main() -> None:
                try:
                    listening = await start(emulator, host=host, port=port, state_dir=directory)
                except BaseException as exc:
                    box["error"] = exc
                    ready.set()
                    return
                box.update(listening=listening, loop=loop, stop=stop)
                ready.set()
                await stop.wait()
                await listening.runner.cleanup()

            try:
                loop.run_until_complete(main())
            finally:
                loop.close()

        thread = threading.Thread(target=run, name="azure-emulator", daemon=True)
        thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("the emulator did not start")
        if "error" in box:
            raise RuntimeError(f"the emulator did not start: {box['error']}") from box["error"]
        listening: Listening = box["listening"]
        proc = cls(listening.url, listening.ca_bundle, tenant_id=emulator.state.tenant_id)
        proc.emulator, proc._thread, proc._loop, proc._stop, proc._tmp = emulator, thread, box["loop"], box["stop"], tmp
        return proc

    @classmethod
    def start_subprocess(
        cls,
        inventory: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_scale: float = 1.0,
        throttling: bool = False,
        state_dir: str | Path | None = None,
        extra_args: list[str] | None = None,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> EmulatorProcess:
        """Run `python -m azure_emulator` and wait for its ready line."""
        tmp = None if state_dir else tempfile.TemporaryDirectory(prefix="azure-emulator-")
        directory = str(state_dir or tmp.name)  # type: ignore[union-attr]
        args = [
            sys.executable,
            "-m",
            "azure_emulator",
            "--host",
            host,
            "--port",
            str(port),
            "--time-scale",
            str(time_scale),
            "--state-dir",
            directory,
        ]
        if inventory is not None:
            args += ["--inventory", str(inventory)]
        if throttling:
            args.append("--throttling")
        args += extra_args or []
        process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(process.stdout.readline() if process.stdout else ""), daemon=True
        )
        reader.start()
        reader.join(timeout)
        if not line or not line[0].strip():
            process.kill()
            process.wait()
            raise RuntimeError(f"the emulator process did not report readiness (exit code {process.poll()})")
        info = json.loads(line[0])
        proc = cls(info["url"], info["caBundle"], tenant_id=info["tenantId"])
        proc._process, proc._tmp = process, tmp
        return proc

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else os.getpid()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the emulator (idempotent)."""
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
            if self._thread is not None:
                self._thread.join(timeout)
            self._loop = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_emulator(
    inventory: InventorySource = None,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    time_scale: float = 1.0,
    throttling: bool = False,
    state_dir: str | Path | None = None,
    subprocess: bool = False,
    settings: Mapping[str, Any] | None = None,
) -> Iterator[EmulatorProcess]:
    """A running emulator for the duration of a `with` block (a thread, or a child process)."""
    if subprocess:
        if isinstance(inventory, Mapping):
            raise TypeError("a child process reads its inventory from a file; pass a path")
        proc = EmulatorProcess.start_subprocess(
            inventory, host=host, port=port, time_scale=time_scale, throttling=throttling, state_dir=state_dir
        )
        if settings:
            proc.admin.set_settings(**settings)
    else:
        proc = EmulatorProcess.start_thread(
            inventory,
            host=host,
            port=port,
            time_scale=time_scale,
            throttling=throttling,
            state_dir=state_dir,
            settings=settings,
        )
    try:
        yield proc
    finally:
        proc.stop()
