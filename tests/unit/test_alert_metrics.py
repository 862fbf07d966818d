"""The series the alert rules read (metrics.AlertCollector, and the ProtectedVM kind's own hook) come from
status at scrape time."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import pytest
from azbackup import metrics
from azbackup.kinds import protectedvm_metrics
from azbackup.managed import Resource

T0 = "2026-12-01T10:00:00Z"
T0_EPOCH = 1796119200.0


def ready(status: str, reason: str, since: str = T0) -> dict[str, str]:
    return {"type": "Ready", "status": status, "reason": reason, "lastTransitionTime": since}


def condition(type_: str, status: str, reason: str) -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "lastTransitionTime": T0}


def policy(name: str, schedule: dict[str, Any]) -> Resource:
    return Resource("BackupPolicy", "team-a", name, spec={"vaultRef": {"name": "v"}, "schedule": schedule})


def samples(objects: Sequence[Resource], leading: bool = True) -> dict[tuple[str, tuple[str, ...]], float]:
    peering = metrics.Peering()
    peering.leading = leading
    families = [*metrics.AlertCollector(lambda: objects, peering).collect(),
                *(protectedvm_metrics.collect(objects) if leading else ())]
    return {(f.name, tuple(s.labels.values())): s.value for f in families for s in f.samples}


def test_objects_in_trouble_carry_since_when_and_healthy_ones_nothing() -> None:
    got = samples([
        Resource("ProtectedVM", "team-a", "web", status={"conditions": [
            ready("False", "VMAgentNotReady"), condition("BackupHealthy", "False", "LastBackupFailed"),
            condition("Protected", "False", "ProtectionPending")]}),
        Resource("OnDemandBackup", "team-a", "now", status={"conditions": [ready("True", "BackupSucceeded")]}),
        Resource("RestoreDrill", "team-a", "weekly", status={"conditions": [
            ready("True", "DrillPassed"), condition("Degraded", "True", "ObjectiveMissed")]}),
        Resource("VMRestore", "team-a", "new", status={}),  # no status yet: nothing to say since when
    ])
    problems = {labels: value for (name, labels), value in got.items()
                if name == "azbackup_problem_since_timestamp_seconds"}
    assert problems == {
        ("ProtectedVM", "team-a", "web", "Ready", "VMAgentNotReady"): T0_EPOCH,
        ("ProtectedVM", "team-a", "web", "BackupHealthy", "LastBackupFailed"): T0_EPOCH,
        ("RestoreDrill", "team-a", "weekly", "Degraded", "ObjectiveMissed"): T0_EPOCH,
    }


@pytest.mark.parametrize(("spec", "policies", "hours"), [
    pytest.param({}, [], 24, id="no-policyRef-is-DefaultPolicy-daily"),
    pytest.param({"policyRef": {"name": "every4h"}},
                 [policy("every4h", {"frequency": "Hourly", "hourly": {
                     "intervalHours": 4, "windowStartTime": "08:00", "windowDurationHours": 12}})], 4,
                 id="hourly-every-4-hours"),
    pytest.param({"policyRef": {"name": "weekly"}}, [policy("weekly", {"frequency": "Weekly"})], 168,
                 id="weekly"),
    pytest.param({"policyRef": {"name": "gone"}}, [], 24, id="unknown-policy-falls-back-to-daily"),
])
def test_rpo_is_the_interval_of_the_vms_policy(spec: dict[str, Any], policies: list[Resource], hours: int) -> None:
    vm = Resource("ProtectedVM", "team-a", "web", spec=spec, status={"lastBackupTime": T0})
    got = samples([vm, *policies])
    assert got[("azbackup_protectedvm_rpo_seconds", ("team-a", "web"))] == hours * 3600
    assert got[("azbackup_protectedvm_last_backup_timestamp_seconds", ("team-a", "web"))] == T0_EPOCH


def test_a_vm_never_backed_up_has_an_rpo_but_no_last_backup() -> None:
    got = samples([Resource("ProtectedVM", "team-a", "web")])
    assert ("azbackup_protectedvm_rpo_seconds", ("team-a", "web")) in got
    assert not [k for k in got if k[0] == "azbackup_protectedvm_last_backup_timestamp_seconds"]


def test_a_standby_exports_only_that_it_is_not_leading() -> None:
    vm = Resource("ProtectedVM", "team-a", "web", status={"conditions": [ready("False", "VMAgentNotReady")]})
    assert samples([vm], leading=False) == {("azbackup_leading", ()): 0.0}
    assert samples([vm])[("azbackup_leading", ())] == 1.0


async def peering_event(peers: dict[str, dict[str, Any]], toggle: Any) -> None:
    """One update of the peering object as kopf's own peering engine handles it (it logs its decision)."""
    # kopf's internals on purpose: a kopf upgrade that changes its peering words fails here.
    from kopf._cogs.configs import configuration
    from kopf._cogs.structs import references
    from kopf._core.engines import peering as kopf_peering

    settings = configuration.OperatorSettings()
    settings.peering.name, settings.peering.priority = "azbackup", 10
    pressure = asyncio.Event()
    pressure.set()  # do not wait for peers to expire
    raw: Any = {"type": "MODIFIED", "object": {"metadata": {"name": "azbackup"}, "status": peers}}
    resource = references.Resource("kopf.dev", "v1", "clusterkopfpeerings", namespaced=False)
    await kopf_peering.process_peering_event(
        raw_event=raw, namespace=None, resource=resource, identity=kopf_peering.Identity("me"), settings=settings,
        autoclean=False, stream_pressure=pressure, conflicts_found=toggle)


async def test_leading_follows_kopfs_peering_decisions() -> None:
    from kopf._cogs.aiokits import aiotoggles

    now = dt.datetime.now(dt.UTC).isoformat()
    peering = metrics.Peering()
    peering.follow(standalone=False)
    try:
        assert not peering.leading  # mandatory peering: kopf starts paused, silently
        toggle = aiotoggles.Toggle(True)
        await peering_event({}, toggle)  # alone: kopf resumes
        assert peering.leading
        await peering_event({"other": {"priority": 20, "lifetime": 60, "lastseen": now}}, toggle)
        assert not peering.leading  # outranked: kopf pauses
        await peering_event({"other": {"priority": 20, "lifetime": 60, "lastseen": "2020-01-01T00:00:00+00:00"}},
                            toggle)
        assert peering.leading  # the other one died
        standalone = metrics.Peering()
        standalone.follow(standalone=True)
        logging.getLogger(metrics.Peering.LOGGER).removeFilter(standalone)
        assert standalone.leading
    finally:
        logging.getLogger(metrics.Peering.LOGGER).removeFilter(peering)
        logging.getLogger(metrics.Peering.LOGGER).setLevel(logging.NOTSET)


def test_counters_a_rule_rates_exist_before_their_first_event() -> None:
    text = {(s.name, tuple(sorted(s.labels.items()))) for f in metrics.REGISTRY.collect() for s in f.samples}
    for kind in ("reads", "writes"):
        assert ("azbackup_azure_throttled_total", (("kind", kind),)) in text
    for result in ("ok", "failed", "gap"):
        assert ("azbackup_change_feed_reads_total", (("result", result),)) in text
