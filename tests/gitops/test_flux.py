"""Flux applies this repository's manifests from git, as a platform team runs it: a GitRepository and two
Kustomizations (examples/gitops/flux/), kstatus health over our conditions, drift, prune, suspend.

The scenarios share one setup (tests/gitops/conftest.py) and run in file order: each starts from the
state the one before it left, as a fleet repository's history does. Timings are printed, never asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from azure.core.exceptions import ResourceNotFoundError

from tests.gitops.conftest import (
    BACKUPS,
    FLEET_NAMESPACE,
    GIT_REPOSITORY,
    INFRASTRUCTURE,
    Setup,
    fleet_files,
    flux_objects,
)
from tests.integration.harness import SUB, Arm, eventually, protected_vm, vm_id

pytestmark = pytest.mark.timeout(900)
# The steady-state window: several Flux intervals (30 s) in the suite; AZBACKUP_GITOPS_STEADY_SECONDS=600
# measures the 10 minutes (README "GitOps with Flux").
STEADY_SECONDS = float(os.environ.get("AZBACKUP_GITOPS_STEADY_SECONDS", "120"))
SELECTOR = "backups/vmbackupselector.yaml"
POLICY = "backups/backuppolicy.yaml"
OVERLAY = "backups/kustomization.yaml"
BLOCKED_VM = "backups/agent-down.yaml"
WRITES = ("CreateOrUpdate", "Update", "Delete", "Trigger", "Refresh", "Inquire", "Patch")


@pytest.fixture(scope="module")
def arm(gitops: Setup) -> Iterator[Arm]:
    client = Arm(gitops.emulator)
    yield client
    client.close()


def show(gitops: Setup) -> str:
    """What `kubectl get gitrepository,kustomization -n flux-system` prints."""
    return gitops.plane.kubectl("get", "-n", "flux-system", "gitrepositories,kustomizations").stdout


def writes(gitops: Setup) -> dict[str, int]:
    """The emulator's answered write requests by operation."""
    ops = gitops.emulator.admin.counters()["operations"]
    return {op: int(v["total"]) for op, v in ops.items() if any(w in op for w in WRITES)}


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def our_objects(gitops: Setup) -> list[dict[str, Any]]:
    out = gitops.fleet.kubectl("get", "backupvaults,backuppolicies,protectedvms,vmbackupselectors,ondemandbackups",
                               "-o", "json")
    return list(json.loads(out.stdout)["items"])


def ready(obj: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or ())


def policy_daily_count(arm: Arm) -> int | None:
    try:
        found = arm.backup.protection_policies.get("vault-weu", "rg-backup", "enhanced-4h").as_dict()
    except ResourceNotFoundError:  # until the operator creates it
        return None
    daily = (found.get("properties") or {}).get("retentionPolicy", {}).get("dailySchedule") or {}
    return int(daily.get("retentionDuration", {}).get("count", 0)) or None


def set_daily_count(count: int) -> Any:
    def change(doc: dict[str, Any]) -> None:
        doc["spec"]["retention"]["daily"]["count"] = count
    return change


def test_1_bootstrap_from_git(gitops: Setup) -> None:
    started = time.monotonic()
    revision = gitops.commit("azbackup fleet", fleet_files())
    # What `flux bootstrap` leaves in the cluster: the GitRepository and the two Kustomizations.
    gitops.plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(flux_objects(gitops.git.url)))
    infra = gitops.flux.wait_ready("kustomization", INFRASTRUCTURE, revision=revision, timeout=180)
    backups = gitops.flux.wait_ready("kustomization", BACKUPS, revision=revision, timeout=300)
    took = time.monotonic() - started
    print(f"\n[gitops] commit-to-Ready (both Kustomizations, every object healthy): {took:.1f}s\n{show(gitops)}")
    assert backups["lastAppliedRevision"] == infra["lastAppliedRevision"] == f"main@sha1:{revision}"
    objects = our_objects(gitops)
    kinds = {o["kind"] for o in objects}
    assert kinds == {"BackupVault", "BackupPolicy", "ProtectedVM", "VMBackupSelector", "OnDemandBackup"}
    not_ready = [f"{o['kind']}/{o['metadata']['name']}: {(o.get('status') or {}).get('conditions')}"
                 for o in objects if not ready(o)]
    assert not_ready == []
    # dependsOn held: every backup object was created once infrastructure was Ready (RFC 3339, same zone).
    assert min(o["metadata"]["creationTimestamp"] for o in objects) >= infra["lastTransitionTime"]


def test_2_blocked_vm_fails_the_health_check_and_a_fix_in_azure_turns_it_ready(gitops: Setup) -> None:
    doc = protected_vm("agent-down", "vault-weu", vm_id("rg-apps", "vm-agent-down"), onDelete="DeleteData",
                       policyRef={"name": "enhanced-4h"})
    overlay = yaml.safe_load(gitops.git.read(OVERLAY))
    overlay["resources"].append("agent-down.yaml")
    revision = gitops.commit("protect vm-agent-down", {BLOCKED_VM: yaml.safe_dump(doc, sort_keys=False),
                                                       OVERLAY: yaml.safe_dump(overlay, sort_keys=False)})
    gitops.flux.request_reconcile("gitrepository", GIT_REPOSITORY)
    failed = gitops.flux.wait_ready("kustomization", BACKUPS, status="False", revision=revision, timeout=240)
    vm = gitops.fleet.condition("protectedvm", "agent-down") or {}
    print(f"\n[gitops] a blocked VM, as a Flux user sees it:\n{show(gitops)}"
          f"$ kubectl get protectedvm agent-down -n {FLEET_NAMESPACE}\n"
          f"{gitops.fleet.kubectl('get', 'protectedvm', 'agent-down').stdout}"
          f"Ready: {vm.get('reason')}: {vm.get('message')}")
    assert failed["reason"] == "HealthCheckFailed"
    # Flux names the object and its kstatus verdict (fluxcd/pkg/ssa formats no condition message); the
    # object's own Ready condition carries our reason.
    assert f"ProtectedVM/{FLEET_NAMESPACE}/agent-down status: 'Failed'" in failed["message"]
    assert vm.get("reason") == "VMAgentNotReady"
    assert any(e["reason"] == "HealthCheckFailed" for e in gitops.flux.events(BACKUPS))

    gitops.emulator.admin.update_vm(SUB, "rg-apps", "vm-agent-down", {"agent": {"status": "Ready"}})
    fixed = gitops.flux.wait_ready("kustomization", BACKUPS, revision=revision, timeout=180)
    assert fixed["lastAppliedRevision"] == f"main@sha1:{revision}"  # no commit: the same revision, now healthy
    assert gitops.git.git("rev-parse", "HEAD", cwd=gitops.git.work) == revision


def test_3_a_change_in_git_reaches_azure_once(gitops: Setup, arm: Arm) -> None:
    # Settle first: the writes counted below are the ones this commit needs, nothing left from before.
    eventually(lambda: policy_daily_count(arm) == 30, timeout=60, what="the policy as examples/ declares it")
    before = writes(gitops)

    def selector(doc: dict[str, Any]) -> None:
        doc["spec"]["matchExpressions"][0]["values"].append("dev")

    overlay = yaml.safe_load(gitops.git.read(OVERLAY))
    # env=dev in the selector's groups brings vm-stopped (protectable, a warning) and vm-coreos (UnsupportedOS,
    # excluded like the other blocked VMs of the sample fleet).
    overlay["patches"][0]["patch"] = overlay["patches"][0]["patch"].replace("vm-api-01,", "vm-api-01, vm-coreos,")
    started = time.monotonic()
    gitops.commit("daily retention 45 days; env=dev joins the selector", {
        POLICY: gitops.edit(POLICY, set_daily_count(45)), SELECTOR: gitops.edit(SELECTOR, selector),
        OVERLAY: yaml.safe_dump(overlay, sort_keys=False)})
    latencies = [eventually(lambda: policy_daily_count(arm) == 45 and time.monotonic() - started, timeout=150,
                            what="the retention change in Azure")]
    item = eventually(lambda: arm.item("rg-backup", "vault-weu", "rg-apps", "vm-stopped"), timeout=120,
                      what="vm-stopped protected")
    assert item["properties"]["policyName"] == "enhanced-4h"
    gitops.flux.wait_ready("kustomization", BACKUPS, timeout=120)
    time.sleep(5)  # the operator's next passes must add nothing; a later write would show in the count
    assert delta(writes(gitops), before) == {"ProtectionPolicies_CreateOrUpdate": 1,
                                             "ProtectedItems_CreateOrUpdate": 1}

    # More commits of the retention alone, for the latency figure (Flux's interval 30 s, no reconcile request).
    for count in (60, 75):
        started = time.monotonic()
        gitops.commit(f"daily retention {count} days", {POLICY: gitops.edit(POLICY, set_daily_count(count))})
        latencies.append(eventually(lambda c=count, s=started: policy_daily_count(arm) == c and time.monotonic() - s,
                                    timeout=150, what=f"retention {count} in Azure"))
    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18]
    print(f"\n[gitops] commit-to-Azure seconds: {[round(x, 1) for x in latencies]}, p95 {p95:.1f}s")


def test_4_a_hand_edit_is_reverted_and_flux_and_the_operator_never_fight(gitops: Setup) -> None:
    gitops.flux.wait_ready("kustomization", BACKUPS, timeout=120)
    # `kubectl edit protectedvm web-01`: onDelete RetainData -> DeleteData.
    gitops.fleet.patch("protectedvm", "web-01", {"spec": {"onDelete": "DeleteData"}})
    assert gitops.fleet.get("protectedvm", "web-01")["spec"]["onDelete"] == "DeleteData"  # type: ignore[index]
    eventually(lambda: gitops.fleet.get("protectedvm", "web-01")["spec"]["onDelete"] == "RetainData",  # type: ignore[index]
               timeout=90, what="Flux reverting the hand edit")
    gitops.flux.wait_ready("kustomization", BACKUPS, timeout=120)
    for obj in our_objects(gitops):
        eventually(lambda o=obj: ready(gitops.fleet.get(o["kind"].lower(), o["metadata"]["name"]) or {}),
                   timeout=60, what=f"{obj['kind']}/{obj['metadata']['name']} Ready")

    time.sleep(10)  # the last status write of the edit's round trip lands before the window opens
    kube_before, azure_before = gitops.resource_versions(), writes(gitops)
    finished_before = reconciliations(gitops)
    time.sleep(STEADY_SECONDS)
    kube_after, azure_after = gitops.resource_versions(), writes(gitops)
    ran = reconciliations(gitops) - finished_before
    changed = sorted(k for k in kube_after if kube_before.get(k) != kube_after[k])
    print(f"\n[gitops] steady state over {STEADY_SECONDS:.0f}s: {ran} Flux reconciliations of {BACKUPS}, "
          f"{len(changed)} kube writes to our objects or Events, Azure writes {delta(azure_after, azure_before)}")
    # Every 30 s after the previous run finished (and Flux's jitter): at least one a minute, whatever the load.
    assert ran >= int(STEADY_SECONDS // 60)
    assert changed == []
    assert delta(azure_after, azure_before) == {}


def reconciliations(gitops: Setup) -> int:
    """kustomize-controller's finished reconciliations of the backups Kustomization (its JSON log)."""
    return sum(1 for line in gitops.flux.logs("kustomize-controller")
               if line.get("name") == BACKUPS and "Reconciliation finished" in str(line.get("msg")))


def test_5_a_protectedvm_removed_from_git_is_pruned_and_its_on_delete_honoured(gitops: Setup, arm: Arm) -> None:
    assert gitops.fleet.get("protectedvm", "agent-down") is not None
    overlay = yaml.safe_load(gitops.git.read(OVERLAY))
    overlay["resources"].remove("agent-down.yaml")
    since = time.time()
    revision = gitops.commit("stop protecting vm-agent-down, delete its data",
                             {BLOCKED_VM: None, OVERLAY: yaml.safe_dump(overlay, sort_keys=False)})
    gitops.flux.request_reconcile("gitrepository", GIT_REPOSITORY)
    gitops.fleet.wait_gone("protectedvm", "agent-down", timeout=180)
    gitops.flux.wait_ready("kustomization", BACKUPS, revision=revision, timeout=120)
    # onDelete: DeleteData, in a vault that examples/ makes immutable (Unlocked): Azure refuses to delete
    # backup data before it expires, so the operator suspends the item's backups instead of sending a delete
    # Azure would refuse, and says what Azure keeps in an Event, which outlives the object.
    writes = gitops.emulator.admin.request("GET", f"writes?since={since}")["writes"]
    item_path = "/protecteditems/vm;iaasvmcontainerv2;rg-apps;vm-agent-down"
    assert [w["method"] for w in writes if w["path"].lower().endswith(item_path)] == ["PUT"]
    props = (arm.item("rg-backup", "vault-weu", "rg-apps", "vm-agent-down") or {}).get("properties") or {}
    assert props.get("protectionState") == "BackupsSuspended"
    events = gitops.fleet.events("agent-down")
    assert any(e.get("reason") == "KeptByImmutability" or "KeptByImmutability" in str(e.get("message"))
               for e in events), events


def test_6_suspend_resume_and_deleting_the_kustomization(gitops: Setup, arm: Arm) -> None:
    gitops.plane.kubectl("-n", "flux-system", "patch", "kustomization", BACKUPS, "--type=merge",
                         "-p", '{"spec":{"suspend":true}}')  # `flux suspend kustomization`
    revision = gitops.commit("daily retention 90 days", {POLICY: gitops.edit(POLICY, set_daily_count(90))})
    gitops.flux.request_reconcile("gitrepository", GIT_REPOSITORY)
    eventually(lambda: revision in gitops.flux.get("gitrepository", GIT_REPOSITORY)["status"]["artifact"]["revision"],
               timeout=60, what="the source at the new revision")
    time.sleep(35)  # more than the Kustomization's interval: a suspended one applies nothing
    assert policy_daily_count(arm) == 75
    assert gitops.flux.ready("kustomization", BACKUPS)["lastAppliedRevision"] != f"main@sha1:{revision}"

    gitops.plane.kubectl("-n", "flux-system", "patch", "kustomization", BACKUPS, "--type=merge",
                         "-p", '{"spec":{"suspend":false}}')  # `flux resume kustomization`
    gitops.flux.request_reconcile("kustomization", BACKUPS)
    gitops.flux.wait_ready("kustomization", BACKUPS, revision=revision, timeout=180)
    eventually(lambda: policy_daily_count(arm) == 90, timeout=60, what="the retention after resume")

    # Deleting the Kustomization prunes what it applied; Azure keeps what the specs say to keep.
    protected = {(o["spec"]["vm"].split("/")[4], o["spec"]["vm"].rsplit("/", 1)[-1]) for o in our_objects(gitops)
                 if o["kind"] == "ProtectedVM" and ready(o)}
    gitops.plane.kubectl("-n", "flux-system", "delete", "kustomization", BACKUPS, "--timeout=180s")
    eventually(lambda: not our_objects(gitops), timeout=180, what="every backup object pruned")
    assert "vault-weu" in arm.vault_names("rg-backup")  # deletionPolicy: Retain
    assert policy_daily_count(arm) == 90
    for rg, name in protected:
        props = (arm.item("rg-backup", "vault-weu", rg, name) or {}).get("properties") or {}
        # onDelete: RetainData (examples/ and the selector's template): protection stopped, points kept.
        assert props.get("protectionState") == "ProtectionStopped", (name, props.get("protectionState"))
        assert not props.get("isScheduledForDeferredDelete"), name

