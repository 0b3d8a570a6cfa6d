"""The attester turns an organisation's phone numbers into roll phone ids (docs/adr/007).

The attester runs in this process with a fake clock; stand-ins on free ports play the four
validators and answer GET /v1/orgs/{org_id} as each test chooses. Every test checks what
an office or an auditor would see: the phone ids in order, the refusal and its code, the
audit log and the metrics, and that no number or phone id is ever logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import pytest
from aiohttp import web

import votingcontract
from chain.keys import PrivateKey, verify_signature
from node.attester_service import AttesterService
from node.roll_ids import (
    MAX_ROLL_PHONES,
    ROLL_REQUEST_WINDOW_MS,
    confirmations_needed,
    sign_roll_request,
)
from node.setup import load_pepper
from tests.cluster.harness import LocalCluster
from tests.node.fake_clock import FakeClock

ORG = "gangnam-office"
OFFICE = PrivateKey.from_seed(b"o" * 32)
STRANGER = PrivateKey.from_seed(b"s" * 32)
NOW_MS = 1_800_000_000_000
PHONES = ["+821022223333", "+821044445555", "+821066667777"]
SETTINGS = "roll_phones_per_org_per_day = 8\nclient_roll_burst = 100\n"


@dataclass
class StandInValidator:
    """Answers GET /v1/orgs/{org_id} with `keys` for ORG (404 for any other org)."""

    keys: list[dict[str, Any]] = field(
        default_factory=lambda: [{"key": OFFICE.public_key.hex(), "active": True}]
    )
    asked: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.get("/v1/orgs/{org_id}", self.org)])
        return app

    async def org(self, request: web.Request) -> web.Response:
        self.asked += 1
        if request.match_info["org_id"] != ORG:
            return web.json_response({"error": "not_found", "message": "no org"}, status=404)
        return web.json_response(
            {"org_id": ORG, "name": "Gangnam", "category": "district_office", "keys": self.keys}
        )


@dataclass
class World:
    cluster: LocalCluster
    service: AttesterService
    validators: list[StandInValidator]
    runners: list[web.AppRunner]
    clock: FakeClock
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.cluster.config.attester.url + "/v1/roll/phone-ids"

    @property
    def chain_id(self) -> str:
        return self.cluster.chain_id

    def signed(
        self,
        phones: list[str] = PHONES,
        key: PrivateKey = OFFICE,
        org_id: str = ORG,
        timestamp_ms: int = NOW_MS,
        chain_id: str | None = None,
    ) -> dict[str, Any]:
        return sign_roll_request(
            key, chain_id or self.chain_id, org_id, phones, timestamp_ms, secrets.token_bytes(16)
        )

    async def post(self, document: object) -> tuple[int, dict[str, Any], Any]:
        async with self.http.post(self.url, json=document) as reply:
            return reply.status, await reply.json(), reply.headers

    async def metrics(self) -> str:
        async with self.http.get(self.cluster.config.attester.url + "/metrics") as reply:
            return await reply.text()


async def serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    cluster = LocalCluster(tmp_path, node_count=4, attester=SETTINGS)
    validators = [StandInValidator() for _ in cluster.config.nodes]
    runners = [
        await serve(v.app(), n.rpc_port)
        for v, n in zip(validators, cluster.config.nodes, strict=True)
    ]
    clock = FakeClock()
    service = AttesterService(cluster.config, clock_s=clock)
    service.roll_ids.wall_ms = lambda: NOW_MS
    await service.start()
    async with aiohttp.ClientSession() as http:
        yield World(cluster, service, validators, runners, clock, http)
    await service.stop()
    for runner in runners:
        await runner.cleanup()


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_an_org_key_gets_its_numbers_phone_ids_in_order_and_the_log_names_no_number(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, answer, _ = await world.post(world.signed())
    assert status == 200, answer
    pepper = load_pepper(world.cluster.config)
    assert answer == {"phone_ids": [votingcontract.phone_id(pepper, p).hex() for p in PHONES]}

    audit = [r.getMessage() for r in caplog.records if r.name == "votechain.attester.audit"]
    assert audit == [f"roll phone ids issued: org {ORG} key {OFFICE.public_key.hex()[:16]} count 3"]
    everything = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for phone, phone_id in zip(PHONES, answer["phone_ids"], strict=True):
        assert phone not in everything and phone[3:] not in everything
        assert phone_id not in everything and phone_id[:16] not in everything
    metrics = await world.metrics()
    assert metric(metrics, f'votechain_attester_roll_phone_ids_total{{org="{ORG}"}}') == 3
    assert metric(metrics, f'votechain_attester_roll_requests_total{{org="{ORG}"}}') == 1
    for phone in PHONES:
        assert phone not in metrics


async def test_only_an_active_key_of_a_registered_org_confirmed_by_f_plus_1_validators(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert confirmations_needed(4) == 2
    # a stranger's own key, signed correctly, is not the org's
    status, answer, _ = await world.post(world.signed(key=STRANGER))
    assert (status, answer["error"]) == (403, "not_permitted"), answer
    # an org the validators do not know
    status, answer, _ = await world.post(world.signed(org_id="no-such-office"))
    assert (status, answer["error"]) == (403, "not_permitted"), answer
    # a revoked key of the org
    for validator in world.validators:
        validator.keys = [{"key": OFFICE.public_key.hex(), "active": False}]
    status, answer, _ = await world.post(world.signed())
    assert (status, answer["error"]) == (403, "not_permitted"), answer
    # one validator alone (it may lie, or be the only one that saw a forged block) is not enough
    world.validators[0].keys = [{"key": OFFICE.public_key.hex(), "active": True}]
    status, answer, _ = await world.post(world.signed())
    assert (status, answer["error"]) == (403, "not_permitted"), answer
    # f + 1 = 2 that agree are
    world.validators[1].keys = [{"key": OFFICE.public_key.hex(), "active": True}]
    status, answer, _ = await world.post(world.signed())
    assert status == 200 and len(answer["phone_ids"]) == 3, answer
    # validators unreachable: busy, retry later (not a "no")
    for runner in world.runners[1:]:
        await runner.cleanup()
    status, answer, headers = await world.post(world.signed())
    assert (status, answer["error"]) == (503, "busy") and "Retry-After" in headers, answer
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    key = OFFICE.public_key.hex()[:16]
    assert f"roll phone ids refused: org {ORG} key {key} count 3: busy" in refused
    metrics = await world.metrics()
    assert metric(metrics, 'votechain_attester_roll_refusals_total{error="not_permitted"}') == 4


async def test_a_request_signed_for_something_else_is_refused(world: World) -> None:
    document = world.signed()
    document["phones"] = [*PHONES[:2], "+821099990000"]  # a number swapped after signing
    status, answer, _ = await world.post(document)
    assert (status, answer["error"]) == (403, "bad_request_signature"), answer
    status, answer, _ = await world.post(world.signed(chain_id="another-chain"))
    assert (status, answer["error"]) == (403, "bad_request_signature"), answer
    document = world.signed()
    document["org_id"] = "seoul-city"  # the same signature, claimed for another org
    status, answer, _ = await world.post(document)
    assert (status, answer["error"]) == (403, "bad_request_signature"), answer


async def test_a_replayed_or_stale_request_is_refused(world: World) -> None:
    document = world.signed()
    status, _, _ = await world.post(document)
    assert status == 200
    status, answer, _ = await world.post(document)
    assert (status, answer["error"]) == (409, "replayed_request"), answer
    for skew_ms in (ROLL_REQUEST_WINDOW_MS + 1, -ROLL_REQUEST_WINDOW_MS - 1):
        status, answer, _ = await world.post(world.signed(timestamp_ms=NOW_MS + skew_ms))
        assert (status, answer["error"]) == (403, "stale_request"), answer
    status, _, _ = await world.post(world.signed(timestamp_ms=NOW_MS - ROLL_REQUEST_WINDOW_MS))
    assert status == 200


async def test_each_org_has_a_daily_quota_of_numbers(world: World) -> None:
    # roll_phones_per_org_per_day = 8 in SETTINGS: 3 + 3 pass, 3 more do not
    for _ in range(2):
        status, _, _ = await world.post(world.signed())
        assert status == 200
    status, answer, headers = await world.post(world.signed())
    assert (status, answer["error"]) == (429, "too_many_attempts"), answer
    assert "8 numbers" in answer["message"] and "2 are left" in answer["message"]
    # one number's worth refills in 86,400 / 8 s
    assert int(headers["Retry-After"]) == 86_400 // 8
    world.clock.now_s += 86_400 // 8
    status, answer, _ = await world.post(world.signed())
    assert status == 200, answer
    status, answer, _ = await world.post(world.signed(phones=[f"+8210{i:08d}" for i in range(9)]))
    assert (status, answer["error"]) == (429, "too_many_attempts"), answer


@pytest.mark.parametrize(
    ("phones", "code", "named"),
    [
        (["+821022223333", "010-4444-5555"], "bad_phone", "phones[1]"),
        (["+14155550123"], "country_not_allowed", "phones[0]"),
        (["+821022223333", 821044445555], "bad_phone", "phones[1]"),
        (["+821022223333", "+821022223333"], "bad_request", "twice"),
        ([], "bad_request", "1 to 1000"),
        ([f"+8210{i:08d}" for i in range(MAX_ROLL_PHONES + 1)], "bad_request", "1 to 1000"),
    ],
)
async def test_bad_numbers_are_refused_by_position_without_echoing_them(
    world: World, phones: list[Any], code: str, named: str
) -> None:
    status, answer, _ = await world.post(world.signed(phones=phones))
    assert answer["error"] == code and named in answer["message"], answer
    assert status == 400
    for phone in phones[:3]:
        assert str(phone) not in answer["message"]
    assert all(v.asked == 0 for v in world.validators), "refused before asking the chain"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"org_id": "Not An Org"}, "org_id"),
        ({"key": "zz"}, "key"),
        ({"nonce": "00"}, "nonce"),
        ({"signature": 5}, "signature"),
        ({"timestamp_ms": "now"}, "timestamp_ms"),
        ({"phones": "+821022223333"}, "phones"),
    ],
)
async def test_malformed_requests_name_the_field(
    world: World, change: dict[str, Any], named: str
) -> None:
    status, answer, _ = await world.post({**world.signed(), **change})
    assert (status, answer["error"]) == (400, "bad_request") and named in answer["message"]


async def test_a_body_over_the_limit_is_refused_and_an_enrollment_body_stays_small(
    world: World,
) -> None:
    async with world.http.post(world.url, data=b"{" + b" " * 70_000 + b"}") as reply:
        assert reply.status == 413 and (await reply.json())["error"] == "body_too_large"
    start = world.cluster.config.attester.url + "/v1/enroll/start"
    async with world.http.post(start, data=b"{" + b" " * 5_000 + b"}") as reply:
        assert reply.status == 413


def test_each_attester_instance_allows_its_share_of_the_daily_quota(tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path, node_count=4, attester=SETTINGS, attester_count=2)
    service = AttesterService(cluster.config, attester_id="a2")
    assert service.roll_ids.per_day == 8 // 2


def test_the_signed_statement_is_as_protocol_section_14_5_says() -> None:
    """An outsider's client, written from the spec with msgpack and hashlib alone."""
    nonce = bytes(range(16))
    statement = msgpack.packb(
        [
            "roll-phone-ids-request",
            "votechain-test",
            ORG,
            OFFICE.public_key,
            NOW_MS,
            nonce,
            PHONES,
        ],
        use_bin_type=True,
    )
    digest = hashlib.sha256(b"\x0f" + statement).digest()
    document = sign_roll_request(OFFICE, "votechain-test", ORG, PHONES, NOW_MS, nonce)
    assert OFFICE.public_key.hex() == document["key"]
    assert verify_signature(OFFICE.public_key, bytes.fromhex(document["signature"]), digest)
