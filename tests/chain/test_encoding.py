"""Canonical encoding (docs/PROTOCOL.md section 1): round trips and strict refusal.

Every structure votechain hashes or signs goes through chain.encoding, so two honest
implementations must agree on exactly one byte string per value: anything else a
decoder accepts is a second encoding an attacker can use to change a hash without
changing the meaning.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain.encoding import MAX_DEPTH, decode, encode
from chain.errors import DecodeError

INT_MIN, INT_MAX = -(2**63), 2**64 - 1

scalars = (
    st.none()
    | st.booleans()
    | st.integers(INT_MIN, INT_MAX)
    | st.binary(max_size=300)
    | st.text(max_size=300)
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=20), max_leaves=40)

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same(a: Any, b: Any) -> bool:
    """Equality that also tells True from 1 and tuples from lists of equal items."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


# --- round trips -----------------------------------------------------------------------


@SETTINGS
@given(values)
def test_decode_inverts_encode_for_every_allowed_value(value: Any) -> None:
    data = encode(value)
    decoded = decode(data)
    assert same(decoded, value)
    assert encode(decoded) == data


@pytest.mark.parametrize(
    "value",
    [
        INT_MIN,
        INT_MAX,
        -33,
        -32,
        127,
        128,
        255,
        256,
        2**16,
        2**32,
        "",
        "x" * 31,
        "x" * 32,
        "é" * 200,
        b"",
        b"\0" * 256,
        [None] * 15,
        [None] * 16,
        [0] * 70_000,
    ],
    ids=lambda v: repr(v)[:20],
)
def test_round_trip_at_msgpack_format_boundaries(value: Any) -> None:
    assert same(decode(encode(value)), value)


def test_tuples_encode_as_arrays_and_decode_as_lists() -> None:
    assert encode((1, (b"a", "b"))) == encode([1, [b"a", "b"]])
    assert decode(encode((1, (True,)))) == [1, [True]]


def test_bytes_and_text_stay_distinct() -> None:
    assert decode(encode(b"abc")) == b"abc"
    assert decode(encode("abc")) == "abc"
    assert encode(b"abc") != encode("abc")


# --- strict refusal --------------------------------------------------------------------


def refused(data: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode(data)
    return info.value


@SETTINGS
@given(values, st.binary(min_size=1, max_size=8))
def test_trailing_bytes_are_refused(value: Any, extra: bytes) -> None:
    refused(encode(value) + extra)


@SETTINGS
@given(values)
def test_truncated_input_is_refused(value: Any) -> None:
    data = encode(value)
    for cut in {0, len(data) // 2, len(data) - 1}:
        refused(data[:cut])


@pytest.mark.parametrize(
    "data",
    [
        b"\x80",  # fixmap, empty
        b"\x81\xa1k\x01",  # {"k": 1}
        b"\xde\x00\x00",  # map16, empty
        b"\xdf\x00\x00\x00\x00",  # map32, empty
        b"\x91\x81\xa1k\x01",  # a map inside an array
        b"\x81\x90\x01",  # a map with an array key
    ],
)
def test_maps_are_refused(data: bytes) -> None:
    refused(data)


@pytest.mark.parametrize(
    "data",
    [b"\xca" + struct.pack(">f", 1.5), b"\xcb" + struct.pack(">d", 1.5), b"\xcb" + bytes(8)],
)
def test_floats_are_refused(data: bytes) -> None:
    refused(data)


@pytest.mark.parametrize(
    "data",
    [
        b"\xd4\x01\x00",  # fixext 1
        b"\xd5\x05\x00\x00",  # fixext 2
        b"\xc7\x00\x05",  # ext 8, empty
        b"\xd6\xff\x00\x00\x00\x01",  # the msgpack timestamp extension
        b"\xd5\xff\x00\x00",  # a timestamp of a length msgpack itself refuses
        b"\xc1",  # the byte msgpack never uses
    ],
)
def test_extension_types_and_reserved_bytes_are_refused(data: bytes) -> None:
    refused(data)


@pytest.mark.parametrize(
    "utf8",
    [
        b"\xff",  # never valid
        b"\xc3\x28",  # a lead byte without its continuation
        b"\xc0\x80",  # overlong encoding of NUL
        b"\xed\xa0\x80",  # a UTF-16 surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
    ],
)
def test_invalid_utf8_in_a_string_is_refused(utf8: bytes) -> None:
    refused(bytes([0xA0 | len(utf8)]) + utf8)


@pytest.mark.parametrize("value", [INT_MAX + 1, INT_MIN - 1, 2**100, -(2**100)])
def test_integers_outside_the_64_bit_range_cannot_be_encoded(value: int) -> None:
    with pytest.raises(DecodeError, match="outside the 64-bit range"):
        encode(value)
    with pytest.raises(DecodeError):
        encode([1, [value]])


@pytest.mark.parametrize("value", [1.0, {}, {"a": 1}, bytearray(b"x"), object(), {1, 2}])
def test_values_of_other_types_cannot_be_encoded(value: Any) -> None:
    with pytest.raises(DecodeError):
        encode([value])


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_nesting_up_to_the_limit_round_trips() -> None:
    value = nested(MAX_DEPTH)
    assert decode(encode(value)) == value
    with_scalar = decode(b"\x91" * MAX_DEPTH + b"\x01")
    for _ in range(MAX_DEPTH):
        (with_scalar,) = with_scalar
    assert with_scalar == 1


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, MAX_DEPTH + 2, 2_000, 100_000])
def test_nesting_deeper_than_the_limit_is_refused(depth: int) -> None:
    """PROTOCOL.md: "Nesting deeper than 32 arrays is refused" -- by both directions."""
    refused(b"\x91" * (depth - 1) + b"\x90")
    if depth < 1_000:
        with pytest.raises(DecodeError):
            encode(nested(depth))


def test_input_that_is_not_bytes_is_refused() -> None:
    with pytest.raises(DecodeError, match="expected bytes"):
        decode("\x90")  # type: ignore[arg-type]


# Non-canonical forms, built by hand: the same value in a wider msgpack format than the
# shortest one. Each pair is (canonical bytes, a longer encoding of the same value).
NON_CANONICAL = {
    "5 as uint8": (b"\x05", b"\xcc\x05"),
    "5 as uint16": (b"\x05", b"\xcd\x00\x05"),
    "5 as uint32": (b"\x05", b"\xce\x00\x00\x00\x05"),
    "5 as uint64": (b"\x05", b"\xcf" + struct.pack(">Q", 5)),
    "5 as int8": (b"\x05", b"\xd0\x05"),
    "5 as int64": (b"\x05", b"\xd3" + struct.pack(">q", 5)),
    "-1 as int8": (b"\xff", b"\xd0\xff"),
    "-1 as int16": (b"\xff", b"\xd1\xff\xff"),
    "200 as uint16": (b"\xcc\xc8", b"\xcd\x00\xc8"),
    "200 as int16": (b"\xcc\xc8", b"\xd1\x00\xc8"),
    "300 as uint32": (b"\xcd\x01\x2c", b"\xce\x00\x00\x01\x2c"),
    "-100 as int16": (b"\xd0\x9c", b"\xd1\xff\x9c"),
    "-1000 as int32": (b"\xd1\xfc\x18", b"\xd2\xff\xff\xfc\x18"),
    "2**32 as int64": (b"\xcf" + struct.pack(">Q", 2**32), b"\xd3" + struct.pack(">q", 2**32)),
    "'a' as str8": (b"\xa1a", b"\xd9\x01a"),
    "'a' as str16": (b"\xa1a", b"\xda\x00\x01a"),
    "'a' as str32": (b"\xa1a", b"\xdb\x00\x00\x00\x01a"),
    "40-char str as str16": (b"\xd9\x28" + b"x" * 40, b"\xda\x00\x28" + b"x" * 40),
    "b'x' as bin16": (b"\xc4\x01x", b"\xc5\x00\x01x"),
    "b'x' as bin32": (b"\xc4\x01x", b"\xc6\x00\x00\x00\x01x"),
    "300 bytes as bin32": (b"\xc5\x01\x2c" + bytes(300), b"\xc6\x00\x00\x01\x2c" + bytes(300)),
    "[1] as array16": (b"\x91\x01", b"\xdc\x00\x01\x01"),
    "[1] as array32": (b"\x91\x01", b"\xdd\x00\x00\x00\x01\x01"),
    "16 nils as array32": (b"\xdc\x00\x10" + b"\xc0" * 16, b"\xdd\x00\x00\x00\x10" + b"\xc0" * 16),
    "non-canonical inside an array": (b"\x92\x01\xa1a", b"\x92\x01\xd9\x01a"),
}


@pytest.mark.parametrize("name", NON_CANONICAL)
def test_a_wider_encoding_of_a_value_is_refused(name: str) -> None:
    canonical, wide = NON_CANONICAL[name]
    value = decode(canonical)
    assert encode(value) == canonical
    error = refused(wide)
    assert "non-canonical" in str(error)


# --- fuzzing: decode never raises anything but DecodeError -----------------------------


def decodes_canonically_or_refuses(data: bytes) -> None:
    try:
        value = decode(data)
    except DecodeError:
        return
    assert encode(value) == data


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=64))
def test_decode_of_random_bytes_is_canonical_or_refused(data: bytes) -> None:
    decodes_canonically_or_refuses(data)


@SETTINGS
@given(values, st.data())
def test_decode_of_a_mutated_encoding_is_canonical_or_refused(value: Any, data: Any) -> None:
    encoded = bytearray(encode(value))
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(encoded) - 1))
        encoded[position] = data.draw(st.integers(0, 255))
    decodes_canonically_or_refuses(bytes(encoded))
