"""Schnorr proof of knowledge of a secret key: X = x·G (a trustee's key, the constant
term of a trustee's key-generation polynomial).

    a = v·G - c·X                                                             (S1)
    c = H(KEY_KNOWLEDGE, [context, [X], [a]]) mod L                            (S2)

The proof is [c, v]. Prover (secret x, nonce w): a = w·G, c by (S2), v = w + c·x. The
context (chain, poll, trustee index) keeps a trustee from replaying another's proof as
its own, which is what lets the joint key be no single trustee's choice (rogue keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ballotcrypto import group
from ballotcrypto.challenge import challenge
from ballotcrypto.context import TrusteeContext
from ballotcrypto.errors import MalformedCrypto
from ballotcrypto.group import L, Point
from chain.encoding import Value
from chain.hashing import Domain


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    c: int
    v: int

    def to_value(self) -> list[Value]:
        return [group.scalar_to_bytes(self.c), group.scalar_to_bytes(self.v)]


def prove(context: TrusteeContext, x: int, w: int) -> SchnorrProof:
    public = group.base_mul(x)
    w %= L
    c = challenge(Domain.KEY_KNOWLEDGE, context, [public.encoding], [group.base_mul(w)])
    return SchnorrProof(c, (w + c * x) % L)


def verify(context: TrusteeContext, public: Point, proof: SchnorrProof) -> bool:
    a = group.base_mul_sub(proof.v, proof.c, public)  # (S1)
    return challenge(Domain.KEY_KNOWLEDGE, context, [public.encoding], [a]) == proof.c


def decode_proof(value: Any, what: str) -> SchnorrProof:
    if not isinstance(value, list) or len(value) != 2:
        raise MalformedCrypto(f"{what}: expected [c, v]")
    return SchnorrProof(
        group.scalar_from_bytes(value[0], f"{what}.c"),
        group.scalar_from_bytes(value[1], f"{what}.v"),
    )
