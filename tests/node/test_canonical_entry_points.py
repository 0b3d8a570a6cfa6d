"""Canonical form is checked where bytes come in, and only there (issue 13).

The node no longer re-checks bytes it made or already checked (encodings are kept on
decoded objects, built ones are encoded once). These tests pin the other half: every
door an outside party can knock on still refuses bytes that decode to valid values but
are not their canonical encoding (a transaction so bent would otherwise get a second
tx_id for the same signed fields). The same transaction, canonically encoded, is taken.

Doors: the client RPC (POST /v1/tx, JSON hex and raw msgpack), peer frames (a
pre-prepare carrying the transaction) and state transfer (GET /v1/raw/blocks replies).
The verifier's input is covered by tests/verifier/test_forged_rules.py
(test_a_non_canonical_block_frame_in_an_export_is_rule_1_at_its_height).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import msgpack
import pytest

import votingcontract
from chain import encoding
from chain.block import Block, make_header
from chain.certificate import CommitCertificate
from chain.errors import DecodeError
from chain.keys import PrivateKey
from chain.tx import Transaction
from consensus import (
    Height,
    InvalidMessage,
    PrePrepare,
    ReplicaId,
    View,
    decode_message,
    encode_message,
)
from consensus.messages import sign
from node.rpc import decode_raw_block
from node.views import RAW_BLOCK_ARRAY_HEADER
from tests.node.live_node import LiveNode

NONCE = 5
"""Small enough to be a one-byte fixint, so it can be bent into a two-byte uint 8."""
BUSY_RETRIES = 20
BUSY_WAIT_S = 0.25


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path_factory.mktemp("canonical-node"))
    node.start()
    try:
        yield node
    finally:
        node.stop()


def enrollment(live: LiveNode, phone: str) -> Transaction:
    voter = PrivateKey.from_seed(phone.encode().ljust(32, b"\0"))
    phone_id = votingcontract.phone_id(live.pepper, votingcontract.normalise_e164(phone))
    body = votingcontract.EnrollVoter(phone_id=phone_id, voter_key=voter.public_key)
    attester = live.cluster.key("attester")
    return Transaction.create(attester, live.cluster.chain_id, body.KIND, body.encode(), NONCE)


def bent(tx: Transaction) -> bytes:
    """tx's bytes with the nonce written as a uint 8 (0xcc 0x05) instead of a fixint."""
    data = tx.encode()
    start, end = encoding.array_spans(data)[4]
    assert data[start:end] == bytes([NONCE])
    return data[:start] + b"\xcc" + data[start:]


def test_bent_bytes_decode_to_the_same_fields_but_are_refused() -> None:
    key = PrivateKey.from_seed(bytes(32))
    tx = Transaction.create(key, "votechain-test", "test", b"\x90", NONCE)
    assert msgpack.unpackb(bent(tx), raw=False) == encoding.decode(tx.encode())
    with pytest.raises(DecodeError, match="non-canonical"):
        Transaction.decode(bent(tx))


@pytest.mark.parametrize("content_type", ["application/json", "application/msgpack"])
def test_the_rpc_refuses_a_non_canonical_transaction_and_takes_the_canonical_one(
    live: LiveNode, content_type: str
) -> None:
    tx = enrollment(live, "+821055501" + ("11" if content_type.endswith("json") else "22"))
    before = live.status()

    def post(data: bytes) -> tuple[int, dict[str, object]]:
        # On a loaded machine admission control may answer busy before it decodes
        # anything (node/admission.py); a client sends again after Retry-After.
        for _ in range(BUSY_RETRIES):
            if content_type == "application/json":
                reply = live.post_json("/v1/tx", {"tx": data.hex()})
            else:
                reply = live.request("POST", "/v1/tx", data, content_type)
            if reply.status != 503:
                break
            time.sleep(BUSY_WAIT_S)
        return reply.status, reply.json()

    status, document = post(bent(tx))
    assert (status, document["error"]) == (400, "malformed_tx"), document
    assert "non-canonical" in str(document["message"])
    after = live.status()
    assert (after["height"], after["mempool"]) == (before["height"], before["mempool"])

    status, document = post(tx.encode())
    assert status in (200, 202), document
    assert document["tx_id"] == tx.tx_id.hex()


def _pre_prepare(live: LiveNode, tx: Transaction) -> PrePrepare:
    key = live.cluster.key("admin")  # any key: the frame is refused before signatures
    header = make_header(
        live.cluster.chain_id, 1, 1_000, bytes(32), (tx,), bytes(32), bytes(32), key.public_key
    )
    message = PrePrepare(View(0), Height(1), Block(header, (tx,)), ReplicaId(0))
    return sign(message, key, live.cluster.chain_id)


def test_a_peer_frame_carrying_a_non_canonical_transaction_is_refused_and_counted(
    live: LiveNode,
) -> None:
    tx = enrollment(live, "+82105550133")
    frame = encode_message(_pre_prepare(live, tx))
    decoded = decode_message(frame)
    assert isinstance(decoded, PrePrepare) and decoded.block.transactions == (tx,)
    bent_frame = frame.replace(tx.encode(), bent(tx))
    assert bent_frame != frame
    with pytest.raises(InvalidMessage, match="non-canonical"):
        decode_message(bent_frame)

    assert live.node is not None
    counters = live.node.transport.counters
    before = counters.dropped().get("malformed", 0)

    async def deliver() -> None:
        assert live.node is not None
        live.node._on_frame(0, bent_frame)

    live.run(deliver())
    assert counters.dropped().get("malformed", 0) == before + 1


def _raw_block(block: Block, receipts: list[encoding.Value]) -> bytes:
    keys = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(3)]
    certificate = CommitCertificate.sign(keys, "votechain-test", 0, 1, block.block_hash)
    return (
        RAW_BLOCK_ARRAY_HEADER + block.encode() + certificate.encode() + encoding.encode(receipts)
    )


def test_state_transfer_keeps_the_bytes_it_checked_and_refuses_non_canonical_ones() -> None:
    key = PrivateKey.from_seed(bytes(32))
    txs = tuple(
        Transaction.create(key, "votechain-test", "test", encoding.encode([i]), NONCE + i * 100)
        for i in range(3)
    )
    header = make_header(
        "votechain-test", 1, 1_000, bytes(32), txs, bytes(32), bytes(32), key.public_key
    )
    block = Block(header, txs)
    data = _raw_block(block, [b"r"] * 3)

    fetched, _, receipts = decode_raw_block(data)
    assert fetched == block and receipts == [b"r"] * 3
    for mine, sent in zip(fetched.transactions, txs, strict=True):
        assert mine._raw == sent.encode(), "a fetched transaction lost its bytes"
    assert fetched.block_hash == block.block_hash

    with pytest.raises(DecodeError, match="non-canonical"):
        decode_raw_block(data.replace(txs[0].encode(), bent(txs[0])))
