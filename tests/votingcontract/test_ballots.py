"""cast_ballot: every rule in PROTOCOL.md order, counting, revote and de-duplication."""

from __future__ import annotations

from typing import Any

import pytest

from votingcontract import (
    Access,
    CastBallot,
    EnrollVoter,
    Geofence,
    Location,
    Ticket,
    gate_signature,
    password_gate_key,
    qr_gate_key,
    queries,
    ticket_signature,
)
from votingcontract.limits import KEY_REPLACEMENT_DELAY_MS
from votingcontract.reasons import ReasonCode
from votingcontract.records import read_count
from votingcontract.state_keys import tally

from .helpers import (
    DAY_MS,
    HOUR_MS,
    Harness,
    budget_question,
    phone_id_of,
    policy_poll,
    question,
    seeded_key,
)

R = ReasonCode
SALT = b"salt-for-poll-01"


@pytest.fixture
def h() -> Harness:
    return Harness.create()


def _poll(h: Harness, **kwargs: Any) -> bytes:
    """A poll of the "seoul-city" organisation, registered on first use."""
    if queries.get_org(h.state, "seoul-city") is None:
        h.register_org("seoul-city")
    org_key = seeded_key("org-seoul-city-0")
    return h.create_poll(org_key, policy_poll("seoul-city", h.now_ms, **kwargs))


def test_unknown_poll(h: Harness) -> None:
    assert h.submit(h.enroll("alice"), CastBallot(b"\x01" * 32, ((0,),))).code == R.UNKNOWN_POLL


def test_stranger_without_enrollment_cannot_vote(h: Harness) -> None:
    poll_id = _poll(h)
    assert h.submit(seeded_key("stranger"), CastBallot(poll_id, ((0,),))).code == R.NOT_ENROLLED


def test_replaced_key_cannot_vote(h: Harness) -> None:
    poll_id = _poll(h, lasts_ms=3 * DAY_MS)
    old = h.enroll("alice")
    h.submit(h.attester, EnrollVoter(phone_id_of("alice"), seeded_key("new").public_key))
    h.advance(KEY_REPLACEMENT_DELAY_MS)
    assert h.submit(old, CastBallot(poll_id, ((0,),))).code == R.KEY_REVOKED


def test_not_open_before_opens_at_and_closed_from_closes_at(h: Harness) -> None:
    poll_id = _poll(h, opens_in_ms=HOUR_MS, lasts_ms=HOUR_MS)
    voter = h.enroll("alice")
    assert h.submit(voter, CastBallot(poll_id, ((0,),))).code == R.NOT_OPEN
    h.advance(HOUR_MS)
    assert h.submit(voter, CastBallot(poll_id, ((0,),))).code == "accepted"
    h.advance(HOUR_MS)
    assert h.submit(h.enroll("bob"), CastBallot(poll_id, ((0,),))).code == R.CLOSED


def test_roll_admits_listed_phones_and_keys_only(h: Harness) -> None:
    listed_key = seeded_key("voter-carol")
    roll = Access(roll=((phone_id_of("alice"),), (listed_key.public_key,)))
    poll_id = _poll(h, access=roll)
    assert h.submit(h.enroll("alice"), CastBallot(poll_id, ((0,),))).code == "accepted"
    assert h.submit(h.enroll("carol"), CastBallot(poll_id, ((0,),))).code == "accepted"
    assert h.submit(h.enroll("bob"), CastBallot(poll_id, ((0,),))).code == R.NOT_ELIGIBLE


def test_password_gate_needs_a_proof_from_the_password_for_this_voter(h: Harness) -> None:
    gate = password_gate_key("sejong-1443", SALT)
    poll_id = _poll(h, access=Access(password=(gate.public_key, SALT)))
    alice, bob = h.enroll("alice"), h.enroll("bob")
    missing = CastBallot(poll_id, ((0,),))
    assert h.submit(alice, missing).code == R.BAD_GATE_PROOF
    wrong = password_gate_key("sejong-1444", SALT)
    bad = CastBallot(poll_id, ((0,),), gate_signature(wrong, h.chain_id, poll_id, alice.public_key))
    assert h.submit(alice, bad).code == R.BAD_GATE_PROOF
    proof = gate_signature(gate, h.chain_id, poll_id, alice.public_key)
    assert h.submit(bob, CastBallot(poll_id, ((0,),), proof)).code == R.BAD_GATE_PROOF  # reused
    assert h.submit(alice, CastBallot(poll_id, ((0,),), proof)).code == "accepted"


def test_qr_gate_needs_a_proof_from_the_qr_seed(h: Harness) -> None:
    gate = qr_gate_key(b"\x42" * 32)
    poll_id = _poll(h, access=Access(qr_gate_key=gate.public_key))
    alice = h.enroll("alice")
    assert h.submit(alice, CastBallot(poll_id, ((0,),))).code == R.BAD_GATE_PROOF
    proof = gate_signature(gate, h.chain_id, poll_id, alice.public_key)
    in_password_slot = CastBallot(poll_id, ((0,),), password_proof=proof)
    assert h.submit(alice, in_password_slot).code == R.BAD_GATE_PROOF
    assert h.submit(alice, CastBallot(poll_id, ((0,),), qr_proof=proof)).code == "accepted"


def test_ticket_must_be_registered_and_sign_the_voter(h: Harness) -> None:
    ticket, unregistered = seeded_key("ticket-1"), seeded_key("ticket-x")
    poll_id = _poll(h, access=Access(tickets=(ticket.public_key,)))
    alice = h.enroll("alice")

    def ballot(key: object, signer_for: bytes) -> CastBallot:
        assert hasattr(key, "sign")
        sig = ticket_signature(key, h.chain_id, poll_id, signer_for)  # type: ignore[arg-type]
        return CastBallot(poll_id, ((0,),), ticket=Ticket(key.public_key, sig))  # type: ignore[attr-defined]

    assert h.submit(alice, CastBallot(poll_id, ((0,),))).code == R.BAD_TICKET
    assert h.submit(alice, ballot(unregistered, alice.public_key)).code == R.BAD_TICKET
    assert h.submit(alice, ballot(ticket, b"\x00" * 32)).code == R.BAD_TICKET
    gate_sig = gate_signature(ticket, h.chain_id, poll_id, alice.public_key)
    as_gate = CastBallot(poll_id, ((0,),), ticket=Ticket(ticket.public_key, gate_sig))
    assert h.submit(alice, as_gate).code == R.BAD_TICKET
    assert h.submit(alice, ballot(ticket, alice.public_key)).code == "accepted"
    bob = h.enroll("bob")
    assert h.submit(bob, ballot(ticket, bob.public_key)).code == R.TICKET_USED


def test_geofence_needs_a_claimed_location_inside(h: Harness) -> None:
    fence = Geofence(37_566_535, 126_977_969, 500)
    poll_id = _poll(h, access=Access(geofence=fence))
    alice = h.enroll("alice")
    assert h.submit(alice, CastBallot(poll_id, ((0,),))).code == R.OUTSIDE_AREA
    far = CastBallot(poll_id, ((0,),), location=Location(37_600_000, 126_977_969))
    assert h.submit(alice, far).code == R.OUTSIDE_AREA
    near = CastBallot(poll_id, ((0,),), location=Location(37_567_000, 126_978_000))
    assert h.submit(alice, near).code == "accepted"


def test_selection_count_per_question(h: Harness) -> None:
    approval = question("Pick up to two", ("a", "b", "c"), min_selections=1, max_selections=2)
    poll_id = _poll(h, questions=[question(), approval])
    alice = h.enroll("alice")
    for selections in [((0,),), ((0,), (0,), (0,)), ((0,), ()), ((0, 1), (0,)), ((0,), (0, 1, 2))]:
        assert h.submit(alice, CastBallot(poll_id, selections)).code == R.BAD_SELECTION_COUNT
    assert h.submit(alice, CastBallot(poll_id, ((1,), (0, 2)))).code == "accepted"


def test_unknown_option(h: Harness) -> None:
    poll_id = _poll(h)
    assert h.submit(h.enroll("alice"), CastBallot(poll_id, ((2,),))).code == R.UNKNOWN_OPTION


def test_over_budget(h: Harness) -> None:
    poll_id = _poll(h, questions=[budget_question([500, 300, 400], 800)])
    alice = h.enroll("alice")
    assert h.submit(alice, CastBallot(poll_id, ((0, 2),))).code == R.OVER_BUDGET
    assert h.submit(alice, CastBallot(poll_id, ((0, 1),))).code == "accepted"  # exactly 800


def test_duplicate_is_per_phone_not_per_key(h: Harness) -> None:
    poll_id = _poll(h, lasts_ms=3 * DAY_MS)
    old = h.enroll("alice")
    assert h.submit(old, CastBallot(poll_id, ((0,),))).code == "accepted"
    assert h.submit(old, CastBallot(poll_id, ((1,),))).code == R.DUPLICATE
    new = seeded_key("alice-new")
    h.submit(h.attester, EnrollVoter(phone_id_of("alice"), new.public_key))
    h.advance(KEY_REPLACEMENT_DELAY_MS)
    assert h.submit(new, CastBallot(poll_id, ((1,),))).code == R.DUPLICATE
    result = queries.results(h.state, poll_id, h.now_ms)
    assert result is not None and result.participants == 1
    assert [o.count for o in result.questions[0].options] == [1, 0]


def test_revote_counts_only_the_last_ballot(h: Harness) -> None:
    poll_id = _poll(h, questions=[question(options=("a", "b", "c"))], revote=True)
    alice, bob = h.enroll("alice"), h.enroll("bob")
    for voter, choice in [(alice, 0), (bob, 0), (alice, 1), (alice, 2)]:
        assert h.submit(voter, CastBallot(poll_id, ((choice,),))).code == "accepted"
    result = queries.results(h.state, poll_id, h.now_ms)
    assert result is not None
    assert [o.count for o in result.questions[0].options] == [1, 0, 1]
    assert result.participants == 2
    assert queries.stats(h.state).ballots == 4
    assert queries.stats(h.state).participations == 2
    # a zero counter is deleted, not stored as 0
    assert h.state.get(tally(poll_id, 0, 1)) is None
    history = queries.participation_history(h.state, phone_id_of("alice"))
    assert len(history) == 1 and history[0].tx_id == h.receipts[-1][1].tx_id


def test_revote_with_a_rotated_key_replaces_the_phone_ballot(h: Harness) -> None:
    poll_id = _poll(h, revote=True, lasts_ms=3 * DAY_MS)
    old = h.enroll("alice")
    h.submit(old, CastBallot(poll_id, ((0,),)))
    new = seeded_key("alice-new")
    h.submit(h.attester, EnrollVoter(phone_id_of("alice"), new.public_key))
    h.advance(KEY_REPLACEMENT_DELAY_MS)
    assert h.submit(new, CastBallot(poll_id, ((1,),))).code == "accepted"
    assert read_count(h.state, tally(poll_id, 0, 0)) == 0
    assert read_count(h.state, tally(poll_id, 0, 1)) == 1


def test_refused_ballot_leaves_state_untouched(h: Harness) -> None:
    poll_id = _poll(h)
    alice = h.enroll("alice")
    before = dict(h.state.items(b""))
    for body in [CastBallot(poll_id, ((5,),)), CastBallot(poll_id, ((0, 1),))]:
        assert h.submit(alice, body).code != "accepted"
    assert dict(h.state.items(b"")) == before


def test_checks_run_in_protocol_order(h: Harness) -> None:
    """A ballot breaking several rules gets the reason of the first one listed."""
    gate = qr_gate_key(b"\x01" * 32)
    poll_id = _poll(
        h,
        access=Access(roll=((), ()), qr_gate_key=gate.public_key),
        opens_in_ms=HOUR_MS,
        lasts_ms=DAY_MS,
    )
    alice = h.enroll("alice")
    body = CastBallot(poll_id, ((9,),))
    assert h.submit(alice, body).code == R.NOT_OPEN
    h.advance(HOUR_MS)
    assert h.submit(alice, body).code == R.NOT_ELIGIBLE


def test_a_ticket_may_be_presented_again_only_to_revote(h: Harness) -> None:
    ticket = seeded_key("ticket-r")
    once = _poll(h, access=Access(tickets=(ticket.public_key,)))
    again = _poll(h, access=Access(tickets=(ticket.public_key,)), revote=True)
    alice = h.enroll("alice")
    for poll_id, second in [(once, R.TICKET_USED), (again, "accepted")]:
        sig = ticket_signature(ticket, h.chain_id, poll_id, alice.public_key)
        body = CastBallot(poll_id, ((0,),), ticket=Ticket(ticket.public_key, sig))
        assert h.submit(alice, body).code == "accepted"
        assert h.submit(alice, body).code == second


def test_in_a_revote_poll_a_used_ticket_still_admits_no_other_voter(h: Harness) -> None:
    """Revote lets the ticket's first voter vote again; it never hands the ticket on."""
    ticket = seeded_key("ticket-shared")
    poll_id = _poll(h, access=Access(tickets=(ticket.public_key,)), revote=True)
    alice, bob = h.enroll("alice"), h.enroll("bob")
    stranger = seeded_key("unenrolled-holder")

    def ballot(voter: Any, choice: int) -> CastBallot:
        sig = ticket_signature(ticket, h.chain_id, poll_id, voter.public_key)
        return CastBallot(poll_id, ((choice,),), ticket=Ticket(ticket.public_key, sig))

    assert h.submit(alice, ballot(alice, 0)).code == "accepted"
    assert h.submit(bob, ballot(bob, 1)).code == R.TICKET_USED
    assert h.submit(stranger, ballot(stranger, 1)).code == R.TICKET_USED
    assert h.submit(alice, ballot(alice, 1)).code == "accepted"
    assert read_count(h.state, tally(poll_id, 0, 1)) == 1
    assert read_count(h.state, tally(poll_id, 0, 0)) == 0
