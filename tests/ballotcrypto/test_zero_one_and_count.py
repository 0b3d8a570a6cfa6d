"""The 0/1 proof of an option and the [min, max] proof of a question's count: honest
proofs verify; any altered element, or another context, fails."""

from __future__ import annotations

import dataclasses

import pytest

from ballotcrypto import disjunctive, elgamal, selection_count, zero_one
from ballotcrypto.disjunctive import DisjunctiveProof
from ballotcrypto.errors import MalformedCrypto
from ballotcrypto.group import L
from chain.hashing import Domain
from tests.ballotcrypto.fixtures import (
    Scalars,
    ballot_context,
    flip_scalar,
    keypair,
    other_contexts,
)


def altered_proofs(proof: DisjunctiveProof) -> list[DisjunctiveProof]:
    """Each c_j and each v_j changed in turn."""
    altered = []
    for j, (c, v) in enumerate(proof.branches):
        for pair in ((flip_scalar(c), v), (c, flip_scalar(v))):
            branches = list(proof.branches)
            branches[j] = pair
            altered.append(DisjunctiveProof(tuple(branches)))
    return altered


@pytest.mark.parametrize("choice", [0, 1])
def test_an_honest_zero_one_proof_verifies(choice: int) -> None:
    scalars = Scalars(choice)
    key = keypair(scalars)
    r = scalars.one()
    ciphertext = elgamal.encrypt(key.public, choice, r)
    context = ballot_context(2, 3)
    proof = zero_one.prove(context, key.public, ciphertext, choice, r, scalars.many(3))
    assert zero_one.verify(context, key.public, ciphertext, proof)


def test_every_altered_element_of_a_zero_one_proof_fails() -> None:
    scalars = Scalars(10)
    key = keypair(scalars)
    r = scalars.one()
    ciphertext = elgamal.encrypt(key.public, 1, r)
    context = ballot_context()
    proof = zero_one.prove(context, key.public, ciphertext, 1, r, scalars.many(3))
    for altered in altered_proofs(proof):
        assert not zero_one.verify(context, key.public, ciphertext, altered)
    other_ciphertext = elgamal.encrypt(key.public, 1, r + 1)
    assert not zero_one.verify(context, key.public, other_ciphertext, proof)
    assert not zero_one.verify(context, keypair(scalars).public, ciphertext, proof), (
        "another public key"
    )
    swapped = dataclasses.replace(ciphertext, alpha=ciphertext.beta, beta=ciphertext.alpha)
    assert not zero_one.verify(context, key.public, swapped, proof)


@pytest.mark.parametrize("where", ["voter", "poll", "chain", "question", "option"])
def test_a_zero_one_proof_fails_in_another_context(where: str) -> None:
    """A ballot copied into another voter's transaction (or poll, chain, place) fails."""
    scalars = Scalars(11)
    key = keypair(scalars)
    r = scalars.one()
    ciphertext = elgamal.encrypt(key.public, 0, r)
    context = ballot_context(1, 1)
    proof = zero_one.prove(context, key.public, ciphertext, 0, r, scalars.many(3))
    assert not zero_one.verify(other_contexts(context)[where], key.public, ciphertext, proof)


def test_a_zero_one_proof_is_not_a_proof_of_another_kind() -> None:
    """Same equations, another domain: a 0/1 proof is no budget-bit proof."""
    scalars = Scalars(12)
    key = keypair(scalars)
    r = scalars.one()
    ciphertext = elgamal.encrypt(key.public, 1, r)
    context = ballot_context()
    proof = zero_one.prove(context, key.public, ciphertext, 1, r, scalars.many(3))
    assert not disjunctive.verify(
        Domain.BALLOT_BUDGET_BIT, context, key.public, ciphertext, (0, 1), proof
    )


@pytest.mark.parametrize("value", [2, L - 1])
def test_a_ciphertext_of_another_value_cannot_pass_as_zero_or_one(value: int) -> None:
    """The prover refuses; a proof forced through with a false branch does not verify."""
    scalars = Scalars(13)
    key = keypair(scalars)
    r = scalars.one()
    ciphertext = elgamal.encrypt(key.public, value, r)
    context = ballot_context()
    with pytest.raises(ValueError):
        zero_one.prove(context, key.public, ciphertext, value, r, scalars.many(3))
    for pretend in (0, 1):
        forged = disjunctive.prove(
            Domain.BALLOT_ZERO_ONE,
            context,
            key.public,
            ciphertext,
            (0, 1),
            pretend,
            r,
            scalars.many(3),
        )
        assert not zero_one.verify(context, key.public, ciphertext, forged)


def test_malformed_zero_one_proofs_are_refused() -> None:
    good = [[bytes(32), bytes(32)], [bytes(32), bytes(32)]]
    assert zero_one.decode_proof(good, "p").branches == ((0, 0), (0, 0))
    for bad in (
        good[:1],
        [*good, good[0]],
        [[bytes(32)], good[1]],
        [[L.to_bytes(32, "little"), bytes(32)], good[1]],
        [[bytes(31), bytes(32)], good[1]],
        "proof",
    ):
        with pytest.raises(MalformedCrypto):
            zero_one.decode_proof(bad, "p")


def encrypted_options(selections: list[int], seed: int):  # type: ignore[no-untyped-def]
    scalars = Scalars(seed)
    key = keypair(scalars)
    randomness = scalars.many(len(selections))
    ciphertexts = [
        elgamal.encrypt(key.public, s, r) for s, r in zip(selections, randomness, strict=True)
    ]
    return scalars, key, randomness, ciphertexts


@pytest.mark.parametrize(
    ("selections", "minimum", "maximum"),
    [([0, 1, 0, 0], 1, 1), ([1, 1, 0, 1], 0, 3), ([0, 0, 0], 0, 2), ([1, 1], 2, 2)],
)
def test_an_honest_count_proof_verifies(selections: list[int], minimum: int, maximum: int) -> None:
    scalars, key, randomness, ciphertexts = encrypted_options(selections, 20)
    context = ballot_context(4)
    nonces = scalars.many(selection_count.nonce_count(minimum, maximum))
    proof = selection_count.prove(
        context, key.public, ciphertexts, selections, randomness, minimum, maximum, nonces
    )
    assert selection_count.verify(context, key.public, ciphertexts, minimum, maximum, proof)
    for altered in altered_proofs(proof):
        assert not selection_count.verify(
            context, key.public, ciphertexts, minimum, maximum, altered
        )
    for where, other in other_contexts(context).items():
        if where != "option":  # a count proof is about the whole question
            assert not selection_count.verify(
                other, key.public, ciphertexts, minimum, maximum, proof
            ), where


def test_a_count_outside_the_bounds_does_not_verify() -> None:
    selections = [1, 1, 0, 0]  # two chosen on a pick-one question
    scalars, key, randomness, ciphertexts = encrypted_options(selections, 21)
    context = ballot_context()
    with pytest.raises(ValueError, match="outside"):
        selection_count.prove(
            context, key.public, ciphertexts, selections, randomness, 1, 1, scalars.many(1)
        )
    forged = disjunctive.prove(
        Domain.BALLOT_SELECTION_COUNT,
        context,
        key.public,
        elgamal.total(ciphertexts),
        [1],
        0,
        sum(randomness) % L,
        scalars.many(1),
    )
    assert not selection_count.verify(context, key.public, ciphertexts, 1, 1, forged)


def test_a_count_proof_for_other_bounds_does_not_verify() -> None:
    selections = [1, 0, 0]
    scalars, key, randomness, ciphertexts = encrypted_options(selections, 22)
    context = ballot_context()
    proof = selection_count.prove(
        context, key.public, ciphertexts, selections, randomness, 0, 1, scalars.many(3)
    )
    assert selection_count.verify(context, key.public, ciphertexts, 0, 1, proof)
    assert not selection_count.verify(context, key.public, ciphertexts, 1, 2, proof)
    assert not selection_count.verify(context, key.public, ciphertexts[:2], 0, 1, proof)
