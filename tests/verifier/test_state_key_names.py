"""How the verifier names a differing state key and value in a rule 11 failure (PROTOCOL.md
10): an auditor reads `tally/<poll>…/question 3/option 258`, not 80 hex digits (issue 12:
mutation testing found this formatting unchecked).
"""

from __future__ import annotations

import pytest

from chain import encoding
from verifier.replay import _describe_value, describe_state_key

POLL = bytes(range(32))


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        (
            b"tally/" + POLL + (3).to_bytes(2, "big") + (258).to_bytes(2, "big"),
            "tally/0001020304050607…/question 3/option 258",
        ),
        (b"tally/" + bytes(35), "tally/0000000000000000…/000000…"),
        (b"stat/polls", "stat/polls"),
        (b"org/seoul-city", "org/seoul-city"),
        (b"org/s\xffx", "org/s\ufffdx"),
        (b"poll/" + POLL + bytes(32), "poll/0001020304050607…/0000000000000000…"),
        (b"noslash", b"noslash".hex()),
        (b"\xff/x", "ff2f78"),
        (b"phone/a/b", "phone/612f62…"),
    ],
)
def test_a_state_key_is_named_by_its_prefix_and_short_hex(key: bytes, shown: str) -> None:
    assert describe_state_key(key) == shown


def test_a_state_value_is_shown_decoded_or_as_hex_and_cut_short() -> None:
    assert _describe_value(encoding.encode([1, "a" * 100])) == "[1, '" + "a" * 55
    assert _describe_value(encoding.encode([1, "a"])) == "[1, 'a']"
    assert _describe_value(b"\xc1" * 40) == "c1" * 16
