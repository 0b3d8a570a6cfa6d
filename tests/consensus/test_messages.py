"""Consensus messages: canonical bytes, strict decoding, sign bytes (PROTOCOL.md sec. 12)."""

from __future__ import annotations

import pytest

from chain import encoding
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
    encode_message,
)
from consensus.messages import sign
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
