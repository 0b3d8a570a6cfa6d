"""What every transaction body shares: canonical bytes, strict decoding, dict forms.

A body is a frozen dataclass whose `to_value()` is a fixed-order array (no maps) and
whose `from_value()` reads it back with chain.encoding's `expect_*` readers, raising
DecodeError on any wrong field count, type or limit. `decode` adds chain.encoding's
canonical-bytes rule. `from_dict` builds a body from plain JSON/TOML data and then
round-trips it through the canonical form, so a dict body obeys exactly the limits a
decoded one does and fails with a ValueError that names the field.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from chain import encoding
from chain.errors import DecodeError
from chain.keys import PUBLIC_KEY_SIZE

HASH_SIZE = 32
"""Poll ids and phone ids are 32 bytes."""


class BodyBase:
    """Mixin for body dataclasses; subclasses define KIND, to_value, from_value, dicts."""

    KIND: ClassVar[str]

    def to_value(self) -> list[Any]:
        raise NotImplementedError

    @classmethod
    def from_value(cls, value: Any) -> Self:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def parse_dict(cls, d: Any) -> Self:
        """Build from a dict without limit checks; `from_dict` adds them."""
        raise NotImplementedError

    def encode(self) -> bytes:
        return encoding.encode(self.to_value())

    @classmethod
    def decode(cls, data: bytes) -> Self:
        return cls.from_value(encoding.decode(data))

    @classmethod
    def from_dict(cls, d: Any) -> Self:
        """A body from plain JSON/TOML data; ValueError names the first bad field."""
        body = cls.parse_dict(d)
        try:
            return cls.decode(body.encode())
        except DecodeError as exc:
            raise ValueError(str(exc)) from exc


def expect_key(value: Any, what: str) -> bytes:
    """A 32-byte Ed25519 public key."""
    return encoding.expect_bytes(value, what, PUBLIC_KEY_SIZE)


def expect_hash(value: Any, what: str) -> bytes:
    """A 32-byte id (poll id, phone id)."""
    return encoding.expect_bytes(value, what, HASH_SIZE)


def expect_key_list(value: Any, what: str, max_items: int) -> tuple[bytes, ...]:
    items = encoding.expect_array(value, what, max_items)
    return tuple(expect_key(item, f"{what}[{i}]") for i, item in enumerate(items))


def expect_hash_list(value: Any, what: str, max_items: int) -> tuple[bytes, ...]:
    items = encoding.expect_array(value, what, max_items)
    return tuple(expect_hash(item, f"{what}[{i}]") for i, item in enumerate(items))


def expect_choice(value: Any, what: str, allowed: tuple[str, ...]) -> str:
    text = encoding.expect_str(value, what, 64)
    if text not in allowed:
        raise DecodeError(f"{what}: {text!r} is not one of {', '.join(allowed)}")
    return text
