"""Proof that a question's number of selections is within [min, max].

The sum of the question's option ciphertexts, Σ_i (alpha_i, beta_i) (E2), encrypts the number
of options chosen with randomness Σ_i r_i. The proof is the disjunctive proof of
disjunctive.py over the values min, min+1, …, max (as Helios and Belenios prove it),
with the domain BALLOT_SELECTION_COUNT and the voter's context at (question, 0xFFFF):

    c_min + … + c_max = H(BALLOT_SELECTION_COUNT,
                          [context, [Y, Σalpha, Σbeta, [min..max]], [a_min, b_min, …]])

Its cost grows with max - min + 1 branches: for a survey with many options and a wide
range, a bit decomposition (nonnegative.py) would be cheaper; polls of mVoting's shape
(pick 1, pick up to 3) are small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ballotcrypto import disjunctive, elgamal
from ballotcrypto.context import NO_OPTION, BallotContext
from ballotcrypto.disjunctive import DisjunctiveProof
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.group import L, Point
from chain.hashing import Domain


def allowed(minimum: int, maximum: int) -> list[int]:
    if not 0 <= minimum <= maximum:
        raise ValueError(f"selection bounds [{minimum}, {maximum}] are not 0 <= min <= max")
    return list(range(minimum, maximum + 1))


def nonce_count(minimum: int, maximum: int) -> int:
    return disjunctive.nonce_count(allowed(minimum, maximum))


def prove(
    context: BallotContext,
    public_key: Point,
    ciphertexts: Sequence[Ciphertext],
    selections: Sequence[int],
    randomness: Sequence[int],
    minimum: int,
    maximum: int,
    nonces: Sequence[int],
) -> DisjunctiveProof:
    """A proof that the options' ciphertexts (of `selections` with `randomness`) add up
    to a count within [minimum, maximum]."""
    values = allowed(minimum, maximum)
    count = sum(selections)
    if count not in values:
        raise ValueError(f"{count} selections is outside [{minimum}, {maximum}]")
    return disjunctive.prove(
        Domain.BALLOT_SELECTION_COUNT,
        context.at(context.question, NO_OPTION),
        public_key,
        elgamal.total(ciphertexts),
        values,
        count - minimum,
        sum(randomness) % L,
        nonces,
    )


def verify(
    context: BallotContext,
    public_key: Point,
    ciphertexts: Sequence[Ciphertext],
    minimum: int,
    maximum: int,
    proof: DisjunctiveProof,
) -> bool:
    return disjunctive.verify(
        Domain.BALLOT_SELECTION_COUNT,
        context.at(context.question, NO_OPTION),
        public_key,
        elgamal.total(ciphertexts),
        allowed(minimum, maximum),
        proof,
    )


def decode_proof(value: Any, minimum: int, maximum: int, what: str) -> DisjunctiveProof:
    return disjunctive.decode_proof(value, len(allowed(minimum, maximum)), what)
