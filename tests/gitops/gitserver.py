"""A git server on loopback for Flux's source-controller: `git http-backend` (git's own smart-HTTP
server, a CGI program) behind a few lines of WSGI, and a working copy the tests commit to."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

BACKEND = ["git", "http-backend"]
# The CGI variables git http-backend reads (git-http-backend(1)), besides the HTTP_* headers.
CGI_KEYS = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH", "REMOTE_ADDR")


def backend_app(project_root: Path) -> Any:
    """A WSGI application that answers git's smart-HTTP protocol for the repositories under `project_root`."""

    def app(environ: Mapping[str, Any], start_response: Any) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        env = {k: str(environ[k]) for k in CGI_KEYS if environ.get(k)}
        env |= {k: str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        # Export every repository without a git-daemon-export-ok file: the server is the test's own.
        env |= {"GIT_PROJECT_ROOT": str(project_root), "GIT_HTTP_EXPORT_ALL": "1", "PATH": "/usr/bin:/bin"}
        out = subprocess.run(BACKEND, input=body, env=env, capture_output=True, timeout=60, check=False)
        head, _, payload = out.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = out.stdout.partition(b"\n\n")
        status, headers = "200 OK", []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = value.strip()
            elif name:
                headers.append((name.strip(), value.strip()))
        if out.returncode != 0 and not head:
            status, headers, payload = "500 Internal Server Error", [], out.stderr
        start_response(status, headers)
        return [payload]

    return app


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class GitServer:
    """`git http-backend` on 127.0.0.1 with one bare repository, and a working copy to commit from."""

    def __init__(self, root: Path, name: str = "fleet") -> None:
        self.root, self.name = root, name
        self.bare = root / "repos" / f"{name}.git"
        self.work = root / "work"
        self._server = make_server("127.0.0.1", 0, backend_app(self.bare.parent), server_class=_Threading,
                                   handler_class=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, name="git-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/{self.name}.git"

    def start(self) -> GitServer:
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        self.git("init", "--quiet", "--initial-branch=main", str(self.work))
        for key, value in (("user.name", "platform team"), ("user.email", "platform@example.invalid")):
            self.git("config", key, value, cwd=self.work)
        self.git("remote", "add", "origin", str(self.bare), cwd=self.work)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def git(self, *args: str, cwd: Path | None = None) -> str:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {out.stderr}")
        return out.stdout.strip()

    def write(self, files: Mapping[str, str | None]) -> None:
        """Write (or, for None, remove) files of the working copy, paths relative to its root."""
        for rel, text in files.items():
            path = self.work / rel
            if text is None:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def commit(self, message: str, files: Mapping[str, str | None] | None = None) -> str:
        """Commit everything in the working copy and push it to main; return the commit's sha."""
        self.write(files or {})
        self.git("add", "--all", cwd=self.work)
        self.git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.work)
        self.git("push", "--quiet", "origin", "main", cwd=self.work)
        return self.git("rev-parse", "HEAD", cwd=self.work)

    def read(self, rel: str) -> str:
        return (self.work / rel).read_text()


@contextlib.contextmanager
def serving(root: Path) -> Iterator[GitServer]:
    server = GitServer(root).start()
    try:
        yield server
    finally:
        server.stop()
