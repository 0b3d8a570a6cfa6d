"""Encoding once and keeping the bytes (issue 13): the shortcuts give the bytes, ids and
roots the full encoding gives, and nothing that used to be refused is accepted.

- a block's encoding is assembled from its header's and transactions' kept encodings;
- a transaction or header built in code is encoded once; one decoded keeps its bytes;
- integer tags (IntEnum) no longer send a whole record to the item-by-item check;
- the store remembers the receipts root of the block it just appended.
"""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Any

import msgpack
import pytest

from chain import encoding
from chain.block import Block, BlockHeader, array_header, array_header_size, make_header
from chain.errors import DecodeError
from chain.hashing import Domain, tagged_hash
from chain.merkle import merkle_root
from chain.store import ChainStore
from chain.tx import Transaction
from tests.chain.chain_fixtures import (
    CHAIN_ID,
    build_chain,
    genesis_writes,
    make_genesis,
    seeded_key,
)


class _Tag(enum.IntEnum):
    SLOT = 7


def _transactions(count: int) -> tuple[Transaction, ...]:
    key = seeded_key("encode-once")
    return tuple(
        Transaction.create(key, CHAIN_ID, "test", encoding.encode([i, b"x" * (i % 5)]), i)
        for i in range(count)
    )


def _block(count: int) -> Block:
    txs = _transactions(count)
    key = seeded_key("encode-once proposer")
    header = make_header(CHAIN_ID, 9, 5_000, bytes(32), txs, bytes(32), bytes(32), key.public_key)
    return Block(header, txs)


@pytest.mark.parametrize("count", [0, 1, 15, 16, 17, 300])
def test_a_block_assembled_from_its_parts_is_the_block_encoded_field_by_field(
    count: int,
) -> None:
    block = _block(count)
    data = block.encode()
    assert data == encoding.encode(block.to_value())
    assert len(data) == block.encoded_size
    decoded = Block.decode(data)
    assert decoded == block and decoded.encode() == data
    assert decoded.block_hash == block.block_hash


@pytest.mark.parametrize("count", [0, 15, 16, 2**16 - 1, 2**16, 2**32 - 1])
def test_array_headers_are_msgpacks_own(count: int) -> None:
    packer = msgpack.Packer(autoreset=False)
    packer.pack_array_header(count)
    expected = packer.bytes()
    assert array_header(count) == expected
    assert len(expected) == array_header_size(count)


def test_a_transaction_built_in_code_is_encoded_once_and_keeps_its_id() -> None:
    tx = _transactions(3)[2]
    first = tx.encode()
    assert tx.encode() is first, "encoded again"
    assert first == encoding.encode(tx.to_value())
    assert tx.tx_id == Transaction.decode(first).tx_id
    edited = dataclasses.replace(tx, nonce=tx.nonce + 1)
    assert edited.encode() == encoding.encode(edited.to_value()) != first
    assert edited.tx_id != tx.tx_id


def test_sign_bytes_come_from_the_one_encoding_whatever_the_transaction_was_made_from() -> None:
    """A transaction decoded inside a consensus message has no raw bytes; its sign bytes
    are sliced from its (one) encoding, and must be the envelope's as PROTOCOL.md says."""
    for tx in _transactions(4):
        expected = tagged_hash(Domain.TRANSACTION, encoding.encode(tx.envelope()))
        from_fields = Transaction.from_value(encoding.decode(tx.encode()))
        assert from_fields._raw is None
        assert tx.sign_bytes == from_fields.sign_bytes == expected
        assert Transaction.decode(tx.encode()).sign_bytes == expected
    short = dataclasses.replace(_transactions(1)[0], signature=b"\0" * 10)
    assert short.sign_bytes == tagged_hash(Domain.TRANSACTION, encoding.encode(short.envelope()))


def test_a_decoded_header_is_its_own_bytes_and_hashes_as_the_fields_do() -> None:
    block = _block(4)
    data = block.header.encode()
    decoded = BlockHeader.decode(data)
    assert decoded.encode() == data
    assert decoded.block_hash == BlockHeader.from_value(decoded.to_value()).block_hash
    edited = dataclasses.replace(decoded, height=decoded.height + 1)
    assert edited.encode() == encoding.encode(edited.to_value()) != data


def test_a_non_canonical_header_is_still_refused() -> None:
    data = _block(1).header.encode()
    # The height 9 as a uint8 (0xcc 0x09) instead of a fixint (0x09); the version 1
    # comes first, then the chain id string, then the height.
    at = 2 + len(encoding.encode(CHAIN_ID))
    assert data[at] == 9
    with pytest.raises(DecodeError, match="non-canonical"):
        BlockHeader.decode(data[:at] + b"\xcc\x09" + data[at + 1 :])


def test_integer_tags_take_the_per_array_check_and_encode_as_their_integers() -> None:
    record: Any = [1, _Tag.SLOT, [Domain.TRANSACTION, b"x", [_Tag.SLOT, None]], "s"]
    plain: Any = [1, 7, [int(Domain.TRANSACTION), b"x", [7, None]], "s"]
    assert encoding._is_plainly_encodable(record)
    assert encoding.encode(record) == encoding.encode(plain)
    assert encoding.encode(_Tag.SLOT) == encoding.encode(7)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([_Tag.SLOT, [1.5]], "floats"),
        ([_Tag.SLOT, {"a": 1}], "maps"),
        ([_Tag.SLOT, 2**64], "64-bit range"),
        ([_Tag.SLOT, [bytearray(b"x")]], "bytearray"),
    ],
)
def test_a_record_with_an_integer_tag_still_refuses_what_is_not_canonical(
    value: Any, message: str
) -> None:
    with pytest.raises(DecodeError, match=message):
        encoding.encode(value)


def test_the_store_remembers_the_receipts_root_it_appended_and_reads_it_back_the_same(
    tmp_path: Path,
) -> None:
    genesis = make_genesis()
    with ChainStore(tmp_path / "chain") as store:
        store.initialize(genesis, genesis_writes())
        for bundle in build_chain(genesis, 3):
            store.append_block(*bundle.append_args())
            height = bundle.block.height
            assert store.receipts_root(height) == merkle_root(bundle.receipts)
            assert store.receipts_root(height) == merkle_root(store.get_receipts(height))
            assert store.receipts_root(height - 1) == merkle_root(store.get_receipts(height - 1))
    with ChainStore(tmp_path / "chain") as reopened:
        assert reopened.receipts_root(3) == merkle_root(bundle.receipts)
