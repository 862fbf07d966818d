"""SingleFlight: one read at a time, served from memory while fresh, and never older than a confirmed change."""

from __future__ import annotations

import asyncio

from azbackup.azure.inventory import SingleFlight


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_concurrent_callers_share_one_read() -> None:
    clock, loads = Clock(), []

    async def load() -> int:
        loads.append(clock.now)
        await asyncio.sleep(0)
        return len(loads)

    async def go() -> list[int]:
        flight = SingleFlight(load, clock)
        return list(await asyncio.gather(*(flight.get(10) for _ in range(5))))

    assert (asyncio.run(go()), len(loads)) == ([1] * 5, 1)


def test_fresh_value_is_served_from_memory_and_stale_one_reloaded() -> None:
    clock, loads = Clock(), []

    async def load() -> int:
        loads.append(clock.now)
        return len(loads)

    async def go() -> list[int]:
        flight = SingleFlight(load, clock)
        first = await flight.get(10)
        clock.now += 5
        fresh = await flight.get(10)
        clock.now += 6
        return [first, fresh, await flight.get(10)]

    assert asyncio.run(go()) == [1, 1, 2]


def test_loaded_at_is_when_the_read_began() -> None:
    clock = Clock()

    async def load() -> int:
        clock.now += 3  # the read takes 3 s
        return 1

    async def go() -> float:
        flight = SingleFlight(load, clock)
        await flight.get(10)
        return flight.loaded_at

    assert asyncio.run(go()) == 100.0
