"""Chaum-Pedersen proof of equal discrete logarithms: X = x·G and Z = x·H for one x.

    a = v·G - c·X                                                             (Q1)
    b = v·H - c·Z                                                             (Q2)
    c = H(domain, [context, [X, H, Z], [a, b]]) mod L                          (Q3)

The proof is [c, v], two 32-byte scalars. Prover (secret x, nonce w uniform in [0, L),
never reused): a = w·G, b = w·H, c by (Q3), v = w + c·x. Used with its own domain by
decryption shares (decryption.py: H = alpha, Z the share) and by a recipient revealing a
share's pad key (transport.py: H = the dealer's ephemeral point).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ballotcrypto import group
from ballotcrypto.challenge import challenge
from ballotcrypto.context import Context
from ballotcrypto.errors import MalformedCrypto
from ballotcrypto.group import L, Point
from chain.encoding import Value
from chain.hashing import Domain


@dataclass(frozen=True, slots=True)
class DleqProof:
    c: int
    v: int

    def to_value(self) -> list[Value]:
        return [group.scalar_to_bytes(self.c), group.scalar_to_bytes(self.v)]


def prove(domain: Domain, context: Context, x: int, h: Point, z: Point, w: int) -> DleqProof:
    """A proof that z = x·h and X = x·G (X is recomputed from the secret x)."""
    w %= L
    public = group.base_mul(x)
    c = challenge(domain, context, _statement(public, h, z), [group.base_mul(w), group.mul(w, h)])
    return DleqProof(c, (w + c * x) % L)


def verify(
    domain: Domain, context: Context, public: Point, h: Point, z: Point, proof: DleqProof
) -> bool:
    a = group.base_mul_sub(proof.v, proof.c, public)  # (Q1)
    b = group.mul_sub(proof.v, h, proof.c, z)  # (Q2)
    return challenge(domain, context, _statement(public, h, z), [a, b]) == proof.c  # (Q3)


def decode_proof(value: Any, what: str) -> DleqProof:
    if not isinstance(value, list) or len(value) != 2:
        raise MalformedCrypto(f"{what}: expected [c, v]")
    return DleqProof(
        group.scalar_from_bytes(value[0], f"{what}.c"),
        group.scalar_from_bytes(value[1], f"{what}.v"),
    )


def _statement(public: Point, h: Point, z: Point) -> list[Value]:
    return [public.encoding, h.encoding, z.encoding]
