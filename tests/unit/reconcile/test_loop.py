"""The generic loop, one case per branch, with an in-memory external client that records its calls."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from azbackup.azure import errors
from azbackup.managed import (
    Hold,
    Observation,
    Operation,
    OperationResult,
    OperationState,
    Resource,
)
from azbackup.reasons import Reason
from azbackup.reconcile import journal as jr
from azbackup.reconcile import loop
from azbackup.reconcile.verdict import Phase

NOW = "2026-01-01T00:00:00.000000Z"
SETTINGS = loop.LoopSettings(poll_interval=5, fast_retry=10, slow_retry=100, max_retry=1000, adopt_window=60,
                             approval_retry=30)
APPROVAL = errors.ApprovalRequired("403", operation="disableSoftDeleteRequests", guard="/g", status=403)
OP = Operation("ConfigureProtection", "https://arm/op/1", NOW, 1)


@dataclass
class FakeClient:
    seen: Observation = field(default_factory=lambda: Observation(exists=True))
    after_write: Observation | None = None
    operation: Operation | None = None
    poll_result: OperationResult = field(default_factory=lambda: OperationResult(OperationState.SUCCEEDED))
    fail_with: errors.AzbackupError | None = None
    deterministic_names: bool = True
    keeps: bool = False
    calls: list[str] = field(default_factory=list)

    async def observe(self, obj: Resource) -> Observation:
        self.calls.append("observe")
        return self.seen

    async def _write(self, name: str) -> Operation | None:
        self.calls.append(name)
        if self.fail_with:
            raise self.fail_with
        if self.after_write is not None:
            self.seen = self.after_write
        return self.operation

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        return await self._write("create")

    async def update(self, obj: Resource, seen: Observation) -> Operation | None:
        return await self._write("update")

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        return await self._write("delete")

    async def poll(self, obj: Resource, operation: Operation) -> OperationResult:
        self.calls.append("poll")
        return self.poll_result

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return self.keeps

    def failed_operation(self, obj: Resource, operation: Operation, result: OperationResult) -> Hold:
        return Hold(Reason.CONFIGURE_PROTECTION_FAILED, f"{result.code}: {result.message}")


@dataclass
class FakeAnnotations:
    calls: list[Mapping[str, str]] = field(default_factory=list)

    async def set_annotations(self, obj: Resource, values: Mapping[str, str], *, guarded: bool) -> Resource:
        self.calls.append(dict(values))
        return dataclasses.replace(obj, annotations={**obj.annotations, **values})


def resource(policy: str | None = None, status: Mapping[str, Any] | None = None,
             annotations: Mapping[str, str] | None = None) -> Resource:
    ann = dict(annotations or {})
    if policy:
        ann["azbackup.dev/reconcile-policy"] = policy
    return Resource("BackupVault", "ns", "v", uid="u", generation=1, status=dict(status or {}), annotations=ann)


def run(obj: Resource, client: FakeClient, writer: FakeAnnotations | None = None) -> loop.Verdict:  # type: ignore[name-defined]
    return asyncio.run(loop.reconcile(obj, client, jr.Journal(writer or FakeAnnotations()), NOW, SETTINGS))


ABSENT = Observation(exists=False)
DRIFTED = Observation(exists=True, up_to_date=False, diff=("sku: Azure RS0, spec Standard",))


@pytest.mark.parametrize(("obj", "client", "phase", "reason", "calls"), [
    pytest.param(resource("skip"), FakeClient(), Phase.PAUSED, Reason.RECONCILE_PAUSED, [], id="skip-sends-nothing"),
    pytest.param(resource(), FakeClient(seen=ABSENT), Phase.PROGRESSING, Reason.CREATING,
                 ["observe", "create"], id="absent-is-created"),
    pytest.param(resource("observe"), FakeClient(seen=ABSENT), Phase.STALLED, Reason.NOT_FOUND_IN_AZURE,
                 ["observe"], id="observe-never-creates"),
    pytest.param(resource(), FakeClient(seen=DRIFTED), Phase.PROGRESSING, Reason.UPDATING,
                 ["observe", "update"], id="drift-is-corrected"),
    pytest.param(resource("observe"), FakeClient(seen=DRIFTED), Phase.STALLED, Reason.DRIFT_DETECTED,
                 ["observe"], id="observe-reports-drift-only"),
    pytest.param(resource(), FakeClient(), Phase.READY, Reason.AVAILABLE, ["observe"], id="converged-is-ready"),
    pytest.param(resource(), FakeClient(seen=Observation(exists=True, usable=False)), Phase.PROGRESSING,
                 Reason.PROVISIONING, ["observe"], id="not-usable-is-provisioning"),
    pytest.param(resource(), FakeClient(seen=Observation(
        exists=False, blocked=Hold(Reason.VM_AGENT_NOT_READY, "agent")) ), Phase.STALLED,
        Reason.VM_AGENT_NOT_READY, ["observe"], id="blocked-writes-nothing"),
    pytest.param(resource(), FakeClient(seen=Observation(
        exists=True, up_to_date=False, limitation=Hold(Reason.IMMUTABILITY_LOCKED, "locked"))),
        Phase.PROGRESSING, Reason.UPDATING, ["observe", "update"], id="limitation-still-updates-the-rest"),
    pytest.param(resource(), FakeClient(seen=Observation(
        exists=True, limitation=Hold(Reason.IMMUTABILITY_LOCKED, "locked"))),
        Phase.STALLED, Reason.IMMUTABILITY_LOCKED, ["observe"], id="limitation-reported-when-rest-converged"),
    pytest.param(resource(status={"operation": OP.to_status()}),
                 FakeClient(poll_result=OperationResult(OperationState.RUNNING)), Phase.PROGRESSING,
                 Reason.WAITING_FOR_OPERATION, ["poll"], id="running-operation-is-polled-not-repeated"),
    pytest.param(resource(status={"operation": OP.to_status()}),
                 FakeClient(poll_result=OperationResult(OperationState.FAILED, "UserErrorX", "bad"))
                 , Phase.STALLED, Reason.CONFIGURE_PROTECTION_FAILED, ["poll"], id="failed-operation-is-reported"),
    pytest.param(resource(status={"operation": OP.to_status()}), FakeClient(), Phase.READY, Reason.AVAILABLE,
                 ["poll", "observe"], id="finished-operation-then-observe"),
])
def test_reconcile_branches(obj: Resource, client: FakeClient, phase: Phase, reason: Reason,
                            calls: list[str]) -> None:
    verdict = run(obj, client)
    assert (verdict.phase, verdict.reason, client.calls) == (phase, reason, calls)


def test_operation_is_saved_in_status_before_waiting() -> None:
    verdict = run(resource(), FakeClient(seen=ABSENT, operation=OP))
    assert (verdict.reason, verdict.status["operation"], verdict.retry_in) == (
        Reason.WAITING_FOR_OPERATION, OP.to_status(), SETTINGS.poll_interval)


@dataclass
class NamingClient(FakeClient):
    """A client that names the reason of its own operations (a ProtectedVM's policy migration)."""

    def operation_reason(self, operation: Operation) -> Reason | None:
        return Reason.MIGRATING_TO_ENHANCED_POLICY if operation.kind == "Migrate" else None


MIGRATE = Operation("Migrate", "https://arm/op/2", NOW, 1)


@pytest.mark.parametrize(("obj", "client", "reason"), [
    pytest.param(resource(), NamingClient(seen=DRIFTED, operation=MIGRATE), Reason.MIGRATING_TO_ENHANCED_POLICY,
                 id="its-write-started"),
    pytest.param(resource(status={"operation": MIGRATE.to_status()}),
                 NamingClient(poll_result=OperationResult(OperationState.RUNNING)),
                 Reason.MIGRATING_TO_ENHANCED_POLICY, id="its-operation-still-running"),
    pytest.param(resource(), NamingClient(seen=DRIFTED, operation=OP), Reason.WAITING_FOR_OPERATION,
                 id="an-operation-it-does-not-name"),
])
def test_a_kind_names_the_reason_of_its_running_operation(obj: Resource, client: FakeClient,
                                                          reason: Reason) -> None:
    verdict = run(obj, client)
    assert (verdict.phase, verdict.reason) == (Phase.PROGRESSING, reason)


def test_finished_operation_is_cleared_from_status() -> None:
    verdict = run(resource(status={"operation": OP.to_status()}), FakeClient())
    assert verdict.status["operation"] is None


def test_observe_mode_puts_the_diff_in_status() -> None:
    verdict = run(resource("observe"), FakeClient(seen=DRIFTED))
    assert verdict.status["drift"] == ["sku: Azure RS0, spec Standard"]


def test_unknown_policy_value_is_read_as_observe() -> None:
    client = FakeClient(seen=ABSENT)
    assert run(resource("manage-please"), client).reason is Reason.NOT_FOUND_IN_AZURE
    assert client.calls == ["observe"]


def test_non_deterministic_create_is_journaled_around_the_call() -> None:
    writer = FakeAnnotations()
    run(resource(), FakeClient(seen=ABSENT, deterministic_names=False), writer)
    assert writer.calls == [{jr.PENDING: NOW}, {jr.SUCCEEDED: NOW}]


def test_refused_non_deterministic_create_is_journaled_and_raised() -> None:
    writer = FakeAnnotations()
    with pytest.raises(errors.InvalidSpec):
        run(resource(), FakeClient(seen=ABSENT, deterministic_names=False,
                                   fail_with=errors.InvalidSpec("400: bad expiry", status=400)), writer)
    assert writer.calls == [{jr.PENDING: NOW}, {jr.FAILED: NOW}]


@pytest.mark.parametrize("err", [
    pytest.param(errors.Unavailable("503: busy", status=503), id="a 503 after the change"),
    pytest.param(errors.Unavailable("cannot reach Azure: Server disconnected"), id="a dropped connection"),
])
def test_non_deterministic_create_with_a_lost_answer_keeps_pending_and_looks(err: errors.AzbackupError) -> None:
    writer = FakeAnnotations()
    client = FakeClient(seen=ABSENT, deterministic_names=False, fail_with=err)
    verdict = run(resource(), client, writer)
    assert writer.calls == [{jr.PENDING: NOW}]  # no failure recorded: the next pass looks, never re-sends
    assert (verdict.phase, verdict.reason, verdict.retry_in) == (
        Phase.PROGRESSING, Reason.CREATE_OUTCOME_UNKNOWN, SETTINGS.poll_interval)


def test_pending_create_without_result_looks_within_the_window_and_writes_nothing() -> None:
    client = FakeClient(seen=ABSENT, deterministic_names=False)
    verdict = run(resource(annotations={jr.PENDING: "2025-12-31T23:59:58.000000Z"}), client)
    assert (verdict.phase, verdict.reason, client.calls) == (
        Phase.PROGRESSING, Reason.CREATE_OUTCOME_UNKNOWN, ["observe"])
    assert verdict.retry_in == SETTINGS.poll_interval


def test_pending_create_looks_with_the_clients_own_reason() -> None:
    client = FakeClient(seen=Observation(exists=False, pending=(Reason.TRIGGER_OUTCOME_UNKNOWN, "looking")),
                        deterministic_names=False)
    verdict = run(resource(annotations={jr.PENDING: NOW}), client)
    assert (verdict.reason, verdict.message, client.calls) == (Reason.TRIGGER_OUTCOME_UNKNOWN, "looking",
                                                              ["observe"])


def test_pending_create_without_result_after_the_window_calls_again_by_itself() -> None:
    writer = FakeAnnotations()
    client = FakeClient(seen=ABSENT, deterministic_names=False)
    stale = "2025-12-31T23:00:00.000000Z"  # an hour before NOW, far past the adopt window
    verdict = run(resource(annotations={jr.PENDING: stale}), client, writer)
    assert client.calls == ["observe", "create"]
    assert writer.calls == [{jr.PENDING: NOW}, {jr.SUCCEEDED: NOW}]
    assert verdict.reason is Reason.CREATING


def test_pending_create_recovered_by_observe_proceeds() -> None:
    client = FakeClient(seen=Observation(exists=True), deterministic_names=False)
    assert run(resource(annotations={jr.PENDING: NOW}), client).reason is Reason.AVAILABLE


def test_pending_create_with_deterministic_name_proceeds() -> None:
    client = FakeClient(seen=ABSENT)
    assert run(resource(annotations={jr.PENDING: NOW}), client).reason is Reason.CREATING


@pytest.mark.parametrize(("annotations", "incomplete"), [
    pytest.param({}, False, id="nothing"),
    pytest.param({jr.PENDING: "2026-01-01T00:00:01Z"}, True, id="pending-only"),
    pytest.param({jr.PENDING: "2026-01-01T00:00:01Z", jr.SUCCEEDED: "2026-01-01T00:00:02Z"}, False,
                 id="succeeded-after"),
    pytest.param({jr.PENDING: "2026-01-01T00:00:03Z", jr.FAILED: "2026-01-01T00:00:02Z"}, True,
                 id="failed-before-a-newer-pending"),
])
def test_create_incomplete(annotations: dict[str, str], incomplete: bool) -> None:
    assert jr.create_incomplete(annotations) is incomplete


@pytest.mark.parametrize(("err", "attempts", "phase", "retry_in"), [
    pytest.param(errors.Throttled("429", retry_after=17), 3, Phase.PROGRESSING, 17, id="429-waits-retry-after"),
    pytest.param(errors.Unavailable("503"), 0, Phase.PROGRESSING, 10, id="5xx-retries-fast"),
    pytest.param(errors.Unavailable("503"), 2, Phase.PROGRESSING, 40, id="5xx-backs-off"),
    pytest.param(errors.AuthFailed("401"), 0, Phase.STALLED, 100, id="401-stalls-slow-retry"),
    pytest.param(errors.Forbidden("403"), 10, Phase.STALLED, 1000, id="403-backoff-is-capped"),
    pytest.param(errors.InvalidSpec("400"), 0, Phase.STALLED, None, id="bad-spec-waits-for-a-change"),
    pytest.param(APPROVAL, 0, Phase.PROGRESSING, 30, id="mua-refusal-waits-for-approval"),
    pytest.param(APPROVAL, 9, Phase.PROGRESSING, 30, id="mua-retry-never-doubles-past-the-approval-window"),
])
def test_errors_become_verdicts_with_backoff(err: errors.AzbackupError, attempts: int, phase: Phase,
                                             retry_in: float | None) -> None:
    verdict = loop.verdict_for_error(err, attempts, SETTINGS)
    assert (verdict.phase, verdict.reason, verdict.retry_in) == (phase, err.reason, retry_in)


def finalize(obj: Resource, client: FakeClient) -> loop.Finalization:
    return asyncio.run(loop.finalize(obj, client, NOW, SETTINGS))


def test_finalize_retain_touches_nothing() -> None:
    client = FakeClient(keeps=True)
    assert (finalize(resource(), client).done, client.calls) == (True, [])


def test_finalize_absent_is_done() -> None:
    client = FakeClient(seen=ABSENT)
    assert (finalize(resource(), client).done, client.calls) == (True, ["observe"])


def test_finalize_synchronous_delete_is_done_once_gone() -> None:
    client = FakeClient(after_write=ABSENT)
    assert (finalize(resource(), client).done, client.calls) == (True, ["observe", "delete", "observe"])


def test_finalize_blocked_waits_with_its_reason_and_sends_no_delete() -> None:
    hold = Hold(Reason.WAITING_FOR_SOFT_DELETED_DATA, "purged on 2026-12-21", stalls=False, retry_in=600.0)
    client = FakeClient(seen=Observation(exists=True, status={"deletion": {"steps": []}}, blocked=hold))
    result = finalize(resource(), client)
    assert (result.done, client.calls) == (False, ["observe"])
    assert result.verdict is not None
    assert (result.verdict.reason, result.verdict.retry_in, result.verdict.status) == (
        Reason.WAITING_FOR_SOFT_DELETED_DATA, 600.0, {"deletion": {"steps": []}})


def test_finalize_long_delete_saves_operation_and_waits() -> None:
    result = finalize(resource(), FakeClient(operation=OP))
    assert result.done is False
    assert result.verdict is not None
    assert result.verdict.status["operation"] == OP.to_status()


def test_finalize_polls_a_running_delete() -> None:
    client = FakeClient(poll_result=OperationResult(OperationState.RUNNING))
    result = finalize(resource(status={"operation": OP.to_status()}), client)
    assert (result.done, client.calls) == (False, ["poll"])
