"""GET /v1/txs?prefix= and GET /v1/orgs (issue 14): what the CLI resolves a shortened tx
id with, and what `votechain org list` prints."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import votingcontract
from chain.keys import PrivateKey
from tests.node.live_node import LiveNode


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path_factory.mktemp("lookups"))
    node.start()
    try:
        yield node
    finally:
        node.stop()


def submit(live: LiveNode, data: bytes) -> str:
    reply = live.post_json("/v1/tx?wait=commit", {"tx": data.hex()})
    assert reply.status == 200, reply.body
    return str(reply.json()["tx"]["tx_id"])


def test_a_tx_id_prefix_names_the_committed_transactions_starting_with_it(
    live: LiveNode,
) -> None:
    tx_ids = [
        submit(live, live.enroll_tx(PrivateKey.generate(), f"+8210555{n:05d}")) for n in range(3)
    ]
    for tx_id in tx_ids:
        for length in (1, 7, 12, 64):
            found = live.get(f"/v1/txs?prefix={tx_id[:length]}").json()["tx_ids"]
            assert tx_id in found
            assert all(t.startswith(tx_id[:length]) for t in found)
        assert live.get(f"/v1/txs?prefix={tx_id[:12]}").json()["tx_ids"] == [tx_id]
    absent = next(
        p for p in ("0000000000", "ffffffffff") if not any(t.startswith(p) for t in tx_ids)
    )
    assert live.get(f"/v1/txs?prefix={absent}").json() == {"prefix": absent, "tx_ids": []}
    for bad in ("", "xyz", "ABC", "0" * 65):
        reply = live.get(f"/v1/txs?prefix={bad}")
        assert reply.status == 400 and reply.json()["error"] == "bad_request", bad


def test_orgs_lists_every_registered_organisation_with_its_keys(live: LiveNode) -> None:
    office = PrivateKey.generate()
    body = votingcontract.RegisterOrg.from_dict(
        {
            "org_id": "mapo-gu",
            "name": "마포구청",
            "category": "district_office",
            "keys": [office.public_key.hex()],
        }
    )
    admin = live.cluster.key("admin")
    submit(live, live.sign(admin, body.KIND, body.encode()))
    orgs = live.get("/v1/orgs").json()["orgs"]
    mapo = next(o for o in orgs if o["org_id"] == "mapo-gu")
    assert mapo["name"] == "마포구청" and mapo["category"] == "district_office"
    assert mapo["keys"] == [{"key": office.public_key.hex(), "active": True}]


def test_polls_by_id_prefix_list_only_the_polls_it_begins(live: LiveNode) -> None:
    """GET /v1/polls?prefix=: how `votechain vote 3f9a…` finds its poll in one request."""
    voter = PrivateKey.generate()
    submit(live, live.enroll_tx(voter, "+821055599999"))
    now_ms = int(time.time() * 1000)
    poll_ids = []
    for n in range(3):
        body = votingcontract.body_from_dict(
            "create_poll",
            {
                "kind": "citizen",
                "title": f"Bench colour {n}",
                "opens_at_ms": now_ms,
                "closes_at_ms": now_ms + 86_400_000,
                "questions": [{"text": "Colour", "options": ["Green", "Blue"]}],
            },
        )
        poll_ids.append(submit(live, live.sign(voter, body.KIND, body.encode())))
    for poll_id in poll_ids:
        for length in (1, 5, 64):
            page = live.get(f"/v1/polls?prefix={poll_id[:length]}&limit=100").json()
            found = [p["poll_id"] for p in page["polls"]]
            assert poll_id in found and all(p.startswith(poll_id[:length]) for p in found)
    for bad in ("", "xyz", "ABC", "0" * 65):
        reply = live.get(f"/v1/polls?prefix={bad}")
        assert reply.status == 400 and reply.json()["error"] == "bad_request", bad
