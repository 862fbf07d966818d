"""Restore drill metrics come from the drills' status at scrape time."""

from __future__ import annotations

from azbackup.kinds import drill_metrics
from azbackup.managed import Resource


def test_runs_by_result_and_each_vms_last_rpo_and_rto() -> None:
    drill = Resource("RestoreDrill", "ops", "weekly", status={
        "passedRuns": 3, "failedRuns": 1,
        "runs": [{"targets": [{"protectedVM": "web", "rpoSeconds": 3600, "rtoSeconds": 300}]},
                 {"targets": [{"protectedVM": "web", "rpoSeconds": 99, "rtoSeconds": 99},
                              {"protectedVM": "db", "rpoSeconds": 7200}]}]})
    other = Resource("ProtectedVM", "ops", "web")
    families = {f.name: f for f in drill_metrics.collect([drill, other])}
    samples = {(f, tuple(s.labels.values())): s.value for f, fam in families.items() for s in fam.samples}
    assert samples[("azbackup_restore_drill_runs", ("ops", "weekly", "Passed"))] == 3
    assert samples[("azbackup_restore_drill_runs", ("ops", "weekly", "Failed"))] == 1
    assert samples[("azbackup_restore_drill_rpo_seconds", ("ops", "weekly", "web"))] == 3600  # the newest run's
    assert samples[("azbackup_restore_drill_rpo_seconds", ("ops", "weekly", "db"))] == 7200
    assert ("azbackup_restore_drill_rto_seconds", ("ops", "weekly", "db")) not in samples
