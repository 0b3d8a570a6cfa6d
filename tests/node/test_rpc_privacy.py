"""Issue 9 finding 2, the RPC half: a phone's history is readable only by its owner, and
public views of a ballot show what its poll promises and no more.

One real node (one validator) serves the module. Alice and Bob are enrolled voters; Alice
runs a poll whose results come after close and one with live results; both vote in both.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

import votingcontract
from chain import encoding
from chain.hashing import Domain, tagged_hash
from chain.keys import PrivateKey
from chain.tx import Transaction
from node.client_auth import (
    HISTORY_REQUEST_TAG,
    HISTORY_REQUEST_WINDOW_MS,
    history_request_hash,
    sign_history_request,
)
from node.errors import HTTP_STATUS, RpcErrorCode
from tests.node.live_node import LiveNode, Reply

HOUR_MS = 3_600_000


def fresh_key() -> PrivateKey:
    return PrivateKey.from_seed(secrets.token_bytes(32))


def now_ms() -> int:
    return int(time.time() * 1000)


def assert_error(reply: Reply, code: RpcErrorCode) -> dict[str, Any]:
    document: dict[str, Any] = reply.json()
    assert document["error"] == code.value, document
    assert reply.status == HTTP_STATUS[code], (reply.status, document)
    assert "records" not in document
    return document


class Voting:
    """The module's chain: enrolled voters, two polls, ballots."""

    def __init__(self, live: LiveNode) -> None:
        self.live = live
        self.alice, self.bob = fresh_key(), fresh_key()
        self.commit(live.enroll_tx(self.alice, "+821055510001"))
        self.commit(live.enroll_tx(self.bob, "+821055510002"))
        self.hidden_poll = self.create_poll(self.alice, "after_close")
        self.live_poll = self.create_poll(self.alice, "live")
        self.alice_hidden_ballot = self.vote(self.alice, self.hidden_poll, 1)
        self.bob_hidden_ballot = self.vote(self.bob, self.hidden_poll, 0)
        self.alice_live_ballot = self.vote(self.alice, self.live_poll, 1)

    def commit(self, tx: bytes) -> dict[str, Any]:
        return self.live.commit(tx)

    def send(self, key: PrivateKey, body: Any) -> dict[str, Any]:
        return self.live.send(key, body)

    def create_poll(self, creator: PrivateKey, visibility: str) -> bytes:
        start = now_ms()
        body = votingcontract.CreatePoll(
            kind="citizen",
            org_id="",
            title=f"Which park first? ({visibility})",
            purpose="test",
            reference_url="",
            opens_at_ms=start - 1_000,
            closes_at_ms=start + HOUR_MS,
            visibility=visibility,
            revote=False,
            questions=(
                votingcontract.Question(
                    "Park", (votingcontract.Option("north"), votingcontract.Option("south"))
                ),
            ),
            access=votingcontract.Access(),
        )
        return bytes.fromhex(self.send(creator, body)["tx"]["tx_id"])

    def vote(self, voter: PrivateKey, poll_id: bytes, option: int) -> Transaction:
        body = votingcontract.CastBallot(poll_id=poll_id, selections=((option,),))
        tx = Transaction.create(
            voter, self.live.cluster.chain_id, body.KIND, body.encode(), secrets.randbits(63)
        )
        self.commit(tx.encode())
        return tx

    def history(self, key: PrivateKey, **extra: Any) -> Reply:
        request = sign_history_request(key, self.live.cluster.chain_id, now_ms())
        return self.live.post_json("/v1/history", {**request, **extra})


@pytest.fixture(scope="module")
def voting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voting]:
    live = LiveNode(tmp_path_factory.mktemp("privacy-node"))
    live.start()
    try:
        yield Voting(live)
    finally:
        live.stop()


# --- history: only its owner reads it ------------------------------------------------


def test_the_owner_reads_their_history_with_their_ballots_in_full(voting: Voting) -> None:
    reply = voting.history(voting.alice)
    assert reply.status == 200, reply.body
    document = reply.json()
    assert document["voter_key"] == voting.alice.public_key.hex()
    assert document["total"] == 2 and document["next_from"] is None
    by_poll = {r["poll_id"]: r for r in document["records"]}
    assert set(by_poll) == {voting.hidden_poll.hex(), voting.live_poll.hex()}
    hidden = by_poll[voting.hidden_poll.hex()]
    assert hidden["tx_id"] == voting.alice_hidden_ballot.tx_id.hex()
    # Her own ballot, choices included, even though the poll still hides results.
    tx = hidden["committed"]["tx"]
    assert tx["body"]["selections"] == [[1]] and not tx["choices_hidden"]
    assert tx["encoded"] == voting.alice_hidden_ballot.encode().hex()
    assert voting.bob_hidden_ballot.tx_id.hex() not in reply.body.decode()


def test_history_is_paged(voting: Voting) -> None:
    first = voting.history(voting.alice, limit=1).json()
    assert len(first["records"]) == 1 and first["next_from"] == 1
    second = voting.history(voting.alice, **{"from": 1, "limit": 1}).json()
    assert len(second["records"]) == 1 and second["next_from"] is None
    assert first["records"][0]["tx_id"] != second["records"][0]["tx_id"]


def test_history_by_phone_id_is_gone(voting: Voting) -> None:
    reply = voting.live.get(f"/v1/history/{'ab' * 32}")
    assert reply.status in (404, 405), reply.body


def test_another_keys_signature_is_refused(voting: Voting) -> None:
    """Bob signs a request that names Alice's key: nothing of Alice's comes back."""
    request = sign_history_request(voting.bob, voting.live.cluster.chain_id, now_ms())
    request["voter_key"] = voting.alice.public_key.hex()
    reply = voting.live.post_json("/v1/history", request)
    assert_error(reply, RpcErrorCode.BAD_REQUEST_SIGNATURE)
    assert voting.alice_hidden_ballot.tx_id.hex() not in reply.body.decode()


def test_a_stale_or_future_request_is_refused(voting: Voting) -> None:
    chain_id = voting.live.cluster.chain_id
    for skew_ms in (-HISTORY_REQUEST_WINDOW_MS - 60_000, HISTORY_REQUEST_WINDOW_MS + 60_000):
        request = sign_history_request(voting.alice, chain_id, now_ms() + skew_ms)
        assert_error(voting.live.post_json("/v1/history", request), RpcErrorCode.STALE_REQUEST)


def test_a_replayed_request_with_a_changed_timestamp_is_refused(voting: Voting) -> None:
    request = sign_history_request(voting.alice, voting.live.cluster.chain_id, now_ms() - 1)
    request["timestamp_ms"] += 1
    reply = voting.live.post_json("/v1/history", request)
    assert_error(reply, RpcErrorCode.BAD_REQUEST_SIGNATURE)


def test_a_request_signed_for_another_chain_is_refused(voting: Voting) -> None:
    request = sign_history_request(voting.alice, "another-chain", now_ms())
    reply = voting.live.post_json("/v1/history", request)
    assert_error(reply, RpcErrorCode.BAD_REQUEST_SIGNATURE)


def test_a_key_that_is_not_an_enrolled_voters_is_refused(voting: Voting) -> None:
    assert_error(voting.history(fresh_key()), RpcErrorCode.NOT_PERMITTED)


@pytest.mark.parametrize(
    "change",
    [
        {"signature": "zz"},
        {"signature": "00" * 63},
        {"voter_key": "00" * 31},
        {"timestamp_ms": "now"},
        {"timestamp_ms": -1},
        {"timestamp_ms": True},
        {"timestamp_ms": 2**64},
        {"limit": 0},
        {"from": -1},
        {"limit": "9"},
    ],
)
def test_malformed_requests_are_bad_requests(voting: Voting, change: dict[str, Any]) -> None:
    request = {**sign_history_request(voting.alice, voting.live.cluster.chain_id, now_ms())}
    request.update(change)
    assert_error(voting.live.post_json("/v1/history", request), RpcErrorCode.BAD_REQUEST)


def test_the_signed_bytes_are_the_ones_protocol_md_gives() -> None:
    key = PrivateKey.from_seed(bytes(range(32)))
    statement = encoding.encode([HISTORY_REQUEST_TAG, "votechain-test", key.public_key, 1234])
    assert statement[:1] == b"\x94"  # a msgpack array of four
    expected = tagged_hash(Domain.CLIENT_REQUEST, statement)
    assert history_request_hash("votechain-test", key.public_key, 1234) == expected
    assert Domain.CLIENT_REQUEST == 0x0F


# --- public views of a ballot ----------------------------------------------------------


def ballot_in_block(live: LiveNode, tx: Transaction) -> dict[str, Any]:
    height = live.get(f"/v1/tx/{tx.tx_id.hex()}").json()["height"]
    block = live.get(f"/v1/blocks/{height}").json()
    (entry,) = [t for t in block["transactions"] if t["tx_id"] == tx.tx_id.hex()]
    return dict(entry)


def assert_choices_hidden(reply_text: str, view: dict[str, Any], ballot: Transaction) -> None:
    assert view["choices_hidden"] is True
    assert "selections" not in view["body"] and view["encoded"] is None
    assert "hidden until the poll closes" in view["body"]["hidden"]
    # Neither the ballot's bytes nor its body's appear anywhere in the answer.
    assert ballot.encode().hex() not in reply_text
    assert ballot.body.hex() not in reply_text


def test_a_hidden_results_ballot_shows_no_choices_until_close(voting: Voting) -> None:
    live, ballot = voting.live, voting.bob_hidden_ballot
    reply = live.get(f"/v1/tx/{ballot.tx_id.hex()}")
    assert reply.status == 200
    assert_choices_hidden(reply.body.decode(), reply.json()["tx"], ballot)
    assert reply.json()["tx"]["body"]["poll_id"] == voting.hidden_poll.hex()
    height = reply.json()["height"]
    block_reply = live.get(f"/v1/blocks/{height}")
    assert_choices_hidden(block_reply.body.decode(), ballot_in_block(live, ballot), ballot)

    # A live-results poll's ballot is shown whole.
    shown = live.get(f"/v1/tx/{voting.alice_live_ballot.tx_id.hex()}").json()["tx"]
    assert shown["body"]["selections"] == [[1]] and shown["encoded"] is not None

    # Blocks stay public data for verifiers: the raw block holds the ballot's bytes.
    assert ballot.encode() in live.get(f"/v1/raw/blocks/{height}").body

    voting.send(voting.alice, votingcontract.ClosePoll(voting.hidden_poll))
    after = live.get(f"/v1/tx/{ballot.tx_id.hex()}").json()["tx"]
    assert after["choices_hidden"] is False and after["body"]["selections"] == [[0]]
    assert after["encoded"] == ballot.encode().hex()
    in_block = ballot_in_block(live, ballot)
    assert in_block["body"]["selections"] == [[0]] and in_block["encoded"] is not None


def test_results_endpoint_and_ballot_views_agree(voting: Voting) -> None:
    """Whatever /results says about visibility, /v1/tx says the same about choices."""
    for poll_id, ballot in [
        (voting.hidden_poll, voting.alice_hidden_ballot),
        (voting.live_poll, voting.alice_live_ballot),
    ]:
        visible = voting.live.get(f"/v1/polls/{poll_id.hex()}/results").json()["visible"]
        view = voting.live.get(f"/v1/tx/{ballot.tx_id.hex()}").json()["tx"]
        assert view["choices_hidden"] is (not visible), json.dumps(view)
