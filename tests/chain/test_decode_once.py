"""Checking canonical form once and keeping the raw bytes (issue 10, replay speed).

The shortcuts that make replay fast must give exactly what the slow path gives: the
per-array type check accepts and refuses what the per-item check does (with the same
error), a decoded transaction's tx_id, size and sign bytes come out the same from its
raw bytes as from its fields, and a sorted-keys cache never shows a scan a key it should
not. The node's hot paths (issue 13) can build on the same mechanism.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import encoding
from chain.block import Block, make_header
from chain.encoding import MAX_DEPTH, _check_encodable, _is_plainly_encodable
from chain.errors import DecodeError
from chain.hashing import Domain, tagged_hash
from chain.state import MemoryState, write_set_hash
from chain.tx import Transaction
from tests.chain.chain_fixtures import CHAIN_ID, seeded_key


class _Small(enum.IntEnum):
    ONE = 1


any_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.binary(max_size=40)
    | st.text(max_size=40)
    | st.floats(allow_nan=False)
    | st.just(_Small.ONE)
    | st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2)
)
any_value = st.recursive(
    any_scalar,
    lambda inner: st.lists(inner, max_size=6) | st.tuples(inner, inner),
    max_leaves=30,
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _verdict(check: Any, value: Any) -> str | None:
    try:
        check(value)
    except DecodeError as exc:
        return str(exc)
    return None


@settings(max_examples=400, deadline=None)
@given(any_value)
def test_encode_refuses_exactly_what_the_item_by_item_check_refuses(value: Any) -> None:
    full = _verdict(lambda v: _check_encodable(v, 0), value)
    assert _verdict(encoding.encode, value) == full
    if _is_plainly_encodable(value):
        # The fast check clears only values the full check would pass, integer
        # ranges aside (msgpack refuses those itself; encode() then names them).
        assert full is None or "64-bit range" in full


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1])
def test_the_nesting_limit_is_the_same_on_both_paths(depth: int) -> None:
    value = _nested(depth)
    full = _verdict(lambda v: _check_encodable(v, 0), value)
    assert (full is None) == (depth <= MAX_DEPTH)
    assert _verdict(encoding.encode, value) == full
    data = encoding.encode(_nested(min(depth, MAX_DEPTH)))
    assert encoding.decode(data) == _nested(min(depth, MAX_DEPTH))


def test_a_float_or_map_deep_in_decoded_bytes_is_still_refused() -> None:
    import msgpack

    for inner, message in [(1.5, "floats"), ({"a": 1}, "maps")]:
        data = msgpack.packb([1, [b"x", [inner]]], use_bin_type=True)
        with pytest.raises(DecodeError, match=message):
            encoding.decode(data)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.binary(min_size=1, max_size=40), st.none() | st.binary(max_size=60)),
        max_size=40,
    )
)
def test_encode_pairs_gives_the_bytes_of_the_array_of_pairs(pairs: list[Any]) -> None:
    assert encoding.encode_pairs(pairs) == encoding.encode([[k, v] for k, v in pairs])


def test_the_write_set_hash_is_the_tagged_hash_of_the_encoded_pairs() -> None:
    writes = [(b"b", None), (b"a", b"\x01")]
    expected = tagged_hash(Domain.WRITE_SET, encoding.encode([[b"a", b"\x01"], [b"b", None]]))
    assert write_set_hash(writes) == expected


def test_array_spans_are_the_encodings_of_the_items() -> None:
    items = [1, b"x" * 300, "é", [2, [3, None]], True]
    data = encoding.encode(items)
    spans = encoding.array_spans(data)
    assert [data[a:b] for a, b in spans] == [encoding.encode(i) for i in items]
    inner_start = spans[3][0]
    assert [data[a:b] for a, b in encoding.array_spans(data, inner_start)] == [
        encoding.encode(2),
        encoding.encode([3, None]),
    ]
    with pytest.raises(DecodeError):
        encoding.array_spans(encoding.encode(7))


def _transactions(count: int) -> tuple[Transaction, ...]:
    key = seeded_key("decode-once")
    return tuple(
        Transaction.create(key, CHAIN_ID, "cast_ballot", bytes([i % 256]) * (i * 7), i)
        for i in range(count)
    )


def _fields_only(tx: Transaction) -> Transaction:
    """The same transaction built from its fields, with no raw bytes kept."""
    return dataclasses.replace(tx)


def test_a_decoded_transaction_hashes_its_raw_bytes_to_the_same_ids() -> None:
    for tx in _transactions(20):
        decoded = Transaction.decode(tx.encode())
        rebuilt = _fields_only(decoded)
        assert decoded._raw == tx.encode() and rebuilt._raw is None
        assert decoded.tx_id == rebuilt.tx_id == tx.tx_id
        assert decoded.sign_bytes == rebuilt.sign_bytes == tx.sign_bytes
        assert decoded.encoded_size == rebuilt.encoded_size
        decoded.verify(CHAIN_ID)


def test_replace_drops_the_raw_bytes_so_an_edited_transaction_is_not_misnamed() -> None:
    decoded = Transaction.decode(_transactions(2)[1].encode())
    edited = dataclasses.replace(decoded, nonce=decoded.nonce + 1)
    assert edited._raw is None
    assert edited.encode() != decoded.encode()
    assert edited.tx_id == Transaction.from_value(edited.to_value()).tx_id != decoded.tx_id


def test_a_decoded_block_gives_each_transaction_its_own_slice() -> None:
    txs = _transactions(40)
    key = seeded_key("decode-once proposer")
    header = make_header(CHAIN_ID, 3, 1_000, bytes(32), txs, bytes(32), bytes(32), key.public_key)
    block = Block(header, txs)
    data = block.encode()
    decoded = Block.decode(data)
    assert decoded == block
    for mine, theirs in zip(decoded.transactions, txs, strict=True):
        assert mine._raw == theirs.encode()
        assert mine.tx_id == theirs.tx_id and mine.sign_bytes == theirs.sign_bytes
    assert decoded.encoded_size == len(data)


def test_a_non_canonical_transaction_inside_a_block_is_still_refused() -> None:
    txs = _transactions(2)
    key = seeded_key("decode-once proposer")
    header = make_header(CHAIN_ID, 3, 1_000, bytes(32), txs, bytes(32), bytes(32), key.public_key)
    data = Block(header, txs).encode()
    # The first transaction's nonce 0 as a uint8 (0xcc 0x00) instead of a fixint (0x00).
    first = txs[0].encode()
    nonce_at = data.index(first) + len(first) - 66 - len(encoding.encode(txs[0].body)) - 1
    assert data[nonce_at] == 0x00
    bent = data[:nonce_at] + b"\xcc\x00" + data[nonce_at + 1 :]
    with pytest.raises(DecodeError, match="non-canonical"):
        Block.decode(bent)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32))
def test_memory_state_scans_match_a_plain_dict_through_adds_and_deletes(seed: int) -> None:
    rnd = random.Random(seed)
    state, reference = MemoryState({b"p/0": b"x"}), {b"p/0": b"x"}
    for _ in range(30):
        writes: list[tuple[bytes, bytes | None]] = []
        for _ in range(rnd.randint(0, 6)):
            key = rnd.choice([b"p/", b"q/", b"p/x"]) + bytes([rnd.randint(0, 9)])
            value = None if rnd.random() < 0.3 else bytes([rnd.randint(0, 255)])
            writes.append((key, value))
        state.apply(writes)
        for key, value in writes:
            if value is None:
                reference.pop(key, None)
            else:
                reference[key] = value
        for prefix in (b"", b"p/", b"q/", b"p/x", b"z"):
            if rnd.random() < 0.5:
                expected = sorted((k, v) for k, v in reference.items() if k.startswith(prefix))
                assert list(state.items(prefix)) == expected
        assert len(state) == len(reference)
        assert all(state.get(k) == v for k, v in reference.items())
