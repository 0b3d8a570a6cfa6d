"""Read-only queries for the RPC, the CLI, the web UI and the verifier.

Each is a pure function of a StateView (plus `now_ms`, the time to judge a poll's
status by: the node passes its latest block's timestamp). They return frozen
dataclasses with to_dict() for JSON. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chain import encoding
from chain.hashing import HASH_SIZE
from chain.state import StateView
from votingcontract import secret_polls, state_keys
from votingcontract.records import (
    OrgKeyRecord,
    OrgRecord,
    ParticipationRecord,
    PollRecord,
    read_count,
    read_org,
    read_poll,
    read_voter_key,
)
from votingcontract.results import PollResults, calculate_results
from votingcontract.voterkeys import read_key_at, read_phone_at

POLL_STATUSES = ("upcoming", "open", "closed")


@dataclass(frozen=True)
class OrgInfo:
    org_id: str
    name: str
    category: str
    registered_height: int
    keys: tuple[tuple[bytes, bool], ...]
    """(key, active) for every key the organisation has held, in key order."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "name": self.name,
            "category": self.category,
            "registered_height": self.registered_height,
            "keys": [{"key": k.hex(), "active": active} for k, active in self.keys],
        }


@dataclass(frozen=True)
class VoterInfo:
    phone_id: bytes
    active_key: bytes
    enrolled_height: int
    enrollments: int
    pending_key: bytes | None = None
    """A replacement key waiting to become active (see voterkeys.py)."""
    pending_effective_at_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "phone_id": self.phone_id.hex(),
            "active_key": self.active_key.hex(),
            "enrolled_height": self.enrolled_height,
            "enrollments": self.enrollments,
        }
        if self.pending_key is not None:
            d["pending_key"] = self.pending_key.hex()
            d["pending_effective_at_ms"] = self.pending_effective_at_ms
        return d


@dataclass(frozen=True)
class KeyStatus:
    """A voter key's status at a block time. It names no phone_id: the public RPC shows
    it, and a key must not lead to the person behind it (issue 9, finding 2)."""

    voter_key: bytes
    status: str
    """"active", "pending", "revoked" or "unknown" (never enrolled)."""
    effective_at_ms: int | None = None
    """For a pending key: the block time from which it is active."""
    replacement_pending_until_ms: int | None = None
    """For an active key: a new key was enrolled for its phone and replaces it at this
    block time, unless this key sends cancel_key_change first (the notice)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"voter_key": self.voter_key.hex(), "status": self.status}
        if self.effective_at_ms is not None:
            d["effective_at_ms"] = self.effective_at_ms
        if self.replacement_pending_until_ms is not None:
            d["replacement_pending_until_ms"] = self.replacement_pending_until_ms
        return d


@dataclass(frozen=True)
class Stats:
    """The operating report: counters kept in state by the rules."""

    orgs: int
    voters: int
    polls_policy: int
    polls_citizen: int
    ballots: int
    """Accepted ballots, revotes included."""
    participations: int
    """Distinct (poll, voter) pairs with a counted ballot."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "orgs": self.orgs,
            "voters": self.voters,
            "polls": self.polls_policy + self.polls_citizen,
            "polls_policy": self.polls_policy,
            "polls_citizen": self.polls_citizen,
            "ballots": self.ballots,
            "participations": self.participations,
        }


def get_poll(state: StateView, poll_id: bytes) -> PollRecord | None:
    return read_poll(state, poll_id)


def list_polls(
    state: StateView,
    now_ms: int,
    status: str | None = None,
    org_id: str | None = None,
    creator: bytes | None = None,
    kind: str | None = None,
    id_prefix: str | None = None,
) -> list[PollRecord]:
    """Polls matching every filter given, newest first (by creation height, then id).

    status: "upcoming", "open" or "closed" at now_ms. creator: the creating key, or
    for citizen polls also the creator's phone_id. id_prefix: lower-case hex the poll
    id starts with (a shortened id as people type it); only those polls are read.
    """
    if status is not None and status not in POLL_STATUSES:
        raise ValueError(f"status must be one of {', '.join(POLL_STATUSES)}, got {status!r}")
    scan = state_keys.POLL
    if id_prefix is not None:
        if len(id_prefix) > 2 * HASH_SIZE or not all(c in "0123456789abcdef" for c in id_prefix):
            raise ValueError(f"id_prefix must be at most {2 * HASH_SIZE} lower-case hex digits")
        scan += bytes.fromhex(id_prefix[: len(id_prefix) // 2 * 2])
    found = []
    for key, value in state.items(scan):
        poll_id = key[len(state_keys.POLL) :]
        if id_prefix is not None and not poll_id.hex().startswith(id_prefix):
            continue
        poll = PollRecord.decode(poll_id, value)
        if status is not None and poll.status(now_ms) != status:
            continue
        if org_id is not None and (poll.spec.kind != "policy" or poll.spec.org_id != org_id):
            continue
        if creator is not None and creator not in (poll.creator_key, poll.creator_phone_id):
            continue
        if kind is not None and poll.spec.kind != kind:
            continue
        found.append(poll)
    found.sort(key=lambda p: (-p.created_height, p.poll_id))
    return found


def results(state: StateView, poll_id: bytes, now_ms: int) -> PollResults | None:
    """Results of a poll (None if unknown); counts only where its visibility allows."""
    poll = read_poll(state, poll_id)
    return None if poll is None else calculate_results(state, poll, now_ms)


def participation_history(state: StateView, phone_id: bytes) -> list[ParticipationRecord]:
    """Every poll the phone (or ticket) voted in, oldest first, with the counted ballot's
    height and tx_id: enough to fetch its receipt and Merkle proof from any node."""
    prefix = state_keys.participation_prefix(phone_id)
    entries = [
        ParticipationRecord.decode(phone_id, key[len(prefix) :], value)
        for key, value in state.items(prefix)
    ]
    entries.sort(key=lambda e: (e.height, e.poll_id))
    return entries


def stats(state: StateView) -> Stats:
    counts = {name: read_count(state, state_keys.stat(name)) for name in state_keys.STAT_NAMES}
    return Stats(**counts)


def phone_id_of_key(state: StateView, voter_key: bytes) -> bytes | None:
    """The phone_id a voter key is (or was) enrolled for; None for an unknown key."""
    record = read_voter_key(state, voter_key)
    return None if record is None else record.phone_id


def voter_info(state: StateView, phone_id: bytes, now_ms: int) -> VoterInfo | None:
    """The phone's keys as they stand at `now_ms` (a matured replacement is active)."""
    record = read_phone_at(state, phone_id, now_ms)
    if record is None:
        return None
    pending = record.replacement
    return VoterInfo(
        phone_id,
        record.active_key,
        record.enrolled_height,
        record.enrollments,
        None if pending is None else pending.key,
        None if pending is None else pending.effective_at_ms,
    )


def is_voter_key_active(state: StateView, voter_key: bytes, now_ms: int) -> bool:
    key = read_key_at(state, voter_key, now_ms)
    return key is not None and key.status == "active"


def key_status(state: StateView, voter_key: bytes, now_ms: int) -> KeyStatus:
    """What a voter key may do at `now_ms`, and the notice its holder should see.

    For the RPC (GET /v1/voters/{key}): the phone attester reads it to text the old
    key's holder, and the CLI warns before using a key whose replacement is waiting.
    """
    key = read_key_at(state, voter_key, now_ms)
    if key is None:
        return KeyStatus(voter_key, "unknown")
    pending = key.phone.replacement
    if key.status == "pending" and pending is not None:
        return KeyStatus(voter_key, "pending", effective_at_ms=pending.effective_at_ms)
    if key.status == "active" and pending is not None:
        return KeyStatus(voter_key, "active", replacement_pending_until_ms=pending.effective_at_ms)
    return KeyStatus(voter_key, key.status)


def get_org(state: StateView, org_id: str) -> OrgInfo | None:
    record = read_org(state, org_id)
    return None if record is None else _org_info(state, org_id, record)


def list_orgs(state: StateView) -> list[OrgInfo]:
    orgs = []
    for key, value in state.items(state_keys.ORG):
        org_id = key[len(state_keys.ORG) :].decode("utf-8")
        orgs.append(_org_info(state, org_id, OrgRecord.decode(value)))
    return orgs


def org_of_key(state: StateView, key: bytes) -> str | None:
    """The organisation an org key belongs to (active or revoked), if any."""
    data = state.get(state_keys.org_key(key))
    return None if data is None else OrgKeyRecord.decode(data).org_id


def is_admin(state: StateView, key: bytes) -> bool:
    return state.get(state_keys.admin(key)) is not None


def attester_name(state: StateView, key: bytes) -> str | None:
    data = state.get(state_keys.attester(key))
    return None if data is None else encoding.expect_str(encoding.decode(data), "attester")


def _org_info(state: StateView, org_id: str, record: OrgRecord) -> OrgInfo:
    keys = []
    for key, value in state.items(state_keys.ORG_KEY):
        held = OrgKeyRecord.decode(value)
        if held.org_id == org_id:
            keys.append((key[len(state_keys.ORG_KEY) :], held.active))
    return OrgInfo(org_id, record.name, record.category, record.registered_height, tuple(keys))


def poll_document(state: StateView, poll: PollRecord, now_ms: int) -> dict[str, Any]:
    """A poll as the RPC shows it: its record, with the roll's and the ticket list's real
    sizes in place of the lists the record keeps emptied (they live under rollphone/,
    rollkey/ and ticket/, and an empty list there read as an empty roll)."""
    d = poll.to_dict(now_ms)
    access = d["access"]
    for emptied in ("roll_phone_ids", "roll_voter_keys", "ticket_keys"):
        access.pop(emptied, None)
    if poll.spec.access.roll is not None:
        access["roll_size"] = read_count(state, state_keys.roll_count(poll.poll_id))
    if poll.spec.access.tickets is not None:
        access["tickets_issued"] = read_count(state, state_keys.ticket_count(poll.poll_id))
    secret = secret_polls.secret_status(state, poll)
    if secret is not None:
        d["secret"] = secret
    return d
