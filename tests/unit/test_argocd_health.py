"""The Argo CD health check (deploy/argocd/health.lua), run in real Lua 5.1 against sample objects.

Argo CD evaluates health.lua with gopher-lua, a Lua 5.1, with the object as the global `obj`; lupa's
lua51 module is the same language. The script runs with only Lua's base functions, so it cannot
lean on a library Argo CD might not open.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

REPO = Path(__file__).resolve().parents[2]
SCRIPT = (REPO / "deploy" / "argocd" / "health.lua").read_text()
PATCH = REPO / "deploy" / "argocd" / "argocd-cm-patch.yaml"
KINDS = ("BackupVault", "BackupPolicy", "ProtectedVM", "VMBackupSelector", "OnDemandBackup", "VMRestore",
         "RestoreDrill")
# Libraries a health script has no business using; removing them proves it does not.
UNSAFE_GLOBALS = ("io", "os", "package", "require", "debug", "dofile", "loadfile", "load", "loadstring",
                  "string", "table", "math", "coroutine")


def health(obj: Mapping[str, Any]) -> dict[str, str]:
    """Run health.lua as Argo CD does: `obj` global, the chunk's return value is `hs`."""
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    g = lua.globals()
    for name in UNSAFE_GLOBALS:
        g[name] = None
    g.obj = lua.table_from(copy.deepcopy(dict(obj)), recursive=True)
    hs = lua.execute(SCRIPT)
    return {key: hs[key] for key in hs}


def condition(type_: str, status: str, reason: str, message: str = "", generation: int = 2) -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": generation}


def summary(ready: str, reconciling: str, stalled: str, reason: str, message: str) -> list[dict[str, Any]]:
    """The three kstatus conditions as the operator writes them (one reason and message for all)."""
    return [condition("Ready", ready, reason, message), condition("Reconciling", reconciling, reason, message),
            condition("Stalled", stalled, reason, message)]


def resource(kind: str, status: dict[str, Any] | None, generation: int = 2) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "azbackup.dev/v1alpha1", "kind": kind,
                           "metadata": {"name": "x", "namespace": "ns", "generation": generation}, "spec": {}}
    if status is not None:
        obj["status"] = status
    return obj


READY = {"observedGeneration": 2, "conditions": summary("True", "False", "False", "Available", "vault is usable")}
PROGRESSING = {"observedGeneration": 2,
               "conditions": summary("False", "True", "False", "WaitingForOperation", "Azure is creating the vault")}
STALLED = {"observedGeneration": 2,
           "conditions": summary("False", "False", "True", "RegionMismatch", "VM in eastus, vault in westeurope")}
PAUSED = {"observedGeneration": 2,
          "conditions": summary("Unknown", "False", "False", "ReconcilePaused", "reconcile-policy is skip")}

# (status, generation, want status, want message)
CASES: dict[str, tuple[dict[str, Any] | None, int, str, str]] = {
    "ready-is-healthy": (READY, 2, "Healthy", "Available: vault is usable"),
    "reconciling-is-progressing": (PROGRESSING, 2, "Progressing", "WaitingForOperation: Azure is creating the vault"),
    "stalled-is-degraded-with-ready-reason-and-message": (
        STALLED, 2, "Degraded", "RegionMismatch: VM in eastus, vault in westeurope"),
    "paused-is-suspended": (PAUSED, 2, "Suspended", "ReconcilePaused: reconcile-policy is skip"),
    "no-status-is-progressing": (None, 2, "Progressing", "Waiting for the operator to report status"),
    "empty-status-is-progressing": ({}, 2, "Progressing", "Waiting for the operator to report status"),
    "stale-generation-is-progressing-even-when-ready": (
        READY, 3, "Progressing", "Waiting for the operator to observe generation 3"),
    "stale-generation-is-progressing-even-when-stalled": (
        STALLED, 3, "Progressing", "Waiting for the operator to observe generation 3"),
    "conditions-without-observed-generation-are-progressing": (
        {"conditions": READY["conditions"]}, 2, "Progressing", "Waiting for the operator to observe generation 2"),
    "not-ready-without-reconciling-or-stalled-is-progressing": (
        {"observedGeneration": 2, "conditions": [condition("Ready", "False", "VaultNotReady", "waiting for vault-a")]},
        2, "Progressing", "VaultNotReady: waiting for vault-a"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("status", "generation", "want", "message"),
                         [pytest.param(*case, id=name) for name, case in CASES.items()])
def test_health_of_every_kind(kind: str, status: dict[str, Any] | None, generation: int, want: str,
                              message: str) -> None:
    assert health(resource(kind, status, generation)) == {"status": want, "message": message}


ODB_CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "failed-job-is-degraded-with-azure-error": (
        {"phase": "Failed", "errorCode": "UserErrorVmNotRunning", "errorMessage": "the VM is deallocated",
         **STALLED}, "Degraded", "Backup failed: UserErrorVmNotRunning: the VM is deallocated"),
    "failed-job-without-error-uses-ready": (
        {"phase": "Failed", "observedGeneration": 2,
         "conditions": summary("False", "False", "True", "BackupFailed", "job 42 failed")},
        "Degraded", "Backup failed: BackupFailed: job 42 failed"),
    "succeeded-job-is-healthy-and-names-the-recovery-point": (
        {"phase": "Succeeded", "recoveryPoint": "rp-123", "observedGeneration": 2,
         "conditions": summary("True", "False", "False", "BackupSucceeded", "done")},
        "Healthy", "Backup succeeded: recovery point rp-123"),
    "running-job-is-progressing": (
        {"phase": "Running", "observedGeneration": 2,
         "conditions": summary("False", "True", "False", "BackupTriggered", "following job 42")},
        "Progressing", "BackupTriggered: following job 42"),
    "phase-alone-is-enough": ({"phase": "Succeeded"}, "Healthy", "Backup succeeded"),
}


@pytest.mark.parametrize(("status", "want", "message"),
                         [pytest.param(*case, id=name) for name, case in ODB_CASES.items()])
def test_on_demand_backup_follows_its_phase(status: dict[str, Any], want: str, message: str) -> None:
    # A bare phase has no observedGeneration; an OnDemandBackup's spec never changes after creation.
    obj = resource("OnDemandBackup", status, generation=2 if "observedGeneration" in status else 0)
    if "observedGeneration" not in status:
        del obj["metadata"]["generation"]
    assert health(obj) == {"status": want, "message": message}


def test_a_failed_restore_is_degraded_with_azures_code() -> None:
    status = {"phase": "Failed", "errorCode": "UserErrorSkuNotAvailable", "observedGeneration": 1,
              "conditions": summary("False", "False", "True", "RestoreFailed", "job 7 failed")}
    assert health(resource("VMRestore", status, generation=1)) == {
        "status": "Degraded", "message": "Restore failed: UserErrorSkuNotAvailable"}


def test_a_drill_that_missed_an_objective_is_degraded() -> None:
    degraded = {"type": "Degraded", "status": "True", "reason": "ObjectiveMissed", "message": "run 3: RPO 30h"}
    status = {**READY, "conditions": [*READY["conditions"], degraded]}
    assert health(resource("RestoreDrill", status)) == {"status": "Degraded",
                                                        "message": "ObjectiveMissed: run 3: RPO 30h"}


def test_phase_is_read_only_for_on_demand_backups() -> None:
    status = {"phase": "Failed", **READY}
    assert health(resource("BackupVault", status))["status"] == "Healthy"


def test_argocd_cm_patch_installs_the_script_for_every_kind() -> None:
    patch = yaml.safe_load(PATCH.read_text())
    assert (patch["apiVersion"], patch["kind"], patch["metadata"]) == (
        "v1", "ConfigMap", {"name": "argocd-cm", "namespace": "argocd"})
    assert patch["data"] == {f"resource.customizations.health.azbackup.dev_{kind}": SCRIPT for kind in KINDS}, (
        "deploy/argocd/argocd-cm-patch.yaml must carry health.lua unchanged under each key")
