"""Per-poll caps on roll entries and tickets (issue 9, finding 1).

A poll's manager could otherwise repeat extend_roll or issue_tickets without end and
grow every validator's state and blocks at will. Each test fills a list to its cap,
checks the cap itself is accepted, then that one entry more is refused list_full and
changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from chain.keys import PrivateKey
from votingcontract import Access, CastBallot, ExtendRoll, IssueTickets, limits, state_keys
from votingcontract.limits import MAX_LIST_KEYS
from votingcontract.reasons import ReasonCode
from votingcontract.records import read_count

from .helpers import HOUR_MS, Harness, citizen_poll, phone_id_of, policy_poll

R = ReasonCode


def ids(label: str, count: int, start: int = 0) -> tuple[bytes, ...]:
    """`count` distinct 32-byte values (phone ids or keys; the roll never checks them)."""
    return tuple(
        hashlib.sha256(f"{label}-{i}".encode()).digest() for i in range(start, start + count)
    )


def chunks(values: tuple[bytes, ...]) -> Iterator[tuple[bytes, ...]]:
    for start in range(0, len(values), MAX_LIST_KEYS):
        yield values[start : start + MAX_LIST_KEYS]


@pytest.fixture
def h() -> Harness:
    return Harness.create()


def roll_poll(h: Harness, creator: PrivateKey, kind: str) -> bytes:
    """An upcoming roll poll (extend_roll works only before it opens)."""
    access = Access(roll=((), ()))
    if kind == "citizen":
        return h.create_poll(creator, citizen_poll(h.now_ms, access=access, opens_in_ms=HOUR_MS))
    return h.create_poll(
        creator, policy_poll("seoul-city", h.now_ms, access=access, opens_in_ms=HOUR_MS)
    )


def fill_roll(h: Harness, signer: PrivateKey, poll_id: bytes, phones: int, keys: int) -> None:
    """Add `phones` phone ids and `keys` voter keys, 1,000 + 1,000 per transaction."""
    phone_chunks = list(chunks(ids("phone", phones)))
    key_chunks = list(chunks(ids("key", keys)))
    for i in range(max(len(phone_chunks), len(key_chunks))):
        body = ExtendRoll(
            poll_id,
            phone_chunks[i] if i < len(phone_chunks) else (),
            key_chunks[i] if i < len(key_chunks) else (),
        )
        assert h.submit(signer, body).code == "accepted"


def test_citizen_roll_takes_exactly_its_cap(h: Harness) -> None:
    alice = h.enroll("alice")
    poll_id = roll_poll(h, alice, "citizen")
    cap = limits.MAX_ROLL_ENTRIES_CITIZEN
    # phone ids and voter keys count together: 3,000 + 1,999, then the last one
    fill_roll(h, alice, poll_id, 3_000, cap - 3_000 - 1)
    last = ExtendRoll(poll_id, (phone_id_of("bob"),), ())
    assert h.submit(alice, last).code == "accepted"
    assert read_count(h.state, state_keys.roll_count(poll_id)) == cap

    before = dict(h.state.items(b""))
    one_more = ExtendRoll(poll_id, (), (b"\x07" * 32,))
    assert h.submit(alice, one_more).code == R.LIST_FULL
    # a list that is mostly already on the roll is refused whole when one entry is new
    mixed = ExtendRoll(poll_id, (phone_id_of("bob"), phone_id_of("carol")), ())
    assert h.submit(alice, mixed).code == R.LIST_FULL
    assert dict(h.state.items(b"")) == before

    # entries already on the roll add nothing, so repeating them is still accepted
    assert h.submit(alice, ExtendRoll(poll_id, (phone_id_of("bob"),), ())).code == "accepted"
    assert read_count(h.state, state_keys.roll_count(poll_id)) == cap
    # carol was refused: she is not on the roll when the poll opens
    h.advance(HOUR_MS)
    carol = h.enroll("carol")
    assert h.submit(carol, CastBallot(poll_id, ((0,),))).code == R.NOT_ELIGIBLE
    assert h.submit(h.enroll("bob"), CastBallot(poll_id, ((0,),))).code == "accepted"


def test_repeats_within_one_list_count_once(h: Harness) -> None:
    alice = h.enroll("alice")
    poll_id = roll_poll(h, alice, "citizen")
    same = phone_id_of("bob")
    assert h.submit(alice, ExtendRoll(poll_id, (same, same, same), ())).code == "accepted"
    assert read_count(h.state, state_keys.roll_count(poll_id)) == 1


def test_create_poll_counts_its_initial_roll_and_tickets(h: Harness) -> None:
    alice = h.enroll("alice")
    access = Access(roll=(ids("phone", 10), ids("key", 5)), tickets=ids("ticket", 7))
    poll_id = h.create_poll(alice, citizen_poll(h.now_ms, access=access, opens_in_ms=HOUR_MS))
    assert read_count(h.state, state_keys.roll_count(poll_id)) == 15
    assert read_count(h.state, state_keys.ticket_count(poll_id)) == 7


def test_create_poll_over_the_cap_is_refused(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """One create_poll's lists (1,000 each) cannot pass the real caps, so the rule is
    shown here with caps lowered below one list's length."""
    monkeypatch.setattr(limits, "MAX_ROLL_ENTRIES_CITIZEN", 10)
    monkeypatch.setattr(limits, "MAX_TICKETS_CITIZEN", 3)
    alice = h.enroll("alice")
    before = dict(h.state.items(b""))
    too_long_roll = Access(roll=(ids("phone", 6), ids("key", 5)))
    too_many_tickets = Access(tickets=ids("ticket", 4))
    for access in (too_long_roll, too_many_tickets):
        assert h.submit(alice, citizen_poll(h.now_ms, access=access)).code == R.LIST_FULL
    assert dict(h.state.items(b"")) == before
    at_cap = Access(roll=(ids("phone", 5), ids("key", 5)), tickets=ids("ticket", 3))
    assert h.submit(alice, citizen_poll(h.now_ms, access=at_cap)).code == "accepted"


def test_citizen_tickets_take_exactly_their_cap(h: Harness) -> None:
    alice = h.enroll("alice")
    cap = limits.MAX_TICKETS_CITIZEN
    tickets = ids("ticket", cap)
    access = Access(tickets=tickets[: cap - 1])
    poll_id = h.create_poll(alice, citizen_poll(h.now_ms, access=access))
    assert h.submit(alice, IssueTickets(poll_id, tickets[cap - 1 :])).code == "accepted"
    assert read_count(h.state, state_keys.ticket_count(poll_id)) == cap

    before = dict(h.state.items(b""))
    assert h.submit(alice, IssueTickets(poll_id, (b"\x09" * 32,))).code == R.LIST_FULL
    assert dict(h.state.items(b"")) == before
    # re-issuing a registered ticket adds nothing and is accepted
    assert h.submit(alice, IssueTickets(poll_id, tickets[:5])).code == "accepted"
    assert read_count(h.state, state_keys.ticket_count(poll_id)) == cap


def test_policy_polls_go_past_the_citizen_caps(h: Harness) -> None:
    org = h.register_org("seoul-city")
    poll_id = roll_poll(h, org, "policy")
    fill_roll(h, org, poll_id, 3_000, limits.MAX_ROLL_ENTRIES_CITIZEN - 3_000 + 1)
    assert read_count(h.state, state_keys.roll_count(poll_id)) > limits.MAX_ROLL_ENTRIES_CITIZEN
    ticket_poll = h.create_poll(org, policy_poll("seoul-city", h.now_ms, access=Access(tickets=())))
    for chunk in chunks(ids("ticket", limits.MAX_TICKETS_CITIZEN + 1)):
        assert h.submit(org, IssueTickets(ticket_poll, chunk)).code == "accepted"


def test_policy_tickets_take_exactly_their_cap(h: Harness) -> None:
    org = h.register_org("seoul-city")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms, access=Access(tickets=())))
    cap = limits.MAX_TICKETS_POLICY
    h.execute([h.sign(org, IssueTickets(poll_id, c)) for c in chunks(ids("ticket", cap))])
    assert read_count(h.state, state_keys.ticket_count(poll_id)) == cap
    before = dict(h.state.items(state_keys.TICKET_COUNT))
    assert h.submit(org, IssueTickets(poll_id, (b"\x09" * 32,))).code == R.LIST_FULL
    assert h.state.get(state_keys.ticket(poll_id, b"\x09" * 32)) is None
    assert dict(h.state.items(state_keys.TICKET_COUNT)) == before


def test_policy_roll_cap_with_a_lowered_cap(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy roll cap's rule at a small scale; the real 1,000,000 runs under -m slow."""
    monkeypatch.setattr(limits, "MAX_ROLL_ENTRIES_POLICY", 2_500)
    org = h.register_org("seoul-city")
    poll_id = roll_poll(h, org, "policy")
    fill_roll(h, org, poll_id, 1_500, 1_000)
    assert h.submit(org, ExtendRoll(poll_id, (b"\x01" * 32,), ())).code == R.LIST_FULL
    assert read_count(h.state, state_keys.roll_count(poll_id)) == 2_500


@pytest.mark.slow
def test_policy_roll_takes_exactly_its_real_cap(h: Harness) -> None:
    org = h.register_org("seoul-city")
    poll_id = roll_poll(h, org, "policy")
    cap = limits.MAX_ROLL_ENTRIES_POLICY
    phones = ids("phone", cap // 2)
    keys = ids("key", cap - cap // 2)
    pairs = list(zip(chunks(phones), chunks(keys), strict=True))
    for start in range(0, len(pairs), 50):
        h.execute([h.sign(org, ExtendRoll(poll_id, p, k)) for p, k in pairs[start : start + 50]])
    assert all(r.accepted for _, r, _ in h.receipts[-len(pairs) :])
    assert read_count(h.state, state_keys.roll_count(poll_id)) == cap
    assert h.submit(org, ExtendRoll(poll_id, (b"\x01" * 32,), ())).code == R.LIST_FULL
    assert h.state.get(state_keys.roll_phone(poll_id, b"\x01" * 32)) is None
