"""Every field of every transaction body, decoded from its bytes: a bad one is refused
naming its exact path and bound, and a value exactly at its bound is accepted.

A node refuses a transaction whose body does not decode (malformed_body), and the words
reach people: `votechain tx` and poll files decode the body they build before sending it
(BodyBase.from_dict turns the DecodeError into the ValueError the CLI prints), so a title
of 201 characters must say "create_poll.title: at most 200 characters, got 201", not
another field or no field. Issue 12: mutation testing found the labels and several
bounds of the value decoders unchecked (the dict tests stop at the dict's own types).
Each refusal is compared with the whole message.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from chain import encoding
from chain.errors import DecodeError
from votingcontract import limits
from votingcontract.bodies import (
    AddOrgKey,
    CancelKeyChange,
    CastBallot,
    ClosePoll,
    EnrollVoter,
    ExtendPoll,
    ExtendRoll,
    IssueTickets,
    RegisterOrg,
    RevokeOrgKey,
)
from votingcontract.body_base import BodyBase
from votingcontract.poll_spec import CreatePoll

H1, H2 = b"\x11" * 32, b"\x12" * 32
K1, K2 = b"\x21" * 32, b"\x22" * 32
SIG = b"\x55" * 64
IMG = [b"\x33" * 32, 100, "image/png"]
MAX_TIME = 2**63 - 1
MAX_COST = 10**15

PLAIN_QUESTION: list[Any] = ["Q", [["a", 0], ["b", 0]], 1, 1, None]
FULL_QUESTION: list[Any] = ["R", [["c", 0, [*IMG]], ["d", 7]], 1, 2, [10, 50], [*IMG]]
ACCESS: list[Any] = [
    [[H1, H2], [K1], [[1, 2], [3]]],
    [K1, b"\x44" * 16],
    K2,
    [K1, K2],
    [37_000_000, 127_000_000, 100],
]
POLL: list[Any] = [
    "policy",
    "seoul-city",
    "T",
    "P",
    "https://example.org",
    1,
    2,
    "live",
    False,
    [PLAIN_QUESTION, FULL_QUESTION],
    ACCESS,
]

BASES: dict[type[BodyBase], list[Any]] = {
    CreatePoll: POLL,
    RegisterOrg: ["seoul-city", "Seoul", "city_department", [K1, K2]],
    AddOrgKey: ["seoul-city", K1],
    RevokeOrgKey: ["seoul-city", K1],
    EnrollVoter: [H1, K1],
    CancelKeyChange: [],
    ClosePoll: [H1],
    ExtendPoll: [H1, 5],
    ExtendRoll: [H1, [H1, H2], [K1], [[1, 2], [3]]],
    IssueTickets: [H1, [K1, K2]],
    CastBallot: [H1, [[0], [1, 3]], SIG, SIG, [K1, SIG], [37_000_000, 127_000_000]],
}

Path = tuple[int, ...]


def _with(base: list[Any], path: Path, new: Any) -> Any:
    """A deep copy of `base` with the item at `path` replaced (the whole value for ())."""
    if not path:
        return new
    value = copy.deepcopy(base)
    target = value
    for index in path[:-1]:
        target = target[index]
    target[path[-1]] = new
    return value


def _decode(cls: type[BodyBase], value: Any) -> BodyBase:
    """The body as a node reads it: from its canonical bytes."""
    return cls.decode(encoding.encode(value))


Q = "create_poll.questions[1]"
O = f"{Q}.options[0]"  # noqa: E741
A = "create_poll.access"
OUTSIDE_TIME = f"is outside [0, {MAX_TIME}]"
OUTSIDE_COST = f"is outside [0, {MAX_COST}]"
ORG_ID_RULE = "must be 1+ characters of a-z 0-9 - _ ."
CATEGORIES = "city_department, district_office, education_office, public_body, civic_group"

REFUSED: list[tuple[type[BodyBase], Path, Any, str]] = [
    # create_poll
    (CreatePoll, (), "x", "create_poll: expected an array, got str"),
    (CreatePoll, (), POLL[:10], "create_poll: expected 11 to 12 fields, got 10"),
    (CreatePoll, (0,), 1, "create_poll.kind: expected a string, got int"),
    (CreatePoll, (0,), "poll", "create_poll.kind: 'poll' is not one of policy, citizen"),
    (CreatePoll, (0,), "p" * 65, "create_poll.kind: at most 64 characters, got 65"),
    (CreatePoll, (1,), 1, "create_poll.org_id: expected a string, got int"),
    (CreatePoll, (1,), "s" * 65, "create_poll.org_id: at most 64 characters, got 65"),
    (CreatePoll, (2,), 1, "create_poll.title: expected a string, got int"),
    (CreatePoll, (2,), "t" * 201, "create_poll.title: at most 200 characters, got 201"),
    (CreatePoll, (3,), 1, "create_poll.purpose: expected a string, got int"),
    (CreatePoll, (3,), "p" * 2001, "create_poll.purpose: at most 2000 characters, got 2001"),
    (CreatePoll, (4,), 1, "create_poll.reference_url: expected a string, got int"),
    (CreatePoll, (4,), "u" * 501, "create_poll.reference_url: at most 500 characters, got 501"),
    (CreatePoll, (5,), "1", "create_poll.opens_at_ms: expected an integer, got str"),
    (CreatePoll, (5,), -1, f"create_poll.opens_at_ms: -1 {OUTSIDE_TIME}"),
    (CreatePoll, (5,), 2**63, f"create_poll.opens_at_ms: {2**63} {OUTSIDE_TIME}"),
    (CreatePoll, (6,), "2", "create_poll.closes_at_ms: expected an integer, got str"),
    (CreatePoll, (6,), -1, f"create_poll.closes_at_ms: -1 {OUTSIDE_TIME}"),
    (CreatePoll, (6,), 2**63, f"create_poll.closes_at_ms: {2**63} {OUTSIDE_TIME}"),
    (CreatePoll, (7,), 1, "create_poll.visibility: expected a string, got int"),
    (
        CreatePoll,
        (7,),
        "public",
        "create_poll.visibility: 'public' is not one of live, after_close",
    ),
    (CreatePoll, (8,), 1, "create_poll.revote: expected a boolean, got int"),
    (CreatePoll, (9,), "x", "create_poll.questions: expected an array, got str"),
    (CreatePoll, (9,), [], "create_poll.questions: at least one question"),
    (CreatePoll, (9,), [PLAIN_QUESTION] * 21, "create_poll.questions: at most 20 items, got 21"),
    (CreatePoll, (10,), "x", f"{A}: expected an array, got str"),
    # a question (the second, so its index shows)
    (CreatePoll, (9, 1), "x", f"{Q}: expected an array, got str"),
    (CreatePoll, (9, 1), ["R", []], f"{Q}: expected 5 to 6 fields, got 2"),
    (CreatePoll, (9, 1, 0), 1, f"{Q}.text: expected a string, got int"),
    (CreatePoll, (9, 1, 0), "q" * 501, f"{Q}.text: at most 500 characters, got 501"),
    (CreatePoll, (9, 1, 1), "x", f"{Q}.options: expected an array, got str"),
    (CreatePoll, (9, 1, 1), [["a", 0]], f"{Q}.options: at least 2 options, got 1"),
    (CreatePoll, (9, 1, 1), [["a", 0]] * 51, f"{Q}.options: at most 50 items, got 51"),
    (CreatePoll, (9, 1, 2), "1", f"{Q}.min_selections: expected an integer, got str"),
    (CreatePoll, (9, 1, 2), 256, f"{Q}.min_selections: 256 is outside [0, 255]"),
    (CreatePoll, (9, 1, 2), -1, f"{Q}.min_selections: -1 is outside [0, 255]"),
    (CreatePoll, (9, 1, 3), "1", f"{Q}.max_selections: expected an integer, got str"),
    (CreatePoll, (9, 1, 3), 256, f"{Q}.max_selections: 256 is outside [0, 255]"),
    (CreatePoll, (9, 1, 3), -1, f"{Q}.max_selections: -1 is outside [0, 255]"),
    (CreatePoll, (9, 1, 4), "x", f"{Q}.budget_cap: expected an integer, got str"),
    (CreatePoll, (9, 1, 4), 0, f"{Q}.budget_cap: 0 is outside [1, {MAX_COST}]"),
    (
        CreatePoll,
        (9, 1, 4),
        MAX_COST + 1,
        f"{Q}.budget_cap: {MAX_COST + 1} is outside [1, {MAX_COST}]",
    ),
    (CreatePoll, (9, 1, 4), [10], f"{Q}.budget: expected 2 fields, got 1"),
    (CreatePoll, (9, 1, 4), [0, 50], f"{Q}.budget_cap: 0 is outside [1, {MAX_COST}]"),
    (CreatePoll, (9, 1, 4), [10, "5"], f"{Q}.min_spend_percent: expected an integer, got str"),
    (CreatePoll, (9, 1, 4), [10, 0], f"{Q}.min_spend_percent: 0 is outside [1, 100]"),
    (CreatePoll, (9, 1, 4), [10, 101], f"{Q}.min_spend_percent: 101 is outside [1, 100]"),
    (CreatePoll, (9, 1, 5), "x", f"{Q}.image: expected an array, got str"),
    (CreatePoll, (9, 1, 5, 0), H1[:31], f"{Q}.image.sha256: expected 32 bytes, got 31"),
    # an option
    (CreatePoll, (9, 1, 1, 1), "x", f"{Q}.options[1]: expected an array, got str"),
    (CreatePoll, (9, 1, 1, 0), ["c"], f"{O}: expected 2 to 3 fields, got 1"),
    (CreatePoll, (9, 1, 1, 0, 0), 1, f"{O}.text: expected a string, got int"),
    (CreatePoll, (9, 1, 1, 0, 0), "o" * 201, f"{O}.text: at most 200 characters, got 201"),
    (CreatePoll, (9, 1, 1, 0, 1), "1", f"{O}.cost: expected an integer, got str"),
    (CreatePoll, (9, 1, 1, 0, 1), -1, f"{O}.cost: -1 {OUTSIDE_COST}"),
    (CreatePoll, (9, 1, 1, 0, 1), MAX_COST + 1, f"{O}.cost: {MAX_COST + 1} {OUTSIDE_COST}"),
    (CreatePoll, (9, 1, 1, 0, 2), "x", f"{O}.image: expected an array, got str"),
    (CreatePoll, (9, 1, 1, 0, 2), IMG[:2], f"{O}.image: expected 3 fields, got 2"),
    (CreatePoll, (9, 1, 1, 0, 2, 0), H1[:31], f"{O}.image.sha256: expected 32 bytes, got 31"),
    (CreatePoll, (9, 1, 1, 0, 2, 1), 0, f"{O}.image.size: 0 is outside [1, 1048576]"),
    (CreatePoll, (9, 1, 1, 0, 2, 1), 1048577, f"{O}.image.size: 1048577 is outside [1, 1048576]"),
    (
        CreatePoll,
        (9, 1, 1, 0, 2, 2),
        "image/gif",
        f"{O}.image.type: 'image/gif' is not one of image/png, image/jpeg, image/webp",
    ),
    # access
    (CreatePoll, (10,), [None] * 4, f"{A}: expected 5 fields, got 4"),
    (CreatePoll, (10, 0), "x", f"{A}.roll: expected an array, got str"),
    (CreatePoll, (10, 0), [[]], f"{A}.roll: expected 2 to 3 fields, got 1"),
    (CreatePoll, (10, 0, 0), "x", f"{A}.roll.phone_ids: expected an array, got str"),
    (CreatePoll, (10, 0), [[H1] * 1001, []], f"{A}.roll.phone_ids: at most 1000 items, got 1001"),
    (CreatePoll, (10, 0, 0, 1), H2[:31], f"{A}.roll.phone_ids[1]: expected 32 bytes, got 31"),
    (CreatePoll, (10, 0, 1), "x", f"{A}.roll.voter_keys: expected an array, got str"),
    (CreatePoll, (10, 0), [[], [K1] * 1001], f"{A}.roll.voter_keys: at most 1000 items, got 1001"),
    (CreatePoll, (10, 0, 1, 0), K1 + b"\0", f"{A}.roll.voter_keys[0]: expected 32 bytes, got 33"),
    (CreatePoll, (10, 0, 2), "x", f"{A}.roll.weights: expected an array, got str"),
    (
        CreatePoll,
        (10, 0, 2, 0),
        [1],
        f"{A}.roll.weights.phone_weights: one weight per roll entry, 2, got 1",
    ),
    (
        CreatePoll,
        (10, 0, 2, 1, 0),
        0,
        f"{A}.roll.weights.key_weights[0]: 0 is outside [1, 1000000]",
    ),
    (
        CreatePoll,
        (10, 0, 2, 0, 1),
        1_000_001,
        f"{A}.roll.weights.phone_weights[1]: 1000001 is outside [1, 1000000]",
    ),
    (CreatePoll, (10, 1), "x", f"{A}.password: expected an array, got str"),
    (CreatePoll, (10, 1), [K1], f"{A}.password: expected 2 fields, got 1"),
    (CreatePoll, (10, 1, 0), K1[:31], f"{A}.password.gate_key: expected 32 bytes, got 31"),
    (CreatePoll, (10, 1, 1), b"\x44" * 15, f"{A}.password.salt: expected 16 bytes, got 15"),
    (CreatePoll, (10, 2), K2[:31], f"{A}.qr_gate_key: expected 32 bytes, got 31"),
    (CreatePoll, (10, 3), "x", f"{A}.tickets: expected an array, got str"),
    (CreatePoll, (10, 3), [K1] * 1001, f"{A}.tickets: at most 1000 items, got 1001"),
    (CreatePoll, (10, 3, 1), K2[:31], f"{A}.tickets[1]: expected 32 bytes, got 31"),
    (CreatePoll, (10, 4), "x", f"{A}.geofence: expected an array, got str"),
    (CreatePoll, (10, 4), [1, 2], f"{A}.geofence: expected 3 fields, got 2"),
    (
        CreatePoll,
        (10, 4, 0),
        90_000_001,
        f"{A}.geofence.lat_micro: 90000001 is outside [-90000000, 90000000]",
    ),
    (
        CreatePoll,
        (10, 4, 0),
        -90_000_001,
        f"{A}.geofence.lat_micro: -90000001 is outside [-90000000, 90000000]",
    ),
    (
        CreatePoll,
        (10, 4, 1),
        180_000_001,
        f"{A}.geofence.lon_micro: 180000001 is outside [-180000000, 180000000]",
    ),
    (
        CreatePoll,
        (10, 4, 1),
        -180_000_001,
        f"{A}.geofence.lon_micro: -180000001 is outside [-180000000, 180000000]",
    ),
    (CreatePoll, (10, 4, 2), 0, f"{A}.geofence.radius_m: 0 is outside [1, 100000]"),
    (CreatePoll, (10, 4, 2), 100_001, f"{A}.geofence.radius_m: 100001 is outside [1, 100000]"),
    # register_org
    (RegisterOrg, (), "x", "register_org: expected an array, got str"),
    (
        RegisterOrg,
        (),
        ["seoul-city", "Seoul", "city_department"],
        "register_org: expected 4 fields, got 3",
    ),
    (RegisterOrg, (0,), 1, "register_org.org_id: expected a string, got int"),
    (RegisterOrg, (0,), "", f"register_org.org_id: '' {ORG_ID_RULE}"),
    (RegisterOrg, (0,), "Seoul", f"register_org.org_id: 'Seoul' {ORG_ID_RULE}"),
    (RegisterOrg, (0,), "seoul city", f"register_org.org_id: 'seoul city' {ORG_ID_RULE}"),
    (RegisterOrg, (0,), "s" * 65, "register_org.org_id: at most 64 characters, got 65"),
    (RegisterOrg, (1,), 1, "register_org.name: expected a string, got int"),
    (RegisterOrg, (1,), "n" * 201, "register_org.name: at most 200 characters, got 201"),
    (RegisterOrg, (2,), 1, "register_org.category: expected a string, got int"),
    (
        RegisterOrg,
        (2,),
        "ministry",
        f"register_org.category: 'ministry' is not one of {CATEGORIES}",
    ),
    (RegisterOrg, (3,), "x", "register_org.keys: expected an array, got str"),
    (RegisterOrg, (3,), [], "register_org.keys: at least one key"),
    (RegisterOrg, (3,), [K1] * 17, "register_org.keys: at most 16 items, got 17"),
    (RegisterOrg, (3, 1), K2[:31], "register_org.keys[1]: expected 32 bytes, got 31"),
    # add_org_key, revoke_org_key
    (AddOrgKey, (), [K1], "add_org_key: expected 2 fields, got 1"),
    (AddOrgKey, (0,), "", f"add_org_key.org_id: '' {ORG_ID_RULE}"),
    (AddOrgKey, (0,), "s" * 65, "add_org_key.org_id: at most 64 characters, got 65"),
    (AddOrgKey, (1,), K1[:31], "add_org_key.key: expected 32 bytes, got 31"),
    (RevokeOrgKey, (), [K1], "revoke_org_key: expected 2 fields, got 1"),
    (RevokeOrgKey, (0,), "A", f"revoke_org_key.org_id: 'A' {ORG_ID_RULE}"),
    (RevokeOrgKey, (1,), K1[:31], "revoke_org_key.key: expected 32 bytes, got 31"),
    # enroll_voter, cancel_key_change
    (EnrollVoter, (), "x", "enroll_voter: expected an array, got str"),
    (EnrollVoter, (), [H1], "enroll_voter: expected 2 fields, got 1"),
    (EnrollVoter, (0,), H1[:31], "enroll_voter.phone_id: expected 32 bytes, got 31"),
    (EnrollVoter, (1,), K1 + b"\0", "enroll_voter.voter_key: expected 32 bytes, got 33"),
    (CancelKeyChange, (), [1], "cancel_key_change: expected 0 fields, got 1"),
    # close_poll, extend_poll
    (ClosePoll, (), "x", "close_poll: expected an array, got str"),
    (ClosePoll, (), [], "close_poll: expected 1 fields, got 0"),
    (ClosePoll, (0,), H1[:31], "close_poll.poll_id: expected 32 bytes, got 31"),
    (ExtendPoll, (), [H1], "extend_poll: expected 2 fields, got 1"),
    (ExtendPoll, (0,), H1[:31], "extend_poll.poll_id: expected 32 bytes, got 31"),
    (ExtendPoll, (1,), "5", "extend_poll.closes_at_ms: expected an integer, got str"),
    (ExtendPoll, (1,), -1, f"extend_poll.closes_at_ms: -1 {OUTSIDE_TIME}"),
    (ExtendPoll, (1,), 2**63, f"extend_poll.closes_at_ms: {2**63} {OUTSIDE_TIME}"),
    # extend_roll
    (ExtendRoll, (), [H1], "extend_roll: expected 3 to 4 fields, got 1"),
    (ExtendRoll, (0,), H1[:31], "extend_roll.poll_id: expected 32 bytes, got 31"),
    (ExtendRoll, (1,), "x", "extend_roll.phone_ids: expected an array, got str"),
    (ExtendRoll, (), [H1, [H1] * 1001, []], "extend_roll.phone_ids: at most 1000 items, got 1001"),
    (ExtendRoll, (1, 1), H2[:31], "extend_roll.phone_ids[1]: expected 32 bytes, got 31"),
    (ExtendRoll, (2,), "x", "extend_roll.voter_keys: expected an array, got str"),
    (ExtendRoll, (), [H1, [], [K1] * 1001], "extend_roll.voter_keys: at most 1000 items, got 1001"),
    (ExtendRoll, (2, 0), K1[:31], "extend_roll.voter_keys[0]: expected 32 bytes, got 31"),
    (ExtendRoll, (3,), "x", "extend_roll.weights: expected an array, got str"),
    (
        ExtendRoll,
        (3, 1),
        [3, 4],
        "extend_roll.weights.key_weights: one weight per roll entry, 1, got 2",
    ),
    (ExtendRoll, (3, 0, 1), 0, "extend_roll.weights.phone_weights[1]: 0 is outside [1, 1000000]"),
    # issue_tickets
    (IssueTickets, (), [H1], "issue_tickets: expected 2 fields, got 1"),
    (IssueTickets, (0,), H1[:31], "issue_tickets.poll_id: expected 32 bytes, got 31"),
    (IssueTickets, (1,), "x", "issue_tickets.ticket_keys: expected an array, got str"),
    (IssueTickets, (1,), [K1] * 1001, "issue_tickets.ticket_keys: at most 1000 items, got 1001"),
    (IssueTickets, (1, 1), K2[:31], "issue_tickets.ticket_keys[1]: expected 32 bytes, got 31"),
    # cast_ballot
    (CastBallot, (), "x", "cast_ballot: expected an array, got str"),
    (CastBallot, (), [H1, [[0]], None, None, None], "cast_ballot: expected 6 to 7 fields, got 5"),
    (CastBallot, (0,), H1[:31], "cast_ballot.poll_id: expected 32 bytes, got 31"),
    (CastBallot, (1,), "x", "cast_ballot.selections: expected an array, got str"),
    (CastBallot, (1,), [[0]] * 21, "cast_ballot.selections: at most 20 items, got 21"),
    (CastBallot, (1, 1), "x", "cast_ballot.selections[1]: expected an array, got str"),
    (
        CastBallot,
        (1, 1),
        [*range(50), 0],
        "cast_ballot.selections[1]: at most 50 items, got 51",
    ),
    (CastBallot, (1, 1), [50], "cast_ballot.selections[1]: 50 is outside [0, 49]"),
    (CastBallot, (1, 1), [-1], "cast_ballot.selections[1]: -1 is outside [0, 49]"),
    (CastBallot, (1, 1), ["0"], "cast_ballot.selections[1]: expected an integer, got str"),
    (
        CastBallot,
        (1, 1),
        [3, 3],
        "cast_ballot.selections[1]: option indices must be strictly ascending",
    ),
    (
        CastBallot,
        (1, 1),
        [3, 1],
        "cast_ballot.selections[1]: option indices must be strictly ascending",
    ),
    (CastBallot, (2,), "x", "cast_ballot.password_proof: expected bytes, got str"),
    (CastBallot, (2,), SIG[:63], "cast_ballot.password_proof: expected 64 bytes, got 63"),
    (CastBallot, (3,), "x", "cast_ballot.qr_proof: expected bytes, got str"),
    (CastBallot, (3,), SIG + b"\0", "cast_ballot.qr_proof: expected 64 bytes, got 65"),
    (CastBallot, (4,), "x", "cast_ballot.ticket: expected an array, got str"),
    (CastBallot, (4,), [K1], "cast_ballot.ticket: expected 2 fields, got 1"),
    (CastBallot, (4, 0), K1[:31], "cast_ballot.ticket.key: expected 32 bytes, got 31"),
    (CastBallot, (4, 1), SIG[:63], "cast_ballot.ticket.signature: expected 64 bytes, got 63"),
    (CastBallot, (5,), "x", "cast_ballot.location: expected an array, got str"),
    (CastBallot, (5,), [1], "cast_ballot.location: expected 2 fields, got 1"),
    (
        CastBallot,
        (5, 0),
        90_000_001,
        "cast_ballot.location.lat_micro: 90000001 is outside [-90000000, 90000000]",
    ),
    (
        CastBallot,
        (5, 1),
        -180_000_001,
        "cast_ballot.location.lon_micro: -180000001 is outside [-180000000, 180000000]",
    ),
]


@pytest.mark.parametrize(
    ("cls", "path", "new", "message"),
    REFUSED,
    ids=[f"{c.KIND}-{i}" for i, (c, _, _, _) in enumerate(REFUSED)],
)
def test_a_bad_field_is_refused_by_its_path_and_bound(
    cls: type[BodyBase], path: Path, new: Any, message: str
) -> None:
    value = _with(BASES[cls], path, new)
    with pytest.raises(DecodeError, match=f"^{re.escape(message)}$"):
        _decode(cls, value)


ALPHABET = "".join(sorted(limits.ORG_ID_ALPHABET))

ACCEPTED: list[tuple[type[BodyBase], Path, Any]] = [
    (CreatePoll, (), POLL),
    (CreatePoll, (0,), "citizen"),
    (CreatePoll, (1,), "s" * 64),
    (CreatePoll, (2,), "t" * 200),
    (CreatePoll, (3,), "p" * 2000),
    (CreatePoll, (4,), "u" * 500),
    (CreatePoll, (5,), 0),
    (CreatePoll, (5,), MAX_TIME),
    (CreatePoll, (6,), 0),
    (CreatePoll, (6,), MAX_TIME),
    (CreatePoll, (7,), "after_close"),
    (CreatePoll, (9,), [PLAIN_QUESTION] * 20),
    (CreatePoll, (9, 1, 0), "q" * 500),
    (CreatePoll, (9, 1, 1), [["a", 0]] * 50),
    (CreatePoll, (9, 1, 2), 255),
    (CreatePoll, (9, 1, 2), 0),
    (CreatePoll, (9, 1, 3), 255),
    (CreatePoll, (9, 1, 3), 0),
    (CreatePoll, (9, 1, 4), 1),
    (CreatePoll, (9, 1, 4), MAX_COST),
    (CreatePoll, (9, 1, 4), [1, 1]),
    (CreatePoll, (9, 1, 4), [MAX_COST, 100]),
    (CreatePoll, (9, 1, 1, 0, 0), "o" * 200),
    (CreatePoll, (9, 1, 1, 0, 1), MAX_COST),
    (CreatePoll, (9, 1, 1, 0, 2, 1), 1),
    (CreatePoll, (9, 1, 1, 0, 2, 1), 1_048_576),
    (CreatePoll, (9, 1, 1, 0, 2, 2), "image/webp"),
    (CreatePoll, (10, 0), [[H1] * 1000, [K1] * 1000]),
    (CreatePoll, (10, 0, 2), [[1_000_000, 1], [1_000_000]]),
    (CreatePoll, (10, 3), [K1] * 1000),
    (CreatePoll, (10, 4), [90_000_000, 180_000_000, 1]),
    (CreatePoll, (10, 4), [-90_000_000, -180_000_000, 100_000]),
    (CreatePoll, (10,), [None] * 5),
    (RegisterOrg, (0,), "s" * 64),
    (RegisterOrg, (0,), ALPHABET),
    (RegisterOrg, (1,), "n" * 200),
    (RegisterOrg, (2,), "civic_group"),
    (RegisterOrg, (3,), [K1]),
    (RegisterOrg, (3,), [K1] * 16),
    (AddOrgKey, (0,), ALPHABET),
    (ExtendPoll, (1,), 0),
    (ExtendPoll, (1,), MAX_TIME),
    (ExtendRoll, (), [H1, [H1] * 1000, [K1] * 1000]),
    (IssueTickets, (1,), [K1] * 1000),
    (IssueTickets, (1,), []),
    (CastBallot, (1,), [[0]] * 20),
    (CastBallot, (1, 1), list(range(50))),
    (CastBallot, (1, 1), [49]),
    (CastBallot, (5,), [90_000_000, -180_000_000]),
    (CastBallot, (5,), [-90_000_000, 180_000_000]),
    *((cls, (), base) for cls, base in BASES.items()),
]


@pytest.mark.parametrize(
    ("cls", "path", "new"),
    ACCEPTED,
    ids=[f"{c.KIND}-{i}" for i, (c, _, _) in enumerate(ACCEPTED)],
)
def test_a_field_at_its_bound_is_accepted_and_kept(
    cls: type[BodyBase], path: Path, new: Any
) -> None:
    value = _with(BASES[cls], path, new)
    body = _decode(cls, value)
    assert body.to_value() == value
