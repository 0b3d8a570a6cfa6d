"""The node's web app relays the attester's enrolment endpoints at its own origin
(webapp/enroll_relay.py): exactly the attester's answers, the citizen's address passed on
for the attester's per-client limits, a start moved on past a dead or failing instance,
a finish sent to the instance its session names, and a clear 503 when none answers."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from node.config import AttesterAddress, RpcSettings
from node.rpc import make_rpc_app
from webapp.enroll_relay import EnrollRelay

PHONE = "+821012345678"
CITIZEN = "198.51.100.23"
Answer = tuple[int, dict[str, Any], dict[str, str]]
"""An attester's answer: status, JSON document, headers."""


@dataclass
class FakeAttester:
    """Answers each POST with the next of `answers` (status, document, headers); records
    what it was sent."""

    attester_id: str
    answers: list[Answer] = field(default_factory=list)
    received: list[tuple[str, bytes, str | None]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(
            (request.path, await request.read(), request.headers.get("X-Forwarded-For"))
        )
        status, document, headers = self.answers.pop(0)
        return web.json_response(document, status=status, headers=headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.post("/v1/enroll/{step}", self.handle)])
        return app


class NoNode:
    """The relay needs nothing of the node; the RPC app wants one."""

    store: Any = None
    chain_id = "test"

    async def submit(self, data: bytes, wait_commit: bool) -> dict[str, Any]:
        raise AssertionError("not used")

    def status(self) -> dict[str, Any]:
        return {}

    def metrics_text(self) -> tuple[bytes, str]:
        return b"", "text/plain"

    def now_ms(self) -> int:
        return 0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Setup:
    client: TestClient[Any, Any]
    attesters: list[FakeAttester]


async def setup(
    *attesters: FakeAttester | None, trusted: tuple[str, ...] = ("127.0.0.1",)
) -> AsyncIterator[Setup]:
    """A node's RPC app with the relay, in front of `attesters` (None: one that is down)."""
    servers, addresses = [], []
    for i, fake in enumerate(attesters):
        if fake is None:
            addresses.append(AttesterAddress(f"a{i + 1}", "127.0.0.1", closed_port()))
            continue
        server = TestServer(fake.app(), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        addresses.append(AttesterAddress(fake.attester_id, "127.0.0.1", server.port or 0))
    relay = EnrollRelay(addresses, start_timeout_s=10.0, finish_timeout_s=10.0)
    settings = RpcSettings(trusted_proxies=trusted, unlimited_clients=())
    app = make_rpc_app(NoNode(), 1 << 20, settings=settings, extend=lambda a, n: relay.add_to(a))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Setup(client, [a for a in attesters if a is not None])
    finally:
        await client.close()
        for server in servers:
            await server.close()


async def post(s: Setup, path: str, document: Any) -> tuple[int, dict[str, Any], str | None]:
    reply = await s.client.post(
        path, data=json.dumps(document), headers={"X-Forwarded-For": CITIZEN}
    )
    return reply.status, await reply.json(), reply.headers.get("Retry-After")


STARTED: Answer = (200, {"session": "a1.s3cr3t", "sent": True, "expires_in_s": 300}, {})


async def test_a_start_is_relayed_with_the_citizens_address_and_answered_as_the_attester_did() -> (
    None
):
    fake = FakeAttester("a1", [STARTED])
    async for s in setup(fake):
        status, document, _ = await post(s, "/v1/enroll/start", {"phone": PHONE})
        assert (status, document) == (200, STARTED[1])
        path, body, forwarded = fake.received[0]
        assert path == "/v1/enroll/start"
        assert json.loads(body) == {"phone": PHONE}
        # The node trusts its proxy (127.0.0.1 here), so the citizen is the address it named.
        assert forwarded == CITIZEN


async def test_an_address_a_browser_writes_itself_is_not_passed_on() -> None:
    fake = FakeAttester("a1", [STARTED])
    async for s in setup(fake, trusted=()):
        await post(s, "/v1/enroll/start", {"phone": PHONE})
        assert fake.received[0][2] == "127.0.0.1"


async def test_a_start_moves_past_a_dead_attester_and_one_that_is_locked_out() -> None:
    locked = (429, {"error": "locked_out", "message": "locked"}, {"Retry-After": "600"})
    first = FakeAttester("a2", [locked])
    second = FakeAttester("a3", [STARTED])
    async for s in setup(None, first, second):
        status, document, _ = await post(s, "/v1/enroll/start", {"phone": PHONE})
        assert (status, document["session"]) == (200, "a1.s3cr3t")
        assert len(first.received) == len(second.received) == 1


async def test_a_refusal_about_the_number_is_answered_at_once_with_its_retry_after() -> None:
    too_soon = (429, {"error": "too_many_attempts", "message": "wait"}, {"Retry-After": "42"})
    first = FakeAttester("a1", [too_soon])
    second = FakeAttester("a2", [STARTED])
    async for s in setup(first, second):
        status, document, retry = await post(s, "/v1/enroll/start", {"phone": PHONE})
        assert (status, document["error"], retry) == (429, "too_many_attempts", "42")
        assert second.received == []


async def test_a_finish_goes_to_the_instance_its_session_names() -> None:
    done: Answer = (200, {"voter_status": "active", "receipt": {"accepted": True}}, {})
    first = FakeAttester("a1", [])
    second = FakeAttester("a2", [done])
    async for s in setup(first, second):
        finish = {"session": "a2.xyz", "code": "123456", "voter_key": "ab" * 32}
        status, document, _ = await post(s, "/v1/enroll/finish", finish)
        assert (status, document["voter_status"]) == (200, "active")
        assert first.received == [] and json.loads(second.received[0][1]) == finish


async def test_no_attester_is_a_503_with_retry_after_and_no_number_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async for s in setup(None, None):
        status, document, retry = await post(s, "/v1/enroll/start", {"phone": PHONE})
        assert (status, document["error"]) == (503, "busy")
        assert retry is not None and int(retry) > 0
        finish = {"session": "a2.xyz", "code": "123456", "voter_key": "ab" * 32}
        status, document, retry = await post(s, "/v1/enroll/finish", finish)
        assert (status, document["error"]) == (503, "busy") and retry is not None
        assert "a2" in document["message"]
    assert PHONE not in caplog.text and "123456" not in caplog.text


async def test_a_body_over_the_attesters_limit_is_refused_unsent() -> None:
    fake = FakeAttester("a1", [STARTED])
    async for s in setup(fake):
        status, document, _ = await post(s, "/v1/enroll/start", {"phone": "1" * 5000})
        assert (status, document["error"]) == (413, "body_too_large")
        assert fake.received == []


async def test_a_finish_without_a_session_or_for_an_unknown_instance_is_refused() -> None:
    fake = FakeAttester("a1", [])
    async for s in setup(fake):
        status, document, _ = await post(s, "/v1/enroll/finish", {"code": "1"})
        assert (status, document["error"]) == (400, "bad_request")
        assert "session" in document["message"]
        status, document, _ = await post(s, "/v1/enroll/finish", {"session": "zz.1"})
        assert (status, document["error"]) == (410, "code_expired")
        status, document, _ = await post(s, "/v1/enroll/finish", "[not an object")
        assert status == 400
        assert fake.received == []
