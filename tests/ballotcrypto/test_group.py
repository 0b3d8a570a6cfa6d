"""ristretto255 through libsodium: encodings refused and accepted, the group laws."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import group
from ballotcrypto.errors import MalformedCrypto
from chain.errors import DecodeError

# RFC 9496, appendix A.1: encodings of the multiples 0..3 of the generator.
MULTIPLES = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
    "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
]

# RFC 9496, appendix A.2: encodings that a decoder must refuse.
NON_CANONICAL = [
    # field elements that are not reduced modulo p
    "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    # negative field elements
    "0100000000000000000000000000000000000000000000000000000000000000",
    "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    # non-square x²
    "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
]

scalars = st.integers(min_value=0, max_value=group.L - 1)


def test_generator_multiples_match_rfc_9496() -> None:
    for m, expected in enumerate(MULTIPLES):
        assert group.base_mul(m).encoding.hex() == expected


@pytest.mark.parametrize("encoding", NON_CANONICAL)
def test_non_canonical_encodings_are_refused(encoding: str) -> None:
    with pytest.raises(MalformedCrypto, match="canonical"):
        group.point_from_bytes(bytes.fromhex(encoding), "point", allow_identity=True)


def test_identity_is_refused_unless_allowed() -> None:
    with pytest.raises(MalformedCrypto, match="identity"):
        group.point_from_bytes(bytes(32), "public key")
    assert group.point_from_bytes(bytes(32), "sum", allow_identity=True) == group.IDENTITY


@pytest.mark.parametrize("data", [b"", bytes(31), bytes(33), "00" * 32, None])
def test_points_of_the_wrong_length_or_type_are_refused(data: object) -> None:
    with pytest.raises(MalformedCrypto, match="point"):
        group.point_from_bytes(data, "point", allow_identity=True)


def test_malformed_points_are_decode_errors() -> None:
    with pytest.raises(DecodeError):
        group.point_from_bytes(bytes(31), "point")


def test_scalars_at_or_above_the_order_are_refused_not_reduced() -> None:
    assert group.scalar_from_bytes((group.L - 1).to_bytes(32, "little"), "s") == group.L - 1
    for value in (group.L, group.L + 1, 2**256 - 1):
        with pytest.raises(MalformedCrypto, match="below the group order"):
            group.scalar_from_bytes(value.to_bytes(32, "little"), "s")
    with pytest.raises(MalformedCrypto, match="32 bytes"):
        group.scalar_from_bytes(bytes(31), "s")


def test_multiplying_by_zero_or_the_identity_gives_the_identity() -> None:
    assert group.mul(0, group.GENERATOR) == group.IDENTITY
    assert group.mul(group.L, group.GENERATOR) == group.IDENTITY
    assert group.mul(5, group.IDENTITY) == group.IDENTITY
    assert group.base_mul(0) == group.IDENTITY
    assert group.sub(group.GENERATOR, group.GENERATOR) == group.IDENTITY


@settings(max_examples=40, deadline=None)
@given(scalars, scalars)
def test_the_group_laws_hold(a: int, b: int) -> None:
    assert group.add(group.base_mul(a), group.base_mul(b)) == group.base_mul(a + b)
    assert group.sub(group.base_mul(a), group.base_mul(b)) == group.base_mul(a - b)
    assert group.mul(a, group.base_mul(b)) == group.base_mul(a * b)


@settings(max_examples=40, deadline=None)
@given(scalars)
def test_encodings_round_trip(a: int) -> None:
    point = group.base_mul(a)
    assert group.point_from_bytes(point.encoding, "p", allow_identity=True) == point
    assert group.scalar_from_bytes(group.scalar_to_bytes(a), "s") == a


@settings(max_examples=40, deadline=None)
@given(scalars, scalars, scalars, scalars)
def test_a_proofs_commitment_in_one_step_is_the_same_point(v: int, c: int, x: int, y: int) -> None:
    # base_mul_sub and mul_sub compute a proof's a = v·G - c·X and b = v·Y - c·Z without
    # the Points in between (ADR 009, "Measured again"): they must give the very encoding
    # the long way gives, or a valid ballot's challenge would not match.
    p, q = group.base_mul(x), group.base_mul(y)
    assert group.base_mul_sub(v, c, p) == group.sub(group.base_mul(v), group.mul(c, p))
    assert group.base_mul_sub(v, c, p) == group.base_mul(v - c * x)
    assert group.mul_sub(v, p, c, q) == group.base_mul(v * x - c * y)


def test_commitments_in_one_step_with_zero_scalars_and_the_identity() -> None:
    g, o = group.GENERATOR, group.IDENTITY
    assert group.base_mul_sub(0, 0, g) == o
    assert group.base_mul_sub(0, 1, g) == group.base_mul(group.L - 1)
    assert group.base_mul_sub(5, 3, o) == group.base_mul(5)
    assert group.mul_sub(2, o, group.L, g) == o
    assert group.mul_sub(3, g, 0, o) == group.base_mul(3)


@pytest.mark.parametrize("encoding", [None, 7, b"", bytes(31)])
def test_a_point_with_no_32_byte_encoding_is_an_error_not_a_crash(encoding: object) -> None:
    # Points are made by point_from_bytes or by libsodium; one made wrongly by a bug
    # must raise, not reach libsodium as a null or wild pointer (the process would die).
    bad = group.Point(encoding)  # type: ignore[arg-type]
    with pytest.raises((ValueError, TypeError)):
        group.add(group.GENERATOR, bad)
    with pytest.raises((ValueError, TypeError)):
        group.sub(bad, group.GENERATOR)
    with pytest.raises((ValueError, TypeError)):
        group.mul(5, bad)
    with pytest.raises((ValueError, TypeError)):
        group.mul_sub(2, group.GENERATOR, 3, bad)
