"""Dynamic shards: replicas that divide the subscriptions among themselves through Leases (DESIGN §7).

Twelve subscriptions, each with a vault and a protected VM, and 2-4 `azbackup run --sharding`
replicas with 6 s Leases. What a replica writes to Azure is read from the emulator's write log, where
each replica's User-Agent names it. The shards are the 12 subscriptions plus `unplaced` (objects
whose vault is not known yet), 13 in all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azbackup.devtools.control_plane import ControlPlane
from azbackup.process import children
from azure_emulator.inventory import DEFAULT_TENANT_ID
from azure_emulator.server import EmulatorProcess

from tests.integration.harness import (
    Arm,
    Cluster,
    OperatorProcess,
    eventually,
    operator_env,
    protected_vm,
    vault,
    vm_id,
)

SUBS = [f"00000000-0000-0000-0000-{i:012d}" for i in range(1, 13)]
SHARDS = 13  # the subscriptions and `unplaced`
DURATION = 6.0
RENEW = DURATION / 3
UA = "azbackup-replica/"


@pytest.fixture
def estate(tmp_path: Path) -> Iterator[EmulatorProcess]:
    doc = {"tenantId": DEFAULT_TENANT_ID, "subscriptions": [
        {"id": sub, "resourceGroups": [{"name": "rg-backup"}, {"name": "rg-app"}],
         "vms": [{"name": "vm-0", "resourceGroup": "rg-app"}]} for sub in SUBS]}
    emu = EmulatorProcess.start_thread(doc, time_scale=0.02, state_dir=tmp_path / "emulator")
    try:
        yield emu
    finally:
        emu.stop()


class Replica(OperatorProcess):
    """One `azbackup run --sharding` replica, named so in its Leases and its User-Agent."""

    def __init__(self, plane: ControlPlane, emulator: EmulatorProcess, namespace: str, log_dir: Path,
                 name: str, kubeconfig: Path | None = None, extra: tuple[str, ...] = ()) -> None:
        super().__init__(plane, emulator, namespace, log_dir / name, extra=(
            "--sharding", "--shard-identity", name, "--shard-lease-duration", str(DURATION), *extra))
        self.name, self.kubeconfig = name, kubeconfig
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def start(self) -> Replica:
        self.runs += 1
        cmd = [sys.executable, "-m", "azbackup.cli", "run", "-n", self.namespace, *self.FAST, *self.extra]
        env = operator_env(self.plane, self.emulator)
        if self.kubeconfig is not None:
            env["KUBECONFIG"] = str(self.kubeconfig)
        self.proc = children.spawn(f"operator-{self.name}", cmd, env=env, log=self.log_path)
        return self


@pytest.fixture
def replicas(control_plane_instance: ControlPlane, estate: EmulatorProcess, namespace: str,
             tmp_path: Path) -> Iterator[dict[str, Replica]]:
    started: dict[str, Replica] = {}
    yield started
    for replica in started.values():
        replica.stop()


def start(started: dict[str, Replica], plane: ControlPlane, emulator: EmulatorProcess, namespace: str,
          tmp_path: Path, *names: str, **kwargs: Any) -> None:
    for name in names:
        started[name] = Replica(plane, emulator, namespace, tmp_path, name, **kwargs).start()


def apply_estate(cluster: Cluster) -> None:
    docs = []
    for i, sub in enumerate(SUBS):
        docs += [vault(f"vault-{i}", subscriptionId=sub),
                 protected_vm(f"vm-{i}", f"vault-{i}", vm_id("rg-app", "vm-0", sub))]
    cluster.apply(*docs)


def wait_ready(cluster: Cluster, started: dict[str, Replica], timeout: float = 150.0) -> None:
    def logs() -> str:
        return "\n".join(f"--- {n}\n{r.logs()[-2500:]}" for n, r in started.items())

    deadline = time.monotonic() + timeout
    for i in range(len(SUBS)):
        for kind, name, reason in (("backupvault", f"vault-{i}", None), ("protectedvm", f"vm-{i}", "Protected")):
            try:
                cluster.wait_for(kind, name, reason=reason, timeout=max(1.0, deadline - time.monotonic()))
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{logs()}") from None


def holders(cluster: Cluster) -> dict[str, str | None]:
    """Shard -> the holder its Lease names, if the Lease is live."""
    out = cluster.kubectl("get", "leases", "-l", "azbackup.dev/lease-role=shard", "-o", "json")
    now = time.time()
    found: dict[str, str | None] = {}
    for lease in json.loads(out.stdout)["items"]:
        spec = lease.get("spec") or {}
        renewed = spec.get("renewTime")
        live = renewed and dt.datetime.fromisoformat(renewed.replace("Z", "+00:00")).timestamp() \
            + spec["leaseDurationSeconds"] > now
        found[lease["metadata"]["annotations"]["azbackup.dev/shard"]] = spec.get("holderIdentity") if live else None
    return found


def acquired(cluster: Cluster) -> dict[str, float]:
    """Shard -> when its holder took it (the Lease's acquireTime)."""
    out = cluster.kubectl("get", "leases", "-l", "azbackup.dev/lease-role=shard", "-o", "json")
    return {lease["metadata"]["annotations"]["azbackup.dev/shard"]:
            dt.datetime.fromisoformat(lease["spec"]["acquireTime"].replace("Z", "+00:00")).timestamp()
            for lease in json.loads(out.stdout)["items"] if (lease.get("spec") or {}).get("acquireTime")}


def settled(cluster: Cluster, members: set[str]) -> dict[str, str | None]:
    """Every shard held by one of `members`, balanced, and the same on two looks a round apart."""
    def look() -> dict[str, str | None] | None:
        first = holders(cluster)
        loads = [sum(1 for h in first.values() if h == m) for m in members]
        if len(first) != SHARDS or not set(first.values()) <= members or max(loads) - min(loads) > 1:
            return None
        time.sleep(RENEW)
        return first if holders(cluster) == first else None

    found: dict[str, str | None] = eventually(look, timeout=60, what=f"shards settled over {sorted(members)}")
    return found


def replica_writes(emulator: EmulatorProcess, since: float = 0.0) -> list[dict[str, Any]]:
    """The emulator's write log, the operator replicas' writes only, each with `replica` added."""
    out = []
    for entry in emulator.admin.request("GET", f"writes?since={since}")["writes"]:
        agent = str(entry["userAgent"]).split(" ", 1)[0]
        if agent.startswith(UA):
            out.append({**entry, "replica": agent[len(UA):]})
    return out


def writers(entries: list[dict[str, Any]], field: str) -> dict[str, set[str]]:
    by: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        by[entry[field]].add(entry["replica"])
    return by


def duplicates(entries: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Azure resources written by more than one replica."""
    return {path: who for path, who in writers(entries, "path").items() if len(who) > 1}


def all_ready(cluster: Cluster) -> None:
    for i in range(len(SUBS)):
        assert (cluster.condition("protectedvm", f"vm-{i}") or {}).get("reason") == "Protected", i
        assert (cluster.condition("backupvault", f"vault-{i}") or {}).get("status") == "True", i


def test_three_replicas_share_twelve_subscriptions_and_a_killed_ones_shards_are_taken_over(
        cluster: Cluster, control_plane_instance: ControlPlane, estate: EmulatorProcess, namespace: str,
        tmp_path: Path, replicas: dict[str, Replica]) -> None:
    start(replicas, control_plane_instance, estate, namespace, tmp_path, "r0", "r1", "r2")
    apply_estate(cluster)
    wait_ready(cluster, replicas)
    owners = settled(cluster, {"r0", "r1", "r2"})
    writes = replica_writes(estate)
    by_sub = writers(writes, "subscription")
    assert set(by_sub) == set(SUBS)
    for sub in SUBS:  # every subscription written by exactly one replica: the one holding its shard
        assert by_sub[sub] == {owners[sub]}, (sub, by_sub[sub], owners[sub])
    assert duplicates(writes) == {}

    victim = next(r for r in ("r0", "r1", "r2") if r in owners.values())
    orphaned = {s for s, h in owners.items() if h == victim}
    killed_at = time.time()
    replicas[victim].kill()
    survivors = {"r0", "r1", "r2"} - {victim}
    eventually(lambda: all(holders(cluster)[s] in survivors for s in orphaned), timeout=4 * DURATION,
               what=f"{victim}'s shards taken over")
    # When, by the Leases themselves (the acquirer writes acquireTime as it takes a shard), not by when
    # this test's kubectl saw it: on a loaded machine the looking is slower than the taking.
    taken_in = max(acquired(cluster)[s] for s in orphaned) - killed_at
    print(f"\n{victim} killed: its {len(orphaned)} shards taken over {taken_in:.1f} s later (leases of "
          f"{DURATION:.0f} s, renewed every {RENEW:.0f} s)")
    # Its Leases expire at most DURATION after the kill (renewed just before it), and the others look
    # every RENEW: so within the lease duration plus one round; 2 s more for a slow round on a loaded
    # machine (the rounds' own warnings show it).
    assert taken_in <= DURATION + RENEW + 2.0, taken_in
    after = settled(cluster, survivors)
    all_ready(cluster)
    assert replica_writes(estate, since=killed_at) == []  # taken over without writing anything again

    # The new owners act on what they took: a VM protected now in a moved subscription is theirs.
    moved_sub = sorted(orphaned - {"unplaced"})[0]
    new_owner = after[moved_sub]
    assert new_owner in survivors
    estate.admin.add_vm({"name": "vm-1", "resourceGroup": "rg-app"}, subscription=moved_sub)
    index = SUBS.index(moved_sub)
    cluster.apply(protected_vm(f"vm-{index}-b", f"vault-{index}", vm_id("rg-app", "vm-1", moved_sub)))
    cluster.wait_for("protectedvm", f"vm-{index}-b", reason="Protected", timeout=90, operator=replicas[new_owner])
    all_ready(cluster)
    late = replica_writes(estate, since=killed_at)
    assert late
    assert {e["replica"] for e in late} == {new_owner}
    assert {e["subscription"] for e in late} == {moved_sub}


def test_scaling_from_three_to_four_to_two_moves_the_fewest_shards(
        cluster: Cluster, control_plane_instance: ControlPlane, estate: EmulatorProcess, namespace: str,
        tmp_path: Path, replicas: dict[str, Replica]) -> None:
    start(replicas, control_plane_instance, estate, namespace, tmp_path, "r0", "r1", "r2")
    apply_estate(cluster)
    wait_ready(cluster, replicas)
    three = settled(cluster, {"r0", "r1", "r2"})

    start(replicas, control_plane_instance, estate, namespace, tmp_path, "r3")
    four = settled(cluster, {"r0", "r1", "r2", "r3"})
    moved = sum(1 for s in four if four[s] != three[s])
    # The newcomer's fair share is ⌊13/4⌋ = 3: no balanced assignment moves fewer.
    assert moved <= SHARDS // 4 + 1, (three, four)

    gone = {"r0", "r1"}
    stopped_at = time.time()
    for name in gone:
        replicas[name].stop()  # a clean stop frees the shards at once
    two = settled(cluster, {"r2", "r3"})
    moved = sum(1 for s in two if two[s] != four[s])
    least = sum(1 for h in four.values() if h in gone)  # the shards of the stopped replicas must move
    assert moved <= least + 1, (four, two)
    print(f"\n3 -> 4 -> 2 replicas: moves {sum(1 for s in four if four[s] != three[s])} and {moved} "
          f"(minimum {SHARDS // 4} and {least}); handover after the stop "
          f"{time.time() - stopped_at:.1f} s")

    assert all(h in {"r2", "r3"} for h in holders(cluster).values())  # no shard without an owner
    all_ready(cluster)
    writes = replica_writes(estate)
    assert duplicates(writes) == {}
    assert replica_writes(estate, since=stopped_at) == []  # converged: moving shards writes nothing


def test_objects_deleted_are_cleaned_up_by_their_shards_holder_alone(
        cluster: Cluster, control_plane_instance: ControlPlane, estate: EmulatorProcess, namespace: str,
        tmp_path: Path, replicas: dict[str, Replica]) -> None:
    start(replicas, control_plane_instance, estate, namespace, tmp_path, "r0", "r1")
    apply_estate(cluster)
    wait_ready(cluster, replicas)
    owners = settled(cluster, {"r0", "r1"})
    deleted_at = time.time()
    # kopf's finalizer is shared: a replica not holding the shard must keep it until the holder is done.
    for i in range(4):
        cluster.delete("protectedvm", f"vm-{i}")
    for i in range(4):
        cluster.wait_gone("protectedvm", f"vm-{i}", timeout=90)
    late = replica_writes(estate, since=deleted_at)
    assert late, "stopping protection is written to Azure"
    for entry in late:
        assert entry["replica"] == owners[entry["subscription"]], entry
    assert {e["subscription"] for e in late} == set(SUBS[:4])
    assert duplicates(late) == {}


class CuttableProxy:
    """A TCP proxy in front of the API server whose `cut()` drops every connection and refuses new ones."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("https://").rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_off = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off:
                client.close()
                continue
            upstream = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.cut_off = True
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_a_replica_cut_off_from_the_api_server_stops_writing_before_another_takes_over(
        cluster: Cluster, control_plane_instance: ControlPlane, estate: EmulatorProcess, namespace: str,
        tmp_path: Path, replicas: dict[str, Replica]) -> None:
    plane = control_plane_instance
    proxy = CuttableProxy(plane.server)
    kubeconfig = tmp_path / "kubeconfig-proxied"
    kubeconfig.write_text(plane.kubeconfig.read_text().replace(plane.server, f"https://127.0.0.1:{proxy.port}"))
    try:
        # Passes every second, and longer Leases: r0 keeps a few seconds after the cut in which it may
        # still write, so the test sees it write and then stop.
        duration = 12.0
        extra = ("--sync-period", "1", "--shard-lease-duration", str(duration))
        start(replicas, plane, estate, namespace, tmp_path, "r0", kubeconfig=kubeconfig, extra=extra)
        start(replicas, plane, estate, namespace, tmp_path, "r1", extra=extra)
        apply_estate(cluster)
        wait_ready(cluster, replicas)
        owners = settled(cluster, {"r0", "r1"})
        cut_subs = sorted(s for s, h in owners.items() if h == "r0" and s != "unplaced")
        assert cut_subs
        arms = {sub: Arm(estate, sub) for sub in cut_subs}
        drifting = threading.Event()
        drifting.set()

        def drift() -> None:
            # Someone keeps changing r0's vaults in the portal: r0 corrects them while it may, then stops;
            # r1 corrects them once it holds their shards.
            while drifting.is_set():
                for sub, arm in arms.items():
                    arm.patch_vault("rg-backup", f"vault-{SUBS.index(sub)}",
                                    {"properties": {"publicNetworkAccess": "Disabled"}})
                time.sleep(0.5)

        drifter = threading.Thread(target=drift, daemon=True)
        drifter.start()
        try:
            time.sleep(3.0)  # r0 corrects while it is connected
            cut_at = time.time()
            proxy.cut()
            time.sleep(2.5 * duration)
        finally:
            drifting.clear()
            drifter.join(timeout=60)
        try:
            eventually(lambda: all(arm.vault("rg-backup", f"vault-{SUBS.index(sub)}")["properties"]
                                   ["publicNetworkAccess"] == "Enabled" for sub, arm in arms.items()),
                       timeout=30, what="the drift corrected by the new owner")
        finally:
            for arm in arms.values():
                arm.close()
        assert replicas["r0"].alive()
        late = [e for e in replica_writes(estate, since=cut_at) if e["subscription"] in cut_subs]
        by_r0 = [e["at"] for e in late if e["replica"] == "r0"]
        by_r1 = [e["at"] for e in late if e["replica"] == "r1"]
        print(f"\ncut at 0: r0 wrote {len(by_r0)} times, the last at {max(by_r0, default=cut_at) - cut_at:.1f} s; "
              f"r1's first write at {min(by_r1, default=cut_at) - cut_at:.1f} s (leases of {duration:.0f} s)")
        assert by_r0, "r0 went on correcting while it still held its shards"
        assert by_r1, "r1 took over and corrected the drift"
        assert max(by_r0) < min(by_r1)
        assert max(by_r0) - cut_at < duration  # r0's own deadline, before its Leases could expire
        assert "shards given up" in replicas["r0"].logs()
    finally:
        proxy.close()
