"""Disjunctive Chaum-Pedersen proof: a ciphertext encrypts one of m_0, …, m_{k-1}.

The proof of Cramer, Damgård and Schoenmakers (CRYPTO '94) as Helios and Belenios use
it, in compact form (challenges and responses; commitments are recomputed). Statement:
the public key Y, the ciphertext (alpha, beta) and the allowed values m_0..m_{k-1}. For each
branch j, with beta_j = beta - m_j·G:

    a_j = v_j·G - c_j·alpha                                                        (D1)
    b_j = v_j·Y - c_j·beta_j                                                      (D2)
    c_0 + … + c_{k-1} = H(domain, [context, [Y, alpha, beta, [m_0..m_{k-1}]],
                                   [a_0, b_0, a_1, b_1, …]]) mod L             (D3)

The proof is [[c_0, v_0], …, [c_{k-1}, v_{k-1}]], each a 32-byte scalar. Only the branch
of the true value is proven; the others are simulated with challenges chosen first.

Prover (true index i, encryption randomness r, secret): nonces w and, for j ≠ i, c_j and
v_j, all uniform in [0, L) and never reused; a_i = w·G, b_i = w·Y, c_i = c - Σ_{j≠i} c_j,
v_i = w + c_i·r. Leaking w or reusing it with another challenge reveals r and the vote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ballotcrypto import group
from ballotcrypto.challenge import challenge
from ballotcrypto.context import Context
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.errors import MalformedCrypto
from ballotcrypto.group import L, Point
from chain.encoding import Value
from chain.hashing import Domain


@dataclass(frozen=True, slots=True)
class DisjunctiveProof:
    """[(c_j, v_j)] for each allowed value, in the order of the values."""

    branches: tuple[tuple[int, int], ...]

    def to_value(self) -> list[Value]:
        return [[group.scalar_to_bytes(c), group.scalar_to_bytes(v)] for c, v in self.branches]


def nonce_count(values: Sequence[int]) -> int:
    """How many random scalars `prove` takes: w, then (c_j, v_j) for each other branch."""
    return 2 * len(values) - 1


def prove(
    domain: Domain,
    context: Context,
    public_key: Point,
    ciphertext: Ciphertext,
    values: Sequence[int],
    true_index: int,
    r: int,
    nonces: Sequence[int],
) -> DisjunctiveProof:
    """A proof that `ciphertext` = Enc(values[true_index]; r) is one of `values`."""
    if len(nonces) != nonce_count(values):
        raise ValueError(f"expected {nonce_count(values)} nonces, got {len(nonces)}")
    w, simulated = nonces[0] % L, iter(nonces[1:])
    challenges: list[int] = []
    responses: list[int] = []
    commitments: list[Point] = []
    for j, m in enumerate(values):
        if j == true_index:
            challenges.append(0)
            responses.append(0)
            commitments += [group.base_mul(w), group.mul(w, public_key)]
            continue
        c_j, v_j = next(simulated) % L, next(simulated) % L
        challenges.append(c_j)
        responses.append(v_j)
        commitments += _commitments(public_key, ciphertext, m, c_j, v_j)
    c = challenge(domain, context, _statement(public_key, ciphertext, values), commitments)
    c_i = (c - sum(challenges)) % L
    challenges[true_index] = c_i
    responses[true_index] = (w + c_i * r) % L
    return DisjunctiveProof(tuple(zip(challenges, responses, strict=True)))


def verify(
    domain: Domain,
    context: Context,
    public_key: Point,
    ciphertext: Ciphertext,
    values: Sequence[int],
    proof: DisjunctiveProof,
) -> bool:
    """True if `proof` shows `ciphertext` encrypts one of `values` under (D1)-(D3)."""
    if len(proof.branches) != len(values):
        return False
    commitments: list[Point] = []
    for m, (c_j, v_j) in zip(values, proof.branches, strict=True):
        commitments += _commitments(public_key, ciphertext, m, c_j, v_j)
    c = challenge(domain, context, _statement(public_key, ciphertext, values), commitments)
    return sum(c_j for c_j, _ in proof.branches) % L == c


def decode_proof(value: Any, branches: int, what: str) -> DisjunctiveProof:
    """The proof encoded as `branches` pairs [c, v] of 32-byte scalars."""
    if not isinstance(value, list) or len(value) != branches:
        raise MalformedCrypto(f"{what}: expected an array of {branches} [c, v] pairs")
    pairs = []
    for j, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2:
            raise MalformedCrypto(f"{what}[{j}]: expected [c, v]")
        c = group.scalar_from_bytes(pair[0], f"{what}[{j}].c")
        v = group.scalar_from_bytes(pair[1], f"{what}[{j}].v")
        pairs.append((c, v))
    return DisjunctiveProof(tuple(pairs))


def _commitments(
    public_key: Point, ciphertext: Ciphertext, m: int, c_j: int, v_j: int
) -> list[Point]:
    """(a_j, b_j) of (D1) and (D2)."""
    beta_j = ciphertext.beta if m == 0 else group.sub(ciphertext.beta, group.small_multiple(m))
    a_j = group.base_mul_sub(v_j, c_j, ciphertext.alpha)
    b_j = group.mul_sub(v_j, public_key, c_j, beta_j)
    return [a_j, b_j]


def _statement(public_key: Point, ciphertext: Ciphertext, values: Sequence[int]) -> list[Value]:
    return [
        public_key.encoding,
        ciphertext.alpha.encoding,
        ciphertext.beta.encoding,
        list(values),
    ]
