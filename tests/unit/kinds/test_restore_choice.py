"""Which recovery point a restore uses, and the checks before the trigger (pure, table-driven)."""

from __future__ import annotations

import datetime as dt

import pytest
from azbackup.api.specs import PointChoice
from azbackup.kinds import restore_checks as rc
from azbackup.kinds import restore_points as rp
from azbackup.kinds.vmrestore import disk_stamp, job_status
from azbackup.reasons import Reason

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
INSTANT, VAULT, ARCHIVE = ("InstantRP", "Valid"), ("HardenedRP", "Valid"), ("ArchivedRP", "Valid")


def point(name: str, hours_ago: float, *tiers: tuple[str, str], type_: str = "CrashConsistent") -> rp.Point:
    return rp.Point(name, NOW - dt.timedelta(hours=hours_ago), type_, tiers)


POINTS = [
    point("p-new", 2, INSTANT, VAULT, type_="CrashConsistent"),
    point("p-app", 26, VAULT, type_="AppConsistent"),
    point("p-old", 24 * 40, ARCHIVE),
    point("p-gone", 24 * 3, ("InstantRP", "Deleted")),
]


@pytest.mark.parametrize(("choice", "want"), [
    pytest.param(PointChoice(), "p-new", id="latest takes the newest restorable point"),
    pytest.param(PointChoice(consistency="AppConsistent"), "p-app", id="a required consistency skips other types"),
    pytest.param(PointChoice(name="p-app"), "p-app", id="a point by name"),
    pytest.param(PointChoice(before=(NOW - dt.timedelta(hours=10)).isoformat()), "p-app",
                 id="before a time takes the newest older point"),
    pytest.param(PointChoice(name="p-old", allow_rehydration=True), "p-old",
                 id="an archived point with rehydration allowed"),
    pytest.param(PointChoice(name="p-old"), Reason.RECOVERY_POINT_ARCHIVED,
                 id="an archived-only point without rehydration is refused"),
    pytest.param(PointChoice(before=(NOW - dt.timedelta(days=30)).isoformat()), Reason.RECOVERY_POINT_ARCHIVED,
                 id="before a time where only the archive is left is refused"),
    pytest.param(PointChoice(name="p-gone"), Reason.RECOVERY_POINT_NOT_FOUND,
                 id="a point with no valid copy is refused"),
    pytest.param(PointChoice(name="nope"), Reason.RECOVERY_POINT_NOT_FOUND, id="an unknown name is refused"),
    pytest.param(PointChoice(consistency="FileSystemConsistent"), Reason.RECOVERY_POINT_NOT_FOUND,
                 id="no point of the required consistency is refused"),
])
def test_point_choice(choice: PointChoice, want: str | Reason) -> None:
    got = rp.choose(POINTS, choice)
    if isinstance(want, Reason):
        assert isinstance(got, rp.Refused), got
        assert got.reason is want, got
    else:
        assert isinstance(got, rp.Chosen), got
        assert got.point.name == want, got
        assert got.rehydrate == (want == "p-old")


def test_a_point_parses_from_azures_json() -> None:
    raw = {"name": "123", "properties": {"recoveryPointTime": "2026-12-01T10:00:00.123Z", "recoveryPointType":
           "AppConsistent", "recoveryPointTierDetails": [{"type": "InstantRP", "status": "Valid"}]}}
    parsed = rp.Point.parse(raw)
    assert parsed is not None
    assert parsed.direct
    assert parsed.type == "AppConsistent"


OK = rc.RestoreFacts("NewVM", "vm-a", "westeurope", "westeurope", "rg-drill", True,
                     rc.Located(True, "westeurope"), "vm-a-r", False, rc.Located(True, "westeurope"))


@pytest.mark.parametrize(("change", "want"), [
    pytest.param({}, None, id="everything in place passes"),
    pytest.param({"target_group_exists": False}, Reason.RESOURCE_GROUP_NOT_FOUND, id="a missing target group"),
    pytest.param({"target_vm_exists": True}, Reason.RESTORE_TARGET_EXISTS, id="a taken VM name is never replaced"),
    pytest.param({"subnet": rc.Located(True, "northeurope")}, Reason.SUBNET_REGION_MISMATCH,
                 id="a subnet in another region than the source"),
    pytest.param({"subnet": rc.Located(False)}, Reason.SUBNET_REGION_MISMATCH, id="a missing subnet"),
    pytest.param({"staging": rc.Located(True, "North Europe")}, Reason.STAGING_ACCOUNT_REGION_MISMATCH,
                 id="a staging account outside the vault's region"),
    pytest.param({"staging": rc.Located(False)}, Reason.STAGING_ACCOUNT_REGION_MISMATCH,
                 id="a missing staging account"),
    pytest.param({"mode": "Disks", "target_vm_exists": True, "subnet": None}, None,
                 id="a disk restore needs no VM name or subnet"),
    pytest.param({"staging": rc.Located(True, "West Europe")}, None, id="region names compare as Azure writes them"),
])
def test_checks_before_the_trigger(change: dict[str, object], want: Reason | None) -> None:
    import dataclasses

    failure = rc.check(dataclasses.replace(OK, **change))  # type: ignore[arg-type]
    assert (failure.reason if failure else None) is want


@pytest.mark.parametrize(("status", "wants_vm", "phase"), [
    pytest.param("InProgress", True, "Running", id="a running job"),
    pytest.param("Completed", True, "Succeeded", id="a completed job"),
    pytest.param("CompletedWithWarnings", True, "Failed", id="warnings without the asked-for VM fail"),
    pytest.param("CompletedWithWarnings", False, "Succeeded", id="warnings on a disk restore succeed"),
    pytest.param("Failed", False, "Failed", id="a failed job"),
    pytest.param("Cancelled", True, "Failed", id="a cancelled job"),
])
def test_job_status(status: str, wants_vm: bool, phase: str) -> None:
    job = {"name": "j1", "properties": {"status": status, "errorDetails": [{"errorTitle": "UserErrorX"}]}}
    got = job_status(job, wants_vm)
    assert got["phase"] == phase
    assert got["errorCode"] == ("UserErrorX" if phase == "Failed" else None)


@pytest.mark.parametrize(("name", "want"), [
    pytest.param("vm-a-osdisk-20261201-101500", "20261201-101500", id="an OS disk"),
    pytest.param("vm-a-datadisk-0-20261201-101500", "20261201-101500", id="a data disk"),
    pytest.param("vm-ab-osdisk-20261201-101500", None, id="another VM's disk"),
    pytest.param("vm-a-osdisk", None, id="no stamp"),
])
def test_disk_stamp(name: str, want: str | None) -> None:
    assert disk_stamp(name, "vm-a") == want
