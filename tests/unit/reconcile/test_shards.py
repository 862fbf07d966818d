"""Dynamic shards: the balanced target that moves the fewest shards, each replica's plan, and the fence."""

from __future__ import annotations

from collections import Counter

import pytest
from azbackup.reconcile.shards import LeaseState, assign, deadline, fewest_moves, may_write, plan

SHARDS = [f"sub-{i:02d}" for i in range(12)]


def loads(target: dict[str, str]) -> list[int]:
    return sorted(Counter(target.values()).values())


def moved(before: dict[str, str], after: dict[str, str]) -> int:
    return sum(1 for s, owner in after.items() if before.get(s) != owner)


@pytest.mark.parametrize(("members", "want"), [
    pytest.param(["r0"], [12], id="one-member-owns-all"),
    pytest.param(["r0", "r1", "r2"], [4, 4, 4], id="three-members-four-each"),
    pytest.param(["r0", "r1", "r2", "r3", "r4"], [2, 2, 2, 3, 3], id="five-members-floor-or-ceiling"),
    pytest.param([f"r{i}" for i in range(13)], [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], id="more-members-than-shards"),
])
def test_a_first_assignment_is_balanced(members: list[str], want: list[int]) -> None:
    target = assign(SHARDS, members, {})
    assert sorted(target) == SHARDS
    assert sorted([*loads(target), *[0] * (len(members) - len(set(target.values())))]) == want


def test_no_members_no_owners() -> None:
    assert assign(SHARDS, [], {}) == {}


def test_a_balanced_holding_is_kept_as_it_is() -> None:
    start = assign(SHARDS, ["r0", "r1", "r2"], {})
    assert assign(SHARDS, ["r0", "r1", "r2"], start) == start


@pytest.mark.parametrize(("before", "after", "least"), [
    pytest.param(["r0", "r1", "r2"], ["r0", "r1", "r2", "r3"], 3, id="3-to-4-moves-3"),
    pytest.param(["r0", "r1", "r2", "r3"], ["r0", "r1"], 6, id="4-to-2-moves-the-6-of-the-gone"),
    pytest.param(["r0", "r1", "r2"], ["r0", "r2"], 4, id="one-dies-its-4-move"),
    pytest.param(["r0", "r1", "r2", "r3", "r4"], ["r0", "r1", "r2", "r3", "r4", "r5"], 2,
                 id="5-to-6-moves-2"),
])
def test_scaling_moves_exactly_the_fewest_shards(before: list[str], after: list[str], least: int) -> None:
    held = assign(SHARDS, before, {})
    target = assign(SHARDS, after, held)
    assert fewest_moves(SHARDS, after, held) == least
    assert moved(held, target) == least
    assert max(loads(target)) - min(loads(target)) <= 1
    assert set(target.values()) == set(after)


def test_a_new_shard_goes_to_a_member_with_room_and_nothing_else_moves() -> None:
    held = assign(SHARDS, ["r0", "r1", "r2"], {})
    target = assign([*SHARDS, "sub-12"], ["r0", "r1", "r2"], held)
    assert moved(held, target) == 1
    assert loads(target) == [4, 4, 5]


def test_every_replica_computes_the_same_target_whatever_the_order() -> None:
    held = {"sub-00": "r1", "sub-05": "r0"}
    assert assign(SHARDS, ["r2", "r0", "r1"], held) == assign(list(reversed(SHARDS)), ["r1", "r2", "r0"], held)


def lease(name: str, holder: str | None, renewed: float | None = 100.0, duration: float = 10.0) -> LeaseState:
    return LeaseState(name, holder, renewed, duration)


def members(*names: str, renewed: float = 100.0) -> list[LeaseState]:
    return [lease(n, n, renewed) for n in names]


@pytest.mark.parametrize(("shards", "want"), [
    pytest.param([lease("a", None), lease("b", None)], ("ab", "", ""), id="alone-acquires-every-free-shard"),
    pytest.param([lease("a", "me"), lease("b", "me")], ("", "ab", ""), id="alone-renews-what-it-holds"),
    pytest.param([lease("a", "gone", renewed=50.0), lease("b", None)], ("ab", "", ""),
                 id="an-expired-lease-is-free"),
    pytest.param([lease("a", "other"), lease("b", None)], ("b", "", ""),
                 id="a-live-lease-of-a-dead-member-is-waited-out"),
])
def test_plan_alone(shards: list[LeaseState], want: tuple[str, str, str]) -> None:
    p = plan("me", 105.0, members("me"), shards)
    assert ("".join(p.acquire), "".join(p.renew), "".join(p.release)) == want


def test_plan_releases_to_a_new_member_and_the_new_member_waits_for_the_release() -> None:
    shards = [lease(s, "old") for s in SHARDS]
    old = plan("old", 105.0, members("old", "new"), shards)
    new = plan("new", 105.0, members("old", "new"), shards)
    assert (len(old.release), len(old.renew), len(old.acquire)) == (6, 6, 0)
    assert (new.acquire, new.renew) == ((), ())  # every shard is still held: it waits
    freed = [lease(s, None) if s in old.release else lease(s, "old") for s in SHARDS]
    assert plan("new", 106.0, members("old", "new"), freed).acquire == old.release


def test_plan_counts_only_live_members() -> None:
    shards = [lease(s, None) for s in SHARDS]
    stale = [*members("me"), lease("dead", "dead", renewed=10.0)]
    assert len(plan("me", 105.0, stale, shards).acquire) == 12


@pytest.mark.parametrize(("held_until", "now", "want"), [
    pytest.param(None, 0.0, False, id="not-held-no-write"),
    pytest.param(10.0, 9.9, True, id="before-the-deadline-writes"),
    pytest.param(10.0, 10.0, False, id="at-the-deadline-stops"),
])
def test_may_write(held_until: float | None, now: float, want: bool) -> None:
    assert may_write(held_until, now) is want


def test_the_holder_stops_a_margin_before_anyone_may_take_over() -> None:
    assert deadline(sent_at=100.0, duration=15.0, margin=3.0) == 112.0
    assert deadline(sent_at=100.0, duration=2.0, margin=3.0) == 100.0


def test_a_takeover_settles_in_one_round_whoever_acquires_first() -> None:
    shards = [*SHARDS, "unplaced"]
    held = assign(shards, ["r0", "r1", "r2"], {})
    survivors = {s: h for s, h in held.items() if h != "r0"}
    target = assign(shards, ["r1", "r2"], survivors)
    # r2 takes its part of r0's shards first; the others' target for the rest must not change.
    after_r2 = {**survivors, **{s: h for s, h in target.items() if h == "r2"}}
    assert assign(shards, ["r1", "r2"], after_r2) == target
