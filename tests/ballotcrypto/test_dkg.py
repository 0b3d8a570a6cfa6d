"""Key generation without a dealer: shares, their checks, complaints, the joint key."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from ballotcrypto import dkg, group, messages, schnorr, transport, vss
from ballotcrypto.context import Purpose, TrusteeContext
from ballotcrypto.decryption import lagrange_at_zero
from ballotcrypto.dkg import Complaint, Dealing, EncryptedShare, TransportKey
from ballotcrypto.errors import InvalidBallotProof, InvalidShare, MalformedCrypto
from ballotcrypto.group import L
from chain.encoding import decode, encode
from chain.errors import DecodeError
from tests.ballotcrypto.fixtures import CHAIN_ID, POLL_ID, Scalars
from tests.ballotcrypto.trustees import run_ceremony


def test_every_share_matches_its_verification_key_and_the_joint_key() -> None:
    ceremony = run_ceremony(3, 5, seed=1)
    for j, share in ceremony.secret_shares.items():
        assert group.base_mul(share) == ceremony.verification_keys[j]
    # Any 3 shares interpolate to the same secret, whose key is the joint key.
    for subset in itertools.combinations(range(1, 6), 3):
        lambdas = lagrange_at_zero(subset)
        secret = sum(lambdas[j] * ceremony.secret_shares[j] for j in subset) % L
        assert group.base_mul(secret) == ceremony.public_key


def test_k_minus_one_shares_interpolate_to_another_key() -> None:
    ceremony = run_ceremony(3, 5, seed=2)
    for subset in itertools.combinations(range(1, 6), 2):
        lambdas = lagrange_at_zero(subset)
        guess = sum(lambdas[j] * ceremony.secret_shares[j] for j in subset) % L
        assert group.base_mul(guess) != ceremony.public_key


def test_a_wrong_share_is_detected_and_its_dealer_named() -> None:
    ceremony = run_ceremony(2, 3, seed=3)
    dealing = ceremony.dealings[1]  # dealer 2
    bad = dataclasses.replace(dealing.shares[2], masked=(dealing.shares[2].masked + 1) % L)
    cheating = dataclasses.replace(dealing, shares=(*dealing.shares[:2], bad))
    with pytest.raises(InvalidShare) as caught:
        dkg.receive_share(CHAIN_ID, POLL_ID, cheating, 3, ceremony.transport_secrets[2])
    assert (caught.value.dealer, caught.value.recipient) == (2, 3)
    assert "dealer 2" in str(caught.value)


def test_a_complaint_about_a_wrong_share_is_upheld_and_a_false_one_is_not() -> None:
    ceremony = run_ceremony(2, 3, seed=4)
    scalars = Scalars(40)
    recipient_key = ceremony.transport_keys[2].public
    dealing = ceremony.dealings[0]
    honest = dkg.complain(
        CHAIN_ID, POLL_ID, dealing, 3, ceremony.transport_secrets[2], scalars.one()
    )
    assert not dkg.complaint_upheld(CHAIN_ID, POLL_ID, dealing, honest, recipient_key)

    # Dealer 1 sends trustee 3 a share of another polynomial.
    other = vss.evaluate(scalars.many(2), 3)
    ephemeral, masked = transport.encrypt_share(
        CHAIN_ID, POLL_ID, 1, 3, recipient_key, other, scalars.one()
    )
    cheating = dataclasses.replace(
        dealing, shares=(*dealing.shares[:2], EncryptedShare(ephemeral, masked))
    )
    complaint = dkg.complain(
        CHAIN_ID, POLL_ID, cheating, 3, ceremony.transport_secrets[2], scalars.one()
    )
    assert dkg.complaint_upheld(CHAIN_ID, POLL_ID, cheating, complaint, recipient_key)

    # A recipient that reveals a wrong pad key makes its own complaint void.
    lie = dataclasses.replace(
        complaint,
        reveal=dataclasses.replace(
            complaint.reveal, pad_key=group.add(complaint.reveal.pad_key, group.GENERATOR)
        ),
    )
    assert not dkg.complaint_upheld(CHAIN_ID, POLL_ID, cheating, lie, recipient_key)


def test_a_share_cannot_be_read_with_another_trustees_key() -> None:
    ceremony = run_ceremony(2, 3, seed=5)
    dealing = ceremony.dealings[0]
    with pytest.raises(InvalidShare):
        dkg.receive_share(CHAIN_ID, POLL_ID, dealing, 3, ceremony.transport_secrets[1])


def test_proofs_of_keys_are_checked_and_bound_to_their_trustee_and_purpose() -> None:
    ceremony = run_ceremony(2, 3, seed=6)
    for key in ceremony.transport_keys:
        dkg.validate_transport_key(CHAIN_ID, POLL_ID, key)
    stolen = dataclasses.replace(ceremony.transport_keys[0], trustee=2)
    with pytest.raises(InvalidBallotProof, match="trustee 2"):
        dkg.validate_transport_key(CHAIN_ID, POLL_ID, stolen)
    with pytest.raises(InvalidBallotProof):
        dkg.validate_transport_key("another-chain", POLL_ID, ceremony.transport_keys[0])
    for dealing in ceremony.dealings:
        dkg.validate_dealing(CHAIN_ID, POLL_ID, dealing, 2, 3)
    dealing = ceremony.dealings[0]
    key = ceremony.transport_keys[0]
    as_coefficient = TrusteeContext(CHAIN_ID, POLL_ID, 1, Purpose.COEFFICIENT)
    assert not schnorr.verify(as_coefficient, key.public, key.proof)
    proof = dealing.proof
    with pytest.raises(InvalidBallotProof, match="a_0"):
        dkg.validate_dealing(
            CHAIN_ID,
            POLL_ID,
            dataclasses.replace(dealing, proof=dataclasses.replace(proof, v=(proof.v + 1) % L)),
            2,
            3,
        )


def test_a_dealing_of_the_wrong_shape_is_refused() -> None:
    ceremony = run_ceremony(2, 3, seed=7)
    dealing = ceremony.dealings[0]
    with pytest.raises(MalformedCrypto, match="commitments"):
        dkg.validate_dealing(CHAIN_ID, POLL_ID, dealing, 3, 3)
    with pytest.raises(MalformedCrypto, match="shares"):
        dkg.validate_dealing(CHAIN_ID, POLL_ID, dealing, 2, 4)


def test_messages_round_trip_through_the_canonical_encoding() -> None:
    ceremony = run_ceremony(2, 3, seed=8)
    key = ceremony.transport_keys[0]
    assert TransportKey.from_value(decode(encode(key.to_value()))) == key
    dealing = ceremony.dealings[2]
    assert Dealing.from_value(decode(encode(dealing.to_value()))) == dealing
    complaint = dkg.complain(
        CHAIN_ID, POLL_ID, dealing, 1, ceremony.transport_secrets[0], Scalars(9).one()
    )
    assert Complaint.from_value(decode(encode(complaint.to_value()))) == complaint


def test_malformed_messages_are_refused_naming_the_field() -> None:
    ceremony = run_ceremony(2, 3, seed=9)
    key: Any = ceremony.transport_keys[0].to_value()
    cases: list[tuple[Callable[[Any], object], Any, str]] = [
        (TransportKey.from_value, [0, key[1], key[2]], "trustee"),
        (TransportKey.from_value, [1, bytes(32), key[2]], "public"),
        (TransportKey.from_value, [1, key[1]], "3 fields"),
        (TransportKey.from_value, [1, key[1], [L.to_bytes(32, "little"), bytes(32)]], "proof.c"),
    ]
    dealing: Any = ceremony.dealings[0].to_value()
    cases += [
        (Dealing.from_value, [1, [b"\x01" * 32], dealing[2], dealing[3]], "commitments"),
        (Dealing.from_value, [1, dealing[1], dealing[2], [[bytes(32), bytes(32)]]], "ephemeral"),
        (Dealing.from_value, [1, dealing[1], dealing[2], [[dealing[3][0][0]]]], "shares"),
        (Dealing.from_value, [1, dealing[1], dealing[2], [dealing[3][0]] * 65], "at most 64"),
    ]
    for from_value, value, field in cases:
        with pytest.raises(DecodeError, match=field):
            from_value(value)


def test_the_joint_key_refuses_the_identity() -> None:
    ceremony = run_ceremony(1, 2, seed=10)
    first = ceremony.dealings[0]
    cancelling = dataclasses.replace(
        first, commitments=(group.sub(group.IDENTITY, first.commitments[0]),)
    )
    with pytest.raises(ValueError, match="identity"):
        dkg.joint_public_key([first, cancelling])


def test_messages_have_one_canonical_encoding() -> None:
    ceremony = run_ceremony(2, 3, seed=11)
    dealing = ceremony.dealings[0]
    data = messages.to_bytes(dealing)
    assert messages.from_bytes(Dealing, data) == dealing
    with pytest.raises(DecodeError, match="trailing"):
        messages.from_bytes(Dealing, data + b"\x00")
    with pytest.raises(DecodeError, match="dealing"):
        messages.from_bytes(Dealing, messages.to_bytes(ceremony.transport_keys[0]))
