"""The group: ristretto255 of libsodium, behind one narrow interface.

Every proof, key and ciphertext of ballotcrypto/ is written against this module only:
`Point` (an element, held as its canonical 32-byte encoding), scalars (Python integers
modulo `L`), and the operations `add`, `sub`, `mul`, `base_mul`. No other module touches
an encoding's bytes or the binding (docs/adr/009-ballot-group.md says why ristretto255,
why pysodium, and the measurements).

Encodings (docs/PROTOCOL.md, "Ballot cryptography"):
- a point is the 32-byte canonical ristretto255 encoding (RFC 9496, section 4.3);
  non-canonical encodings are refused by libsodium's decoder; the identity (32 zero
  bytes) is refused wherever `allow_identity` is not given.
- a scalar is 32 bytes little-endian, a value below L; L or more is refused, never reduced.

Secrets: scalars are Python integers, whose arithmetic is not constant time. A trustee's
secret share and a voter's encryption randomness pass through `mul`/`base_mul` (libsodium,
constant time) and through the modular arithmetic of the provers (Python, not constant
time). The verifier, which handles only public values, is what runs on validators.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from ballotcrypto.errors import MalformedCrypto
from chain.sodium import library

L: Final = 2**252 + 27742317777372353535851937790883648493
"""The prime order of ristretto255 (RFC 9496, section 4)."""

POINT_SIZE: Final = 32
SCALAR_SIZE: Final = 32


@dataclass(frozen=True, slots=True)
class Point:
    """A ristretto255 element as its canonical encoding.

    Made only by `point_from_bytes` (which validates) or by the operations below, so an
    encoding held here is always canonical and `==` is group equality.
    """

    encoding: bytes

    def __repr__(self) -> str:
        return f"Point({self.encoding.hex()[:16]}…)"


IDENTITY: Final = Point(bytes(POINT_SIZE))
"""The neutral element; its canonical encoding is 32 zero bytes."""


def point_from_bytes(data: object, what: str, allow_identity: bool = False) -> Point:
    """The point `data` encodes, or MalformedCrypto naming `what`.

    Public keys, commitments and shares' keys refuse the identity (it would make a key
    known to all); ciphertexts and sums may hold it (an empty tally is the identity).
    """
    if not isinstance(data, bytes):
        raise MalformedCrypto(f"{what}: expected bytes, got {type(data).__name__}")
    if len(data) != POINT_SIZE:
        raise MalformedCrypto(f"{what}: expected {POINT_SIZE} bytes, got {len(data)}")
    if _is_valid_point(data) != 1:
        raise MalformedCrypto(f"{what}: not a canonical ristretto255 encoding")
    if data == IDENTITY.encoding and not allow_identity:
        raise MalformedCrypto(f"{what}: the identity element is not allowed here")
    return Point(data)


def scalar_from_bytes(data: object, what: str) -> int:
    """The scalar `data` encodes (32 bytes little-endian, below L), or MalformedCrypto."""
    if not isinstance(data, bytes):
        raise MalformedCrypto(f"{what}: expected bytes, got {type(data).__name__}")
    if len(data) != SCALAR_SIZE:
        raise MalformedCrypto(f"{what}: expected {SCALAR_SIZE} bytes, got {len(data)}")
    value = int.from_bytes(data, "little")
    if value >= L:
        raise MalformedCrypto(f"{what}: scalar is not below the group order")
    return value


def scalar_to_bytes(value: int) -> bytes:
    """The 32-byte encoding of `value`, which must already be in [0, L)."""
    if not 0 <= value < L:
        raise ValueError(f"scalar {value} is outside [0, L)")
    return value.to_bytes(SCALAR_SIZE, "little")


def add(p: Point, q: Point) -> Point:
    """p + q."""
    return Point(_add(p.encoding, q.encoding))


def sub(p: Point, q: Point) -> Point:
    """p - q."""
    return Point(_sub(p.encoding, q.encoding))


def mul(k: int, p: Point) -> Point:
    """k·p. libsodium refuses to return the identity, which for points of prime order
    is exactly k ≡ 0 or p the identity: those are answered here."""
    return Point(_mul(k, p.encoding))


def base_mul(k: int) -> Point:
    """k·G for the standard generator G of ristretto255."""
    return Point(_base_mul(k))


def base_mul_sub(v: int, c: int, p: Point) -> Point:
    """v·G - c·p: the first commitment of every proof's check (a = v·G - c·X), without
    the Points in between."""
    return Point(_sub(_base_mul(v), _mul(c, p.encoding)))


def mul_sub(v: int, p: Point, c: int, q: Point) -> Point:
    """v·p - c·q: a proof's second commitment (b = v·Y - c·beta)."""
    return Point(_sub(_mul(v, p.encoding), _mul(c, q.encoding)))


# libsodium called directly (chain.sodium says why), on encodings that a Point
# holds, so always canonical: a non-zero result cannot happen and is a bug, not input.
# The length checks are not for input (point_from_bytes did them) but against a bug
# handing ctypes None or an int, which it would pass as a pointer: a crash, not an error.
_Buffer = ctypes.c_char * POINT_SIZE
_ZERO_ENCODING: Final = bytes(POINT_SIZE)
_is_valid_point = library.crypto_core_ristretto255_is_valid_point
_sodium_add = library.crypto_core_ristretto255_add
_sodium_sub = library.crypto_core_ristretto255_sub
_sodium_mul = library.crypto_scalarmult_ristretto255
_sodium_base_mul = library.crypto_scalarmult_ristretto255_base


def _add(p: bytes, q: bytes) -> bytes:
    if len(p) != POINT_SIZE or len(q) != POINT_SIZE:
        raise ValueError("a point's encoding is 32 bytes")
    out = _Buffer()
    if _sodium_add(out, p, q) != 0:
        raise ValueError("libsodium refused to add two canonical points")
    return out.raw


def _sub(p: bytes, q: bytes) -> bytes:
    if len(p) != POINT_SIZE or len(q) != POINT_SIZE:
        raise ValueError("a point's encoding is 32 bytes")
    out = _Buffer()
    if _sodium_sub(out, p, q) != 0:
        raise ValueError("libsodium refused to subtract two canonical points")
    return out.raw


def _mul(k: int, p: bytes) -> bytes:
    k %= L
    if len(p) != POINT_SIZE:
        raise ValueError("a point's encoding is 32 bytes")
    if k == 0 or p == _ZERO_ENCODING:
        return _ZERO_ENCODING
    out = _Buffer()
    if _sodium_mul(out, k.to_bytes(SCALAR_SIZE, "little"), p) != 0:
        raise ValueError("libsodium refused a multiple of a canonical point")
    return out.raw


def _base_mul(k: int) -> bytes:
    k %= L
    if k == 0:
        return _ZERO_ENCODING
    out = _Buffer()
    if _sodium_base_mul(out, k.to_bytes(SCALAR_SIZE, "little")) != 0:
        raise ValueError("libsodium refused a multiple of the generator")
    return out.raw


@lru_cache(maxsize=4096)
def small_multiple(m: int) -> Point:
    """m·G for the small plaintexts of ballots (0, 1, counts, bit weights), cached: the
    verifier of every ballot needs the same few."""
    return base_mul(m)


def neg(k: int) -> int:
    """-k mod L."""
    return (-k) % L


def inverse(k: int) -> int:
    """k⁻¹ mod L; k must not be 0 mod L."""
    if k % L == 0:
        raise ZeroDivisionError("0 has no inverse modulo L")
    return pow(k, -1, L)


GENERATOR: Final = base_mul(1)
"""G, the ristretto255 base point."""
