"""BackupPolicy's client over a fake ARM: drift, the type change it refuses, the vault's write budget, each error class.

One row per behaviour. The policy Azure holds is the body the operator would send, changed only where a row
says so; the budget is what the vault's BackupPolicies recorded in status (limits/policy_budget.py).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from azbackup.api.specs import PolicySpec, VaultSpec
from azbackup.azure import errors, policy_body
from azbackup.kinds.policy import WRITES, PolicyClient
from azbackup.limits import policy_budget
from azbackup.managed import Observation, Operation, OperationResult, OperationState, Resource
from azbackup.reasons import Reason
from azbackup.toolkit import times

from tests.unit.kinds.fake_arm import ERROR_CLASSES, OPERATION_URL, FakeArm, http_error, reason_of

VAULT = VaultSpec("sub", "rg", "westeurope", "vault")
SPEC = {"vaultRef": {"name": "vault"}, "policyType": "Enhanced", "schedule": {"frequency": "Daily", "time": "21:00"},
        "retention": {"daily": {"count": 30}}}
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
GET, PUT, DELETE = ("backup.protection_policies.get", "backup.protection_policies.create_or_update",
                    "backup.protection_policies.begin_delete")
POLICY_ID = ("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/vault"
             "/backupPolicies/daily")


def spec(**changes: Any) -> PolicySpec:
    return PolicySpec.parse("daily", {**SPEC, **changes})


def azure_policy(**props: Any) -> dict[str, Any]:
    """The policy as Azure returns it after the operator's PUT, with `props` changed."""
    body = copy.deepcopy(policy_body.desired_body(spec()))
    body.update(id=POLICY_ID, name="daily")
    body["properties"].update(protectedItemsCount=2, **props)
    return body


def retention(days: int) -> dict[str, Any]:
    return {**azure_policy()["properties"]["retentionPolicy"],
            "dailySchedule": {"retentionTimes": ["2026-01-01T21:00:00Z"],
                              "retentionDuration": {"count": days, "durationType": "Days"}}}


def written(*ago_hours: float, generation: int = 1) -> list[policy_budget.Write]:
    return [policy_budget.Write(NOW - dt.timedelta(hours=h), generation) for h in ago_hours]


@dataclass(frozen=True)
class Case:
    id: str
    actual: dict[str, Any] | Exception
    spec: Mapping[str, Any] = field(default_factory=dict)
    vault_writes: Sequence[policy_budget.Write] = ()
    own_writes: Sequence[policy_budget.Write] = ()
    deleting: bool = False
    want_exists: bool = True
    want_up_to_date: bool = True
    want_reason: Reason | None = None
    want_diff: tuple[str, ...] = ()
    want_recorded: int | None = None  # writes in status after observe (a coming write is recorded before it is sent)


CASES = [
    Case("absent-policy-is-created-and-its-write-recorded-first", http_error(404, "BMSUserErrorObjectNotFound"),
         want_exists=False, want_recorded=1),
    Case("converged-policy-records-nothing", azure_policy()),
    Case("changed-retention-is-drift-and-its-correction-is-recorded",
         azure_policy(retentionPolicy=retention(90)), want_up_to_date=False, want_recorded=1,
         want_diff=("retention.daily: Azure 90, spec 30",)),
    Case("a-standard-policy-asked-to-be-enhanced-is-never-changed", azure_policy(policyType="V1"),
         want_reason=Reason.POLICY_TYPE_CHANGE_REQUIRES_MIGRATION),
    Case("an-enhanced-policy-asked-to-be-standard-is-never-changed", azure_policy(),
         spec={"policyType": "Standard"}, want_reason=Reason.POLICY_TYPE_CHANGE_REQUIRES_MIGRATION),
    Case("no-create-past-the-vaults-fifty-writes-a-day", http_error(404, "BMSUserErrorObjectNotFound"),
         vault_writes=written(*[i * 0.4 for i in range(50)]), want_exists=False,
         want_reason=Reason.POLICY_EDIT_BUDGET_EXHAUSTED),
    Case("drift-that-keeps-returning-is-left-in-place", azure_policy(retentionPolicy=retention(90)),
         own_writes=written(1, 3, 5, 7), want_reason=Reason.DRIFT_KEEPS_RETURNING, want_recorded=4),
    Case("a-deleting-policy-reports-no-drift-and-records-nothing", azure_policy(retentionPolicy=retention(90)),
         deleting=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_observe(case: Case) -> None:
    arm = FakeArm(answers={GET: case.actual})
    status = {WRITES: [w.to_status() for w in case.own_writes]} if case.own_writes else {}
    obj = Resource("BackupPolicy", "ns", "daily", generation=1, spec={**SPEC, **case.spec}, status=status,
                   deleting=case.deleting)
    client = PolicyClient(arm.clients(), VAULT, spec(**case.spec), case.vault_writes, NOW)
    seen = asyncio.run(client.observe(obj))
    recorded = seen.status.get(WRITES)
    got = (seen.exists, seen.up_to_date, reason_of(seen), seen.diff, len(recorded) if recorded else None, arm.calls)
    assert got == (case.want_exists, case.want_up_to_date, case.want_reason, case.want_diff, case.want_recorded,
                   [GET])


def test_a_recorded_write_carries_the_clock_and_the_generation() -> None:
    arm = FakeArm(answers={GET: http_error(404, "BMSUserErrorObjectNotFound")})
    obj = Resource("BackupPolicy", "ns", "daily", generation=4, spec=SPEC)
    seen = asyncio.run(PolicyClient(arm.clients(), VAULT, spec(), (), NOW).observe(obj))
    assert policy_budget.parse_all(seen.status[WRITES]) == [policy_budget.Write(NOW, 4)]


def test_a_refusal_waits_at_least_a_minute_and_never_stalls_for_the_budget() -> None:
    arm = FakeArm(answers={GET: http_error(404, "BMSUserErrorObjectNotFound")})
    writes = written(*[23.99 - i * 0.01 for i in range(50)])  # the oldest frees up in under a minute
    seen = asyncio.run(PolicyClient(arm.clients(), VAULT, spec(), writes, NOW).observe(
        Resource("BackupPolicy", "ns", "daily", spec=SPEC)))
    assert seen.blocked is not None
    assert (seen.blocked.reason, seen.blocked.stalls, seen.blocked.retry_in) == (
        Reason.POLICY_EDIT_BUDGET_EXHAUSTED, False, 60.0)


@pytest.mark.parametrize(("status", "code", "want"), ERROR_CLASSES, ids=[row[2] for row in ERROR_CLASSES])
def test_errors_reading_the_policy_are_translated(status: int, code: str, want: str) -> None:
    arm = FakeArm(answers={GET: http_error(status, code)})
    with pytest.raises(getattr(errors, want)):
        asyncio.run(PolicyClient(arm.clients(), VAULT, spec(), (), NOW).observe(Resource("BackupPolicy", "ns", "d")))


@pytest.mark.parametrize("write", ["create", "update"])
def test_create_and_update_put_the_whole_desired_body(write: str) -> None:
    arm = FakeArm()
    client = PolicyClient(arm.clients(), VAULT, spec(), (), NOW)
    got = asyncio.run(getattr(client, write)(Resource("BackupPolicy", "ns", "daily"), Observation(exists=False)))
    assert (got, arm.calls, arm.sent[PUT]) == (None, [PUT], policy_body.desired_body(spec()))


@pytest.mark.parametrize(("status", "code", "want"), [
    *ERROR_CLASSES,
    (400, "BMSUserErrorInvalidPolicyInput", "InvalidSpec"),
    (400, "UserErrorPolicyOperationQuotaExceeded", "PolicyEditBudgetExhausted"),
], ids=[*(row[2] for row in ERROR_CLASSES), "InvalidSpec", "PolicyEditBudgetExhausted"])
def test_errors_of_the_put_are_translated(status: int, code: str, want: str) -> None:
    arm = FakeArm(answers={PUT: http_error(status, code)})
    with pytest.raises(getattr(errors, want)):
        asyncio.run(PolicyClient(arm.clients(), VAULT, spec(), (), NOW).create(
            Resource("BackupPolicy", "ns", "daily"), Observation(exists=False)))


def test_delete_is_followed_by_its_operation_url() -> None:
    arm = FakeArm(accepted={DELETE})
    got = asyncio.run(PolicyClient(arm.clients(), VAULT, spec(), (), NOW).delete(
        Resource("BackupPolicy", "ns", "daily", generation=2), Observation(exists=True)))
    assert (got and (got.kind, got.url, got.generation), arm.calls) == (("DeletePolicy", OPERATION_URL, 2), [DELETE])


@pytest.mark.parametrize(("code", "want"), [
    pytest.param("BMSUserErrorPolicyInUse", Reason.POLICY_IN_USE, id="a-policy-in-use-is-not-deleted"),
    pytest.param("InternalError", Reason.AZURE_ERROR, id="any-other-failure-is-an-azure-error"),
])
def test_failed_delete(code: str, want: Reason) -> None:
    result = OperationResult(OperationState.FAILED, code, "no")
    hold = PolicyClient(FakeArm().clients(), VAULT, spec(), (), NOW).failed_operation(
        Resource("BackupPolicy", "ns", "daily"), Operation("DeletePolicy", OPERATION_URL, times.rfc3339(NOW)), result)
    assert hold.reason is want


@pytest.mark.parametrize(("policy", "want"), [
    pytest.param({}, False, id="deleted-by-default"),
    pytest.param({"deletionPolicy": "Retain"}, True, id="retained-when-asked"),
])
def test_deletion_policy_decides_whether_azure_keeps_the_policy(policy: Mapping[str, str], want: bool) -> None:
    client = PolicyClient(FakeArm().clients(), VAULT, spec(**policy), (), NOW)
    assert client.keeps_azure_on_delete(Resource("BackupPolicy", "ns", "daily")) is want
