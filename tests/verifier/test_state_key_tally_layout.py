"""A weighted poll's ballot-count key (`tallyballots/`, votingcontract/state_keys.py) is
named in a rule 11 failure as its weighted tally key is: the poll, then the question and
option read as the two big-endian 2-byte fields of PROTOCOL.md 11's layout (issue 12:
mutation testing found the prefix and the question's width unchecked).
"""

from __future__ import annotations

import pytest

from verifier.replay import describe_state_key
from votingcontract import state_keys

POLL = bytes(range(32))


@pytest.mark.parametrize("prefix", [state_keys.TALLY, state_keys.TALLY_BALLOTS])
def test_a_tally_key_shows_its_poll_question_and_option(prefix: bytes) -> None:
    key = prefix + POLL + (258).to_bytes(2, "big") + (513).to_bytes(2, "big")
    name = prefix.decode().rstrip("/")
    assert describe_state_key(key) == f"{name}/0001020304050607…/question 258/option 513"
