"""The waiting period before a phone's key is replaced (issue 9, finding 3).

The attack: someone who guesses a phone's one-time code enrolls their own key for it.
Before, that revoked the owner's key at once. Now the new key waits
KEY_REPLACEMENT_DELAY_MS of block time, the owner's key keeps working and sees the
notice, and the owner can cancel the change with cancel_key_change.
"""

from __future__ import annotations

import pytest

from chain.keys import PrivateKey
from chain.state import MemoryState
from votingcontract import (
    Access,
    BlockContext,
    CancelKeyChange,
    CastBallot,
    EnrollVoter,
    Ticket,
    execute_block,
    key_status,
    queries,
    ticket_signature,
)
from votingcontract.limits import KEY_REPLACEMENT_DELAY_MS
from votingcontract.reasons import ReasonCode
from votingcontract.records import read_phone

from .helpers import DAY_MS, Harness, citizen_poll, phone_id_of, policy_poll, seeded_key

R = ReasonCode
DELAY_MS = KEY_REPLACEMENT_DELAY_MS


@pytest.fixture
def h() -> Harness:
    return Harness.create()


def poll(h: Harness, revote: bool = False, **kwargs: object) -> bytes:
    """A policy poll open for a week, so it outlasts the wait."""
    if queries.get_org(h.state, "seoul-city") is None:
        h.register_org("seoul-city")
    body = policy_poll("seoul-city", h.now_ms, lasts_ms=7 * DAY_MS, revote=revote, **kwargs)
    return h.create_poll(seeded_key("org-seoul-city-0"), body)


def replace_key(h: Harness, label: str, new: PrivateKey) -> int:
    """Enroll `new` for the phone of `label`; returns the block time of that enrollment."""
    at_ms = h.now_ms
    receipt = h.submit(h.attester, EnrollVoter(phone_id_of(label), new.public_key))
    assert receipt.code == "accepted", receipt
    return at_ms


def ballot(poll_id: bytes, option: int = 0) -> CastBallot:
    return CastBallot(poll_id, ((option,),))


def test_a_phone_first_key_is_active_at_once(h: Harness) -> None:
    alice = h.enroll("alice")
    assert key_status(h.state, alice.public_key, h.now_ms).to_dict() == {
        "voter_key": alice.public_key.hex(),
        "status": "active",
    }
    assert h.submit(alice, ballot(poll(h))).code == "accepted"


def test_a_new_key_waits_and_the_old_one_works_until_the_effective_time(h: Harness) -> None:
    poll_id, second_poll = poll(h), poll(h)
    old, new = h.enroll("alice"), seeded_key("thief")
    effective_ms = replace_key(h, "alice", new) + DELAY_MS

    # one block at the last millisecond of the wait, one at its end (both keys in each)
    h.now_ms = effective_ms - 1
    pending = h.execute([h.sign(new, ballot(poll_id)), h.sign(old, ballot(poll_id))])
    assert [r.code for r in pending] == [R.KEY_PENDING, "accepted"]
    assert key_status(h.state, new.public_key, effective_ms - 1).to_dict() == {
        "voter_key": new.public_key.hex(),
        "status": "pending",
        "effective_at_ms": effective_ms,
    }

    h.now_ms = effective_ms
    switched = h.execute([h.sign(old, ballot(second_poll)), h.sign(new, ballot(second_poll))])
    assert [r.code for r in switched] == [R.KEY_REVOKED, "accepted"]
    assert key_status(h.state, old.public_key, h.now_ms).status == "revoked"
    assert key_status(h.state, new.public_key, h.now_ms).status == "active"


def test_the_old_key_sees_the_notice_and_cancels(h: Harness) -> None:
    poll_id = poll(h)
    old, new = h.enroll("alice"), seeded_key("thief")
    effective_ms = replace_key(h, "alice", new) + DELAY_MS
    notice = key_status(h.state, old.public_key, h.now_ms).to_dict()
    assert notice == {
        "voter_key": old.public_key.hex(),
        "status": "active",
        "replacement_pending_until_ms": effective_ms,
    }
    assert h.submit(old, CancelKeyChange()).code == "accepted"
    assert key_status(h.state, old.public_key, h.now_ms).to_dict() == {
        "voter_key": old.public_key.hex(),
        "status": "active",
    }
    assert key_status(h.state, new.public_key, h.now_ms).status == "revoked"

    h.now_ms = effective_ms + DAY_MS
    assert h.submit(new, ballot(poll_id)).code == R.KEY_REVOKED
    assert h.submit(old, ballot(poll_id)).code == "accepted"
    # the cancelled key is burnt: it can never be enrolled again, for any phone
    again = EnrollVoter(phone_id_of("alice"), new.public_key)
    assert h.submit(h.attester, again).code == R.KEY_IN_USE
    assert h.submit(old, CancelKeyChange()).code == R.NOT_APPLICABLE  # nothing left


def test_nobody_but_the_active_key_cancels(h: Harness) -> None:
    old, new = h.enroll("alice"), seeded_key("thief")
    bob = h.enroll("bob")
    effective_ms = replace_key(h, "alice", new) + DELAY_MS
    before = dict(h.state.items(b""))
    assert h.submit(new, CancelKeyChange()).code == R.KEY_PENDING
    assert h.submit(bob, CancelKeyChange()).code == R.NOT_APPLICABLE  # his phone has none
    assert h.submit(seeded_key("stranger"), CancelKeyChange()).code == R.NOT_ENROLLED
    assert h.submit(h.attester, CancelKeyChange()).code == R.NOT_ENROLLED
    assert dict(h.state.items(b"")) == before
    # too late: once the new key is active the old one is revoked and cannot cancel
    h.now_ms = effective_ms
    assert h.submit(old, CancelKeyChange()).code == R.KEY_REVOKED
    assert key_status(h.state, new.public_key, h.now_ms).status == "active"


def test_a_new_enrollment_during_the_wait_restarts_it(h: Harness) -> None:
    poll_id = poll(h)
    old, second, third = h.enroll("alice"), seeded_key("second"), seeded_key("third")
    first_effective_ms = replace_key(h, "alice", second) + DELAY_MS
    h.advance(DELAY_MS // 2)
    third_effective_ms = replace_key(h, "alice", third) + DELAY_MS

    h.now_ms = first_effective_ms
    assert h.submit(second, ballot(poll_id)).code == R.KEY_REVOKED  # displaced
    assert h.submit(third, ballot(poll_id)).code == R.KEY_PENDING
    assert key_status(h.state, old.public_key, h.now_ms).replacement_pending_until_ms == (
        third_effective_ms
    )
    h.now_ms = third_effective_ms
    assert h.submit(old, ballot(poll_id)).code == R.KEY_REVOKED
    assert h.submit(third, ballot(poll_id)).code == "accepted"
    info = queries.voter_info(h.state, phone_id_of("alice"), h.now_ms)
    assert info is not None and info.active_key == third.public_key and info.enrollments == 3


def test_enrolling_an_active_or_pending_key_again_changes_nothing(h: Harness) -> None:
    old, new = h.enroll("alice"), seeded_key("thief")
    replace_key(h, "alice", new)
    h.enroll("bob")
    before = dict(h.state.items(b""))
    for key in (old, new):
        again = EnrollVoter(phone_id_of("alice"), key.public_key)
        assert h.submit(h.attester, again).code == R.ALREADY_ENROLLED
    elsewhere = EnrollVoter(phone_id_of("bob"), new.public_key)
    assert h.submit(h.attester, elsewhere).code == R.KEY_IN_USE
    assert dict(h.state.items(b"")) == before


def test_a_pending_key_is_not_an_unenrolled_voter_in_a_ticket_poll(h: Harness) -> None:
    ticket = seeded_key("ticket-1")
    poll_id = poll(h, access=Access(tickets=(ticket.public_key,)))
    h.enroll("alice")
    new = seeded_key("thief")
    replace_key(h, "alice", new)
    signature = ticket_signature(ticket, h.chain_id, poll_id, new.public_key)
    body = CastBallot(poll_id, ((0,),), ticket=Ticket(ticket.public_key, signature))
    assert h.submit(new, body).code == R.KEY_PENDING


def test_ballots_stay_one_per_phone_across_the_switch(h: Harness) -> None:
    once, revote = poll(h), poll(h, revote=True)
    old, new = h.enroll("alice"), seeded_key("alice-new")
    assert h.submit(old, ballot(once, 0)).code == "accepted"
    assert h.submit(old, ballot(revote, 0)).code == "accepted"
    h.now_ms = replace_key(h, "alice", new) + DELAY_MS
    assert h.submit(new, ballot(once, 1)).code == R.DUPLICATE
    assert h.submit(new, ballot(revote, 1)).code == "accepted"
    for poll_id, counts in ((once, [1, 0]), (revote, [0, 1])):
        result = queries.results(h.state, poll_id, h.now_ms)
        assert result is not None and result.participants == 1
        assert [o.count for o in result.questions[0].options] == counts
    history = queries.participation_history(h.state, phone_id_of("alice"))
    assert [e.poll_id for e in history] == [once, revote]


def test_a_citizen_poll_of_the_phone_passes_to_the_new_key(h: Harness) -> None:
    old, new = h.enroll("alice"), seeded_key("alice-new")
    h.create_poll(old, citizen_poll(h.now_ms, lasts_ms=3 * DAY_MS))
    effective_ms = replace_key(h, "alice", new) + DELAY_MS
    assert h.submit(new, citizen_poll(h.now_ms)).code == R.KEY_PENDING
    h.now_ms = effective_ms
    assert h.submit(old, citizen_poll(h.now_ms)).code == R.KEY_REVOKED
    assert h.submit(new, citizen_poll(h.now_ms)).code == "accepted"


def test_the_switch_writes_nothing_until_the_phone_is_enrolled_again(h: Harness) -> None:
    """Activation is read, not written: a block whose only transaction reads the keys
    (a refused ballot of the old key) writes nothing, while every rule and query already
    sees the new key; the next enroll_voter stores the phone as it reads at its time."""
    poll_id = poll(h)
    old, new, third = h.enroll("alice"), seeded_key("alice-new"), seeded_key("third")
    h.now_ms = replace_key(h, "alice", new) + DELAY_MS
    stored = read_phone(h.state, phone_id_of("alice"))
    assert stored is not None and stored.active_key == old.public_key  # not rewritten

    context = BlockContext(h.chain_id, h.height + 1, h.now_ms)
    receipts, writes = execute_block(h.state, context, [h.sign(old, ballot(poll_id))])
    assert receipts[0].code == R.KEY_REVOKED and writes == []
    assert queries.is_voter_key_active(h.state, new.public_key, h.now_ms)

    statuses = {k: key_status(h.state, k.public_key, h.now_ms) for k in (old, new)}
    replace_key(h, "alice", third)
    stored = read_phone(h.state, phone_id_of("alice"))
    assert stored is not None and stored.active_key == new.public_key
    assert stored.replacement is not None and stored.replacement.key == third.public_key
    assert key_status(h.state, old.public_key, h.now_ms) == statuses[old]
    assert key_status(h.state, new.public_key, h.now_ms).status == "active"


def _chain_after_the_wait() -> tuple[Harness, PrivateKey, PrivateKey, bytes]:
    h = Harness.create()
    poll_id = poll(h)
    old, new = h.enroll("alice"), seeded_key("alice-new")
    h.now_ms = replace_key(h, "alice", new) + DELAY_MS
    return h, old, new, poll_id


def test_the_same_app_hash_whichever_transaction_meets_the_switch_first() -> None:
    """The same block's transactions in other orders: the new key's ballot, its citizen
    poll, the old key's refused ballot and a third key's enrollment meet the matured
    replacement first in turn; the app hash and state come out the same."""
    results = []
    for order in ([0, 1, 2, 3], [1, 0, 3, 2], [2, 3, 1, 0], [3, 2, 0, 1]):
        h, old, new, poll_id = _chain_after_the_wait()
        txs = [
            h.sign(new, ballot(poll_id)),
            h.sign(new, citizen_poll(h.now_ms)),
            h.sign(old, ballot(poll_id)),
            h.sign(h.attester, EnrollVoter(phone_id_of("alice"), seeded_key("third").public_key)),
        ]
        receipts = h.execute([txs[i] for i in order])
        codes = {txs[i].kind + str(i): r.code for i, r in zip(order, receipts, strict=True)}
        assert codes == {
            "cast_ballot0": "accepted",
            "create_poll1": "accepted",
            "cast_ballot2": R.KEY_REVOKED,
            "enroll_voter3": "accepted",
        }
        results.append((h.app_hash, dict(h.state.items(b""))))
    assert all(r == results[0] for r in results)


def test_queries_agree_with_the_rules_at_every_time(h: Harness) -> None:
    poll_id = poll(h)
    old, new = h.enroll("alice"), seeded_key("alice-new")
    effective_ms = replace_key(h, "alice", new) + DELAY_MS
    for at_ms in (effective_ms - 1, effective_ms, effective_ms + 1):
        context = BlockContext(h.chain_id, h.height + 1, at_ms)
        for key in (old, new):
            status = key_status(h.state, key.public_key, at_ms).status
            receipts, _ = execute_block(h.state, context, [h.sign(key, ballot(poll_id))])
            expected = {"active": "accepted", "pending": R.KEY_PENDING, "revoked": R.KEY_REVOKED}
            assert receipts[0].code == expected[status], (at_ms - effective_ms, status)


def test_unknown_keys_have_status_unknown() -> None:
    state = MemoryState()
    assert key_status(state, b"\x01" * 32, 0).to_dict() == {
        "voter_key": "01" * 32,
        "status": "unknown",
    }
