"""The hash to challenges (Fiat-Shamir), one domain per kind of proof.

    c = int_le(H(domain, encode([context, statement, commitments]))) mod L

H is chain.hashing's tagged SHA-256, `encode` the canonical msgpack of chain.encoding;
`context` is the context's field array, `statement` the public values the proof is
about (points as their 32-byte encodings, integers as integers), `commitments` the
prover's first-move points in the order each proof's docstring lists them.
Reducing 256 bits modulo L (about 2^252) leaves each challenge with at least 248 bits
of min-entropy: the soundness error of every proof stays below 2^-248.
"""

from __future__ import annotations

from ballotcrypto.context import Context
from ballotcrypto.group import L, Point
from chain.encoding import Value, encode
from chain.hashing import Domain, tagged_hash


def challenge(
    domain: Domain, context: Context, statement: list[Value], commitments: list[Point]
) -> int:
    """The challenge scalar of a proof (see the module's formula)."""
    data = encode([context.fields(), statement, [point.encoding for point in commitments]])
    return int.from_bytes(tagged_hash(domain, data), "little") % L
