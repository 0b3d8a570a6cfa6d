"""Images on a node (node/images.py): only bytes a committed poll names are taken, checked
by hash, size and magic bytes, within the client's rate; served with the poll's type and
immutable caching; a node that lacks one fetches it from its sources and checks it."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from chain import encoding
from chain.state import MemoryState
from node.config import RpcSettings
from node.images import CACHE_CONTROL, ImageService, ImageStore
from node.rpc import make_rpc_app
from tests.cluster.harness import free_port
from votingcontract import limits, state_keys

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x01" * 100
UNNAMED = b"\x89PNG\r\n\x1a\n" + b"not named by any poll"


def _index(state: MemoryState, data: bytes, kind: str, size: int | None = None) -> str:
    sha = hashlib.sha256(data).digest()
    state.apply([(state_keys.image(sha), encoding.encode([size or len(data), kind]))])
    return sha.hex()


@dataclass
class Node:
    url: str
    store: ImageStore
    runner: web.AppRunner


async def _start(
    tmp: Path, state: MemoryState, sources: list[str], session: aiohttp.ClientSession, burst: int
) -> Node:
    store = ImageStore(tmp / "images")
    settings = RpcSettings(client_tx_burst=burst, client_txs_per_s=0.001, unlimited_clients=())
    app = make_rpc_app(
        None,  # type: ignore[arg-type]  # the image routes need no node
        1024,
        settings=settings,
        images=ImageService(store, state, sources, lambda: session),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return Node(f"http://127.0.0.1:{port}", store, runner)


@dataclass
class World:
    state: MemoryState
    a: Node
    b: Node
    http: aiohttp.ClientSession
    png: str
    webp: str


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    state = MemoryState()
    png, webp = _index(state, PNG, "image/png"), _index(state, WEBP, "image/webp")
    async with aiohttp.ClientSession() as http:
        a = await _start(tmp_path / "a", state, [], http, burst=8)
        b = await _start(tmp_path / "b", state, [a.url], http, burst=100)
        yield World(state, a, b, http, png, webp)
        await a.runner.cleanup()
        await b.runner.cleanup()


async def _put(world: World, node: Node, sha: str, data: bytes) -> tuple[int, dict]:
    async with world.http.put(f"{node.url}/v1/images/{sha}", data=data) as reply:
        return reply.status, await reply.json()


async def test_a_named_image_is_stored_once_and_served_with_its_type_for_good(
    world: World,
) -> None:
    assert await _put(world, world.a, world.png, PNG) == (
        201,
        {"sha256": world.png, "size": len(PNG), "type": "image/png", "stored": True, "new": True},
    )
    status, document = await _put(world, world.a, world.png, PNG)
    assert (status, document["new"]) == (200, False)
    async with world.http.get(f"{world.a.url}/v1/images/{world.png}") as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "image/png"
        assert reply.headers["Cache-Control"] == CACHE_CONTROL
        assert await reply.read() == PNG


@pytest.mark.parametrize(
    ("which", "data", "status", "error", "says"),
    [
        ("png", PNG[:-1] + b"\x00", 422, "bad_image", "the bytes do not hash to"),
        ("png", PNG[:-1], 422, "bad_image", f"the image is {len(PNG) - 1:,} bytes"),
        ("png", PNG + b"\x00", 413, "body_too_large", "the upload is larger"),
        ("png_as_webp", PNG + b"w", 422, "bad_image", "the bytes are image/png; the poll names"),
        ("unnamed", UNNAMED, 404, "not_found", "no committed poll names image"),
        ("bad", b"x", 400, "bad_request", "64 lower-case hex digits"),
    ],
)
async def test_an_upload_that_is_not_the_named_image_stores_nothing(
    world: World, which: str, data: bytes, status: int, error: str, says: str
) -> None:
    sha = {
        "png": world.png,
        "png_as_webp": _index(world.state, PNG + b"w", "image/webp"),
        "unnamed": hashlib.sha256(UNNAMED).hexdigest(),
        "bad": "AB" * 32,
    }[which]
    got_status, document = await _put(world, world.a, sha, data)
    assert (got_status, document["error"]) == (status, error)
    assert says in document["message"]
    assert list(world.a.store.directory.iterdir()) == []


async def test_a_type_the_magic_bytes_do_not_show_is_refused(world: World) -> None:
    gif = b"GIF89a" + b"\x00" * 30
    sha = _index(world.state, gif, "image/png")
    status, document = await _put(world, world.a, sha, gif)
    assert (status, document["error"]) == (422, "bad_image")
    assert "not a PNG, JPEG or WebP image" in document["message"]


async def test_a_huge_upload_is_cut_off_at_the_named_size(world: World) -> None:
    status, document = await _put(world, world.a, world.png, b"\x89PNG" + b"\x00" * 2_000_000)
    assert (status, document["error"]) == (413, "body_too_large")
    assert limits.MAX_IMAGE_BYTES < 2_000_000


async def test_uploads_take_the_clients_transaction_allowance(world: World) -> None:
    statuses = [(await _put(world, world.a, world.webp, b"x"))[0] for _ in range(12)]
    assert statuses[:8] == [422] * 8
    assert set(statuses[8:]) == {429}


async def test_a_node_without_the_image_fetches_it_from_a_source_and_checks_it(
    world: World,
) -> None:
    async with world.http.get(f"{world.b.url}/v1/images/{world.png}") as reply:
        assert reply.status == 404
        assert "has not been uploaded" in (await reply.json())["message"]
    # A source that serves the wrong bytes is not believed.
    world.a.store.write(bytes.fromhex(world.png), PNG[:-1] + b"\x07")
    b_second = await _start(
        world.b.store.directory.parent / "b2", world.state, [world.a.url], world.http, 100
    )
    try:
        async with world.http.get(f"{b_second.url}/v1/images/{world.png}") as reply:
            assert reply.status == 404
        assert not b_second.store.has(bytes.fromhex(world.png))
    finally:
        await b_second.runner.cleanup()
    world.a.store.write(bytes.fromhex(world.png), PNG)
    b_third = await _start(
        world.b.store.directory.parent / "b3", world.state, [world.a.url], world.http, 100
    )
    try:
        async with world.http.get(f"{b_third.url}/v1/images/{world.png}") as reply:
            assert reply.status == 200
            assert await reply.read() == PNG
        assert b_third.store.read(bytes.fromhex(world.png)) == PNG
    finally:
        await b_third.runner.cleanup()
