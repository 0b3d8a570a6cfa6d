"""Proof that an option's ciphertext encrypts 0 or 1 (not chosen, chosen).

The disjunctive proof of disjunctive.py with values [0, 1] and the domain
BALLOT_ZERO_ONE; its context is the voter's, at (question, option):

    beta_0 = beta,  beta_1 = beta - G;  (D1), (D2) for j = 0, 1;
    c_0 + c_1 = H(BALLOT_ZERO_ONE, [context, [Y, alpha, beta, [0, 1]], [a_0, b_0, a_1, b_1]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ballotcrypto import disjunctive
from ballotcrypto.context import BallotContext
from ballotcrypto.disjunctive import DisjunctiveProof
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.group import Point
from chain.hashing import Domain

VALUES: Final = (0, 1)
NONCES: Final = disjunctive.nonce_count(VALUES)
"""Random scalars a proof takes."""


def prove(
    context: BallotContext,
    public_key: Point,
    ciphertext: Ciphertext,
    choice: int,
    r: int,
    nonces: Sequence[int],
) -> DisjunctiveProof:
    """A proof that `ciphertext` = Enc(choice; r) with choice 0 or 1."""
    if choice not in VALUES:
        raise ValueError(f"a selection is 0 or 1, not {choice}")
    return disjunctive.prove(
        Domain.BALLOT_ZERO_ONE, context, public_key, ciphertext, VALUES, choice, r, nonces
    )


def verify(
    context: BallotContext, public_key: Point, ciphertext: Ciphertext, proof: DisjunctiveProof
) -> bool:
    return disjunctive.verify(
        Domain.BALLOT_ZERO_ONE, context, public_key, ciphertext, VALUES, proof
    )


def decode_proof(value: Any, what: str) -> DisjunctiveProof:
    return disjunctive.decode_proof(value, len(VALUES), what)
