"""Proof that a ciphertext D encrypts a value d in [0, 2^n), by its bits.

The prover encrypts each bit b_k of d as B_k = Enc(b_k; rho_k), proves each B_k encrypts
0 or 1 (disjunctive.py, values [0, 1], domain BALLOT_BUDGET_BIT, the voter's context with
`option` = offset + k), and chooses the last randomness so that the bits add up to D
exactly:

    rho_{n-1} = (rho_D - Σ_{k<n-1} 2^k·rho_k) · (2^{n-1})⁻¹ mod L                   (N1)
    Σ_{k<n} 2^k·B_k = D          (checked by the verifier, both components)    (N2)

(N2) with every B_k a bit gives D = Enc(Σ 2^k b_k): d ≡ Σ 2^k b_k (mod L), a value in
[0, 2^n). Nothing else of the proof is sent: it is [[B_0, …, B_{n-1}], [P_0, …, P_{n-1}]].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ballotcrypto import disjunctive, elgamal, group
from ballotcrypto.context import BallotContext
from ballotcrypto.disjunctive import DisjunctiveProof
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.errors import MalformedCrypto
from ballotcrypto.group import L, Point
from chain.encoding import Value
from chain.hashing import Domain

MAX_BITS = 64
"""No budget in won reaches 2^64; a longer proof is refused before any work."""

_BIT = (0, 1)


@dataclass(frozen=True, slots=True)
class BitsProof:
    bits: tuple[Ciphertext, ...]
    proofs: tuple[DisjunctiveProof, ...]

    def to_value(self) -> list[Value]:
        return [[bit.to_value() for bit in self.bits], [p.to_value() for p in self.proofs]]


def bit_count(bound: int) -> int:
    """n such that every value of [0, bound] has n bits (at least 1)."""
    if bound < 0:
        raise ValueError(f"bound {bound} is negative")
    return max(1, bound.bit_length())


def nonce_count(bits: int) -> int:
    """rho_0..rho_{n-2}, then each bit's proof nonces."""
    return bits - 1 + bits * disjunctive.nonce_count(_BIT)


def prove(
    context: BallotContext,
    offset: int,
    public_key: Point,
    d: int,
    rho_d: int,
    bits: int,
    nonces: Sequence[int],
) -> BitsProof:
    """A proof that D = Enc(d; rho_D) holds a value in [0, 2^bits)."""
    if not 0 <= d < 2**bits:
        raise ValueError(f"{d} does not fit in {bits} bits")
    if len(nonces) != nonce_count(bits):
        raise ValueError(f"expected {nonce_count(bits)} nonces, got {len(nonces)}")
    rhos = [n % L for n in nonces[: bits - 1]]
    partial = sum(rho << k for k, rho in enumerate(rhos))
    rhos.append((rho_d - partial) * group.inverse(2 ** (bits - 1)) % L)  # (N1)
    proof_nonces = nonces[bits - 1 :]
    per_bit = disjunctive.nonce_count(_BIT)
    cts, proofs = [], []
    for k in range(bits):
        b_k = (d >> k) & 1
        ct = elgamal.encrypt(public_key, b_k, rhos[k])
        cts.append(ct)
        proofs.append(
            disjunctive.prove(
                Domain.BALLOT_BUDGET_BIT,
                context.at(context.question, offset + k),
                public_key,
                ct,
                _BIT,
                b_k,
                rhos[k],
                proof_nonces[k * per_bit : (k + 1) * per_bit],
            )
        )
    return BitsProof(tuple(cts), tuple(proofs))


def verify(
    context: BallotContext,
    offset: int,
    public_key: Point,
    target: Ciphertext,
    bits: int,
    proof: BitsProof,
) -> bool:
    """True if every B_k is a bit and Σ 2^k·B_k = target (N2)."""
    if len(proof.bits) != bits or len(proof.proofs) != bits:
        return False
    weighted = elgamal.ZERO
    for k in reversed(range(bits)):  # Horner: doubling by addition is cheaper than mul
        weighted = elgamal.add(elgamal.add(weighted, weighted), proof.bits[k])
    if weighted != target:
        return False
    return all(
        disjunctive.verify(
            Domain.BALLOT_BUDGET_BIT,
            context.at(context.question, offset + k),
            public_key,
            proof.bits[k],
            _BIT,
            proof.proofs[k],
        )
        for k in range(bits)
    )


def decode_proof(value: Any, bits: int, what: str) -> BitsProof:
    if bits > MAX_BITS:
        raise MalformedCrypto(f"{what}: {bits} bits is more than {MAX_BITS}")
    if not isinstance(value, list) or len(value) != 2:
        raise MalformedCrypto(f"{what}: expected [bit ciphertexts, bit proofs]")
    cts, proofs = value
    if not isinstance(cts, list) or len(cts) != bits:
        raise MalformedCrypto(f"{what}: expected {bits} bit ciphertexts")
    if not isinstance(proofs, list) or len(proofs) != bits:
        raise MalformedCrypto(f"{what}: expected {bits} bit proofs")
    return BitsProof(
        tuple(elgamal.decode_ciphertext(ct, f"{what}.bits[{k}]") for k, ct in enumerate(cts)),
        tuple(
            disjunctive.decode_proof(p, len(_BIT), f"{what}.proofs[{k}]")
            for k, p in enumerate(proofs)
        ),
    )
