"""hack/deps.py: which Debian packages a make target installs, and what it says without root. A fake
machine (commands on PATH, files, importable modules, uid); no apt is run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tests.hackscripts import load

deps = load("deps")

EVERYTHING = {"flock", "chromium", "node", "npm", "ip", "iptables", "mmdebstrap", "buildah", "gcc", "pkg-config",
              "go", "/etc/ssl/certs/ca-certificates.crt", "/usr/lib/cni/bridge", "/usr/include/seccomp.h",
              "/usr/lib/*-linux-gnu/libc.a", "ensurepip"}
NODE_PACKAGES = ["iproute2", "iptables", "mmdebstrap", "buildah", "gcc", "pkg-config", "containernetworking-plugins",
                 "libseccomp-dev", "libc6-dev"]


def host(*, root: bool, lacking: Sequence[str] = (), node: int = 20) -> Any:
    """A machine with everything but `lacking` (commands, glob patterns, python modules)."""
    have = EVERYTHING - set(lacking)
    return deps.Host(root=root, which=lambda c: f"/usr/bin/{c}" if c in have else None,
                     exists=lambda p: p in have, imports=lambda mods: "ensurepip" in have,
                     node_major=lambda: node if "node" in have else None)


@pytest.mark.parametrize(("target", "root", "lacking", "want"), [
    pytest.param("test", True, [], [], id="nothing-missing-installs-nothing"),
    pytest.param("demo", True, ["flock", "ensurepip", "chromium", "mmdebstrap"], ["util-linux", "python3-venv"],
                 id="demo-needs-only-flock-certificates-and-venv"),
    pytest.param("test", True, ["chromium", "node", "npm"], ["chromium", "nodejs", "npm"],
                 id="test-needs-the-browser-and-oav"),
    pytest.param("test", True, sorted(EVERYTHING - {"go"}),
                 ["util-linux", "ca-certificates", "python3-venv", "chromium", "nodejs", "npm", *NODE_PACKAGES],
                 id="fresh-machine-as-root-gets-every-package-of-the-real-node"),
    pytest.param("test", False, sorted(EVERYTHING - {"go"}),
                 ["util-linux", "ca-certificates", "python3-venv", "chromium", "nodejs", "npm"],
                 id="without-root-the-real-node-is-skipped-so-its-packages-are-not-asked-for"),
    pytest.param("node", False, ["mmdebstrap", "buildah"], [], id="node-without-root-builds-nothing"),
    pytest.param("node", True, ["/usr/lib/*-linux-gnu/libc.a", "pkg-config"], ["pkg-config", "libc6-dev"],
                 id="node-as-root-needs-its-build-packages"),
])
def test_plan_names_the_missing_packages(target: str, root: bool, lacking: list[str], want: list[str]) -> None:
    assert [n.package for n in deps.plan(target, host(root=root, lacking=lacking)).missing] == want


@pytest.mark.parametrize(("target", "lacking", "node", "want"), [
    pytest.param("demo", ["go"], 20, ["Go 1.26"], id="go-is-named-never-installed"),
    pytest.param("test", [], 18, ["Node.js 20 or newer is required for oav (this node is 18)"],
                 id="an-old-node-is-refused"),
    pytest.param("demo", [], 18, [], id="demo-needs-no-node"),
])
def test_plan_names_what_apt_cannot_fix(target: str, lacking: list[str], node: int, want: list[str]) -> None:
    problems = deps.plan(target, host(root=True, lacking=lacking, node=node)).problems
    assert [p[:len(w)] for p, w in zip(problems, want, strict=True)] == want


def run_apply(target: str, machine: Any) -> tuple[int, list[list[str]], str]:
    commands: list[list[str]] = []
    said: list[str] = []

    def run(command: list[str]) -> int:
        commands.append(command)
        return 0

    rc = deps.apply(target, machine, run=run, out=said.append)
    return rc, commands, "\n".join(said)


def test_root_updates_once_then_installs_what_is_missing() -> None:
    rc, commands, _ = run_apply("test", host(root=True, lacking=["mmdebstrap", "chromium"]))
    assert (rc, commands) == (0, [["apt-get", "update", "-qq"],
                                  ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium",
                                   "mmdebstrap"]])


def test_root_with_everything_runs_no_apt() -> None:
    assert run_apply("test", host(root=True)) == (0, [], "")


def test_without_root_it_stops_with_the_exact_line_and_each_reason() -> None:
    rc, commands, said = run_apply("test", host(root=False, lacking=["chromium", "ensurepip"]))
    assert (rc, commands) == (1, [])
    assert "  apt-get update && apt-get install -y -qq --no-install-recommends python3-venv chromium\n" in said
    assert "python3-venv  `python3 -m venv`" in said
    assert "chromium      the preflight HTML report" in said


def test_a_failed_apt_stops_before_the_install() -> None:
    commands: list[list[str]] = []

    def run(command: list[str]) -> int:
        commands.append(command)
        return 100

    rc = deps.apply("demo", host(root=True, lacking=["flock"]), run=run, out=lambda _: None)
    assert (rc, commands) == (100, [["apt-get", "update", "-qq"]])
