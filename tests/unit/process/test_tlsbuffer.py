"""asyncio TLS connections opened after shrink_read_buffer read into the smaller buffer."""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import ssl
from collections.abc import Iterator

import pytest
from azbackup.process import tlsbuffer


@pytest.fixture
def restored() -> Iterator[None]:
    before = asyncio.sslproto.SSLProtocol.max_size
    yield
    asyncio.sslproto.SSLProtocol.max_size = before


def new_protocol() -> asyncio.sslproto.SSLProtocol:
    loop = asyncio.new_event_loop()
    try:
        return asyncio.sslproto.SSLProtocol(loop, asyncio.Protocol(), ssl.create_default_context(),
                                            loop.create_future())
    finally:
        loop.close()


def test_new_connections_get_the_smaller_read_buffer(restored: None) -> None:
    tlsbuffer.shrink_read_buffer()
    assert len(new_protocol()._ssl_buffer) == tlsbuffer.READ_BUFFER


def test_never_grows_the_buffer(restored: None) -> None:
    tlsbuffer.shrink_read_buffer(4096)
    tlsbuffer.shrink_read_buffer(1 << 20)
    assert asyncio.sslproto.SSLProtocol.max_size == 4096
