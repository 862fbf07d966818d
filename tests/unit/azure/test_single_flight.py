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


def test_a_read_that_began_before_a_confirmed_change_is_not_enough() -> None:
    clock, loads = Clock(), []
    gate = asyncio.Event()

    async def load() -> int:
        loads.append(clock.now)
        if len(loads) == 1:
            await gate.wait()  # a slow read, started before the change
        return len(loads)

    async def go() -> tuple[int, int]:
        flight = SingleFlight(load, clock)
        early = asyncio.ensure_future(flight.get(60))
        await asyncio.sleep(0)
        clock.now += 1  # Azure confirms a change now
        changed_at = clock.now
        late = asyncio.ensure_future(flight.get(60, started_after=changed_at))
        await asyncio.sleep(0)
        gate.set()
        return await early, await late

    assert asyncio.run(go()) == (1, 2)
