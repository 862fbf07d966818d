"""Dynamic shards, the pure part: which replica should own which shard, and whether a write may go out.

A shard is one Azure subscription (ARM meters writes per subscription and principal, and the change
feed is read per subscription), plus `UNPLACED` for objects whose vault or subscription is not known
yet. Every replica publishes a member Lease (its heartbeat) and holds one Lease per shard it owns;
each one computes the same target from what the Leases say, and takes a shard only once its Lease is
free, so the Leases, not the computation, decide who acts (leases.py does the I/O).

The target is balanced (every live member gets ⌊S/N⌋ or ⌈S/N⌉ shards) and moves the fewest shards
from what is held now: members keep what they hold up to their quota, the extra quota goes to the
members that already hold the most, and only the rest moves. A free shard goes to the member with
room whose rendezvous weight for it is highest (Thaler and Ravishankar's highest-random-weight
hashing), so the first assignment spreads the shards without any coordination, and Argo CD's
"consistent-hashing" distribution of clusters over its StatefulSet is the same idea.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

UNPLACED = "unplaced"
"""The shard of objects whose vault (and so subscription) is not known yet: they get status only."""


@dataclass(frozen=True)
class LeaseState:
    """What one Lease says: a member's heartbeat or a shard's holder."""

    name: str
    holder: str | None
    renewed: float | None
    """Wall-clock seconds of the holder's last renewal (the Lease's renewTime)."""
    duration: float

    def live(self, now: float) -> bool:
        return bool(self.holder) and self.renewed is not None and now < self.renewed + self.duration


def weight(member: str, shard: str) -> int:
    """The rendezvous weight of a (member, shard) pair: stable across processes and Python versions."""
    digest = hashlib.blake2b(f"{member}\0{shard}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def quotas(members: Sequence[str], shards: int, held: Mapping[str, int]) -> dict[str, int]:
    """⌊S/N⌋ each, and one more for S mod N members: first those holding more than ⌊S/N⌋ (most first),
    who would otherwise give one up, then by name. Only holdings above ⌊S/N⌋ count, so the choice
    does not change while members take up free shards, and a takeover settles in one round."""
    base, extra = divmod(shards, len(members))
    ranked = sorted(members, key=lambda m: (-max(0, held.get(m, 0) - base), m))
    return {m: base + (1 if i < extra else 0) for i, m in enumerate(ranked)}


def assign(shards: Iterable[str], members: Iterable[str], holders: Mapping[str, str]) -> dict[str, str]:
    """The target owner of every shard, given the live members and who holds what now."""
    all_shards, live = sorted(set(shards)), sorted(set(members))
    if not live:
        return {}
    current: dict[str, list[str]] = {m: [] for m in live}
    for shard in all_shards:
        holder = holders.get(shard)
        if holder in current:
            current[holder].append(shard)
    quota = quotas(live, len(all_shards), {m: len(s) for m, s in current.items()})
    target: dict[str, str] = {}
    load = dict.fromkeys(live, 0)
    for member in live:
        # Over quota: keep the shards this member ranks highest, so the choice is the same everywhere.
        for shard in sorted(current[member], key=lambda s: -weight(member, s))[:quota[member]]:
            target[shard] = member
            load[member] += 1
    for shard in all_shards:
        if shard not in target:
            room = [m for m in live if load[m] < quota[m]]
            owner = max(room, key=lambda m: weight(m, shard))
            target[shard] = owner
            load[owner] += 1
    return target


def fewest_moves(shards: Iterable[str], members: Iterable[str], holders: Mapping[str, str]) -> int:
    """How many shards any balanced assignment must move from `holders` (what `assign` achieves)."""
    all_shards, live = sorted(set(shards)), sorted(set(members))
    if not live:
        return 0
    held = {m: sum(1 for s in all_shards if holders.get(s) == m) for m in live}
    quota = quotas(live, len(all_shards), held)
    return len(all_shards) - sum(min(held[m], quota[m]) for m in live)


@dataclass(frozen=True)
class Plan:
    """What one replica does with the shard Leases in one round."""

    target: Mapping[str, str]
    acquire: tuple[str, ...] = ()
    """Free shards the target gives this replica."""
    renew: tuple[str, ...] = ()
    release: tuple[str, ...] = ()
    """Held here, targeted elsewhere: stop acting on them first, then free the Lease."""


def plan(me: str, now: float, members: Sequence[LeaseState], shards: Sequence[LeaseState]) -> Plan:
    """One round of the shard Leases, from this replica's view of them at `now` (wall clock)."""
    live = {m.holder for m in members if m.live(now) and m.holder} | {me}
    holders = {s.name: s.holder for s in shards if s.live(now) and s.holder}
    target = assign([s.name for s in shards], live, holders)
    acquire, renew, release = [], [], []
    for shard in sorted(s.name for s in shards):
        mine = holders.get(shard) == me
        if target.get(shard) == me:
            if mine:
                renew.append(shard)
            elif shard not in holders:
                acquire.append(shard)
        elif mine:
            release.append(shard)
    return Plan(target, tuple(acquire), tuple(renew), tuple(release))


def deadline(sent_at: float, duration: float, margin: float) -> float:
    """Until when (monotonic) a replica may act on a shard after a renewal sent at `sent_at` succeeded.

    The Lease says renewTime ≥ `sent_at` (the holder writes its clock before sending), so another
    replica takes the shard no sooner than `sent_at + duration` by its clock: stopping `margin` earlier
    leaves room for clock skew between nodes and for a write already on its way to Azure.
    """
    return sent_at + max(0.0, duration - margin)


def may_write(held_until: float | None, now: float) -> bool:
    """The fence in front of every Azure write: only a shard held, and only before its deadline."""
    return held_until is not None and now < held_until
