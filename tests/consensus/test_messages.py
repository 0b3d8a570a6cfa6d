"""Consensus messages: canonical bytes, strict decoding, sign bytes (PROTOCOL.md sec. 12)."""

from __future__ import annotations

import pytest

from chain import encoding
from chain.block import Block, make_header
from chain.certificate import CommitCertificate, commit_vote_sign_bytes
from chain.hashing import Domain, tagged_hash
from consensus import (
    Checkpoint,
    Commit,
    InvalidMessage,
    Message,
    NewView,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    RequestBatch,
    ViewChange,
    decode_message,
    decode_record,
    encode_message,
)
from consensus.messages import sign
from consensus.records import RECORD_VERSION, RecordKind, SlotRecord, slot_key
from consensus.types import Height, ReplicaId, View
from tests.consensus.harness import Cluster
from tests.simulation.cluster import CHAIN_ID, validator_key


def _sample_messages() -> list[Message]:
    cluster = Cluster()
    tx = cluster.make_tx()
    cluster.submit(0, tx)
    pp = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    k = validator_key

    def signed(message: Message, r: int) -> Message:
        return sign(message, k(r), CHAIN_ID)  # type: ignore[type-var]

    prepares = tuple(
        signed(Prepare(pp.view, pp.height, pp.block_hash, r), r)  # type: ignore[arg-type]
        for r in (1, 2)
    )
    certificate = CommitCertificate.sign([k(0), k(1), k(2)], CHAIN_ID, 0, 1, pp.block_hash)
    prepared = PreparedCertificate(pp, prepares)  # type: ignore[arg-type]
    view_change = signed(ViewChange(1, 2, certificate, ()), 2)  # type: ignore[arg-type]
    view_change_prepared = signed(ViewChange(1, 3, None, (prepared,)), 3)  # type: ignore[arg-type]
    return [
        pp,
        *prepares,
        signed(Commit(0, 1, pp.block_hash, 1), 1),  # type: ignore[arg-type]
        signed(Checkpoint(1, pp.block_hash, 1), 1),  # type: ignore[arg-type]
        view_change,
        view_change_prepared,
        signed(NewView(1, 1, (view_change, view_change_prepared), ()), 1),  # type: ignore[arg-type]
        signed(RequestBatch(2, (tx, cluster.make_tx())), 2),  # type: ignore[arg-type]
    ]


@pytest.fixture(scope="module")
def messages() -> list[Message]:
    return _sample_messages()


def test_every_message_round_trips_through_its_canonical_bytes(messages: list[Message]) -> None:
    for message in messages:
        data = encode_message(message)
        assert decode_message(data) == message
        assert encoding.decode(data)[0] == message.kind
        assert "\n" not in message.describe()


def test_unknown_kinds_extra_fields_and_trailing_bytes_are_refused(
    messages: list[Message],
) -> None:
    prepare = messages[1]
    value = prepare.to_value()
    with pytest.raises(InvalidMessage, match="unknown kind"):
        decode_message(encoding.encode([99, *value[1:]]))
    with pytest.raises(InvalidMessage):
        decode_message(encoding.encode([*value, 0]))
    with pytest.raises(InvalidMessage, match="trailing"):
        decode_message(encode_message(prepare) + b"\x00")
    with pytest.raises(InvalidMessage):
        decode_message(encoding.encode([value[0], "0", *value[2:]]))
    with pytest.raises(InvalidMessage):
        decode_message(encoding.encode([3, *value[1:3], b"short", *value[4:]]))


def test_a_view_change_holding_a_pre_prepare_where_a_prepare_belongs_is_refused(
    messages: list[Message],
) -> None:
    view_change = messages[6]
    assert isinstance(view_change, ViewChange)
    value = view_change.to_value()
    entry = value[4][0]
    broken = [*value[:4], [[entry[0], [entry[0]]]], value[5]]
    with pytest.raises(InvalidMessage, match="expected a Prepare"):
        decode_message(encoding.encode(broken))


def test_commit_is_signed_exactly_as_a_certificate_signature(messages: list[Message]) -> None:
    commit = messages[3]
    assert isinstance(commit, Commit)
    assert commit.sign_bytes(CHAIN_ID) == commit_vote_sign_bytes(
        CHAIN_ID, commit.view, commit.height, commit.block_hash
    )


def test_other_messages_sign_the_chain_id_and_their_fields(messages: list[Message]) -> None:
    prepare = messages[1]
    assert isinstance(prepare, Prepare)
    expected = tagged_hash(
        Domain.CONSENSUS_MESSAGE,
        encoding.encode(
            [CHAIN_ID, 2, prepare.view, prepare.height, prepare.block_hash, prepare.replica]
        ),
    )
    assert prepare.sign_bytes(CHAIN_ID) == expected
    assert prepare.sign_bytes("other-chain") != expected
    pre_prepare = messages[0]
    assert isinstance(pre_prepare, PrePrepare)
    assert pre_prepare.signed_fields()[3] == pre_prepare.block.block_hash


def test_a_pre_prepare_whose_block_is_for_another_height_is_refused(
    messages: list[Message],
) -> None:
    pre_prepare = messages[0]
    value = pre_prepare.to_value()
    with pytest.raises(InvalidMessage, match="carries a block of height"):
        decode_message(encoding.encode([value[0], value[1], 2, *value[3:]]))


def test_a_request_batch_signs_its_tx_ids_and_is_bounded(messages: list[Message]) -> None:
    """PROTOCOL.md 12.2: kind 8 signs [chain_id, 8, replica, [tx_id, ...]]; an empty
    batch, a repeated transaction, more than MAX_REQUEST_BATCH_TXS and the retired kind 7
    are refused."""
    batch = messages[-1]
    assert isinstance(batch, RequestBatch)
    tx_ids = [tx.tx_id for tx in batch.transactions]
    expected = tagged_hash(
        Domain.CONSENSUS_MESSAGE, encoding.encode([CHAIN_ID, 8, batch.replica, tx_ids])
    )
    assert batch.sign_bytes(CHAIN_ID) == expected
    value = batch.to_value()
    with pytest.raises(InvalidMessage, match=r"expected 1\.\.1000"):
        decode_message(encoding.encode([8, value[1], [], value[3]]))
    with pytest.raises(InvalidMessage, match="same transaction twice"):
        decode_message(encoding.encode([8, value[1], [value[2][0], value[2][0]], value[3]]))
    with pytest.raises(InvalidMessage):
        decode_message(encoding.encode([8, value[1], [value[2][0]] * 1_001, value[3]]))
    with pytest.raises(InvalidMessage, match="unknown kind 7"):
        decode_message(encoding.encode([7, value[1], value[2][0], value[3]]))


def test_a_proposal_spliced_from_its_blocks_bytes_is_the_canonical_encoding() -> None:
    """PrePrepare.encode, PreparedCertificate.encode and SlotRecord.value join the block's
    kept bytes instead of packing its fields: they must give exactly the bytes packing
    gives (20 transactions: the block's transaction array takes a 3-byte header), and a
    decoded proposal's block keeps its slices of the bytes that came."""
    cluster = Cluster()
    txs = tuple(cluster.make_tx() for _ in range(20))
    header = make_header(CHAIN_ID, 1, 1_000, b"\1" * 32, txs, b"\2" * 32, b"\3" * 32, b"\4" * 32)
    pp = sign(
        PrePrepare(View(2), Height(1), Block(header, txs), ReplicaId(2)), validator_key(2), CHAIN_ID
    )
    data = encode_message(pp)
    assert data == encoding.encode(pp.to_value())
    prepares = tuple(
        sign(Prepare(View(2), Height(1), pp.block_hash, ReplicaId(r)), validator_key(r), CHAIN_ID)
        for r in (0, 1)
    )
    prepared = PreparedCertificate(pp, prepares)
    assert prepared.encode() == encoding.encode(prepared.to_value())
    for slot_pp, slot_prepared in ((pp, prepared), (pp, None), (None, None)):
        record = SlotRecord(
            slot_key(1, 10), Height(1), View(2), slot_pp, True, True, False, slot_prepared
        )
        packed = encoding.encode(
            [
                RECORD_VERSION,
                RecordKind.SLOT,
                1,
                2,
                None if slot_pp is None else slot_pp.to_value(),
                True,
                True,
                False,
                None if slot_prepared is None else slot_prepared.to_value(),
            ]
        )
        assert record.value == packed
        assert decode_record(record.key, record.value) == record
    decoded = decode_message(data)
    assert decoded == pp and isinstance(decoded, PrePrepare)
    assert decoded.block.encode() == encoding.encode(pp.block.to_value())
    kept = [tx for tx in decoded.block.transactions if "_raw" in vars(tx)]
    assert len(kept) == len(txs), "a decoded proposal's transactions keep their bytes"
    assert [tx.tx_id for tx in decoded.block.transactions] == [tx.tx_id for tx in txs]
