"""Every field a chain decoder reads, at its bound: the largest value it may hold is
accepted, one more is refused, and the refusal names the field (PROTOCOL.md sections 4-7).

A peer, a client or a copied data directory hands these decoders their bytes; a bound
that is not held lets an oversized certificate, header or genesis through, and an error
that does not name the field leaves the person reading it guessing. The mutation run of
chain/ (docs/mutation-survivors.md) found the bounds below held by no test: a 65-character
chain id, 257 certificate signatures, a 31-byte validator key, a certificate for height 0,
a block of exactly MAX_BLOCK_BYTES or 10,000 transactions, a transaction of exactly
MAX_TX_BYTES, a block decoded without its bytes (as inside a consensus message).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import pytest

from chain import encoding
from chain.block import (
    MAX_BLOCK_BYTES,
    MAX_BLOCK_TXS,
    Block,
    BlockHeader,
    array_header_size,
    make_header,
    read_header,
)
from chain.certificate import MAX_VALIDATORS, CommitCertificate
from chain.errors import DecodeError, InvalidBlock
from chain.genesis import Genesis
from chain.merkle import MAX_PROOF_DEPTH, MerkleProof
from chain.tx import MAX_CHAIN_ID_LENGTH, MAX_TX_BYTES, Transaction
from tests.chain.chain_fixtures import make_genesis

U64_MAX = 2**64 - 1
HASH = bytes(range(32))
KEY = bytes(range(100, 132))
SIGNATURE = bytes(64)
LONG_CHAIN_ID = "c" * (MAX_CHAIN_ID_LENGTH + 1)


def tx_value(**changes: Any) -> list[Any]:
    fields = {
        "version": 1,
        "chain_id": "c",
        "kind": "test",
        "signer": KEY,
        "nonce": 0,
        "body": b"body",
        "signature": SIGNATURE,
    }
    fields.update(changes)
    return list(fields.values())


def header_value(**changes: Any) -> list[Any]:
    fields = {
        "version": 1,
        "chain_id": "c",
        "height": 1,
        "timestamp_ms": 0,
        "prev_hash": HASH,
        "tx_root": HASH,
        "prev_app_hash": HASH,
        "prev_receipts_root": HASH,
        "proposer": KEY,
    }
    fields.update(changes)
    return list(fields.values())


def certificate_value(**changes: Any) -> list[Any]:
    fields: dict[str, Any] = {
        "chain_id": "c",
        "view": 0,
        "height": 1,
        "block_hash": HASH,
        "signatures": [[KEY, SIGNATURE]],
    }
    fields.update(changes)
    return list(fields.values())


def genesis_value(index: int, value: Any) -> list[Any]:
    fields = make_genesis(4).to_value()
    fields[index] = value
    return fields


def keys(count: int) -> list[bytes]:
    """`count` distinct 32-byte keys."""
    return [i.to_bytes(2, "big") + bytes(30) for i in range(count)]


def refusal(decode: Callable[[Any], Any], value: Any) -> str:
    with pytest.raises(DecodeError) as refused:
        decode(value)
    return str(refused.value)


# --- transactions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "transaction: expected an array, got int"),
        (tx_value(version="1"), "transaction.version: expected an integer, got str"),
        (tx_value(chain_id=LONG_CHAIN_ID), "transaction.chain_id: at most 64 characters, got 65"),
        (
            tx_value(body=bytes(MAX_TX_BYTES + 1)),
            f"transaction.body: at most {MAX_TX_BYTES} bytes, got {MAX_TX_BYTES + 1}",
        ),
        (tx_value(signer=bytes(31)), "transaction.signer: expected 32 bytes, got 31"),
    ],
)
def test_a_transaction_field_out_of_bounds_is_refused_by_name(value: Any, message: str) -> None:
    assert refusal(Transaction.from_value, value) == message


def test_a_transaction_at_every_field_bound_is_accepted() -> None:
    value = tx_value(chain_id="c" * MAX_CHAIN_ID_LENGTH, nonce=U64_MAX, body=bytes(MAX_TX_BYTES))
    tx = Transaction.from_value(value)
    assert (len(tx.chain_id), tx.nonce, len(tx.body)) == (
        MAX_CHAIN_ID_LENGTH,
        U64_MAX,
        MAX_TX_BYTES,
    )


def exact_size_tx(size: int) -> bytes:
    """An encoded transaction of exactly `size` bytes (body between 256 and 65,535 bytes)."""
    overhead = len(encoding.encode(tx_value(body=bytes(1_000)))) - 1_000
    data = encoding.encode(tx_value(body=bytes(size - overhead)))
    assert len(data) == size
    return data


def test_a_transaction_of_exactly_max_tx_bytes_decodes_and_one_byte_more_is_refused() -> None:
    assert Transaction.decode(exact_size_tx(MAX_TX_BYTES)).encoded_size == MAX_TX_BYTES
    assert refusal(Transaction.decode, exact_size_tx(MAX_TX_BYTES + 1)) == (
        f"transaction is {MAX_TX_BYTES + 1} bytes, the limit is {MAX_TX_BYTES}"
    )


# --- headers and blocks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "header: expected an array, got int"),
        (header_value(version="1"), "header.version: expected an integer, got str"),
        (header_value(chain_id=LONG_CHAIN_ID), "header.chain_id: at most 64 characters, got 65"),
        (header_value(chain_id=5), "header.chain_id: expected a string, got int"),
        (header_value(height=0), f"header.height: 0 is outside [1, {U64_MAX}]"),
        (header_value(timestamp_ms="0"), "header.timestamp_ms: expected an integer, got str"),
        (header_value(prev_hash=bytes(31)), "header.prev_hash: expected 32 bytes, got 31"),
        (header_value(tx_root=bytes(31)), "header.tx_root: expected 32 bytes, got 31"),
        (header_value(prev_app_hash=bytes(31)), "header.prev_app_hash: expected 32 bytes, got 31"),
        (
            header_value(prev_receipts_root=bytes(31)),
            "header.prev_receipts_root: expected 32 bytes, got 31",
        ),
        (header_value(proposer=bytes(33)), "header.proposer: expected 32 bytes, got 33"),
    ],
)
def test_a_header_field_out_of_bounds_is_refused_by_name(value: Any, message: str) -> None:
    assert refusal(BlockHeader.from_value, value) == message


def test_a_header_at_every_field_bound_is_accepted() -> None:
    header = BlockHeader.from_value(
        header_value(chain_id="c" * MAX_CHAIN_ID_LENGTH, timestamp_ms=U64_MAX)
    )
    assert (len(header.chain_id), header.timestamp_ms) == (MAX_CHAIN_ID_LENGTH, U64_MAX)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "block: expected an array, got int"),
        (
            [header_value(), [0] * (MAX_BLOCK_TXS + 1)],
            f"block.transactions: at most {MAX_BLOCK_TXS} items, got {MAX_BLOCK_TXS + 1}",
        ),
        ([header_value(), 5], "block.transactions: expected an array, got int"),
    ],
)
def test_a_block_value_out_of_bounds_is_refused_by_name(value: Any, message: str) -> None:
    assert refusal(Block.from_value, value) == message


def test_a_stored_block_that_is_not_a_pair_is_refused_when_its_header_is_read() -> None:
    assert refusal(read_header, encoding.encode([header_value(), [], []])) == (
        "block: expected an array of 2 fields"
    )


def test_a_stored_block_cut_short_is_refused_when_its_header_is_read() -> None:
    message = refusal(read_header, b"\x92\x99\x01")
    assert message.startswith("block: cannot read the header: "), message


def test_a_block_decoded_from_its_value_alone_is_the_same_block() -> None:
    """Consensus messages decode their block from a value, without its bytes."""
    transactions = tuple(Transaction.from_value(tx_value(nonce=n)) for n in range(3))
    block = Block(make_header("c", 1, 0, HASH, transactions, HASH, HASH, KEY), transactions)
    decoded = Block.from_value(block.to_value())
    assert decoded == block
    assert decoded.block_hash == block.block_hash
    assert [tx.tx_id for tx in decoded.transactions] == [tx.tx_id for tx in block.transactions]
    assert decoded.encode() == block.encode()


def block_value_of_size(size: int) -> list[Any]:
    """A block value whose canonical encoding is exactly `size` bytes (about 8 MiB)."""
    body_bytes = 60_000
    txs: list[Any] = []
    total = len(encoding.encode([header_value(), [0] * 200])) - 200  # 3-byte array header
    one = len(encoding.encode(tx_value(body=bytes(body_bytes))))
    while total + one + 1_000 < size:
        txs.append(tx_value(nonce=len(txs) % 100, body=bytes(body_bytes)))
        total += one
    overhead = one - body_bytes
    txs.append(tx_value(nonce=len(txs) % 100, body=bytes(size - total - overhead)))
    value: list[Any] = [header_value(), txs]
    assert len(encoding.encode(value)) == size
    return value


def test_a_block_of_exactly_max_block_bytes_decodes_and_one_byte_more_is_refused() -> None:
    at_limit = block_value_of_size(MAX_BLOCK_BYTES)
    data = encoding.encode(at_limit)
    assert Block.decode(data).encoded_size == MAX_BLOCK_BYTES
    assert Block.from_value(at_limit).encoded_size == MAX_BLOCK_BYTES

    over = block_value_of_size(MAX_BLOCK_BYTES + 1)
    message = f"block is {MAX_BLOCK_BYTES + 1} bytes, the limit is {MAX_BLOCK_BYTES}"
    assert refusal(Block.decode, encoding.encode(over)) == message
    assert refusal(Block.from_value, over) == message


def block_of(transactions: tuple[Transaction, ...], version: int = 1) -> Block:
    header = make_header("c", 1, 0, HASH, transactions, HASH, HASH, KEY)
    if version != 1:
        header = BlockHeader(version, *header.to_value()[1:])
    return Block(header, transactions)


def unsigned_tx(nonce: int, body: bytes = b"", version: int = 1) -> Transaction:
    return Transaction(version, "c", "test", KEY, nonce, body, SIGNATURE)


def invalid_block(block: Block) -> str:
    with pytest.raises(InvalidBlock) as refused:
        block.validate_basic()
    return str(refused.value)


def test_a_block_of_exactly_max_block_txs_passes_and_one_more_is_refused() -> None:
    transactions = tuple(unsigned_tx(n) for n in range(MAX_BLOCK_TXS + 1))
    block_of(transactions[:MAX_BLOCK_TXS]).validate_basic()
    assert invalid_block(block_of(transactions)) == (
        f"block 1: {MAX_BLOCK_TXS + 1} transactions, limit {MAX_BLOCK_TXS}"
    )


def test_a_block_transaction_of_exactly_max_tx_bytes_passes_and_one_byte_more_is_refused() -> None:
    at_limit = Transaction.decode(exact_size_tx(MAX_TX_BYTES))
    block_of((at_limit,)).validate_basic()
    over = unsigned_tx(0, bytes(len(at_limit.body) + 1))
    assert over.encoded_size == MAX_TX_BYTES + 1
    assert invalid_block(block_of((over,))) == "block 1, transaction 0 is too large"


def test_block_checks_name_the_header_version_and_the_transaction_they_refuse() -> None:
    assert invalid_block(block_of((unsigned_tx(0),), version=2)) == (
        "block 1: unknown header version 2"
    )
    assert invalid_block(block_of((unsigned_tx(0), unsigned_tx(1, version=2)))) == (
        "block 1, transaction 1: unknown transaction version 2"
    )


@pytest.mark.parametrize("count", [0, 1, 15, 16, 2**16 - 1, 2**16])
def test_array_header_size_is_the_size_msgpack_writes(count: int) -> None:
    """encoded_size adds these up instead of encoding the block."""
    assert array_header_size(count) == len(encoding.encode([None] * count)) - count


# --- commit certificates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "certificate: expected an array, got int"),
        (certificate_value(signatures=5), "certificate.signatures: expected an array, got int"),
        (
            certificate_value(signatures=[[k, SIGNATURE] for k in keys(MAX_VALIDATORS + 1)]),
            f"certificate.signatures: at most {MAX_VALIDATORS} items, got {MAX_VALIDATORS + 1}",
        ),
        (
            certificate_value(signatures=[[KEY, SIGNATURE, 0]]),
            "certificate.signature: expected 2 fields, got 3",
        ),
        (
            certificate_value(signatures=[[bytes(31), SIGNATURE]]),
            "certificate.validator: expected 32 bytes, got 31",
        ),
        (
            certificate_value(signatures=[[KEY, bytes(63)]]),
            "certificate.signature: expected 64 bytes, got 63",
        ),
        (
            certificate_value(chain_id=LONG_CHAIN_ID),
            "certificate.chain_id: at most 64 characters, got 65",
        ),
        (certificate_value(view="0"), "certificate.view: expected an integer, got str"),
        (certificate_value(height=0), f"certificate.height: 0 is outside [1, {U64_MAX}]"),
        (
            certificate_value(block_hash=bytes(31)),
            "certificate.block_hash: expected 32 bytes, got 31",
        ),
    ],
)
def test_a_certificate_field_out_of_bounds_is_refused_by_name(value: Any, message: str) -> None:
    assert refusal(CommitCertificate.from_value, value) == message


def test_a_certificate_at_every_field_bound_is_accepted() -> None:
    value = certificate_value(
        chain_id="c" * MAX_CHAIN_ID_LENGTH,
        signatures=[[k, SIGNATURE] for k in keys(MAX_VALIDATORS)],
    )
    certificate = CommitCertificate.decode(encoding.encode(value))
    assert len(certificate.chain_id) == MAX_CHAIN_ID_LENGTH
    assert len(certificate.signatures) == MAX_VALIDATORS


# --- Merkle proofs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "merkle proof: expected an array, got int"),
        (
            [0, 1, [HASH] * (MAX_PROOF_DEPTH + 1)],
            f"merkle proof.siblings: at most {MAX_PROOF_DEPTH} items, got {MAX_PROOF_DEPTH + 1}",
        ),
        (["0", 1, []], "merkle proof.index: expected an integer, got str"),
        ([0, 0, []], f"merkle proof.leaf_count: 0 is outside [1, {U64_MAX}]"),
        ([0, 2, [bytes(31)]], "merkle proof.sibling: expected 32 bytes, got 31"),
    ],
)
def test_a_merkle_proof_field_out_of_bounds_is_refused_by_name(value: Any, message: str) -> None:
    assert refusal(MerkleProof.from_value, value) == message


# --- genesis -------------------------------------------------------------------------------

VALIDATORS, ADMINS, ATTESTERS = 3, 4, 5
"""Indexes of the lists in a genesis value."""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "genesis: expected an array, got int"),
        (genesis_value(0, "1"), "genesis.version: expected an integer, got str"),
        (genesis_value(1, LONG_CHAIN_ID), "genesis.chain_id: at most 64 characters, got 65"),
        (genesis_value(2, "0"), "genesis.genesis_time_ms: expected an integer, got str"),
        (genesis_value(VALIDATORS, 5), "genesis.validators: expected an array, got int"),
        (
            genesis_value(VALIDATORS, [["v", k] for k in keys(MAX_VALIDATORS + 1)]),
            f"genesis.validators: at most {MAX_VALIDATORS} items, got {MAX_VALIDATORS + 1}",
        ),
        (genesis_value(VALIDATORS, [["v"]]), "genesis.validators: expected 2 fields, got 1"),
        (
            genesis_value(VALIDATORS, [["v" * 129, KEY]]),
            "genesis.validators.name: at most 128 characters, got 129",
        ),
        (
            genesis_value(VALIDATORS, [["v", bytes(31)]]),
            "genesis.validators.public_key: expected 32 bytes, got 31",
        ),
        (
            genesis_value(ADMINS, keys(MAX_VALIDATORS + 1)),
            f"genesis.admins: at most {MAX_VALIDATORS} items, got {MAX_VALIDATORS + 1}",
        ),
        (genesis_value(ADMINS, [bytes(31)]), "genesis.admin: expected 32 bytes, got 31"),
        (genesis_value(ATTESTERS, 5), "genesis.attesters: expected an array, got int"),
        (
            genesis_value(ATTESTERS, [["a", bytes(33)]]),
            "genesis.attesters.public_key: expected 32 bytes, got 33",
        ),
        (genesis_value(VALIDATORS, []), "genesis: genesis lists no validators"),
    ],
)
def test_a_genesis_field_out_of_bounds_is_refused_by_name(value: Any, message: str) -> None:
    assert refusal(Genesis.from_value, value) == message


# --- the encoding's own rules --------------------------------------------------------------


class Label(str):
    """A str subclass: encodable, but not of the exact types the fast check clears."""


@pytest.mark.parametrize("number", [-(2**63), U64_MAX])
def test_the_64_bit_range_ends_are_encodable_on_the_item_by_item_path(number: int) -> None:
    assert encoding.encode([Label("x"), number]) == encoding.encode(["x", number])


@pytest.mark.parametrize("number", [-(2**63) - 1, 2**64])
def test_one_past_the_64_bit_range_is_refused_on_the_item_by_item_path(number: int) -> None:
    assert refusal(encoding.encode, [Label("x"), number]) == (
        f"integer {number} is outside the 64-bit range"
    )


class Colour(enum.Enum):
    RED = 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "maps are not allowed in canonical structures"),
        ([1.5], "floats are not allowed in canonical structures"),
        ([Colour.RED], "type Colour is not allowed in canonical structures"),
    ],
)
def test_values_outside_the_canonical_types_are_refused_by_name(value: Any, message: str) -> None:
    assert refusal(encoding.encode, value) == message


def test_arrays_nested_too_deep_are_refused_by_name() -> None:
    value: list[Any] = [Label("x")]
    for _ in range(encoding.MAX_DEPTH):
        value = [value]
    assert refusal(encoding.encode, value) == f"arrays nested deeper than {encoding.MAX_DEPTH}"


def test_an_extension_type_is_refused_by_name() -> None:
    assert refusal(encoding.decode, b"\xd4\x05\x00") == "msgpack extension type 5 is not allowed"


def test_expect_bool_takes_booleans_only() -> None:
    assert encoding.expect_bool(True, "flag") is True
    assert encoding.expect_bool(False, "flag") is False
    assert refusal(lambda v: encoding.expect_bool(v, "flag"), 1) == (
        "flag: expected a boolean, got int"
    )


@pytest.mark.parametrize(
    "pairs",
    [
        [[b"a", b"1"], [b"b", None]],  # lists, not tuples
        [(b"a", 5)],  # an integer value
        [(b"a", b"1", b"extra")],
    ],
)
def test_encode_pairs_of_any_other_shape_is_encode_of_the_same_arrays(pairs: list[Any]) -> None:
    assert encoding.encode_pairs(pairs) == encoding.encode([list(pair) for pair in pairs])


def test_encode_pairs_refuses_a_float_as_encode_does() -> None:
    assert refusal(encoding.encode_pairs, [(b"a", 1.5)]) == (
        "floats are not allowed in canonical structures"
    )
