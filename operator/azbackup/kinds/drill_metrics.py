"""The restore drill's Prometheus families, from its status at scrape time (the kind's `metrics` hook).

Runs by result come from status.passedRuns/failedRuns, so the counts survive operator restarts; each
drilled VM's last achieved RPO and RTO, the threat status of the point it restored and how many newer
points it passed over for a threat, from the newest run that drilled it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from azbackup.api import names
from azbackup.api import status as api_status
from azbackup.kinds import restore_points
from azbackup.kinds.contract import KindMetrics
from azbackup.managed import Resource


def collect(objects: Iterable[Resource]) -> Iterator[Metric]:
    runs = CounterMetricFamily("azbackup_restore_drill_runs", "Finished restore drill runs by result.",
                               labels=["namespace", "drill", "result"])
    rpo = GaugeMetricFamily("azbackup_restore_drill_rpo_seconds",
                            "Last achieved RPO of a drilled VM: the restored point's age at the run's start.",
                            labels=["namespace", "drill", "target"])
    rto = GaugeMetricFamily("azbackup_restore_drill_rto_seconds",
                            "Last achieved RTO of a drilled VM: restore job duration + time to boot.",
                            labels=["namespace", "drill", "target"])
    threat = GaugeMetricFamily("azbackup_restore_drill_point_threat_status",
                               "1 for the threat status of the point a drilled VM's last run restored "
                               "(NotReported: Azure's threat scan reports none).",
                               labels=["namespace", "drill", "target", "threat_status"])
    threatened = GaugeMetricFamily("azbackup_restore_drill_threatened_points_skipped",
                                   "Newer points a drilled VM's last run passed over because Azure's threat "
                                   "scan reports them UnHealthy or Warning.",
                                   labels=["namespace", "drill", "target"])
    for obj in objects:
        if obj.kind != names.RESTORE_DRILL.kind:
            continue
        status = api_status.read(obj.status, api_status.RestoreDrillStatus)
        for result, count in (("Passed", status.get("passedRuns")), ("Failed", status.get("failedRuns"))):
            runs.add_metric([obj.namespace, obj.name, result], float(count or 0))
        seen: set[str] = set()
        for run in status.get("runs") or ():  # newest first: the first figure per VM is its last
            for target in run.get("targets") or ():
                vm = str(target.get("protectedVM"))
                if vm in seen:
                    continue
                seen.add(vm)
                labels = [obj.namespace, obj.name, vm]
                if isinstance(target.get("rpoSeconds"), int):
                    rpo.add_metric(labels, float(target["rpoSeconds"]))
                if isinstance(target.get("rtoSeconds"), int):
                    rto.add_metric(labels, float(target["rtoSeconds"]))
                if target.get("threatStatus"):
                    threat.add_metric([*labels, str(target["threatStatus"])], 1.0)
                skipped = target.get("skippedRecoveryPoints") or ()
                flagged = sum(p.get("threatStatus") in restore_points.THREATS for p in skipped)
                threatened.add_metric(labels, float(flagged))
    yield from (runs, rpo, rto, threat, threatened)


METRICS = KindMetrics(("azbackup_restore_drill_runs_total", "azbackup_restore_drill_rpo_seconds",
                       "azbackup_restore_drill_rto_seconds", "azbackup_restore_drill_point_threat_status",
                       "azbackup_restore_drill_threatened_points_skipped"), collect)
