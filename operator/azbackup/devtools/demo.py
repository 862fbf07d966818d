"""`azbackup demo`: the whole story on the embedded default. No Azure account, no Docker.

A local control plane (etcd, kube-apiserver, kube-controller-manager), the Azure emulator seeded with
the sample fleet (healthy VMs and one VM per limitation of Azure's guide), and the real operator.
It applies examples/, protects the fleet, shows progress, and ends with a table of every object.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from azbackup.devtools import control_plane, stack

NAMESPACE = "azbackup-demo"
KINDS = ("backupvaults", "backuppolicies", "protectedvms", "vmbackupselectors", "ondemandbackups")
OPERATOR_FLAGS = ("--sync-period", "10", "--poll-interval", "1", "--retry-scale", "0.05", "-n", NAMESPACE)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def ready_of(obj: dict[str, Any]) -> dict[str, Any]:
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready":
            return dict(cond)
    return {}


def settled(obj: dict[str, Any]) -> bool:
    """The operator has acted on the latest spec and is not working on it any more."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return False
    return not any(c.get("type") == "Reconciling" and c.get("status") == "True" for c in status.get("conditions") or ())


def fleet_manifests(vault: str, taken: set[str], vms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ProtectedVM per sample-fleet VM not already in the examples: the guide's checks, VM by VM."""
    docs = []
    for vm in vms:
        if vm["id"].lower() in taken:
            continue
        docs.append({"apiVersion": "azbackup.dev/v1alpha1", "kind": "ProtectedVM",
                     "metadata": {"name": vm["name"], "labels": {"demo": "fleet"}},
                     "spec": {"vaultRef": {"name": vault}, "vm": vm["id"]}})
    return docs


def objects(plane: control_plane.ControlPlane) -> list[dict[str, Any]]:
    out = plane.kubectl("get", ",".join(KINDS), "-n", NAMESPACE, "-o", "json")
    return list(json.loads(out.stdout)["items"])


def progress_line(items: list[dict[str, Any]]) -> str:
    by_kind: dict[str, Counter[str]] = {}
    for obj in items:
        ready = ready_of(obj)
        state = ("ready" if ready.get("status") == "True" else
                 "working" if not settled(obj) or not ready else "blocked")
        by_kind.setdefault(obj["kind"], Counter())[state] += 1
    parts = []
    for kind, counts in sorted(by_kind.items()):
        total = sum(counts.values())
        parts.append(f"{kind} {counts['ready']}/{total} Ready"
                     + (f", {counts['blocked']} blocked" if counts["blocked"] else "")
                     + (f", {counts['working']} in progress" if counts["working"] else ""))
    return "; ".join(parts)


def table(items: list[dict[str, Any]]) -> str:
    rows = [("KIND", "NAME", "READY", "REASON", "DETAIL")]
    order = {k: i for i, k in enumerate(("BackupVault", "BackupPolicy", "VMBackupSelector", "ProtectedVM",
                                         "OnDemandBackup"))}
    for obj in sorted(items, key=lambda o: (order.get(o["kind"], 9), ready_of(o).get("status") != "True",
                                            o["metadata"]["name"])):
        ready = ready_of(obj)
        status = obj.get("status") or {}
        failed = [c["name"] for c in status.get("checks") or () if c.get("result") == "Failed"]
        warned = [c["name"] for c in status.get("checks") or () if c.get("result") == "Warning"]
        detail = ""
        if failed:
            detail = "failed: " + ", ".join(failed)
        elif obj["kind"] == "ProtectedVM" and status.get("protectionState"):
            detail = f"protectionState {status['protectionState']}"
        if warned:
            detail += ("; " if detail else "") + "warnings: " + ", ".join(warned)
        if obj["kind"] == "OnDemandBackup" and status.get("recoveryPoint"):
            detail = f"recovery point {status['recoveryPoint']}"
        rows.append((obj["kind"], obj["metadata"]["name"], ready.get("status", "-"), ready.get("reason", "-"),
                     detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row))
                     for row in rows)


def main(keep: bool = False, timeout: float = 240.0) -> int:
    root = control_plane.repo_root()
    if root is None:
        print("azbackup demo runs from a checkout of the repository (it needs hack/, crds/ and examples/)")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="azbackup-demo-"))
    started = time.monotonic()
    step("building or finding the pinned control-plane binaries (hack/build-tools.sh)")
    bin_dir = control_plane.tool_dir()
    step("starting etcd, kube-apiserver and kube-controller-manager on loopback")
    emulator = operator = None
    with control_plane.running(workdir / "control-plane", bin_dir=bin_dir, keep=keep) as plane:
        try:
            plane.kubectl("apply", "-f", str(root / "crds"))
            plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
            plane.kubectl("create", "namespace", NAMESPACE)
            step("starting the Azure emulator with the sample fleet (no Azure account needed)")
            emulator = stack.start_emulator(workdir / "emulator")
            vms = emulator.admin("GET", "vms")["vms"]
            print(f"    {emulator.url}: {len(vms)} VMs, one per limitation of Azure's guide plus healthy ones")
            step("starting the operator (azbackup run) against the emulator")
            operator = stack.start_operator(plane.kubeconfig, emulator, workdir / "operator.log", OPERATOR_FLAGS)

            step(f"applying examples/ (vault, policy, protected VM) into namespace {NAMESPACE}")
            examples = [d for p in sorted((root / "examples").glob("*.yaml")) if p.name != "kustomization.yaml"
                        for d in yaml.safe_load_all(p.read_text()) if d and d["kind"] in (
                            "BackupVault", "BackupPolicy", "ProtectedVM")]
            plane.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=yaml.safe_dump_all(examples))
            taken = {str(d["spec"]["vm"]).lower() for d in examples if d["kind"] == "ProtectedVM"}
            vault = next(d["metadata"]["name"] for d in examples if d["kind"] == "BackupVault")
            fleet = fleet_manifests(vault, taken, vms)
            step(f"asking for protection of the other {len(fleet)} VMs of the fleet")
            plane.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=yaml.safe_dump_all(fleet))

            step("waiting for every object to settle (the checks run before anything is written to Azure)")
            deadline = time.monotonic() + timeout
            last = ""
            while time.monotonic() < deadline:
                items = objects(plane)
                line = progress_line(items)
                if line != last:
                    print(f"    [{time.monotonic() - started:5.0f}s] {line}", flush=True)
                    last = line
                if items and all(settled(o) and ready_of(o) for o in items):
                    break
                if operator.poll() is not None:
                    print(f"the operator exited; see {workdir / 'operator.log'}")
                    return 1
                time.sleep(2)
            step("result")
            print(table(objects(plane)))
            print("\nA Failed check names the limitation of the guide that blocks the VM; nothing was written "
                  "to Azure for it.\nFix the VM and the next pass protects it without any action. Warnings "
                  "never block.")
        finally:
            if operator is not None:
                stack.stop(operator)
            if emulator is not None:
                emulator.stop()
    if keep:
        print(f"work directory kept: {workdir}")
    step(f"done in {time.monotonic() - started:.0f}s; everything stopped")
    return 0
