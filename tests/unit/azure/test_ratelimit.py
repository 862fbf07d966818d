"""The token bucket in front of ARM, on a fake clock: no test sleeps."""

from __future__ import annotations

import asyncio

import pytest
from azbackup.azure.ratelimit import Kind, TokenBucket, kind_of


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def bucket(capacity: int = 3, rate: float = 1.0) -> tuple[TokenBucket, FakeClock]:
    clock = FakeClock()
    return TokenBucket(capacity, rate, clock, clock.sleep), clock


def take(b: TokenBucket, n: int) -> list[float]:
    async def go() -> list[float]:
        return [await b.acquire() for _ in range(n)]
    return asyncio.run(go())


def test_burst_is_free_then_refill_rate_paces() -> None:
    b, clock = bucket(capacity=3, rate=2.0)
    assert take(b, 5) == [0.0, 0.0, 0.0, 0.5, 0.5]
    assert clock.now == 1.0


def test_time_for_n_writes_is_the_arm_floor() -> None:
    b, clock = bucket(capacity=200, rate=10.0)
    take(b, 1000)
    assert clock.now == pytest.approx((1000 - 200) / 10.0)


def test_server_remaining_header_caps_local_tokens() -> None:
    b, _ = bucket(capacity=200, rate=10.0)
    b.observe_remaining(1)
    assert take(b, 2) == [0.0, pytest.approx(0.1)]


def test_a_429_pauses_until_retry_after() -> None:
    b, clock = bucket(capacity=10, rate=10.0)
    b.pause(7.0)
    assert take(b, 1) == [pytest.approx(7.0)]
    assert clock.now == pytest.approx(7.0)


@pytest.mark.parametrize(("method", "kind"), [
    pytest.param("GET", Kind.READ, id="get-is-read"),
    pytest.param("PUT", Kind.WRITE, id="put-is-write"),
    pytest.param("post", Kind.WRITE, id="post-action-is-write"),
    pytest.param("PATCH", Kind.WRITE, id="patch-is-write"),
    pytest.param("DELETE", Kind.DELETE, id="delete-is-delete"),
])
def test_kind_of(method: str, kind: Kind) -> None:
    assert kind_of(method) is kind
