"""ARM's regional token-bucket throttling: per subscription, per principal, per operation kind.

Sizes follow Microsoft's "Understand how ARM throttles requests" (2025): reads 250 tokens
refilled at 25/s, writes and deletes 200 refilled at 10/s. Every ARM answer carries
`x-ms-ratelimit-remaining-subscription-{reads|writes|deletes}`; an empty bucket answers
429 `SubscriptionRequestsThrottled` with `Retry-After`, and a refused request takes no token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Kind(StrEnum):
    """The operation kinds ARM meters separately (GET/HEAD read, DELETE delete, others write)."""

    READ = "read"
    WRITE = "write"
    DELETE = "delete"

    @property
    def header(self) -> str:
        return f"x-ms-ratelimit-remaining-subscription-{self.value}s"

    @classmethod
    def of_method(cls, method: str) -> Kind:
        method = method.upper()
        if method in ("GET", "HEAD"):
            return cls.READ
        if method == "DELETE":
            return cls.DELETE
        return cls.WRITE


@dataclass(frozen=True)
class BucketLimit:
    """Bucket size and refill rate in tokens per second."""

    capacity: float
    refill_per_second: float


@dataclass(frozen=True)
class Limits:
    """Per-principal limits of one subscription (reference §5)."""

    reads: BucketLimit = BucketLimit(250, 25)
    writes: BucketLimit = BucketLimit(200, 10)
    deletes: BucketLimit = BucketLimit(200, 10)

    def of(self, kind: Kind) -> BucketLimit:
        return {Kind.READ: self.reads, Kind.WRITE: self.writes, Kind.DELETE: self.deletes}[kind]

    def with_kind(self, kind: Kind, limit: BucketLimit) -> Limits:
        return replace(self, **{f"{kind.value}s": limit})


@dataclass
class TokenBucket:
    """A token bucket that starts full and refills continuously."""

    limit: BucketLimit
    tokens: float
    last: float

    @classmethod
    def full(cls, limit: BucketLimit, now: float) -> TokenBucket:
        return cls(limit, float(limit.capacity), now)

    def _refill(self, now: float) -> None:
        if now > self.last:
            self.tokens = min(
                float(self.limit.capacity), self.tokens + (now - self.last) * self.limit.refill_per_second
            )
        self.last = max(self.last, now)

    def take(self, now: float) -> bool:
        """Take one token if there is one; a refused request takes nothing."""
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def remaining(self, now: float) -> int:
        self._refill(now)
        return max(0, math.floor(self.tokens))

    def wait(self, now: float) -> float:
        """Seconds until one token is available."""
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        if self.limit.refill_per_second <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.limit.refill_per_second


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: float = 0.0


@dataclass
class Throttler:
    """All buckets of the emulator. Disabled, it never refuses and reports the bucket size minus one."""

    limits: Limits = field(default_factory=Limits)
    enabled: bool = False
    _buckets: dict[tuple[str, str, Kind], TokenBucket] = field(default_factory=dict)

    def check(self, subscription: str, principal: str, kind: Kind, now: float) -> Decision:
        limit = self.limits.of(kind)
        if not self.enabled:
            return Decision(True, max(0, int(limit.capacity) - 1))
        bucket_key = (subscription.lower(), principal.lower(), kind)
        bucket = self._buckets.get(bucket_key)
        if bucket is None or bucket.limit != limit:
            bucket = self._buckets[bucket_key] = TokenBucket.full(limit, now)
        if bucket.take(now):
            return Decision(True, bucket.remaining(now))
        return Decision(False, 0, bucket.wait(now))

    def configure(self, *, enabled: bool | None = None, limits: Limits | None = None) -> None:
        if enabled is not None:
            self.enabled = enabled
        if limits is not None:
            self.limits = limits
        self._buckets.clear()

    def reset(self) -> None:
        self._buckets.clear()
