"""Fleet-scale benchmarks: converge, steady state, restart, freshness, and the naive baseline, in one run.

    python -m bench.fleet --vms 1000 --vaults 5          # a table
    python -m bench.fleet --vms 1000 --vaults 5 --json   # the same figures as JSON

Everything is real but Azure: a local kube-apiserver, the operator as a process, and the emulator
with ARM throttling on. Azure calls are counted exactly by the emulator, Kubernetes writes by the
apiserver's own request counters; only the convergence time is a clock reading, and it is reported as
a ratio to the floor that ARM's write bucket imposes on the same number of writes.

Whatever ends it (the last figure, an error, SIGTERM, SIGINT or SIGHUP), every process it started stops
and its work directory is removed unless --keep (azbackup.process.children).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from azbackup.devtools import control_plane, stack
from azbackup.process import children
from azure_emulator.admin import AdminClient
from azure_emulator.inventory import synthetic

from bench import freshness

NAMESPACE = "bench"
SUB = "00000000-0000-0000-0000-000000000001"
WRITE_BURST, WRITE_RATE = 200, 10.0  # ARM's per-subscription write bucket (request-limits-and-throttling)
DEFAULT_SYNC = 3600.0  # the operator's default full-pass period


def floor_seconds(writes: int) -> float:
    """The least time ARM's token bucket allows for `writes` writes: the burst is free, then 10/s."""
    return max(0.0, (writes - WRITE_BURST) / WRITE_RATE)


def kube_requests(plane: control_plane.ControlPlane) -> dict[str, int]:
    """Every request the apiserver served, by verb and resource (to see what loads it)."""
    out: dict[str, int] = {}
    for line in plane.kubectl("get", "--raw", "/metrics").stdout.splitlines():
        if line.startswith("apiserver_request_total{"):
            labels, _, value = line.rpartition(" ")
            fields = {k: v.strip('"') for k, v in (p.split("=", 1) for p in labels[24:-1].split(",") if "=" in p)}
            key = f"{fields.get('verb')} {fields.get('resource')}/{fields.get('subresource', '')}"
            out[key] = out.get(key, 0) + int(float(value))
    return out


def kube_writes(plane: control_plane.ControlPlane) -> dict[str, int]:
    """Writes the apiserver has served, by resource, for our kinds and Events (its own counters)."""
    text = plane.kubectl("get", "--raw", "/metrics").stdout
    out: dict[str, int] = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels, _, value = line.rpartition(" ")
        fields = dict(part.split("=", 1) for part in labels[len("apiserver_request_total{"):-1].split(",")
                      if "=" in part)
        fields = {k: v.strip('"') for k, v in fields.items()}
        if fields.get("verb") not in ("POST", "PUT", "PATCH", "DELETE", "APPLY"):
            continue
        if fields.get("group") == "azbackup.dev" or fields.get("resource") == "events":
            resource = fields.get("resource", "?")
            if fields.get("subresource"):
                resource += "/" + fields["subresource"]
            key = f"{fields['verb']} {resource}"
            out[key] = out.get(key, 0) + int(float(value))
    return out


def diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def ready_count(plane: control_plane.ControlPlane, kind: str) -> tuple[int, int]:
    out = plane.kubectl("get", kind, "-n", NAMESPACE, "-o",
                        'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
                        timeout=120).stdout
    lines = out.splitlines()
    return sum(1 for line in lines if line.strip() == "True"), len(lines)


def peak_rss_mb(pid: int, field: str = "VmHWM") -> float:
    """Peak (VmHWM) or current (VmRSS) resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def metric_sum(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{") or line.startswith(name + " "))


def ready_from_metrics(port: int, kind: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return 0
    prefix = f'azbackup_objects{{kind="{kind}",ready="True"'
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)))


def manifests(vms: int, vaults: int) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for v in range(vaults):
        docs.append({"apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupVault", "metadata": {"name": f"vault-{v}"},
                     "spec": {"subscriptionId": SUB, "resourceGroup": "rg-backup", "location": "westeurope",
                              "storageRedundancy": "LocallyRedundant"}})
    for i in range(vms):
        rg = f"rg-{i % 10:03d}"
        docs.append({"apiVersion": "azbackup.dev/v1alpha1", "kind": "ProtectedVM", "metadata": {"name": f"vm-{i:05d}"},
                     "spec": {"vaultRef": {"name": f"vault-{i % vaults}"},
                              "vm": f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/"
                                    f"virtualMachines/vm-{i:05d}"}})
    return docs


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def emulator_totals(admin: AdminClient) -> dict[str, Any]:
    counters = admin.counters()
    ops = {name: entry["total"] for name, entry in sorted(counters["operations"].items())}
    return {"reads": counters["kinds"]["read"], "writes": counters["kinds"]["write"],
            "deletes": counters["kinds"]["delete"], "throttled": counters["throttled"], "operations": ops}


async def naive_sync(url: str, ca: str, vms: int, vaults: int) -> dict[str, Any]:
    """What the anchors do each sync: one GET per object (Crossplane polls each managed resource)."""
    from azure.identity.aio import ClientSecretCredential
    from azure.mgmt.recoveryservicesbackup.aio import RecoveryServicesBackupClient

    credential = ClientSecretCredential(stack.EMULATOR_TENANT, stack.EMULATOR_CLIENT_ID, stack.EMULATOR_SECRET,
                                        authority=url, disable_instance_discovery=True, connection_verify=ca)
    client = RecoveryServicesBackupClient(credential, SUB, base_url=url, credential_scopes=[f"{url}/.default"],
                                          connection_verify=ca)
    started = time.monotonic()
    semaphore = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        rg = f"rg-{i % 10:03d}"
        async with semaphore:
            await client.protected_items.get(f"vault-{i % vaults}", "rg-backup", "Azure",
                                             f"IaasVMContainer;iaasvmcontainerv2;{rg};vm-{i:05d}",
                                             f"VM;iaasvmcontainerv2;{rg};vm-{i:05d}")

    try:
        await asyncio.gather(*(one(i) for i in range(vms)))
    finally:
        await client.close()
        await credential.close()
    return {"seconds": round(time.monotonic() - started, 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    with children.run("azbackup-bench-", keep=args.keep) as owned:
        result = measure(args, owned.workdir)
    if args.keep:
        result["workdir"] = str(owned.workdir)
    return result


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"vms": args.vms, "vaults": args.vaults, "syncPeriod": args.sync_period}
    inventory = workdir / "inventory.json"
    inventory.write_text(json.dumps(synthetic(args.vms, 10, vault=False)))
    bin_dir = control_plane.tool_dir()
    with control_plane.running(workdir / "control-plane", bin_dir=bin_dir) as plane:
        plane.kubectl("apply", "-f", str(control_plane.repo_root() / "crds"))  # type: ignore[operator]
        plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        plane.kubectl("create", "namespace", NAMESPACE)
        emulator = stack.start_emulator(workdir / "emulator", inventory=inventory, time_scale=args.time_scale,
                                        throttling=True)
        admin = AdminClient(emulator.url, emulator.ca_bundle)
        # Activity Log entries become visible as late as in Azure (the change feed's lateness).
        admin.set_settings(activityLogDelay=args.feed_delay)
        flags = ["-n", NAMESPACE, "--sync-period", str(args.sync_period), "--poll-interval", "2",
                 "--metrics-port", str(args.metrics_port), "--log-format", "json",
                 "--change-feed-interval", str(args.feed_interval), *args.operator_arg]
        operator = stack.start_operator(plane.kubeconfig, emulator, workdir / "operator.log", flags)
        try:
            time.sleep(3)
            # -- converge ----------------------------------------------------------------------
            admin.reset_counters()
            kube_before = kube_writes(plane)
            docs = manifests(args.vms, args.vaults)
            started = time.monotonic()
            for batch in chunks(docs, 250):
                plane.kubectl("apply", "-n", NAMESPACE, "--server-side", "-f", "-",
                              input=yaml.safe_dump_all(batch), timeout=300)
            applied = time.monotonic() - started
            ready = 0
            deadline = started + args.timeout
            timeline: list[tuple[float, int, int]] = []
            while time.monotonic() < deadline:
                # Progress from the operator's own gauge: listing 1000 objects every few seconds would
                # load the apiserver more than the operator does, and slow what is being measured.
                ready = ready_from_metrics(args.metrics_port, "ProtectedVM")
                if ready == args.vms:
                    ready, _ = ready_count(plane, "protectedvms")  # confirmed by the apiserver
                puts = admin.count("ProtectedItems_CreateOrUpdate")
                timeline.append((round(time.monotonic() - started, 1), puts, ready))
                print(f"  converge t={timeline[-1][0]:6.1f}s  protect PUTs {puts:5d}  Ready {ready:5d}/{args.vms}",
                      file=sys.stderr, flush=True)
                if ready == args.vms:
                    break
                if operator.poll() is not None:
                    raise RuntimeError(f"the operator exited; see {workdir / 'operator.log'}")
                time.sleep(2)
            converge = time.monotonic() - started
            azure = emulator_totals(admin)
            writes = azure["writes"] + azure["deletes"]
            result["apiserverRequests"] = dict(sorted(kube_requests(plane).items(), key=lambda kv: -kv[1])[:15])
            kube = diff(kube_writes(plane), kube_before)
            ours = args.vms + args.vaults
            result["converge"] = {
                "ready": ready, "seconds": round(converge, 1), "applySeconds": round(applied, 1),
                "azureWrites": writes, "floorSecondsForTheseWrites": floor_seconds(writes),
                "floorSecondsForNWrites": floor_seconds(args.vms),
                "ratioToFloorOfNWrites": round(converge / max(floor_seconds(args.vms), 1e-9), 2),
                "throttled": azure["throttled"], "azureReads": azure["reads"], "azureCalls": azure["operations"],
                "kubeWrites": sum(kube.values()) - ours, "kubeWritesByResource": kube,
                "kubeWritesPerObject": round((sum(kube.values()) - ours) / ours, 2),
                "operatorPeakRssMB": round(peak_rss_mb(operator.pid), 1),
                "timeline": timeline,
            }
            # -- steady state ------------------------------------------------------------------
            time.sleep(min(args.sync_period, 10))  # let the last progress settle
            admin.reset_counters()
            kube_before = kube_writes(plane)
            passes_before = metric_sum(args.metrics_port, "azbackup_vault_passes_total")
            window = args.sync_period * args.steady_periods
            time.sleep(window)
            azure = emulator_totals(admin)
            kube = diff(kube_writes(plane), kube_before)
            passes = (metric_sum(args.metrics_port, "azbackup_vault_passes_total") - passes_before) / args.vaults
            # The change feed's reads go by its own interval, not by passes: counted apart (freshness).
            feed_reads = azure["operations"].get("ActivityLogs_List", 0)
            reads_per_pass = (azure["reads"] - feed_reads) / max(passes, 1)
            result["steady"] = {
                "windowSeconds": window, "passesPerVault": passes, "azureReads": azure["reads"],
                "azureWrites": azure["writes"] + azure["deletes"], "kubeWrites": sum(kube.values()),
                "azureCalls": azure["operations"],
                "readsPerPass": round(reads_per_pass, 1), "feedReads": feed_reads,
                "readsPerProtectedVMPerPass": round(reads_per_pass / args.vms, 4),
                # The operator passes once per sync period: 1 h by default.
                "readsPerProtectedVMHourAtDefaultSync": round(reads_per_pass / args.vms * 3600 / DEFAULT_SYNC, 4),
                "readsPerProtectedVMHourAtBenchSync": round(reads_per_pass / args.vms * 3600 / args.sync_period, 4),
                "operatorPeakRssMB": round(peak_rss_mb(operator.pid), 1),
                "operatorRssMB": round(peak_rss_mb(operator.pid, "VmRSS"), 1),
            }
            # -- restart -----------------------------------------------------------------------
            operator.kill()
            operator.wait()
            admin.reset_counters()
            kube_before = kube_writes(plane)
            started = time.monotonic()
            operator = stack.start_operator(plane.kubeconfig, emulator, workdir / "operator.log", flags)
            observed = 0.0
            while time.monotonic() - started < 180:
                try:
                    observed = metric_sum(args.metrics_port, "azbackup_reconcile_total")
                except OSError:
                    observed = 0.0
                if observed >= ours:
                    break
                time.sleep(0.5)
            restart = time.monotonic() - started
            azure = emulator_totals(admin)
            result["restart"] = {
                "secondsUntilEveryObjectObserved": round(restart, 1), "reconcilesCounted": observed,
                "azureWrites": azure["writes"] + azure["deletes"], "azureReads": azure["reads"],
                "kubeWrites": sum(diff(kube_writes(plane), kube_before).values()),
            }
            # -- freshness: the default one-hour pass, so changes reach the operator by the feed ---
            if args.freshness:
                stack.stop(operator)
                fresh_flags = [*flags, "--sync-period", str(DEFAULT_SYNC)]
                operator = stack.start_operator(plane.kubeconfig, emulator, workdir / "operator.log", fresh_flags)
                started = time.monotonic()
                while time.monotonic() - started < 180:  # every object observed again: the first pass is done
                    try:
                        if metric_sum(args.metrics_port, "azbackup_reconcile_total") >= ours:
                            break
                    except OSError:
                        pass
                    time.sleep(0.5)

                def apply(docs: list[dict[str, Any]]) -> None:
                    plane.kubectl("apply", "-n", NAMESPACE, "--server-side", "-f", "-", input=yaml.safe_dump_all(docs))

                result["freshness"] = {"feedIntervalSeconds": args.feed_interval, "feedDelaySeconds": args.feed_delay,
                                       **freshness.run(plane, emulator, admin, NAMESPACE, SUB, args.vms, args.vaults,
                                                       reads_per_pass, apply=apply, quiet=args.freshness_quiet)}
            # -- the naive baseline, against the same emulator ----------------------------------
            if args.naive:
                admin.reset_counters()
                timing = asyncio.run(naive_sync(emulator.url, emulator.ca_bundle, args.vms, args.vaults))
                azure = emulator_totals(admin)
                per_sync = azure["reads"] / args.vms
                result["naive"] = {
                    "model": "one GET per object per sync (Crossplane's 10-minute poll; ASO re-PUTs hourly)",
                    "readsPerObjectPerSync": round(per_sync, 2), "seconds": timing["seconds"],
                    "throttled": azure["throttled"],
                    "readsPerProtectedVMHourAt10MinPoll": round(per_sync * 6, 2),
                    "readsPerProtectedVMHourAt1hSync": round(per_sync, 2),
                }
                ours_hourly = result["steady"]["readsPerProtectedVMHourAtDefaultSync"]
                result["naive"]["ratioNaive1hToOurs"] = round(per_sync / max(ours_hourly, 1e-9), 1)
        finally:
            stack.stop(operator)
            emulator.stop()
    return result


def table(result: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str]] = [("scenario", "figure", "value")]
    c, s, r = result["converge"], result["steady"], result["restart"]
    rows += [
        ("converge", f"{result['vms']} ProtectedVMs in {result['vaults']} vaults Ready", f"{c['ready']}"),
        ("converge", "seconds (apply included)", f"{c['seconds']}"),
        ("converge", f"ARM write-bucket floor for N={result['vms']} writes (s)", f"{c['floorSecondsForNWrites']}"),
        ("converge", "ratio to that floor (target <= 1.25)", f"{c['ratioToFloorOfNWrites']}"),
        ("converge", "Azure writes sent / reads", f"{c['azureWrites']} / {c['azureReads']}"),
        ("converge", "throttled requests (429)", f"{c['throttled']}"),
        ("converge", "kube writes by the operator (per object)", f"{c['kubeWrites']} ({c['kubeWritesPerObject']})"),
        ("converge", "operator peak RSS while converging (MB)", f"{c['operatorPeakRssMB']}"),
        ("steady", "window (s) / full passes per vault", f"{s['windowSeconds']} / {s['passesPerVault']}"),
        ("steady", "Azure reads per pass (all objects)", f"{s['readsPerPass']}"),
        ("steady", "Azure reads per ProtectedVM-hour at the 1 h default (target <= 0.05)",
         f"{s['readsPerProtectedVMHourAtDefaultSync']}"),
        ("steady", "operator RSS holding every object (MB; target <= 250 at N=5000)", f"{s['operatorRssMB']}"),
        ("steady", "Azure writes / kube writes in the window (target 0 / 0)",
         f"{s['azureWrites']} / {s['kubeWrites']}"),
        ("restart", "Azure writes after SIGKILL + restart (target 0)", f"{r['azureWrites']}"),
        ("restart", "seconds until every object observed again (target <= 60)",
         f"{r['secondsUntilEveryObjectObserved']}"),
    ]
    if "freshness" in result:
        rows += freshness.rows(result["freshness"])
    if "naive" in result:
        n = result["naive"]
        rows += [("naive", "reads per ProtectedVM-hour, one GET per object per 1 h sync",
                  f"{n['readsPerProtectedVMHourAt1hSync']}"),
                 ("naive", "... at Crossplane's 10-minute poll", f"{n['readsPerProtectedVMHourAt10MinPoll']}"),
                 ("naive", "throttled requests (429) in one sync of every object", f"{n['throttled']}"),
                 ("naive", "naive (1 h) / ours", f"{n['ratioNaive1hToOurs']}x")]
    return columns(rows)


def columns(rows: list[tuple[str, str, str]]) -> str:
    """Rows of (phase, figure, value) as aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--vaults", type=int, default=5)
    parser.add_argument("--sync-period", type=float, default=20.0,
                        help="the operator's full-pass period during the run (shortened from 1 h)")
    parser.add_argument("--steady-periods", type=int, default=3)
    parser.add_argument("--time-scale", type=float, default=0.25, help="emulator durations (LROs, jobs)")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--metrics-port", type=int, default=19090)
    parser.add_argument("--no-naive", dest="naive", action="store_false", help="skip the naive baseline")
    parser.add_argument("--no-freshness", dest="freshness", action="store_false", help="skip the freshness phase")
    parser.add_argument("--feed-interval", type=float, default=60.0, help="the operator's --change-feed-interval")
    parser.add_argument("--feed-delay", type=float, default=60.0,
                        help="seconds before the emulator's Activity Log shows an entry (Azure's own lag)")
    parser.add_argument("--freshness-quiet", type=float, default=300.0,
                        help="seconds of the quiet window that counts steady reads with the feed on")
    parser.add_argument("--operator-arg", action="append", default=[], help="extra flag for `azbackup run`")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, inventory)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
