"""Dynamic shards, the Lease I/O: a heartbeat per replica, a `coordination.k8s.io/v1` Lease per shard.

Every `renew_every` seconds a replica lists the group's Leases (one LIST), renews its member Lease,
creates the Lease of any shard it has seen that has none yet, then follows `shards.plan`: it frees
the shards the target gives to another member (after it stopped acting on them), renews its own, and
takes free ones. Every write carries the resourceVersion it read, so two replicas racing for a shard
get one success and one 409. A shard counts as held only until `shards.deadline` after the last
renewal that succeeded: a replica cut off from the API server stops writing to Azure before anyone
else may take its shards over.

Lease writes per replica: (2 + shards held) per `renew_every` — with 15 s Leases and 12 shards over 3
replicas, about one request a second each.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from azbackup import API_GROUP
from azbackup.reconcile import shards

log = logging.getLogger("azbackup.shards")

GROUP_LABEL = f"{API_GROUP}/shard-group"
ROLE_LABEL = f"{API_GROUP}/lease-role"  # "member" or "shard"
SHARD_ANNOTATION = f"{API_GROUP}/shard"
LEASE_VERBS = ("list", "create", "update", "delete")
"""Every verb this module sends on leases (the chart's generated Role grants exactly these)."""


@dataclass(frozen=True)
class ShardSettings:
    """`azbackup run --shards`: flags of the same names, values of the chart's `sharding`."""

    identity: str
    """This replica's name among its peers (the pod's name in a cluster), unique and stable."""
    namespace: str
    """Where the Leases live (the operator's own namespace in a cluster)."""
    group: str = "azbackup"
    """Lease name prefix: replicas of one group share shards, other groups ignore them."""
    duration: float = 15.0
    """Seconds a Lease lives without renewal: a dead replica's shards move after at most this."""

    @property
    def renew_every(self) -> float:
        return self.duration / 3

    @property
    def margin(self) -> float:
        """How long before a Lease may be taken over its holder stops: a renewal round, so one lost
        round does not stop the work, two do."""
        return self.renew_every


def _dns(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in text.lower()).strip("-.")[:200]


Lease = dict[str, Any]
"""A Lease as the API server sends it (JSON): the typed client models say every field may be None."""


def _meta(lease: Lease) -> dict[str, Any]:
    return dict(lease.get("metadata") or {})


def _holder(lease: Lease) -> str | None:
    return (lease.get("spec") or {}).get("holderIdentity") or None


def _micro_time(value: str | None) -> float | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def _state(lease: Lease) -> shards.LeaseState:
    spec = lease.get("spec") or {}
    name = (_meta(lease).get("annotations") or {}).get(SHARD_ANNOTATION) or _meta(lease).get("name", "")
    return shards.LeaseState(str(name), _holder(lease), _micro_time(spec.get("renewTime")),
                             float(spec.get("leaseDurationSeconds") or 0))


def _micro(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ShardKeeper:
    """Holds this replica's shards. `holds(shard)` is the fence; `run()` the renewal loop."""

    def __init__(self, api_client: k8s.ApiClient, settings: ShardSettings, seen: Callable[[], Iterable[str]],
                 changed: Callable[[set[str], set[str]], None] | None = None,
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.seen, self.changed = settings, seen, changed
        self.clock, self.monotonic = clock, monotonic
        self.api = k8s.CoordinationV1Api(api_client)
        self.held: dict[str, float] = {}  # shard -> monotonic deadline (shards.deadline)
        self.target: dict[str, str] = {}
        self.rounds = 0

    # -- the fence ----------------------------------------------------------------------------------
    def holds(self, shard: str | None) -> bool:
        if shard is None:
            return False
        return shards.may_write(self.held.get(shard), self.monotonic())

    # -- names ---------------------------------------------------------------------------------------
    def _member_name(self) -> str:
        return _dns(f"{self.settings.group}-member-{self.settings.identity}")

    def _shard_name(self, shard: str) -> str:
        return _dns(f"{self.settings.group}-shard-{shard}")

    def _labels(self, role: str) -> dict[str, str]:
        return {GROUP_LABEL: _dns(self.settings.group), ROLE_LABEL: role}

    # -- I/O ---------------------------------------------------------------------------------------
    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # A bounded wait: a replica cut off from the API server must notice within a round.
        return await asyncio.to_thread(fn, *args, _request_timeout=self.settings.renew_every, **kwargs)

    async def _list(self) -> list[Lease]:
        selector = f"{GROUP_LABEL}={_dns(self.settings.group)}"
        raw = await self._call(self.api.list_namespaced_lease, self.settings.namespace, label_selector=selector,
                               _preload_content=False)
        return list(json.loads(raw.data).get("items") or [])

    def _body(self, name: str, role: str, holder: str | None, now: dt.datetime,
              shard: str | None = None, previous: Lease | None = None) -> Lease:
        spec = dict((previous or {}).get("spec") or {})
        taken = holder is not None and spec.get("holderIdentity") != holder
        meta: dict[str, Any] = {"name": name, "labels": self._labels(role)}
        if shard:
            meta["annotations"] = {SHARD_ANNOTATION: shard}
        if previous is not None:
            meta["resourceVersion"] = _meta(previous).get("resourceVersion")
        lease_spec: dict[str, Any] = {"holderIdentity": holder,
                                      "leaseDurationSeconds": max(1, round(self.settings.duration)),
                                      "leaseTransitions": int(spec.get("leaseTransitions") or 0) + (1 if taken else 0)}
        if holder:
            lease_spec["renewTime"] = _micro(now)
            lease_spec["acquireTime"] = _micro(now) if taken else spec.get("acquireTime")
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": lease_spec}

    async def _write(self, body: Lease) -> bool:
        """Create or replace (guarded by resourceVersion); False when someone else wrote first."""
        meta = body["metadata"]
        try:
            if meta.get("resourceVersion"):
                await self._call(self.api.replace_namespaced_lease, meta["name"], self.settings.namespace, body)
            else:
                await self._call(self.api.create_namespaced_lease, self.settings.namespace, body)
        except ApiException as exc:
            if exc.status in (409, 404):
                return False
            raise
        return True

    # -- one round ---------------------------------------------------------------------------------
    async def round(self) -> None:
        sent, wall = self.monotonic(), self.clock()
        now = dt.datetime.fromtimestamp(wall, dt.UTC)
        try:
            await self._round(sent, wall, now)
        except Exception as exc:  # the API server unreachable or refusing: the deadlines decide
            log.warning("shard leases not renewed (%s: %s); holding %d shards until their deadlines",
                        type(exc).__name__, exc, len(self.held))
        self._expire()
        self.rounds += 1
        took = self.monotonic() - sent
        if took > self.settings.renew_every:
            log.warning("shard lease round took %.1fs (renewals every %.1fs): the API server is slow", took,
                        self.settings.renew_every)

    async def _round(self, sent: float, wall: float, now: dt.datetime) -> None:
        leases = await self._list()
        by_role: dict[str, dict[str, Lease]] = {"member": {}, "shard": {}}
        for lease in leases:
            role = (_meta(lease).get("labels") or {}).get(ROLE_LABEL, "")
            if role in by_role:
                by_role[role][_state(lease).name] = lease
        me = self.settings.identity
        mine = next((lease for lease in by_role["member"].values()
                     if _meta(lease).get("name") == self._member_name()), None)
        if not await self._write(self._body(self._member_name(), "member", me, now, previous=mine)):
            return  # a stale read of our own heartbeat: the next round reads again
        for shard in sorted(set(self.seen()) - set(by_role["shard"])):
            await self._write(self._body(self._shard_name(shard), "shard", None, now, shard=shard))
        members = [_state(lease) for lease in by_role["member"].values() if lease is not mine]
        members.append(shards.LeaseState(me, me, wall, self.settings.duration))
        plan = shards.plan(me, wall, members, [_state(lease) for lease in by_role["shard"].values()])
        self.target = dict(plan.target)
        for shard in plan.release:
            self._drop({shard}, "it moves to " + plan.target.get(shard, "?"))
            await self._write(self._body(self._shard_name(shard), "shard", None, now, shard=shard,
                                         previous=by_role["shard"][shard]))
        gained: set[str] = set()
        for shard in (*plan.renew, *plan.acquire):
            if await self._write(self._body(self._shard_name(shard), "shard", me, now, shard=shard,
                                            previous=by_role["shard"][shard])):
                if shard not in self.held:
                    gained.add(shard)
                self.held[shard] = shards.deadline(sent, self.settings.duration, self.settings.margin)
        if gained:
            log.info("shards taken: %s (holding %d)", ", ".join(sorted(gained)), len(self.held))
            if self.changed is not None:
                self.changed(gained, set())

    def _expire(self) -> None:
        now = self.monotonic()
        lost = {shard for shard, until in self.held.items() if not shards.may_write(until, now)}
        if lost:
            self._drop(lost, "its lease was not renewed in time")

    def _drop(self, lost: set[str], why: str) -> None:
        for shard in lost:
            self.held.pop(shard, None)
        log.warning("shards given up: %s (%s)", ", ".join(sorted(lost)), why)
        if self.changed is not None:
            self.changed(set(), lost)

    async def run(self) -> None:
        """Rounds until cancelled; the deadlines are also checked between rounds, so a loss stops
        writes at its deadline, not at the next round."""
        while True:
            started = self.monotonic()
            await self.round()
            while (left := self.settings.renew_every - (self.monotonic() - started)) > 0:
                await asyncio.sleep(min(left, 0.25))
                self._expire()

    async def release(self) -> None:
        """A clean stop: free every shard and the heartbeat, so the others take over at once."""
        held, self.held = set(self.held), {}
        if held and self.changed is not None:
            self.changed(set(), held)
        try:
            leases = {_state(lease).name: lease for lease in await self._list()}
            now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
            for shard in held:
                if (lease := leases.get(shard)) is not None and _holder(lease) == self.settings.identity:
                    await self._write(self._body(self._shard_name(shard), "shard", None, now, shard=shard,
                                                 previous=lease))
            await self._call(self.api.delete_namespaced_lease, self._member_name(), self.settings.namespace)
        except Exception as exc:  # the others wait out the leases instead
            log.warning("shard leases not released (%s: %s)", type(exc).__name__, exc)
