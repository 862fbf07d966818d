"""VMRestore's client over a fake ARM: the checks before the trigger, the trigger, the job, the clean-up.

One row per behaviour: the recovery points, the target's resources and the jobs Azure holds, what status
and the create journal hold, and what observe reports and reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from azbackup.api.specs import VaultSpec, VMRestoreSpec
from azbackup.azure import errors
from azbackup.kinds import restore_points
from azbackup.kinds.vmrestore import RestoreClient, Source
from azbackup.managed import JOURNAL_PENDING, Observation, Resource
from azbackup.reasons import Reason

from tests.unit.kinds.fake_arm import ERROR_CLASSES, OPERATION_URL, FakeArm, http_error, reason_of

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
VAULT = VaultSpec("sub", "rg", "westeurope", "vault")
SOURCE = "/subscriptions/sub/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web"
GROUP = "/subscriptions/sub/resourceGroups/rg-restore"
SUBNET = "/subscriptions/sub/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"
STAGING = "/subscriptions/sub/resourceGroups/rg-restore/providers/Microsoft.Storage/storageAccounts/staging"
TARGET_VM = f"{GROUP}/providers/Microsoft.Compute/virtualMachines/web-restored"
NIC = f"{GROUP}/providers/Microsoft.Network/networkInterfaces/web-restored-nic"
DISK = f"{GROUP}/providers/Microsoft.Compute/disks/web-restored-osdisk-20261201-110000"
DISKS = f"{GROUP}/providers/Microsoft.Compute/disks"
SPEC = {"protectedVMRef": {"name": "web"}, "mode": "NewVM",
        "target": {"resourceGroup": "rg-restore", "vmName": "web-restored", "subnetId": SUBNET,
                   "stagingStorageAccountId": STAGING}}
POINTS, JOBS, JOB = ("backup.recovery_points.list", "backup.backup_jobs.list", "backup.job_details.get")
TRIGGER = "backup.restores.begin_trigger"
# The target's resources as a restore finds them before the trigger: group, staging account and subnet
# there, no VM of the target name yet.
READY_TARGET = {DISKS: {"value": []}, STAGING: {"location": "westeurope"},
                SUBNET.rsplit("/subnets/", 1)[0]: {"location": "westeurope"}, SUBNET: {}}
RESTORED_VM = {"id": TARGET_VM, "properties": {
    "networkProfile": {"networkInterfaces": [{"id": NIC}]},
    "storageProfile": {"osDisk": {"managedDisk": {"id": DISK}}, "dataDisks": []}}}


def point(name: str, hours_ago: float) -> dict[str, Any]:
    when = (NOW - dt.timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"name": name, "properties": {"recoveryPointTime": when, "recoveryPointType": "CrashConsistent",
                                         "recoveryPointTierDetails": [{"type": "HardenedRP", "status": "Valid"}]}}


def job(status: str, target_vm: str = "web-restored") -> dict[str, Any]:
    return {"name": "j1", "properties": {
        "status": status, "entityFriendlyName": "web", "startTime": "2026-12-01T10:59:00Z",
        "endTime": "2026-12-01T11:10:00Z", "duration": "PT11M",
        "extendedInfo": {"propertyBag": {"Target VM Name": target_vm}}}}


def client(arm: FakeArm, **spec: Any) -> RestoreClient:
    return RestoreClient(arm.clients(), VAULT, Source(SOURCE, "web", None), VMRestoreSpec.parse({**SPEC, **spec}),
                         NOW)


def obj(status: Mapping[str, Any] | None = None, annotations: Mapping[str, str] | None = None,
        deleting: bool = False) -> Resource:
    return Resource("VMRestore", "ns", "restore", generation=1, spec=SPEC, status=dict(status or {}),
                    annotations=dict(annotations or {}), deleting=deleting)


@dataclass(frozen=True)
class Case:
    id: str
    urls: Mapping[str, Any] = field(default_factory=lambda: READY_TARGET)
    points: list[dict[str, Any]] = field(default_factory=lambda: [point("rp1", 30), point("rp2", 6)])
    job: dict[str, Any] | None = None
    status: Mapping[str, Any] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    want_exists: bool = False
    want_reason: Reason | None = None
    want_point: str | None = None  # the point observe plans to restore
    want_trigger_free: bool = True  # observe never triggers


CASES = [
    Case("the-newest-point-is-planned-when-every-check-passes", want_point="rp2"),
    Case("no-recovery-point-sends-nothing", points=[], want_reason=Reason.RECOVERY_POINT_NOT_FOUND),
    Case("a-missing-target-group-sends-nothing",
         urls={**READY_TARGET, DISKS: http_error(404, "ResourceGroupNotFound")},
         want_reason=Reason.RESOURCE_GROUP_NOT_FOUND),
    Case("a-vm-of-the-target-name-is-never-overwritten", urls={**READY_TARGET, TARGET_VM: {"id": TARGET_VM}},
         want_reason=Reason.RESTORE_TARGET_EXISTS),
    Case("a-missing-subnet-sends-nothing", urls={k: v for k, v in READY_TARGET.items() if k != SUBNET},
         want_reason=Reason.SUBNET_REGION_MISMATCH),
    Case("a-staging-account-in-another-region-sends-nothing",
         urls={**READY_TARGET, STAGING: {"location": "northeurope"}},
         want_reason=Reason.STAGING_ACCOUNT_REGION_MISMATCH),
    Case("a-running-restore-job-is-followed", job=job("InProgress"), status={"jobId": "j1"}, want_exists=True,
         want_reason=Reason.RESTORE_TRIGGERED),
    Case("a-completed-restore-is-ready", job=job("Completed"), status={"jobId": "j1"},
         urls={TARGET_VM: RESTORED_VM}, want_exists=True, want_reason=Reason.RESTORE_SUCCEEDED),
    Case("completed-with-warnings-fails-a-restore-that-asked-for-a-vm", job=job("CompletedWithWarnings"),
         status={"jobId": "j1"}, urls={DISKS: {"value": []}}, want_exists=True, want_reason=Reason.RESTORE_FAILED),
    Case("a-finished-restore-is-read-from-status-with-no-call", status={"jobId": "j1", "phase": "Succeeded"},
         want_exists=True, want_reason=Reason.RESTORE_SUCCEEDED),
    Case("a-lost-trigger-whose-job-shows-up-is-adopted", job=job("InProgress"),
         annotations={JOURNAL_PENDING: "2026-12-01T10:58:00.000000Z"}, want_exists=True,
         want_reason=Reason.RESTORE_TRIGGERED),
    Case("a-lost-trigger-with-another-targets-job-looks-on-and-plans-the-point", job=job("InProgress", "other-vm"),
         annotations={JOURNAL_PENDING: "2026-12-01T10:58:00.000000Z"}, want_reason=Reason.TRIGGER_OUTCOME_UNKNOWN,
         want_point="rp2"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_observe(case: Case) -> None:
    arm = FakeArm(answers={JOB: case.job}, pages={POINTS: case.points, JOBS: [case.job] if case.job else []},
                  urls=dict(case.urls))
    seen = asyncio.run(client(arm).observe(obj(case.status, case.annotations)))
    planned = seen.plan.point.name if isinstance(seen.plan, restore_points.Chosen) else None
    assert (seen.exists, reason_of(seen), planned, TRIGGER not in arm.calls) == (
        case.want_exists, case.want_reason, case.want_point, case.want_trigger_free)


def test_a_completed_restore_reports_what_it_created() -> None:
    arm = FakeArm(answers={JOB: job("Completed")}, urls={TARGET_VM: RESTORED_VM})
    seen = asyncio.run(client(arm).observe(obj({"jobId": "j1"})))
    assert seen.status["created"] == {"virtualMachine": TARGET_VM, "networkInterfaces": [NIC], "disks": [DISK]}


def test_a_disk_restore_reports_the_disks_stamped_while_its_job_ran() -> None:
    stamped = [{"id": f"{DISKS}/web-osdisk-20261201-110000", "name": "web-osdisk-20261201-110000"},
               {"id": f"{DISKS}/web-osdisk-20261130-110000", "name": "web-osdisk-20261130-110000"},
               {"id": f"{DISKS}/other-osdisk-20261201-110000", "name": "other-osdisk-20261201-110000"}]
    arm = FakeArm(answers={JOB: job("CompletedWithWarnings")}, urls={DISKS: {"value": stamped}})
    seen = asyncio.run(client(arm, mode="RestoreDisks").observe(obj({"jobId": "j1"})))
    assert (reason_of(seen), seen.status["created"]["disks"]) == (
        Reason.RESTORE_SUCCEEDED, [f"{DISKS}/web-osdisk-20261201-110000"])


def test_the_trigger_sends_the_planned_point_once_and_is_followed_by_url() -> None:
    arm = FakeArm(accepted={TRIGGER})
    chosen = restore_points.Chosen(restore_points.Point.parse(point("rp2", 6)) or pytest.fail("point"), False)
    got = asyncio.run(client(arm).create(obj(), Observation(exists=False, plan=chosen)))
    body = arm.sent[TRIGGER]["properties"]
    assert (got and (got.kind, got.url), arm.calls) == (("TriggerRestore", OPERATION_URL), [TRIGGER])
    assert {k: body[k] for k in ("objectType", "recoveryPointId", "recoveryType", "targetVirtualMachineId",
                                 "subnetId", "targetResourceGroupId")} == {
        "objectType": "IaasVMRestoreRequest", "recoveryPointId": "rp2", "recoveryType": "AlternateLocation",
        "targetVirtualMachineId": TARGET_VM, "subnetId": SUBNET, "targetResourceGroupId": GROUP}


def test_no_trigger_without_a_planned_point() -> None:
    arm = FakeArm()
    with pytest.raises(errors.InvalidSpec):
        asyncio.run(client(arm).create(obj(), Observation(exists=False)))
    assert arm.calls == []


@pytest.mark.parametrize(("status", "code", "want"), ERROR_CLASSES, ids=[row[2] for row in ERROR_CLASSES])
def test_errors_of_the_trigger_are_translated(status: int, code: str, want: str) -> None:
    arm = FakeArm(answers={TRIGGER: http_error(status, code)})
    chosen = restore_points.Chosen(restore_points.Point.parse(point("rp2", 6)) or pytest.fail("point"), False)
    with pytest.raises(getattr(errors, want)):
        asyncio.run(client(arm).create(obj(), Observation(exists=False, plan=chosen)))


CREATED = {"created": {"virtualMachine": TARGET_VM, "networkInterfaces": [NIC], "disks": [DISK]}}


@pytest.mark.parametrize(("present", "want_remaining", "want_deletes"), [
    pytest.param({TARGET_VM: {}, NIC: {}, DISK: {}}, [TARGET_VM, NIC, DISK], [f"DELETE {TARGET_VM}"],
                 id="the-vm-goes-first"),
    pytest.param({NIC: {}, DISK: {}}, [NIC, DISK], [f"DELETE {NIC}", f"DELETE {DISK}"],
                 id="then-its-nics-and-disks"),
    pytest.param({}, None, [], id="nothing-left-is-gone"),
])
def test_clean_up_deletes_exactly_what_the_restore_created(present: dict[str, Any], want_remaining: list[str] | None,
                                                           want_deletes: list[str]) -> None:
    arm = FakeArm(urls=present)
    restore = obj(CREATED, deleting=True)
    seen = asyncio.run(client(arm, cleanup="Delete").observe(restore))
    arm.calls.clear()
    asyncio.run(client(arm, cleanup="Delete").delete(restore, seen))
    assert (seen.exists, seen.status["remaining"], arm.calls) == (bool(present), want_remaining, want_deletes)


@pytest.mark.parametrize(("cleanup", "want"), [
    pytest.param("Retain", True, id="what-it-made-outlives-it-by-default"),
    pytest.param("Delete", False, id="deleted-when-asked"),
])
def test_cleanup_decides_whether_azure_keeps_what_it_made(cleanup: str, want: bool) -> None:
    assert client(FakeArm(), cleanup=cleanup).keeps_azure_on_delete(obj()) is want
