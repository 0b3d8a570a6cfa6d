"""Exponential ElGamal under a joint public key Y = x·G.

    Enc(m; r) = (alpha, beta) = (r·G, m·G + r·Y)                                 (E1)
    (alpha1, beta1) + (alpha2, beta2) = (alpha1 + alpha2, beta1 + beta2)         (E2)
        encrypts m1 + m2
    k·(alpha, beta) = (k·alpha, k·beta) encrypts k·m                             (E3)
    Dec(x; alpha, beta) = beta - x·alpha = m·G, then m by dlog.py                (E4)

A ciphertext is encoded as [alpha, beta], each a 32-byte point. Either may be the identity in
general (an empty tally is (O, O)); a voter's fresh ciphertext may not have alpha = O,
which would mean r = 0 and publish the choice (`decode_ciphertext(..., fresh=True)`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ballotcrypto import group
from ballotcrypto.errors import MalformedCrypto
from ballotcrypto.group import IDENTITY, Point
from chain.encoding import Value


@dataclass(frozen=True, slots=True)
class Ciphertext:
    alpha: Point
    beta: Point

    def to_value(self) -> list[Value]:
        return [self.alpha.encoding, self.beta.encoding]


ZERO: Ciphertext = Ciphertext(IDENTITY, IDENTITY)
"""The encryption of 0 with randomness 0: the start of every homomorphic sum."""


def encrypt(public_key: Point, m: int, r: int) -> Ciphertext:
    """Enc(m; r) (E1). `r` is secret and must be uniform in [1, L): the caller's."""
    return Ciphertext(
        group.base_mul(r), group.add(group.small_multiple(m), group.mul(r, public_key))
    )


def trivial(m: int) -> Ciphertext:
    """Enc(m; 0) = (O, m·G): a public constant in the same space as ciphertexts (a cap)."""
    return Ciphertext(IDENTITY, group.base_mul(m))


def add(a: Ciphertext, b: Ciphertext) -> Ciphertext:
    """(E2)."""
    return Ciphertext(group.add(a.alpha, b.alpha), group.add(a.beta, b.beta))


def sub(a: Ciphertext, b: Ciphertext) -> Ciphertext:
    """a - b encrypts m_a - m_b: how a revote takes the previous ballot out of a tally."""
    return Ciphertext(group.sub(a.alpha, b.alpha), group.sub(a.beta, b.beta))


def scale(k: int, a: Ciphertext) -> Ciphertext:
    """(E3)."""
    return Ciphertext(group.mul(k, a.alpha), group.mul(k, a.beta))


def total(ciphertexts: Iterable[Ciphertext]) -> Ciphertext:
    """The homomorphic sum of `ciphertexts` (ZERO for none). Starts from the first
    term, not from ZERO: each addition decodes and encodes points in libsodium."""
    terms = iter(ciphertexts)
    result = next(terms, ZERO)
    for ciphertext in terms:
        result = add(result, ciphertext)
    return result


def decrypt_to_point(secret_key: int, ciphertext: Ciphertext) -> Point:
    """m·G (E4) with the whole secret key: for a single holder and for tests; a poll's
    tally is decrypted by trustees' shares (decryption.py)."""
    return group.sub(ciphertext.beta, group.mul(secret_key, ciphertext.alpha))


def decode_ciphertext(value: Any, what: str, fresh: bool = False) -> Ciphertext:
    """The ciphertext of an encoded [alpha, beta]; `fresh` refuses alpha = O (see the module)."""
    if not isinstance(value, list) or len(value) != 2:
        raise MalformedCrypto(f"{what}: expected an array [alpha, beta]")
    alpha = group.point_from_bytes(value[0], f"{what}.alpha", allow_identity=not fresh)
    beta = group.point_from_bytes(value[1], f"{what}.beta", allow_identity=True)
    return Ciphertext(alpha, beta)
