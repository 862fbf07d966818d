"""credentialRef Secrets, cached briefly so a vault pass does not read one Secret per object."""

from __future__ import annotations

from collections.abc import Awaitable, Callable


class SecretCache:
    def __init__(self, read: Callable[[str, str], Awaitable[dict[str, str] | None]], ttl: float,
                 clock: Callable[[], float]) -> None:
        self._read, self._ttl, self._clock = read, ttl, clock
        self._cached: dict[tuple[str, str], tuple[float, dict[str, str] | None]] = {}

    async def get(self, namespace: str, name: str) -> dict[str, str] | None:
        cached = self._cached.get((namespace, name))
        if cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        data = await self._read(namespace, name)
        self._cached[(namespace, name)] = (self._clock(), data)
        return data
