"""Two real transports on loopback: frames flow, strangers and giants are refused."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiohttp import web

from chain.certificate import ValidatorSet
from chain.keys import PrivateKey
from cli.localports import free_port
from node.transport import PeerTransport, answer_challenge

KEYS = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(4)]
VALIDATORS = ValidatorSet(tuple(k.public_key for k in KEYS))


async def serve(transport: PeerTransport, port: int) -> web.AppRunner:
    app = web.Application()
    app.add_routes(transport.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def wait_for(condition: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_frames_reach_the_peer_tagged_with_the_sender() -> None:
    ports = [free_port(), free_port()]
    received: list[tuple[int, bytes]] = []
    urls = {i: f"http://127.0.0.1:{p}/peer" for i, p in enumerate(ports)}
    a = PeerTransport(0, KEYS[0], "c", VALIDATORS, {1: urls[1]}, lambda s, f: None)
    b = PeerTransport(
        1, KEYS[1], "c", VALIDATORS, {0: urls[0]}, lambda s, f: received.append((s, f))
    )
    runners = [await serve(a, ports[0]), await serve(b, ports[1])]
    await a.start()
    await b.start()
    try:
        for i in range(50):
            a.send(1, b"frame-%d" % i)
        await wait_for(lambda: len(received) == 50)
        assert received[0] == (0, b"frame-0") and received[-1] == (0, b"frame-49")
    finally:
        await a.close()
        await b.close()
        for runner in runners:
            await runner.cleanup()


async def test_a_stranger_and_an_oversized_frame_are_dropped_and_counted() -> None:
    port = free_port()
    received: list[tuple[int, bytes]] = []
    b = PeerTransport(
        1, KEYS[1], "c", VALIDATORS, {}, lambda s, f: received.append((s, f)), max_frame_bytes=1024
    )
    runner = await serve(b, port)
    url = f"http://127.0.0.1:{port}/peer"
    try:
        async with aiohttp.ClientSession() as session:
            stranger = PrivateKey.from_seed(b"s" * 32)
            async with session.ws_connect(url) as ws:
                await answer_challenge(ws, stranger, "c", 0, 1)
                await ws.send_bytes(b"forged")
                await ws.receive(timeout=5)
            async with session.ws_connect(url) as ws:
                await answer_challenge(ws, KEYS[0], "c", 0, 1)
                await ws.send_bytes(b"ok")
                await ws.send_bytes(b"x" * 4096)
                await ws.receive(timeout=5)
        await wait_for(lambda: b.counters.frames_dropped_oversized == 1)
        assert b.counters.hellos_refused == 1
        assert received == [(0, b"ok")]
    finally:
        await b.close()
        await runner.cleanup()


async def test_a_newer_session_from_a_validator_replaces_the_older_one() -> None:
    port = free_port()
    received: list[tuple[int, bytes]] = []
    b = PeerTransport(1, KEYS[1], "c", VALIDATORS, {}, lambda s, f: received.append((s, f)))
    runner = await serve(b, port)
    url = f"http://127.0.0.1:{port}/peer"
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as old:
            await answer_challenge(old, KEYS[0], "c", 0, 1)
            await old.send_bytes(b"old")
            await wait_for(lambda: received == [(0, b"old")])
            async with session.ws_connect(url) as new:
                await answer_challenge(new, KEYS[0], "c", 0, 1)
                closing = await old.receive(timeout=5)
                assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                await new.send_bytes(b"new")
                await wait_for(lambda: received == [(0, b"old"), (0, b"new")])
                assert not new.closed
        assert b.counters.dropped()["superseded_session"] == 1
    finally:
        await b.close()
        await runner.cleanup()


async def test_a_full_send_queue_drops_the_oldest_frame() -> None:
    transport = PeerTransport(
        0, KEYS[0], "c", VALIDATORS, {1: "http://127.0.0.1:1/peer"}, lambda s, f: None, queue_size=3
    )
    for i in range(5):
        transport.send(1, bytes([i]))
    assert transport.counters.frames_dropped_queue_full == 2
    queue = transport._queues[1]
    assert [queue.get_nowait() for _ in range(3)] == [b"\x02", b"\x03", b"\x04"]
