"""asyncio's TLS read buffer: 256 KiB per connection, allocated and zeroed when the connection opens.

That holds for Python 3.11 and 3.12 (`asyncio.sslproto.SSLProtocol.max_size`), and there is no API
to choose it. Converging 5000 objects keeps about 80 TLS connections busy (kopf's to the apiserver,
ours to ARM): 20 MB of read buffers. TLS records are at most 16 KiB, so a 32 KiB buffer still reads
whole records; a large list page just takes more reads.
"""

from __future__ import annotations

import asyncio.sslproto

READ_BUFFER = 32 * 1024


def shrink_read_buffer(size: int = READ_BUFFER) -> None:
    """Make new asyncio TLS connections read into `size` bytes (never grows the buffer)."""
    protocol = getattr(asyncio.sslproto, "SSLProtocol", None)
    if protocol is not None and getattr(protocol, "max_size", 0) > size:
        protocol.max_size = size
