"""Words people read and stored bytes that mutation testing found unchecked (issue 12,
the survivors left after test_decode_field_names.py and test_rule_edges.py):

- the CLI's refusals: an unknown transaction kind lists the known ones, a hex field that
  is not text names the field, a phone number that is not text, an empty poll password;
- the attester's refusal of an empty pepper (an operator's configuration);
- a damaged stored record names its kind (an operator reads it in the node's log);
- the JSON of a poll closed early and of a citizen poll (the RPC serves it);
- the tally key layout of PROTOCOL.md 11 (two bytes for the question, two for the option).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from chain import encoding
from chain.errors import DecodeError
from tests.votingcontract.helpers import Harness, citizen_poll, phone_id_of, policy_poll
from votingcontract import ClosePoll, body_from_dict, normalise_e164
from votingcontract.bodies import BODY_TYPES
from votingcontract.identity import password_gate_key, phone_id
from votingcontract.records import (
    BallotRecord,
    ParticipationRecord,
    PhoneRecord,
    VoterKeyRecord,
    read_poll,
)
from votingcontract.state_keys import parse_tally, tally

H = b"\x11" * 32


def test_an_unknown_kind_lists_the_known_ones() -> None:
    known = ", ".join(BODY_TYPES)
    assert known.startswith("register_org, add_org_key, ")
    message = f"unknown transaction kind 'mint'; known: {known}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        body_from_dict("mint", {})


def test_a_hex_field_that_is_not_text_is_named() -> None:
    with pytest.raises(ValueError, match=r"^poll_id: expected a string, got int$"):
        body_from_dict("close_poll", {"poll_id": 17})


def test_a_phone_number_that_is_not_text_is_refused_saying_so() -> None:
    with pytest.raises(ValueError, match=r"^a phone number is text, got int$"):
        normalise_e164(1012345678)  # type: ignore[arg-type]


def test_an_empty_poll_password_is_refused_saying_so() -> None:
    with pytest.raises(ValueError, match=r"^the poll password is empty$"):
        password_gate_key("", b"\0" * 16)


def test_an_empty_attester_pepper_is_refused_saying_so() -> None:
    with pytest.raises(ValueError, match=r"^the attester pepper is empty$"):
        phone_id(b"", "+821012345678")


@pytest.mark.parametrize(
    ("decode", "value", "message"),
    [
        (PhoneRecord.decode, [1], "phone record: expected 4 fields, got 1"),
        (
            PhoneRecord.decode,
            [H, 1, 1, [H]],
            "phone record replacement: expected 3 fields, got 1",
        ),
        (VoterKeyRecord.decode, [], "voter key record: expected 1 fields, got 0"),
        (BallotRecord.decode, [1], "ballot record: expected 3 to 5 fields, got 1"),
        (
            lambda data: ParticipationRecord.decode(H, H, data),
            [1],
            "participation record: expected 2 fields, got 1",
        ),
    ],
    ids=["phone", "replacement", "voter-key", "ballot", "participation"],
)
def test_a_damaged_stored_record_is_named_by_its_kind(
    decode: Any, value: Any, message: str
) -> None:
    with pytest.raises(DecodeError, match=f"^{re.escape(message)}$"):
        decode(encoding.encode(value))


def test_the_json_of_a_poll_closed_early_says_when() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms))
    closed_at = h.now_ms
    assert h.submit(org, ClosePoll(poll_id)).code == "accepted"
    record = read_poll(h.state, poll_id)
    assert record is not None
    d = record.to_dict(h.now_ms)
    assert (d["closed_early_at_ms"], d["status"]) == (closed_at, "closed")
    assert d["creator_phone_id"] is None


def test_the_json_of_a_citizen_poll_names_its_creators_phone() -> None:
    h = Harness.create()
    voter = h.enroll("alice")
    poll_id = h.create_poll(voter, citizen_poll(h.now_ms))
    record = read_poll(h.state, poll_id)
    assert record is not None
    assert record.to_dict()["creator_phone_id"] == phone_id_of("alice").hex()


def test_a_tally_key_is_the_poll_then_two_bytes_each_for_question_and_option() -> None:
    key = tally(H, 1, 258)
    assert key == b"tally/" + H + b"\x00\x01\x01\x02"
    assert parse_tally(key) == (1, 258)
