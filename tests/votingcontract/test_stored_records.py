"""What a change writes to state, byte for byte, and rules at their exact edges (issue 12).

The records below are part of every replica's app hash (PROTOCOL.md 11): a field written
as nil instead of false, or lost on a rewrite, would split the chain from an outside
verifier even where this implementation still reads it the same. Mutation testing found
each of these unchecked.
"""

from __future__ import annotations

import dataclasses

import pytest

from chain import encoding
from chain.hashing import Domain, tagged_hash
from votingcontract import (
    Access,
    CancelKeyChange,
    CastBallot,
    ClosePoll,
    EnrollVoter,
    ExtendPoll,
    ExtendRoll,
    queries,
    state_keys,
)
from votingcontract.geofence import is_inside
from votingcontract.identity import gate_statement, ticket_statement
from votingcontract.limits import KEY_REPLACEMENT_DELAY_MS
from votingcontract.poll_spec import Geofence
from votingcontract.records import BallotRecord, PhoneRecord, Replacement, read_phone
from votingcontract.results import calculate_budget_outcome, calculate_results
from votingcontract.roles import RevokeOrgKey
from votingcontract.voterkeys import read_phone_at

from .helpers import DAY_MS, HOUR_MS, Harness, citizen_poll, phone_id_of, policy_poll, seeded_key


@pytest.fixture
def h() -> Harness:
    return Harness.create()


def test_extending_a_poll_rewrites_only_its_closing_time(h: Harness) -> None:
    org = h.register_org("seoul-city")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms, lasts_ms=HOUR_MS))
    before = queries.get_poll(h.state, poll_id)
    assert before is not None
    later = before.closes_at_ms + DAY_MS
    assert h.submit(org, ExtendPoll(poll_id, later)).code == "accepted"
    assert h.state.get(state_keys.poll(poll_id)) == (
        dataclasses.replace(before, closes_at_ms=later).encode()
    )


def test_a_citizen_poll_creator_extends_its_roll_before_opening(h: Harness) -> None:
    """The creator's key is looked up at the block's time (citizen polls only)."""
    creator = h.enroll("alice")
    body = citizen_poll(h.now_ms, access=Access(roll=((), ())), opens_in_ms=HOUR_MS)
    poll_id = h.create_poll(creator, body)
    extend = ExtendRoll(poll_id, (phone_id_of("bob"),), ())
    assert h.submit(creator, extend).code == "accepted"


def test_a_revoked_org_key_is_stored_as_inactive_false(h: Harness) -> None:
    org = h.register_org("seoul-city", keys=2)
    assert h.submit(h.admin, RevokeOrgKey("seoul-city", org.public_key)).code == "accepted"
    stored = h.state.get(state_keys.org_key(org.public_key))
    assert stored == encoding.encode(["seoul-city", False])


def test_cancelling_a_key_change_keeps_the_phone_record_but_the_replacement(
    h: Harness,
) -> None:
    old = h.enroll("alice")
    before = read_phone(h.state, phone_id_of("alice"))
    assert before is not None and before.replacement is None
    thief = seeded_key("thief")
    assert h.submit(h.attester, EnrollVoter(phone_id_of("alice"), thief.public_key)).code == (
        "accepted"
    )
    assert h.submit(old, CancelKeyChange()).code == "accepted"
    after = read_phone(h.state, phone_id_of("alice"))
    assert after == PhoneRecord(old.public_key, before.enrolled_height, 2, None)
    assert h.state.get(state_keys.phone(phone_id_of("alice"))) == after.encode()


def test_results_of_a_poll_hidden_until_it_closes(h: Harness) -> None:
    org = h.register_org("seoul-city")
    body = policy_poll("seoul-city", h.now_ms, visibility="after_close")
    poll_id = h.create_poll(org, body)
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    hidden = calculate_results(h.state, poll, h.now_ms)
    assert (hidden.poll_id, hidden.status, hidden.visible) == (poll_id, "open", False)
    assert (hidden.participants, hidden.questions) == (0, ())


def test_a_project_with_a_single_vote_is_funded() -> None:
    assert calculate_budget_outcome([5, 5, 5], [0, 1, 2], 10) == ((2, 1), 10)
    assert calculate_budget_outcome([5, 5], [0, 0], 10) == ((), 0)


# ---- geofence at its edge: 178 m = 1,599 micro-degrees, floored to whole millimetres ----


@pytest.mark.parametrize(
    ("lat_micro", "lon_micro", "inside"),
    [
        (25_000, 0, True),  # exactly 2,783,000 mm north: on the circle
        (0, 25_000, True),  # exactly on the circle, east
        (25_001, 0, False),
        (0, 25_001, False),
    ],
)
def test_a_point_on_the_fence_is_inside(lat_micro: int, lon_micro: int, inside: bool) -> None:
    assert is_inside(Geofence(0, 0, 2_783), lat_micro, lon_micro) is inside


def test_offsets_are_floored_to_whole_millimetres_before_the_comparison() -> None:
    """1,599 micro-degrees are 178,000.68 mm; floored, the point is on a 178 m fence.
    1,600 are 178,112 mm: outside, however the division is rounded."""
    fence = Geofence(0, 0, 178)
    assert is_inside(fence, 1_599, 0) and is_inside(fence, 0, 1_599)
    assert not is_inside(fence, 1_600, 0) and not is_inside(fence, 0, 1_600)


# ---- what a gate or ticket key signs (PROTOCOL.md 11.8) -----------------------------------


def test_the_gate_and_ticket_statements_are_the_documented_hashes() -> None:
    """H(GATE, encode(["gate" | "ticket", chain_id, poll_id, voter_key])), pinned as bytes
    so a change to either word (or to the encoding) shows here, not only in a wallet."""
    poll_id, voter = bytes(32), bytes(range(32))
    for statement, word, pinned in (
        (
            gate_statement,
            "gate",
            "638cdb06a24f22f2a3bf41403bec52ebd3604302c12f571e8ec7c67bf3cec268",
        ),
        (
            ticket_statement,
            "ticket",
            "a0e881a10b2ae63055f8328a2a18d44116e4cf6a1542fe67eb8a32ba66f71816",
        ),
    ):
        expected = tagged_hash(Domain.GATE, encoding.encode([word, "c", poll_id, voter]))
        assert statement("c", poll_id, voter) == expected == bytes.fromhex(pinned)


def test_a_counted_ballot_is_stored_with_its_height_and_tx_id(h: Harness) -> None:
    org = h.register_org("seoul-city")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms))
    alice = h.enroll("alice")
    tx = h.sign(alice, CastBallot(poll_id, ((1,),)))
    assert h.execute([tx])[0].code == "accepted"
    stored = h.state.get(state_keys.ballot(poll_id, phone_id_of("alice")))
    assert stored == encoding.encode([[[1]], h.height, tx.tx_id])
    assert BallotRecord.decode(stored) == BallotRecord(((1,),), h.height, tx.tx_id)


def test_closing_a_poll_rewrites_only_its_early_close_time(h: Harness) -> None:
    org = h.register_org("seoul-city")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms))
    before = queries.get_poll(h.state, poll_id)
    assert before is not None
    closed_at = h.now_ms
    assert h.submit(org, ClosePoll(poll_id)).code == "accepted"
    assert h.state.get(state_keys.poll(poll_id)) == (
        dataclasses.replace(before, closed_early_at_ms=closed_at).encode()
    )


def test_a_key_replacement_is_stored_with_its_height_and_read_from_its_time(
    h: Harness,
) -> None:
    old = h.enroll("alice")
    first_height = h.height
    new = seeded_key("alice-new-phone")
    enrolled_at_ms = h.now_ms
    assert h.submit(h.attester, EnrollVoter(phone_id_of("alice"), new.public_key)).code == (
        "accepted"
    )
    effective_ms = enrolled_at_ms + KEY_REPLACEMENT_DELAY_MS
    waiting = PhoneRecord(
        old.public_key, first_height, 2, Replacement(new.public_key, h.height, effective_ms)
    )
    assert h.state.get(state_keys.phone(phone_id_of("alice"))) == waiting.encode()
    assert read_phone(h.state, phone_id_of("alice")) == waiting
    matured = read_phone_at(h.state, phone_id_of("alice"), effective_ms)
    assert matured == PhoneRecord(new.public_key, h.height, 2, None)
