"""Each ballot reads its poll; decoded poll records are remembered by their bytes
(records.read_poll, issue 10). A poll changed earlier in the same block, or in the same
transaction, must read as changed: the memo can never serve an older record."""

from __future__ import annotations

import pytest

from votingcontract import CastBallot, ClosePoll, ExtendPoll
from votingcontract.reasons import ReasonCode
from votingcontract.records import PollRecord, read_poll
from votingcontract.state_keys import poll as poll_key

from .helpers import HOUR_MS, Harness, policy_poll


@pytest.fixture
def h() -> Harness:
    return Harness.create()


def test_a_ballot_after_a_close_in_the_same_block_is_refused_closed(h: Harness) -> None:
    org = h.register_org("seoul-city")
    alice, bob = h.enroll("alice"), h.enroll("bob")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms, lasts_ms=HOUR_MS))
    receipts = h.execute(
        [
            h.sign(alice, CastBallot(poll_id, ((0,),))),
            h.sign(org, ClosePoll(poll_id)),
            h.sign(bob, CastBallot(poll_id, ((1,),))),
        ]
    )
    assert [r.code for r in receipts] == ["accepted", "accepted", ReasonCode.CLOSED.value]


def test_a_ballot_after_an_extension_in_the_same_block_is_counted(h: Harness) -> None:
    org = h.register_org("seoul-city")
    alice, bob = h.enroll("alice"), h.enroll("bob")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms, lasts_ms=HOUR_MS))
    before = read_poll(h.state, poll_id)
    assert before is not None
    closes_at_ms = before.closes_at_ms
    h.advance(closes_at_ms - h.now_ms - 1_000)  # a second before it closes
    receipts = h.execute(
        [
            h.sign(alice, CastBallot(poll_id, ((0,),))),  # read before the extension
            h.sign(org, ExtendPoll(poll_id, closes_at_ms + 2 * HOUR_MS)),
        ]
    )
    assert [r.code for r in receipts] == ["accepted", "accepted"]
    h.advance(HOUR_MS)  # past the first closing time, before the new one
    assert h.submit(bob, CastBallot(poll_id, ((1,),))).code == "accepted"
    poll = read_poll(h.state, poll_id)
    assert poll is not None and poll.closes_at_ms == closes_at_ms + 2 * HOUR_MS


def test_a_remembered_poll_equals_a_fresh_decoding_of_the_stored_bytes(h: Harness) -> None:
    org = h.register_org("seoul-city")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms))
    stored = h.state.get(poll_key(poll_id))
    assert stored is not None
    first, again = read_poll(h.state, poll_id), read_poll(h.state, poll_id)
    assert first == again == PollRecord.decode(poll_id, stored)
