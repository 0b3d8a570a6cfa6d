"""Commit certificates and validator sets (PROTOCOL.md section 7).

A certificate is the proof an auditor holds that a quorum of validators committed a
block: it must not pass with fewer, with the same validator counted twice, with
outsiders, or with signatures over anything but (chain id, view, height, block hash).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import encoding
from chain.certificate import CommitCertificate, CommitSignature, ValidatorSet
from chain.errors import DecodeError, InvalidCertificate
from chain.keys import PrivateKey
from tests.chain.chain_fixtures import CHAIN_ID, seeded_key, validator_keys

KEYS = validator_keys(4)
VALIDATORS = ValidatorSet(tuple(k.public_key for k in KEYS))
OUTSIDER = seeded_key("outsider")
HEIGHT, VIEW, BLOCK_HASH = 12, 3, bytes(range(32))


def certificate(
    keys: Sequence[PrivateKey] = KEYS,
    chain_id: str = CHAIN_ID,
    view: int = VIEW,
    height: int = HEIGHT,
    block_hash: bytes = BLOCK_HASH,
) -> CommitCertificate:
    return CommitCertificate.sign(keys, chain_id, view, height, block_hash)


def test_a_certificate_from_all_validators_verifies_and_round_trips() -> None:
    cert = certificate()
    cert.verify(VALIDATORS, CHAIN_ID, HEIGHT, BLOCK_HASH)
    decoded = CommitCertificate.decode(cert.encode())
    assert decoded == cert
    decoded.verify(VALIDATORS, CHAIN_ID, HEIGHT, BLOCK_HASH)


def test_signatures_are_kept_in_ascending_validator_order() -> None:
    cert = certificate(list(reversed(KEYS)))
    validators = [s.validator for s in cert.signatures]
    assert validators == sorted(validators)
    assert cert == certificate(KEYS)


def test_verification_does_not_depend_on_signature_order() -> None:
    """PROTOCOL.md section 7: nodes sort, but a verifier must not depend on order."""
    cert = certificate()
    unsorted = dataclasses.replace(cert, signatures=tuple(reversed(cert.signatures)))
    unsorted.verify(VALIDATORS, CHAIN_ID, HEIGHT, BLOCK_HASH)
    CommitCertificate.decode(unsorted.encode()).verify(VALIDATORS, CHAIN_ID, HEIGHT, BLOCK_HASH)


def test_exactly_a_quorum_is_enough() -> None:
    certificate(KEYS[1:]).verify(VALIDATORS, CHAIN_ID, HEIGHT, BLOCK_HASH)


def test_too_few_signatures_are_refused_with_the_count_and_the_quorum() -> None:
    with pytest.raises(InvalidCertificate, match="has 2 valid signatures, needs 3"):
        certificate(KEYS[:2]).verify(VALIDATORS)
    with pytest.raises(InvalidCertificate, match="has 0 valid signatures, needs 3"):
        certificate([]).verify(VALIDATORS)


def test_a_validator_counted_twice_is_refused_even_if_it_would_make_a_quorum() -> None:
    cert = certificate(KEYS[:2])
    doubled = dataclasses.replace(cert, signatures=(*cert.signatures, cert.signatures[0]))
    with pytest.raises(InvalidCertificate, match="twice"):
        doubled.verify(VALIDATORS)


def test_a_signature_by_a_non_validator_is_refused() -> None:
    with pytest.raises(InvalidCertificate, match="not a validator"):
        certificate([*KEYS[:3], OUTSIDER]).verify(VALIDATORS)


def test_outsiders_cannot_make_up_a_missing_quorum() -> None:
    outsiders = [seeded_key("outsider", i) for i in range(5)]
    with pytest.raises(InvalidCertificate, match="not a validator"):
        certificate([KEYS[0], *outsiders]).verify(VALIDATORS)


@pytest.mark.parametrize(
    "signed_over",
    [
        {"chain_id": "another-city"},
        {"view": VIEW + 1},
        {"height": HEIGHT + 1},
        {"block_hash": bytes(32)},
    ],
    ids=lambda fields: next(iter(fields)),
)
def test_signatures_over_anything_else_are_refused(signed_over: dict[str, object]) -> None:
    """Signatures made for another (chain, view, height, block) cannot be relabelled."""
    signed = certificate(**signed_over)  # type: ignore[arg-type]
    relabelled = CommitCertificate.from_signatures(
        CHAIN_ID, VIEW, HEIGHT, BLOCK_HASH, signed.signatures
    )
    with pytest.raises(InvalidCertificate, match="bad signature"):
        relabelled.verify(VALIDATORS, CHAIN_ID, HEIGHT, BLOCK_HASH)


def test_one_bad_signature_spoils_the_certificate() -> None:
    cert = certificate()
    forged = CommitSignature(cert.signatures[0].validator, cert.signatures[1].signature)
    spoiled = dataclasses.replace(cert, signatures=(forged, *cert.signatures[1:]))
    with pytest.raises(InvalidCertificate, match="bad signature"):
        spoiled.verify(VALIDATORS)


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        ({"chain_id": "another-city"}, "is for chain 'test-chain', expected 'another-city'"),
        ({"height": HEIGHT + 1}, "expected a certificate for height 13"),
        ({"block_hash": bytes(32)}, "expected 0000000000000000"),
    ],
)
def test_a_valid_certificate_of_another_block_does_not_pass_for_this_one(
    expected: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidCertificate, match=message):
        certificate().verify(VALIDATORS, **expected)  # type: ignore[arg-type]


def test_decode_refuses_malformed_signature_entries() -> None:
    value = certificate().to_value()
    value[4][0] = [value[4][0][0]]
    with pytest.raises(DecodeError, match=r"certificate\.signature: expected 2 fields"):
        CommitCertificate.decode(encoding.encode(value))
    value = certificate().to_value()
    value[4][0][1] = value[4][0][1][:63]
    with pytest.raises(DecodeError, match="expected 64 bytes"):
        CommitCertificate.decode(encoding.encode(value))


# --- any single-bit change is detected -------------------------------------------------


def assert_flip_detected(cert: CommitCertificate, bit: int) -> None:
    data = bytearray(cert.encode())
    data[bit // 8] ^= 1 << (bit % 8)
    try:
        tampered = CommitCertificate.decode(bytes(data))
    except DecodeError:
        return
    with pytest.raises(InvalidCertificate):
        tampered.verify(VALIDATORS, CHAIN_ID, HEIGHT, BLOCK_HASH)


@settings(max_examples=200, deadline=None)
@given(st.integers(3, 4), st.data())
def test_any_single_bit_flip_of_a_certificate_is_detected(
    signer_count: int, data: st.DataObject
) -> None:
    cert = certificate(KEYS[:signer_count])
    bit = data.draw(st.integers(0, len(cert.encode()) * 8 - 1), label="bit")
    assert_flip_detected(cert, bit)


def test_every_single_bit_flip_of_a_quorum_certificate_is_detected() -> None:
    cert = certificate(KEYS[:3])
    for bit in range(len(cert.encode()) * 8):
        assert_flip_detected(cert, bit)


# --- validator sets and quorums --------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "max_faulty", "quorum"),
    [(1, 0, 1), (2, 0, 2), (3, 0, 2), (4, 1, 3), (5, 1, 4), (7, 2, 5), (10, 3, 7)],
)
def test_quorum_sizes(size: int, max_faulty: int, quorum: int) -> None:
    validators = ValidatorSet(tuple(k.public_key for k in validator_keys(size)))
    assert (validators.max_faulty, validators.quorum) == (max_faulty, quorum)


@pytest.mark.parametrize("size", range(1, 101))
def test_quorums_intersect_in_an_honest_validator_and_honest_ones_reach_a_quorum(
    size: int,
) -> None:
    validators = ValidatorSet(tuple(i.to_bytes(32, "big") for i in range(size)))
    f, quorum = validators.max_faulty, validators.quorum
    assert 3 * f < size, "tolerates fewer than a third faulty"
    assert 2 * quorum - size > f, "two quorums share more than f validators"
    assert quorum <= size - f, "the honest validators alone can form a quorum"


def test_a_validator_set_refuses_an_empty_list_and_a_repeated_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ValidatorSet(())
    with pytest.raises(ValueError, match="twice"):
        ValidatorSet((KEYS[0].public_key, KEYS[0].public_key))


def test_a_single_validator_certifies_alone() -> None:
    solo = ValidatorSet((KEYS[0].public_key,))
    certificate(KEYS[:1]).verify(solo, CHAIN_ID, HEIGHT, BLOCK_HASH)
    with pytest.raises(InvalidCertificate, match="not a validator"):
        certificate(KEYS[1:2]).verify(solo)
