"""Transaction bodies: canonical bytes, strict decoding, dict forms for CLI and RPC."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from chain import encoding
from chain.errors import DecodeError
from votingcontract import (
    BODY_TYPES,
    Access,
    AddOrgKey,
    CancelKeyChange,
    CastBallot,
    ClosePoll,
    CreatePoll,
    EnrollVoter,
    ExtendPoll,
    ExtendRoll,
    Geofence,
    IssueTickets,
    Location,
    RegisterOrg,
    RevokeOrgKey,
    Ticket,
    body_from_dict,
    decode_body,
)
from votingcontract.bodies import Body

from .helpers import budget_question, policy_poll, question

K1, K2, H1 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
SIG = b"\x04" * 64

EXAMPLES: list[Body] = [
    RegisterOrg("seoul-city", "Seoul Metropolitan Government", "city_department", (K1, K2)),
    AddOrgKey("seoul-city", K1),
    RevokeOrgKey("seoul-city", K2),
    EnrollVoter(H1, K1),
    CancelKeyChange(),
    policy_poll("seoul-city", 1_000, questions=[question(), budget_question([10, 20], 25)]),
    policy_poll(
        "seoul-city",
        1_000,
        access=Access(
            roll=((H1,), (K1,)),
            password=(K1, b"s" * 16),
            qr_gate_key=K2,
            tickets=(K1, K2),
            geofence=Geofence(37_566_535, 126_977_969, 500),
        ),
        visibility="after_close",
        revote=True,
    ),
    ClosePoll(H1),
    ExtendPoll(H1, 99),
    ExtendRoll(H1, (H1,), (K1, K2)),
    IssueTickets(H1, (K1,)),
    CastBallot(H1, ((0,), (0, 1))),
    CastBallot(H1, ((1,),), SIG, SIG, Ticket(K1, SIG), Location(-1, 2)),
]


@pytest.mark.parametrize("body", EXAMPLES, ids=lambda b: b.KIND)
def test_every_body_round_trips_through_bytes_and_dicts(body: Body) -> None:
    data = body.encode()
    assert decode_body(body.KIND, data) == body
    assert body_from_dict(body.KIND, body.to_dict()) == body
    assert type(body).from_value(encoding.decode(data)) == body


@pytest.mark.parametrize("body", EXAMPLES, ids=lambda b: b.KIND)
def test_extra_or_missing_fields_do_not_decode(body: Body) -> None:
    value = body.to_value()
    with pytest.raises(DecodeError):
        type(body).decode(encoding.encode([*value, None]))
    if value:  # cancel_key_change has no field to leave out
        with pytest.raises(DecodeError):
            type(body).decode(encoding.encode(value[:-1]))
    with pytest.raises(DecodeError):
        type(body).decode(body.encode() + b"\x00")


def test_registry_names_every_kind_once() -> None:
    assert sorted(BODY_TYPES) == sorted(
        [
            "register_org",
            "add_org_key",
            "revoke_org_key",
            "enroll_voter",
            "cancel_key_change",
            "create_poll",
            "close_poll",
            "extend_poll",
            "extend_roll",
            "issue_tickets",
            "cast_ballot",
            "trustee_key",
            "trustee_dealing",
            "trustee_check",
            "trustee_decrypt",
        ]
    )


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("register_org", ["Seoul City", "n", "city_department", [K1]]),  # upper case id
        ("register_org", ["seoul", "n", "church", [K1]]),  # unknown category
        ("register_org", ["seoul", "n", "city_department", []]),  # no key
        ("register_org", ["seoul", "n", "city_department", [K1[:31]]]),  # short key
        ("enroll_voter", [H1, 5]),
        ("cancel_key_change", [H1]),  # the body is empty: the signer names the phone
        ("cancel_key_change", None),
        ("close_poll", [H1[:31]]),
        ("extend_poll", [H1, -1]),
        ("extend_poll", [H1, True]),
        ("cast_ballot", [H1, [[1, 0]], None, None, None, None]),  # not ascending
        ("cast_ballot", [H1, [[0, 0]], None, None, None, None]),  # repeated option
        ("cast_ballot", [H1, [[50]], None, None, None, None]),  # index beyond any poll
        ("cast_ballot", [H1, [[0]], SIG[:63], None, None, None]),
        ("cast_ballot", [H1, [[0]], None, None, None, [90_000_001, 0]]),
        ("cast_ballot", [H1, [[0]], None, None, [K1], None]),
    ],
)
def test_wrong_types_and_limits_do_not_decode(kind: str, value: Any) -> None:
    with pytest.raises(DecodeError):
        decode_body(kind, encoding.encode(value))


def _poll_value(**changes: Any) -> list[Any]:
    body = policy_poll("seoul-city", 1_000, questions=[budget_question([10, 20], 25)])
    value = body.to_value()
    names = ["kind", "org_id", "title", "purpose", "reference_url", "opens_at_ms",
             "closes_at_ms", "visibility", "revote", "questions", "access"]  # fmt: skip
    for name, new in changes.items():
        value[names.index(name)] = new
    return value


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "referendum"},
        {"visibility": "never"},
        {"revote": 1},
        {"title": "x" * 201},
        {"questions": []},
        {"questions": [["q", [["only", 0]], 1, 1, None]]},  # one option
        {"questions": [["q", [["a", 0], ["b", -1]], 1, 1, None]]},  # negative cost
        {"questions": [["q", [["a", 0], ["b", 0]], 1, 1, 0]]},  # zero budget cap
        {"access": [None, None, None, None, [0, 0, 0]]},  # zero radius
        {"access": [None, None, None, None, [0, 0, 100_001]]},  # radius over 100 km
        {"access": [None, [K1, b"short"], None, None, None]},  # salt not 16 bytes
        {"access": [[[H1]], None, None, None, None]},  # roll without key list
        {"access": [None, None, None, None]},  # four access fields
    ],
)
def test_create_poll_refuses_bad_fields_at_decoding(changes: dict[str, Any]) -> None:
    with pytest.raises(DecodeError):
        CreatePoll.decode(encoding.encode(_poll_value(**changes)))


def test_create_poll_from_toml_file_text() -> None:
    text = """
kind = "policy"
org_id = "seoul-city"
title = "Bike lanes on Sejong-daero"
opens_at_ms = 1767225600000
closes_at_ms = 1767830400000
visibility = "after_close"
revote = true

[[questions]]
text = "Should Sejong-daero get a protected bike lane?"
options = ["Yes", "No", "Only on weekends", "Undecided"]

[[questions]]
text = "Fund which projects?"
budget_cap = 1000
max_selections = 3
options = [
    {text = "Lane", cost = 600},
    {text = "Parking", cost = 300},
    {text = "Lights", cost = 200},
]

[access]
roll = true
geofence = {lat_micro = 37566535, lon_micro = 126977969, radius_m = 2000}
"""
    body = CreatePoll.from_dict(tomllib.loads(text))
    assert body.questions[0].options[2].text == "Only on weekends"
    assert body.questions[1].budget_cap == 1000
    assert body.access.roll == ((), ())
    assert body.access.geofence == Geofence(37_566_535, 126_977_969, 2_000)
    assert body.access.methods() == ["roll", "geofence"]
    assert CreatePoll.from_dict(body.to_dict()) == body


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({}, "missing field 'questions'"),
        ({"questions": "abc"}, "questions: expected a list"),
        ({"title": "t", "questions": [{"text": "q", "options": ["a", "b"]}]}, "kind"),
        (
            {
                "kind": "policy",
                "title": "t",
                "opens_at_ms": 0,
                "closes_at_ms": 1,
                "questions": [{"text": "q", "options": ["a", 3]}],
            },
            r"questions\[0\].options\[1\]",
        ),
        (
            {
                "kind": "plebiscite",
                "title": "t",
                "opens_at_ms": 0,
                "closes_at_ms": 1,
                "questions": [{"text": "q", "options": ["a", "b"]}],
            },
            "not one of policy, citizen",
        ),
        (
            {
                "kind": "policy",
                "title": "t",
                "opens_at_ms": 0,
                "closes_at_ms": 1,
                "questions": [{"text": "q", "options": ["a", "b"]}],
                "access": {"qr_gate_key": "zz"},
            },
            "not hex",
        ),
    ],
)
def test_create_poll_from_dict_errors_name_the_field(d: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CreatePoll.from_dict(d)


def test_body_from_dict_refuses_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown transaction kind 'vote'"):
        body_from_dict("vote", {})


def test_cast_ballot_from_json_dict() -> None:
    d = {
        "poll_id": H1.hex(),
        "selections": [[0, 2]],
        "ticket_key": K1.hex(),
        "ticket_signature": SIG.hex(),
        "location": {"lat_micro": 1, "lon_micro": 2},
    }
    body = CastBallot.from_dict(d)
    assert body == CastBallot(H1, ((0, 2),), None, None, Ticket(K1, SIG), Location(1, 2))
    with pytest.raises(ValueError, match="strictly ascending"):
        CastBallot.from_dict({"poll_id": H1.hex(), "selections": [[2, 0]]})
