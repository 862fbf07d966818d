"""Prometheus metrics of the operator (prometheus-client), served with `azbackup run --metrics-port`.

Every name here is what the Grafana dashboard in the chart queries; a test checks that the dashboard
names no metric this module or a kind (`Kind.metrics`) does not export.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from azbackup.azure.ratelimit import Kind
from azbackup.toolkit import conditions, times

REGISTRY = CollectorRegistry(auto_describe=True)

RECONCILES = Counter("azbackup_reconcile_total", "Reconcile passes by kind and outcome (Ready phase).",
                     ["kind", "result"], registry=REGISTRY)
RECONCILE_SECONDS = Histogram("azbackup_reconcile_duration_seconds", "Duration of one reconcile pass.",
                              ["kind"], registry=REGISTRY,
                              buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
AZURE_REQUESTS = Counter("azbackup_azure_requests_total", "HTTP requests to Azure Resource Manager.",
                         ["kind", "operation", "status"], registry=REGISTRY)
AZURE_SECONDS = Histogram("azbackup_azure_request_duration_seconds", "Duration of requests to ARM.",
                          ["kind"], registry=REGISTRY, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
THROTTLE_WAIT = Counter("azbackup_azure_throttle_wait_seconds_total",
                        "Seconds requests waited in the operator's own ARM token buckets.", ["kind"],
                        registry=REGISTRY)
THROTTLED = Counter("azbackup_azure_throttled_total", "Requests ARM answered with 429.", ["kind"],
                    registry=REGISTRY)
KUBE_WRITES = Counter("azbackup_kube_writes_total", "Writes the operator sent to the Kubernetes API.",
                      ["verb"], registry=REGISTRY)
VAULT_PASSES = Counter("azbackup_vault_passes_total", "Full passes of a vault and its objects.",
                       registry=REGISTRY)
FEED_READS = Counter("azbackup_change_feed_reads_total",
                     "Reads of a subscription's change feed (Activity Log) by result: ok, failed, gap.",
                     ["result"], registry=REGISTRY)
FEED_ENTRIES = Counter("azbackup_change_feed_entries_total",
                       "New change-feed entries by origin: own (this operator's writes, ignored) or change.",
                       ["origin"], registry=REGISTRY)
FEED_LAG = Histogram("azbackup_change_feed_lag_seconds",
                     "Seconds from a change in Azure to the feed read that saw it (visibility delay + interval).",
                     registry=REGISTRY, buckets=(15, 30, 60, 90, 120, 180, 300, 600, 1200))
FEED_WAKES = Counter("azbackup_change_feed_wakes_total", "Objects woken because the change feed named them.",
                     registry=REGISTRY)

EXPORTED = ("azbackup_reconcile_total", "azbackup_reconcile_duration_seconds", "azbackup_azure_requests_total",
            "azbackup_azure_request_duration_seconds", "azbackup_azure_throttle_wait_seconds_total",
            "azbackup_azure_throttled_total", "azbackup_objects", "azbackup_kube_writes_total",
            "azbackup_vault_passes_total", "azbackup_change_feed_reads_total", "azbackup_change_feed_entries_total",
            "azbackup_change_feed_lag_seconds", "azbackup_change_feed_wakes_total",
            # the alert rules' generic series (AlertCollector, below); a kind's own are in its KindMetrics
            "azbackup_leading", "azbackup_problem_since_timestamp_seconds")


class AzureCallMetrics:
    """The gateway's call observer: counts every attempt by kind, operation and status."""

    def record(self, kind: Kind, operation: str, status: str, seconds: float, waited: float) -> None:
        AZURE_REQUESTS.labels(str(kind), operation, status).inc()
        AZURE_SECONDS.labels(str(kind)).observe(seconds)
        if waited:
            THROTTLE_WAIT.labels(str(kind)).inc(waited)
        if status == "429":
            THROTTLED.labels(str(kind)).inc()


class ObjectsCollector(Collector):
    """azbackup_objects{kind,ready,reason}: counted from the operator's in-memory registry at scrape time."""

    def __init__(self, objects: Callable[[], Iterable[Any]]) -> None:
        self.objects = objects

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("azbackup_objects", "Objects by kind and Ready status and reason.",
                                   labels=["kind", "ready", "reason"])
        counts: dict[tuple[str, str, str], int] = {}
        for obj in self.objects():
            ready = conditions.ready(obj.status)
            key = (obj.kind, str(ready.get("status", "Unknown")), str(ready.get("reason", "")))
            counts[key] = counts.get(key, 0) + 1
        for labels, count in sorted(counts.items()):
            family.add_metric(list(labels), count)
        yield family


class KindsCollector(Collector):
    """The families the kinds declare (`Kind.metrics`), each computed from the registry at scrape time."""

    def __init__(self, objects: Callable[[], Iterable[Any]],
                 hooks: Callable[[], Iterable[Callable[[Iterable[Any]], Iterable[Metric]]]]) -> None:
        self.objects, self.hooks = objects, hooks

    def collect(self) -> Iterator[Metric]:
        objects = list(self.objects())
        for hook in self.hooks():
            yield from hook(objects)


# --- Series the alert rules read (charts/azbackup-operator/files/alerts.yaml) -----------------------------
# Per-object series carry namespace and name: three per ProtectedVM (its last backup, its policy's RPO and,
# while in trouble, since when) and one per object only while a condition is bad, so a fleet of 5000
# VMs costs about 10,000 series in steady state, as kube-state-metrics costs per pod. Reasons and
# conditions are closed sets; Azure ids and messages never become labels.

# A condition in its bad state: Ready not True, BackupHealthy False (a failed or overdue backup),
# Degraded True (a drill that missed its RPO or RTO).
BAD_STATES: Mapping[str, Callable[[str], bool]] = {
    "Ready": lambda status: status != "True",
    "BackupHealthy": lambda status: status == "False",
    "Degraded": lambda status: status == "True",
}

# Zero from the start for every label value known in advance, so that a rate() over them is 0, not
# empty, before the first 429 or the first gap (a rule or panel over an absent series shows nothing).
for _kind in Kind:
    THROTTLED.labels(str(_kind))
    THROTTLE_WAIT.labels(str(_kind))
for _result in ("ok", "failed", "gap"):
    FEED_READS.labels(_result)
for _origin in ("own", "change"):
    FEED_ENTRIES.labels(_origin)


class Peering(logging.Filter):
    """Whether kopf lets this process handle events. kopf reports its peering decisions only in its log:
    with mandatory peering it starts paused without a word, then logs "Resuming operations" once no live
    peer outranks it and "Pausing operations" (or "Pausing all operators") when one appears."""

    LOGGER = "kopf._core.engines.peering"

    def __init__(self) -> None:
        super().__init__()
        self.leading = True

    def follow(self, standalone: bool) -> None:
        self.leading = standalone
        logger = logging.getLogger(self.LOGGER)
        if not logger.isEnabledFor(logging.INFO):
            logger.setLevel(logging.INFO)  # the decisions are INFO records: a logger drops them before filters
        if self not in logger.filters:
            logger.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Pausing"):
            self.leading = False
        elif message.startswith("Resuming"):
            self.leading = True
        return True


PEERING = Peering()


def follow_peering(standalone: bool) -> None:
    """Start azbackup_leading at 1 without peering and at 0 with it (kopf starts paused), then follow kopf."""
    PEERING.follow(standalone)


class AlertCollector(Collector):
    """The generic facts the alert rules compare, from the operator's registry at scrape time (a kind's own
    series, such as a ProtectedVM's last backup and RPO, are its `Kind.metrics`). A standby exports only
    azbackup_leading: its registry may be stale, and two pods naming one object would double alerts."""

    def __init__(self, objects: Callable[[], Iterable[Any]], peering: Peering) -> None:
        self.objects = objects
        self.peering = peering

    def collect(self) -> Iterator[GaugeMetricFamily]:
        leading = GaugeMetricFamily("azbackup_leading", "1 while this process handles events; 0 while it "
                                    "stands by (kopf peering paused it for a peer of higher priority).")
        leading.add_metric([], 1.0 if self.peering.leading else 0.0)
        yield leading
        if not self.peering.leading:
            return
        problems = GaugeMetricFamily(
            "azbackup_problem_since_timestamp_seconds",
            "Since when an object's condition has been in its bad state (Ready not True, BackupHealthy False, "
            "Degraded True): the condition's lastTransitionTime. Only objects in trouble have one.",
            labels=["kind", "namespace", "name", "condition", "reason"])
        for obj in self.objects():
            for condition in obj.status.get("conditions") or ():
                bad = BAD_STATES.get(str(condition.get("type")))
                since = times.parse(condition.get("lastTransitionTime"))
                if bad is not None and since is not None and bad(str(condition.get("status"))):
                    problems.add_metric([obj.kind, obj.namespace, obj.name, str(condition["type"]),
                                         str(condition.get("reason") or "")], since.timestamp())
        yield problems


_objects: Callable[[], Iterable[Any]] = list
_kind_hooks: tuple[Callable[[Iterable[Any]], Iterable[Metric]], ...] = ()


def count_objects_of(source: Callable[[], Iterable[Any]],
                     hooks: Iterable[Callable[[Iterable[Any]], Iterable[Metric]]] = ()) -> None:
    """Where azbackup_objects and the kinds' own families count from (the runtime's registry)."""
    global _objects, _kind_hooks
    _objects, _kind_hooks = source, tuple(hooks)


REGISTRY.register(ObjectsCollector(lambda: _objects()))
REGISTRY.register(KindsCollector(lambda: _objects() if PEERING.leading else (), lambda: _kind_hooks))
REGISTRY.register(AlertCollector(lambda: _objects(), PEERING))


def serve(port: int, address: str = "0.0.0.0") -> None:
    """Serve /metrics; raises OSError at once if the port is taken (a misconfiguration, not a retry)."""
    start_http_server(port, addr=address, registry=REGISTRY)
