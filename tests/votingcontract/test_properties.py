"""Property tests: random sequences of valid and invalid transactions.

- the stored tally equals the accepted ballots recomputed from the receipts (last
  ballot per phone where revote is allowed);
- no phone_id is ever counted twice in a poll;
- the same sequence from the same genesis gives the same receipts and app hash;
- moving independent polls' ballots between blocks does not change their results.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import encoding
from chain.keys import PrivateKey
from chain.tx import Transaction
from votingcontract import BODY_TYPES, CastBallot, ClosePoll, EnrollVoter, queries
from votingcontract.bodies import decode_body
from votingcontract.limits import KEY_REPLACEMENT_DELAY_MS
from votingcontract.receipts import CODES
from votingcontract.records import read_poll
from votingcontract.results import calculate_counts

from .helpers import (
    HOUR_MS,
    Harness,
    budget_question,
    phone_id_of,
    policy_poll,
    question,
    seeded_key,
)

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PHONES = 5
KEY_VERSIONS = 2
POLL_SLOTS = 3


def voter_key(phone: int, version: int) -> PrivateKey:
    return seeded_key(f"prop-voter-{phone}-v{version}")


def voter_phone(phone: int) -> bytes:
    return phone_id_of(f"prop-phone-{phone}")


KEY_TO_PHONE = {
    voter_key(p, v).public_key: voter_phone(p) for p in range(PHONES) for v in range(KEY_VERSIONS)
}

# Operations: plain tuples that an interpreter turns into signed transactions.
enroll_op = st.tuples(
    st.just("enroll"), st.integers(0, PHONES - 1), st.integers(0, KEY_VERSIONS - 1)
)
create_op = st.tuples(
    st.just("create"),
    st.integers(0, POLL_SLOTS - 1),
    st.booleans(),  # revote
    st.sampled_from(["single", "approval", "budget"]),
)
ballot_op = st.tuples(
    st.just("ballot"),
    st.integers(0, PHONES - 1),
    st.sampled_from([0, 0, 0, 1]),  # mostly the key enrolled at the start
    st.integers(0, POLL_SLOTS - 1),
    st.one_of(
        st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True),
        st.lists(st.integers(0, 4), max_size=4, unique=True),
    ).map(sorted),
)
close_op = st.tuples(st.just("close"), st.integers(0, POLL_SLOTS - 1))
wait_op = st.tuples(st.just("wait"))
day_op = st.tuples(st.just("day"))  # past the key replacement wait: a new key takes over
block_op = st.tuples(st.just("block"))
operations = st.lists(
    st.integers(0, 20).flatmap(  # about 3 in 4 operations are ballots
        lambda i: (
            ballot_op
            if i < 15
            else (enroll_op, create_op, close_op, wait_op, block_op, day_op)[i - 15]
        )
    ),
    min_size=5,
    max_size=40,
).map(
    # most runs start with every phone enrolled and every slot holding a poll
    lambda ops: (
        [("enroll", p, 0) for p in range(PHONES)]
        + [("create", slot, slot == 1, ("single", "approval", "budget")[slot]) for slot in range(3)]
        + [("block",), *ops]
    )
)


@dataclass
class Run:
    harness: Harness
    poll_ids: dict[int, bytes]


def interpret(ops: list[tuple[object, ...]]) -> Run:
    """Execute `ops` on a fresh chain; "block" ends a block, "wait" moves time 20 min,
    "day" moves it by the key replacement wait."""
    h = Harness.create()
    org = h.register_org("prop-city")
    poll_ids: dict[int, bytes] = {}
    pending: list[Transaction] = []

    def flush() -> None:
        if pending:
            h.execute(list(pending))
            pending.clear()

    for op in ops:
        match op:
            case ("enroll", int(phone), int(version)):
                key = voter_key(phone, version).public_key
                pending.append(h.sign(h.attester, EnrollVoter(voter_phone(phone), key)))
            case ("create", int(slot), bool(revote), str(shape)):
                questions = {
                    "single": [question(options=("a", "b", "c"))],
                    "approval": [question(options=("a", "b", "c", "d"), max_selections=3)],
                    "budget": [budget_question([300, 500, 200, 400], 800)],
                }[shape]
                spec = policy_poll(
                    "prop-city", h.now_ms, questions, revote=revote, lasts_ms=3 * HOUR_MS
                )
                tx = h.sign(org, spec)
                poll_ids[slot] = tx.tx_id
                pending.append(tx)
            case ("ballot", int(phone), int(version), int(slot), list(chosen)):
                poll_id = poll_ids.get(slot, bytes([slot]) * 32)
                ballot = CastBallot(poll_id, (tuple(chosen),))
                pending.append(h.sign(voter_key(phone, version), ballot))
            case ("close", int(slot)):
                if slot in poll_ids:
                    pending.append(h.sign(org, ClosePoll(poll_ids[slot])))
            case ("wait",):
                flush()
                h.advance(20 * 60_000)
            case ("day",):
                flush()
                h.advance(KEY_REPLACEMENT_DELAY_MS)
            case ("block",):
                flush()
    flush()
    return Run(h, poll_ids)


def recount_from_receipts(h: Harness) -> dict[bytes, dict[bytes, tuple[tuple[int, ...], ...]]]:
    """poll_id -> phone_id -> the last accepted selections, from receipts alone."""
    counted: dict[bytes, dict[bytes, tuple[tuple[int, ...], ...]]] = defaultdict(dict)
    for tx, receipt, _ in h.receipts:
        if tx.kind == "cast_ballot" and receipt.accepted:
            body = decode_body(tx.kind, tx.body)
            assert isinstance(body, CastBallot)
            counted[body.poll_id][KEY_TO_PHONE[tx.signer]] = body.selections
    return counted


@PROPERTY_SETTINGS
@given(operations)
def test_tally_equals_accepted_ballots_and_no_phone_counts_twice(
    ops: list[tuple[object, ...]],
) -> None:
    run = interpret(ops)
    h = run.harness
    recount = recount_from_receipts(h)
    accepted_per_phone: dict[tuple[bytes, bytes], int] = defaultdict(int)
    for tx, receipt, _ in h.receipts:
        if tx.kind == "cast_ballot" and receipt.accepted:
            assert receipt.poll_id is not None
            accepted_per_phone[(receipt.poll_id, KEY_TO_PHONE[tx.signer])] += 1
    for poll_id in set(run.poll_ids.values()):
        poll = read_poll(h.state, poll_id)
        if poll is None:
            assert poll_id not in recount
            continue
        expected = [[0] * len(q.options) for q in poll.spec.questions]
        for selections in recount[poll_id].values():
            for q, chosen in enumerate(selections):
                for option in chosen:
                    expected[q][option] += 1
        assert calculate_counts(h.state, poll) == expected
        result = queries.results(h.state, poll_id, h.now_ms)
        assert result is not None and result.participants == len(recount[poll_id])
        if not poll.spec.revote:
            assert all(n == 1 for (p, _), n in accepted_per_phone.items() if p == poll_id), (
                "a phone was counted twice in a poll without revote"
            )
    total_ballots = sum(accepted_per_phone.values())
    assert queries.stats(h.state).ballots == total_ballots


@PROPERTY_SETTINGS
@given(operations)
def test_same_sequence_gives_same_receipts_and_app_hash(ops: list[tuple[object, ...]]) -> None:
    first, second = interpret(ops).harness, interpret(ops).harness
    assert first.app_hash == second.app_hash
    assert [r.encode() for _, r, _ in first.receipts] == [r.encode() for _, r, _ in second.receipts]
    assert dict(first.state.items(b"")) == dict(second.state.items(b""))


ballots_for_two_polls = st.lists(
    st.tuples(
        st.integers(0, 1),  # poll
        st.integers(0, PHONES - 1),
        st.lists(st.integers(0, 3), min_size=0, max_size=3, unique=True).map(sorted),
    ),
    min_size=1,
    max_size=25,
)


@PROPERTY_SETTINGS
@given(ballots_for_two_polls, st.randoms(use_true_random=False), st.booleans())
def test_moving_independent_polls_ballots_between_blocks_keeps_results(
    ballots: list[tuple[int, int, list[int]]], rng: object, revote: bool
) -> None:
    def run(order: list[int], block_size: int) -> list[object]:
        h = Harness.create()
        org = h.register_org("prop-city")
        h.execute(
            [
                h.sign(h.attester, EnrollVoter(voter_phone(p), voter_key(p, 0).public_key))
                for p in range(PHONES)
            ]
        )
        creates = [
            h.sign(
                org,
                policy_poll(
                    "prop-city",
                    h.now_ms,
                    [question(options=("a", "b", "c", "d"), max_selections=2)],
                    revote=revote,
                ),
            ),
            h.sign(
                org,
                policy_poll(
                    "prop-city", h.now_ms, [budget_question([1, 2, 3, 4], 5)], revote=revote
                ),
            ),
        ]
        h.execute(creates)
        txs = []
        for index in order:
            poll, phone, chosen = ballots[index]
            body = CastBallot(creates[poll].tx_id, (tuple(chosen),))
            txs.append(h.sign(voter_key(phone, 0), body))
        for start in range(0, len(txs), block_size):
            h.execute(txs[start : start + block_size])
        return [queries.results(h.state, c.tx_id, h.now_ms) for c in creates]

    in_order = list(range(len(ballots)))
    # interleave the two polls differently, keeping each poll's own order
    per_poll = [[i for i in in_order if ballots[i][0] == p] for p in (0, 1)]
    merged: list[int] = []
    while per_poll[0] or per_poll[1]:
        pick = rng.choice([p for p in (0, 1) if per_poll[p]])  # type: ignore[attr-defined]
        merged.append(per_poll[pick].pop(0))
    assert run(in_order, 1) == run(merged, rng.randint(1, 6))  # type: ignore[attr-defined]


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=6),
    max_leaves=30,
)


@PROPERTY_SETTINGS
@given(st.sampled_from(sorted(BODY_TYPES)), values, st.binary(max_size=64))
def test_arbitrary_bodies_get_a_receipt_and_never_raise(
    kind: str, value: encoding.Value, raw: bytes
) -> None:
    h = Harness.create()
    org = h.register_org("prop-city")
    voter = h.enroll("fuzz")
    poll_id = h.create_poll(org, policy_poll("prop-city", h.now_ms))
    shaped = encoding.encode([poll_id, value]) if kind == "cast_ballot" else b""
    bodies = [encoding.encode(value), raw, shaped]
    txs = [h.sign_raw(signer, kind, body) for body in bodies for signer in (voter, org, h.admin)]
    receipts = h.execute(txs)
    assert len(receipts) == len(txs)
    assert all(r.code in CODES for r in receipts)
