"""Voter key status at a block time: the waiting period before a phone's key is replaced.

enroll_voter for a phone that already has a key does not switch keys at once: the new
key is stored as the phone's *replacement* with effective_at_ms = block time +
KEY_REPLACEMENT_DELAY_MS. Until then the old key stays active (and may cancel the
change); from then on the new key is active and the old one revoked.

Nothing is written when a replacement matures. Every rule and every query reads a phone
through `phone_at(record, now_ms)`, which treats a matured replacement as the active
key, and a key's status follows from its phone's record at that time. So the answer for
a given block time is the same whichever transaction asks first, and a transaction that
only reads writes nothing. The stored record is brought up to date by the next
transaction that rewrites the phone (enroll_voter or cancel_key_change), which writes
the phone as it reads at its block time plus its own change. docs/PROTOCOL.md 11.5
("Key status") states the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chain.state import StateView
from votingcontract.reasons import ReasonCode, Refused
from votingcontract.records import PhoneRecord, read_phone, read_voter_key

KeyStatusName = Literal["active", "pending", "revoked"]
"""A known voter key's status at a time (queries add "unknown" for keys never enrolled)."""


@dataclass(frozen=True)
class KeyAt:
    """A known voter key at one block time."""

    key: bytes
    phone_id: bytes
    status: KeyStatusName
    phone: PhoneRecord
    """The key's phone as it reads at that time (a matured replacement already active)."""


def phone_at(record: PhoneRecord, now_ms: int) -> PhoneRecord:
    """The phone's record as of `now_ms`: a replacement whose time has come is active."""
    pending = record.replacement
    if pending is None or now_ms < pending.effective_at_ms:
        return record
    return PhoneRecord(pending.key, pending.enrolled_height, record.enrollments, None)


def read_phone_at(state: StateView, phone_id: bytes, now_ms: int) -> PhoneRecord | None:
    record = read_phone(state, phone_id)
    return None if record is None else phone_at(record, now_ms)


def read_key_at(state: StateView, key: bytes, now_ms: int) -> KeyAt | None:
    """The status of `key` at `now_ms`; None if it was never enrolled.

    active: the phone's active key; pending: its replacement, not yet effective;
    revoked: any other key once enrolled for the phone (replaced, displaced by a later
    enrollment during the wait, or cancelled).
    """
    record = read_voter_key(state, key)
    if record is None:
        return None
    phone = read_phone_at(state, record.phone_id, now_ms)
    if phone is None:
        raise AssertionError("a voterkey/ record always names an enrolled phone")
    status: KeyStatusName = "revoked"
    if phone.active_key == key:
        status = "active"
    elif phone.replacement is not None and phone.replacement.key == key:
        status = "pending"
    return KeyAt(key, record.phone_id, status, phone)


def validate_key_is_active(key: KeyAt) -> None:
    """key_pending for a replacement still waiting; key_revoked for a replaced key."""
    if key.status == "pending":
        raise Refused(ReasonCode.KEY_PENDING)
    if key.status == "revoked":
        raise Refused(ReasonCode.KEY_REVOKED)
