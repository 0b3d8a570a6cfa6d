"""The bodies of a secret poll's trustees: key generation and partial decryption.

    trustee_key     = [poll_id, transport_key]        (PROTOCOL.md 15.7)
    trustee_dealing = [poll_id, dealing]              (15.7)
    trustee_check   = [poll_id, [complaint, ...]]     (15.7; empty: every share matched)
    trustee_decrypt = [poll_id, partial_decryption]   (15.8)

The ballot-cryptography messages decode with ballotcrypto's own decoders, which refuse
every non-canonical point or scalar as a DecodeError, so a malformed one is a
malformed_body like any other. Their dict forms (JSON, TOML) carry each message as the
hex of its canonical encoding: a trustee's tool makes them, people do not type them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self, cast

from ballotcrypto.decryption import PartialDecryption
from ballotcrypto.dkg import Complaint, Dealing, TransportKey
from chain import encoding
from chain.errors import DecodeError
from votingcontract import dicts, limits
from votingcontract.body_base import HASH_SIZE, BodyBase, expect_hash


def _message_from_hex(text: Any, what: str) -> Any:
    data = dicts.as_hex(text, what)
    try:
        return encoding.decode(data)
    except DecodeError as exc:
        raise ValueError(f"{what}: {exc}") from exc


def _poll_id_from_dict(d: Any, kind: str, keys: tuple[str, ...]) -> bytes:
    dicts.check_keys(d, keys, f"{kind}.")
    return dicts.as_hex(dicts.field(d, "poll_id", kind), "poll_id", HASH_SIZE)


class _OneMessage(BodyBase):
    """A body [poll_id, message] whose message is one ballotcrypto message class:
    `FIELD` names the dataclass field holding it, `MESSAGE` is its class."""

    FIELD: ClassVar[str]
    MESSAGE: ClassVar[Any]
    poll_id: bytes

    def _message(self) -> Any:
        return getattr(self, self.FIELD)

    def to_value(self) -> list[Any]:
        return [self.poll_id, self._message().to_value()]

    @classmethod
    def from_value(cls, value: Any) -> Self:
        f = encoding.expect_list(value, 2, cls.KIND)
        return cls._make(expect_hash(f[0], f"{cls.KIND}.poll_id"), cls.MESSAGE.from_value(f[1]))

    @classmethod
    def _make(cls, poll_id: bytes, message: Any) -> Self:
        """The subclass's dataclass constructor, (poll_id, message)."""
        make: Any = cls
        return cast(Self, make(poll_id, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "poll_id": self.poll_id.hex(),
            self.FIELD: encoding.encode(self._message().to_value()).hex(),
        }

    @classmethod
    def parse_dict(cls, d: Any) -> Self:
        poll_id = _poll_id_from_dict(d, cls.KIND, ("poll_id", cls.FIELD))
        raw = _message_from_hex(dicts.field(d, cls.FIELD, cls.KIND), cls.FIELD)
        try:
            return cls._make(poll_id, cls.MESSAGE.from_value(raw))
        except DecodeError as exc:
            raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class TrusteeKey(_OneMessage):
    """Step 1 of the key generation: the trustee's transport key."""

    KIND = "trustee_key"
    FIELD = "transport_key"
    MESSAGE = TransportKey
    DICT_KEYS: ClassVar[tuple[str, ...]] = ("poll_id", "transport_key")
    poll_id: bytes
    transport_key: TransportKey


@dataclass(frozen=True)
class TrusteeDealing(_OneMessage):
    """Step 2: the trustee's commitments and its encrypted shares for every trustee."""

    KIND = "trustee_dealing"
    FIELD = "dealing"
    MESSAGE = Dealing
    DICT_KEYS: ClassVar[tuple[str, ...]] = ("poll_id", "dealing")
    poll_id: bytes
    dealing: Dealing


@dataclass(frozen=True)
class TrusteeCheck(BodyBase):
    """Step 3: the trustee has checked the shares dealt to it; a complaint names each
    dealer whose share did not match that dealer's commitments."""

    KIND = "trustee_check"
    DICT_KEYS: ClassVar[tuple[str, ...]] = ("poll_id", "complaints")
    poll_id: bytes
    complaints: tuple[Complaint, ...]

    def to_value(self) -> list[Any]:
        return [self.poll_id, [c.to_value() for c in self.complaints]]

    @classmethod
    def from_value(cls, value: Any) -> TrusteeCheck:
        f = encoding.expect_list(value, 2, cls.KIND)
        raw = encoding.expect_array(f[1], f"{cls.KIND}.complaints", limits.MAX_TRUSTEES)
        return cls(
            expect_hash(f[0], f"{cls.KIND}.poll_id"),
            tuple(Complaint.from_value(c) for c in raw),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "poll_id": self.poll_id.hex(),
            "complaints": [encoding.encode(c.to_value()).hex() for c in self.complaints],
        }

    @classmethod
    def parse_dict(cls, d: Any) -> TrusteeCheck:
        poll_id = _poll_id_from_dict(d, cls.KIND, cls.DICT_KEYS)
        items = dicts.as_list(dicts.optional(d, "complaints", cls.KIND, []), "complaints")
        try:
            return cls(
                poll_id,
                tuple(
                    Complaint.from_value(_message_from_hex(c, f"complaints[{i}]"))
                    for i, c in enumerate(items)
                ),
            )
        except DecodeError as exc:
            raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class TrusteeDecrypt(_OneMessage):
    """After close: the trustee's partial decryption of every ciphertext of the tally."""

    KIND = "trustee_decrypt"
    FIELD = "partial"
    MESSAGE = PartialDecryption
    DICT_KEYS: ClassVar[tuple[str, ...]] = ("poll_id", "partial")
    poll_id: bytes
    partial: PartialDecryption
