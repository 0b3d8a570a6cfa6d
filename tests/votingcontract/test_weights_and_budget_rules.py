"""Weighted rolls and Decidim's participatory-budget rules (issue 14, PROTOCOL.md 11.4-11.7).

Weighted: a roll entry carries a weight fixed when it is listed; each ballot counts with
the weight of the entry that admitted its voter; a revote takes back exactly what the
previous ballot added; results say the poll is weighted and give weights and ballots.
Budget: a ballot must spend at least min_spend_percent of the cap; Decidim's minimum and
maximum number of projects are the question's min_selections and max_selections.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import encoding
from chain.errors import DecodeError
from votingcontract import (
    Access,
    CastBallot,
    CreatePoll,
    EnrollVoter,
    ExtendRoll,
    queries,
    state_keys,
)
from votingcontract.limits import KEY_REPLACEMENT_DELAY_MS, MAX_WEIGHT
from votingcontract.poll_spec import Option, Question
from votingcontract.polls import poll_problem
from votingcontract.reasons import ReasonCode
from votingcontract.records import BallotRecord, read_poll
from votingcontract.results import calculate_results

from .helpers import DAY_MS, HOUR_MS, Harness, phone_id_of, policy_poll, seeded_key

R = ReasonCode
ORG = "seoul-city"


def _org(h: Harness) -> Any:
    if queries.get_org(h.state, ORG) is None:
        h.register_org(ORG)
    return seeded_key(f"org-{ORG}-0")


def _weighted_poll(h: Harness, weights: dict[str, int], **kwargs: Any) -> bytes:
    """A poll whose roll lists the phones of `weights` (label -> weight)."""
    labels = list(weights)
    access = Access(
        roll=(tuple(phone_id_of(label) for label in labels), ()),
        roll_weights=(tuple(weights[label] for label in labels), ()),
    )
    return h.create_poll(_org(h), policy_poll(ORG, h.now_ms, access=access, **kwargs))


def _results(h: Harness, poll_id: bytes) -> dict[str, Any]:
    result = queries.results(h.state, poll_id, h.now_ms)
    assert result is not None
    return result.to_dict()


# Weighted tallies.


def test_each_ballot_counts_with_its_voters_weight() -> None:
    h = Harness.create()
    alice, bob, carol = h.enroll("alice"), h.enroll("bob"), h.enroll("carol")
    poll_id = _weighted_poll(h, {"alice": 3, "bob": 1, "carol": 5})
    for voter, choice in ((alice, 0), (bob, 1), (carol, 0)):
        assert h.submit(voter, CastBallot(poll_id, ((choice,),))).accepted
    results = _results(h, poll_id)
    assert results["weighted"] is True
    assert (results["participants"], results["participant_weight"]) == (3, 9)
    options = results["questions"][0]["options"]
    assert [(o["count"], o["ballots"], o["percent"]) for o in options] == [
        (8, 2, "88.89"),
        (1, 1, "11.11"),
    ]


def test_an_unweighted_poll_says_so_and_its_ballots_equal_its_counts() -> None:
    h = Harness.create()
    alice = h.enroll("alice")
    access = Access(roll=((phone_id_of("alice"),), ()))
    poll_id = h.create_poll(_org(h), policy_poll(ORG, h.now_ms, access=access))
    assert h.submit(alice, CastBallot(poll_id, ((1,),))).accepted
    results = _results(h, poll_id)
    assert results["weighted"] is False
    assert (results["participants"], results["participant_weight"]) == (1, 1)
    options = results["questions"][0]["options"]
    assert [(o["count"], o["ballots"]) for o in options] == [(0, 0), (1, 1)]
    # its stored records keep the layout they always had: no weight anywhere
    stored = h.state.get(state_keys.ballot(poll_id, phone_id_of("alice")))
    assert stored is not None and len(encoding.decode(stored)) == 3
    assert h.state.get(state_keys.roll_phone(poll_id, phone_id_of("alice"))) == encoding.encode(
        True
    )
    assert not list(h.state.items(state_keys.TALLY_BALLOTS))
    assert not list(h.state.items(state_keys.PARTICIPANT_WEIGHT))


def test_a_revote_replaces_the_weighted_contribution() -> None:
    h = Harness.create()
    alice, bob = h.enroll("alice"), h.enroll("bob")
    poll_id = _weighted_poll(h, {"alice": 3, "bob": 2}, revote=True)
    assert h.submit(alice, CastBallot(poll_id, ((0,),))).accepted
    assert h.submit(bob, CastBallot(poll_id, ((0,),))).accepted
    assert h.submit(alice, CastBallot(poll_id, ((1,),))).accepted
    results = _results(h, poll_id)
    options = results["questions"][0]["options"]
    assert [(o["count"], o["ballots"]) for o in options] == [(2, 1), (3, 1)]
    assert (results["participants"], results["participant_weight"]) == (2, 5)
    record = h.state.get(state_keys.ballot(poll_id, phone_id_of("alice")))
    assert record is not None and BallotRecord.decode(record).weight == 3


def test_a_revote_with_a_new_key_takes_back_the_weight_the_first_ballot_added() -> None:
    """The weight comes from the entry that admitted the voter, which can change between
    ballots when the voter re-enrolls: the record's weight, not today's, is taken back."""
    h = Harness.create()
    old_key, new_key = h.enroll("alice"), seeded_key("alice-new-phone")
    access = Access(roll=((), (old_key.public_key, new_key.public_key)), roll_weights=((), (2, 5)))
    spec = policy_poll(ORG, h.now_ms, access=access, revote=True, lasts_ms=3 * DAY_MS)
    poll_id = h.create_poll(_org(h), spec)
    assert h.submit(old_key, CastBallot(poll_id, ((0,),))).accepted
    enroll = EnrollVoter(phone_id_of("alice"), new_key.public_key)
    assert h.submit(h.attester, enroll).accepted
    h.advance(KEY_REPLACEMENT_DELAY_MS)
    assert h.submit(new_key, CastBallot(poll_id, ((1,),))).accepted
    results = _results(h, poll_id)
    options = results["questions"][0]["options"]
    assert [(o["count"], o["ballots"]) for o in options] == [(0, 0), (5, 1)]
    assert (results["participants"], results["participant_weight"]) == (1, 5)


def test_the_phone_entry_admits_before_the_key_entry_and_gives_the_weight() -> None:
    h = Harness.create()
    alice, bob = h.enroll("alice"), h.enroll("bob")
    access = Access(
        roll=((phone_id_of("alice"),), (alice.public_key, bob.public_key)),
        roll_weights=((4,), (9, 6)),
    )
    poll_id = h.create_poll(_org(h), policy_poll(ORG, h.now_ms, access=access))
    assert h.submit(alice, CastBallot(poll_id, ((0,),))).accepted
    assert h.submit(bob, CastBallot(poll_id, ((1,),))).accepted
    options = _results(h, poll_id)["questions"][0]["options"]
    assert [o["count"] for o in options] == [4, 6]


def test_a_weighted_budget_is_funded_by_weight() -> None:
    h = Harness.create()
    alice, bob, carol = h.enroll("alice"), h.enroll("bob"), h.enroll("carol")
    projects = Question(
        "Which projects?", (Option("park", 6), Option("library", 5), Option("road", 4)), 1, 3, 10
    )
    poll_id = _weighted_poll(h, {"alice": 10, "bob": 1, "carol": 1}, questions=(projects,))
    assert h.submit(alice, CastBallot(poll_id, ((0,),))).accepted
    assert h.submit(bob, CastBallot(poll_id, ((1, 2),))).accepted
    assert h.submit(carol, CastBallot(poll_id, ((1, 2),))).accepted
    question = _results(h, poll_id)["questions"][0]
    # unweighted, library and road (2 ballots each) would win; by weight the park does
    assert question["funded"] == [0, 2]


def test_results_of_a_hidden_weighted_poll_still_say_weighted() -> None:
    h = Harness.create()
    poll_id = _weighted_poll(h, {"alice": 2}, visibility="after_close")
    results = _results(h, poll_id)
    assert results["visible"] is False and results["weighted"] is True


# Weighted rolls: listing and extending.


def test_extend_roll_with_another_weight_for_a_listed_entry_is_refused() -> None:
    h = Harness.create()
    org = _org(h)
    poll_id = _weighted_poll(h, {"alice": 3}, opens_in_ms=HOUR_MS)
    alice = phone_id_of("alice")
    before = dict(h.state.items(b""))
    conflict = h.submit(org, ExtendRoll(poll_id, (alice,), (), ((5,), ())))
    assert conflict.code == R.WEIGHT_CONFLICT
    assert dict(h.state.items(b"")) == before
    # the same weight again is a repeat, which adds nothing
    assert h.submit(org, ExtendRoll(poll_id, (alice,), (), ((3,), ()))).accepted
    assert dict(h.state.items(b"")) == before


def test_one_entry_listed_twice_with_two_weights_is_refused() -> None:
    h = Harness.create()
    org = _org(h)
    poll_id = _weighted_poll(h, {}, opens_in_ms=HOUR_MS)
    bob = phone_id_of("bob")
    twice = ExtendRoll(poll_id, (bob, bob), (), ((2, 7), ()))
    assert h.submit(org, twice).code == R.WEIGHT_CONFLICT
    access = Access(roll=((bob, bob), ()), roll_weights=((2, 7), ()))
    refused = h.submit(org, policy_poll(ORG, h.now_ms, access=access))
    assert refused.code == R.WEIGHT_CONFLICT
    same = ExtendRoll(poll_id, (bob, bob), (), ((2, 2), ()))
    assert h.submit(org, same).accepted
    assert h.state.get(state_keys.roll_phone(poll_id, bob)) == encoding.encode(2)
    assert h.state.get(state_keys.roll_count(poll_id)) == encoding.encode(1)


def test_extend_roll_weights_must_match_the_roll() -> None:
    h = Harness.create()
    org = _org(h)
    weighted = _weighted_poll(h, {}, opens_in_ms=HOUR_MS)
    plain = h.create_poll(
        org, policy_poll(ORG, h.now_ms, access=Access(roll=((), ())), opens_in_ms=HOUR_MS)
    )
    bob = phone_id_of("bob")
    assert h.submit(org, ExtendRoll(weighted, (bob,), ())).code == R.WEIGHTS_MISMATCH
    assert h.submit(org, ExtendRoll(plain, (bob,), (), ((1,), ()))).code == R.WEIGHTS_MISMATCH
    assert h.submit(org, ExtendRoll(weighted, (bob,), (), ((4,), ()))).accepted
    h.advance(HOUR_MS)
    assert h.submit(h.enroll("bob"), CastBallot(weighted, ((1,),))).accepted
    assert _results(h, weighted)["questions"][0]["options"][1]["count"] == 4


def test_a_weighted_poll_stays_weighted_when_stored() -> None:
    h = Harness.create()
    poll_id = _weighted_poll(h, {"alice": 2})
    poll = read_poll(h.state, poll_id)
    assert poll is not None
    assert poll.spec.access.roll_weights == ((), ())
    assert poll.to_dict()["weighted"] is True
    assert poll.to_dict()["access"]["roll_weights"] == {}


# Encoding: old bytes unchanged, weights bounded and one per entry.


def test_an_unweighted_roll_and_extend_roll_keep_their_old_bytes() -> None:
    p = phone_id_of("alice")
    assert Access(roll=((p,), ())).to_value()[0] == [[p], []]
    assert ExtendRoll(p, (p,), ()).to_value() == [p, [p], []]
    weighted = Access(roll=((p,), ()), roll_weights=((7,), ()))
    assert weighted.to_value()[0] == [[p], [], [[7], []]]
    assert ExtendRoll(p, (p,), (), ((7,), ())).to_value() == [p, [p], [], [[7], []]]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([[0], []], "roll.weights.phone_weights[0]: 0 is outside"),
        ([[MAX_WEIGHT + 1], []], f"roll.weights.phone_weights[0]: {MAX_WEIGHT + 1} is outside"),
        ([[], []], "roll.weights.phone_weights: one weight per roll entry, 1, got 0"),
        ([[1, 1], []], "roll.weights.phone_weights: one weight per roll entry, 1, got 2"),
        ([[1], [1]], "roll.weights.key_weights: one weight per roll entry, 0, got 1"),
        (None, "roll: a trailing optional field is nil"),
    ],
)
def test_roll_weights_out_of_bounds_are_malformed(weights: Any, message: str) -> None:
    p = phone_id_of("alice")
    value = policy_poll(ORG, 0, access=Access(roll=((p,), ()))).to_value()
    value[10][0] = [[p], [], weights]
    with pytest.raises(DecodeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        CreatePoll.decode(encoding.encode(value))


def test_the_largest_weight_decodes() -> None:
    p = phone_id_of("alice")
    body = ExtendRoll(p, (p,), (), ((MAX_WEIGHT,), ()))
    assert ExtendRoll.decode(body.encode()) == body


def test_roll_weights_in_a_poll_file_name_every_entry() -> None:
    p, q = phone_id_of("alice"), phone_id_of("bob")
    access = Access.parse_dict(
        {"roll_phone_ids": [p.hex(), q.hex()], "roll_weights": {p.hex(): 3, q.hex().upper(): 1}},
        "access",
    )
    assert access.roll_weights == ((3, 1), ())
    with pytest.raises(
        ValueError, match=f"access.roll_weights: no weight for roll entry {q.hex()}"
    ):
        Access.parse_dict(
            {"roll_phone_ids": [p.hex(), q.hex()], "roll_weights": {p.hex(): 3}}, "access"
        )
    with pytest.raises(ValueError, match=f"{q.hex()} is not a phone id or voter key of this roll"):
        Access.parse_dict(
            {"roll_phone_ids": [p.hex()], "roll_weights": {p.hex(): 3, q.hex(): 1}}, "access"
        )
    empty = Access.parse_dict({"roll_weights": {}}, "access")
    assert (empty.roll, empty.roll_weights) == (((), ()), ((), ()))
    body = ExtendRoll.from_dict(
        {"poll_id": p.hex(), "phone_ids": [q.hex()], "weights": {q.hex(): 2}}
    )
    assert body.weights == ((2,), ()) and body.to_dict()["weights"] == {q.hex(): 2}


# Decidim's budget rules.


def _budget(min_spend_percent: int, min_projects: int = 0, max_projects: int = 3) -> Question:
    options = (Option("park", 3), Option("library", 4), Option("road", 5))
    return Question(
        "Which projects?", options, min_projects, max_projects, 10, None, min_spend_percent
    )


def test_a_ballot_spending_less_than_the_minimum_share_is_refused() -> None:
    h = Harness.create()
    alice, bob, carol = h.enroll("alice"), h.enroll("bob"), h.enroll("carol")
    poll_id = h.create_poll(_org(h), policy_poll(ORG, h.now_ms, questions=(_budget(50),)))
    assert h.submit(alice, CastBallot(poll_id, ((0,),))).code == R.UNDER_MIN_SPEND  # 3 of 10
    assert h.submit(alice, CastBallot(poll_id, ((),))).code == R.UNDER_MIN_SPEND
    assert h.submit(bob, CastBallot(poll_id, ((2,),))).accepted  # 5 of 10: exactly 50%
    assert h.submit(carol, CastBallot(poll_id, ((0, 1),))).accepted
    options = _results(h, poll_id)["questions"][0]["options"]
    assert [o["count"] for o in options] == [1, 1, 1]


def test_the_number_of_projects_is_judged_before_the_minimum_spend() -> None:
    h = Harness.create()
    alice = h.enroll("alice")
    question = _budget(90, min_projects=2, max_projects=2)
    poll_id = h.create_poll(_org(h), policy_poll(ORG, h.now_ms, questions=(question,)))
    # Decidim's minimum and maximum number of projects: min and max selections
    assert h.submit(alice, CastBallot(poll_id, ((2,),))).code == R.BAD_SELECTION_COUNT
    assert h.submit(alice, CastBallot(poll_id, ((0, 1, 2),))).code == R.BAD_SELECTION_COUNT
    assert h.submit(alice, CastBallot(poll_id, ((0,),))).code == R.BAD_SELECTION_COUNT
    assert h.submit(alice, CastBallot(poll_id, ((0, 2),))).code == R.UNDER_MIN_SPEND  # 8 < 9
    assert h.submit(alice, CastBallot(poll_id, ((1, 2),))).accepted  # 9 of 10: 90%


def test_a_minimum_spend_no_ballot_can_reach_is_an_invalid_poll() -> None:
    h = Harness.create()
    org = _org(h)
    # the two dearest projects cost 9 of 10: 90% is reachable, 91% is not
    assert h.submit(org, policy_poll(ORG, h.now_ms, questions=(_budget(90, 1, 2),))).accepted
    spec = policy_poll(ORG, h.now_ms, questions=(_budget(91, 1, 2),))
    assert h.submit(org, spec).code == R.INVALID_POLL
    assert poll_problem(spec, h.now_ms) == (
        "invalid_poll: question 1: min_spend_percent 91: the 2 dearest projects cost 9, "
        "less than 91% of the budget of 10, so no ballot could be accepted"
    )
    assert h.submit(org, policy_poll(ORG, h.now_ms, questions=(_budget(100, 1, 3),))).accepted


def test_the_budget_field_keeps_its_old_bytes_without_a_minimum_spend() -> None:
    assert _budget(0).to_value()[4] == 10
    assert _budget(40).to_value()[4] == [10, 40]
    for percent in (1, 100):
        assert Question.from_value(_budget(percent).to_value(), "q") == _budget(percent)
    for bad, message in (
        ([10, 0], r"q\.min_spend_percent: 0 is outside"),
        ([10, 101], r"q\.min_spend_percent: 101 is outside"),
        ([0, 50], r"q\.budget_cap: 0 is outside"),
        ("10", r"q\.budget_cap: expected an integer"),
        ([10], r"q.budget: expected 2 fields"),
    ):
        value = _budget(0).to_value()
        value[4] = bad
        with pytest.raises(DecodeError, match=message):
            Question.from_value(value, "q")


def test_a_minimum_spend_in_a_poll_file_needs_a_budget() -> None:
    question = {"text": "Q", "options": [{"text": "a", "cost": 2}, {"text": "b", "cost": 3}]}
    parsed = Question.parse_dict({**question, "budget_cap": 5, "min_spend_percent": 60}, "q")
    assert (parsed.budget_cap, parsed.min_spend_percent) == (5, 60)
    assert parsed.to_dict()["min_spend_percent"] == 60
    with pytest.raises(
        ValueError, match=r"q\.min_spend_percent: only a question with a budget_cap"
    ):
        Question.parse_dict({"text": "Q", "options": ["a", "b"], "min_spend_percent": 60}, "q")


# Property: weighted tallies are the weights of each voter's last ballot.

VOTERS = ("v0", "v1", "v2", "v3")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(1, MAX_WEIGHT), min_size=len(VOTERS), max_size=len(VOTERS)),
    st.lists(
        st.tuples(st.integers(0, len(VOTERS) - 1), st.sets(st.integers(0, 2), max_size=3)),
        max_size=12,
    ),
)
def test_weighted_tallies_equal_the_last_ballots_times_their_weights(
    weights: list[int], ballots: list[tuple[int, set[int]]]
) -> None:
    h = Harness.create()
    keys = [h.enroll(label) for label in VOTERS]
    q = Question("Which?", (Option("a"), Option("b"), Option("c")), 0, 3)
    poll_id = _weighted_poll(
        h, dict(zip(VOTERS, weights, strict=True)), questions=(q,), revote=True
    )
    last: dict[int, tuple[int, ...]] = {}
    for voter, chosen in ballots:
        selection = tuple(sorted(chosen))
        assert h.submit(keys[voter], CastBallot(poll_id, (selection,))).accepted
        last[voter] = selection
    counts: dict[int, int] = defaultdict(int)
    ballot_counts: dict[int, int] = defaultdict(int)
    for voter, selection in last.items():
        for option in selection:
            counts[option] += weights[voter]
            ballot_counts[option] += 1
    poll = read_poll(h.state, poll_id)
    assert poll is not None
    results = calculate_results(h.state, poll, h.now_ms)
    assert [o.count for o in results.questions[0].options] == [counts[i] for i in range(3)]
    assert [o.ballots for o in results.questions[0].options] == [ballot_counts[i] for i in range(3)]
    assert results.participants == len(last)
    assert results.participant_weight == sum(weights[v] for v in last)
