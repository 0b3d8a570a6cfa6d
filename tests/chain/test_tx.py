"""The transaction envelope (PROTOCOL.md section 4): signing, chain binding, tamper evidence."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import encoding
from chain.errors import DecodeError, InvalidTransaction
from chain.tx import MAX_TX_BYTES, TX_VERSION, Transaction, tx_id_of
from tests.chain.chain_fixtures import CHAIN_ID, seeded_key

KEY = seeded_key("phone", 1)
OTHER_KEY = seeded_key("phone", 2)


def make_tx(body: bytes = b"\x93\x01\x02\x03", nonce: int = 7, kind: str = "vote") -> Transaction:
    return Transaction.create(KEY, CHAIN_ID, kind, body, nonce)


def test_a_signed_transaction_verifies_and_round_trips() -> None:
    tx = make_tx()
    tx.verify(CHAIN_ID)
    decoded = Transaction.decode(tx.encode())
    assert decoded == tx
    assert decoded.tx_id == tx.tx_id == tx_id_of(tx.encode())
    decoded.verify(CHAIN_ID)


def test_a_transaction_for_another_chain_is_refused_with_both_chain_ids() -> None:
    tx = Transaction.create(KEY, "city-of-elsewhere", "vote", b"", 1)
    with pytest.raises(InvalidTransaction) as info:
        tx.verify(CHAIN_ID)
    assert str(info.value) == f"wrong chain id: expected {CHAIN_ID!r}, got 'city-of-elsewhere'"


def test_the_chain_id_is_signed_so_relabelling_breaks_the_signature() -> None:
    tx = Transaction.create(KEY, "city-of-elsewhere", "vote", b"", 1)
    relabelled = dataclasses.replace(tx, chain_id=CHAIN_ID)
    with pytest.raises(InvalidTransaction, match="bad signature"):
        relabelled.verify(CHAIN_ID)


@pytest.mark.parametrize(
    "change",
    [
        {"body": b"\x93\x01\x02\x04"},
        {"nonce": 8},
        {"kind": "revote"},
        {"signer": OTHER_KEY.public_key},
        {"signature": make_tx(nonce=8).signature},
    ],
    ids=lambda change: next(iter(change)),
)
def test_changing_any_signed_field_breaks_the_signature(change: dict[str, object]) -> None:
    tampered = dataclasses.replace(make_tx(), **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidTransaction, match="bad signature"):
        tampered.verify(CHAIN_ID)


def test_the_nonce_makes_equal_transactions_distinct() -> None:
    assert make_tx(nonce=1).tx_id != make_tx(nonce=2).tx_id
    assert make_tx(nonce=1).tx_id == make_tx(nonce=1).tx_id


def test_decode_refuses_an_unknown_version() -> None:
    value = make_tx().to_value()
    value[0] = TX_VERSION + 1
    with pytest.raises(DecodeError, match="unknown version 2"):
        Transaction.decode(encoding.encode(value))


def test_validate_basic_refuses_an_unknown_version_built_in_memory() -> None:
    tx = dataclasses.replace(make_tx(), version=TX_VERSION + 1)
    with pytest.raises(InvalidTransaction, match="unknown transaction version 2"):
        tx.verify(CHAIN_ID)


@pytest.mark.parametrize("kind", ["", "vötë", "é" * 32])
def test_a_kind_that_is_not_a_non_empty_ascii_name_is_refused(kind: str) -> None:
    """In memory and when decoding: so the node and every verifier refuse the same
    envelopes (a block carrying one fails rule 1, PROTOCOL.md section 10)."""
    tx = Transaction.create(KEY, CHAIN_ID, kind, b"", 1)
    with pytest.raises(InvalidTransaction, match="kind"):
        tx.verify(CHAIN_ID)
    with pytest.raises(DecodeError, match=r"transaction\.kind"):
        Transaction.decode(tx.encode())


@pytest.mark.parametrize(
    ("position", "bad_value", "message"),
    [
        (3, b"\x01" * 31, "transaction.signer: expected 32 bytes"),
        (6, b"\x01" * 63, "transaction.signature: expected 64 bytes"),
        (4, -1, "transaction.nonce"),
        (4, True, "transaction.nonce: expected an integer"),
        (5, "text", "transaction.body: expected bytes"),
        (1, b"test-chain", "transaction.chain_id: expected a string"),
        (2, "k" * 33, "transaction.kind: at most 32"),
    ],
)
def test_decode_refuses_fields_of_the_wrong_type_or_size(
    position: int, bad_value: object, message: str
) -> None:
    value = make_tx().to_value()
    value[position] = bad_value
    with pytest.raises(DecodeError, match=message):
        Transaction.decode(encoding.encode(value))


def test_decode_refuses_a_wrong_number_of_fields() -> None:
    value = make_tx().to_value()
    with pytest.raises(DecodeError, match="expected 7 fields, got 6"):
        Transaction.decode(encoding.encode(value[:6]))
    with pytest.raises(DecodeError, match="expected 7 fields, got 8"):
        Transaction.decode(encoding.encode([*value, b""]))


def test_decode_refuses_an_oversized_transaction() -> None:
    big = make_tx(body=bytes(MAX_TX_BYTES))
    with pytest.raises(DecodeError, match="limit"):
        Transaction.decode(big.encode())


# --- any single-bit change is detected -------------------------------------------------


def assert_flip_detected(original: Transaction, bit: int) -> None:
    """Flipping `bit` of the encoding must make a transaction that does not pass for it."""
    data = bytearray(original.encode())
    data[bit // 8] ^= 1 << (bit % 8)
    try:
        tampered = Transaction.decode(bytes(data))
    except DecodeError:
        return
    assert tampered.tx_id != original.tx_id
    with pytest.raises(InvalidTransaction):
        tampered.verify(original.chain_id)


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=200),
    nonce=st.integers(0, 2**64 - 1),
    kind=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=32),
    data=st.data(),
)
def test_any_single_bit_flip_of_a_signed_transaction_is_detected(
    body: bytes, nonce: int, kind: str, data: st.DataObject
) -> None:
    tx = Transaction.create(KEY, CHAIN_ID, kind, body, nonce)
    tx.verify(CHAIN_ID)
    bit = data.draw(st.integers(0, len(tx.encode()) * 8 - 1), label="bit")
    assert_flip_detected(tx, bit)


def test_every_single_bit_flip_of_one_transaction_is_detected() -> None:
    tx = make_tx()
    for bit in range(len(tx.encode()) * 8):
        assert_flip_detected(tx, bit)
