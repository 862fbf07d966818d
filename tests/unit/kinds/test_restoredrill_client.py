"""RestoreDrill's client over fake objects, a fake Kubernetes and a fake ARM: a run's state machine, table-driven.

A drill owns VMRestore children and starts no Azure operation of its own: observe plans (which child to
create or delete) and reads the restored VM's instance view; update applies the plan to Kubernetes.
One row per behaviour: what status and the children hold, what Azure says of the restored VM, and
what observe reports, plans and reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from azbackup.api.specs import RestoreDrillSpec
from azbackup.azure import errors
from azbackup.kinds.drill_plan import Result, RunPhase
from azbackup.kinds.restoredrill import DrillClient, child_name
from azbackup.managed import Resource
from azbackup.reasons import Reason
from kubernetes.client.exceptions import ApiException

from tests.unit.kinds.fake_arm import ERROR_CLASSES, FakeArm, http_error, reason_of

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
SPEC = {"vaultRef": {"name": "vault"}, "schedule": "0 3 * * *",
        "target": {"resourceGroup": "rg-drill", "stagingStorageAccountId": "/subscriptions/sub/sa"},
        "targets": {"names": ["web", "db"]}}
RESTORED = "/subscriptions/sub/resourceGroups/rg-drill/providers/Microsoft.Compute/virtualMachines/web-r1"
VIEW = f"{RESTORED}/instanceView"
RUNNING = {"statuses": [{"code": "PowerState/running"}], "vmAgent": {"statuses": [{"displayStatus": "Ready"}]}}
STOPPED = {"statuses": [{"code": "PowerState/stopped"}], "vmAgent": {"statuses": []}}
DRILL = Resource("RestoreDrill", "ns", "drill", uid="u-drill", generation=1, spec=SPEC, created="2026-11-30T12:00:00Z")
CHILD = child_name(DRILL, 1, 0)


def pvm(name: str) -> Resource:
    return Resource("ProtectedVM", "ns", name)


def child(phase: str | None, ended: str = "2026-12-01T11:55:00Z", **status: Any) -> Resource:
    """Run 1's VMRestore of `web`, in the job phase given."""
    body = {"phase": phase, "recoveryPoint": "rp1", "recoveryPointTime": "2026-12-01T02:00:00Z",
            "startTime": "2026-12-01T03:00:10Z", "completionTime": ended,
            "created": {"virtualMachine": RESTORED}, **status}
    return Resource("VMRestore", "ns", CHILD, generation=1, status=body,
                    owner_references=[{"uid": DRILL.uid, "kind": "RestoreDrill", "name": DRILL.name}])


def run(phase: RunPhase, outcome: Result = Result.RUNNING, **target: Any) -> dict[str, Any]:
    """status.currentRun of run 1, which drills `web` (`target` changes its entry)."""
    return {"id": 1, "scheduledFor": "2026-12-01T03:00:00Z", "startedAt": "2026-12-01T03:00:05Z", "phase": phase,
            "result": outcome, "targets": [{"protectedVM": "web", "restore": CHILD, "vmName": "web-r1",
                                           "result": Result.RUNNING, **target}]}


IN_FLIGHT = {"runCount": 1, "lastScheduled": "2026-12-01T03:00:00Z"}
PASSED = {"result": Result.PASSED, "rpoSeconds": 3605, "rtoSeconds": 60}


@dataclass
class Kube:
    fail_create: ApiException | None = None
    writes: list[str] = field(default_factory=list)

    async def create(self, manifest: Mapping[str, Any]) -> Mapping[str, Any]:
        self.writes.append(f"create {manifest['metadata']['name']}")
        if self.fail_create is not None:
            raise self.fail_create
        return manifest

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        self.writes.append(f"delete {name}")


def client(objects: Sequence[Resource], arm: FakeArm, kube: Kube | None = None, **spec: Any) -> DrillClient:
    listing = SimpleNamespace(of_kind=lambda kind, namespace=None: [o for o in objects if o.kind == kind])
    ctx = SimpleNamespace(objects=listing, kube=kube or Kube())
    return DrillClient(cast(Any, ctx), arm.clients(), RestoreDrillSpec.parse({**SPEC, **spec}), NOW)


@dataclass(frozen=True)
class Case:
    id: str
    status: Mapping[str, Any] = field(default_factory=dict)
    objects: Sequence[Resource] = (pvm("web"), pvm("db"))
    views: Mapping[str, Any] = field(default_factory=dict)  # instance views by URL path
    spec: Mapping[str, Any] = field(default_factory=dict)
    created: str = DRILL.created
    want_reason: Reason | None = None
    want_plan: tuple[str, ...] = ()  # the Kubernetes writes observe plans for update
    want_phase: str | None = None  # of the run in flight after observe
    want_last: str | None = None  # result of the latest finished run
    want_calls: tuple[str, ...] = ()


CASES = [
    Case("before-the-first-schedule-time-nothing-runs", created="2026-12-01T04:00:00Z",
         want_reason=Reason.DRILL_SCHEDULED),
    Case("a-due-run-restores-the-least-recently-drilled-vm-through-a-child",
         status={"lastDrilled": {"db": "2026-11-30T03:00:00Z"}}, want_reason=Reason.DRILL_RUNNING,
         want_plan=(f"create {CHILD}",), want_phase=RunPhase.RESTORING),
    Case("a-suspended-drill-starts-nothing", spec={"suspend": True}, want_reason=Reason.DRILL_SCHEDULED),
    Case("no-matching-protectedvm-skips-the-run", objects=(pvm("other"),), want_reason=Reason.NO_DRILL_TARGETS),
    Case("an-unreadable-schedule-is-blocked", spec={"schedule": "every tuesday"},
         want_reason=Reason.INVALID_SCHEDULE),
    Case("a-restore-still-running-is-waited-for", status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)},
         objects=(pvm("web"), child("InProgress")), want_reason=Reason.DRILL_RUNNING, want_phase=RunPhase.RESTORING),
    Case("a-restored-vm-that-runs-with-its-agent-passes-and-its-restore-is-cleaned-up",
         status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)}, objects=(pvm("web"), child("Succeeded")),
         views={VIEW: RUNNING}, want_reason=Reason.DRILL_RUNNING, want_plan=(f"delete {CHILD}",),
         want_phase=RunPhase.CLEANING_UP, want_calls=(f"GET {VIEW}",)),
    Case("a-restored-vm-not-running-yet-is-waited-for-until-the-deadline",
         status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)}, objects=(pvm("web"), child("Succeeded")),
         views={VIEW: STOPPED}, want_reason=Reason.DRILL_RUNNING, want_phase=RunPhase.RESTORING,
         want_calls=(f"GET {VIEW}",)),
    Case("a-restored-vm-azure-cannot-find-yet-is-waited-for",
         status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)}, objects=(pvm("web"), child("Succeeded")),
         want_reason=Reason.DRILL_RUNNING, want_phase=RunPhase.RESTORING, want_calls=(f"GET {VIEW}",)),
    Case("a-restored-vm-not-running-past-the-deadline-fails-and-is-cleaned-up",
         status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)},
         objects=(pvm("web"), child("Succeeded", ended="2026-12-01T11:00:00Z")), views={VIEW: STOPPED},
         want_reason=Reason.DRILL_RUNNING, want_plan=(f"delete {CHILD}",), want_phase=RunPhase.CLEANING_UP,
         want_calls=(f"GET {VIEW}",)),
    Case("a-failed-restore-is-kept-to-investigate-with-cleanup-on-success",
         status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)}, objects=(pvm("web"), child("Failed")),
         spec={"cleanup": "OnSuccess"}, want_reason=Reason.DRILL_FAILED, want_last=Result.FAILED),
    Case("a-restore-that-vanished-fails-its-vm", status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)},
         want_reason=Reason.DRILL_FAILED, want_last=Result.FAILED),
    Case("a-restore-being-deleted-is-waited-for", status={**IN_FLIGHT, "currentRun": run(
        RunPhase.CLEANING_UP, Result.PASSED, **PASSED)},
         objects=(pvm("web"), Resource("VMRestore", "ns", CHILD, deleting=True,
                                       owner_references=[{"uid": DRILL.uid}])),
         want_reason=Reason.DRILL_RUNNING, want_phase=RunPhase.CLEANING_UP),
    Case("a-run-whose-restores-are-gone-is-done", status={**IN_FLIGHT, "currentRun": run(
        RunPhase.CLEANING_UP, Result.PASSED, **PASSED)}, want_reason=Reason.DRILL_PASSED, want_last=Result.PASSED),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_observe(case: Case) -> None:
    arm = FakeArm(urls=dict(case.views))
    obj = Resource("RestoreDrill", "ns", "drill", uid=DRILL.uid, generation=1, spec={**SPEC, **case.spec},
                   status=dict(case.status), created=case.created)
    seen = asyncio.run(client(case.objects, arm, **case.spec).observe(obj))
    current = seen.status.get("currentRun")
    runs = seen.status.get("runs") or [{}]
    got = (reason_of(seen), seen.diff, current and current["phase"], runs[0].get("result"), tuple(arm.calls))
    assert got == (case.want_reason, case.want_plan, case.want_phase, case.want_last, case.want_calls)


def test_a_passed_run_reports_its_evidence_and_meets_its_objectives() -> None:
    arm = FakeArm(urls={VIEW: RUNNING})
    drill = Resource("RestoreDrill", "ns", "drill", uid=DRILL.uid, spec=SPEC,
                     status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)})
    seen = asyncio.run(client((pvm("web"), child("Succeeded")), arm, rpoObjective="2h").observe(drill))
    current = seen.status["currentRun"]
    target = current["targets"][0]
    assert {k: target.get(k) for k in ("result", "recoveryPoint", "rpoSeconds", "jobSeconds", "bootSeconds")} == {
        "result": Result.PASSED, "recoveryPoint": "rp1", "rpoSeconds": 3605, "jobSeconds": 32090, "bootSeconds": 300}
    assert (current["result"], current["achievedRPO"], current["objectivesMet"]) == (Result.PASSED, "1h", True)


def test_a_finished_run_sets_degraded_by_its_objectives() -> None:
    # The run was judged when it left Restoring: its missed objectives travel with it to Done.
    judged = {**run(RunPhase.CLEANING_UP, Result.PASSED, **{**PASSED, "rpoSeconds": 90000}),
              "missed": ["achieved RPO 25h exceeds the objective 24h"]}
    drill = Resource("RestoreDrill", "ns", "drill", uid=DRILL.uid, spec=SPEC,
                     status={**IN_FLIGHT, "currentRun": judged})
    seen = asyncio.run(client((pvm("web"),), FakeArm(), rpoObjective="24h").observe(drill))
    assert [(c.type, c.status, c.reason) for c in seen.conditions] == [("Degraded", "True", Reason.OBJECTIVE_MISSED)]


def test_a_deleting_drill_leaves_clean_up_to_its_children() -> None:
    drill = Resource("RestoreDrill", "ns", "drill", uid=DRILL.uid, spec=SPEC, deleting=True,
                     status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)})
    arm = FakeArm()
    seen = asyncio.run(client((pvm("web"), child("InProgress")), arm).observe(drill))
    assert (seen.exists, arm.calls) == (False, [])


@pytest.mark.parametrize(("status", "code", "want"), ERROR_CLASSES, ids=[row[2] for row in ERROR_CLASSES])
def test_errors_reading_the_restored_vm_are_translated(status: int, code: str, want: str) -> None:
    arm = FakeArm(urls={VIEW: http_error(status, code)})
    drill = Resource("RestoreDrill", "ns", "drill", uid=DRILL.uid, spec=SPEC,
                     status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)})
    with pytest.raises(getattr(errors, want)):
        asyncio.run(client((pvm("web"), child("Succeeded")), arm).observe(drill))


@pytest.mark.parametrize(("fail", "want_error"), [
    pytest.param(None, None, id="the-planned-child-is-created"),
    pytest.param(ApiException(status=409), None, id="a-child-created-before-a-restart-is-fine"),
    pytest.param(ApiException(status=500), ApiException, id="any-other-kubernetes-error-propagates"),
])
def test_update_creates_the_planned_children(fail: ApiException | None, want_error: type[Exception] | None) -> None:
    kube = Kube(fail_create=fail)
    drill_client = client((pvm("web"),), FakeArm(), kube)
    seen = asyncio.run(drill_client.observe(DRILL))
    if want_error is not None:
        with pytest.raises(want_error):
            asyncio.run(drill_client.update(DRILL, seen))
    else:
        assert asyncio.run(drill_client.create(DRILL, seen)) is None
    assert kube.writes == [f"create {CHILD}"]


def test_update_deletes_the_restores_to_clean_up() -> None:
    kube = Kube()
    drill = Resource("RestoreDrill", "ns", "drill", uid=DRILL.uid, spec=SPEC,
                     status={**IN_FLIGHT, "currentRun": run(RunPhase.RESTORING)})
    drill_client = client((pvm("web"), child("Failed")), FakeArm(), kube)
    asyncio.run(drill_client.update(drill, asyncio.run(drill_client.observe(drill))))
    assert kube.writes == [f"delete {CHILD}"]
