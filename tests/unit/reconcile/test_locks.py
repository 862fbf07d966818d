"""KeyedLocks: one holder per key, and no lock left behind once nobody holds or awaits it."""

from __future__ import annotations

import asyncio

import pytest
from azbackup.reconcile.locks import KeyedLocks


async def test_one_holder_per_key_and_none_kept_afterwards() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    inside: list[str] = []
    order: list[str] = []

    async def work(key: str, name: str) -> None:
        async with locks.hold(key):
            inside.append(key)
            assert inside.count(key) == 1  # nobody else holds this key
            order.append(name)
            await asyncio.sleep(0.01)
            inside.remove(key)

    await asyncio.gather(work("a", "a1"), work("a", "a2"), work("b", "b1"))
    assert sorted(order) == ["a1", "a2", "b1"]
    assert order.index("a1") < order.index("a2")
    assert len(locks) == 0


async def test_a_failing_holder_releases_the_key() -> None:
    locks: KeyedLocks[str] = KeyedLocks()

    async def fail() -> None:
        async with locks.hold("a"):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail()
    async with locks.hold("a"):
        assert len(locks) == 1
    assert len(locks) == 0
