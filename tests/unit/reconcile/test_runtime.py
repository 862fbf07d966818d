"""The runtime over a fake Kubernetes and a kind of the test's own: one pass from the table to status.

No kind of the operator is named: the runtime reads everything from the `Kind` it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from azbackup.api.names import KindName
from azbackup.azure import errors
from azbackup.azure.fence import ShardNotHeld
from azbackup.kinds.contract import Context, Kind
from azbackup.managed import ExternalClient, ExtraCondition, Hold, Observation, Operation, Resource, Waiting
from azbackup.reasons import Reason
from azbackup.reconcile.registry import Registry
from azbackup.reconcile.runtime import Runtime, RuntimeSettings
from azbackup.reconcile.verdict import Phase

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

    table = {"Thing": Kind(NAMES, factory(outcome), lambda: {}, after=note, **kind)}
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

    table = {"Thing": Kind(NAMES, factory(outcome), lambda: {}, after=note,
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
