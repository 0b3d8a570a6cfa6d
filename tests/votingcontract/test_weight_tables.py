"""A weighted roll's weight table in a poll file (roll_weights: {hex id = weight}): voter
keys weigh as phone ids do, and a table or weight of the wrong type is named (issue 12:
mutation testing found the voter-key half and these refusals unchecked).
"""

from __future__ import annotations

import re

import pytest

from votingcontract.poll_spec import parse_weights

P1, P2 = b"\x11" * 32, b"\x12" * 32
K1 = b"\x21" * 32


def test_voter_keys_and_phone_ids_each_get_their_weight() -> None:
    table = {P1.hex(): 3, K1.hex().upper(): 7, P2.hex(): 1}
    assert parse_weights(table, (P1, P2), (K1,), "roll_weights") == ((3, 1), (7,))


def test_a_weight_table_that_is_not_a_table_is_refused_saying_so() -> None:
    message = "roll_weights: expected a table of id = weight, got list"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_weights([3], (P1,), (), "roll_weights")


def test_a_weight_that_is_not_an_integer_names_its_entry() -> None:
    message = f"roll_weights.{K1.hex()}: expected an integer, got str"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_weights({P1.hex(): 1, K1.hex(): "7"}, (P1,), (K1,), "roll_weights")
