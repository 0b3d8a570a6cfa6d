"""Canonical encoding: the one place bytes are made from structures and back.

Every signed or hashed structure is a msgpack array of fields in a fixed order. Only
these types are allowed: int (-2**63 .. 2**64-1), bytes (bin family), str (str family,
UTF-8), bool, None, and arrays of them. Maps, floats and extension types are refused,
so there is no key order or float rounding to disagree on. msgpack already writes
every value in its smallest form; `decode` makes that a rule by re-encoding what it
read and comparing, so a non-minimal integer or length prefix is refused too.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgpack

from chain.errors import DecodeError

Value: TypeAlias = int | bytes | str | bool | list["Value"] | tuple["Value", ...] | None

MAX_DEPTH = 32
"""Deepest nesting of arrays allowed; votechain's structures use fewer than 8 levels."""


def encode(value: Value) -> bytes:
    """Return the canonical bytes of `value` (tuples and lists both become arrays)."""
    _check_encodable(value, 0)
    data: bytes = msgpack.packb(value, use_bin_type=True)
    return data


def decode(data: bytes) -> Any:
    """Decode canonical bytes; arrays come back as lists.

    Raises DecodeError on trailing bytes, maps, floats, extension types, invalid UTF-8,
    or any encoding that is not the canonical (smallest) one.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=True,
            ext_hook=_refuse_ext,
        )
    except DecodeError:
        raise
    except msgpack.ExtraData as exc:
        raise DecodeError("trailing bytes after the encoded value") from exc
    except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as exc:
        raise DecodeError(f"not valid msgpack: {exc}") from exc
    try:
        _check_encodable(value, 0)
    except DecodeError:
        raise
    if msgpack.packb(value, use_bin_type=True) != data:
        raise DecodeError("non-canonical encoding: re-encoding gives different bytes")
    return value


def _refuse_ext(code: int, data: bytes) -> Any:
    raise DecodeError(f"msgpack extension type {code} is not allowed")


def _check_encodable(value: Any, depth: int) -> None:
    """`depth` is the number of arrays around `value`."""
    if value is None or isinstance(value, bool | bytes | str):
        return
    if isinstance(value, int):
        if not -(2**63) <= value < 2**64:
            raise DecodeError(f"integer {value} is outside the 64-bit range")
        return
    if isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            raise DecodeError(f"arrays nested deeper than {MAX_DEPTH}")
        for item in value:
            _check_encodable(item, depth + 1)
        return
    if isinstance(value, dict):
        raise DecodeError("maps are not allowed in canonical structures")
    if isinstance(value, float):
        raise DecodeError("floats are not allowed in canonical structures")
    raise DecodeError(f"type {type(value).__name__} is not allowed in canonical structures")


# Field readers: decoders of each structure use these so every field error reads the same.


def expect_list(value: Any, length: int, what: str) -> list[Any]:
    """Return `value` if it is an array of exactly `length` items."""
    if not isinstance(value, list):
        raise DecodeError(f"{what}: expected an array, got {type(value).__name__}")
    if len(value) != length:
        raise DecodeError(f"{what}: expected {length} fields, got {len(value)}")
    return value


def expect_array(value: Any, what: str, max_items: int | None = None) -> list[Any]:
    """Return `value` if it is an array of any length up to `max_items`."""
    if not isinstance(value, list):
        raise DecodeError(f"{what}: expected an array, got {type(value).__name__}")
    if max_items is not None and len(value) > max_items:
        raise DecodeError(f"{what}: at most {max_items} items, got {len(value)}")
    return value


def expect_int(value: Any, what: str, minimum: int = 0, maximum: int = 2**64 - 1) -> int:
    """Return `value` if it is an integer (not a bool) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodeError(f"{what}: expected an integer, got {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise DecodeError(f"{what}: {value} is outside [{minimum}, {maximum}]")
    return value


def expect_bytes(
    value: Any, what: str, length: int | None = None, max_length: int | None = None
) -> bytes:
    """Return `value` if it is a byte string (of exactly `length` bytes when given)."""
    if not isinstance(value, bytes):
        raise DecodeError(f"{what}: expected bytes, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise DecodeError(f"{what}: expected {length} bytes, got {len(value)}")
    if max_length is not None and len(value) > max_length:
        raise DecodeError(f"{what}: at most {max_length} bytes, got {len(value)}")
    return value


def expect_str(value: Any, what: str, max_length: int | None = None) -> str:
    """Return `value` if it is a text string of at most `max_length` characters."""
    if not isinstance(value, str):
        raise DecodeError(f"{what}: expected a string, got {type(value).__name__}")
    if max_length is not None and len(value) > max_length:
        raise DecodeError(f"{what}: at most {max_length} characters, got {len(value)}")
    return value


def expect_bool(value: Any, what: str) -> bool:
    """Return `value` if it is a boolean."""
    if not isinstance(value, bool):
        raise DecodeError(f"{what}: expected a boolean, got {type(value).__name__}")
    return value
