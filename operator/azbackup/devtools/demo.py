"""`azbackup demo`: the whole story on the embedded default. No Azure account, no Docker.

A local control plane (etcd, kube-apiserver, kube-controller-manager), the Azure emulator seeded with
the sample fleet (healthy VMs and one VM per limitation of Azure's guide), and the real operator.
It applies examples/ (vault, policy, a protected VM, a tag selector that protects a part of the fleet,
an on-demand backup), asks for protection of the rest of the fleet, fixes one broken VM to show it
protected unaided, shows progress throughout, shows a table of every object, and ends with a restore
drill (examples/restore/restoredrill.yaml on a one-minute schedule): one protected VM restored into the
isolated rg-drill group, running, its achieved RPO and RTO, and the clean-up.

Whatever ends it (the end of the story, an error, SIGTERM, SIGINT or SIGHUP), every process it started
stops and its work directory is removed unless --keep (azbackup.process.children).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from azbackup.devtools import control_plane, demo_mua, stack
from azbackup.process import children

if TYPE_CHECKING:
    from azbackup.devtools import cluster

NAMESPACE = "azbackup-demo"
KINDS = ("backupvaults", "backuppolicies", "protectedvms", "vmbackupselectors", "ondemandbackups")
OPERATOR_FLAGS = ("--sync-period", "10", "--poll-interval", "1", "--retry-scale", "0.05", "-n", NAMESPACE)


class EmulatorAdmin(Protocol):
    """The emulator's admin API: a local process (stack.Emulator) or a pod (incluster.PodEmulator)."""

    def admin(self, method: str, path: str, body: object = None) -> Any: ...


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


# A prerequisite Azure added after the guide that a disk selection satisfies: vm-entra-disk's data disk
# (LUN 0) has data-access authentication, so it is protected with that disk left out. Its neighbours
# (vm-ultra-db, vm-pv2-app, vm-ephemeral, vm-confidential) stay blocked under the DefaultPolicy (Standard).
EXCLUDE_LUNS = {"vm-entra-disk": [0]}


def fleet_manifests(vault: str, taken: set[str], vms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ProtectedVM per sample-fleet VM not already in the examples: the guide's checks, VM by VM."""
    docs = []
    for vm in vms:
        if vm["id"].lower() in taken:
            continue
        spec: dict[str, Any] = {"vaultRef": {"name": vault}, "vm": vm["id"]}
        if vm["name"] in EXCLUDE_LUNS:
            spec["diskSelection"] = {"excludeLuns": EXCLUDE_LUNS[vm["name"]]}
        docs.append({"apiVersion": "azbackup.dev/v1alpha1", "kind": "ProtectedVM",
                     "metadata": {"name": vm["name"], "labels": {"demo": "fleet"}}, "spec": spec})
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
            excluded = ((obj.get("spec") or {}).get("diskSelection") or {}).get("excludeLuns")
            if excluded:
                detail += f", LUN {', '.join(map(str, excluded))} excluded"
        if warned:
            detail += ("; " if detail else "") + "warnings: " + ", ".join(warned)
        if obj["kind"] == "VMBackupSelector" and status.get("matched") is not None:
            detail = (f"matched {status['matched']}, protected {status.get('protected', 0)}, "
                      f"blocked {status.get('blocked', 0)}, excluded {status.get('excluded', 0)}")
        if obj["kind"] == "OnDemandBackup" and status.get("recoveryPoint"):
            detail = f"recovery point {status['recoveryPoint']}"
        rows.append((obj["kind"], obj["metadata"]["name"], ready.get("status", "-"), ready.get("reason", "-"),
                     detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row))
                     for row in rows)


def owned_by(obj: dict[str, Any], kind: str, name: str) -> bool:
    return any(o.get("kind") == kind and o.get("name") == name for o in obj["metadata"].get("ownerReferences") or ())


def wait(plane: control_plane.ControlPlane, operator: Any, started: float, timeout: float,
         done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]] | None:
    """Poll every object, printing a progress line whenever it changes, until `done` (None: timed out)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        items = objects(plane)
        line = progress_line(items)
        if line != last:
            print(f"    [{time.monotonic() - started:5.0f}s] {line}", flush=True)
            last = line
        if done(items):
            return items
        if operator.poll() is not None:
            raise RuntimeError("the operator exited")
        time.sleep(2)
    return None


def load_examples(root: Path) -> list[dict[str, Any]]:
    return [d for p in sorted((root / "examples").glob("*.yaml")) if p.name != "kustomization.yaml"
            for d in yaml.safe_load_all(p.read_text()) if d]


def selector_children(items: list[dict[str, Any]], selector: str) -> list[dict[str, Any]] | None:
    """The selector's ProtectedVM children once it has created one for every VM it matched."""
    sel = next((o for o in items if o["kind"] == "VMBackupSelector" and o["metadata"]["name"] == selector), None)
    matched = ((sel or {}).get("status") or {}).get("matched")
    if matched is None:
        return None
    children = [o for o in items if o["kind"] == "ProtectedVM" and owned_by(o, "VMBackupSelector", selector)]
    return children if len(children) >= matched else None


def story(plane: control_plane.ControlPlane, emulator: EmulatorAdmin, operator: Any, root: Path,
          started: float, timeout: float) -> int:
    vms = emulator.admin("GET", "vms")["vms"]
    examples = load_examples(root)
    names = {d["kind"]: d["metadata"]["name"] for d in examples}
    step("applying examples/ into namespace " + NAMESPACE + ": a vault, an Enhanced policy, a protected VM, "
         "a tag selector, an on-demand backup")
    plane.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=yaml.safe_dump_all(examples))

    selector = names["VMBackupSelector"]
    step(f"VMBackupSelector {selector} creates a ProtectedVM for each VM tagged backup=daily, env in (prod, staging)")
    items = wait(plane, operator, started, timeout, lambda got: selector_children(got, selector) is not None)
    if items is None:
        print("    the selector did not create its children in time")
        return 1
    children = selector_children(items, selector) or []
    print(f"    {len(children)} ProtectedVM children, named <selector>-<vm>-<hash>, each owned by the selector")

    taken = {str(o["spec"]["vm"]).lower() for o in items if o["kind"] == "ProtectedVM"}
    fleet = fleet_manifests(names["BackupVault"], taken, vms)
    step(f"asking for protection of the other {len(fleet)} VMs of the fleet, one ProtectedVM each")
    plane.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=yaml.safe_dump_all(fleet))

    step("waiting for every object to settle (the checks run before anything is written to Azure; "
         f"OnDemandBackup {names['OnDemandBackup']} waits until its VM is protected, then backs it up)")
    if wait(plane, operator, started, timeout, lambda got: bool(got) and all(
            settled(o) and ready_of(o) for o in got)) is None:
        print("    not every object settled in time; the table shows where each one is")
    writes = emulator.admin("GET", "counters")
    print(f"    configure-protection PUTs sent to Azure: {_count(writes, 'ProtectedItems_CreateOrUpdate')} "
          "(none for a blocked VM)")

    broken = next((o for o in objects(plane) if o["kind"] == "ProtectedVM"
                   and ready_of(o).get("reason") == "VMAgentNotReady"), None)
    if broken is not None:
        vm = vm_ref(str(broken["spec"]["vm"]))
        step(f"fixing {vm[2]}: its VM agent reports Ready again (the emulator's admin API stands in for the VM's "
             "owner); no change to Kubernetes")
        emulator.admin("PATCH", f"vms/{vm[0]}/{vm[1]}/{vm[2]}", {"agent": {"status": "Ready"}})
        name = broken["metadata"]["name"]
        fixed = wait(plane, operator, started, timeout, lambda got: any(
            o["metadata"]["name"] == name and o["kind"] == "ProtectedVM" and ready_of(o).get("status") == "True"
            for o in got))
        print(f"    ProtectedVM {name} is " + ("Ready: protected on the next pass, unaided" if fixed else
                                                "not Ready yet"))

    step("result")
    print(table(objects(plane)))
    print("\nA Failed check names the limitation of the guide, or the prerequisite Azure added since, that blocks "
          "the VM;\nnothing was written to Azure for it. Fix the VM (or exclude the disk, or use an Enhanced "
          "policy) and the\nnext pass protects it without any action. Warnings never block.")
    if not demo_mua.chapter(plane, emulator, NAMESPACE, names["BackupVault"], timeout, step):
        return 1
    return drill(plane, emulator, root, timeout)


def drill(plane: control_plane.ControlPlane, emulator: EmulatorAdmin, root: Path, timeout: float) -> int:
    """The restore drill: a run on a one-minute schedule, its restored VM running, its evidence, its clean-up."""
    doc = yaml.safe_load((root / "examples" / "restore" / "restoredrill.yaml").read_text())
    doc["spec"].update(schedule="* * * * *", timeZone="UTC", cleanup="Always")
    name, group = doc["metadata"]["name"], doc["spec"]["target"]["resourceGroup"]
    before = {vm["name"] for vm in emulator.admin("GET", "vms")["vms"] if vm["resourceGroup"] == group}
    step(f"a restore drill: RestoreDrill {name} restores {', '.join(doc['spec']['targets']['names'])} into the "
         f"isolated resource group {group} (vnet-drill, no public IP) at the next minute")
    plane.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=yaml.safe_dump(doc))
    deadline, shown = time.monotonic() + timeout, False
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if not shown:
            for vm in emulator.admin("GET", "vms")["vms"]:
                if vm["resourceGroup"] == group and vm["name"] not in before:
                    print(f"    restored VM {vm['name']} in {group}: PowerState/{vm['powerState']}, "
                          f"VM agent {vm['agent']}", flush=True)
                    shown = True
        out = plane.kubectl("get", "restoredrill", name, "-n", NAMESPACE, "-o", "json")
        status = json.loads(out.stdout).get("status") or {}
        if status.get("runs"):
            break
        time.sleep(0.5)
    else:
        print("    the drill did not finish a run in time")
        return 1
    run = status["runs"][0]
    if not shown:
        # A fast drill restores, checks and deletes its VM between two looks of this loop: say what the drill
        # itself saw, which is what it passes on (the VM running with its agent Ready).
        for target in run.get("targets") or ():
            if target.get("result") == "Passed" and target.get("vmName"):
                print(f"    restored VM {target['vmName']} in {group}: PowerState/running, VM agent Ready (the "
                      "drill's own check; its clean-up deleted the VM before the demo looked)", flush=True)
    for target in run.get("targets") or ():
        print(f"    {target['protectedVM']}: {target.get('result')}: recovery point {target.get('recoveryPoint')} "
              f"taken {target.get('recoveryPointTime')}; {target.get('message')}")
    print(f"    run {run['id']} {run['result']}: achieved RPO {run.get('achievedRPO')} (the restored point's age), "
          f"achieved RTO {run.get('achievedRTO')} (restore job + boot)")
    after = {vm["name"] for vm in emulator.admin("GET", "vms")["vms"] if vm["resourceGroup"] == group}
    cleaned = all(t.get("cleanedUp") for t in run.get("targets") or ())
    print(f"    clean-up: {'the VM, its NIC and disks deleted' if cleaned else 'not complete'}; {group} holds "
          f"{len(after)} VMs, as before the drill ({len(before)})")
    print(plane.kubectl("get", "restoredrill", name, "-n", NAMESPACE).stdout.rstrip())
    return 0 if run["result"] == "Passed" and cleaned and after == before else 1


def _count(counters: dict[str, Any], operation: str) -> int:
    return int(((counters.get("operations") or {}).get(operation) or {}).get("total", 0))


def vm_ref(vm_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, name) of a VM resource id."""
    parts = vm_id.strip("/").split("/")
    return parts[1], parts[3], parts[7]


def main(keep: bool = False, timeout: float = 240.0) -> int:
    root = control_plane.repo_root()
    if root is None:
        print("azbackup demo runs from a checkout of the repository (it needs hack/, crds/ and examples/)")
        return 2
    started = time.monotonic()
    with children.run("azbackup-demo-", keep=keep) as run:
        code = _story_locally(root, run.workdir, started, timeout)
        if keep:
            print(f"work directory kept: {run.workdir}")
    step(f"done in {time.monotonic() - started:.0f}s; everything stopped")
    return code


def _story_locally(root: Path, workdir: Path, started: float, timeout: float) -> int:
    step("building or finding the pinned control-plane binaries (hack/build-tools.sh)")
    bin_dir = control_plane.tool_dir()
    step("starting etcd, kube-apiserver and kube-controller-manager on loopback")
    emulator = operator = None
    code = 1
    with control_plane.running(workdir / "control-plane", bin_dir=bin_dir) as plane:
        try:
            plane.kubectl("apply", "-f", str(root / "crds"))
            plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
            plane.kubectl("create", "namespace", NAMESPACE)
            step("starting the Azure emulator with the sample fleet (no Azure account needed)")
            emulator = stack.start_emulator(workdir / "emulator")
            count = len(emulator.admin("GET", "vms")["vms"])
            print(f"    {emulator.url}: {count} VMs, one per limitation of Azure's guide plus healthy ones")
            step("starting the operator (azbackup run) against the emulator")
            operator = stack.start_operator(plane.kubeconfig, emulator, workdir / "operator.log", OPERATOR_FLAGS)
            code = story(plane, emulator, operator, root, started, timeout)
        except RuntimeError as exc:
            print(f"{exc}; the end of the operator's log (--keep keeps the whole work directory):\n"
                  f"{stack.log_tail(workdir / 'operator.log')}")
        finally:
            if operator is not None:
                stack.stop(operator)
            if emulator is not None:
                emulator.stop()
    return code


class _OperatorPods:
    """The chart's operator pod(s), seen as the process `wait` polls: None while one runs."""

    def __init__(self, plane: control_plane.ControlPlane, namespace: str) -> None:
        self.plane, self.namespace = plane, namespace

    def poll(self) -> int | None:
        out = self.plane.kubectl("get", "pods", "-n", self.namespace, "-o", "json", check=False)
        pods = json.loads(out.stdout)["items"] if out.returncode == 0 else []
        return None if any(p.get("status", {}).get("phase") in ("Pending", "Running") for p in pods) else 1


def main_in_cluster(keep: bool = False, timeout: float = 300.0) -> int:
    """The same story with the operator as a pod: the image built from the Dockerfile, `helm install`ed
    onto a real node (kubelet + containerd on this machine), and the emulator as a pod beside it."""
    from azbackup.devtools import cluster

    root = control_plane.repo_root()
    if root is None:
        print("azbackup demo --in-cluster runs from a checkout of the repository (it needs hack/ and charts/)")
        return 2
    started = time.monotonic()
    cluster.cleanup_stale()  # before the run is recorded: a killed run's directory is only removable once unmounted
    with children.run("azbackup-demo-", keep=keep) as run:
        step("building or finding the control plane, kubelet, containerd, runc and the operator image "
             "(hack/build-tools.sh, hack/build-node-tools.sh, hack/build-images.sh: buildah, no Docker)")
        code = _story_in_cluster(root, run.workdir, cluster.build(), keep, started, timeout)
    step(f"done in {time.monotonic() - started:.0f}s; everything stopped and cleaned up")
    return code


def _story_in_cluster(root: Path, workdir: Path, tools: cluster.Tools, keep: bool, started: float,
                      timeout: float) -> int:
    from azbackup.devtools import cluster, incluster

    step("starting the control plane (with a scheduler) and a real node: kubelet + containerd, pods on a "
         "private bridge with no route out")
    with cluster.running(workdir / "cluster", keep=keep, tools=tools) as c:
        print(f"    node {c.node.name} Ready; image {c.images.image}")
        step("starting the Azure emulator as a pod, from the operator's image, with the sample fleet")
        emulator = incluster.deploy_emulator(c, "azure-emulator", workdir / "emulator")
        count = len(emulator.admin("GET", "vms")["vms"])
        print(f"    {emulator.url}: {count} VMs, one per limitation of Azure's guide plus healthy ones")
        step("helm install charts/azbackup-operator with the local image: the operator runs as a pod")
        release_ns = "azbackup-system"
        c.kubectl("create", "namespace", NAMESPACE)
        incluster.ca_configmap(c, release_ns, emulator)
        values = incluster.chart_values(c, emulator, watchNamespaces=[NAMESPACE], extraArgs=[
            "--sync-period=10", "--poll-interval=1", "--retry-scale=0.05"])
        incluster.install_chart(incluster.Helm(c, workdir / "helm"), root / "charts" / "azbackup-operator",
                                "azbackup", release_ns, values)
        pods = c.kubectl("get", "pods", "-n", release_ns, "-o", "wide").stdout
        print("    " + pods.replace("\n", "\n    ").rstrip())
        code = story(c.plane, emulator, _OperatorPods(c.plane, release_ns), root, started, timeout)
        print(f"\nThe operator's log: kubectl -n {release_ns} logs deploy/azbackup-azbackup-operator")
        if keep:
            print(f"work directory kept: {workdir}; export KUBECONFIG={c.plane.kubeconfig}")
    return code
