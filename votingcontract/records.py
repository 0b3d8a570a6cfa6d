"""Records stored in state (see state_keys.py for where), and typed reads of them.

    OrgRecord           = [name, category, registered_height]
    OrgKeyRecord        = [org_id, active]
    PhoneRecord         = [active_key, enrolled_height, enrollments,
                           [new_key, enrolled_height, effective_at_ms] | nil]
    VoterKeyRecord      = [phone_id]
    PollRecord          = [create_poll value, creator_key, creator_phone_id | nil,
                           created_height, closes_at_ms, closed_early_at_ms | nil]
    BallotRecord        = [[[option_index, ...] per question], height, tx_id]
                          (weighted polls: [..., height, tx_id, weight])
    ParticipationRecord = [height, tx_id]

A PollRecord's create_poll value keeps the access flags but not the initial roll or
ticket lists (those live under rollphone/, rollkey/ and ticket/; a weighted roll keeps
its weights field, emptied, so the poll stays weighted); closes_at_ms is the current
closing time (extend_poll moves it).

A PhoneRecord's last field is the pending key replacement: a key enrolled for a phone
that already had one waits until effective_at_ms (voterkeys.py says how a record reads
at a given time). A VoterKeyRecord only ties a key to its phone, for good: whether the
key is active, pending or revoked follows from the phone's record, so no stored flag
can go stale when a replacement matures.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from chain import encoding
from chain.state import OverlayState, StateView
from votingcontract import state_keys
from votingcontract.poll_spec import CreatePoll

PollStatus = str
""""upcoming", "open" or "closed"."""


@dataclass(frozen=True)
class OrgRecord:
    name: str
    category: str
    registered_height: int

    def encode(self) -> bytes:
        return encoding.encode([self.name, self.category, self.registered_height])

    @classmethod
    def decode(cls, data: bytes) -> OrgRecord:
        f = encoding.expect_list(encoding.decode(data), 3, "org record")
        return cls(f[0], f[1], f[2])


@dataclass(frozen=True)
class OrgKeyRecord:
    org_id: str
    active: bool

    def encode(self) -> bytes:
        return encoding.encode([self.org_id, self.active])

    @classmethod
    def decode(cls, data: bytes) -> OrgKeyRecord:
        f = encoding.expect_list(encoding.decode(data), 2, "org key record")
        return cls(f[0], f[1])


@dataclass(frozen=True)
class Replacement:
    """A key enrolled for a phone that already had one, waiting to take over."""

    key: bytes
    enrolled_height: int
    effective_at_ms: int
    """Block time from which `key` is the phone's active key (enrollment + 24 h)."""

    def to_value(self) -> list[Any]:
        return [self.key, self.enrolled_height, self.effective_at_ms]


@dataclass(frozen=True)
class PhoneRecord:
    active_key: bytes
    enrolled_height: int
    """Height of the enrollment of active_key."""
    enrollments: int
    """Accepted enroll_voter transactions for this phone, pending ones included."""
    replacement: Replacement | None = None

    def encode(self) -> bytes:
        return encoding.encode(
            [
                self.active_key,
                self.enrolled_height,
                self.enrollments,
                None if self.replacement is None else self.replacement.to_value(),
            ]
        )

    @classmethod
    def decode(cls, data: bytes) -> PhoneRecord:
        f = encoding.expect_list(encoding.decode(data), 4, "phone record")
        if f[3] is None:
            return cls(f[0], f[1], f[2])
        r = encoding.expect_list(f[3], 3, "phone record replacement")
        return cls(f[0], f[1], f[2], Replacement(r[0], r[1], r[2]))


@dataclass(frozen=True)
class VoterKeyRecord:
    phone_id: bytes

    def encode(self) -> bytes:
        return encoding.encode([self.phone_id])

    @classmethod
    def decode(cls, data: bytes) -> VoterKeyRecord:
        f = encoding.expect_list(encoding.decode(data), 1, "voter key record")
        return cls(f[0])


@dataclass(frozen=True)
class PollRecord:
    poll_id: bytes
    spec: CreatePoll
    creator_key: bytes
    creator_phone_id: bytes | None
    created_height: int
    closes_at_ms: int
    closed_early_at_ms: int | None

    def status(self, now_ms: int) -> PollStatus:
        """ "closed" once closed early or at closes_at; "upcoming" before opens_at."""
        if self.closed_early_at_ms is not None or now_ms >= self.closes_at_ms:
            return "closed"
        if now_ms < self.spec.opens_at_ms:
            return "upcoming"
        return "open"

    def encode(self) -> bytes:
        return encoding.encode(
            [
                self.spec.to_value(),
                self.creator_key,
                self.creator_phone_id,
                self.created_height,
                self.closes_at_ms,
                self.closed_early_at_ms,
            ]
        )

    @classmethod
    def decode(cls, poll_id: bytes, data: bytes) -> PollRecord:
        f = encoding.expect_list(encoding.decode(data), 6, "poll record")
        return cls(poll_id, CreatePoll.from_value(f[0]), f[1], f[2], f[3], f[4], f[5])

    def to_dict(self, now_ms: int | None = None) -> dict[str, Any]:
        d = self.spec.to_dict()
        d.update(
            poll_id=self.poll_id.hex(),
            creator_key=self.creator_key.hex(),
            creator_phone_id=None if self.creator_phone_id is None else self.creator_phone_id.hex(),
            created_height=self.created_height,
            closes_at_ms=self.closes_at_ms,
            closed_early_at_ms=self.closed_early_at_ms,
            weighted=self.spec.access.roll_weights is not None,
            choices="public" if self.spec.secret is None else "secret",
        )
        if now_ms is not None:
            d["status"] = self.status(now_ms)
        return d


def stored_spec(spec: CreatePoll) -> CreatePoll:
    """The create_poll body as kept in the PollRecord: initial lists stripped."""
    a = spec.access
    access = replace(
        a,
        roll=None if a.roll is None else ((), ()),
        tickets=None if a.tickets is None else (),
        roll_weights=None if a.roll_weights is None else ((), ()),
    )
    return replace(spec, access=access)


@dataclass(frozen=True)
class BallotRecord:
    selections: tuple[tuple[int, ...], ...]
    height: int
    tx_id: bytes
    weight: int | None = None
    """The voter's weight in a weighted poll, kept so a revote takes back exactly what
    this ballot added; None in every other poll (whose records keep their 3 fields)."""
    ciphertexts: bytes | None = None
    """A secret poll's ballot: its option ciphertexts (64 bytes each, in order), kept so
    a revote takes them out of the encrypted tally; its selections are then ()."""

    def encode(self) -> bytes:
        fields: list[Any] = [
            [list(s) for s in self.selections],
            self.height,
            self.tx_id,
            self.weight,
            self.ciphertexts,
        ]
        return encoding.encode(encoding.without_nil_tail(fields, 3))

    @classmethod
    def decode(cls, data: bytes) -> BallotRecord:
        f = encoding.expect_list_with_tail(encoding.decode(data), 3, 2, "ballot record")
        return cls(tuple(tuple(s) for s in f[0]), f[1], f[2], f[3], f[4])


@dataclass(frozen=True)
class ParticipationRecord:
    """One entry of a voter's history: provable with the receipt of tx_id at height."""

    voter_id: bytes
    poll_id: bytes
    height: int
    tx_id: bytes

    def encode(self) -> bytes:
        return encoding.encode([self.height, self.tx_id])

    @classmethod
    def decode(cls, voter_id: bytes, poll_id: bytes, data: bytes) -> ParticipationRecord:
        f = encoding.expect_list(encoding.decode(data), 2, "participation record")
        return cls(voter_id, poll_id, f[0], f[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "phone_id": self.voter_id.hex(),
            "poll_id": self.poll_id.hex(),
            "height": self.height,
            "tx_id": self.tx_id.hex(),
        }


# Typed reads and the two counter writes, shared by the rules and the queries.


def read_poll(state: StateView, poll_id: bytes) -> PollRecord | None:
    data = state.get(state_keys.poll(poll_id))
    return None if data is None else _decode_poll(poll_id, data)


DECODED_POLLS_KEPT = 64
"""Decoded poll records remembered by their bytes (each at most a 64 KiB transaction's
worth): every ballot reads its poll, and a block's ballots mostly name a few polls."""


@functools.lru_cache(maxsize=DECODED_POLLS_KEPT)
def _decode_poll(poll_id: bytes, data: bytes) -> PollRecord:
    """PollRecord.decode, remembered. Keyed by the stored bytes themselves, so a write
    that changes the record is a new key: nothing to invalidate, and the answer is the
    one decoding would give (a PollRecord is immutable, so sharing it is safe). A
    record that fails to decode raises each time (lru_cache keeps no exceptions)."""
    return PollRecord.decode(poll_id, data)


def read_org(state: StateView, org_id: str) -> OrgRecord | None:
    data = state.get(state_keys.org(org_id))
    return None if data is None else OrgRecord.decode(data)


def read_org_key(state: StateView, key: bytes) -> OrgKeyRecord | None:
    data = state.get(state_keys.org_key(key))
    return None if data is None else OrgKeyRecord.decode(data)


def read_phone(state: StateView, phone_id: bytes) -> PhoneRecord | None:
    data = state.get(state_keys.phone(phone_id))
    return None if data is None else PhoneRecord.decode(data)


def read_voter_key(state: StateView, key: bytes) -> VoterKeyRecord | None:
    data = state.get(state_keys.voter_key(key))
    return None if data is None else VoterKeyRecord.decode(data)


def read_ballot(state: StateView, poll_id: bytes, voter_id: bytes) -> BallotRecord | None:
    data = state.get(state_keys.ballot(poll_id, voter_id))
    return None if data is None else BallotRecord.decode(data)


def read_count(state: StateView, key: bytes) -> int:
    """A counter value; an absent key is 0."""
    data = state.get(key)
    if data is None:
        return 0
    return encoding.expect_int(encoding.decode(data), "counter")


def add_to_count(state: OverlayState, key: bytes, delta: int) -> None:
    """Add `delta` to a counter; a counter that reaches 0 is deleted (absent means 0)."""
    value = read_count(state, key) + delta
    if value < 0:
        raise AssertionError(f"counter {key!r} would go negative")
    if value == 0:
        state.delete(key)
    else:
        state.set(key, encoding.encode(value))


def is_set(state: StateView, key: bytes) -> bool:
    return state.get(key) is not None


TRUE = encoding.encode(True)
"""The value of membership keys (admin/, rollphone/, rollkey/, citizenopen/)."""
