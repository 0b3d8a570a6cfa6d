"""Blocks and headers (PROTOCOL.md section 5): validate_basic and tamper evidence."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import encoding
from chain.block import HEADER_VERSION, Block, BlockHeader, make_header
from chain.certificate import CommitCertificate
from chain.errors import DecodeError, InvalidBlock, InvalidCertificate, InvalidTransaction
from chain.merkle import merkle_root
from chain.tx import Transaction
from tests.chain.chain_fixtures import (
    CHAIN_ID,
    block_transactions,
    build_chain,
    make_genesis,
    seeded_key,
    validator_keys,
)

GENESIS = make_genesis(4)
VALIDATORS = GENESIS.validator_set
KEYS = validator_keys(4)


def make_block(transactions: tuple[Transaction, ...], height: int = 3) -> Block:
    header = make_header(
        CHAIN_ID,
        height,
        1_000 * height,
        bytes(range(32)),
        transactions,
        b"\xaa" * 32,
        b"\xbb" * 32,
        KEYS[0].public_key,
    )
    return Block(header, transactions)


def certify(header: BlockHeader, view: int = 0) -> CommitCertificate:
    return CommitCertificate.sign(KEYS, header.chain_id, view, header.height, header.block_hash)


def test_a_well_formed_block_passes_and_round_trips() -> None:
    block = make_block(block_transactions(3, seed=0))
    block.validate_basic()
    block.verify_signatures()
    decoded = Block.decode(block.encode())
    assert decoded == block
    assert decoded.block_hash == block.block_hash
    assert BlockHeader.decode(block.header.encode()) == block.header


def test_an_empty_block_has_the_empty_tx_root() -> None:
    block = make_block(())
    block.validate_basic()
    assert block.header.tx_root == bytes(32)


def test_blocks_of_a_built_chain_link_by_hash() -> None:
    bundles = build_chain(GENESIS, 3)
    assert bundles[0].block.header.prev_hash == GENESIS.genesis_hash
    for previous, current in itertools.pairwise(bundles):
        assert current.block.header.prev_hash == previous.block.block_hash
        current.block.validate_basic()
        current.certificate.verify(VALIDATORS, CHAIN_ID, current.block.height)


def test_a_wrong_tx_root_is_refused_with_both_roots() -> None:
    transactions = block_transactions(3, seed=0)
    block = make_block(transactions)
    wrong = dataclasses.replace(block.header, tx_root=merkle_root([b"something else"]))
    with pytest.raises(InvalidBlock, match="tx_root") as info:
        Block(wrong, transactions).validate_basic()
    assert block.header.tx_root.hex()[:16] in str(info.value)


@pytest.mark.parametrize(
    "reshape",
    [
        lambda txs: txs[:-1],
        lambda txs: (txs[1], txs[0], txs[2]),
        lambda txs: (*txs, block_transactions(4, seed=0)[0]),
    ],
    ids=["dropped", "reordered", "added"],
)
def test_dropping_reordering_or_adding_transactions_breaks_the_tx_root(reshape) -> None:  # type: ignore[no-untyped-def]
    transactions = block_transactions(3, seed=0)
    header = make_block(transactions).header
    with pytest.raises(InvalidBlock, match="tx_root"):
        Block(header, reshape(transactions)).validate_basic()


def test_a_block_with_the_same_transaction_twice_is_refused() -> None:
    tx = block_transactions(3, seed=0)[0]
    with pytest.raises(InvalidBlock, match="same transaction twice"):
        make_block((tx, tx)).validate_basic()


def test_a_transaction_of_another_chain_is_refused_with_its_position() -> None:
    foreign = Transaction.create(seeded_key("phone"), "another-city", "vote", b"", 1)
    block = make_block((*block_transactions(3, seed=0), foreign))
    with pytest.raises(InvalidBlock) as info:
        block.validate_basic()
    assert "transaction 3" in str(info.value)
    assert "'another-city'" in str(info.value) and repr(CHAIN_ID) in str(info.value)


def test_verify_signatures_names_the_badly_signed_transaction() -> None:
    good = block_transactions(3, seed=0)
    forged = dataclasses.replace(good[1], signature=good[0].signature)
    block = make_block((good[0], forged, good[2]))
    block.validate_basic()  # structure is fine; only the signature is wrong
    with pytest.raises(InvalidBlock, match="transaction 1: bad signature") as info:
        block.verify_signatures()
    assert isinstance(info.value.__cause__, InvalidTransaction)


def test_decode_refuses_an_unknown_header_version_and_height_zero() -> None:
    header = make_block(()).header
    value = header.to_value()
    value[0] = HEADER_VERSION + 1
    with pytest.raises(DecodeError, match="unknown version"):
        BlockHeader.decode(encoding.encode(value))
    value = header.to_value()
    value[2] = 0
    with pytest.raises(DecodeError, match=r"header\.height"):
        BlockHeader.decode(encoding.encode(value))


@pytest.mark.parametrize(("position", "size"), [(4, 31), (5, 33), (6, 0), (7, 31), (8, 33)])
def test_decode_refuses_hashes_and_keys_of_the_wrong_length(position: int, size: int) -> None:
    value = make_block(()).header.to_value()
    value[position] = b"\x01" * size
    with pytest.raises(DecodeError, match="expected"):
        BlockHeader.decode(encoding.encode(value))


# --- any single-bit change is detected -------------------------------------------------


def flip(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def assert_header_flip_detected(header: BlockHeader, bit: int) -> None:
    """The certificate of `header` must not certify what the flipped bytes decode to."""
    certificate = certify(header)
    certificate.verify(VALIDATORS, header.chain_id, header.height, header.block_hash)
    try:
        tampered = BlockHeader.decode(flip(header.encode(), bit))
    except DecodeError:
        return
    assert tampered.block_hash != header.block_hash
    with pytest.raises(InvalidCertificate):
        certificate.verify(VALIDATORS, tampered.chain_id, tampered.height, tampered.block_hash)


BUNDLES = build_chain(GENESIS, 2)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_single_bit_flip_of_a_header_is_detected_by_its_certificate(
    data: st.DataObject,
) -> None:
    header = data.draw(st.sampled_from([b.block.header for b in BUNDLES]), label="header")
    bit = data.draw(st.integers(0, len(header.encode()) * 8 - 1), label="bit")
    assert_header_flip_detected(header, bit)


def test_every_single_bit_flip_of_one_header_is_detected() -> None:
    header = BUNDLES[1].block.header
    certificate = certify(header)
    encoded = header.encode()
    for bit in range(len(encoded) * 8):
        try:
            tampered = BlockHeader.decode(flip(encoded, bit))
        except DecodeError:
            continue
        with pytest.raises(InvalidCertificate):
            certificate.verify(VALIDATORS, tampered.chain_id, tampered.height, tampered.block_hash)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_single_bit_flip_of_a_block_is_detected(data: st.DataObject) -> None:
    """A flip in the header changes the hash; a flip in a transaction breaks the tx_root."""
    bundle = BUNDLES[1]
    encoded = bundle.block.encode()
    bit = data.draw(st.integers(0, len(encoded) * 8 - 1), label="bit")
    try:
        tampered = Block.decode(flip(encoded, bit))
        tampered.validate_basic()
        tampered.verify_signatures()
    except (DecodeError, InvalidBlock):
        return
    assert tampered.block_hash != bundle.block.block_hash
    with pytest.raises(InvalidCertificate):
        bundle.certificate.verify(VALIDATORS, CHAIN_ID, tampered.height, tampered.block_hash)
