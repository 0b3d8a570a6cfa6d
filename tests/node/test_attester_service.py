"""The attester service over HTTP (issue 9, findings 3, 4 and 6), in this process.

Stand-ins on free ports play the validators (POST /v1/tx, GET /v1/voters/{key}, with the
answers each test chooses) and the SMS gateway, so each test sees exactly what the
attester sends them. A fake clock drives the limits. The real-process test is
tests/cluster/test_attester_process.py.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

import votingcontract
from chain.keys import PrivateKey
from chain.tx import Transaction
from node.attester_service import AttesterService, client_address
from node.config import ConfigError, load_config
from node.senders import HttpGatewaySender, make_sender, outbox_messages, read_outbox_code
from node.setup import load_pepper
from tests.cluster.harness import LocalCluster, free_port
from tests.node.fake_clock import FakeClock

PHONE = "+821012345678"
VOTER = PrivateKey.from_seed(b"v" * 32).public_key.hex()
PROXY_SETTINGS = 'trusted_proxies = ["127.0.0.1"]\nclient_start_burst = 3\n'


@dataclass
class StandInValidator:
    """Answers POST /v1/tx as `mode` says and GET /v1/voters/{key} with `voter`."""

    mode: str = "commit"
    voter: dict[str, Any] = field(default_factory=lambda: {"status": "active"})
    received: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [web.post("/v1/tx", self.submit), web.get("/v1/voters/{key}", self.voter_status)]
        )
        return app

    async def submit(self, request: web.Request) -> web.Response:
        self.received.append(request.path_qs)
        tx = Transaction.decode(bytes.fromhex((await request.json())["tx"]))
        if self.mode == "busy":
            return web.json_response({"error": "busy", "message": "mempool full"}, status=503)
        if self.mode == "refuse":
            return web.json_response(
                {"error": "refused", "message": "key in use", "reason": "key_in_use"}, status=422
            )
        receipt = {"accepted": True, "code": "accepted", "description": "accepted"}
        if self.mode == "commit_refused":
            receipt = {"accepted": False, "code": "key_in_use", "description": "key in use"}
        return web.json_response(
            {
                "status": "committed",
                "height": 7,
                "tx": {"tx_id": tx.tx_id.hex(), "kind": tx.kind},
                "receipt": receipt,
            }
        )

    async def voter_status(self, request: web.Request) -> web.Response:
        self.received.append(request.path)
        return web.json_response({"voter_key": request.match_info["key"], **self.voter})


@dataclass
class World:
    cluster: LocalCluster
    service: AttesterService
    validators: list[StandInValidator]
    clock: FakeClock
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.cluster.config.attester.url

    async def post(
        self, path: str, document: object, client: str | None = None
    ) -> tuple[int, dict[str, Any], aiohttp.typedefs.LooseHeaders]:
        headers = {"X-Forwarded-For": client} if client else {}
        async with self.http.post(self.url + path, json=document, headers=headers) as reply:
            return reply.status, await reply.json(), reply.headers

    async def metrics(self) -> str:
        async with self.http.get(self.url + "/metrics") as reply:
            return await reply.text()

    def code(self, phone: str = PHONE) -> str:
        code = read_outbox_code(self.cluster.config.attester_outbox, phone)
        assert code is not None
        return code


async def serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    cluster = LocalCluster(tmp_path, node_count=2, attester=PROXY_SETTINGS)
    validators = [StandInValidator(), StandInValidator()]
    runners = [
        await serve(v.app(), n.rpc_port)
        for v, n in zip(validators, cluster.config.nodes, strict=True)
    ]
    clock = FakeClock()
    service = AttesterService(cluster.config, clock_s=clock)
    await service.start()
    async with aiohttp.ClientSession() as http:
        yield World(cluster, service, validators, clock, http)
    await service.stop()
    for runner in runners:
        await runner.cleanup()


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


# --- finding 2/3: what start says ----------------------------------------------------------


async def test_start_answers_alike_for_every_number_and_never_with_a_phone_id(
    world: World,
) -> None:
    """Before, start returned the phone_id: a number was enough to read someone's votes."""
    pepper = load_pepper(world.cluster.config)
    answers = []
    for phone in [PHONE, "+821099998888"]:
        status, body, _ = await world.post("/v1/enroll/start", {"phone": phone})
        assert status == 200, body
        phone_id = votingcontract.phone_id(pepper, phone).hex()
        assert phone_id not in json.dumps(body) and "phone_id" not in body
        answers.append(body)
    assert [sorted(a) for a in answers] == [["expires_in_s", "sent", "session"]] * 2
    assert answers[0]["sent"] is answers[1]["sent"] is True
    assert answers[0]["expires_in_s"] == answers[1]["expires_in_s"]
    assert len(answers[0]["session"]) == len(answers[1]["session"])
    # start never asks the chain, so neither its answer nor its timing depends on it
    assert all(v.received == [] for v in world.validators)


async def test_finish_enrolls_through_the_validators_and_the_code_file_is_gone(
    world: World,
) -> None:
    _, started, _ = await world.post("/v1/enroll/start", {"phone": PHONE})
    finish = {"session": started["session"], "code": world.code(), "voter_key": VOTER}
    status, body, _ = await world.post("/v1/enroll/finish", finish)
    assert status == 200, body
    assert body["receipt"]["accepted"] and body["voter_status"] == "active"
    assert body["notice_sent"] is False, "a key active at once needs no notice"
    assert (body["replaces_old_key"], body["old_key_revoked_at_ms"]) == (False, None)
    assert outbox_messages(world.cluster.config.attester_outbox, PHONE) == []
    assert world.validators[0].received[0] == "/v1/tx?wait=commit"
    status, body, _ = await world.post("/v1/enroll/finish", finish)
    assert (status, body["error"]) == (410, "code_expired"), "a session enrolls once"


async def test_finish_tries_the_next_validator_when_one_fails(world: World) -> None:
    world.validators[0].mode = "busy"
    _, started, _ = await world.post("/v1/enroll/start", {"phone": PHONE})
    finish = {"session": started["session"], "code": world.code(), "voter_key": VOTER}
    status, body, _ = await world.post("/v1/enroll/finish", finish)
    assert status == 200, body
    assert [len(v.received) >= 1 for v in world.validators] == [True, True]


async def test_when_no_validator_commits_the_session_and_code_stay_valid(world: World) -> None:
    for validator in world.validators:
        validator.mode = "busy"
    _, started, _ = await world.post("/v1/enroll/start", {"phone": PHONE})
    finish = {"session": started["session"], "code": world.code(), "voter_key": VOTER}
    status, body, headers = await world.post("/v1/enroll/finish", finish)
    assert (status, body["error"]) == (503, "busy") and "finish again" in body["message"]
    assert headers["Retry-After"] == "5"
    world.validators[1].mode = "commit"
    status, body, _ = await world.post("/v1/enroll/finish", finish)
    assert status == 200, body


async def test_a_refusal_by_the_chain_is_passed_on_with_its_reason(world: World) -> None:
    for validator in world.validators:
        validator.mode = "refuse"
    _, started, _ = await world.post("/v1/enroll/start", {"phone": PHONE})
    finish = {"session": started["session"], "code": world.code(), "voter_key": VOTER}
    status, body, _ = await world.post("/v1/enroll/finish", finish)
    assert (status, body["error"], body["reason"]) == (422, "refused", "key_in_use")
    assert len(world.validators[0].received) + len(world.validators[1].received) == 1


async def test_an_enrollment_the_chain_refuses_at_commit_sends_no_notice(world: World) -> None:
    for validator in world.validators:
        validator.mode = "commit_refused"
        validator.voter = {"status": "pending", "effective_at_ms": 1}
    _, started, _ = await world.post("/v1/enroll/start", {"phone": PHONE})
    finish = {"session": started["session"], "code": world.code(), "voter_key": VOTER}
    status, body, _ = await world.post("/v1/enroll/finish", finish)
    assert status == 200 and body["receipt"]["code"] == "key_in_use"
    assert body["notice_sent"] is False and body["voter_status"] is None
    assert not any("/v1/voters/" in path for v in world.validators for path in v.received)
    assert world.service.attester.session_count == 1, "the code may be used with another key"


# --- finding 3: the notice to the old key's holder -----------------------------------------


async def test_a_pending_new_key_sends_the_number_a_notice_and_finish_says_when(
    world: World,
) -> None:
    effective_at_ms = 1_800_000_000_000
    for validator in world.validators:
        validator.voter = {"status": "pending", "effective_at_ms": effective_at_ms}
    _, started, _ = await world.post("/v1/enroll/start", {"phone": PHONE})
    finish = {"session": started["session"], "code": world.code(), "voter_key": VOTER}
    status, body, _ = await world.post("/v1/enroll/finish", finish)
    assert status == 200, body
    assert body["voter_status"] == "pending" and body["effective_at_ms"] == effective_at_ms
    assert body["notice_sent"] is True
    # the phone had a key: the answer says it is revoked when the new one takes over
    assert body["replaces_old_key"] is True and body["old_key_revoked_at_ms"] == effective_at_ms
    [notice] = outbox_messages(world.cluster.config.attester_outbox, PHONE)
    assert "new device" in notice and "2027-01-15 08:00 UTC" in notice
    assert "cancel" in notice and "old device" in notice
    assert f"/v1/voters/{VOTER}" in world.validators[0].received


# --- finding 4: pumping --------------------------------------------------------------------


async def test_one_client_pumping_start_is_throttled_while_another_still_gets_a_code(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, one client sent all 60 codes of a minute in 0.1 s and citizens got 503."""
    caplog.set_level(logging.WARNING, "votechain.attester")
    pump, citizen = "203.0.113.7", "198.51.100.9"
    answers = [
        await world.post("/v1/enroll/start", {"phone": f"+8210555000{i:02d}"}, client=pump)
        for i in range(10)
    ]
    statuses = [status for status, _, _ in answers]
    assert statuses == [200, 200, 200] + [429] * 7
    _, refusal, headers = answers[3]
    assert refusal["error"] == "too_many_attempts" and "your address" in refusal["message"]
    assert int(headers["Retry-After"]) > 0
    status, body, _ = await world.post("/v1/enroll/start", {"phone": PHONE}, client=citizen)
    assert status == 200 and body["sent"], "another client still gets a code"
    text = await world.metrics()
    assert metric(text, 'votechain_attester_limit_trips_total{kind="client_start"}') == 7
    assert metric(text, "votechain_attester_codes_sent_total") == 4
    trips = [r.getMessage() for r in caplog.records if "limit tripped" in r.getMessage()]
    assert trips and all(pump in t for t in trips)
    assert not any("555000" in r.getMessage() for r in caplog.records), "no numbers in logs"


async def test_a_number_outside_the_allowed_countries_is_refused_with_a_clear_error(
    world: World,
) -> None:
    status, body, _ = await world.post("/v1/enroll/start", {"phone": "+1 202 555 0100"})
    assert (status, body["error"]) == (400, "country_not_allowed")
    assert "+82" in body["message"]
    assert list(world.cluster.config.attester_outbox.glob("*")) == []
    text = await world.metrics()
    assert metric(text, 'votechain_attester_limit_trips_total{kind="country"}') == 1


async def test_brute_force_over_http_ends_in_a_lockout_with_retry_after(world: World) -> None:
    """Before, 57 codes and 285 guesses at one number in 10.7 s. The attacker here even
    has an address per session, so no per-client limit helps: the number's budget does."""
    guesses = 0
    last: dict[str, Any] = {}
    for attempt in range(4):
        address = f"203.0.113.{attempt}"
        status, started, _ = await world.post("/v1/enroll/start", {"phone": PHONE}, address)
        if status != 200:
            last = started
            break
        for _ in range(5):
            finish = {"session": started["session"], "code": f"{guesses:08d}", "voter_key": VOTER}
            guesses += 1
            status, last, headers = await world.post("/v1/enroll/finish", finish, address)
            if last["error"] == "locked_out":
                break
        world.clock.now_s += 60
    assert guesses == 10 and last["error"] == "locked_out"
    status, body, headers = await world.post("/v1/enroll/start", {"phone": PHONE}, "192.0.2.1")
    assert (status, body["error"]) == (429, "locked_out")
    assert int(headers["Retry-After"]) > 23 * 3600
    text = await world.metrics()
    assert metric(text, "votechain_attester_wrong_guesses_total") == 10
    assert metric(text, "votechain_attester_lockouts_total") == 1


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ([], "bad_request"),
        ({}, "bad_request"),
        ({"phone": 821012345678}, "bad_request"),
        ({"phone": "010-1234-5678"}, "bad_phone"),
        ({"phone": "+" + "1" * 1000}, "bad_phone"),
        ({"phone": "+" + "1" * 5000}, "body_too_large"),
        ({"phone": "+\u0661\u0662\u0663\u0664\u0665\u0666\u0667"}, "bad_phone"),
    ],
)
async def test_bad_start_requests_are_refused_and_send_nothing(
    world: World, document: object, error: str
) -> None:
    status, body, _ = await world.post("/v1/enroll/start", document)
    assert body["error"] == error and 400 <= status < 500
    assert list(world.cluster.config.attester_outbox.glob("*")) == []


@pytest.mark.parametrize(
    "document",
    [
        {"session": "x"},
        {"session": "x", "code": "1"},
        {"session": "x", "code": "1", "voter_key": "zz"},
        {"session": "x", "code": "1", "voter_key": "00"},
    ],
)
async def test_bad_finish_requests_are_bad_request(world: World, document: object) -> None:
    status, body, _ = await world.post("/v1/enroll/finish", document)
    assert (status, body["error"]) == (400, "bad_request")


def test_only_a_trusted_proxy_may_name_the_client() -> None:
    def request(remote: str, forwarded: str) -> web.Request:
        transport = mock.Mock()
        transport.get_extra_info.return_value = (remote, 40000)
        return make_mocked_request(
            "POST", "/", headers={"X-Forwarded-For": forwarded}, transport=transport
        )

    proxies = frozenset({"10.0.0.2"})
    # a client that writes the header itself is still its own address
    assert client_address(request("203.0.113.7", "1.2.3.4"), proxies) == "203.0.113.7"
    # through the proxy: the nearest address the proxy appended, not what the client wrote
    assert client_address(request("10.0.0.2", "1.2.3.4, 198.51.100.9"), proxies) == ("198.51.100.9")
    assert client_address(request("10.0.0.2", ""), proxies) == "10.0.0.2"


# --- senders -------------------------------------------------------------------------------


@dataclass
class StandInGateway:
    status: int = 200
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.post("/sms", self.sms)])
        return app

    async def sms(self, request: web.Request) -> web.Response:
        self.received.append((request.headers.get("Authorization", ""), await request.json()))
        return web.json_response({"ok": self.status == 200}, status=self.status)


def gateway_settings(tmp_path: Path, port: int) -> str:
    token = tmp_path / "gateway-token"
    token.write_text("s3cret-token\n")
    return (
        f'sender = "http"\ngateway_url = "http://127.0.0.1:{port}/sms"\n'
        f'gateway_token_file = "{token}"\ngateway_timeout_s = 2\ngateway_attempts = 2\n'
    )


def cluster_with(tmp_path: Path, settings: str) -> LocalCluster:
    cluster = LocalCluster(tmp_path, node_count=1)
    text = cluster.config_path.read_text().replace('sender = "dev_outbox"\n', settings)
    cluster.config_path.write_text(text)
    cluster.config = load_config(cluster.config_path)
    return cluster


async def test_the_http_sender_posts_to_the_gateway_and_a_failure_counts_no_code(
    tmp_path: Path,
) -> None:
    port = free_port()
    gateway = StandInGateway()
    runner = await serve(gateway.app(), port)
    cluster = cluster_with(tmp_path, gateway_settings(tmp_path, port))
    service = AttesterService(cluster.config, clock_s=FakeClock())
    assert isinstance(service.sender, HttpGatewaySender)
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = cluster.config.attester.url + "/v1/enroll/start"
            async with http.post(url, json={"phone": PHONE}) as reply:
                assert reply.status == 200, await reply.text()
            [(authorization, message)] = gateway.received
            assert authorization == "Bearer s3cret-token"
            assert message["to"] == PHONE and re.search(r"\b\d{8}\b", message["text"])
            # the gateway fails: a clear, retryable error, and nothing counted as sent
            gateway.status = 500
            async with http.post(url, json={"phone": "+821077776666"}) as reply:
                body = await reply.json()
                assert (reply.status, body["error"]) == (503, "send_failed")
                assert reply.headers["Retry-After"] and "try again" in body["message"]
            assert len(gateway.received) == 1 + 2, "retried up to gateway_attempts"
            # the gateway is down altogether
            await runner.cleanup()
            async with http.post(url, json={"phone": "+821077776666"}) as reply:
                assert (await reply.json())["error"] == "send_failed"
            async with http.get(cluster.config.attester.url + "/metrics") as reply:
                text = await reply.text()
            assert metric(text, "votechain_attester_codes_sent_total") == 1
            assert metric(text, "votechain_attester_send_failures_total") == 2
            assert service.attester.session_count == 1
    finally:
        await service.stop()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("", "has no code sender"),
        ('sender = "http"\n', "needs attester.gateway_url"),
        ('sender = "http"\ngateway_url = "https://sms.example"\n', "gateway_token_file"),
        (
            'sender = "http"\ngateway_url = "https://sms.example"\n'
            'gateway_token_file = "absent-token"\n',
            "cannot read the SMS gateway token",
        ),
    ],
)
def test_the_attester_refuses_to_start_without_a_sender(
    tmp_path: Path, settings: str, message: str
) -> None:
    cluster = cluster_with(tmp_path, settings)
    with pytest.raises(ConfigError, match=message):
        make_sender(cluster.config)
    with pytest.raises(ConfigError, match=message):
        AttesterService(cluster.config)


# --- several attester instances (issue 14, docs/adr/008) ------------------------------------


async def test_two_attesters_each_serve_and_a_finish_at_the_other_says_where_to_go(
    tmp_path: Path,
) -> None:
    cluster = LocalCluster(tmp_path, node_count=2, attester_count=2)
    validators = [StandInValidator(), StandInValidator()]
    runners = [
        await serve(v.app(), n.rpc_port)
        for v, n in zip(validators, cluster.config.nodes, strict=True)
    ]
    services = [
        AttesterService(cluster.config, clock_s=FakeClock(), attester_id=attester_id)
        for attester_id in ("a1", "a2")
    ]
    a1, a2 = cluster.config.attester_addresses
    try:
        for service in services:
            await service.start()
        async with aiohttp.ClientSession() as http:
            async with http.get(a2.url + "/v1/status") as reply:
                status = await reply.json()
            assert status["attester_id"] == "a2" and status["attesters"] == ["a1", "a2"]
            assert status["wrong_guess_budget"] == 5, "half of the budget of 10 each"
            async with http.post(a2.url + "/v1/enroll/start", json={"phone": PHONE}) as reply:
                started = await reply.json()
            assert started["session"].startswith("a2.")
            code = read_outbox_code(cluster.config.attester_outbox, PHONE)
            finish = {"session": started["session"], "code": code, "voter_key": VOTER}
            async with http.post(a1.url + "/v1/enroll/finish", json=finish) as reply:
                assert reply.status == 421
                body = await reply.json()
            assert body["error"] == "wrong_attester" and "send finish to a2" in body["message"]
            assert all(v.received == [] for v in validators), "nothing was submitted"
            async with http.post(a2.url + "/v1/enroll/finish", json=finish) as reply:
                assert reply.status == 200
                assert (await reply.json())["receipt"]["accepted"]
    finally:
        for service in services:
            await service.stop()
        for runner in runners:
            await runner.cleanup()


async def test_an_attester_whose_port_is_taken_fails_with_the_reason_and_leaves_nothing_open(
    tmp_path: Path,
) -> None:
    cluster = LocalCluster(tmp_path, node_count=1)
    address = cluster.config.attester_address(None)
    with socket.socket() as holder:
        holder.bind((address.host, address.port))
        holder.listen()
        service = AttesterService(cluster.config, clock_s=FakeClock())
        with pytest.raises(OSError, match="address already in use"):
            await service.start()
    session = service.validators._session
    assert session is not None and session.closed, "the validators' client session is closed"
