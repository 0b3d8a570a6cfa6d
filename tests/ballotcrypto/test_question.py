"""A question of an encrypted ballot: encrypt, encode, decode, validate; and the
property that an encrypted tally decrypts to the counts of the same ballots in clear."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import elgamal, question
from ballotcrypto.dlog import BoundedLog
from ballotcrypto.errors import InvalidBallotProof, MalformedCrypto
from ballotcrypto.question import EncryptedQuestion, QuestionRule
from chain.encoding import decode, encode
from tests.ballotcrypto.fixtures import Scalars, ballot_context, keypair, other_contexts

PICK_ONE = QuestionRule(4, 1, 1)
BUDGET = QuestionRule(4, 0, 4, costs=(300, 200, 500, 100), cap=800, floor=200)


def cast(rule: QuestionRule, selections: list[int], seed: int, question_index: int = 0):  # type: ignore[no-untyped-def]
    scalars = Scalars(seed)
    key = keypair(scalars)
    context = ballot_context(question_index)
    randomness = scalars.many(rule.options)
    encrypted = question.encrypt(
        context,
        key.public,
        rule,
        selections,
        randomness,
        scalars.many(question.nonce_count(rule)),
    )
    return key, context, randomness, encrypted


@pytest.mark.parametrize(
    ("rule", "selections"),
    [
        (PICK_ONE, [0, 0, 1, 0]),
        (QuestionRule(5, 0, 3), [1, 0, 1, 1, 0]),
        (QuestionRule(3, 0, 3), [1, 1, 1]),  # no count proof: 0/1 proofs imply [0, 3]
        (BUDGET, [1, 0, 1, 0]),
    ],
)
def test_an_honest_question_validates_after_a_round_trip(
    rule: QuestionRule, selections: list[int]
) -> None:
    key, context, _, encrypted = cast(rule, selections, 1)
    assert (encrypted.count_proof is None) == (not rule.counts_selections)
    decoded = question.decode(decode(encode(encrypted.to_value())), rule, "question")
    assert decoded == encrypted
    question.validate(context, key.public, rule, decoded)


@pytest.mark.parametrize("where", ["voter", "poll", "chain", "question"])
def test_a_question_copied_elsewhere_is_refused(where: str) -> None:
    key, context, _, encrypted = cast(PICK_ONE, [0, 1, 0, 0], 2)
    with pytest.raises(InvalidBallotProof, match="option 0: 0/1"):
        question.validate(other_contexts(context)[where], key.public, PICK_ONE, encrypted)


def test_each_failing_proof_is_named() -> None:
    key, context, _, encrypted = cast(BUDGET, [0, 1, 1, 0], 3)
    proofs = list(encrypted.option_proofs)
    proofs[2] = proofs[1]
    with pytest.raises(InvalidBallotProof, match="question 0 option 2: 0/1"):
        question.validate(
            context, key.public, BUDGET, dataclasses.replace(encrypted, option_proofs=tuple(proofs))
        )
    with pytest.raises(InvalidBallotProof, match="budget"):
        question.validate(context, key.public, dataclasses.replace(BUDGET, cap=799), encrypted)
    key, context, _, one = cast(PICK_ONE, [0, 0, 1, 0], 5)
    _, _, _, other = cast(PICK_ONE, [0, 0, 1, 0], 6)  # another ballot's count proof
    with pytest.raises(InvalidBallotProof, match="question 0: selection count"):
        question.validate(
            context, key.public, PICK_ONE, dataclasses.replace(one, count_proof=other.count_proof)
        )


def test_a_missing_proof_is_a_failed_proof() -> None:
    key, context, _, encrypted = cast(PICK_ONE, [1, 0, 0, 0], 4)
    with pytest.raises(InvalidBallotProof, match="count"):
        question.validate(
            context, key.public, PICK_ONE, dataclasses.replace(encrypted, count_proof=None)
        )
    key, context, _, budgeted = cast(BUDGET, [1, 0, 0, 0], 4)
    with pytest.raises(InvalidBallotProof, match="budget proof"):
        question.validate(
            context, key.public, BUDGET, dataclasses.replace(budgeted, budget_proof=None)
        )
    with pytest.raises(InvalidBallotProof, match="ciphertexts"):
        question.validate(
            context,
            key.public,
            BUDGET,
            dataclasses.replace(budgeted, ciphertexts=budgeted.ciphertexts[:3]),
        )


def test_malformed_questions_are_refused() -> None:
    _, _, _, encrypted = cast(PICK_ONE, [1, 0, 0, 0], 5)
    value = encrypted.to_value()
    for bad, field in (
        ([value[0][:3], value[1], value[2], value[3]], "4 ciphertexts"),
        ([value[0], value[1][:3], value[2], value[3]], "4 option proofs"),
        ([value[0], value[1], None, value[3]], "count"),
        ([value[0], value[1], value[2], value[2]], "budget"),
        (value[:3], "expected"),
        ([[[bytes(32), value[0][0][1]], *value[0][1:]], value[1], value[2], None], "identity"),
    ):
        with pytest.raises(MalformedCrypto, match=field):
            question.decode(bad, PICK_ONE, "question")


rules = st.integers(min_value=1, max_value=4).flatmap(
    lambda options: st.tuples(
        st.just(options),
        st.integers(min_value=0, max_value=options),
    ).flatmap(
        lambda t: st.tuples(
            st.just(t[0]), st.just(t[1]), st.integers(min_value=t[1], max_value=t[0] + 1)
        )
    )
)


@settings(max_examples=10, deadline=None)
@given(rules, st.integers(min_value=0, max_value=2**32), st.data())
def test_encrypted_tallies_equal_the_clear_counts(
    shape: tuple[int, int, int], seed: int, data: st.DataObject
) -> None:
    """Random questions and ballots: every honest ballot validates, and the homomorphic
    sum of the ballots decrypts to the counts a public poll would show."""
    options, minimum, maximum = shape
    rule = QuestionRule(options, minimum, maximum)
    scalars = Scalars(seed)
    key = keypair(scalars)
    context = ballot_context()
    ballots = data.draw(
        st.lists(
            st.lists(st.integers(0, 1), min_size=options, max_size=options).filter(
                lambda s: minimum <= sum(s) <= maximum
            ),
            min_size=1,
            max_size=3,
        )
    )
    tally = [elgamal.ZERO] * options
    for selections in ballots:
        encrypted: EncryptedQuestion = question.encrypt(
            context,
            key.public,
            rule,
            selections,
            scalars.many(options),
            scalars.many(question.nonce_count(rule)),
        )
        question.validate(context, key.public, rule, encrypted)
        tally = [elgamal.add(t, c) for t, c in zip(tally, encrypted.ciphertexts, strict=True)]
    table = BoundedLog(len(ballots))
    counts = [table.log(elgamal.decrypt_to_point(key.secret, t)) for t in tally]
    assert counts == [sum(column) for column in zip(*ballots, strict=True)]
