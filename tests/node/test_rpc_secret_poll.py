"""A secret poll through one real node's RPC (issue 16): what a trustee's tool, a
booth and an auditor read — the key's phase, the crypto document, a ballot's tracking
code and the lookup by it — and results that wait for the trustee.

One validator serves the module. Alice creates a citizen poll whose choices are secret,
with one trustee (threshold 1); Alice and Bob vote; Alice closes it; the trustee decrypts.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

import votingcontract
from ballotcrypto import dkg, question
from ballotcrypto.context import BallotContext
from ballotcrypto.decryption import partial_decrypt
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.group import L, Point
from chain import encoding
from chain.keys import PrivateKey
from chain.tx import Transaction
from node.errors import HTTP_STATUS, RpcErrorCode
from tests.node.live_node import LiveNode
from votingcontract.secret_polls import question_rule
from votingcontract.trustee_bodies import TrusteeCheck, TrusteeDealing, TrusteeDecrypt, TrusteeKey

HOUR_MS = 3_600_000


def scalar() -> int:
    return int.from_bytes(secrets.token_bytes(64), "little") % L or 1


def fresh_key() -> PrivateKey:
    return PrivateKey.from_seed(secrets.token_bytes(32))


class SecretVoting:
    def __init__(self, live: LiveNode) -> None:
        self.live = live
        self.chain_id = live.cluster.chain_id
        self.alice, self.bob, self.trustee = fresh_key(), fresh_key(), fresh_key()
        self.commit(live.enroll_tx(self.alice, "+821055520001"))
        self.commit(live.enroll_tx(self.bob, "+821055520002"))
        self.question = votingcontract.Question(
            "Park",
            tuple(votingcontract.Option(name) for name in ("north", "south", "east")),
        )
        self.poll_id = self.create_poll(secret=True)
        self.public_poll_id = self.create_poll(secret=False)
        self.phase_before_key = self.poll()["secret"]["phase"]
        self.make_key()
        self.alice_ballot = self.vote(self.alice, 2)
        self.bob_ballot = self.vote(self.bob, 0)
        self.results_while_open = self.get("/v1/polls/" + self.poll_id.hex() + "/results")
        self.send(self.alice, votingcontract.ClosePoll(self.poll_id))

    def get(self, path: str) -> dict[str, Any]:
        reply = self.live.get(path)
        assert reply.status == 200, reply.body
        document: dict[str, Any] = reply.json()
        return document

    def poll(self) -> dict[str, Any]:
        return self.get(f"/v1/polls/{self.poll_id.hex()}")

    def commit(self, tx: bytes) -> dict[str, Any]:
        return self.live.commit(tx)

    def send(self, key: PrivateKey, body: Any) -> dict[str, Any]:
        return self.live.send(key, body)

    def create_poll(self, secret: bool) -> bytes:
        start = int(time.time() * 1000)
        body = votingcontract.CreatePoll(
            kind="citizen",
            org_id="",
            title="Which park first?",
            purpose="test",
            reference_url="",
            opens_at_ms=start - 1_000,
            closes_at_ms=start + HOUR_MS,
            visibility="live",
            revote=False,
            questions=(self.question,),
            access=votingcontract.Access(),
            secret=votingcontract.SecretSpec((self.trustee.public_key,), 1) if secret else None,
        )
        return bytes.fromhex(self.send(self.alice, body)["tx"]["tx_id"])

    def make_key(self) -> None:
        self.transport_secret = scalar()
        key = dkg.make_transport_key(
            self.chain_id, self.poll_id, 1, self.transport_secret, scalar()
        )
        self.send(self.trustee, TrusteeKey(self.poll_id, key))
        self.coefficient = scalar()
        dealing = dkg.deal(
            self.chain_id, self.poll_id, 1, [self.coefficient], [key.public], scalar(), [scalar()]
        )
        self.send(self.trustee, TrusteeDealing(self.poll_id, dealing))
        self.send(self.trustee, TrusteeCheck(self.poll_id, ()))

    def vote(self, voter: PrivateKey, option: int) -> Transaction:
        public_key = Point(bytes.fromhex(self.poll()["secret"]["public_key"]))
        rule = question_rule(self.question)
        encrypted = question.encrypt(
            BallotContext(self.chain_id, self.poll_id, voter.public_key, 0),
            public_key,
            rule,
            [1 if i == option else 0 for i in range(rule.options)],
            [scalar() for _ in range(rule.options)],
            [scalar() for _ in range(question.nonce_count(rule))],
        )
        value = encoding.decode(encoding.encode(encrypted.to_value()))
        body = votingcontract.CastBallot(self.poll_id, (), encrypted=(value,))
        tx = Transaction.create(
            voter, self.chain_id, body.KIND, body.encode(), secrets.randbits(63)
        )
        self.commit(tx.encode())
        return tx

    def decrypt(self) -> None:
        crypto = self.get(f"/v1/polls/{self.poll_id.hex()}/crypto")
        tally = [
            Ciphertext(Point(alpha), Point(beta))
            for alpha, beta in encoding.decode(bytes.fromhex(crypto["encrypted_tally"]))
        ]
        partial = partial_decrypt(
            self.chain_id,
            self.poll_id,
            1,
            self.coefficient,
            tally,
            [scalar() for _ in tally],
        )
        self.send(self.trustee, TrusteeDecrypt(self.poll_id, partial))


@pytest.fixture(scope="module")
def voting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretVoting]:
    live = LiveNode(tmp_path_factory.mktemp("secret-poll-node"))
    live.start()
    try:
        yield SecretVoting(live)
    finally:
        live.stop()


def test_a_poll_shows_whether_its_choices_are_secret_and_its_keys_phase(
    voting: SecretVoting,
) -> None:
    assert voting.phase_before_key == "keys"
    poll = voting.poll()
    assert poll["choices"] == "secret"
    assert poll["secret"]["phase"] == "ready"
    assert poll["secret"]["trustees"] == [voting.trustee.public_key.hex()]
    public = voting.get(f"/v1/polls/{voting.public_poll_id.hex()}")
    assert public["choices"] == "public" and "secret" not in public


def test_the_crypto_document_holds_the_key_generation_and_the_tally(
    voting: SecretVoting,
) -> None:
    crypto = voting.get(f"/v1/polls/{voting.poll_id.hex()}/crypto")
    assert crypto["qualified"] == [1]
    assert len(crypto["transport_keys"]) == len(crypto["dealings"]) == 1
    tally = encoding.decode(bytes.fromhex(crypto["encrypted_tally"]))
    assert len(tally) == 3


def test_a_public_poll_has_no_crypto_document(voting: SecretVoting) -> None:
    reply = voting.live.get(f"/v1/polls/{voting.public_poll_id.hex()}/crypto")
    assert reply.status == HTTP_STATUS[RpcErrorCode.NOT_FOUND]
    assert "public choices" in reply.json()["message"]


def test_a_ballot_shows_its_tracking_code_and_the_code_finds_it(voting: SecretVoting) -> None:
    tx = voting.get(f"/v1/tx/{voting.alice_ballot.tx_id.hex()}")["tx"]
    code = tx["tracking_code"]
    assert len(code["hex"]) == 64 and len(code["shown"].replace("-", "")) == 26
    found = voting.get(f"/v1/tracking/{code['shown']}")
    assert found["tx_id"] == voting.alice_ballot.tx_id.hex()
    assert found["tracking_code"] == code["hex"]
    by_hex = voting.get(f"/v1/tracking/{code['hex']}")
    assert by_hex["tx_id"] == voting.alice_ballot.tx_id.hex()
    assert "selections" not in tx["body"] or tx["body"]["selections"] == []


def test_an_unknown_or_malformed_tracking_code_is_said(voting: SecretVoting) -> None:
    missing = voting.live.get("/v1/tracking/" + "AAAA-" * 6 + "AA")
    assert missing.status == HTTP_STATUS[RpcErrorCode.NOT_FOUND]
    assert "audited ballot is never cast" in missing.json()["message"]
    bad = voting.live.get("/v1/tracking/not-a-code")
    assert bad.status == HTTP_STATUS[RpcErrorCode.BAD_REQUEST]
    assert "26 letters and digits" in bad.json()["message"]


def test_results_wait_for_the_trustee_then_count(voting: SecretVoting) -> None:
    waiting = voting.results_while_open
    assert waiting["choices"] == "secret" and not waiting["visible"]
    assert waiting["participants"] == 2
    assert waiting["awaiting_trustees"] == {"partials": 0, "threshold": 1}
    voting.decrypt()
    results = voting.get(f"/v1/polls/{voting.poll_id.hex()}/results")
    assert results["visible"]
    assert [o["count"] for o in results["questions"][0]["options"]] == [1, 0, 1]
