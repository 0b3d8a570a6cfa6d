"""The canonical bytes of the trustees' messages, and back.

Each message type (dkg.TransportKey, dkg.Dealing, dkg.Complaint,
decryption.PartialDecryption) knows its field array (`to_value`, `from_value`); these
two functions add chain.encoding's canonical msgpack around it, so bytes that are not
the one encoding of a well-formed message are a DecodeError naming what is wrong.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

from chain.encoding import Value, decode, encode


class Message(Protocol):
    def to_value(self) -> list[Value]: ...

    @classmethod
    def from_value(cls, value: Any) -> Self: ...


M = TypeVar("M", bound=Message)


def to_bytes(message: Message) -> bytes:
    return encode(message.to_value())


def from_bytes(kind: type[M], data: bytes) -> M:
    """The message of type `kind` that `data` encodes, or DecodeError."""
    return kind.from_value(decode(data))
