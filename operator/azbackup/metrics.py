"""Prometheus metrics of the operator (prometheus-client), served with `azbackup run --metrics-port`.

Every name here is what the Grafana dashboard in the chart queries; a test checks that the dashboard
names no metric this module or a kind (`Kind.metrics`) does not export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from azbackup.azure.ratelimit import Kind
from azbackup.toolkit import conditions

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
            "azbackup_change_feed_lag_seconds", "azbackup_change_feed_wakes_total")


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


_objects: Callable[[], Iterable[Any]] = list
_kind_hooks: tuple[Callable[[Iterable[Any]], Iterable[Metric]], ...] = ()


def count_objects_of(source: Callable[[], Iterable[Any]],
                     hooks: Iterable[Callable[[Iterable[Any]], Iterable[Metric]]] = ()) -> None:
    """Where azbackup_objects and the kinds' own families count from (the runtime's registry)."""
    global _objects, _kind_hooks
    _objects, _kind_hooks = source, tuple(hooks)


REGISTRY.register(ObjectsCollector(lambda: _objects()))
REGISTRY.register(KindsCollector(lambda: _objects(), lambda: _kind_hooks))


def serve(port: int, address: str = "0.0.0.0") -> None:
    """Serve /metrics; raises OSError at once if the port is taken (a misconfiguration, not a retry)."""
    start_http_server(port, addr=address, registry=REGISTRY)
