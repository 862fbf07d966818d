#!/usr/bin/env python3
"""The Debian packages a make target needs, installed when missing (as root) or named with why (not root).

    python3 hack/deps.py demo|test|node [--python PYTHON]

As root: one `apt-get update`, then one `apt-get install` of what is missing (nothing when all is there).
Not root: nothing is installed; it stops with the exact `apt-get install ...` line and, for each
package, what needs it. Go and Node.js 20 are checked, not installed: Debian 12's golang (1.19) and
nodejs (18) are older than the builds need. Runs with the system's python3 before any virtualenv exists,
so it uses the standard library only.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# What each target needs: `demo` makes the virtualenv and builds the control plane; `test` also runs the
# browser and oav checks; `node` is the real node (kubelet, containerd, the images), built only as root
# because without root its tests are skipped and nothing of it is built (Makefile: node-tools).
TARGETS = {
    "demo": ("base",),
    "test": ("base", "test", "node"),
    "node": ("base", "node"),
}
ROOT_ONLY_GROUPS = frozenset({"node"})


@dataclass(frozen=True)
class Need:
    """A Debian package, how to tell it is there, and what needs it."""

    package: str
    why: str
    group: str
    commands: tuple[str, ...] = ()  # every one on PATH
    paths: tuple[str, ...] = ()  # glob patterns: any one matching is enough
    python_modules: tuple[str, ...] = ()  # importable by the Python that makes .venv


NEEDS: tuple[Need, ...] = (
    Need("util-linux", "flock: concurrent builds of one cache wait for each other (hack/*.sh)", "base",
         commands=("flock",)),
    Need("ca-certificates", "TLS to the Go module proxy, PyPI and npm", "base",
         paths=("/etc/ssl/certs/ca-certificates.crt",)),
    Need("python3-venv", "`python3 -m venv` for .venv and the Azure CLI's own virtualenv (Debian splits out ensurepip)",
         "base", python_modules=("ensurepip", "venv")),
    Need("chromium", "the preflight HTML report is tested in a headless browser (test_preflight_html.py)", "test",
         commands=("chromium",)),
    Need("nodejs", "runs Azure's OpenAPI validator oav over the recorded traffic, and playwright-core", "test",
         commands=("node",)),
    Need("npm", "installs oav (hack/oav/install.sh) and playwright-core (tests/browser)", "test", commands=("npm",)),
    Need("iproute2", "the real node's private bridge (`ip`)", "node", commands=("ip",)),
    Need("iptables", "the real node's one DNAT rule to the apiserver", "node", commands=("iptables",)),
    Need("mmdebstrap", "the base image, Debian bookworm with python3 (hack/build-images.sh)", "node",
         commands=("mmdebstrap",)),
    Need("buildah", "builds the Dockerfile into the operator image without Docker (hack/build-images.sh)", "node",
         commands=("buildah",)),
    Need("gcc", "runc's cgo build and the static pause binary (hack/build-node-tools.sh)", "node", commands=("gcc",)),
    Need("pkg-config", "runc's cgo build finds libseccomp", "node", commands=("pkg-config",)),
    Need("containernetworking-plugins", "the pods' network on the real node (bridge, host-local, loopback)", "node",
         paths=("/usr/lib/cni/bridge",)),
    Need("libseccomp-dev", "runc is built with seccomp", "node", paths=("/usr/include/seccomp.h",)),
    Need("libc6-dev", "the static pause binary links libc.a", "node", paths=("/usr/lib/*-linux-gnu/libc.a",)),
)


@dataclass(frozen=True)
class Host:
    """What the decision reads of the machine (faked in tests)."""

    root: bool
    which: Callable[[str], str | None]
    exists: Callable[[str], bool]  # a glob pattern matches something
    imports: Callable[[Sequence[str]], bool]  # the venv-making Python imports all these modules
    node_major: Callable[[], int | None]  # None: no node


@dataclass(frozen=True)
class Plan:
    """What to do: install these packages (as root), or stop with this message; problems apt cannot fix."""

    missing: tuple[Need, ...] = ()
    problems: tuple[str, ...] = ()


def present(need: Need, host: Host) -> bool:
    return (all(host.which(c) for c in need.commands)
            and (not need.paths or any(host.exists(p) for p in need.paths))
            and (not need.python_modules or host.imports(need.python_modules)))


def plan(target: str, host: Host) -> Plan:
    """The packages `target` needs that this machine lacks, and what apt cannot install."""
    groups = {g for g in TARGETS[target] if host.root or g not in ROOT_ONLY_GROUPS}
    missing = tuple(n for n in NEEDS if n.group in groups and not present(n, host))
    return Plan(missing, tuple(toolchain_problems(groups, host, missing)))


def toolchain_problems(groups: set[str], host: Host, missing: Sequence[Need]) -> list[str]:
    problems = []
    if host.which("go") is None:
        problems.append("Go 1.26 or newer is required (hack/build-tools.sh builds the control plane from Go modules); "
                        "Debian 12's golang-go is too old: install it from go.dev/dl")
    if "test" in groups and not any(n.package == "nodejs" for n in missing):
        major = host.node_major()
        if major is not None and major < 20:
            problems.append(f"Node.js 20 or newer is required for oav (this node is {major})")
    return problems


def install_line(missing: Sequence[Need]) -> list[str]:
    return ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *(n.package for n in missing)]


def explain(missing: Sequence[Need]) -> str:
    width = max(len(n.package) for n in missing)
    return "\n".join(f"  {n.package:<{width}}  {n.why}" for n in missing)


def apply(target: str, host: Host, run: Callable[[list[str]], int], out: Callable[[str], None]) -> int:
    """Install what is missing (root) or say what to install (not root); the exit code."""
    todo = plan(target, host)
    if todo.missing:
        if not host.root:
            line = " ".join(install_line(todo.missing))
            out(f"`make {target}` needs Debian packages this machine lacks; as root, run:\n\n"
                f"  apt-get update && {line}\n\nwhy each is needed:\n{explain(todo.missing)}")
            return 1
        out(f"[deps] installing for `make {target}`:\n{explain(todo.missing)}")
        for command in (["apt-get", "update", "-qq"], install_line(todo.missing)):
            if (rc := run(command)) != 0:
                out(f"[deps] {' '.join(command)} failed ({rc})")
                return rc
        # Node.js comes from apt only now: its version is known after the install.
        todo = Plan((), tuple(toolchain_problems(set(TARGETS[target]), host, ())))
    for problem in todo.problems:
        out(f"[deps] {problem}")
    return 1 if todo.problems else 0


def this_host(python: str) -> Host:
    def imports(modules: Sequence[str]) -> bool:
        try:
            return subprocess.run([python, "-c", f"import {', '.join(modules)}"], capture_output=True).returncode == 0
        except OSError:  # no such Python: python3-venv is named, and `make venv` says the rest
            return False

    def node_major() -> int | None:
        if shutil.which("node") is None:
            return None
        out = subprocess.run(["node", "-p", "process.versions.node"], capture_output=True, text=True)
        return int(out.stdout.split(".")[0]) if out.returncode == 0 else 0

    return Host(root=os.geteuid() == 0, which=shutil.which, exists=lambda p: bool(glob.glob(p)),
                imports=imports, node_major=node_major)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--python", default="python3", help="the Python that makes .venv (make's PYTHON)")
    args = parser.parse_args(argv)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return apply(args.target, this_host(args.python), run=lambda cmd: subprocess.run(cmd, env=env).returncode,
                 out=lambda text: print(text, file=sys.stderr, flush=True))


if __name__ == "__main__":
    sys.exit(main())
