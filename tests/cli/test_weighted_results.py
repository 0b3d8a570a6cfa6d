"""What `poll results` and `verify` print for weighted and unweighted polls, and the vote
command's own check of a budget question's minimum spend (before anything is signed)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cli.ballot import check_selection
from cli.errors import CliError
from cli.poll_view import describe_poll
from cli.results_text import participants_text, print_questions
from tests.votingcontract.helpers import Harness, phone_id_of, policy_poll
from votingcontract import Access, CastBallot, queries
from votingcontract.poll_spec import Option, Question


def _results(weights: tuple[int, int] | None) -> dict[str, Any]:
    h = Harness.create()
    org = h.register_org("seoul-city")
    alice, bob = h.enroll("alice"), h.enroll("bob")
    roll = ((phone_id_of("alice"), phone_id_of("bob")), ())
    access = Access(roll=roll, roll_weights=None if weights is None else (weights, ()))
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms, access=access))
    assert h.submit(alice, CastBallot(poll_id, ((0,),))).accepted
    assert h.submit(bob, CastBallot(poll_id, ((1,),))).accepted
    result = queries.results(h.state, poll_id, h.now_ms)
    assert result is not None
    return result.to_dict()


def test_a_weighted_poll_says_so_and_shows_the_ballots_behind_the_votes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = _results((119, 166))
    assert participants_text(results) == (
        "participants: 2 (total weight 285; weighted: each ballot counts with its voter's weight)"
    )
    print_questions(results)
    out = capsys.readouterr().out
    assert re.search(r"option\s+votes\s+ballots\s+share", out), out
    assert re.search(r"Yes\s+119\s+1\s+41\.75%", out), out
    assert re.search(r"No\s+166\s+1\s+58\.25%", out), out


def test_an_unweighted_poll_prints_as_it_always_did(capsys: pytest.CaptureFixture[str]) -> None:
    results = _results(None)
    assert participants_text(results) == "participants: 2"
    print_questions(results, indent="  ")
    out = capsys.readouterr().out
    assert "ballots" not in out and "\n  Q1. Do you agree?" in out
    assert re.search(r"Yes\s+1\s+50\.00%", out), out


def test_the_vote_command_refuses_a_ballot_under_the_minimum_spend() -> None:
    question = {
        "min_selections": 1,
        "max_selections": 3,
        "budget_cap": 100,
        "min_spend_percent": 50,
        "options": [{"cost": 60}, {"cost": 30}, {"cost": 20}],
    }
    with pytest.raises(CliError, match=r"question 2: the chosen projects cost 20; spend at least"):
        check_selection(2, question, [2])
    check_selection(2, question, [1, 2])  # 50 of 100: exactly the minimum
    check_selection(2, {**question, "min_spend_percent": 0}, [2])
    check_selection(2, {k: v for k, v in question.items() if k != "min_spend_percent"}, [2])


def test_poll_show_says_the_roll_is_weighted_and_the_minimum_spend() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    options = (Option("Roof", 60), Option("Lift", 30))
    projects = Question("Which repairs?", options, 1, 2, 100, None, 50)
    access = Access(roll=((phone_id_of("alice"),), ()), roll_weights=((3,), ()))
    spec = policy_poll("seoul-city", h.now_ms, questions=(projects,), access=access)
    poll_id = h.create_poll(org, spec)
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    document = poll.to_dict(h.now_ms)
    document["access"]["roll_size"] = 1  # what the node's poll view adds
    lines = describe_poll(document)
    assert "access:  voter roll (1 on the roll, weighted: each ballot counts with" in "\n".join(
        lines
    )
    assert any("budget 100, spend at least 50% of it" in line for line in lines)
    unweighted = {**document, "access": {"methods": ["roll"], "roll_size": 1}}
    assert "weighted" not in "\n".join(describe_poll(unweighted))
