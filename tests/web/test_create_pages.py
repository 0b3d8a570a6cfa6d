"""/new's preview (the CLI's rules and words for a poll, the poll as its page will show it)
and /o/<org id> (an organisation's policy polls), as the node answers them."""

from __future__ import annotations

import html
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

import votingcontract
from chain.keys import PrivateKey
from cli import poll_file
from tests.node.live_node import Reply
from tests.web.test_pages import text_of
from tests.web.web_node import WebNode
from webapp import create_pages

HOUR_MS = 3_600_000


def fresh_key() -> PrivateKey:
    return PrivateKey.from_seed(secrets.token_bytes(32))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebNode]:
    node = WebNode(tmp_path_factory.mktemp("create-node"))
    node.start()
    try:
        org_key = fresh_key()
        register = votingcontract.RegisterOrg(
            "jongno-gu", "Jongno District Office", "district_office", (org_key.public_key,)
        )
        commit(node, node.sign(node.cluster.key("admin"), register.KIND, register.encode()))
        start = int(time.time() * 1000)
        for title in ("Jongno night market", "Jongno bike lanes"):
            body = votingcontract.CreatePoll.from_dict(
                {**poll(start, title), "kind": "policy", "org_id": "jongno-gu"}
            )
            commit(node, node.sign(org_key, body.KIND, body.encode()))
        voter = fresh_key()
        commit(node, node.enroll_tx(voter, "+821055507777"))
        body = votingcontract.CreatePoll.from_dict(poll(start, "A citizen's own question"))
        commit(node, node.sign(voter, body.KIND, body.encode()))
        yield node
    finally:
        node.stop()


def commit(node: WebNode, tx: bytes) -> None:
    document = node.post_json("/v1/tx?wait=commit", {"tx": tx.hex()}).json()
    assert document["receipt"]["accepted"], document


def poll(start: int, title: str = "Library hours") -> dict[str, Any]:
    return {
        "kind": "citizen",
        "org_id": "",
        "title": title,
        "opens_at_ms": start,
        "closes_at_ms": start + HOUR_MS,
        "questions": [
            {"text": "Open on Sundays?", "options": ["Yes", "No"]},
            {"text": "Which hours?", "options": ["9-18", "10-20", "12-22"], "max_selections": 2},
        ],
    }


def preview(node: WebNode, document: Any, language: str = "en") -> Reply:
    return node.request(
        "POST",
        "/new/preview",
        json.dumps(document).encode(),
        headers={"Accept-Language": language},
    )


def test_the_preview_shows_the_poll_as_its_page_will(live: WebNode) -> None:
    reply = preview(live, poll(int(time.time() * 1000)))
    assert reply.status == 200, reply.body
    assert b"data-refused" not in reply.body
    text = text_of(reply)
    for shown in ("Library hours", "Open on Sundays?", "Which hours?", "10-20", "A citizen"):
        assert shown in text
    assert "Choose 1 to 2 options." in text and "Choose 1 option." in text


def test_the_preview_refuses_with_the_clis_rule_and_words(live: WebNode) -> None:
    start = int(time.time() * 1000)
    cases = [
        ({**poll(start), "closes_at_ms": start - HOUR_MS}, "closes_at: is not after opens_at"),
        (
            {
                **poll(start),
                "questions": [{"text": "Q", "options": ["a", "b"], "max_selections": 3}],
            },
            "question 1: max_selections 3 is more than its 2 options",
        ),
        ({**poll(start), "titel": "x"}, 'unknown key "create_poll.titel"; did you mean "title"?'),
        ({**poll(start), "title": "   "}, "title: has no character other than whitespace"),
    ]
    for document, words in cases:
        reply = preview(live, document)
        assert reply.status == 200 and b"data-refused" in reply.body, document
        assert words in html.unescape(text_of(reply))
    korean = text_of(preview(live, cases[0][0], "ko"))
    assert "시작 시각과 마감 시각이 맞지 않거나 이미 지났습니다." in korean  # bad_schedule


def test_a_preview_that_is_not_json_is_a_bad_request(live: WebNode) -> None:
    for body in (b"{not json", b"[" * 100_000, b"\xff\xfe"):
        reply = live.request("POST", "/new/preview", body, headers={"Accept-Language": "en"})
        assert reply.status == 400, body[:10]


def test_the_form_carries_the_chain_id_and_the_clis_password_rule(live: WebNode) -> None:
    page = live.request("GET", "/new", headers={"Accept-Language": "en"}).body.decode()
    assert f'data-chain-id="{live.cluster.chain_id}"' in page
    assert create_pages.MIN_PASSWORD_CHARACTERS == poll_file.MIN_PASSWORD_CHARACTERS
    assert create_pages.MIN_PASSWORD_DISTINCT == poll_file.MIN_PASSWORD_DISTINCT
    assert "<noscript>" in page and 'href="/enroll"' in page


def test_an_organisation_page_lists_its_policy_polls_only(live: WebNode) -> None:
    reply = live.request("GET", "/o/jongno-gu", headers={"Accept-Language": "en"})
    assert reply.status == 200
    text = text_of(reply)
    assert "Jongno District Office" in text and "District office" in text
    assert "Jongno night market" in text and "Jongno bike lanes" in text
    assert "A citizen's own question" not in text
    assert "2 policy polls" in text
    index = live.request("GET", "/", headers={"Accept-Language": "en"}).body.decode()
    assert 'href="/o/jongno-gu"' in index  # the organiser's name links to its page


def test_an_unknown_or_malformed_organisation_is_not_found(live: WebNode) -> None:
    for path in ("/o/no-such-office", "/o/BAD%20ID", "/o/" + "a" * 65):
        reply = live.request("GET", path, headers={"Accept-Language": "en"})
        assert reply.status == 404, path
        assert "No organisation is registered" in text_of(reply) or reply.status == 404
