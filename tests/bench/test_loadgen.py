"""The load generator against a local server that answers one request at a time: open
loop latency runs from each request's scheduled send, so a queue shows as latency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bench import loadgen
from bench.loadgen import Request

SERVICE_S = 0.05
"""The server's time per request, one at a time: it can answer 20 per second."""


@pytest.fixture
async def serial_server() -> AsyncIterator[str]:
    lock = asyncio.Lock()

    seen: set[bytes] = set()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        async with lock:
            await asyncio.sleep(SERVICE_S)
        if body.startswith(b"once-busy") and body not in seen:
            seen.add(body)  # busy the first time, accepted when it comes back
            return web.Response(status=503, text="{}", headers={"Retry-After": "0.01"})
        return web.Response(status=503 if body == b"refuse" else 200, text="{}")

    app = web.Application()
    app.add_routes([web.post("/put", handle)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/put"
    finally:
        await runner.cleanup()


def classify(status: int, body: bytes) -> str:
    return "ok" if status == 200 else f"http_{status}"


def requests(url: str, count: int, body: bytes = b"x") -> list[Request]:
    return [Request(url, body, key=bytes([i])) for i in range(count)]


async def test_open_loop_counts_queueing_from_the_scheduled_send(serial_server: str) -> None:
    # 10 requests offered at 100/s to a server that serves 20/s: the last is scheduled
    # 90 ms in but answered no sooner than 10 x 50 ms, so it waited >= 0.41 s.
    async with loadgen.session(0) as http:
        result = await loadgen.open_loop(
            http, requests(serial_server, 10), classify, frozenset({"ok"}), 100.0
        )
    assert result.outcomes == {"ok": 10}
    assert result.schedule_s == pytest.approx(0.1)
    assert max(result.latencies_s["ok"]) >= 10 * SERVICE_S - 0.09
    assert len(result.acknowledged) == 10
    # acknowledged over the offered window: all 10 within 0.1 s offered = 100/s
    assert result.acknowledged_per_s == pytest.approx(100.0)
    assert result.throughput_per_s < result.acknowledged_per_s  # the backlog took longer


async def test_closed_loop_stops_at_the_end_of_its_requests(serial_server: str) -> None:
    async with loadgen.session(4) as http:
        result = await loadgen.closed_loop(
            http,
            iter(requests(serial_server, 6) + requests(serial_server, 2, b"refuse")),
            classify,
            frozenset({"ok"}),
            concurrency=4,
        )
    assert result.sent == 8
    assert result.outcomes == {"ok": 6, "http_503": 2}
    assert result.acknowledged_count == 6
    summary = result.to_dict()
    assert summary["outcomes"] == {"ok": 6, "http_503": 2}
    assert summary["latency_by_outcome"]["http_503"]["count"] == 2


async def test_an_unreachable_server_is_an_outcome_not_a_crash() -> None:
    async with loadgen.session(2) as http:
        result = await loadgen.closed_loop(
            http,
            iter(requests("http://127.0.0.1:9/put", 3)),  # discard port: nothing listens
            classify,
            frozenset({"ok"}),
            concurrency=2,
        )
    assert result.outcomes == {loadgen.UNREACHABLE: 3}
    assert result.acknowledged_count == 0


async def test_closed_loop_sends_a_busy_request_again_and_times_it_from_the_first_send(
    serial_server: str,
) -> None:
    once_busy = [Request(serial_server, b"once-busy-%d" % i, key=bytes([i])) for i in range(3)]
    async with loadgen.session(3) as http:
        result = await loadgen.closed_loop(
            http,
            iter(once_busy),
            classify,
            frozenset({"ok"}),
            concurrency=3,
            retry=frozenset({"http_503"}),
        )
    assert result.sent == 3
    assert result.outcomes == {"ok": 3}
    assert result.retried == {"http_503": 3}
    # each waited for two services (its refusal, then its acceptance) at the least
    assert min(result.latencies_s["ok"]) >= 2 * SERVICE_S
