"""Fixtures for Flux applying this repository's manifests from git: one control plane, one emulator, one
git server, Flux's two controllers and the operator, shared by the scenarios of a module.

The controllers are built from their Go modules by hack/build-flux.sh. Where they cannot be built the
tests are skipped, unless AZBACKUP_GITOPS=required (as `.ci/run` sets), where they fail: CI must never
skip them silently.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from azbackup.devtools import control_plane
from azure_emulator.server import EmulatorProcess

from tests.gitops.flux import Flux, build
from tests.gitops.gitserver import GitServer, serving
from tests.integration.harness import Cluster, OperatorProcess, eventually

REPO = Path(__file__).resolve().parents[2]
FLUX_EXAMPLES = REPO / "examples" / "gitops" / "flux"
CHART_CRDS = REPO / "charts" / "azbackup-operator" / "crds"
FLEET_NAMESPACE = "azbackup-fleet"
GIT_REPOSITORY = "azbackup-fleet"
INFRASTRUCTURE = "azbackup-infrastructure"
BACKUPS = "azbackup-backups"
# Our kinds as Flux applies them (and the selector's children), for the steady-state write count.
KINDS = "backupvaults,backuppolicies,protectedvms,vmbackupselectors,ondemandbackups"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/gitops/" in str(item.fspath):
            item.add_marker(pytest.mark.gitops)


def pytest_itemcollected(item: pytest.Item) -> None:
    # One worker runs them all (pytest-xdist --dist loadgroup): they share one Flux setup per module
    # and follow it through in order.
    if "tests/gitops/" in str(item.fspath):
        item.add_marker(pytest.mark.xdist_group("gitops"))


def fleet_files() -> dict[str, str]:
    """The fleet repository a platform team keeps: infrastructure/ (the namespace and the chart's CRDs)
    and backups/ (the files of examples/, with the overlay of examples/gitops/flux/backups/)."""
    files = {f"infrastructure/{p.name}": p.read_text() for p in (FLUX_EXAMPLES / "infrastructure").glob("*.yaml")}
    files |= {f"infrastructure/crds/{p.name}": p.read_text()
              for p in CHART_CRDS.glob("*.yaml")}
    files |= {f"backups/{p.name}": p.read_text() for p in (REPO / "examples").glob("*.yaml")}
    files["backups/kustomization.yaml"] = (FLUX_EXAMPLES / "backups" / "kustomization.yaml").read_text()
    return files


def flux_objects(git_url: str) -> list[dict[str, Any]]:
    """examples/gitops/flux/clusters/, with only the GitRepository's url pointed at the test's server."""
    docs = [yaml.safe_load(p.read_text()) for p in sorted((FLUX_EXAMPLES / "clusters").glob("*.yaml"))]
    for doc in docs:
        if doc["kind"] == "GitRepository":
            doc["spec"]["url"] = git_url
    return docs


@dataclass
class Setup:
    plane: control_plane.ControlPlane
    emulator: EmulatorProcess
    git: GitServer
    flux: Flux
    operator: OperatorProcess
    fleet: Cluster

    def commit(self, message: str, files: Mapping[str, str | None]) -> str:
        return self.git.commit(message, files)

    def edit(self, rel: str, change: Any) -> str:
        """The YAML of a fleet file after `change(doc)` has edited its (single) document."""
        doc = yaml.safe_load(self.git.read(rel))
        change(doc)
        return yaml.safe_dump(doc, sort_keys=False)

    def resource_versions(self) -> dict[str, str]:
        """Every object of our kinds in the fleet namespace, and every Event there: name -> resourceVersion."""
        out = self.plane.kubectl("-n", FLEET_NAMESPACE, "get", f"{KINDS},events", "-o", "json")
        return {f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["resourceVersion"]
                for o in json.loads(out.stdout)["items"]}


def _tools(required: bool) -> tuple[Path, Path]:
    try:
        return control_plane.tool_dir(), build()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        if required:
            pytest.fail(f"Flux could not be built (AZBACKUP_GITOPS=required): {exc}")
        pytest.skip(f"Flux could not be built: {exc}")


@pytest.fixture(scope="module")
def gitops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    started = time.monotonic()
    tools, flux_bin = _tools(os.environ.get("AZBACKUP_GITOPS") == "required")
    root = tmp_path_factory.mktemp("gitops")
    with control_plane.running(root / "control-plane", bin_dir=tools) as plane, serving(root / "git") as git:
        emulator = EmulatorProcess.start_thread(time_scale=0.02, state_dir=root / "emulator")
        flux = Flux(flux_bin, plane, root / "flux")
        operator = OperatorProcess(plane, emulator, FLEET_NAMESPACE, root)
        try:
            flux.install()
            flux.start()
            # The operator is installed with the chart, outside Flux (see the README): `helm install` puts the
            # CRDs of the chart's crds/ first (the operator serves only kinds whose CRDs exist at its start),
            # then the operator; here it is the same program as a process, watching the namespace Flux fills.
            plane.kubectl("apply", "--server-side", "--field-manager=helm", "-f", str(CHART_CRDS))
            plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
            operator.start()
            # As the chart's Deployment would be Ready before the fleet is committed: kstatus calls an
            # object without status Current, so a Flux wait that runs while the operator is down passes.
            eventually(lambda: operator.alive() and "Initial authentication has finished" in operator.logs(),
                       timeout=120, what="the operator started")
            print(f"\n[gitops] builds and start-up {time.monotonic() - started:.0f}s", flush=True)
            yield Setup(plane, emulator, git, flux, operator, Cluster(plane, FLEET_NAMESPACE))
        finally:
            operator.stop()
            flux.stop()
            emulator.stop()
