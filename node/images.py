"""Images of questions and options: kept by every node apart from blocks, and served.

    PUT /v1/images/{sha256}   the bytes, by anyone who has them
    GET /v1/images/{sha256}   the bytes, Content-Type from the poll, cached for good

The chain holds each image's hash, size and type (votingcontract/images.py); the bytes
live in the node's `images/` folder, one file per hash, outside LevelDB and the blocks,
so they never weigh on consensus, state transfer or an auditor's replay.

Who may fill that folder, and how much: an upload is taken only for a hash that a
committed poll names (state `image/<sha256>`), only if the bytes hash to it, have its
exact size and start like its type (PNG, JPEG, WebP magic bytes), and only at the
client's transaction rate (rpc.client_tx_*). So a stranger cannot store anything a
poll's creator did not put on the chain, and what polls may name is capped per poll by
the protocol (limits.MAX_POLL_IMAGE_BYTES_*), behind an org key or a verified phone.
Uploading before the poll commits is refused (not_found): the CLI uploads after commit.

A node that lacks an image someone asks for fetches it once from its sources (the other
validators; an observer's sources), checks it like an upload and keeps it: an image
uploaded to one node reaches every node that is asked for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import aiohttp
from aiohttp import web

from chain.errors import DecodeError
from chain.state import StateView
from node.errors import RpcError, RpcErrorCode
from node.httpread import read_capped
from node.ratelimit import ClientLimits
from votingcontract.images import ImageRef, image_problem
from votingcontract.poll_images import read_image

log = logging.getLogger("votechain.images")

CACHE_CONTROL = "public, max-age=31536000, immutable"
"""An image is named by its hash, so what a URL serves never changes."""
REFETCH_AFTER_S = 10.0
"""A node that found an image at none of its sources asks them again after this long."""
SESSION_TIMEOUT_S = 10
TX = "tx"
READ = "read"
"""node/rpc.py's rate-limit kinds: an upload costs a transaction, a fetch from sources a
heavy read."""


class ImageStore:
    """One file per image, named by its hash in hex; written whole or not at all."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def read(self, sha256: bytes) -> bytes | None:
        try:
            return (self.directory / sha256.hex()).read_bytes()
        except FileNotFoundError:
            return None

    def has(self, sha256: bytes) -> bool:
        return (self.directory / sha256.hex()).exists()

    def write(self, sha256: bytes, data: bytes) -> None:
        final = self.directory / sha256.hex()
        temporary = final.with_suffix(".part")
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)


class ImageService:
    """The image routes of a validator or an observer."""

    def __init__(
        self,
        store: ImageStore,
        state: StateView,
        sources: Sequence[str] = (),
        session: Callable[[], aiohttp.ClientSession | None] = lambda: None,
    ) -> None:
        self.store, self.state, self.sources = store, state, tuple(sources)
        self._session = session
        self._missed_at: dict[bytes, float] = {}

    def routes(self, limits: ClientLimits) -> list[web.RouteDef]:
        async def put(request: web.Request) -> web.Response:
            limits.take(request, TX)
            return await self.upload(request)

        async def get(request: web.Request) -> web.Response:
            return await self.serve(request, limits)

        return [web.put("/v1/images/{sha256}", put), web.get("/v1/images/{sha256}", get)]

    def _ref(self, request: web.Request) -> ImageRef:
        sha256 = parse_sha256(request.match_info["sha256"])
        ref = read_image(self.state, sha256)
        if ref is None:
            raise RpcError(
                RpcErrorCode.NOT_FOUND,
                f"no committed poll names image {sha256.hex()}; upload it once the poll "
                "that names it has committed",
            )
        return ref

    async def upload(self, request: web.Request) -> web.Response:
        ref = self._ref(request)
        if self.store.has(ref.sha256):
            return web.json_response({**ref.to_dict(), "stored": True, "new": False})
        if request.content_length is not None and request.content_length > ref.size:
            raise _too_large(ref)
        data = await _read_at_most(request, ref)
        problem = image_problem(ref, data)
        if problem is not None:
            raise RpcError(RpcErrorCode.BAD_IMAGE, f"image {ref.sha256.hex()}: {problem}")
        await asyncio.to_thread(self.store.write, ref.sha256, data)
        log.info("stored image %s (%d bytes, %s)", ref.sha256.hex(), ref.size, ref.type)
        return web.json_response({**ref.to_dict(), "stored": True, "new": True}, status=201)

    async def serve(self, request: web.Request, limits: ClientLimits) -> web.Response:
        ref = self._ref(request)
        data = await asyncio.to_thread(self.store.read, ref.sha256)
        if data is None:
            limits.take(request, READ)
            data = await self._fetch(ref)
        if data is None:
            raise RpcError(
                RpcErrorCode.NOT_FOUND,
                f"image {ref.sha256.hex()} is named by a poll but has not been uploaded to "
                "this node or its sources yet",
            )
        return web.Response(
            body=data,
            headers={
                "Content-Type": ref.type,
                "Cache-Control": CACHE_CONTROL,
                "ETag": f'"{ref.sha256.hex()}"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def _fetch(self, ref: ImageRef) -> bytes | None:
        """The image from the first source that serves the right bytes, then kept here."""
        session = self._session()
        missed = self._missed_at.get(ref.sha256)
        if session is None or (missed is not None and time.monotonic() - missed < REFETCH_AFTER_S):
            return None
        for url in self.sources:
            try:
                async with session.get(
                    f"{url}/v1/images/{ref.sha256.hex()}",
                    timeout=aiohttp.ClientTimeout(total=SESSION_TIMEOUT_S),
                ) as response:
                    if response.status != 200:
                        continue
                    data = await read_capped(response, ref.size)
            except (aiohttp.ClientError, OSError, TimeoutError, DecodeError) as exc:
                log.debug("fetching image %s from %s failed: %s", ref.sha256.hex(), url, exc)
                continue
            problem = image_problem(ref, data)
            if problem is not None:
                log.warning("source %s served a wrong image %s: %s", url, ref.sha256.hex(), problem)
                continue
            await asyncio.to_thread(self.store.write, ref.sha256, data)
            self._missed_at.pop(ref.sha256, None)
            return data
        if len(self._missed_at) > 10_000:
            self._missed_at.clear()
        self._missed_at[ref.sha256] = time.monotonic()
        return None


def parse_sha256(text: str) -> bytes:
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise RpcError(RpcErrorCode.BAD_REQUEST, "sha256 must be 64 lower-case hex digits")
    return bytes.fromhex(text)


def no_images_routes() -> list[web.RouteDef]:
    """The same routes on an app built without an ImageService (tests, tools)."""

    async def none(request: web.Request) -> web.Response:
        raise RpcError(RpcErrorCode.NOT_FOUND, "this node keeps no images")

    return [web.put("/v1/images/{sha256}", none), web.get("/v1/images/{sha256}", none)]


def _too_large(ref: ImageRef) -> RpcError:
    return RpcError(
        RpcErrorCode.BODY_TOO_LARGE,
        f"image {ref.sha256.hex()} is {ref.size:,} bytes; the upload is larger",
    )


async def _read_at_most(request: web.Request, ref: ImageRef) -> bytes:
    """The request body, refused as soon as it passes the size the poll names (the
    RPC's client_max_size applies to request.read() only, not to this stream)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > ref.size:
            raise _too_large(ref)
        chunks.append(chunk)
    return b"".join(chunks)
