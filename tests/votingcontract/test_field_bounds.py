"""Field bounds and defaults of poll files and stored receipts, with the path of the field
that is wrong in every refusal (issue 12: mutation testing found each of these unchecked).

A person editing a poll file (docs/POLL_FILES.md) must learn which field is wrong; a
replica decoding a stored receipt must refuse one that is not canonical (PROTOCOL.md).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from chain import encoding
from chain.errors import DecodeError
from votingcontract import AddOrgKey, CastBallot, ExtendPoll, ExtendRoll, RevokeOrgKey
from votingcontract.limits import MAX_RADIUS_M
from votingcontract.poll_spec import (
    MAX_LAT_MICRO,
    MAX_LON_MICRO,
    Access,
    Geofence,
    Question,
)
from votingcontract.reasons import ACCEPTED
from votingcontract.receipts import Receipt

HASH = bytes(range(32))
KEY_HEX = "ab" * 32
SALT_HEX = "cd" * 16


def _raises(exc: type[Exception], message: str) -> Any:
    return pytest.raises(exc, match=f"^{re.escape(message)}$")


# ---- questions ---------------------------------------------------------------------------


def test_a_question_without_selection_counts_takes_exactly_one() -> None:
    question = Question.parse_dict({"text": "Q", "options": [{"text": "a"}, {"text": "b"}]}, "q")
    assert (question.min_selections, question.max_selections) == (1, 1)
    assert question.budget_cap is None


def test_a_question_keeps_its_selection_counts_and_budget_cap() -> None:
    question = Question.parse_dict(
        {
            "text": "Q",
            "options": [{"text": "a"}, {"text": "b"}, {"text": "c"}],
            "min_selections": 0,
            "max_selections": 3,
            "budget_cap": 7,
        },
        "q",
    )
    assert (question.min_selections, question.max_selections, question.budget_cap) == (0, 3, 7)


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({"text": "Q"}, "questions[2]: missing field 'options'"),
        ({"options": []}, "questions[2]: missing field 'text'"),
        ({"text": "Q", "options": "ab"}, "questions[2].options: expected a list, got str"),
        ({"text": 5, "options": []}, "questions[2].text: expected a string, got int"),
        (
            {"text": "Q", "options": [], "min_selections": "1"},
            "questions[2].min_selections: expected an integer, got str",
        ),
        (
            {"text": "Q", "options": [], "max_selections": "1"},
            "questions[2].max_selections: expected an integer, got str",
        ),
        (
            {"text": "Q", "options": [], "budget_cap": "9"},
            "questions[2].budget_cap: expected an integer, got str",
        ),
        ("Q", "questions[2]: expected a table/object, got str"),
    ],
)
def test_a_bad_question_names_the_field(d: Any, message: str) -> None:
    with _raises(ValueError, message):
        Question.parse_dict(d, "questions[2]")


# ---- access ------------------------------------------------------------------------------


def test_a_roll_of_phone_ids_alone_or_voter_keys_alone_is_a_roll() -> None:
    phones = Access.parse_dict({"roll_phone_ids": [HASH.hex()]}, "access")
    keys = Access.parse_dict({"roll_voter_keys": [KEY_HEX]}, "access")
    empty = Access.parse_dict({"roll": True}, "access")
    assert phones.roll == ((HASH,), ())
    assert keys.roll == ((), (bytes.fromhex(KEY_HEX),))
    assert empty.roll == ((), ())
    assert Access.parse_dict({}, "access").is_public
    assert Access.parse_dict({"roll": False}, "access").roll is None


@pytest.mark.parametrize(
    ("d", "message"),
    [
        (
            {"roll_phone_ids": ["ab" * 31]},
            "access.roll_phone_ids[0]: expected 32 bytes of hex, got 31",
        ),
        (
            {"roll_voter_keys": [KEY_HEX, "ab" * 33]},
            "access.roll_voter_keys[1]: expected 32 bytes of hex, got 33",
        ),
        (
            {"password_gate_key": "ab" * 31, "password_salt": SALT_HEX},
            "access.password_gate_key: expected 32 bytes of hex, got 31",
        ),
        (
            {"password_gate_key": KEY_HEX, "password_salt": "cd" * 15},
            "access.password_salt: expected 16 bytes of hex, got 15",
        ),
        ({"password_gate_key": KEY_HEX}, "access: missing field 'password_salt'"),
        ({"qr_gate_key": "ab" * 33}, "access.qr_gate_key: expected 32 bytes of hex, got 33"),
        ({"ticket_keys": ["ab" * 31]}, "access.ticket_keys[0]: expected 32 bytes of hex, got 31"),
        (
            {"geofence": {"lat_micro": 1, "lon_micro": 2}},
            "access.geofence: missing field 'radius_m'",
        ),
        ("public", "access: expected a table/object, got str"),
    ],
)
def test_bad_access_names_the_field(d: Any, message: str) -> None:
    with _raises(ValueError, message):
        Access.parse_dict(d, "access")


def test_access_methods_are_named_in_a_fixed_order() -> None:
    access = Access.parse_dict(
        {
            "roll": True,
            "password_gate_key": KEY_HEX,
            "password_salt": SALT_HEX,
            "qr_gate_key": KEY_HEX,
            "tickets": True,
            "geofence": {"lat_micro": 1, "lon_micro": 2, "radius_m": 3},
        },
        "access",
    )
    assert access.methods() == ["roll", "password", "qr", "tickets", "geofence"]
    assert access.tickets == ()
    assert access.geofence == Geofence(1, 2, 3)
    assert Access().methods() == ["public"]


# ---- geofence as stored ------------------------------------------------------------------


def test_a_stored_geofence_takes_the_extreme_coordinates_and_radii() -> None:
    for value in (
        [MAX_LAT_MICRO, MAX_LON_MICRO, 1],
        [-MAX_LAT_MICRO, -MAX_LON_MICRO, MAX_RADIUS_M],
    ):
        assert Geofence.from_value(value, "g").to_value() == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([MAX_LAT_MICRO + 1, 0, 1], f"g.lat_micro: {MAX_LAT_MICRO + 1} is outside"),
        ([-MAX_LAT_MICRO - 1, 0, 1], f"g.lat_micro: {-MAX_LAT_MICRO - 1} is outside"),
        ([0, MAX_LON_MICRO + 1, 1], f"g.lon_micro: {MAX_LON_MICRO + 1} is outside"),
        ([0, -MAX_LON_MICRO - 1, 1], f"g.lon_micro: {-MAX_LON_MICRO - 1} is outside"),
        ([0, 0, 0], "g.radius_m: 0 is outside [1, "),
        ([0, 0, MAX_RADIUS_M + 1], f"g.radius_m: {MAX_RADIUS_M + 1} is outside"),
        ([0, 0], "g: expected 3 fields, got 2"),
    ],
)
def test_a_stored_geofence_out_of_range_is_refused(value: list[int], message: str) -> None:
    with pytest.raises(DecodeError, match=f"^{re.escape(message)}"):
        Geofence.from_value(value, "g")


# ---- receipts as stored ------------------------------------------------------------------


def test_a_stored_receipt_round_trips() -> None:
    for poll_id in (None, HASH):
        receipt = Receipt(HASH, 3, ACCEPTED, poll_id)
        assert Receipt.decode(receipt.encode()) == receipt


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([HASH, 0, ACCEPTED], "receipt: expected 4 fields, got 3"),
        ([HASH, 0, "x" * 33, None], "receipt.code: at most 32 characters, got 33"),
        ([HASH, 0, "not_a_code", None], "receipt.code: unknown code 'not_a_code'"),
        ([HASH[:31], 0, ACCEPTED, None], "receipt.tx_id: expected 32 bytes, got 31"),
        ([HASH, -1, ACCEPTED, None], "receipt.position: -1 is outside"),
        ([HASH, 0, ACCEPTED, HASH + b"x"], "receipt.poll_id: expected 32 bytes, got 33"),
    ],
)
def test_a_malformed_stored_receipt_is_refused(value: list[Any], message: str) -> None:
    with pytest.raises(DecodeError, match=f"^{re.escape(message)}"):
        Receipt.from_value(value)


# ---- transaction bodies as signed (canonical arrays) -------------------------------------

SIG = bytes(64)
KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("body", "value", "message"),
    [
        (
            ExtendRoll,
            [HASH, [HASH] * 1001, []],
            "extend_roll.phone_ids: at most 1000 items, got 1001",
        ),
        (
            ExtendRoll,
            [HASH, [], [KEY] * 1001],
            "extend_roll.voter_keys: at most 1000 items, got 1001",
        ),
        (
            ExtendRoll,
            [HASH, [HASH[:31]], []],
            "extend_roll.phone_ids[0]: expected 32 bytes, got 31",
        ),
        (ExtendRoll, [HASH[:31], [], []], "extend_roll.poll_id: expected 32 bytes, got 31"),
        (ExtendRoll, [HASH, []], "extend_roll: expected 3 to 4 fields, got 2"),
        (ExtendPoll, [HASH[:31], 5], "extend_poll.poll_id: expected 32 bytes, got 31"),
        (
            ExtendPoll,
            [HASH, -1],
            "extend_poll.closes_at_ms: -1 is outside [0, 9223372036854775807]",
        ),
        (ExtendPoll, [HASH, 2**63], "extend_poll.closes_at_ms: 9223372036854775808 is outside"),
        (ExtendPoll, [HASH], "extend_poll: expected 2 fields, got 1"),
        (AddOrgKey, ["o"], "add_org_key: expected 2 fields, got 1"),
        (AddOrgKey, ["o", KEY[:31]], "add_org_key.key: expected 32 bytes, got 31"),
        (RevokeOrgKey, [5, KEY], "revoke_org_key.org_id: expected a string, got int"),
        (
            CastBallot,
            [HASH, [[0]], None, None, [KEY, SIG[:63]], None],
            "cast_ballot.ticket.signature: expected 64 bytes, got 63",
        ),
        (
            CastBallot,
            [HASH, [[0]], None, None, [KEY[:31], SIG], None],
            "cast_ballot.ticket.key: expected 32 bytes, got 31",
        ),
        (
            CastBallot,
            [HASH, [[0]], None, None, [KEY], None],
            "cast_ballot.ticket: expected 2 fields",
        ),
        (
            CastBallot,
            [HASH, [[0]], None, None, None, [MAX_LAT_MICRO + 1, 0]],
            f"cast_ballot.location.lat_micro: {MAX_LAT_MICRO + 1} is outside",
        ),
        (
            CastBallot,
            [HASH, [[0]], None, None, None, [0, MAX_LON_MICRO + 1]],
            f"cast_ballot.location.lon_micro: {MAX_LON_MICRO + 1} is outside",
        ),
        (
            CastBallot,
            [HASH, [[0]], None, None, None, [0, -MAX_LON_MICRO - 1]],
            f"cast_ballot.location.lon_micro: {-MAX_LON_MICRO - 1} is outside",
        ),
        (
            CastBallot,
            [HASH, [[0]], None, None, None, [0]],
            "cast_ballot.location: expected 2 fields",
        ),
    ],
)
def test_a_signed_body_out_of_bounds_is_refused(body: Any, value: Any, message: str) -> None:
    with pytest.raises(DecodeError, match=f"^{re.escape(message)}"):
        body.decode(encoding.encode(value))
