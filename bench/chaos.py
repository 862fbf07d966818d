"""Chaos: the operator's promises under faults and SIGKILLs, printed as figures.

    python -m bench.chaos --seeds 1 2 3              # 300 ProtectedVMs in 3 vaults, 15 OnDemandBackups
    python -m bench.chaos --seeds 1 --failover       # two peered replicas; the kills hit either
    python -m bench.chaos --seeds 1 --json

Per seed, against a fresh emulator (ARM throttling on) and a real kube-apiserver:
1. the fault mix (emulator admin faults, seeded): 5 % of reads answer 503; backup triggers applied then
   answered 503 or dropped; configure-protection PUTs applied then dropped, and 30 % of their answers
   held 3 s; 429 bursts on reads between kills; configure jobs that take `--configure-seconds`;
2. the operator SIGKILLed at random 5-15 s intervals (counted from when it serves again) and restarted
   at once, `--kills` times;
3. faults stop (the one-shot lost answers stay armed until they fire): the time until every
   ProtectedVM is Ready and every OnDemandBackup finished;
4. a vault blip (four 503s and a 429 on Vaults_Get): status writes and Events per object.

The invariants, read from the emulator's state and the apiserver's own counters (never from the
operator): backup jobs per OnDemandBackup (1.00, every one Succeeded), configure operations per VM
(max and excess over one), protected items per VM, vaults created, status writes and Events during the
blip, RSS. The same seed gives the same faults and kill times; the interleaving with the operator's own
timing is not fixed, so figures can differ slightly between runs of one seed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import random
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from azbackup.devtools import control_plane, stack
from azbackup.process import children
from azure_emulator.admin import AdminClient
from azure_emulator.inventory import synthetic

from bench.fleet import SUB, chunks, diff, kube_writes, peak_rss_mb

REPO = Path(__file__).resolve().parents[1]
PEERING_CRDS = REPO / "charts/azbackup-operator/charts/kopf-peering/crds/kopf-peering.yaml"


def vm_path(i: int) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg-{i % 10:03d}/providers/Microsoft.Compute/virtualMachines/vm-{i:05d}"


def manifests(vms: int, vaults: int, ondemand: int) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for v in range(vaults):
        docs.append({"apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupVault", "metadata": {"name": f"vault-{v}"},
                     "spec": {"subscriptionId": SUB, "resourceGroup": "rg-backup", "location": "westeurope",
                              "storageRedundancy": "LocallyRedundant"}})
    for i in range(vms):
        docs.append({"apiVersion": "azbackup.dev/v1alpha1", "kind": "ProtectedVM", "metadata": {"name": f"vm-{i:05d}"},
                     "spec": {"vaultRef": {"name": f"vault-{i % vaults}"}, "vm": vm_path(i)}})
    for k in range(ondemand):
        docs.append({"apiVersion": "azbackup.dev/v1alpha1", "kind": "OnDemandBackup",
                     "metadata": {"name": f"now-{k:02d}"},
                     "spec": {"protectedVMRef": {"name": f"vm-{ondemand_target(k, vms, ondemand):05d}"}}})
    return docs


def ondemand_target(k: int, vms: int, ondemand: int) -> int:
    return k * max(1, vms // max(ondemand, 1))


ONE_SHOT = {  # armed until they fire: each answer lost once, whenever the operator gets there
    "trigger-503": {"operation": "Backups_Trigger", "phase": "after", "status": 503, "retryAfter": 1, "count": 3},
    "trigger-drop": {"operation": "Backups_Trigger", "phase": "after", "drop": True, "count": 2},
    "configure-drop": {"operation": "ProtectedItems_CreateOrUpdate", "phase": "after", "drop": True, "count": 3},
}


def continuous(seed: int) -> dict[str, dict[str, Any]]:
    """Faults that last until the chaos phase ends (seeded draws)."""
    return {
        "configure-held-3s": {"operation": "ProtectedItems_CreateOrUpdate", "phase": "after", "latency": 3,
                              "count": None, "probability": 0.3, "seed": seed},
        "reads-503": {"method": "GET", "path": ".", "status": 503, "count": None, "probability": 0.05,
                      "seed": seed + 1},
    }


def add_faults(admin: AdminClient, faults: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Add faults in order (the first matching one with uses left and a hit on its draw answers)."""
    return {name: str(admin.add_fault(**doc)["id"]) for name, doc in faults.items()}


def fault_hits(admin: AdminClient, ids: dict[str, str]) -> dict[str, int]:
    by_id = {f["id"]: int(f.get("hits") or 0) for f in admin.faults()}
    return {name: by_id[i] for name, i in ids.items() if i in by_id}


def get_json(plane: control_plane.ControlPlane, namespace: str, kind: str) -> list[dict[str, Any]]:
    out = plane.kubectl("get", kind, "-n", namespace, "-o", "json", timeout=120).stdout
    return list(json.loads(out)["items"])


def ready_names(items: list[dict[str, Any]]) -> set[str]:
    return {i["metadata"]["name"] for i in items
            if any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in (i.get("status") or {}).get("conditions") or ())}


class Replicas:
    """The operator process(es): one, or two peered replicas for --failover."""

    def __init__(self, plane: control_plane.ControlPlane, emulator: stack.Emulator, workdir: Path,
                 flags: list[str], failover: bool) -> None:
        self.plane, self.emulator, self.workdir, self.flags = plane, emulator, workdir, flags
        self.peers = [["--peering", "chaos", "--priority", str(p)] for p in (2, 1)] if failover else [[]]
        self.procs: list[Any] = [None] * len(self.peers)
        self.starts = 0
        self.peak_rss = 0.0

    def start(self, index: int) -> None:
        self.starts += 1
        port = 19190 + index
        self.procs[index] = stack.start_operator(
            self.plane.kubeconfig, self.emulator, self.workdir / f"operator-{index}-{self.starts}.log",
            [*self.flags, "--metrics-port", str(port), *self.peers[index]])

    def wait_serving(self, index: int, timeout: float = 120.0) -> float:
        """Seconds until the replica serves its metrics (imports done, kopf started): a kill interval counts
        from there, so a slow start on a loaded machine does not turn the kills into kills of a booting process."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{19190 + index}/metrics", timeout=2):
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.5)
        return time.monotonic() - started

    def start_all(self) -> None:
        for i in range(len(self.peers)):
            self.start(i)

    def sample_rss(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(OSError):
                    self.peak_rss = max(self.peak_rss, peak_rss_mb(proc.pid, "VmRSS"))

    def kill(self, index: int) -> None:
        proc = self.procs[index]
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                self.peak_rss = max(self.peak_rss, peak_rss_mb(proc.pid, "VmHWM"))
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc is not None:
                stack.stop(proc)


def sleep_sampling(replicas: Replicas, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        replicas.sample_rss()
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))


def run_seed(plane: control_plane.ControlPlane, seed: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    namespace = f"chaos-{seed}-{'f' if args.failover else 'k'}-{int(time.time()) % 100000}"
    workdir.mkdir(parents=True, exist_ok=True)
    inventory = workdir / "inventory.json"
    inventory.write_text(json.dumps(synthetic(args.vms, 10, vault=False)))
    plane.kubectl("create", "namespace", namespace)
    if args.failover:
        plane.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(
            {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": "chaos"}}))
    emulator = stack.start_emulator(workdir / "emulator", inventory=inventory, time_scale=1.0, throttling=True)
    admin = AdminClient(emulator.url, emulator.ca_bundle)
    admin.set_settings(durations={"configureProtection": args.configure_seconds, "backupJob": args.backup_seconds,
                                  "refreshContainers": 2, "triggerBackup": 1})
    flags = ["-n", namespace, "--sync-period", str(args.sync_period), "--poll-interval", "1",
             "--retry-scale", str(args.retry_scale), "--log-format", "json"]
    replicas = Replicas(plane, emulator, workdir, flags, args.failover)
    result: dict[str, Any] = {"seed": seed, "failover": args.failover, "vms": args.vms, "vaults": args.vaults,
                              "onDemandBackups": args.ondemand, **({"workdir": str(workdir)} if args.keep else {})}
    try:
        one_shot = add_faults(admin, ONE_SHOT)
        steady = add_faults(admin, continuous(seed))
        replicas.start_all()
        for i in range(len(replicas.procs)):
            replicas.wait_serving(i)
        docs = manifests(args.vms, args.vaults, args.ondemand)
        for batch in chunks(docs, 200):
            plane.kubectl("apply", "-n", namespace, "--server-side", "-f", "-", input=yaml.safe_dump_all(batch),
                          timeout=300)
        # -- kills, with 429 bursts in between ---------------------------------------------------
        kills = []
        for k in range(args.kills):
            wait = rng.uniform(args.kill_min, args.kill_max)
            if rng.random() < 0.5:
                steady.update(add_faults(admin, {f"reads-429-burst-{k}": {
                    "method": "GET", "path": ".", "status": 429, "retryAfter": 2, "count": 20}}))
            sleep_sampling(replicas, wait)
            victim = rng.randrange(len(replicas.procs))
            replicas.kill(victim)
            kills.append(round(wait, 1))
            replicas.start(victim)
            replicas.wait_serving(victim)
        hits = fault_hits(admin, {**one_shot, **steady})
        for fault_id in steady.values():  # the one-shot faults stay armed until they fire
            admin.remove_fault(fault_id)
        stopped = time.monotonic()
        # -- converge after the faults stop ---------------------------------------------------------
        pvms: list[dict[str, Any]] = []
        odbs: list[dict[str, Any]] = []
        while time.monotonic() - stopped < args.timeout:
            pvms = get_json(plane, namespace, "protectedvms")
            odbs = get_json(plane, namespace, "ondemandbackups")
            finished = [o for o in odbs if (o.get("status") or {}).get("phase") in ("Succeeded", "Failed")]
            print(f"  seed {seed}: t={time.monotonic() - stopped:5.1f}s after faults  Ready "
                  f"{len(ready_names(pvms))}/{args.vms}  backups finished {len(finished)}/{args.ondemand}",
                  file=sys.stderr, flush=True)
            if len(ready_names(pvms)) == args.vms and len(finished) == args.ondemand:
                break
            sleep_sampling(replicas, 3.0)
        converge = time.monotonic() - stopped
        hits.update(fault_hits(admin, one_shot))
        admin.clear_faults()
        # -- the invariants, from Azure's side ------------------------------------------------------
        state = admin.state()
        jobs = state["jobs"]
        targets = {vm_path(ondemand_target(k, args.vms, args.ondemand)).lower() for k in range(args.ondemand)}
        backups = [j for j in jobs if j["operation"] == "Backup" and str(j["vm"]).lower() in targets]
        configures = collections.Counter(str(j["vm"]).lower() for j in jobs if j["operation"] == "ConfigureBackup")
        items = collections.Counter(i["vm"].lower() for s in state["subscriptions"] for v in s["vaults"]
                                    for i in v["items"])
        vaults = [v["id"] for s in state["subscriptions"] for v in s["vaults"]]
        phases = collections.Counter((o.get("status") or {}).get("phase") or "None" for o in odbs)
        reasons = collections.Counter(
            next((c.get("reason") for c in (o.get("status") or {}).get("conditions") or () if c.get("type") == "Ready"),
                 "None") for o in odbs)
        result.update({
            "kills": kills, "operatorStarts": replicas.starts, "faultHits": hits,
            "convergeSecondsAfterFaultsStop": round(converge, 1),
            "protectedVMsReady": len(ready_names(pvms)),
            "backupJobsPerOnDemandBackup": round(len(backups) / max(args.ondemand, 1), 2),
            "onDemandPhases": dict(phases), "onDemandReasons": dict(reasons),
            "backupJobsSucceeded": sum(1 for j in backups if j["status"] == "Completed"),
            "configurePutRequests": admin.count("ProtectedItems_CreateOrUpdate"),
            "configureOperationsPerVMMax": max(configures.values(), default=0),
            "configureOperationsExcess": sum(n - 1 for n in configures.values() if n > 1),
            "vmsWithMoreThanOneConfigure": sum(1 for n in configures.values() if n > 1),
            "itemsPerVMMax": max(items.values(), default=0), "vmsWithoutItem": args.vms - len(items),
            "vaultsCreated": len(vaults), "vaultPuts": admin.count("Vaults_CreateOrUpdate"),
        })
        # -- a vault blip on a converged fleet ------------------------------------------------------
        sleep_sampling(replicas, args.sync_period)  # the last Ready writes settle
        before = kube_writes(plane)
        admin.add_fault(operation="Vaults_Get", status=503, count=4)
        admin.add_fault(operation="Vaults_Get", status=429, retryAfter=1, count=1)
        least_ready = args.vms
        end = time.monotonic() + 3 * args.sync_period
        while time.monotonic() < end:
            least_ready = min(least_ready, len(ready_names(get_json(plane, namespace, "protectedvms"))))
            sleep_sampling(replicas, 1.0)
        blip_hits = sum(int(f.get("hits") or 0) for f in admin.faults())
        admin.clear_faults()
        writes = diff(kube_writes(plane), before)
        status_writes = sum(n for k, n in writes.items() if k.endswith("/status"))
        events = sum(n for k, n in writes.items() if k.endswith(" events"))
        objects = args.vms + args.vaults + args.ondemand
        result.update({
            "blipFaultHits": blip_hits, "blipStatusWrites": status_writes, "blipEvents": events,
            "blipStatusWritesPerObject": round(status_writes / objects, 3),
            "blipEventsPerObject": round(events / objects, 3),
            "blipReadinessFlaps": args.vms - least_ready,
            "operatorPeakRssMB": round(replicas.peak_rss, 1),
        })
    finally:
        replicas.stop_all()
        emulator.stop()
        plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    return result


ROWS = [
    ("faultHits", "faulted answers (by fault)"),
    ("backupJobsPerOnDemandBackup", "backup jobs per OnDemandBackup (must be 1.00)"),
    ("onDemandPhases", "OnDemandBackup phases"),
    ("backupJobsSucceeded", "backup jobs Completed in Azure"),
    ("configurePutRequests", "configure PUT requests answered (all VMs)"),
    ("configureOperationsPerVMMax", "configure operations applied per VM, max"),
    ("configureOperationsExcess", "configure operations beyond one per VM (excess)"),
    ("itemsPerVMMax", "protected items per VM, max"),
    ("vmsWithoutItem", "VMs without a protected item"),
    ("vaultsCreated", "vaults in Azure"),
    ("protectedVMsReady", "ProtectedVMs Ready"),
    ("convergeSecondsAfterFaultsStop", "seconds to converge after faults stop"),
    ("blipFaultHits", "vault blip: faulted Vaults_Get answers"),
    ("blipStatusWritesPerObject", "vault blip: status writes per object"),
    ("blipEventsPerObject", "vault blip: Events per object"),
    ("blipReadinessFlaps", "vault blip: ProtectedVMs that left Ready"),
    ("operatorPeakRssMB", "operator peak RSS (MB)"),
    ("operatorStarts", "operator starts (kills + 1 per replica)"),
]


def table(results: list[dict[str, Any]]) -> str:
    header = ["figure", *(f"seed {r['seed']}" + (" failover" if r["failover"] else "") for r in results)]
    rows = [header] + [[label, *(json.dumps(r.get(key)) if isinstance(r.get(key), dict) else str(r.get(key))
                                 for r in results)] for key, label in ROWS]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--vms", type=int, default=300)
    parser.add_argument("--vaults", type=int, default=3)
    parser.add_argument("--ondemand", type=int, default=15)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--kill-min", type=float, default=5.0)
    parser.add_argument("--kill-max", type=float, default=15.0)
    parser.add_argument("--configure-seconds", type=float, default=10.0, help="Azure's configure job duration")
    parser.add_argument("--backup-seconds", type=float, default=15.0, help="Azure's backup job duration")
    parser.add_argument("--sync-period", type=float, default=5.0)
    parser.add_argument("--retry-scale", type=float, default=0.1,
                        help="the operator's retry delays and adopt window (300 s at 1) are scaled by this")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--failover", action="store_true", help="two peered replicas instead of one")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, inventories)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = []
    # Whatever ends it (the last seed, an error, SIGTERM, SIGINT or SIGHUP), every process it started stops
    # and its work directory is removed unless --keep.
    with children.run("azbackup-chaos-", keep=args.keep) as owned, \
            control_plane.running(owned.workdir / "control-plane", bin_dir=control_plane.tool_dir()) as plane:
        plane.kubectl("apply", "-f", str(REPO / "crds"))
        plane.kubectl("apply", "-f", str(PEERING_CRDS))
        plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        for seed in args.seeds:
            results.append(run_seed(plane, seed, args, owned.workdir / f"seed-{seed}"))
    print(json.dumps(results, indent=2) if args.json else table(results))
    bad = [r["seed"] for r in results if r.get("backupJobsPerOnDemandBackup") != 1.0]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
