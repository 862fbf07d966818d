"""The runtime over a fake Kubernetes and a kind of the test's own: one pass from the table to status.

No kind of the operator is named: the runtime reads everything from the `Kind` it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from azbackup.api import status as api_status
from azbackup.api.names import KindName
from azbackup.azure import errors
from azbackup.azure.fence import ShardNotHeld
from azbackup.kinds.contract import Context, Kind, Ref
from azbackup.managed import ExternalClient, ExtraCondition, Hold, Observation, Operation, Resource, Waiting
from azbackup.reasons import Reason
from azbackup.reconcile.registry import Registry
from azbackup.reconcile.runtime import Runtime, RuntimeSettings
from azbackup.reconcile.verdict import Phase
from azbackup.toolkit import times

NAMES = KindName("Thing", "things", ())
KEY = ("Thing", "ns", "a")
BODY = {"kind": "Thing", "metadata": {"namespace": "ns", "name": "a", "generation": 1, "resourceVersion": "1"},
        "spec": {}}


@dataclass
class FakeKube:
    statuses: list[Mapping[str, Any]] = field(default_factory=list)

    async def patch_status(self, obj: Resource, patch: Mapping[str, Any]) -> str | None:
        self.statuses.append(patch)
        return str(len(self.statuses) + 1)

    async def secret_data(self, namespace: str, name: str) -> dict[str, str] | None:
        return None


class Client:
    deterministic_names = True

    def __init__(self, seen: Observation) -> None:
        self.seen = seen

    async def observe(self, obj: Resource) -> Observation:
        return self.seen

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        return None

    async def update(self, obj: Resource, seen: Observation) -> Operation | None:
        return None

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        return None

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return True


DEGRADED = ExtraCondition("Degraded", "True", Reason.OBJECTIVE_MISSED, "slow")


def factory(outcome: Observation | Exception):
    async def client(obj: Resource, ctx: Context) -> ExternalClient:
        if isinstance(outcome, Exception):
            raise outcome
        return Client(outcome)
    return client


def run(outcome: Observation | Exception, **kind: Any) -> tuple[Any, FakeKube, list[tuple[str, str]], list[str]]:
    after: list[str] = []

    async def note(obj: Resource, ctx: Context) -> None:
        after.append(obj.name)

    table = {"Thing": Kind(NAMES, factory(outcome), lambda: {}, api_status.CommonStatus, after=note, **kind)}
    kube, events = FakeKube(), []

    def sink(obj: Resource, level: str, reason: str, message: str) -> None:
        events.append((level, reason))

    async def go() -> Any:
        runtime = Runtime(cast(Any, kube), cast(Any, None), RuntimeSettings(), table, Registry(table), events=sink,
                          clock=lambda: 1_800_000_000.0)
        runtime.registry.upsert(BODY)
        return await runtime.reconcile(KEY)

    return asyncio.run(go()), kube, events, after


@pytest.mark.parametrize(("outcome", "phase", "reason"), [
    pytest.param(Observation(exists=True), Phase.READY, Reason.AVAILABLE, id="converged-is-ready"),
    pytest.param(Observation(exists=True, usable=False), Phase.PROGRESSING, Reason.PROVISIONING,
                 id="not-usable-yet-is-progressing"),
    pytest.param(Waiting(Hold(Reason.VAULT_NOT_FOUND, "no vault")), Phase.STALLED, Reason.VAULT_NOT_FOUND,
                 id="a-reference-missing-stalls-without-an-azure-call"),
    pytest.param(errors.Throttled("slow down", status=429, retry_after=30.0), Phase.PROGRESSING, Reason.THROTTLED,
                 id="throttling-is-transient"),
    pytest.param(errors.Forbidden("no role", status=403), Phase.STALLED, Reason.AUTHORIZATION_FAILED,
                 id="a-missing-role-stalls"),
])
def test_one_pass_writes_the_verdict(outcome: Observation | Exception, phase: Phase, reason: Reason) -> None:
    verdict, kube, _, after = run(outcome)
    ready = next(c for c in kube.statuses[0]["conditions"] if c["type"] == "Ready")
    assert (verdict.phase, verdict.reason, ready["reason"], after) == (phase, reason, str(reason), ["a"])


def test_throttling_is_retried_when_the_server_said() -> None:
    verdict, *_ = run(errors.Throttled("slow down", status=429, retry_after=30.0))
    assert verdict.retry_in == 30.0


@pytest.mark.parametrize(("abnormal", "want"), [
    pytest.param(frozenset({"Degraded"}), [("Normal", "Available"), ("Warning", "ObjectiveMissed")],
                 id="the-kinds-abnormal-true-condition-is-a-warning-at-once"),
    pytest.param(frozenset(), [("Normal", "Available")], id="other-kinds-need-a-flip"),
])
def test_the_kinds_condition_polarity_reaches_the_events(abnormal: frozenset[str],
                                                         want: list[tuple[str, str]]) -> None:
    _, _, events, _ = run(Observation(exists=True, conditions=[DEGRADED]), abnormal_true=abnormal)
    assert events == want


class Appears(Client):
    """Absent until created, then present: a synchronous create."""

    def __init__(self, created: list[bool]) -> None:
        super().__init__(Observation(exists=True))
        self.created = created

    async def observe(self, obj: Resource) -> Observation:
        return Observation(exists=bool(self.created), status={"seen": len(self.created)})

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        self.created.append(True)
        return None


def test_a_synchronous_create_and_the_look_after_it_are_one_status_write_and_one_event() -> None:
    created: list[bool] = []

    async def client(obj: Resource, ctx: Context) -> ExternalClient:
        return Appears(created)

    table = {"Thing": Kind(NAMES, client, lambda: {}, api_status.CommonStatus)}
    kube, events = FakeKube(), []

    async def go() -> Any:
        runtime = Runtime(cast(Any, kube), cast(Any, None), RuntimeSettings(), table, Registry(table),
                          events=lambda obj, level, reason, message: events.append((level, reason)),
                          clock=lambda: 1_800_000_000.0)
        runtime.registry.upsert(BODY)
        return await runtime.reconcile(KEY)

    verdict = asyncio.run(go())
    assert (verdict.phase, created, len(kube.statuses), events) == (Phase.READY, [True], 1, [("Normal", "Available")])
    assert kube.statuses[0]["seen"] == 1  # the look's own fields, written over the create's


NOW = 1_800_000_000.0


@pytest.mark.parametrize(("age", "writes", "again_in"), [
    pytest.param(5.0, 0, 25.0, id="a-new-object-waiting-for-its-vault-writes-nothing-until-the-grace-ends"),
    pytest.param(60.0, 1, None, id="past-the-grace-the-wait-is-written"),
])
def test_a_new_objects_wait_for_a_dependency_is_written_after_a_grace(age: float, writes: int,
                                                                      again_in: float | None) -> None:
    waiting = Waiting(Hold(Reason.VAULT_NOT_READY, "vault not Ready yet", stalls=False))
    table = {"Thing": Kind(NAMES, factory(waiting), lambda: {}, api_status.CommonStatus)}
    kube, requeued = FakeKube(), []

    async def go() -> Any:
        runtime = Runtime(cast(Any, kube), cast(Any, None), RuntimeSettings(), table, Registry(table),
                          clock=lambda: NOW)
        runtime.requeue = lambda key, delay: requeued.append(delay)  # type: ignore[method-assign]
        runtime.registry.upsert({**BODY, "metadata": {**BODY["metadata"], "creationTimestamp": times.at(NOW - age)}})
        return await runtime.reconcile(KEY)

    verdict = asyncio.run(go())
    assert (verdict.reason, len(kube.statuses), requeued) == (
        Reason.VAULT_NOT_READY, writes, [again_in] if again_in else [])


def watched(*, finalizers: tuple[str, ...] = ("azbackup.dev/finalizer",), status: Mapping[str, Any] | None = None,
            policy: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {**BODY["metadata"], "finalizers": list(finalizers)}
    if policy:
        meta["annotations"] = {"azbackup.dev/reconcile-policy": policy}
    return {**BODY, "metadata": meta, "status": dict(status or {})}


@pytest.mark.parametrize(("events", "want"), [
    pytest.param([watched(finalizers=())], [], id="nothing-before-kopf-holds-its-deletion"),
    pytest.param([watched()], [0.0], id="a-new-object-is-acted-on-at-once"),
    pytest.param([watched(status={"observedGeneration": 1})], ["jitter"], id="after-a-restart-with-jitter"),
    pytest.param([watched(status={"observedGeneration": 1}), watched(status={"observedGeneration": 1})], ["jitter"],
                 id="once-only"),
    pytest.param([watched(status={"observedGeneration": 1}), watched(status={"observedGeneration": 1},
                                                                     policy="observe")],
                 ["jitter", 0.0], id="a-reconcile-policy-change-goes-at-once"),
])
def test_the_watch_queues_what_needs_a_pass(events: list[dict[str, Any]], want: list[object]) -> None:
    table = {"Thing": Kind(NAMES, factory(Observation(exists=True)), lambda: {}, api_status.CommonStatus)}
    runtime = Runtime(cast(Any, FakeKube()), cast(Any, None), RuntimeSettings(), table, Registry(table),
                      clock=lambda: NOW)
    queued: list[float] = []
    runtime.requeue = lambda key, delay: queued.append(delay)  # type: ignore[method-assign]
    runtime.act_soon = lambda key: queued.append(0.0)  # type: ignore[method-assign]
    for body in events:
        runtime.observe_event("MODIFIED", body)
    assert [d if d == 0.0 else "jitter" for d in queued] == want


class Shards:
    def __init__(self, held: set[str]) -> None:
        self.held = held

    def holds(self, shard: str | None) -> bool:
        return shard in self.held

    async def run(self) -> None:
        return None

    async def release(self) -> None:
        return None


def run_sharded(outcome: Observation | Exception, held: set[str]) -> tuple[Any, FakeKube, list[str]]:
    after: list[str] = []

    async def note(obj: Resource, ctx: Context) -> None:
        after.append(obj.name)

    table = {"Thing": Kind(NAMES, factory(outcome), lambda: {}, api_status.CommonStatus, after=note,
                           shard=lambda obj: str(obj.spec.get("subscriptionId")))}
    kube = FakeKube()

    async def go() -> Any:
        runtime = Runtime(cast(Any, kube), cast(Any, None), RuntimeSettings(), table, Registry(table),
                          clock=lambda: 1_800_000_000.0)
        runtime.shards = Shards(held)
        runtime.registry.upsert({**BODY, "spec": {"subscriptionId": "sub-a"}})
        return await runtime.reconcile(KEY)

    return asyncio.run(go()), kube, after


def test_an_object_of_a_shard_held_here_is_reconciled() -> None:
    verdict, kube, after = run_sharded(Observation(exists=True), {"sub-a"})
    assert (verdict.phase, len(kube.statuses), after) == (Phase.READY, 1, ["a"])


def test_an_object_of_a_shard_held_elsewhere_is_left_alone() -> None:
    verdict, kube, after = run_sharded(errors.Forbidden("must not be called", status=403), {"sub-b"})
    assert (verdict, kube.statuses, after) == (None, [], [])


def test_a_write_fenced_off_mid_pass_writes_no_status() -> None:
    # The shard was lost between the start of the pass and its write: the new holder reports, not us.
    verdict, kube, _ = run_sharded(ShardNotHeld("sub-a", "PUT", "https://arm/x"), {"sub-a"})
    assert (verdict, kube.statuses) == (None, [])


def test_a_new_object_whose_vault_is_missing_is_reconciled_from_the_watch() -> None:
    missing = Waiting(Hold(Reason.VAULT_NOT_FOUND, "no vault"))
    table = {"Thing": Kind(NAMES, factory(missing), lambda: {}, api_status.CommonStatus)}
    kube = FakeKube()

    async def go() -> None:
        runtime = Runtime(cast(Any, kube), cast(Any, None), RuntimeSettings(), table, Registry(table),
                          clock=lambda: NOW)
        runtime.observe_event("ADDED", watched())
        await asyncio.gather(*runtime._acting)

    asyncio.run(go())
    [patch] = kube.statuses
    assert [c["reason"] for c in patch["conditions"] if c["type"] == "Ready"] == ["VaultNotFound"]


def test_a_new_objects_wait_for_a_dependency_that_does_not_exist_is_written_at_once() -> None:
    missing = Waiting(Hold(Reason.VAULT_NOT_FOUND, "no vault", stalls=False))
    table = {"Thing": Kind(NAMES, factory(missing), lambda: {}, api_status.CommonStatus,
                           waits_for=(Ref("Vault", "vaultRef"),))}
    kube = FakeKube()

    async def go() -> Any:
        runtime = Runtime(cast(Any, kube), cast(Any, None), RuntimeSettings(), table, Registry(table),
                          clock=lambda: NOW)
        body = {**BODY, "spec": {"vaultRef": {"name": "v"}},
                "metadata": {**BODY["metadata"], "creationTimestamp": times.at(NOW - 1)}}
        runtime.registry.upsert(body)
        return await runtime.reconcile(KEY)

    verdict = asyncio.run(go())
    assert (verdict.reason, len(kube.statuses)) == (Reason.VAULT_NOT_FOUND, 1)
