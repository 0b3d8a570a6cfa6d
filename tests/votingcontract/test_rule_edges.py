"""Edges of rules and views that mutation testing found unchecked (issue 12): the receipt
of a malformed body, a poll that opens when it closes, a budget option costing exactly 1,
a poll's status at its closing millisecond, a pending key in the voter view, the E.164
digit counts, refusal and stored-record texts.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from chain import encoding
from chain.errors import DecodeError
from tests.votingcontract.helpers import (
    Harness,
    budget_question,
    phone_id_of,
    policy_poll,
    seeded_key,
)
from votingcontract import EnrollVoter, ReasonCode, limits, normalise_e164
from votingcontract.context import BlockContext
from votingcontract.execute import execute_block
from votingcontract.polls import poll_problem
from votingcontract.queries import voter_info
from votingcontract.reasons import Refused
from votingcontract.receipts import Receipt
from votingcontract.records import OrgKeyRecord, OrgRecord, PollRecord, read_count, read_poll
from votingcontract.state_keys import stat


def test_a_malformed_body_gets_a_receipt_for_its_own_tx_and_position() -> None:
    h = Harness.create()
    good = h.sign(h.attester, EnrollVoter(phone_id_of("alice"), seeded_key("a").public_key))
    bad = h.sign_raw(h.admin, "register_org", encoding.encode([1, 2]))
    context = BlockContext(h.chain_id, 1, h.now_ms)
    receipts, _ = execute_block(h.state, context, [good, bad])
    assert receipts[1] == Receipt(bad.tx_id, 1, ReasonCode.MALFORMED_BODY.value)


def test_a_poll_that_closes_when_it_opens_is_a_bad_schedule() -> None:
    body = policy_poll("seoul-city", 10_000, lasts_ms=0)
    assert body.opens_at_ms == body.closes_at_ms
    assert poll_problem(body, 5_000) == "bad_schedule: closes_at: is not after opens_at"
    assert poll_problem(policy_poll("seoul-city", 10_000, lasts_ms=1), 5_000) is None


def test_a_budget_option_may_cost_exactly_one() -> None:
    body = policy_poll("seoul-city", 10_000, questions=[budget_question([1, 1], cap=2)])
    assert poll_problem(body, 5_000) is None


def test_a_poll_is_closed_from_its_closing_millisecond() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms))
    record = read_poll(h.state, poll_id)
    assert record is not None
    assert record.status(record.closes_at_ms - 1) == "open"
    assert record.status(record.closes_at_ms) == "closed"
    assert record.to_dict(record.closes_at_ms)["status"] == "closed"


def test_the_voter_view_shows_a_pending_key_and_when_it_takes_over() -> None:
    h = Harness.create()
    old = h.enroll("alice")
    new = seeded_key("alice-new")
    enrolled_at = h.now_ms
    receipt = h.submit(h.attester, EnrollVoter(phone_id_of("alice"), new.public_key))
    assert receipt.code == "accepted"
    effective = enrolled_at + limits.KEY_REPLACEMENT_DELAY_MS
    info = voter_info(h.state, phone_id_of("alice"), h.now_ms)
    assert info is not None
    assert info.to_dict() == {
        "phone_id": phone_id_of("alice").hex(),
        "active_key": old.public_key.hex(),
        "enrolled_height": 1,
        "enrollments": 2,
        "pending_key": new.public_key.hex(),
        "pending_effective_at_ms": effective,
    }


@pytest.mark.parametrize("number", ["+12345678", "+8210123456", "+82101234567", "+123456789012345"])
def test_e164_numbers_of_8_to_15_digits_are_accepted(number: str) -> None:
    assert normalise_e164(number) == number


@pytest.mark.parametrize(("number", "digits"), [("+1234567", 7), ("+1234567890123456", 16)])
def test_e164_numbers_of_7_or_16_digits_are_refused_saying_so(number: str, digits: int) -> None:
    message = f"{number!r} has {digits} digits; E.164 numbers have 8 to 15"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        normalise_e164(number)


def test_a_country_code_that_is_not_digits_is_named() -> None:
    with pytest.raises(ValueError, match=r"^country code '8x' is not digits$"):
        normalise_e164("010-1234-5678", "8x")


def test_a_refusal_reads_code_then_detail_or_description() -> None:
    assert str(Refused(ReasonCode.ORG_EXISTS, "seoul-city")) == "org_exists: seoul-city"
    plain = Refused(ReasonCode.ORG_EXISTS)
    assert str(plain) == f"org_exists: {ReasonCode.ORG_EXISTS.description}"
    assert ReasonCode.ORG_EXISTS.description


class _Store:
    def __init__(self, items: dict[bytes, bytes]) -> None:
        self.items = items

    def get(self, key: bytes) -> bytes | None:
        return self.items.get(key)


@pytest.mark.parametrize(
    ("decode", "value", "message"),
    [
        (OrgRecord.decode, [1], "org record: expected 3 fields, got 1"),
        (OrgKeyRecord.decode, [1], "org key record: expected 2 fields, got 1"),
        (
            lambda data: PollRecord.decode(b"\0" * 32, data),
            [1],
            "poll record: expected 6 fields, got 1",
        ),
        (
            lambda data: read_count(_Store({b"k": data}), b"k"),
            "3",
            "counter: expected an integer, got str",
        ),
    ],
    ids=["org", "org-key", "poll", "counter"],
)
def test_a_damaged_stored_record_is_named(decode: Any, value: Any, message: str) -> None:
    with pytest.raises(DecodeError, match=f"^{re.escape(message)}$"):
        decode(encoding.encode(value))


def test_a_stored_counter_reads_back_and_an_absent_one_is_zero() -> None:
    assert read_count(_Store({b"k": encoding.encode(3)}), b"k") == 3
    assert read_count(_Store({}), b"k") == 0


def test_an_unknown_stat_counter_is_named() -> None:
    assert stat("ballots") == b"stat/ballots"
    with pytest.raises(KeyError, match=r"unknown stat counter 'votes'"):
        stat("votes")
