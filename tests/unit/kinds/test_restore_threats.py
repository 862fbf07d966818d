"""Clean restore points: requireThreatStatus picks the newest Healthy point and says what it passed over;
a drill reports a newer UnHealthy or Warning point as a finding (pure, table-driven)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from azbackup.api.specs import PointChoice, RestoreDrillSpec
from azbackup.kinds import drill_metrics
from azbackup.kinds import restore_points as rp
from azbackup.kinds.restoredrill import threat_findings
from azbackup.managed import Resource
from azbackup.reasons import Reason

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
VAULT, ARCHIVE = ("HardenedRP", "Valid"), ("ArchivedRP", "Valid")


def point(name: str, hours_ago: float, threat: str | None, *tiers: tuple[str, str]) -> rp.Point:
    return rp.Point(name, NOW - dt.timedelta(hours=hours_ago), "CrashConsistent", tiers or (VAULT,), threat)


SCANNED = [point("p-bad", 1, "UnHealthy"), point("p-warn", 5, "Warning"), point("p-new", 8, "Unknown"),
           point("p-ok", 24, "Healthy"), point("p-older", 48, "Healthy")]
UNSCANNED = [point("u-new", 1, None), point("u-old", 24, "NotAvailable")]
NONE_HEALTHY = [point("b-1", 1, "UnHealthy"), point("b-2", 24, "Warning")]
LATE_SCAN = [point("l-new", 1, None), point("l-ok", 24, "Healthy")]  # the scan was turned off since


@pytest.mark.parametrize(("points", "require", "want", "skipped"), [
    pytest.param(SCANNED, None, "p-bad", (), id="without a requirement the latest point wins, threat or not"),
    pytest.param(SCANNED, "Healthy", "p-ok", ("p-bad", "p-warn", "p-new"),
                 id="Healthy takes the newest Healthy point and lists the newer ones it passed over"),
    pytest.param(SCANNED, "HealthyWhenScanned", "p-ok", ("p-bad", "p-warn", "p-new"),
                 id="HealthyWhenScanned requires Healthy once the points carry a scan's status"),
    pytest.param(UNSCANNED, "HealthyWhenScanned", "u-new", (),
                 id="HealthyWhenScanned takes the latest point when nothing was scanned"),
    pytest.param(UNSCANNED, "Healthy", Reason.NO_HEALTHY_RECOVERY_POINT, (),
                 id="Healthy refuses when nothing was scanned"),
    pytest.param(NONE_HEALTHY, "HealthyWhenScanned", Reason.NO_HEALTHY_RECOVERY_POINT, ("b-1", "b-2"),
                 id="no Healthy point is refused, naming what matched"),
    pytest.param(LATE_SCAN, "HealthyWhenScanned", "l-ok", ("l-new",),
                 id="a newer unscanned point is passed over once the item was scanned"),
    pytest.param([point("a-ok", 48, "Healthy", ARCHIVE), point("a-bad", 1, "UnHealthy")], "Healthy",
                 Reason.RECOVERY_POINT_ARCHIVED, ("a-bad",),
                 id="the newest Healthy point still needs a restorable tier"),
])
def test_require_threat_status(points: list[rp.Point], require: str | None, want: str | Reason,
                               skipped: tuple[str, ...]) -> None:
    got = rp.choose(points, PointChoice(require_threat_status=require))
    if isinstance(want, Reason):
        assert isinstance(got, rp.Refused), got
        assert got.reason is want, got
    else:
        assert isinstance(got, rp.Chosen), got
        assert got.point.name == want
    assert tuple(p.name for p in got.skipped) == skipped


def test_a_refusal_for_no_scan_says_how_to_get_one() -> None:
    got = rp.choose(UNSCANNED, PointChoice(require_threat_status="Healthy"))
    assert isinstance(got, rp.Refused)
    assert "sourceScanConfiguration" in got.message


def test_a_point_reads_its_threat_status_from_azures_json() -> None:
    raw = {"name": "123", "properties": {"recoveryPointTime": "2026-12-01T10:00:00Z", "threatStatus": "UnHealthy",
           "recoveryPointTierDetails": [{"type": "HardenedRP", "status": "Valid"}]}}
    parsed = rp.Point.parse(raw)
    assert parsed is not None
    assert parsed.threat == "UnHealthy"
    assert parsed.evidence() == {"name": "123", "time": "2026-12-01T10:00:00Z", "threatStatus": "UnHealthy"}
    unscanned = rp.Point.parse({**raw, "properties": {**raw["properties"], "threatStatus": None}})
    assert unscanned is not None
    assert unscanned.evidence()["threatStatus"] == "NotReported"


@pytest.mark.parametrize(("spec", "want"), [
    pytest.param({}, "HealthyWhenScanned", id="a drill requires Healthy once scanned by default"),
    pytest.param({"recoveryPoint": {"requireThreatStatus": "Any"}}, "Any", id="a drill may opt out"),
])
def test_drill_spec_threat_requirement(spec: dict[str, Any], want: str) -> None:
    base = {"vaultRef": {"name": "v"}, "schedule": "@daily", "targets": {"names": ["web"]},
            "target": {"resourceGroup": "rg", "stagingStorageAccountId": "s"}}
    assert RestoreDrillSpec.parse({**base, **spec}).require_threat_status == want


BAD = {"name": "p-bad", "time": "2026-12-01T11:00:00Z", "threatStatus": "UnHealthy"}
UNKNOWN = {"name": "p-new", "time": "2026-12-01T04:00:00Z", "threatStatus": "Unknown"}


@pytest.mark.parametrize(("targets", "want"), [
    pytest.param([{"protectedVM": "web", "recoveryPoint": "p-ok", "threatStatus": "Healthy"}], [],
                 id="nothing passed over is no finding"),
    pytest.param([{"protectedVM": "web", "recoveryPoint": "p-ok", "threatStatus": "Healthy",
                   "skippedRecoveryPoints": [UNKNOWN]}], [], id="a point still being scanned is no finding"),
    pytest.param([{"protectedVM": "web", "recoveryPoint": "p-ok", "threatStatus": "Healthy",
                   "skippedRecoveryPoints": [BAD, UNKNOWN]}],
                 ["web: recovery point p-bad of 2026-12-01T11:00:00Z is UnHealthy; restored p-ok (Healthy) instead"],
                 id="a newer UnHealthy point is a finding naming what was restored instead"),
    pytest.param([{"protectedVM": "db", "skippedRecoveryPoints": [BAD]}],
                 ["db: recovery point p-bad of 2026-12-01T11:00:00Z is UnHealthy; restored nothing"],
                 id="no Healthy point at all is a finding too"),
])
def test_threat_findings(targets: list[dict[str, Any]], want: list[str]) -> None:
    assert threat_findings({"targets": targets}) == want


def test_drill_metrics_carry_each_vms_point_threat_status() -> None:
    drill = Resource("RestoreDrill", "ops", "weekly", status={"runs": [
        {"targets": [{"protectedVM": "web", "threatStatus": "Healthy", "skippedRecoveryPoints": [BAD, UNKNOWN]},
                     {"protectedVM": "db", "threatStatus": "NotReported"}]},
        {"targets": [{"protectedVM": "web", "threatStatus": "UnHealthy"}]}]})
    samples = {(s.name, tuple(s.labels.values())): s.value
               for fam in drill_metrics.collect([drill]) for s in fam.samples}
    assert samples[("azbackup_restore_drill_point_threat_status", ("ops", "weekly", "web", "Healthy"))] == 1
    assert samples[("azbackup_restore_drill_point_threat_status", ("ops", "weekly", "db", "NotReported"))] == 1
    assert ("azbackup_restore_drill_point_threat_status", ("ops", "weekly", "web", "UnHealthy")) not in samples
    assert samples[("azbackup_restore_drill_threatened_points_skipped", ("ops", "weekly", "web"))] == 1
    assert samples[("azbackup_restore_drill_threatened_points_skipped", ("ops", "weekly", "db"))] == 0
