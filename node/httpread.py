"""Reading another node's HTTP answer without trusting its size."""

from __future__ import annotations

import aiohttp

from chain.errors import DecodeError


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The body of `response`, refused (DecodeError) as soon as it passes `max_bytes`: a
    faulty peer answering a state-transfer, image or forwarding request cannot make this
    node buffer more."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise DecodeError(f"reply is over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
