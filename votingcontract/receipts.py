"""Receipts: what executing one transaction produced.

    receipt = [tx_id, position, code, poll_id | nil]

code is "accepted" or a ReasonCode value. poll_id is set for every transaction that
names a poll and whose body decoded (close_poll, extend_poll, extend_roll,
issue_tickets, cast_ballot), and for an accepted create_poll (the new poll's id, its
tx_id); otherwise nil. A block's receipts root is chain.merkle.merkle_root of its
receipts' encodings in transaction order; the next block's header carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chain import encoding
from chain.errors import DecodeError
from chain.hashing import HASH_SIZE
from votingcontract.reasons import ACCEPTED, ReasonCode, describe

CODES = frozenset([ACCEPTED, *(r.value for r in ReasonCode)])


@dataclass(frozen=True)
class Receipt:
    tx_id: bytes
    position: int
    """Index of the transaction in its block."""
    code: str
    poll_id: bytes | None = None

    @property
    def accepted(self) -> bool:
        return self.code == ACCEPTED

    def to_value(self) -> list[Any]:
        return [self.tx_id, self.position, self.code, self.poll_id]

    def encode(self) -> bytes:
        return encoding.encode(self.to_value())

    @classmethod
    def from_value(cls, value: Any) -> Receipt:
        f = encoding.expect_list(value, 4, "receipt")
        code = encoding.expect_str(f[2], "receipt.code", 32)
        if code not in CODES:
            raise DecodeError(f"receipt.code: unknown code {code!r}")
        return cls(
            tx_id=encoding.expect_bytes(f[0], "receipt.tx_id", HASH_SIZE),
            position=encoding.expect_int(f[1], "receipt.position"),
            code=code,
            poll_id=None
            if f[3] is None
            else encoding.expect_bytes(f[3], "receipt.poll_id", HASH_SIZE),
        )

    @classmethod
    def decode(cls, data: bytes) -> Receipt:
        return cls.from_value(encoding.decode(data))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tx_id": self.tx_id.hex(),
            "position": self.position,
            "code": self.code,
            "accepted": self.accepted,
            "description": describe(self.code),
            "poll_id": None if self.poll_id is None else self.poll_id.hex(),
        }
