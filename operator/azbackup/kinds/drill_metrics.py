"""The restore drill's Prometheus families, from its status at scrape time (the kind's `metrics` hook).

Runs by result come from status.passedRuns/failedRuns, so the counts survive operator restarts; each
drilled VM's last achieved RPO and RTO from the newest run that drilled it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from azbackup.api import names
from azbackup.api import status as api_status
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
    yield from (runs, rpo, rto)


METRICS = KindMetrics(("azbackup_restore_drill_runs_total", "azbackup_restore_drill_rpo_seconds",
                       "azbackup_restore_drill_rto_seconds"), collect)
