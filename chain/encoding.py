"""Canonical encoding: the one place bytes are made from structures and back.

Every signed or hashed structure is a msgpack array of fields in a fixed order. Only
these types are allowed: int (-2**63 .. 2**64-1), bytes (bin family), str (str family,
UTF-8), bool, None, and arrays of them. Maps, floats and extension types are refused,
so there is no key order or float rounding to disagree on. msgpack already writes
every value in its smallest form; `decode` makes that a rule by re-encoding what it
read and comparing, so a non-minimal integer or length prefix is refused too.

The type rules are checked one array at a time (`_is_plainly_encodable`: the set of
item types, built in C), not one item at a time: a block of 10,000 transactions is
checked with one Python step per array. Anything that check does not clear goes to
the item-by-item `_check_encodable`, which gives the error; both accept the same values.
Integer subclasses (the IntEnum kinds and domains that lead consensus messages and
records) pass the per-array check too: msgpack packs them as the integers they are, and
before issue 13 one such tag sent a whole record, block included, item by item.

`array_spans` gives the byte ranges of an encoded array's items, so a decoder can keep
the raw bytes of each part (a transaction's tx_id is hashed from the bytes it arrived
in, never from a re-encoding).
"""

from __future__ import annotations

import itertools
from typing import Any, TypeAlias

import msgpack

from chain.errors import DecodeError

Value: TypeAlias = int | bytes | str | bool | list["Value"] | tuple["Value", ...] | None

MAX_DEPTH = 32
"""Deepest nesting of arrays allowed; votechain's structures use fewer than 8 levels."""


_PACKER = msgpack.Packer(use_bin_type=True)
"""One packer for every plain value (msgpack.packb builds a new one per call). Shared by
threads safely: it is used only for values of the exact built-in types and int
subclasses, which it packs in C without running Python code (an int subclass's digits
are read directly, no __index__ or __int__ is called), so the GIL is never given up
inside one pack()."""


def encode(value: Value) -> bytes:
    """Return the canonical bytes of `value` (tuples and lists both become arrays)."""
    plain = _is_plainly_encodable(value)
    if not plain:
        _check_encodable(value, 0)
    try:
        data: bytes = _PACKER.pack(value) if plain else msgpack.packb(value, use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        # _is_plainly_encodable does not look at integer ranges: let the full check
        # name the value (it raises DecodeError); anything else is a real bug.
        _check_encodable(value, 0)
        raise
    return data


def encode_pairs(pairs: list[tuple[bytes, bytes | None]]) -> bytes:
    """encode([[key, value], ...]) for byte keys and byte-or-nil values (a block's write
    set), with the types checked in C over the whole list instead of once per pair."""
    if (
        set(map(type, pairs)) <= {tuple}
        and set(map(len, pairs)) <= {2}
        and set(map(type, itertools.chain.from_iterable(pairs))) <= _PAIR_ITEM_TYPES
    ):
        data: bytes = _PACKER.pack(pairs)
        return data
    return encode([list(pair) for pair in pairs])


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
    if not _is_plainly_encodable(value):
        _check_encodable(value, 0)
    if _PACKER.pack(value) != data:
        raise DecodeError("non-canonical encoding: re-encoding gives different bytes")
    return value


def array_spans(data: bytes, start: int = 0) -> list[tuple[int, int]]:
    """The (start, end) byte offsets in `data` of each item of the array that begins at
    offset `start`. `data` must already have been decoded (checked) by `decode`: this
    only walks it, so a sub-value's raw bytes are data[start:end] without re-encoding."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=max(len(data), 1))
    unpacker.feed(memoryview(data)[start:])
    try:
        count = unpacker.read_array_header()
        spans = []
        for _ in range(count):
            begin = unpacker.tell()
            unpacker.skip()
            spans.append((start + begin, start + unpacker.tell()))
    except (msgpack.OutOfData, ValueError, TypeError, msgpack.UnpackException) as exc:
        raise DecodeError(f"not an encoded array at offset {start}: {exc}") from exc
    return spans


def _refuse_ext(code: int, data: bytes) -> Any:
    raise DecodeError(f"msgpack extension type {code} is not allowed")


_PLAIN_TYPES = frozenset({int, bytes, str, bool, type(None), list, tuple})
"""Exact types a canonical value may hold (subclasses go to the full check)."""
_ARRAY_TYPES = frozenset({list, tuple})
_SCALAR_TYPES = _PLAIN_TYPES - _ARRAY_TYPES
_PAIR_ITEM_TYPES = frozenset({bytes, type(None)})


def _is_plainly_encodable(value: Any) -> bool:
    """True if `value` and everything in it are of _PLAIN_TYPES or int subclasses
    (integer ranges aside: msgpack refuses those when packing) and no array is nested
    deeper than MAX_DEPTH. False means "not sure": the caller runs _check_encodable.
    """
    kind = type(value)
    if kind is not list and kind is not tuple:
        return kind in _PLAIN_TYPES or _are_int_subclasses({kind})
    return _is_plain_array(value, 0)


def _is_plain_array(array: list[Any] | tuple[Any, ...], depth: int) -> bool:
    """One Python step per array, not per item: `set(map(type, array))` runs in C."""
    if depth >= MAX_DEPTH:
        return False
    types = set(map(type, array))
    if types <= _SCALAR_TYPES:
        return True  # a flat array: most records, fields and bodies
    if not types <= _PLAIN_TYPES and not _are_int_subclasses(types - _PLAIN_TYPES):
        return False
    if not types & _ARRAY_TYPES:
        return True  # scalars and integer tags, no arrays inside
    for item in array:
        kind = type(item)
        if (kind is list or kind is tuple) and not _is_plain_array(item, depth + 1):
            return False
    return True


def _are_int_subclasses(kinds: set[type]) -> bool:
    """True if every type is a subclass of int (bool is final; IntEnum and friends are
    what msgpack packs, in C, as the plain integer they hold)."""
    return all(issubclass(kind, int) for kind in kinds)


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


def expect_list_with_tail(value: Any, required: int, optional: int, what: str) -> list[Any]:
    """Return `value`, an array of `required` fields and up to `optional` more, padded
    with nil to `required + optional` items.

    An optional field added to a structure later goes at its end, so what was written
    before still decodes the same. To keep one encoding per value, a trailing optional
    field that is nil is left out: the last item of a longer array may not be nil.
    """
    if not isinstance(value, list):
        raise DecodeError(f"{what}: expected an array, got {type(value).__name__}")
    if not required <= len(value) <= required + optional:
        raise DecodeError(
            f"{what}: expected {required} to {required + optional} fields, got {len(value)}"
        )
    if len(value) > required and value[-1] is None:
        raise DecodeError(f"{what}: a trailing optional field is nil; leave it out")
    return value + [None] * (required + optional - len(value))


def without_nil_tail(fields: list[Any], required: int) -> list[Any]:
    """`fields` with the nil optional fields at its end left out (expect_list_with_tail)."""
    end = len(fields)
    while end > required and fields[end - 1] is None:
        end -= 1
    return fields[:end]


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
