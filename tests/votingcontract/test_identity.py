"""Phone ids, gate keys and the gate/ticket statements."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from chain.keys import PrivateKey, verify_signature
from votingcontract import identity
from votingcontract.identity import (
    gate_signature,
    normalise_e164,
    password_gate_key,
    phone_id,
    qr_gate_key,
    ticket_signature,
)

CHAIN = "votechain-test"
POLL = bytes(range(32))
VOTER = PrivateKey.from_seed(b"v" * 32).public_key
FULLWIDTH = "+" + "".join(chr(0xFF10 + int(d)) for d in "821012345678")
"""Full-width digits: isdigit() is true for them, E.164 wants ASCII."""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+82 10-1234-5678", "+821012345678"),
        ("+82 (10) 1234.5678", "+821012345678"),
        ("0082 10 1234 5678", "+821012345678"),
        ("  +1 415 555 0100 ", "+14155550100"),
    ],
)
def test_normalise_e164_accepts_common_spellings(text: str, expected: str) -> None:
    assert normalise_e164(text) == expected


def test_national_number_needs_a_default_country_code() -> None:
    assert normalise_e164("010-1234-5678", default_country_code="82") == "+821012345678"
    with pytest.raises(ValueError, match="international form"):
        normalise_e164("010-1234-5678")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("+82 10 12a4 5678", "characters other than digits"),
        ("+0123456789", "never starts with 0"),
        ("+1234567", "7 digits"),
        ("+1234567890123456", "16 digits"),
        ("", "international form"),
        (FULLWIDTH, "characters other than digits"),
    ],
)
def test_normalise_e164_refuses_bad_numbers_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_e164(text)


def test_phone_id_is_hmac_sha256_of_the_normalised_number() -> None:
    pepper = b"pepper"
    expected = hmac.new(pepper, b"+821012345678", hashlib.sha256).digest()
    assert phone_id(pepper, "+821012345678") == expected
    assert phone_id(b"other pepper", "+821012345678") != expected
    with pytest.raises(ValueError, match="not a normalised"):
        phone_id(pepper, "+82 10 1234 5678")
    with pytest.raises(ValueError, match="pepper is empty"):
        phone_id(b"", "+821012345678")


def test_password_gate_key_is_scrypt_with_the_documented_parameters() -> None:
    salt = b"s" * 16
    seed = hashlib.scrypt(b"open sesame", salt=salt, n=2**14, r=8, p=1, dklen=32)
    key = password_gate_key("open sesame", salt)
    assert key.public_key == PrivateKey.from_seed(seed).public_key
    assert password_gate_key("open sesame", b"t" * 16).public_key != key.public_key
    assert password_gate_key("Open sesame", salt).public_key != key.public_key


def test_password_is_nfc_normalised_so_composed_and_decomposed_agree() -> None:
    salt = b"s" * 16
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert password_gate_key(composed, salt).public_key == (
        password_gate_key(decomposed, salt).public_key
    )


def test_qr_gate_key_is_the_seed_itself() -> None:
    seed = b"q" * 32
    assert qr_gate_key(seed).public_key == PrivateKey.from_seed(seed).public_key


def test_gate_signature_binds_chain_poll_and_voter() -> None:
    gate = qr_gate_key(b"q" * 32)
    sig = gate_signature(gate, CHAIN, POLL, VOTER)
    assert identity.verify_gate(gate.public_key, sig, CHAIN, POLL, VOTER)
    assert not identity.verify_gate(gate.public_key, sig, "other-chain", POLL, VOTER)
    assert not identity.verify_gate(gate.public_key, sig, CHAIN, bytes(32), VOTER)
    assert not identity.verify_gate(gate.public_key, sig, CHAIN, POLL, bytes(32))


def test_a_gate_signature_is_not_a_ticket_signature_and_back() -> None:
    key = qr_gate_key(b"k" * 32)
    gate_sig = gate_signature(key, CHAIN, POLL, VOTER)
    ticket_sig = ticket_signature(key, CHAIN, POLL, VOTER)
    assert not identity.verify_ticket(key.public_key, gate_sig, CHAIN, POLL, VOTER)
    assert not identity.verify_gate(key.public_key, ticket_sig, CHAIN, POLL, VOTER)
    assert identity.verify_ticket(key.public_key, ticket_sig, CHAIN, POLL, VOTER)
    assert verify_signature(key.public_key, gate_sig, identity.gate_statement(CHAIN, POLL, VOTER))
