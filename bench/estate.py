"""Estate-scale benchmark: N VMs over S subscriptions and V vaults, served by R operator replicas.

    python -m bench.estate --vms 20000 --subscriptions 8 --vaults 16 --replicas 1          # a table
    python -m bench.estate --vms 2000 --subscriptions 8 --vaults 16 --replicas 4 --json    # JSON

What `make bench` (bench.fleet) measures, for an estate: ARM's buckets are per subscription and
principal, so S subscriptions converge in parallel and the floor is the slowest subscription's
(its protect PUTs through its own write bucket). Each replica is its own process with its own client
id, so the emulator's per-client write log tells which replica wrote what: `duplicateWrites` counts
writes to a resource that another replica also wrote. CPU seconds and RSS are read from /proc for
every process (each replica, the emulator, the apiserver, etcd), so the time is explained, not assumed.

Whatever ends it, every process it started stops and its work directory is removed unless --keep.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from azbackup.devtools import control_plane, stack
from azbackup.process import children
from azure_emulator.admin import AdminClient
from azure_emulator.inventory import synthetic

from bench import fleet

NAMESPACE = fleet.NAMESPACE
RESOURCE_GROUPS = 10  # per subscription, as in bench.fleet
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def subscription_id(k: int) -> str:
    """The k-th subscription; the first is bench.fleet's."""
    return f"00000000-0000-0000-0000-{k + 1:012d}"


def replica_client_id(r: int) -> str:
    """Replica r's application (client) id: replica 0 is the emulator's default identity."""
    return stack.EMULATOR_CLIENT_ID if r == 0 else f"22222222-2222-2222-2222-{r:012d}"


def subscription_of_vm(i: int, subscriptions: int) -> int:
    return i % subscriptions


def vault_of_vm(i: int, subscriptions: int, vaults: int) -> int:
    """VM i's vault: one of its subscription's vaults (vault v sits in subscription v mod S)."""
    k = subscription_of_vm(i, subscriptions)
    own = range(k, vaults, subscriptions)
    return own[(i // subscriptions) % len(own)]


def vm_id(i: int, subscriptions: int) -> str:
    return (f"/subscriptions/{subscription_id(subscription_of_vm(i, subscriptions))}/resourceGroups/"
            f"rg-{i % RESOURCE_GROUPS:03d}/providers/Microsoft.Compute/virtualMachines/vm-{i:05d}")


def inventory(vms: int, subscriptions: int, replicas: int) -> dict[str, Any]:
    """The emulator's estate: VM i in subscription i mod S, and one identity per replica."""
    subs: list[dict[str, Any]] = []
    for k in range(subscriptions):
        mine = range(k, vms, subscriptions)
        sub = synthetic(len(mine), RESOURCE_GROUPS, subscription_id=subscription_id(k), vault=False)["subscriptions"][0]
        for vm, i in zip(sub["vms"], mine, strict=True):
            vm["name"], vm["resourceGroup"] = f"vm-{i:05d}", f"rg-{i % RESOURCE_GROUPS:03d}"
        subs.append(sub)
    identities = [{"clientId": replica_client_id(r), "secret": stack.EMULATOR_SECRET, "name": f"azbackup-replica-{r}"}
                  for r in range(replicas)]
    return {**synthetic(0, 1, vault=False), "tenantId": stack.EMULATOR_TENANT, "identities": identities,
            "subscriptions": subs}


def manifests(vms: int, subscriptions: int, vaults: int) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for v in range(vaults):
        docs.append({"apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupVault",
                     "metadata": {"name": f"vault-{v:02d}"},
                     "spec": {"subscriptionId": subscription_id(v % subscriptions), "resourceGroup": "rg-backup",
                              "location": "westeurope", "storageRedundancy": "LocallyRedundant"}})
    for i in range(vms):
        docs.append({"apiVersion": "azbackup.dev/v1alpha1", "kind": "ProtectedVM", "metadata": {"name": f"vm-{i:05d}"},
                     "spec": {"vaultRef": {"name": f"vault-{vault_of_vm(i, subscriptions, vaults):02d}"},
                              "vm": vm_id(i, subscriptions)}})
    return docs


def floor_seconds(writes_by_subscription: Mapping[str, int]) -> float:
    """ARM's floor with every subscription's bucket draining in parallel: the slowest subscription's."""
    return max((fleet.floor_seconds(n) for n in writes_by_subscription.values()), default=0.0)


# -- processes ---------------------------------------------------------------------------------


@dataclass
class Replica:
    index: int
    metrics_port: int
    process: subprocess.Popen[bytes]


def start_replicas(plane: control_plane.ControlPlane, emulator: stack.Emulator, workdir: Path, flags: Sequence[str],
                   replicas: int, metrics_port: int) -> list[Replica]:
    """R operator processes, each with its own client id (what the emulator logs it by) and metrics port.

    The one place that knows how a replica is started: more than one share the work by dynamic shards
    (`--sharding`, a Lease per subscription in the operator's first namespace), each under its own name."""
    started = []
    for r in range(replicas):
        env = {**stack.operator_env(plane.kubeconfig, emulator), "AZURE_CLIENT_ID": replica_client_id(r)}
        sharding = ["--sharding", "--shard-identity", f"replica-{r}"] if replicas > 1 else []
        args = [sys.executable, "-m", "azbackup.cli", "run", *flags, *sharding, "--metrics-port", str(metrics_port + r)]
        proc = children.spawn(f"operator-{r}", args, log=workdir / f"operator-{r}.log", env=env)
        started.append(Replica(r, metrics_port + r, proc))
    return started


def kill(replicas: Sequence[Replica]) -> None:
    """SIGKILL every replica at once (a node lost, a rollout gone wrong)."""
    for replica in replicas:
        if replica.process.poll() is None:
            replica.process.send_signal(signal.SIGKILL)
    for replica in replicas:
        replica.process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def processes(plane: control_plane.ControlPlane, emulator: stack.Emulator,
              replicas: Sequence[Replica]) -> dict[str, int]:
    named = {f"operator-{r.index}": r.process.pid for r in replicas}
    named["emulator"] = emulator.process.pid
    named.update({name: proc.pid for name, proc in plane.processes if proc.poll() is None})
    return named


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        try:
            out[name] = cpu_seconds(pid)
        except OSError:
            out[name] = float("nan")
    return out


def memory(replicas: Sequence[Replica]) -> dict[str, dict[str, float]]:
    return {f"operator-{r.index}": {"rssMB": round(fleet.peak_rss_mb(r.process.pid, "VmRSS"), 1),
                                    "peakRssMB": round(fleet.peak_rss_mb(r.process.pid), 1)} for r in replicas}


def metric_total(replicas: Sequence[Replica], name: str) -> float:
    total = 0.0
    for replica in replicas:
        with contextlib.suppress(OSError):
            total += fleet.metric_sum(replica.metrics_port, name)
    return total


def ready_total(replicas: Sequence[Replica]) -> int:
    return sum(fleet.ready_from_metrics(r.metrics_port, "ProtectedVM") for r in replicas)


def azure_writes(admin: AdminClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The emulator's totals (bench.fleet's) and its per-client write log."""
    counters = admin.counters()
    ops = {name: entry["total"] for name, entry in sorted(counters["operations"].items())}
    totals = {"reads": counters["kinds"]["read"], "writes": counters["kinds"]["write"],
              "deletes": counters["kinds"]["delete"], "throttled": counters["throttled"], "operations": ops,
              "writesBySubscription": {s: t["kinds"]["write"] + t["kinds"]["delete"]
                                       for s, t in counters["subscriptions"].items()}}
    return totals, counters["writers"]


# -- the run -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    with children.run("azbackup-estate-", keep=args.keep) as owned:
        result = measure(args, owned.workdir)
    if args.keep:
        result["workdir"] = str(owned.workdir)
    return result


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    if args.vaults < args.subscriptions:
        raise SystemExit("--vaults must be at least --subscriptions: every subscription needs a vault of its own")
    result: dict[str, Any] = {"vms": args.vms, "subscriptions": args.subscriptions, "vaults": args.vaults,
                              "replicas": args.replicas, "syncPeriod": args.sync_period,
                              "loadAverageAtStart": os.getloadavg()}
    objects = args.vms + args.vaults
    seed = workdir / "inventory.json"
    seed.write_text(json.dumps(inventory(args.vms, args.subscriptions, args.replicas)))
    with control_plane.running(workdir / "control-plane", bin_dir=control_plane.tool_dir()) as plane:
        plane.kubectl("apply", "-f", str(control_plane.repo_root() / "crds"))  # type: ignore[operator]
        plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        plane.kubectl("create", "namespace", NAMESPACE)
        started = time.monotonic()
        emulator = stack.start_emulator(workdir / "emulator", inventory=seed, time_scale=args.time_scale,
                                        throttling=True)
        result["emulatorStartSeconds"] = round(time.monotonic() - started, 1)
        admin = AdminClient(emulator.url, emulator.ca_bundle, timeout=120)
        admin.set_settings(activityLogDelay=args.feed_delay)
        flags = ["-n", NAMESPACE, "--sync-period", str(args.sync_period), "--poll-interval", "2",
                 "--log-format", "json", "--change-feed-interval", str(args.feed_interval), *args.operator_arg]
        replicas = start_replicas(plane, emulator, workdir, flags, args.replicas, args.metrics_port)
        try:
            time.sleep(3)
            result["converge"] = converge(args, plane, admin, emulator, replicas, workdir)
            result["steady"] = steady(args, plane, admin, emulator, replicas)
            replicas, result["restart"] = restart(args, plane, admin, emulator, replicas, workdir, flags, objects)
        finally:
            for replica in replicas:
                stack.stop(replica.process)
            emulator.stop()
    result["loadAverageAtEnd"] = os.getloadavg()
    return result


def apply_all(plane: control_plane.ControlPlane, docs: Sequence[dict[str, Any]], parallel: int) -> None:
    """Server-side apply in batches, several kubectl at once: kubectl applies one object per request, in
    turn, so one kubectl is bound by the apiserver's latency (on a loaded 2-core machine, ~5 objects/s)."""
    def one(batch: list[dict[str, Any]]) -> None:
        plane.kubectl("apply", "-n", NAMESPACE, "--server-side", "-f", "-", input=yaml.safe_dump_all(batch),
                      timeout=1800)

    vaults = [d for d in docs if d["kind"] == "BackupVault"]
    one(vaults)  # first, so a ProtectedVM finds its vault
    batches = list(fleet.chunks([d for d in docs if d["kind"] != "BackupVault"], 250))
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, batches))  # the first failure raises here


def converge(args: argparse.Namespace, plane: control_plane.ControlPlane, admin: AdminClient,
             emulator: stack.Emulator, replicas: list[Replica], workdir: Path) -> dict[str, Any]:
    objects = args.vms + args.vaults
    pids = processes(plane, emulator, replicas)
    admin.reset_counters()
    kube_before = fleet.kube_writes(plane)
    cpu_before = cpu_snapshot(pids)
    started = time.monotonic()
    apply_all(plane, manifests(args.vms, args.subscriptions, args.vaults), args.apply_parallel)
    applied = time.monotonic() - started
    ready, confirmed_at = 0, 0.0
    deadline = started + args.timeout
    timeline: list[tuple[float, int, int, int]] = []  # t, protect PUTs, Ready, RSS
    while time.monotonic() < deadline:
        # The replicas' own gauges, and the emulator's protect PUTs, say when to ask the apiserver:
        # listing 20,000 objects every few seconds would load it more than the operator does.
        gauge = ready_total(replicas)
        puts = admin.count("ProtectedItems_CreateOrUpdate")
        now = time.monotonic()
        if (gauge >= args.vms or puts >= args.vms) and now - confirmed_at > 15:
            ready, _ = fleet.ready_count(plane, "protectedvms")
            confirmed_at = time.monotonic()
        rss = max(fleet.peak_rss_mb(r.process.pid, "VmRSS") for r in replicas)
        timeline.append((round(now - started, 1), puts, max(ready, min(gauge, args.vms)), round(rss)))
        print(f"  converge t={timeline[-1][0]:7.1f}s  protect PUTs {puts:6d}  Ready {timeline[-1][2]:6d}/{args.vms}"
              f"  largest replica RSS {rss:5.0f} MB", file=sys.stderr, flush=True)
        if ready == args.vms:
            break
        for replica in replicas:
            if replica.process.poll() is not None:
                raise RuntimeError(f"replica {replica.index} exited; see {workdir / f'operator-{replica.index}.log'}")
        time.sleep(5 if args.vms > 5000 else 2)
    seconds = time.monotonic() - started
    confirmed = ready == args.vms
    if not confirmed:  # timed out: the replicas' own count (the apiserver was never asked)
        ready = min(ready_total(replicas), args.vms)
    cpu = {name: round(after - cpu_before[name], 1) for name, after in cpu_snapshot(pids).items()}
    azure, writers = azure_writes(admin)
    kube = fleet.diff(fleet.kube_writes(plane), kube_before)
    per_sub_vms = {subscription_id(k): len(range(k, args.vms, args.subscriptions)) for k in range(args.subscriptions)}
    floor = floor_seconds(per_sub_vms)
    return {
        "ready": ready, "readyConfirmedByApiserver": confirmed, "seconds": round(seconds, 1),
        "applySeconds": round(applied, 1),
        # Under ARM's burst (200 writes per subscription) there is no floor to compare with.
        "armFloorSeconds": floor, "ratioToArmFloor": round(seconds / floor, 2) if floor else None,
        "floorForTheseWrites": floor_seconds(azure["writesBySubscription"]),
        "azureWrites": azure["writes"] + azure["deletes"], "azureReads": azure["reads"],
        "azureWritesBySubscription": azure["writesBySubscription"], "azureCalls": azure["operations"],
        "throttled429": azure["throttled"],
        "duplicateWrites": writers["duplicateWrites"], "writesByClient": writers["clients"],
        "duplicateExamples": writers["examples"],
        "kubeWrites": sum(kube.values()) - objects, "kubeWritesByResource": kube,
        "kubeWritesPerObject": round((sum(kube.values()) - objects) / objects, 2),
        "cpuSeconds": cpu,
        "cpuSecondsPerConvergedVM": {name: round(s / max(ready, 1), 5) for name, s in cpu.items()},
        "memory": memory(replicas),
        "apiserverRequests": dict(sorted(fleet.kube_requests(plane).items(), key=lambda kv: -kv[1])[:12]),
        "timeline": timeline[:: max(1, len(timeline) // 60)],
    }


def steady(args: argparse.Namespace, plane: control_plane.ControlPlane, admin: AdminClient,
           emulator: stack.Emulator, replicas: list[Replica]) -> dict[str, Any]:
    """One quiet window of full passes: what the estate costs when nothing changes."""
    time.sleep(min(args.sync_period, 10))
    pids = processes(plane, emulator, replicas)
    admin.reset_counters()
    kube_before = fleet.kube_writes(plane)
    cpu_before = cpu_snapshot(pids)
    passes_before = metric_total(replicas, "azbackup_vault_passes_total")
    window = args.sync_period * args.steady_periods
    time.sleep(window)
    azure, writers = azure_writes(admin)
    passes = (metric_total(replicas, "azbackup_vault_passes_total") - passes_before) / args.vaults
    reads = azure["reads"] - azure["operations"].get("ActivityLogs_List", 0)
    return {
        "windowSeconds": window, "passesPerVault": passes, "azureReads": azure["reads"],
        "readsPerPass": round(reads / max(passes, 1), 1),
        "azureWrites": azure["writes"] + azure["deletes"], "duplicateWrites": writers["duplicateWrites"],
        "throttled429": azure["throttled"],
        "kubeWrites": sum(fleet.diff(fleet.kube_writes(plane), kube_before).values()),
        "cpuSeconds": {name: round(after - cpu_before[name], 1) for name, after in cpu_snapshot(pids).items()},
        "memory": memory(replicas),
    }


def restart(args: argparse.Namespace, plane: control_plane.ControlPlane, admin: AdminClient,
            emulator: stack.Emulator, replicas: list[Replica], workdir: Path, flags: Sequence[str],
            objects: int) -> tuple[list[Replica], dict[str, Any]]:
    """Every replica SIGKILLed at once and started again: Azure writes, and seconds until every object is
    observed again (the replicas' reconcile counters summed; each replica reconciles only the objects of
    the shards it holds, and per-replica counts are in the result)."""
    kill(replicas)
    admin.reset_counters()
    kube_before = fleet.kube_writes(plane)
    started = time.monotonic()
    replicas = start_replicas(plane, emulator, workdir, flags, args.replicas, args.metrics_port)
    observed = 0.0
    while time.monotonic() - started < args.restart_timeout:
        observed = metric_total(replicas, "azbackup_reconcile_total")
        if observed >= objects:
            break
        time.sleep(0.5)
    seconds = time.monotonic() - started
    azure, writers = azure_writes(admin)
    return replicas, {
        "secondsUntilEveryObjectObserved": round(seconds, 1), "reconcilesCounted": observed,
        "reconcilesByReplica": {f"operator-{r.index}": fleet.metric_sum(r.metrics_port, "azbackup_reconcile_total")
                                for r in replicas if r.process.poll() is None},
        "azureWrites": azure["writes"] + azure["deletes"], "azureReads": azure["reads"],
        "duplicateWrites": writers["duplicateWrites"], "throttled429": azure["throttled"],
        "kubeWrites": sum(fleet.diff(fleet.kube_writes(plane), kube_before).values()),
        "memory": memory(replicas),
    }


def table(result: dict[str, Any]) -> str:
    c, s, r = result["converge"], result["steady"], result["restart"]
    rows: list[tuple[str, str, str]] = [("scenario", "figure", "value")]
    rows += [
        ("converge", f"{result['vms']} ProtectedVMs / {result['subscriptions']} subscriptions / "
                     f"{result['vaults']} vaults / {result['replicas']} replicas: Ready", f"{c['ready']}"),
        ("converge", "seconds (apply included) / apply alone", f"{c['seconds']} / {c['applySeconds']}"),
        ("converge", "ARM floor, subscriptions in parallel (s)", f"{c['armFloorSeconds']}"),
        ("converge", "ratio to that floor", f"{c['ratioToArmFloor']}"),
        ("converge", "Azure writes / reads", f"{c['azureWrites']} / {c['azureReads']}"),
        ("converge", "throttled requests (429; goal 0)", f"{c['throttled429']}"),
        ("converge", "duplicate writes (a resource written by two replicas)", f"{c['duplicateWrites']}"),
        ("converge", "kube writes by the operator (per object; goal <= 4)",
         f"{c['kubeWrites']} ({c['kubeWritesPerObject']})"),
    ]
    for name, seconds in c["cpuSeconds"].items():
        rows.append(("converge", f"CPU s of {name} (per converged VM)",
                     f"{seconds} ({c['cpuSecondsPerConvergedVM'][name]})"))
    for name, mem in c["memory"].items():
        rows.append(("converge", f"RSS of {name} now / peak (MB; goal <= 512)", f"{mem['rssMB']} / {mem['peakRssMB']}"))
    rows += [
        ("steady", "window (s) / full passes per vault", f"{s['windowSeconds']} / {s['passesPerVault']}"),
        ("steady", "Azure reads per pass / writes / kube writes", f"{s['readsPerPass']} / {s['azureWrites']} / "
                                                                  f"{s['kubeWrites']}"),
        ("restart", "Azure writes after SIGKILL of every replica (goal 0)", f"{r['azureWrites']}"),
        ("restart", "seconds until every object observed again (goal <= 60)",
         f"{r['secondsUntilEveryObjectObserved']}"),
    ]
    return fleet.columns(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.estate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=20000)
    parser.add_argument("--subscriptions", type=int, default=8)
    parser.add_argument("--vaults", type=int, default=16)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--sync-period", type=float, default=60.0,
                        help="the operator's full-pass period during the run (shortened from 1 h)")
    parser.add_argument("--steady-periods", type=int, default=1)
    parser.add_argument("--time-scale", type=float, default=0.25, help="emulator durations (LROs, jobs)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for convergence")
    parser.add_argument("--restart-timeout", type=float, default=300.0)
    parser.add_argument("--metrics-port", type=int, default=19290, help="replica r serves metrics on this + r")
    parser.add_argument("--feed-interval", type=float, default=60.0, help="the operator's --change-feed-interval")
    parser.add_argument("--feed-delay", type=float, default=60.0, help="the emulator's Activity Log lag (s)")
    parser.add_argument("--apply-parallel", type=int, default=8, help="kubectl applies at once")
    parser.add_argument("--operator-arg", action="append", default=[], help="extra flag for `azbackup run`")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, inventory)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
