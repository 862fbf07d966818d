"""The vault worker's queue: bounded concurrency, and objects following an operation before new work."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from azbackup.reconcile.runtime import RuntimeSettings
from azbackup.reconcile.scheduler import SchedulerSettings, VaultWorker


@dataclass
class FakeRuntime:
    """What VaultWorker uses of a Runtime (the `Runner`): a clock, settings, the registry, passes and reconciles."""

    members: list[tuple[str, str, str]]
    with_operation: set[str]
    schedule_settings: SchedulerSettings = field(
        default_factory=lambda: RuntimeSettings(sync_period=3600.0, concurrency=2, first_pass_jitter=0.0,
                                                feed_interval=0.0))
    order: list[str] = field(default_factory=list)
    running: int = 0
    peak: int = 0
    passes: int = 0

    def __post_init__(self) -> None:
        statuses = {name: {"operation": {"url": "u"}} if name in self.with_operation else {}
                    for _, _, name in self.members}
        self.registry = SimpleNamespace(get=lambda key: SimpleNamespace(status=statuses[key[2]]))

    def clock(self) -> float:
        return time.monotonic()

    async def vault_pass(self, vault: Any) -> list[tuple[str, str, str]]:
        self.passes += 1
        return list(self.members) if self.passes == 1 else []

    async def reconcile(self, key: tuple[str, str, str]) -> None:
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.order.append(key[2])
        await asyncio.sleep(0.01)
        self.running -= 1


async def _run(runtime: FakeRuntime) -> None:
    worker = VaultWorker(runtime, ("ns", "vault"))  # type: ignore[arg-type]
    stopped = asyncio.Event()
    task = asyncio.ensure_future(worker.run(stopped))
    for _ in range(200):
        if len(runtime.order) == len(runtime.members):
            break
        await asyncio.sleep(0.01)
    stopped.set()
    await task


def test_at_most_concurrency_at_once_and_every_object_once() -> None:
    runtime = FakeRuntime([("ProtectedVM", "ns", f"vm-{i:02d}") for i in range(20)], set())
    asyncio.run(_run(runtime))
    assert runtime.peak == 2
    assert sorted(runtime.order) == sorted(name for _, _, name in runtime.members)


def test_objects_following_an_operation_go_first() -> None:
    names = [f"vm-{i:02d}" for i in range(10)]
    runtime = FakeRuntime([("ProtectedVM", "ns", n) for n in names], {"vm-07", "vm-09"})
    asyncio.run(_run(runtime))
    assert runtime.order[:2] == ["vm-07", "vm-09"]
    assert runtime.order[2:] == [n for n in names if n not in ("vm-07", "vm-09")]
