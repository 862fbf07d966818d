"""Condition math: kstatus summary, lastTransitionTime only on a flip, events only on transitions."""

from __future__ import annotations

import pytest
from azbackup.managed import ExtraCondition
from azbackup.reasons import Reason
from azbackup.reconcile import conditions as cond
from azbackup.reconcile import status as st
from azbackup.reconcile.verdict import Verdict

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"


def by_type(conditions: list[cond.Condition]) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in conditions}


@pytest.mark.parametrize(("verdict", "want"), [
    pytest.param(Verdict.ready(Reason.AVAILABLE, "ok"),
                 {"Ready": ("True", "Available"), "Reconciling": ("False", "Available"),
                  "Stalled": ("False", "Available")}, id="ready"),
    pytest.param(Verdict.progressing(Reason.CREATING, "creating"),
                 {"Ready": ("False", "Creating"), "Reconciling": ("True", "Creating"),
                  "Stalled": ("False", "Creating")}, id="progressing-is-reconciling"),
    pytest.param(Verdict.stalled(Reason.AUTHORIZATION_FAILED, "no role"),
                 {"Ready": ("False", "AuthorizationFailed"), "Reconciling": ("False", "AuthorizationFailed"),
                  "Stalled": ("True", "AuthorizationFailed")}, id="stalled-needs-a-human"),
    pytest.param(Verdict.paused(),
                 {"Ready": ("Unknown", "ReconcilePaused"), "Reconciling": ("False", "ReconcilePaused"),
                  "Stalled": ("False", "ReconcilePaused")}, id="skip-is-paused"),
])
def test_summary_follows_kstatus(verdict: Verdict, want: dict[str, tuple[str, str]]) -> None:
    assert by_type(cond.summarize(verdict, 3, [], T0)) == want


def test_last_transition_time_moves_only_when_status_flips() -> None:
    first = cond.summarize(Verdict.progressing(Reason.CREATING, "a"), 1, [], T0)
    second = cond.summarize(Verdict.progressing(Reason.WAITING_FOR_OPERATION, "b"), 1, first, T1)
    third = cond.summarize(Verdict.ready(Reason.AVAILABLE, "c"), 1, second, T1)
    times = {c.type: c.last_transition_time for c in second}
    assert times == {"Ready": T0, "Reconciling": T0, "Stalled": T0}
    assert {c.type: c.last_transition_time for c in third} == {"Ready": T1, "Reconciling": T1, "Stalled": T0}


def test_every_condition_carries_the_generation() -> None:
    assert {c.observed_generation for c in cond.summarize(Verdict.ready(Reason.AVAILABLE, ""), 7, [], T0)} == {7}


def test_unchanged_verdict_gives_an_empty_patch() -> None:
    verdict = Verdict.ready(Reason.AVAILABLE, "ok", status={"vaultId": "/x"})
    first = st.compute({}, verdict, 2, T0)
    again = st.compute(first.status, verdict, 2, T1)
    assert (again.patch, again.events) == ({}, [])


def test_status_fields_set_and_deleted_by_the_verdict() -> None:
    previous = {"operation": {"url": "u"}, "vaultId": "/x"}
    change = st.compute(previous, Verdict.ready(Reason.AVAILABLE, "ok", status={"operation": None}), 1, T0)
    assert change.patch["operation"] is None
    assert "operation" not in change.status
    assert change.status["vaultId"] == "/x"


def test_events_only_for_ready_and_kind_conditions_that_transition() -> None:
    extra = ExtraCondition("PrerequisitesMet", "False", Reason.VM_AGENT_NOT_READY, "agent")
    first = st.compute({}, Verdict.stalled(Reason.VM_AGENT_NOT_READY, "x", conditions=[extra]), 1, T0)
    assert [c.type for c in first.events] == ["Ready"]  # the first appearance of the others is not news
    same = st.compute(first.status, Verdict.stalled(Reason.VM_AGENT_NOT_READY, "y", conditions=[extra]), 1, T1)
    assert same.events == []
    fixed = ExtraCondition("PrerequisitesMet", "True", Reason.PREREQUISITES_MET, "ok")
    healed = st.compute(same.status, Verdict.ready(Reason.PROTECTED, "ok", conditions=[fixed]), 1, T1)
    assert sorted(c.type for c in healed.events) == ["PrerequisitesMet", "Ready"]


def test_progress_steps_are_not_events_but_a_new_blocking_reason_is() -> None:
    creating = st.compute({}, Verdict.progressing(Reason.CREATING, "a"), 1, T0)
    waiting = st.compute(creating.status, Verdict.progressing(Reason.WAITING_FOR_OPERATION, "b"), 1, T1)
    assert waiting.events == []
    stalled = st.compute(waiting.status, Verdict.stalled(Reason.AUTHORIZATION_FAILED, "c"), 1, T1)
    other = st.compute(stalled.status, Verdict.stalled(Reason.THROTTLED, "d"), 1, T1)
    assert ([c.reason for c in stalled.events], [c.reason for c in other.events]) == (
        ["AuthorizationFailed"], ["Throttled"])


def test_heavy_fields_are_compared_by_digest() -> None:
    checks = [{"name": "SameRegion", "result": "Passed", "reason": "CheckPassed", "message": "m"}]
    first = st.compute({}, Verdict.ready(Reason.PROTECTED, "ok", status={"checks": checks}), 1, T0)
    light, digests = st.compact(first.status)
    assert "checks" not in light
    same = st.compute(light, Verdict.ready(Reason.PROTECTED, "ok", status={"checks": checks}), 1, T1, digests)
    assert same.patch == {}
    changed = [{**checks[0], "result": "Failed"}]
    other = st.compute(light, Verdict.ready(Reason.PROTECTED, "ok", status={"checks": changed}), 1, T1, digests)
    assert other.patch == {"checks": changed}
    silent = st.compute(light, Verdict.ready(Reason.PROTECTED, "ok"), 1, T1, digests)
    assert silent.patch == {}  # a verdict that does not mention the checks leaves them as stored


def test_a_kinds_enum_values_are_kept_in_memory_as_plain_strings() -> None:
    import enum

    class Phase(enum.StrEnum):
        DONE = "Done"

    light, _ = st.compact({"phase": Phase.DONE, "runs": [{"phase": Phase.DONE}]})
    assert light == {"phase": "Done", "runs": [{"phase": "Done"}]}
    assert type(light["phase"]) is str


@pytest.mark.parametrize(("verdict", "want"), [
    pytest.param(Verdict.progressing(Reason.CREATING, "a"), [], id="a-new-object-at-work-is-not-news"),
    pytest.param(Verdict.ready(Reason.AVAILABLE, "ok"), ["Available"], id="a-new-object-ready-is"),
    pytest.param(Verdict.stalled(Reason.AUTHORIZATION_FAILED, "no role"), ["AuthorizationFailed"],
                 id="a-new-object-needing-a-human-is"),
    pytest.param(Verdict.paused(), [], id="a-new-paused-object-is-not-news"),
])
def test_the_first_ready_condition_is_an_event_only_when_someone_acts_on_it(verdict: Verdict, want: list[str]) -> None:
    assert [c.reason for c in st.compute({}, verdict, 1, T0).events] == want


def test_leaving_ready_is_an_event() -> None:
    ready = st.compute({}, Verdict.ready(Reason.AVAILABLE, "ok"), 1, T0)
    updating = st.compute(ready.status, Verdict.progressing(Reason.UPDATING, "drift"), 2, T1)
    assert [(c.status, c.reason) for c in updating.events] == [("False", "Updating")]
