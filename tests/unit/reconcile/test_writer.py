"""The status writer: one patch only on change, one Event per transition, the kind's condition polarity."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from azbackup.managed import ExtraCondition, Resource
from azbackup.reasons import Reason
from azbackup.reconcile.registry import Registry
from azbackup.reconcile.verdict import Verdict
from azbackup.reconcile.writer import StatusWriter

NOW = "2026-01-01T00:00:00Z"


@dataclass
class FakeKube:
    patches: list[Mapping[str, Any]] = field(default_factory=list)

    async def patch_status(self, obj: Resource, patch: Mapping[str, Any]) -> str | None:
        self.patches.append(patch)
        return str(len(self.patches))


def writer(abnormal: frozenset[str] = frozenset()) -> tuple[StatusWriter, FakeKube, list[tuple[str, str]]]:
    kube, events = FakeKube(), []

    def sink(obj: Resource, kind: str, reason: str, message: str) -> None:
        events.append((kind, reason))

    w = StatusWriter(kube, Registry({}), sink, lambda key, delay: None, lambda: NOW,  # type: ignore[arg-type]
                     lambda kind: abnormal)
    return w, kube, events


OBJ = Resource("Thing", "ns", "a", generation=1)
DEGRADED_TRUE = ExtraCondition("Degraded", "True", Reason.OBJECTIVE_MISSED, "slow")
HEALTHY_FALSE = ExtraCondition("Healthy", "False", Reason.BACKUP_FAILED, "failed")


@pytest.mark.parametrize(("abnormal", "extra", "want"), [
    pytest.param(frozenset(), (), [("Normal", "Available")], id="ready-is-one-normal-event"),
    pytest.param(frozenset({"Degraded"}), (DEGRADED_TRUE,), [("Normal", "Available"), ("Warning", "ObjectiveMissed")],
                 id="an-abnormal-true-condition-true-from-the-start-is-a-warning"),
    pytest.param(frozenset(), (DEGRADED_TRUE,), [("Normal", "Available")],
                 id="without-the-kinds-polarity-a-new-true-condition-is-not-an-event"),
])
def test_first_write_events(abnormal: frozenset[str], extra: tuple[ExtraCondition, ...],
                            want: list[tuple[str, str]]) -> None:
    w, kube, events = writer(abnormal)
    asyncio.run(w.write(OBJ, Verdict.ready(Reason.AVAILABLE, "ok", conditions=extra)))
    assert (len(kube.patches), events) == (1, want)


def test_an_unchanged_status_is_not_patched_again() -> None:
    w, kube, events = writer()
    w.registry.upsert({"kind": "Thing", "metadata": {"namespace": "ns", "name": "a", "generation": 1}})
    asyncio.run(w.write(OBJ, Verdict.ready(Reason.AVAILABLE, "ok")))
    asyncio.run(w.write(OBJ, Verdict.ready(Reason.AVAILABLE, "ok")))
    assert (len(kube.patches), len(events)) == (1, 1)


def test_a_kinds_condition_turning_bad_is_a_warning() -> None:
    w, _, events = writer()
    w.registry.upsert({"kind": "Thing", "metadata": {"namespace": "ns", "name": "a", "generation": 1}})
    ok = ExtraCondition("Healthy", "True", Reason.BACKUP_SUCCEEDED, "ok")
    asyncio.run(w.write(OBJ, Verdict.ready(Reason.AVAILABLE, "ok", conditions=[ok])))
    asyncio.run(w.write(OBJ, Verdict.ready(Reason.AVAILABLE, "ok", conditions=[HEALTHY_FALSE])))
    assert events[-1] == ("Warning", "BackupFailed")
