"""Poll authoring without traps (issue 14): a misspelt key is refused by name with the
nearest known one, at every level of every body; images on questions and options are
references (hash, size, type) that leave older bodies' bytes as they were."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chain import encoding
from chain.errors import DecodeError
from tests.votingcontract import helpers
from tests.votingcontract.helpers import Harness
from votingcontract import CreatePoll, Option, Question, body_from_dict, limits
from votingcontract.images import ImageRef, image_problem, sniff_type
from votingcontract.poll_images import read_image
from votingcontract.polls import poll_problem

H = "11" * 32
POLL: dict[str, Any] = {
    "kind": "policy",
    "title": "T",
    "opens_at_ms": 1,
    "closes_at_ms": 2,
    "questions": [{"text": "Q", "options": ["a", {"text": "b"}]}],
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 30


def _poll(**changes: Any) -> dict[str, Any]:
    return {**POLL, **changes}


def _question(**changes: Any) -> dict[str, Any]:
    return _poll(questions=[{"text": "Q", "options": ["a", "b"], **changes}])


UNKNOWN_KEYS: list[tuple[str, Any, str]] = [
    ("create_poll", _poll(tilte="x"), 'unknown key "create_poll.tilte"; did you mean "title"?'),
    (
        "create_poll",
        _poll(access={"password_slat": "00"}),
        'unknown key "create_poll.access.password_slat"; did you mean "password_salt"?',
    ),
    (
        "create_poll",
        _question(max_selection=1),
        'unknown key "create_poll.questions[0].max_selection"; did you mean "max_selections"?',
    ),
    (
        "create_poll",
        _poll(questions=[{"text": "Q", "options": ["a", {"text": "b", "cots": 3}]}]),
        'unknown key "create_poll.questions[0].options[1].cots"; did you mean "cost"?',
    ),
    (
        "create_poll",
        _poll(access={"geofence": {"lat_micro": 0, "lon_micro": 0, "radius": 5}}),
        'unknown key "create_poll.access.geofence.radius"; did you mean "radius_m"?',
    ),
    (
        "create_poll",
        _question(image={"sha256": H, "size": 1, "typ": "image/png"}),
        'unknown key "create_poll.questions[0].image.typ"; did you mean "type"?',
    ),
    (
        "cast_ballot",
        {"poll_id": H, "selection": [[0]]},
        'unknown key "cast_ballot.selection"; did you mean "selections"?',
    ),
    (
        "cast_ballot",
        {"poll_id": H, "selections": [[0]], "location": {"lat_micro": 1, "lon": 2}},
        'unknown key "location.lon"; did you mean "lon_micro"?',
    ),
    ("close_poll", {"poll_id": H, "pol_id": H}, 'unknown key "close_poll.pol_id"; did you mean'),
    ("cancel_key_change", {"x": 1}, 'unknown key "cancel_key_change.x"; known keys: '),
    (
        "register_org",
        {"org_id": "a", "name": "A", "category": "civic_group", "keys": [], "nmae": "A"},
        'unknown key "register_org.nmae"; did you mean "name"?',
    ),
    (
        "extend_poll",
        {"poll_id": H, "closes_at": 5},
        'unknown key "extend_poll.closes_at"; did you mean "closes_at_ms"?',
    ),
    (
        "issue_tickets",
        {"poll_id": H, "ticket_keys": [], "tickets": 3},
        'unknown key "issue_tickets.tickets"; did you mean "ticket_keys"?',
    ),
    (
        "enroll_voter",
        {"phone_id": H, "voter_key": H, "phone": "+8210"},
        'unknown key "enroll_voter.phone"; did you mean "phone_id"?',
    ),
    (
        "add_org_key",
        {"org_id": "a", "key": H, "keys": [H]},
        'unknown key "add_org_key.keys"; did you mean "key"?',
    ),
]


@pytest.mark.parametrize(("kind", "d", "message"), UNKNOWN_KEYS)
def test_an_unknown_key_is_refused_by_name_with_the_nearest_known_one(
    kind: str, d: Any, message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        body_from_dict(kind, d)
    assert str(refused.value).startswith(message)


def test_access_methods_as_shown_is_read_back_only_if_it_agrees() -> None:
    roll_poll = _poll(access={"roll": True})
    body = CreatePoll.from_dict(roll_poll)
    assert CreatePoll.from_dict(body.to_dict()) == body  # what `poll show --json` prints
    with pytest.raises(ValueError, match=r"access.methods: \['public'\] disagrees"):
        CreatePoll.from_dict(_poll(access={"roll": True, "methods": ["public"]}))


def _ref(data: bytes) -> dict[str, Any]:
    return ImageRef.of_bytes(data, "test").to_dict()


def test_a_poll_without_images_encodes_exactly_as_before() -> None:
    option, question = Option("a", 3), Question("Q", (Option("a"), Option("b")), 1, 1, None)
    assert option.to_value() == ["a", 3]
    assert question.to_value() == ["Q", [["a", 0], ["b", 0]], 1, 1, None]
    old_bytes = encoding.encode(["Q", [["a", 0], ["b", 0]], 1, 1, None])
    assert Question.from_value(encoding.decode(old_bytes), "q") == question


def test_images_on_a_question_and_an_option_round_trip_as_an_optional_tail() -> None:
    body = CreatePoll.from_dict(
        _poll(
            questions=[
                {
                    "text": "Which park?",
                    "image": _ref(PNG),
                    "options": [{"text": "north", "image": _ref(JPEG)}, "south"],
                }
            ]
        )
    )
    question = body.questions[0]
    assert question.image == ImageRef(hashlib.sha256(PNG).digest(), len(PNG), "image/png")
    assert question.options[0].image is not None and question.options[0].image.type == (
        "image/jpeg"
    )
    value = question.to_value()
    assert len(value) == 6 and len(value[1][0]) == 3 and len(value[1][1]) == 2
    assert CreatePoll.decode(body.encode()) == body
    assert CreatePoll.from_dict(body.to_dict()) == body
    assert [where for where, _ in body.images()] == ["question 1", "question 1, option 1"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["a", 0, None], "a trailing optional field is nil"),
        (["a", 0, [b"\x11" * 32, 5, "image/png"], 1], "expected 2 to 3 fields, got 4"),
        (["a", 0, [b"\x11" * 32, 0, "image/png"]], r"o.image.size: 0 is outside"),
        (
            ["a", 0, [b"\x11" * 32, limits.MAX_IMAGE_BYTES + 1, "image/png"]],
            r"o.image.size: 1048577 is outside \[1, 1048576\]",
        ),
        (["a", 0, [b"\x11" * 32, 5, "image/gif"]], "o.image.type: 'image/gif' is not one of"),
        (["a", 0, [b"\x11" * 31, 5, "image/png"]], "o.image.sha256"),
    ],
)
def test_a_bad_image_reference_does_not_decode(value: Any, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        Option.from_value(value, "o")


def test_image_types_are_read_from_the_bytes() -> None:
    assert (sniff_type(PNG), sniff_type(JPEG), sniff_type(WEBP)) == (
        "image/png",
        "image/jpeg",
        "image/webp",
    )
    assert sniff_type(b"GIF89a" + b"\x00" * 20) is None
    assert sniff_type(b"RIFF\x00\x00\x00\x00WAVE") is None
    with pytest.raises(ValueError, match="test: not a PNG, JPEG or WebP image"):
        ImageRef.of_bytes(b"<svg/>", "test")
    with pytest.raises(ValueError, match="the limit is 1,048,576"):
        ImageRef.of_bytes(PNG + b"\x00" * limits.MAX_IMAGE_BYTES, "test")


def test_served_bytes_are_checked_against_the_reference() -> None:
    ref = ImageRef.of_bytes(PNG, "test")
    assert image_problem(ref, PNG) is None
    assert image_problem(ref, PNG[:-1] + b"\x01") == f"the bytes do not hash to {ref.sha256.hex()}"
    assert (
        image_problem(ref, PNG + b"\x00")
        == f"the image is {len(PNG) + 1} bytes; the poll names {len(PNG)}"
    )
    as_jpeg = ImageRef(hashlib.sha256(PNG).digest(), len(PNG), "image/jpeg")
    assert image_problem(as_jpeg, PNG) == "the bytes are image/png; the poll names image/jpeg"
    assert image_problem(ref, b"") == "the image is empty"
    assert (
        image_problem(ref, b"GIF89a")
        == "not a PNG, JPEG or WebP image (checked by its first bytes)"
    )


# invalid_poll and bad_schedule say which field and why (the receipt carries the code only;
# the CLI prints poll_problem before it submits).


def _problem(**changes: Any) -> str | None:
    return poll_problem(CreatePoll.from_dict(_poll(**{"closes_at_ms": 10_000, **changes})), 5_000)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"title": "  \u3000"}, "invalid_poll: title: has no character other than whitespace"),
        (
            {"kind": "citizen", "org_id": "seoul"},
            'invalid_poll: org_id: a citizen poll has org_id "", not "seoul"',
        ),
        (
            {"questions": [{"text": "Q", "options": ["a", "b"], "max_selections": 3}]},
            "invalid_poll: question 1: max_selections 3 is more than its 2 options",
        ),
        (
            {
                "questions": [
                    {"text": "Q", "options": ["a", "b"]},
                    {"text": "R", "options": ["a", "b"], "min_selections": 2},
                ]
            },
            "invalid_poll: question 2: min_selections 2 is more than max_selections 1",
        ),
        (
            {
                "questions": [
                    {"text": "Q", "options": ["a", "b"], "max_selections": 0, "min_selections": 0}
                ]
            },
            "invalid_poll: question 1: max_selections is 0; it must be at least 1",
        ),
        (
            {"questions": [{"text": "Q", "options": ["a", {"text": "b", "cost": 5}]}]},
            "invalid_poll: question 1: option 2: costs 5, but only a question with a "
            "budget_cap has costs",
        ),
        (
            {
                "questions": [
                    {"text": "Q", "options": [{"text": "a", "cost": 5}, "b"], "budget_cap": 10}
                ]
            },
            "invalid_poll: question 1: option 2: costs 0; on a budget question every option "
            "costs at least 1",
        ),
        ({"opens_at_ms": 20_000}, "bad_schedule: closes_at: is not after opens_at"),
        ({"closes_at_ms": 4_000}, "bad_schedule: closes_at: has already passed"),
    ],
)
def test_a_refused_poll_names_the_field_and_why(changes: dict[str, Any], problem: str) -> None:
    assert _problem(**changes) == problem


def test_a_sound_poll_has_no_problem() -> None:
    assert _problem() is None


def test_one_hash_named_with_two_sizes_is_an_invalid_poll() -> None:
    ref = _ref(PNG)
    other = {**ref, "size": ref["size"] + 1}
    problem = _problem(
        questions=[{"text": "Q", "image": ref, "options": [{"text": "a", "image": other}, "b"]}]
    )
    assert problem is not None
    assert problem.startswith(f"invalid_poll: question 1, option 1: image {ref['sha256'][:16]}")
    assert "but question 1 names it with size" in problem


def test_a_poll_may_name_images_up_to_its_kinds_total() -> None:
    def refs(count: int) -> list[dict[str, Any]]:
        big = limits.MAX_IMAGE_BYTES
        return [
            {"text": f"o{i}", "image": {"sha256": f"{i:064x}", "size": big, "type": "image/png"}}
            for i in range(count)
        ]

    within = _problem(kind="citizen", questions=[{"text": "Q", "options": refs(4)}])
    assert within is None
    over = _problem(kind="citizen", questions=[{"text": "Q", "options": refs(5)}])
    assert over == (
        "invalid_poll: images: 5,242,880 bytes in all; a citizen poll may name at most 4,194,304"
    )
    assert _problem(questions=[{"text": "Q", "options": refs(5)}]) is None  # policy: 32 MiB


def test_an_accepted_poll_indexes_its_images_and_a_later_poll_must_agree() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    ref = ImageRef.of_bytes(PNG, "test")
    with_image = replace(
        helpers.policy_poll("seoul-city", h.now_ms),
        questions=(Question("Q", (Option("a", 0, ref), Option("b")), 1, 1, None, ref),),
    )
    h.create_poll(org, with_image)
    assert read_image(h.state, ref.sha256) == ref
    assert read_image(h.state, b"\x00" * 32) is None
    wrong = ImageRef(ref.sha256, ref.size, "image/webp")
    conflicting = replace(
        helpers.policy_poll("seoul-city", h.now_ms, title="Another"),
        questions=(Question("Q", (Option("a", 0, wrong), Option("b"))),),
    )
    before = dict(h.state.items(b""))
    assert h.submit(org, conflicting).code == "invalid_poll"
    assert dict(h.state.items(b"")) == before


def test_the_protocol_states_the_image_limits_and_magic_bytes() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text()
    assert f"size: u64 1..{limits.MAX_IMAGE_BYTES:,}," in text
    assert f"at most {limits.MAX_POLL_IMAGE_BYTES_CITIZEN:,}" in text
    assert f"and {limits.MAX_POLL_IMAGE_BYTES_POLICY:,}" in text
    assert "`89 50 4E 47 0D 0A 1A 0A`" in text and "`FF D8 FF`" in text
    assert "| `image/<sha256_32>` | `[size, type]`" in text
