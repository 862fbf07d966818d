"""The chart with `replicas: 3` and `sharding.enabled` on the real node, one pod deleted.

A lighter version of tests/integration/test_shards.py: the emulator pod holds the sample fleet's one
subscription, so there are two shards (it and `unplaced`) over three pods. What it shows that the
control-plane tests cannot: the StatefulSet's pod names become the replicas' identities, the chart's
Lease Role suffices, and a deleted pod's shard is held by another pod at once while the StatefulSet
brings the pod back under the same name.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from azbackup.devtools import cluster, incluster

from tests.integration.harness import SUB, Cluster, eventually, protected_vm, vault, vm_id
from tests.realnode.conftest import Release, denied_lines
from tests.realnode.test_chart_on_node import PodOperator, ready_pods

pytestmark = pytest.mark.timeout(1800)

LEASE = 6
UA = "azbackup-replica/"


def holders(release: Release) -> dict[str, str | None]:
    """Shard -> the pod its Lease names, if the Lease is live."""
    out = release.cluster.kubectl("get", "leases", "-n", release.namespace, "-o", "json",
                                  "-l", "azbackup.dev/lease-role=shard")
    found: dict[str, str | None] = {}
    for lease in json.loads(out.stdout)["items"]:
        spec = lease.get("spec") or {}
        renewed = spec.get("renewTime")
        live = bool(renewed) and dt.datetime.fromisoformat(renewed.replace("Z", "+00:00")).timestamp() \
            + spec["leaseDurationSeconds"] > time.time()
        found[lease["metadata"]["annotations"]["azbackup.dev/shard"]] = spec.get("holderIdentity") if live else None
    return found


def replica_writes(emulator: incluster.PodEmulator, since: float) -> list[dict[str, Any]]:
    out = []
    for entry in emulator.admin("GET", f"writes?since={since}")["writes"]:
        agent = str(entry["userAgent"]).split(" ", 1)[0]
        if agent.startswith(UA):
            out.append({**entry, "replica": agent[len(UA):]})
    return out


def test_three_sharing_replicas_one_pod_deleted(install: Any, real_cluster: cluster.Cluster,
                                                emulator_pod: incluster.PodEmulator) -> None:
    since = time.time()
    release: Release = install(replicas=3, sharding={"enabled": True, "leaseDuration": LEASE})
    print(f"\n[real-node] helm install --wait, replicas 3 sharing: {release.install_seconds:.0f}s")
    pods = {p["metadata"]["name"] for p in ready_pods(release)}
    assert len(pods) == 3
    objects = Cluster(real_cluster.plane, release.watched)
    operator = PodOperator(release)
    objects.apply(vault("vault-s"), protected_vm("dev", "vault-s", vm_id("rg-dev", "vm-dev-01")))
    objects.wait_for("protectedvm", "dev", reason="Protected", timeout=180, operator=operator)
    owner = eventually(lambda: holders(release).get(SUB), timeout=30, what="the subscription's shard held")
    assert owner in pods
    writes = replica_writes(emulator_pod, since)
    assert writes
    assert {w["replica"] for w in writes if w["subscription"] == SUB} == {owner}  # one pod wrote, the holder

    deleted_at = time.time()
    real_cluster.kubectl("delete", "pod", owner, "-n", release.namespace, "--wait=false")
    # A pod stopped cleanly frees its shards at once; another pod takes it within a round.
    taken = eventually(lambda: (h := holders(release).get(SUB)) not in (None, owner) and h,
                       timeout=4 * LEASE, what="the shard held by another pod")
    took = time.time() - deleted_at
    print(f"\n[real-node] {owner} deleted: its shard held by {taken} {took:.1f}s later (leases of {LEASE}s)")
    assert took <= LEASE + LEASE / 3 + 2.0
    eventually(lambda: len(ready_pods(release)) == 3, timeout=120, what="the StatefulSet back at 3 pods")
    objects.wait_for("protectedvm", "dev", reason="Protected", timeout=30, operator=operator)
    objects.wait_for("backupvault", "vault-s", timeout=30, operator=operator)
    assert replica_writes(emulator_pod, deleted_at) == []  # taken over without a second write
    logs = "\n".join(release.logs(p["metadata"]["name"]) for p in release.pods())
    assert denied_lines(logs) == [], logs[-3000:]  # the chart's Lease Role is enough
