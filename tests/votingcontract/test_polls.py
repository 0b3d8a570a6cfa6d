"""Polls: who creates and manages them, what a poll must contain, when it opens and closes."""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest

from votingcontract import (
    Access,
    AddOrgKey,
    CastBallot,
    ClosePoll,
    EnrollVoter,
    ExtendPoll,
    ExtendRoll,
    IssueTickets,
    Option,
    Question,
    RevokeOrgKey,
    queries,
)
from votingcontract.limits import KEY_REPLACEMENT_DELAY_MS, MAX_OPEN_CITIZEN_POLLS, WHITESPACE
from votingcontract.reasons import ReasonCode

from .helpers import (
    DAY_MS,
    HOUR_MS,
    Harness,
    budget_question,
    citizen_poll,
    phone_id_of,
    policy_poll,
    question,
    seeded_key,
)

R = ReasonCode


@pytest.fixture
def h() -> Harness:
    return Harness.create()


def test_poll_id_is_the_create_poll_tx_id(h: Harness) -> None:
    org = h.register_org("seoul-city")
    tx = h.sign(org, policy_poll("seoul-city", h.now_ms))
    (receipt,) = h.execute([tx])
    assert receipt.code == "accepted" and receipt.poll_id == tx.tx_id
    poll = queries.get_poll(h.state, tx.tx_id)
    assert poll is not None and poll.creator_key == org.public_key
    assert queries.stats(h.state).polls_policy == 1


def test_policy_poll_needs_a_registered_org(h: Harness) -> None:
    org = h.register_org("seoul-city")
    assert h.submit(org, policy_poll("busan-city", h.now_ms)).code == R.UNKNOWN_ORG


def test_policy_poll_needs_a_key_of_that_org(h: Harness) -> None:
    h.register_org("seoul-city")
    mapo = h.register_org("mapo-gu")
    voter = h.enroll("alice")
    assert h.submit(mapo, policy_poll("seoul-city", h.now_ms)).code == R.NOT_AUTHORIZED
    assert h.submit(voter, policy_poll("seoul-city", h.now_ms)).code == R.NOT_AUTHORIZED


def test_citizen_poll_needs_an_enrolled_active_voter(h: Harness) -> None:
    stranger = seeded_key("stranger")
    assert h.submit(stranger, citizen_poll(h.now_ms)).code == R.NOT_ENROLLED
    old = h.enroll("alice")
    h.submit(h.attester, EnrollVoter(phone_id_of("alice"), seeded_key("alice-2").public_key))
    assert h.submit(seeded_key("alice-2"), citizen_poll(h.now_ms)).code == R.KEY_PENDING
    h.advance(KEY_REPLACEMENT_DELAY_MS)
    assert h.submit(old, citizen_poll(h.now_ms)).code == R.KEY_REVOKED
    poll_id = h.create_poll(seeded_key("alice-2"), citizen_poll(h.now_ms))
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None and poll.creator_phone_id == phone_id_of("alice")
    assert queries.stats(h.state).polls_citizen == 1


@pytest.mark.parametrize(
    "broken",
    [
        {"title": "   "},
        {"questions": (Question("q", (Option("a"), Option("b")), 2, 1),)},  # min > max
        {"questions": (Question("q", (Option("a"), Option("b")), 1, 3),)},  # max > options
        {"questions": (Question("q", (Option("a"), Option("b")), 0, 0),)},  # max 0
        {"questions": (Question("q", (Option("a", 5), Option("b", 0)), 1, 1, 10),)},
        {"questions": (Question("q", (Option("a", 5), Option("b")), 1, 1),)},  # cost, no cap
    ],
)
def test_inconsistent_poll_content_is_refused(h: Harness, broken: dict[str, object]) -> None:
    org = h.register_org("seoul-city")
    body = replace(policy_poll("seoul-city", h.now_ms), **broken)  # type: ignore[arg-type]
    assert h.submit(org, body).code == R.INVALID_POLL


def test_optional_question_with_min_zero_is_allowed(h: Harness) -> None:
    org = h.register_org("seoul-city")
    body = policy_poll("seoul-city", h.now_ms, questions=[question(min_selections=0)])
    assert h.submit(org, body).code == "accepted"


def test_citizen_poll_names_no_org(h: Harness) -> None:
    voter = h.enroll("alice")
    body = replace(citizen_poll(h.now_ms), org_id="seoul-city")
    assert h.submit(voter, body).code == R.INVALID_POLL


def test_schedule_must_be_ordered_and_not_past(h: Harness) -> None:
    org = h.register_org("seoul-city")
    base = policy_poll("seoul-city", h.now_ms)
    same = replace(base, closes_at_ms=base.opens_at_ms)
    assert h.submit(org, same).code == R.BAD_SCHEDULE
    past = replace(base, opens_at_ms=h.now_ms - 2 * DAY_MS, closes_at_ms=h.now_ms)
    assert h.submit(org, past).code == R.BAD_SCHEDULE
    started = replace(base, opens_at_ms=h.now_ms - DAY_MS)
    assert h.submit(org, started).code == "accepted"


def test_citizen_open_poll_cap_counts_only_polls_not_yet_closed(h: Harness) -> None:
    voter = h.enroll("alice")
    polls = [
        h.create_poll(voter, citizen_poll(h.now_ms, lasts_ms=HOUR_MS * (i + 1)))
        for i in range(MAX_OPEN_CITIZEN_POLLS)
    ]
    assert h.submit(voter, citizen_poll(h.now_ms)).code == R.TOO_MANY_OPEN_POLLS
    # another citizen is not affected
    assert h.submit(h.enroll("bob"), citizen_poll(h.now_ms)).code == "accepted"
    # closing one early frees a place
    assert h.submit(voter, ClosePoll(polls[0])).code == "accepted"
    assert h.submit(voter, citizen_poll(h.now_ms)).code == "accepted"
    assert h.submit(voter, citizen_poll(h.now_ms)).code == R.TOO_MANY_OPEN_POLLS
    # and so does the passing of closes_at
    h.advance(2 * HOUR_MS)
    assert h.submit(voter, citizen_poll(h.now_ms)).code == "accepted"


def test_citizen_cap_index_drops_closed_polls(h: Harness) -> None:
    voter = h.enroll("alice")
    for _ in range(MAX_OPEN_CITIZEN_POLLS):
        h.create_poll(voter, citizen_poll(h.now_ms, lasts_ms=HOUR_MS))
    h.advance(2 * HOUR_MS)
    h.create_poll(voter, citizen_poll(h.now_ms))
    entries = list(h.state.items(b"citizenopen/" + phone_id_of("alice")))
    assert len(entries) == 1


def test_close_poll_by_its_manager_ends_voting(h: Harness) -> None:
    org = h.register_org("seoul-city", keys=2)
    voter = h.enroll("alice")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms))
    second_key = seeded_key("org-seoul-city-1")
    assert h.submit(h.register_org("mapo-gu"), ClosePoll(poll_id)).code == R.NOT_AUTHORIZED
    assert h.submit(voter, ClosePoll(poll_id)).code == R.NOT_AUTHORIZED
    assert h.submit(second_key, ClosePoll(poll_id)).code == "accepted"  # any org key
    assert h.submit(org, ClosePoll(poll_id)).code == R.CLOSED
    assert h.submit(voter, CastBallot(poll_id, ((0,),))).code == R.CLOSED
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None and poll.status(h.now_ms) == "closed"


def test_close_poll_names_an_existing_poll(h: Harness) -> None:
    org = h.register_org("seoul-city")
    assert h.submit(org, ClosePoll(b"\x07" * 32)).code == R.UNKNOWN_POLL


def test_revoked_org_key_cannot_manage(h: Harness) -> None:
    org = h.register_org("seoul-city")
    spare = seeded_key("spare")
    h.submit(h.admin, AddOrgKey("seoul-city", spare.public_key))
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms))
    h.submit(h.admin, RevokeOrgKey("seoul-city", org.public_key))
    assert h.submit(org, ClosePoll(poll_id)).code == R.KEY_REVOKED
    assert h.submit(spare, ClosePoll(poll_id)).code == "accepted"


def test_citizen_poll_is_managed_by_the_creator_phone_current_key(h: Harness) -> None:
    old = h.enroll("alice")
    poll_id = h.create_poll(old, citizen_poll(h.now_ms, lasts_ms=3 * DAY_MS))
    bob = h.enroll("bob")
    assert h.submit(bob, ClosePoll(poll_id)).code == R.NOT_AUTHORIZED
    new = seeded_key("alice-2")
    h.submit(h.attester, EnrollVoter(phone_id_of("alice"), new.public_key))
    # during the wait the old key still manages the poll and the new one does not
    assert h.submit(new, ClosePoll(poll_id)).code == R.KEY_PENDING
    later = ExtendPoll(poll_id, h.now_ms + 4 * DAY_MS)
    assert h.submit(old, later).code == "accepted"
    h.advance(KEY_REPLACEMENT_DELAY_MS)
    assert h.submit(old, ClosePoll(poll_id)).code == R.KEY_REVOKED
    assert h.submit(new, ClosePoll(poll_id)).code == "accepted"


def test_close_before_opening_cancels(h: Harness) -> None:
    org = h.register_org("seoul-city")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms, opens_in_ms=DAY_MS))
    assert h.submit(org, ClosePoll(poll_id)).code == "accepted"
    h.advance(2 * DAY_MS)
    assert h.submit(h.enroll("alice"), CastBallot(poll_id, ((0,),))).code == R.CLOSED


def test_extend_poll_moves_closing_later_before_it_passes(h: Harness) -> None:
    org = h.register_org("seoul-city")
    voter = h.enroll("alice")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms, lasts_ms=HOUR_MS))
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    assert h.submit(org, ExtendPoll(poll_id, poll.closes_at_ms)).code == R.BAD_SCHEDULE
    assert h.submit(voter, ExtendPoll(poll_id, poll.closes_at_ms + DAY_MS)).code == (
        R.NOT_AUTHORIZED
    )
    assert h.submit(org, ExtendPoll(poll_id, poll.closes_at_ms + DAY_MS)).code == "accepted"
    h.advance(2 * HOUR_MS)  # past the original closing time
    assert h.submit(voter, CastBallot(poll_id, ((0,),))).code == "accepted"
    h.advance(DAY_MS)
    assert h.submit(org, ExtendPoll(poll_id, h.now_ms + DAY_MS)).code == R.CLOSED


def test_extend_roll_only_for_roll_polls_before_opening(h: Harness) -> None:
    org = h.register_org("seoul-city")
    public = h.create_poll(org, policy_poll("seoul-city", h.now_ms, opens_in_ms=HOUR_MS))
    assert h.submit(org, ExtendRoll(public, (phone_id_of("x"),), ())).code == R.NOT_APPLICABLE
    roll = Access(roll=((), ()))
    poll_id = h.create_poll(
        org, policy_poll("seoul-city", h.now_ms, access=roll, opens_in_ms=HOUR_MS)
    )
    body = ExtendRoll(poll_id, (phone_id_of("alice"),), ())
    assert h.submit(h.enroll("mallory"), body).code == R.NOT_AUTHORIZED
    assert h.submit(org, body).code == "accepted"
    h.advance(HOUR_MS)
    late = ExtendRoll(poll_id, (phone_id_of("bob"),), ())
    assert h.submit(org, late).code == R.ALREADY_OPEN
    assert h.submit(org, ClosePoll(poll_id)).code == "accepted"
    assert h.submit(org, late).code == R.CLOSED


def test_issue_tickets_only_for_ticket_polls_until_closed(h: Harness) -> None:
    org = h.register_org("seoul-city")
    public = h.create_poll(org, policy_poll("seoul-city", h.now_ms))
    ticket = seeded_key("ticket").public_key
    assert h.submit(org, IssueTickets(public, (ticket,))).code == R.NOT_APPLICABLE
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms, access=Access(tickets=())))
    assert h.submit(org, IssueTickets(poll_id, (ticket,))).code == "accepted"
    assert h.submit(org, ClosePoll(poll_id)).code == "accepted"
    assert h.submit(org, IssueTickets(poll_id, (ticket,))).code == R.CLOSED


def test_budget_question_poll_is_created(h: Harness) -> None:
    org = h.register_org("seoul-city")
    body = policy_poll("seoul-city", h.now_ms, questions=[budget_question([100, 200], 250)])
    assert h.submit(org, body).code == "accepted"


def test_refused_create_poll_writes_nothing(h: Harness) -> None:
    org = h.register_org("seoul-city")
    before = dict(h.state.items(b""))
    assert h.submit(org, policy_poll("nowhere", h.now_ms)).code == R.UNKNOWN_ORG
    assert dict(h.state.items(b"")) == before


def test_a_replayed_create_poll_does_not_overwrite_the_poll(h: Harness) -> None:
    """Replay of a tx_id is a chain rule; the state machine still never overwrites a poll."""
    org = h.register_org("seoul-city")
    tx = h.sign(org, policy_poll("seoul-city", h.now_ms))
    assert h.execute([tx])[0].code == "accepted"
    assert h.execute([tx])[0].code == R.DUPLICATE


def test_the_whitespace_of_the_title_rule_is_a_fixed_list_of_29_code_points() -> None:
    """PROTOCOL.md 11.6 lists them; they are what str.isspace() accepts (Unicode 14)."""
    assert len(WHITESPACE) == 29
    assert {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()} == WHITESPACE


@pytest.mark.parametrize("title", ["", " ", "\u3000\u00a0\t", "\u2028\u200a"])
def test_a_title_of_only_whitespace_is_invalid(h: Harness, title: str) -> None:
    org = h.register_org("seoul-city")
    body = replace(policy_poll("seoul-city", h.now_ms), title=title)
    assert h.submit(org, body).code == ReasonCode.INVALID_POLL


@pytest.mark.parametrize("title", ["a", " 투표 ", "\u200b"])
def test_a_title_with_one_other_character_is_valid(h: Harness, title: str) -> None:
    org = h.register_org("seoul-city")
    body = replace(policy_poll("seoul-city", h.now_ms), title=title)
    assert h.submit(org, body).code == "accepted"
