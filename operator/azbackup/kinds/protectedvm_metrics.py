"""The ProtectedVM's Prometheus families for the alert rules, from status at scrape time (the kind's
`metrics` hook): when its last backup ran, and its policy's RPO (the interval between two scheduled
backups), so that "the last backup is older than the RPO" is one comparison in a rule."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from azbackup.api import names
from azbackup.api.specs import PolicySpec
from azbackup.kinds.contract import KindMetrics
from azbackup.kinds.references import POLICY_REF
from azbackup.managed import Resource
from azbackup.toolkit import times

DEFAULT_RPO_HOURS = 24  # the vault's built-in DefaultPolicy backs up daily


def rpo_hours(vm: Resource, policies: Mapping[tuple[str, str], Resource]) -> int:
    """The schedule interval of the BackupPolicy a ProtectedVM names; the DefaultPolicy's when it names
    none, or one the operator does not know (the VM is then not Ready, and alerts on that clock)."""
    ref = POLICY_REF.name(vm)
    policy = policies.get((vm.namespace, ref)) if ref else None
    if policy is None:
        return DEFAULT_RPO_HOURS
    try:
        return PolicySpec.parse(policy.name, policy.spec).schedule.interval_hours
    except (KeyError, TypeError, ValueError):  # a spec the schema let through but the parser refuses
        return DEFAULT_RPO_HOURS


def collect(objects: Iterable[Resource]) -> Iterator[Metric]:
    last_backup = GaugeMetricFamily(
        "azbackup_protectedvm_last_backup_timestamp_seconds",
        "When the ProtectedVM's last backup ran (status.lastBackupTime, as Azure reports it).",
        labels=["namespace", "name"])
    rpo = GaugeMetricFamily(
        "azbackup_protectedvm_rpo_seconds",
        "The ProtectedVM's policy's RPO: seconds between two scheduled backups (daily for DefaultPolicy).",
        labels=["namespace", "name"])
    objects = list(objects)
    policies = {(o.namespace, o.name): o for o in objects if o.kind == POLICY_REF.kind}
    for obj in objects:
        if obj.kind != names.PROTECTED_VM.kind:
            continue
        labels = [obj.namespace, obj.name]
        rpo.add_metric(labels, rpo_hours(obj, policies) * 3600.0)
        backed_up = times.parse(obj.status.get("lastBackupTime"))
        if backed_up is not None:
            last_backup.add_metric(labels, backed_up.timestamp())
    yield from (last_backup, rpo)


METRICS = KindMetrics(("azbackup_protectedvm_last_backup_timestamp_seconds", "azbackup_protectedvm_rpo_seconds"),
                      collect)
