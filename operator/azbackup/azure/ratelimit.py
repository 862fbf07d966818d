"""Our own budget in front of ARM: a token bucket per subscription and operation kind.

ARM throttles each (subscription, principal) with token buckets: reads 250 + 25/s, writes and deletes
200 + 10/s (learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling).
Waiting here, before sending, costs nothing; a 429 costs a round trip and a Retry-After. The bucket
also believes the server: `x-ms-ratelimit-remaining-subscription-*` caps the local count, and a 429
empties it until Retry-After has passed.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


class Kind(enum.StrEnum):
    READ = "reads"
    WRITE = "writes"
    DELETE = "deletes"


def kind_of(method: str) -> Kind:
    method = method.upper()
    if method in ("GET", "HEAD"):
        return Kind.READ
    if method == "DELETE":
        return Kind.DELETE
    return Kind.WRITE  # PUT, PATCH and POST actions all count as writes in ARM


@dataclass(frozen=True)
class Budget:
    """Bucket sizes for one subscription. The defaults are ARM's per-principal limits."""

    read_capacity: int = 250
    read_rate: float = 25.0
    write_capacity: int = 200
    write_rate: float = 10.0
    delete_capacity: int = 200
    delete_rate: float = 10.0

    def bucket(self, kind: Kind, clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> TokenBucket:
        capacity, rate = {
            Kind.READ: (self.read_capacity, self.read_rate),
            Kind.WRITE: (self.write_capacity, self.write_rate),
            Kind.DELETE: (self.delete_capacity, self.delete_rate),
        }[kind]
        return TokenBucket(capacity, rate, clock, sleep)


class TokenBucket:
    """A token bucket whose waiters are served in arrival order."""

    def __init__(self, capacity: int, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.capacity, self.rate = float(capacity), float(rate)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(capacity)
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def delay(self) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self._refill()
        pause = max(0.0, self._paused_until - self._clock())
        # The epsilon keeps float rounding (0.9999999 tokens) from turning into an endless tiny wait.
        missing = 1.0 - self._tokens
        shortfall = 0.0 if missing <= 1e-9 else (missing / self.rate if self.rate > 0 else float("inf"))
        return max(pause, shortfall)

    async def acquire(self) -> float:
        """Take one token, waiting as needed; returns the seconds waited."""
        waited = 0.0
        async with self._lock:
            while (wait := self.delay()) > 0:
                await self._sleep(wait)
                waited += wait
            self._tokens -= 1.0
        return waited

    def observe_remaining(self, remaining: int) -> None:
        """The server's count of what is left: never believe we have more than that."""
        self._refill()
        self._tokens = min(self._tokens, float(remaining))

    def pause(self, seconds: float) -> None:
        """After a 429: nothing is sent until Retry-After has passed, and then the bucket refills."""
        self._refill()
        self._tokens = 0.0
        self._paused_until = max(self._paused_until, self._clock() + seconds)
