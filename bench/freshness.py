"""The freshness phase of `bench.fleet`: how soon a change made outside the operator is acted on.

The operator runs with its default one-hour full pass, so everything measured here reaches it through
the change feed (the subscription's Activity Log, read every `--change-feed-interval`), with the
emulator making each entry visible only `--feed-delay` seconds after the change (Azure's own lag):
- new VMs: VMs created with a selector's tag, and the time until each one's ProtectedVM is Ready;
- drift: protected items moved to another policy, and policies edited, in Azure behind the operator's
  back, and the time until each is put back;
- steady: Azure reads per ProtectedVM-hour with the feed on, over a quiet window.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from azbackup.devtools import control_plane, stack
from azure_emulator.admin import AdminClient

SELECTOR = "fresh"
POLICY = "bench-daily"
TAG = {"bench-fresh": "yes"}


def summary(latencies: list[float]) -> dict[str, float | int]:
    """Median, p95 and max of a set of latencies (seconds)."""
    if not latencies:
        return {"count": 0}
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"count": len(ordered), "median": round(statistics.median(ordered), 1), "p95": round(p95, 1),
            "max": round(ordered[-1], 1)}


class Azure:
    """The portal user's side: the SDK against the emulator, as another person changing things."""

    def __init__(self, emulator: stack.Emulator, subscription: str) -> None:
        from azure.identity import ClientSecretCredential
        from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient

        self.credential = ClientSecretCredential(stack.EMULATOR_TENANT, stack.EMULATOR_CLIENT_ID,
                                                 stack.EMULATOR_SECRET, authority=emulator.url,
                                                 disable_instance_discovery=True, connection_verify=emulator.ca_bundle)
        self.backup = RecoveryServicesBackupClient(
            self.credential, subscription, base_url=emulator.url, credential_scopes=[f"{emulator.url}/.default"],
            connection_verify=emulator.ca_bundle, polling_interval=0.5)
        self.subscription = subscription

    def vault_id(self, vault: str) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/rg-backup/providers/"
                f"Microsoft.RecoveryServices/vaults/{vault}")

    def item_policy(self, vault: str, rg: str, vm: str) -> str:
        item = self.backup.protected_items.get(vault, "rg-backup", "Azure",
                                               f"IaasVMContainer;iaasvmcontainerv2;{rg};{vm}",
                                               f"VM;iaasvmcontainerv2;{rg};{vm}").as_dict()
        return str(item["properties"].get("policyName") or "")

    def move_item(self, vault: str, rg: str, vm: str, policy: str) -> None:
        vm_id = (f"/subscriptions/{self.subscription}/resourceGroups/{rg}/providers/Microsoft.Compute/"
                 f"virtualMachines/{vm}")
        body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines", "sourceResourceId": vm_id,
                               "policyId": f"{self.vault_id(vault)}/backupPolicies/{policy}"}}
        self.backup.protected_items.begin_create_or_update(
            vault, "rg-backup", "Azure", f"IaasVMContainer;iaasvmcontainerv2;{rg};{vm}",
            f"VM;iaasvmcontainerv2;{rg};{vm}", body).result()

    def retention(self, vault: str) -> int:
        body = self.backup.protection_policies.get(vault, "rg-backup", POLICY).as_dict()
        return int(body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"])

    def edit_retention(self, vault: str, count: int) -> None:
        body = self.backup.protection_policies.get(vault, "rg-backup", POLICY).as_dict()
        body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = count
        # the properties only, as the portal sends them (id, name and type are read-only)
        self.backup.protection_policies.create_or_update(vault, "rg-backup", POLICY, {"properties": body["properties"]})

    def close(self) -> None:
        self.backup.close()
        self.credential.close()


def wait_all(pending: dict[str, float], done: Callable[[str], bool], timeout: float, what: str,
             every: float = 3.0) -> dict[str, float]:
    """Seconds from each key's start time until `done(key)`; keys still pending at the timeout are missing."""
    finished: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key in list(pending):
            if done(key):
                finished[key] = time.monotonic() - pending.pop(key)
        print(f"  freshness {what}: {len(finished)} done, {len(pending)} waiting", file=sys.stderr, flush=True)
        if pending:
            time.sleep(every)
    return finished


def policy_manifests(vaults: int) -> list[dict[str, Any]]:
    return [{"apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupPolicy", "metadata": {"name": f"{POLICY}-{v}"},
             "spec": {"vaultRef": {"name": f"vault-{v}"}, "policyName": POLICY, "policyType": "Standard",
                      "schedule": {"frequency": "Daily", "time": "21:00"}, "retention": {"daily": {"count": 30}}}}
            for v in range(vaults)]


def selector_manifest() -> dict[str, Any]:
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "VMBackupSelector", "metadata": {"name": SELECTOR},
            "spec": {"vaultRef": {"name": "vault-0"}, "matchTags": dict(TAG)}}


def children_ready(plane: control_plane.ControlPlane, namespace: str) -> set[str]:
    out = plane.kubectl("get", "protectedvms", "-n", namespace, "-l", f"azbackup.dev/selector={SELECTOR}",
                        "-o", "json", timeout=120).stdout
    ready = set()
    for item in json.loads(out)["items"]:
        conditions = (item.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            ready.add(str(item["spec"]["vm"]).rsplit("/", 1)[-1])
    return ready


def run(plane: control_plane.ControlPlane, emulator: stack.Emulator, admin: AdminClient, namespace: str,
        subscription: str, vms: int, vaults: int, reads_per_hour_of_passes: float, *, new_vms: int = 20,
        moved_items: int = 20, edited_policies: int = 5, quiet: float = 300.0, settle: float = 420.0,
        apply: Callable[[list[dict[str, Any]]], None], timeout: float = 900.0) -> dict[str, Any]:
    """The three measurements, with the operator already running at its default full-pass period."""
    result: dict[str, Any] = {}
    azure = Azure(emulator, subscription)
    try:
        # Set-up, outside the measurement: the policies the drift step moves items to and edits, and a
        # selector that matches no VM yet.
        apply([*policy_manifests(vaults), selector_manifest()])
        wait_all({f"{POLICY}-{v}": time.monotonic() for v in range(min(vaults, edited_policies))},
                 lambda name: _ready(plane, namespace, "backuppolicy", name), timeout, "policies Ready")
        # -- (a) new VMs, tagged for the selector -------------------------------------------------
        admin.reset_counters()
        created: dict[str, float] = {}
        for i in range(new_vms):
            name = f"vm-fresh-{i:03d}"
            admin.add_vm({"name": name, "resourceGroup": f"rg-{i % 10:03d}", "tags": dict(TAG)},
                         subscription=subscription)
            created[name] = time.monotonic()
        ready: set[str] = set()

        def protected(name: str) -> bool:
            if name not in ready:
                ready.update(children_ready(plane, namespace))
            return name in ready

        protected_in = wait_all(created, protected, timeout, "new VMs protected", every=2.0)
        calls = admin.counters()
        result["newVms"] = {**summary(list(protected_in.values())), "created": new_vms,
                            "azureWrites": calls["kinds"]["write"], "throttled": calls["throttled"]}
        # -- (b) drift made behind the operator's back --------------------------------------------
        admin.reset_counters()
        moved: dict[str, float] = {}
        for i in range(moved_items):
            vault, rg, vm = f"vault-{i % vaults}", f"rg-{i % 10:03d}", f"vm-{i:05d}"
            azure.move_item(vault, rg, vm, POLICY)
            moved[f"{vault}|{rg}|{vm}"] = time.monotonic()
        edited: dict[str, float] = {}
        for v in range(min(vaults, edited_policies)):
            azure.edit_retention(f"vault-{v}", 7)
            edited[f"vault-{v}"] = time.monotonic()
        writes_by_us = changed = moved_items + len(edited)  # (wait_all empties the dicts it waits on)
        items_back = wait_all(moved, lambda key: azure.item_policy(*key.split("|")) == "DefaultPolicy", timeout,
                              "items put back on their policy")
        policies_back = wait_all(edited, lambda vault: azure.retention(vault) == 30, timeout, "policies put back")
        calls = admin.counters()
        result["drift"] = {**summary([*items_back.values(), *policies_back.values()]),
                           "items": summary(list(items_back.values())),
                           "policies": summary(list(policies_back.values())),
                           "changed": changed,
                           # every correction is one write; anything more would be an echo
                           "operatorWrites": calls["kinds"]["write"] - writes_by_us,
                           "corrections": len(items_back) + len(policies_back), "throttled": calls["throttled"]}
        # -- (c) steady reads with the feed on ----------------------------------------------------
        # Steady means nothing changed within the feed's reach: the corrections' own entries come back and
        # are ignored, and each read returns every entry of its range (at least 5 minutes back), so the
        # burst above costs extra pages until it is out of reach (the feed's delay and interval later).
        time.sleep(settle)
        admin.reset_counters()
        time.sleep(quiet)
        calls = admin.counters()
        feed_reads = calls["operations"].get("ActivityLogs_List", {}).get("total", 0)
        other_reads = calls["kinds"]["read"] - feed_reads
        per_hour = (calls["kinds"]["read"]) * 3600 / quiet + reads_per_hour_of_passes
        result["steady"] = {
            "windowSeconds": quiet, "feedReads": feed_reads, "otherReads": other_reads,
            "azureWrites": calls["kinds"]["write"] + calls["kinds"]["delete"], "throttled": calls["throttled"],
            "readsPerProtectedVMHourWithFeed": round(per_hour / vms, 4),
            "readsPerProtectedVMHourWithoutFeed": round(reads_per_hour_of_passes / vms, 4),
        }
    finally:
        azure.close()
    return result


def _ready(plane: control_plane.ControlPlane, namespace: str, kind: str, name: str) -> bool:
    out = plane.kubectl("get", kind, name, "-n", namespace, "-o",
                        'jsonpath={.status.conditions[?(@.type=="Ready")].status}', check=False).stdout
    return out.strip() == "True"


def rows(result: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    new, drift, steady = result["newVms"], result["drift"], result["steady"]
    return [
        ("freshness", f"new tagged VMs protected: median / p95 / max s (target p95 <= 180; {new['count']} of "
                      f"{new['created']})", f"{new.get('median')} / {new.get('p95')} / {new.get('max')}"),
        ("freshness", f"portal drift corrected: median / p95 / max s (target p95 <= 180; {drift['corrections']} "
                      f"of {drift['changed']})", f"{drift.get('median')} / {drift.get('p95')} / {drift.get('max')}"),
        ("freshness", "writes beyond one per correction / throttled (target 0 / 0)",
         f"{drift['operatorWrites'] - drift['corrections']} / {new['throttled'] + drift['throttled']}"),
        ("freshness", "steady reads per ProtectedVM-hour with the feed (target <= 0.1)",
         f"{steady['readsPerProtectedVMHourWithFeed']}"),
        ("freshness", "... without the feed (full passes only)", f"{steady['readsPerProtectedVMHourWithoutFeed']}"),
    ]
