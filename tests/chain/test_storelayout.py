"""chain/storelayout.py: the compact forms of the tx index and receipts give back exactly
what was stored, and refuse what they could not give back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain import encoding, storelayout
from chain.errors import DecodeError, StoreError
from chain.storelayout import TxLocation
from tests.chain.chain_fixtures import ChainTip, block_transactions, certified_block, make_genesis

GENESIS = make_genesis(4)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_a_uvarint_reads_back_and_ends_where_it_was_written(value: int) -> None:
    packed = storelayout.pack_uvarint(value) + b"tail"
    assert storelayout.unpack_uvarint(packed, 0) == (value, len(packed) - 4)


def test_uvarints_are_short_for_the_numbers_a_chain_has() -> None:
    assert storelayout.pack_uvarint(127) == b"\x7f"
    assert storelayout.pack_uvarint(128) == b"\x80\x01"
    assert len(storelayout.pack_uvarint(2_000_000)) == 3  # a height a year of blocks reaches
    for value, length in [(0x3FFF, 2), (0x4000, 3), (0x1FFFFF, 3), (0x200000, 4)]:
        packed = storelayout.pack_uvarint(value)
        assert len(packed) == length
        assert storelayout.unpack_uvarint(packed, 0) == (value, length)
    with pytest.raises(ValueError):
        storelayout.pack_uvarint(-1)


@pytest.mark.parametrize("raw", [b"", b"\x80", b"\xff" * 10 + b"\x01"])
def test_a_cut_or_overlong_uvarint_is_refused(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        storelayout.unpack_uvarint(raw, 0)


def test_a_tx_location_reads_back_and_refuses_extra_bytes() -> None:
    location = TxLocation(1_234_567, 499, 88_000, 181)
    assert TxLocation.unpack(location.pack()) == location
    assert len(location.pack()) == 3 + 2 + 3 + 2
    with pytest.raises(DecodeError, match="1 extra"):
        TxLocation.unpack(location.pack() + b"\0")


def _block() -> tuple[bytes, list[bytes], tuple[bytes, ...]]:
    txs = block_transactions(1, seed=3, chain_id=GENESIS.chain_id, count=5)
    block, _certificate, receipts = certified_block(ChainTip.from_genesis(GENESIS), GENESIS, txs)
    return block.encode(), [tx.tx_id for tx in txs], receipts


def test_the_tx_spans_of_a_block_are_its_transactions_bytes() -> None:
    block_bytes, tx_ids, _ = _block()
    assert storelayout.block_tx_ids(block_bytes) == tx_ids
    locations = storelayout.tx_locations(1, block_bytes)
    assert [(loc.height, loc.position) for loc in locations] == [(1, i) for i in range(5)]
    ends = [loc.offset + loc.length for loc in locations]
    assert ends[-1] == len(block_bytes)  # the transactions end the block's encoding


def test_receipts_kept_as_tails_are_rebuilt_byte_for_byte() -> None:
    _block_bytes, tx_ids, receipts = _block()
    packed = storelayout.pack_receipts(tx_ids, receipts)
    assert packed.startswith(storelayout.TAILS)
    # No tx_id is stored: each receipt costs its code and poll id only.
    assert not any(tx_id in packed for tx_id in tx_ids)
    assert storelayout.unpack_receipts(tx_ids, packed) == list(receipts)
    assert storelayout.encode_receipts(receipts) == encoding.encode(list(receipts))


def test_receipts_with_a_poll_id_and_codes_of_any_length_are_rebuilt() -> None:
    tx_ids = [bytes([i]) * 32 for i in range(3)]
    receipts = [
        encoding.encode([tx_ids[0], 0, "accepted", b"\x07" * 32]),
        encoding.encode([tx_ids[1], 1, "duplicate", b"\x07" * 32]),
        encoding.encode([tx_ids[2], 2, "x" * 40, None]),
    ]
    packed = storelayout.pack_receipts(tx_ids, receipts)
    assert packed.startswith(storelayout.TAILS)
    assert storelayout.unpack_receipts(tx_ids, packed) == receipts


@pytest.mark.parametrize(
    "wrong",
    [
        lambda ids: [encoding.encode([ids[1], 0, "accepted", None]), *[b""] * 2],  # another tx
        lambda ids: [encoding.encode([ids[0], 1, "accepted", None]), *[b""] * 2],  # position
        lambda ids: [encoding.encode([ids[0], 0, "accepted"]), *[b""] * 2],  # 3 fields
        lambda ids: [encoding.encode([ids[0], 0, "accepted", None, 5]), *[b""] * 2],  # 5
    ],
)
def test_receipts_that_are_not_the_blocks_are_kept_whole(wrong: object) -> None:
    """A receipt the tails could not rebuild exactly is stored as it came, so a verifier
    reading the store finds it wrong as before, never a corrected copy."""
    tx_ids = [bytes([i]) * 32 for i in range(3)]
    receipts = wrong(tx_ids)  # type: ignore[operator]
    with pytest.raises(StoreError):
        storelayout.receipt_tails(tx_ids, receipts)
    packed = storelayout.pack_receipts(tx_ids, receipts)
    assert packed.startswith(storelayout.WHOLE)
    assert storelayout.unpack_receipts(tx_ids, packed) == receipts


def test_stored_tails_that_do_not_fit_the_block_are_refused() -> None:
    tx_ids = [bytes([i]) * 32 for i in range(2)]
    receipts = [encoding.encode([t, i, "accepted", None]) for i, t in enumerate(tx_ids)]
    packed = storelayout.pack_receipts(tx_ids, receipts)
    with pytest.raises(DecodeError, match="past receipt 0"):
        storelayout.unpack_receipts(tx_ids[:1], packed)  # one tail too many
    with pytest.raises(DecodeError, match="cut short after 2"):
        storelayout.unpack_receipts([*tx_ids, b"\2" * 32], packed)  # one too few
