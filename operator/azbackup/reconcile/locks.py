"""One lock per object, held in memory only while the object is being worked on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

K = TypeVar("K")


class KeyedLocks(Generic[K]):
    """`async with locks.hold(key)`: one holder per key at a time.

    A lock exists while someone holds or awaits it: a lock kept per object for the process's life
    was 240 bytes per object that nothing was waiting on (20,000 objects, ~5 MB), and it was never
    dropped when the object went.
    """

    def __init__(self) -> None:
        self._held: dict[K, tuple[asyncio.Lock, int]] = {}  # key -> (lock, holders and waiters)

    @contextlib.asynccontextmanager
    async def hold(self, key: K) -> AsyncIterator[None]:
        lock, users = self._held.get(key) or (asyncio.Lock(), 0)
        self._held[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._held[key]
            if users == 1:
                del self._held[key]
            else:
                self._held[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._held)
