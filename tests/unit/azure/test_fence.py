"""The write fence: with dynamic shards a write leaves only while the shard of the current work is held."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from azbackup.azure.fence import SHARD, FencePolicy, ShardNotHeld
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest


class Sent:
    """The rest of the pipeline: records what got through."""

    def __init__(self) -> None:
        self.methods: list[str] = []

    async def send(self, request: PipelineRequest[Any]) -> Any:
        self.methods.append(request.http_request.method)
        return "response"


def send(method: str, held: set[str], shard: str | None) -> list[str]:
    policy = FencePolicy(lambda s: s in held)
    sent = Sent()
    policy.next = sent  # type: ignore[assignment]

    async def go() -> None:
        SHARD.set(shard)
        await policy.send(PipelineRequest(HttpRequest(method, "https://arm/subscriptions/s/x"), PipelineContext(None)))

    asyncio.run(go())
    return sent.methods


@pytest.mark.parametrize(("method", "held", "shard"), [
    pytest.param("PUT", {"sub-a"}, "sub-a", id="a-write-of-a-held-shard-goes"),
    pytest.param("GET", set(), "sub-a", id="a-read-goes-unfenced"),
    pytest.param("GET", set(), None, id="a-read-outside-any-shard-goes"),
])
def test_what_goes_through(method: str, held: set[str], shard: str | None) -> None:
    assert send(method, held, shard) == [method]


@pytest.mark.parametrize(("method", "held", "shard"), [
    pytest.param("PUT", {"sub-b"}, "sub-a", id="a-put-of-a-shard-not-held-stops"),
    pytest.param("POST", set(), "sub-a", id="a-post-action-of-a-lost-shard-stops"),
    pytest.param("DELETE", {"sub-a"}, None, id="a-delete-outside-any-shard-stops"),
])
def test_what_is_refused_before_it_is_sent(method: str, held: set[str], shard: str | None) -> None:
    with pytest.raises(ShardNotHeld):
        send(method, held, shard)
