"""Poll files without traps (issue 14): an unknown key anywhere is refused by name with the
nearest known one; images named by file go into the body as references; `poll create
--dry-run` shows the poll as it will be, and what would refuse it, without a node."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from cli.poll_file import FILE_KEYS, prepare_poll
from votingcontract.images import ImageRef

NOW_MS = 1_767_225_600_000
PNG = b"\x89PNG\r\n\x1a\n" + b"park" * 10
JPEG = b"\xff\xd8\xff\xe0" + b"forest" * 10


def _file(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kind": "policy",
        "org_id": "seoul-city",
        "title": "Which park?",
        "duration_minutes": 60,
        "questions": [{"text": "Which park?", "options": ["Hangang", "Seoul Forest"]}],
    }
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_file(tilte="x"), 'unknown key "tilte"; did you mean "title"?'),
        (_file(closes_at_ms=1, duration_minute=5), 'unknown key "duration_minute"; did you mean'),
        (
            _file(access={"pasword": "x" * 20}),
            'unknown key "access.pasword"; did you mean "password"?',
        ),
        (
            _file(access={"roll_phone": ["010"]}),
            'unknown key "access.roll_phone"; did you mean "roll_phones"?',
        ),
        (
            _file(access={"geofence": {"lat_micro": 1, "lon_micro": 2, "radius": 3}}),
            'unknown key "access.geofence.radius"; did you mean "radius_m"?',
        ),
        (
            _file(questions=[{"text": "Q", "options": ["a", "b"]}, {"text": "R", "optoins": []}]),
            'unknown key "optoins" in question 2; did you mean "options"?',
        ),
        (
            _file(questions=[{"text": "Q", "options": ["a", {"text": "b", "imgae": "p.png"}]}]),
            'unknown key "imgae" in question 1, option 2; did you mean "image"?',
        ),
        (_file(access={"methods": ["public"]}), 'unknown key "access.methods"'),
    ],
)
def test_an_unknown_key_in_a_poll_file_is_refused_by_name(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        prepare_poll(document, NOW_MS)
    assert str(refused.value).startswith(message)


def test_tickets_true_makes_a_ticket_poll_whose_tickets_come_later() -> None:
    """docs/POLL_FILES.md: `tickets = true` with no keys is an empty ticket list that
    `poll tickets` fills; it was dropped, making a public poll."""
    prepared = prepare_poll(_file(access={"tickets": True}), NOW_MS)
    assert prepared.body.access.tickets == ()
    assert prepared.body.access.methods() == ["tickets"]
    assert prepared.ticket_keys == []
    assert prepare_poll(_file(access={"tickets": 2}), NOW_MS).body.access.methods() == ["tickets"]


def test_the_file_keys_are_the_body_keys_and_the_file_only_conveniences() -> None:
    assert {"password", "qr", "tickets", "roll_phones", "roll_file"} <= set(FILE_KEYS["access"])
    assert {"opens_at", "closes_at", "duration_minutes", "title"} <= set(FILE_KEYS["top"])
    assert "image" in FILE_KEYS["question"] and "image" in FILE_KEYS["option"]


def test_images_named_by_file_become_references_uploaded_once(tmp_path: Path) -> None:
    (tmp_path / "park.png").write_bytes(PNG)
    (tmp_path / "forest.jpg").write_bytes(JPEG)
    document = _file(
        questions=[
            {
                "text": "Which park?",
                "image": "park.png",
                "options": [
                    {"text": "Hangang", "image": "park.png"},
                    {"text": "Seoul Forest", "image": "forest.jpg"},
                ],
            }
        ]
    )
    prepared = prepare_poll(document, NOW_MS, base_dir=tmp_path)
    question = prepared.body.questions[0]
    assert question.image == ImageRef(hashlib.sha256(PNG).digest(), len(PNG), "image/png")
    assert question.options[1].image == ImageRef(
        hashlib.sha256(JPEG).digest(), len(JPEG), "image/jpeg"
    )
    assert [(i.path.name, i.data) for i in prepared.images] == [
        ("park.png", PNG),
        ("forest.jpg", JPEG),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "question 1: cannot read image missing.png"),
        (b"GIF89a" + b"\x00" * 10, "question 1: image missing.png: not a PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (1 << 20), "the limit is 1,048,576"),
    ],
)
def test_an_image_file_that_cannot_be_one_is_refused(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "missing.png").write_bytes(content)
    document = _file(questions=[{"text": "Q", "image": "missing.png", "options": ["a", "b"]}])
    with pytest.raises(ValueError, match=message):
        prepare_poll(document, NOW_MS, base_dir=tmp_path)


POLL_FILE = """
kind = "policy"
org_id = "seoul-city"
title = "Which park gets the new playground?"
purpose = "Mapo-gu participatory vote"
opens_at = "2030-12-01T09:00:00+09:00"
closes_at = "2030-12-08T18:00:00+09:00"
visibility = "after_close"
revote = true

[access]
roll_voter_keys = ["{key}", "{key2}"]
tickets = 3
geofence = {{ lat_micro = 37566500, lon_micro = 126978000, radius_m = 2000 }}

[[questions]]
text = "Which park?"
image = "park.png"
options = [{{ text = "Hangang", image = "park.png" }}, "Seoul Forest", "Mapo"]
max_selections = {most}
"""


def _write(tmp_path: Path, most: int = 2) -> Path:
    (tmp_path / "park.png").write_bytes(PNG)
    path = tmp_path / "poll.toml"
    path.write_text(POLL_FILE.format(key="22" * 32, key2="33" * 32, most=most))
    return path


@pytest.fixture
def seoul_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is Korea's for the test (dates print in local time and UTC)."""
    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("seoul_time")
def test_a_dry_run_shows_the_poll_as_it_will_be_and_submits_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no cluster.toml anywhere: no node is asked
    assert main(["poll", "create", str(_write(tmp_path)), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Which park gets the new playground?  [policy poll by seoul-city]" in out
    assert "opens:   2030-12-01 09:00 KST (+0900) = 2030-12-01 00:00 UTC" in out
    assert "closes:  2030-12-08 18:00 KST (+0900) = 2030-12-08 09:00 UTC" in out
    assert "access:  voter roll (2 on the roll), on-site tickets (3 issued), area (GPS)" in out
    assert "area:    within 2,000 m of 37.566500, 126.978000" in out
    assert "results: hidden until the poll closes" in out
    assert "revote:  allowed; only a voter's last ballot counts" in out
    sha = hashlib.sha256(PNG).hexdigest()[:12]
    assert f"Q1. Which park? (choose 1 to 2)  [image {sha}, PNG, {len(PNG)} bytes]" in out
    assert f"  1. Hangang  [image {sha}, PNG, {len(PNG)} bytes]" in out
    assert "  2. Seoul Forest\n  3. Mapo\n" in out
    assert "dry run: nothing was submitted" in out
    assert "would be refused" not in out


def test_a_dry_run_names_the_field_the_chain_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["poll", "create", str(_write(tmp_path, most=4)), "--dry-run", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["submitted"] is False
    assert document["problem"] == (
        "invalid_poll: question 1: max_selections 4 is more than its 3 options"
    )
    assert document["poll"]["questions"][0]["image"]["sha256"] == hashlib.sha256(PNG).hexdigest()
