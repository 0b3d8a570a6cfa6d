"""The block byte limit (issue 9): one rule, checked cheaply and exactly everywhere.

An encoded block is at most MAX_BLOCK_BYTES (PROTOCOL.md section 5). Validators once
committed a 9,005,319-byte block that their own store then refused to read back; these
tests pin the rule at each place a block is judged, and the header reader that lets a
store holding such a block still answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chain import encoding
from chain.block import MAX_BLOCK_BYTES, MAX_BLOCK_TXS, Block, make_header, read_header
from chain.errors import DecodeError, InvalidBlock
from chain.store import ChainStore
from chain.tx import MAX_TX_BYTES, Transaction
from tests.chain.chain_fixtures import (
    CHAIN_ID,
    GENESIS_TIME_MS,
    ChainTip,
    genesis_writes,
    make_genesis,
    next_bundle,
    oversized_bundle,
    seeded_key,
    validator_keys,
)

BIG_BODY_BYTES = MAX_TX_BYTES - 200
"""A body that makes a transaction just under MAX_TX_BYTES."""


def signed_txs(count: int, body_bytes: int, label: str = "size") -> tuple[Transaction, ...]:
    key = seeded_key(label)
    return tuple(
        Transaction.create(key, CHAIN_ID, "test", bytes(body_bytes), nonce)
        for nonce in range(count)
    )


def block_of(transactions: tuple[Transaction, ...], height: int = 1) -> Block:
    header = make_header(
        CHAIN_ID,
        height,
        GENESIS_TIME_MS + 1,
        bytes(32),
        transactions,
        bytes(32),
        bytes(32),
        validator_keys(1)[0].public_key,
    )
    return Block(header, transactions)


def block_of_exact_size(target_bytes: int) -> Block:
    """A block of big transactions whose last one is sized so the block is `target_bytes`."""
    filler = signed_txs(target_bytes // (BIG_BODY_BYTES + 200), BIG_BODY_BYTES)
    short = target_bytes - block_of(filler).encoded_size
    for body_bytes in range(max(short - 160, 0), short):
        last = Transaction.create(seeded_key("last"), CHAIN_ID, "test", bytes(body_bytes), 0)
        block = block_of((*filler, last))
        if block.encoded_size == target_bytes:
            return block
    raise AssertionError(f"no body size gives a block of exactly {target_bytes} bytes")


@pytest.mark.parametrize("count", [0, 1, 15, 16, 300, 65_536 // 1_000])
def test_encoded_size_is_exactly_the_length_of_the_encoding(count: int) -> None:
    block = block_of(signed_txs(count, 10))
    assert block.encoded_size == len(block.encode())


def test_encoded_size_is_exact_across_the_array_header_widths() -> None:
    # 15 -> 16 transactions switches the transaction array from fixarray to array 16.
    for count in (15, 16):
        block = block_of(signed_txs(count, 0, label=f"width-{count}"))
        assert block.encoded_size == len(block.encode())


def test_a_block_of_exactly_the_limit_is_valid_and_one_byte_more_is_not() -> None:
    at_limit = block_of_exact_size(MAX_BLOCK_BYTES)
    assert len(at_limit.encode()) == MAX_BLOCK_BYTES
    at_limit.validate_basic()
    over = block_of_exact_size(MAX_BLOCK_BYTES + 1)
    with pytest.raises(InvalidBlock, match=f"is {MAX_BLOCK_BYTES + 1} bytes, the limit is"):
        over.validate_basic()


def test_the_attack_block_of_issue_9_is_refused_by_validate_basic() -> None:
    # 139 extend_roll-sized transactions made a 9,005,319-byte block 14.
    block = block_of(signed_txs(139, 64_700), height=14)
    assert block.encoded_size > MAX_BLOCK_BYTES
    with pytest.raises(InvalidBlock, match="block 14 is"):
        block.validate_basic()


def test_from_value_refuses_an_oversized_block_before_building_transactions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    value = encoding.decode(block_of(signed_txs(139, BIG_BODY_BYTES)).encode())
    built: list[object] = []
    original = Transaction.from_value
    monkeypatch.setattr(
        Transaction, "from_value", classmethod(lambda cls, v: built.append(v) or original(v))
    )
    with pytest.raises(DecodeError, match="the limit is 8388608"):
        Block.from_value(value)
    assert built == []


def test_from_value_refuses_more_than_max_block_txs() -> None:
    tx = signed_txs(1, 0)[0].to_value()
    header = block_of(()).header.to_value()
    with pytest.raises(DecodeError, match=f"at most {MAX_BLOCK_TXS} items"):
        Block.from_value([header, [tx] * (MAX_BLOCK_TXS + 1)])


def test_read_header_gives_the_header_and_hash_without_the_transactions() -> None:
    for block in (block_of(signed_txs(3, 10)), block_of(signed_txs(139, BIG_BODY_BYTES))):
        header = read_header(block.encode())
        assert header == block.header
        assert header.block_hash == block.block_hash


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x93\x01\x02\x03",
        b"\x92",
        encoding.encode([[1, 2], []]),
        b"\xc1",
        encoding.encode([[b"x" * 2_000] * 9, []]),  # a "header" longer than any header
    ],
)
def test_read_header_refuses_what_is_not_a_block(data: bytes) -> None:
    with pytest.raises(DecodeError):
        read_header(data)


def test_a_store_holding_an_oversized_block_still_opens_and_answers(tmp_path: Path) -> None:
    """The aftermath of issue 9: status and head queries must work, only the block itself
    is unreadable (Block.decode refuses it, as the verifier's rule 1 does)."""
    genesis = make_genesis(4)
    with ChainStore(tmp_path / "chain") as store:
        store.initialize(genesis, genesis_writes())
        first = next_bundle(ChainTip.from_genesis(genesis), genesis)
        store.append_block(*first.append_args())
        oversized = append_oversized_block(store)
    with ChainStore(tmp_path / "chain", create=False) as store:
        assert store.head_height == 2
        assert store.block_hash(2) == oversized.block_hash
        assert store.get_header(2) == oversized.header
        assert store.block_hash(1) == first.block.block_hash
        with pytest.raises(DecodeError, match="the limit is"):
            store.get_block(2)


def append_oversized_block(store: ChainStore) -> Block:
    """Append, as the validators of issue 9 did, a block over the limit on `store`'s head.

    ChainStore.append_block checks links and results, never validity, so this bypasses
    every check a correct replica now makes."""
    bundle = oversized_bundle(store)
    store.append_block(*bundle.append_args())
    return bundle.block
