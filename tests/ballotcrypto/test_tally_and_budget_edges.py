"""What ballotcrypto/'s whole-package mutation run (issue 12, at e9df01b) found no test
holding: a hostile partial decryption in a tally, what a tally that is still waiting
reports, a budget question without a minimum spend read back from its bytes, the
budget's terms at 2^64 and with a negative cost, and the Benaloh audit's counts."""

from __future__ import annotations

import dataclasses
import re

import pytest

from ballotcrypto import benaloh, budget, decryption, elgamal, question
from ballotcrypto.dlog import BoundedLog
from ballotcrypto.group import Point
from ballotcrypto.question import QuestionRule
from tests.ballotcrypto.fixtures import CHAIN_ID, POLL_ID, Scalars, ballot_context, keypair
from tests.ballotcrypto.trustees import run_ceremony


def _tally_inputs() -> tuple[
    list[elgamal.Ciphertext], list[decryption.PartialDecryption], dict[int, Point]
]:
    ceremony = run_ceremony(2, 3, seed=50)
    scalars = Scalars(51)
    tally = [elgamal.encrypt(ceremony.public_key, m, scalars.one()) for m in (2, 0, 1)]
    partials = [
        decryption.partial_decrypt(CHAIN_ID, POLL_ID, j, share, tally, scalars.many(3))
        for j, share in sorted(ceremony.secret_shares.items())
    ]
    return tally, partials, dict(ceremony.verification_keys)


def test_a_partial_with_one_proof_missing_is_rejected_by_name_and_the_tally_goes_on() -> None:
    tally, partials, keys = _tally_inputs()
    short = dataclasses.replace(partials[0], proofs=partials[0].proofs[:-1])
    outcome = decryption.tally(
        CHAIN_ID,
        POLL_ID,
        tally,
        [short, *partials[1:]],
        keys,
        2,
        BoundedLog(10),
    )
    assert outcome.counts == (2, 0, 1)
    assert outcome.rejected == (
        (1, "partial decryption of trustee 1: 3 shares and 2 proofs for 3 ciphertexts"),
    )


def test_a_tally_still_waiting_names_every_rejected_partial_and_why() -> None:
    tally, partials, keys = _tally_inputs()
    stranger = dataclasses.replace(partials[2], trustee=9)
    outcome = decryption.tally(
        CHAIN_ID,
        POLL_ID,
        tally,
        [partials[0], partials[0], stranger],
        keys,
        2,
        BoundedLog(10),
    )
    assert outcome.counts is None and outcome.valid == (1,)
    assert outcome.rejected == (
        (1, "a second partial decryption"),
        (9, "not a trustee of this poll"),
    )


def test_a_budget_question_without_a_minimum_spend_reads_back_and_validates() -> None:
    """floor 0: the budget proof has an upper part only, and its lower part is nil."""
    rule = QuestionRule(3, 0, 3, costs=(3, 2, 5), cap=7, floor=0)
    scalars = Scalars(52)
    key = keypair(scalars)
    encrypted = question.encrypt(
        ballot_context(),
        key.public,
        rule,
        [1, 1, 0],
        scalars.many(3),
        scalars.many(question.nonce_count(rule)),
    )
    value = encrypted.to_value()
    read = question.decode(value, rule, "q")
    assert read == encrypted and read.budget_proof is not None
    assert read.budget_proof.lower is None and read.budget_proof.upper is not None
    question.validate(ballot_context(), key.public, rule, read)
    assert isinstance(value, list) and isinstance(value[3], list) and value[3][1] is None


def test_budget_terms_with_a_negative_cost_or_costs_of_2_to_the_64_are_refused() -> None:
    key = keypair(Scalars(53))
    with pytest.raises(ValueError, match=re.escape("costs [3, -1], cap 7, floor 0: not a budget")):
        budget.verify(ballot_context(), key.public, [], [3, -1], 7, 0, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^the costs add up to 2\^64 or more$"):
        budget.verify(ballot_context(), key.public, [], [2**63, 2**63], 7, 0, None)  # type: ignore[arg-type]


def test_an_audit_with_another_count_names_every_position_of_the_longest_list() -> None:
    key = keypair(Scalars(54))
    one = [elgamal.encrypt(key.public, 0, 5)]
    assert benaloh.mismatched_options(key.public, one, [0, 0, 0], [5]) == [0, 1, 2]
    assert benaloh.mismatched_options(key.public, one, [0], [5, 6, 7]) == [0, 1, 2]
    assert benaloh.mismatched_options(key.public, one * 3, [0], [5]) == [0, 1, 2]


def test_an_audit_takes_randomness_1() -> None:
    key = keypair(Scalars(55))
    assert (
        benaloh.mismatched_options(key.public, [elgamal.encrypt(key.public, 1, 1)], [1], [1]) == []
    )
