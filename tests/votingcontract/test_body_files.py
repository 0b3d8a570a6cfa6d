"""Transaction bodies from JSON or TOML (`votechain tx`, poll files, the web form): the
defaults a file may leave out, and a refusal naming the exact field for every bad one
(docs/POLL_FILES.md; issue 12: mutation testing found these unchecked).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from votingcontract import Access, CreatePoll, body_from_dict
from votingcontract.poll_spec import Option

H = "11" * 32
SHORT = "11" * 31
KEY = "22" * 32
POLL: dict[str, Any] = {
    "kind": "policy",
    "title": "T",
    "opens_at_ms": 1,
    "closes_at_ms": 2,
    "questions": [{"text": "Q", "options": ["a", {"text": "b"}]}],
}
BALLOT: dict[str, Any] = {"poll_id": H, "selections": [[0]]}


def _without(d: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != name}


def _with(d: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**d, **changes}


def test_a_poll_file_may_leave_out_everything_optional() -> None:
    body = body_from_dict("create_poll", POLL)
    assert isinstance(body, CreatePoll)
    assert (body.org_id, body.purpose, body.reference_url) == ("", "", "")
    assert (body.visibility, body.revote, body.access) == ("live", False, Access())
    assert body.questions[0].options == (Option("a", 0), Option("b", 0))


CASES: list[tuple[str, Any, str]] = [
    # create_poll
    ("create_poll", "x", "create_poll: expected a table/object, got str"),
    ("create_poll", _without(POLL, "questions"), "create_poll: missing field 'questions'"),
    ("create_poll", _with(POLL, questions="x"), "create_poll.questions: expected a list, got str"),
    ("create_poll", _without(POLL, "kind"), "create_poll: missing field 'kind'"),
    ("create_poll", _with(POLL, kind=1), "create_poll.kind: expected a string, got int"),
    ("create_poll", _with(POLL, org_id=1), "create_poll.org_id: expected a string, got int"),
    ("create_poll", _without(POLL, "title"), "create_poll: missing field 'title'"),
    ("create_poll", _with(POLL, title=1), "create_poll.title: expected a string, got int"),
    ("create_poll", _with(POLL, purpose=1), "create_poll.purpose: expected a string, got int"),
    (
        "create_poll",
        _with(POLL, reference_url=1),
        "create_poll.reference_url: expected a string, got int",
    ),
    ("create_poll", _without(POLL, "opens_at_ms"), "create_poll: missing field 'opens_at_ms'"),
    (
        "create_poll",
        _with(POLL, opens_at_ms="1"),
        "create_poll.opens_at_ms: expected an integer, got str",
    ),
    ("create_poll", _without(POLL, "closes_at_ms"), "create_poll: missing field 'closes_at_ms'"),
    (
        "create_poll",
        _with(POLL, closes_at_ms="2"),
        "create_poll.closes_at_ms: expected an integer, got str",
    ),
    (
        "create_poll",
        _with(POLL, visibility=1),
        "create_poll.visibility: expected a string, got int",
    ),
    (
        "create_poll",
        _with(POLL, revote="yes"),
        "create_poll.revote: expected true or false, got str",
    ),
    (
        "create_poll",
        _with(POLL, access="x"),
        "create_poll.access: expected a table/object, got str",
    ),
    (
        "create_poll",
        _with(POLL, questions=[{"text": "Q", "options": [{"cost": 1}]}]),
        "create_poll.questions[0].options[0]: missing field 'text'",
    ),
    (
        "create_poll",
        _with(POLL, questions=[{"text": "Q", "options": ["a", {"text": "b", "cost": "1"}]}]),
        "create_poll.questions[0].options[1].cost: expected an integer, got str",
    ),
    (
        "create_poll",
        _with(POLL, questions=[{"text": "Q", "options": [{"text": 1}]}]),
        "create_poll.questions[0].options[0].text: expected a string, got int",
    ),
    # cast_ballot
    ("cast_ballot", "x", "cast_ballot: expected a table/object, got str"),
    ("cast_ballot", _without(BALLOT, "selections"), "cast_ballot: missing field 'selections'"),
    (
        "cast_ballot",
        _with(BALLOT, selections="x"),
        "cast_ballot.selections: expected a list, got str",
    ),
    ("cast_ballot", _with(BALLOT, selections=["a"]), "cast_ballot: expected a list, got str"),
    (
        "cast_ballot",
        _with(BALLOT, selections=[[0], ["a"]]),
        "cast_ballot.selections[1]: expected an integer, got str",
    ),
    ("cast_ballot", _without(BALLOT, "poll_id"), "cast_ballot: missing field 'poll_id'"),
    ("cast_ballot", _with(BALLOT, poll_id=SHORT), "poll_id: expected 32 bytes of hex, got 31"),
    (
        "cast_ballot",
        _with(BALLOT, ticket_key=SHORT),
        "ticket_key: expected 32 bytes of hex, got 31",
    ),
    ("cast_ballot", _with(BALLOT, ticket_key=KEY), "cast_ballot: missing field 'ticket_signature'"),
    (
        "cast_ballot",
        _with(BALLOT, ticket_key=KEY, ticket_signature="zz"),
        "ticket_signature: 'zz' is not hex",
    ),
    ("cast_ballot", _with(BALLOT, location="x"), "location: expected a table/object, got str"),
    (
        "cast_ballot",
        _with(BALLOT, location={"lon_micro": 1}),
        "location: missing field 'lat_micro'",
    ),
    (
        "cast_ballot",
        _with(BALLOT, location={"lat_micro": 1}),
        "location: missing field 'lon_micro'",
    ),
    (
        "cast_ballot",
        _with(BALLOT, location={"lat_micro": "1", "lon_micro": 1}),
        "location.lat_micro: expected an integer, got str",
    ),
    (
        "cast_ballot",
        _with(BALLOT, location={"lat_micro": 1, "lon_micro": "1"}),
        "location.lon_micro: expected an integer, got str",
    ),
    ("cast_ballot", _with(BALLOT, password_proof="zz"), "password_proof: 'zz' is not hex"),
    ("cast_ballot", _with(BALLOT, qr_proof="zz"), "qr_proof: 'zz' is not hex"),
    # organisations and voters
    (
        "register_org",
        {"name": "N", "category": "c", "keys": []},
        "register_org: missing field 'org_id'",
    ),
    (
        "register_org",
        {"org_id": "o", "name": 1, "category": "c", "keys": []},
        "register_org.name: expected a string, got int",
    ),
    (
        "register_org",
        {"org_id": "o", "name": "N", "category": 1, "keys": []},
        "register_org.category: expected a string, got int",
    ),
    (
        "register_org",
        {"org_id": 1, "name": "N", "category": "c", "keys": []},
        "register_org.org_id: expected a string, got int",
    ),
    (
        "register_org",
        {"org_id": "o", "name": "N", "category": "c", "keys": [KEY, SHORT]},
        "register_org.keys[1]: expected 32 bytes of hex, got 31",
    ),
    ("add_org_key", {"org_id": 1, "key": KEY}, "add_org_key.org_id: expected a string, got int"),
    ("revoke_org_key", {"org_id": "o"}, "revoke_org_key: missing field 'key'"),
    (
        "add_org_key",
        {"org_id": "o", "key": SHORT},
        "add_org_key.key: expected 32 bytes of hex, got 31",
    ),
    (
        "enroll_voter",
        {"phone_id": SHORT, "voter_key": KEY},
        "enroll_voter.phone_id: expected 32 bytes of hex, got 31",
    ),
    ("enroll_voter", {"phone_id": H}, "enroll_voter: missing field 'voter_key'"),
    (
        "enroll_voter",
        {"phone_id": H, "voter_key": SHORT},
        "enroll_voter.voter_key: expected 32 bytes of hex, got 31",
    ),
    ("cancel_key_change", "x", "cancel_key_change: expected a table/object, got str"),
    # poll management
    ("close_poll", {}, "close_poll: missing field 'poll_id'"),
    ("close_poll", {"poll_id": SHORT}, "poll_id: expected 32 bytes of hex, got 31"),
    ("extend_poll", {"poll_id": H}, "extend_poll: missing field 'closes_at_ms'"),
    ("extend_poll", {"closes_at_ms": 1}, "extend_poll: missing field 'poll_id'"),
    (
        "extend_poll",
        {"poll_id": SHORT, "closes_at_ms": 1},
        "poll_id: expected 32 bytes of hex, got 31",
    ),
    (
        "extend_poll",
        {"poll_id": H, "closes_at_ms": "1"},
        "closes_at_ms: expected an integer, got str",
    ),
    ("extend_roll", "x", "extend_roll: expected a table/object, got str"),
    ("extend_roll", {"poll_id": SHORT}, "poll_id: expected 32 bytes of hex, got 31"),
    ("extend_roll", {"poll_id": H, "phone_ids": "x"}, "phone_ids: expected a list, got str"),
    (
        "extend_roll",
        {"poll_id": H, "phone_ids": [SHORT]},
        "phone_ids[0]: expected 32 bytes of hex, got 31",
    ),
    (
        "extend_roll",
        {"poll_id": H, "voter_keys": [KEY, SHORT]},
        "voter_keys[1]: expected 32 bytes of hex, got 31",
    ),
    ("issue_tickets", {"poll_id": H}, "issue_tickets: missing field 'ticket_keys'"),
    ("issue_tickets", {"ticket_keys": []}, "issue_tickets: missing field 'poll_id'"),
    (
        "issue_tickets",
        {"poll_id": SHORT, "ticket_keys": []},
        "poll_id: expected 32 bytes of hex, got 31",
    ),
    (
        "issue_tickets",
        {"poll_id": H, "ticket_keys": [SHORT]},
        "ticket_keys[0]: expected 32 bytes of hex, got 31",
    ),
]


@pytest.mark.parametrize(("kind", "d", "message"), CASES)
def test_a_bad_field_is_refused_by_its_path(kind: str, d: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        body_from_dict(kind, d)


def test_an_extend_roll_may_name_phones_or_keys_alone() -> None:
    only_keys = body_from_dict("extend_roll", {"poll_id": H, "voter_keys": [KEY]})
    only_phones = body_from_dict("extend_roll", {"poll_id": H, "phone_ids": [H]})
    assert only_keys.to_dict()["phone_ids"] == [] and only_keys.to_dict()["voter_keys"] == [KEY]
    assert only_phones.to_dict()["voter_keys"] == [] and only_phones.to_dict()["phone_ids"] == [H]


def test_hex_may_carry_a_0x_prefix() -> None:
    for poll_id in ("0x" + H, "0X" + H, H):
        body = body_from_dict("close_poll", {"poll_id": poll_id})
        assert body.to_dict() == {"poll_id": H}
    with pytest.raises(ValueError, match=r"^poll_id: '0x0x11' is not hex$"):
        body_from_dict("close_poll", {"poll_id": "0x0x11"})
