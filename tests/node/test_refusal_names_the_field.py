"""A refused create_poll's RPC answer names the field and why, not only the code.

A receipt carries only a reason code, and the CLI checks a poll file before it submits;
but any other client (a script, the web app) learns what is wrong from the node's answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import votingcontract
from chain.keys import PrivateKey
from tests.node.live_node import LiveNode


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path)
    node.start()
    try:
        yield node
    finally:
        node.stop()


def citizen_poll(now_ms: int, **question: Any) -> votingcontract.CreatePoll:
    body = votingcontract.body_from_dict(
        "create_poll",
        {
            "kind": "citizen",
            "title": "Where should the new bench go?",
            "opens_at_ms": now_ms,
            "closes_at_ms": now_ms + 86_400_000,
            "questions": [
                {"text": "Place", "options": ["Park", "Station"], "max_selections": 1} | question
            ],
        },
    )
    assert isinstance(body, votingcontract.CreatePoll)
    return body


def test_invalid_poll_names_the_question_and_the_rule(live: LiveNode) -> None:
    voter = PrivateKey.generate()
    enrolled = live.post_json(
        "/v1/tx?wait=commit", {"tx": live.enroll_tx(voter, "+821066660002").hex()}
    )
    assert enrolled.status == 200
    now_ms = int(time.time() * 1000)
    bad = citizen_poll(now_ms, max_selections=3)
    reply = live.post_json("/v1/tx", {"tx": live.sign(voter, bad.KIND, bad.encode()).hex()})
    assert reply.status == 422
    answer = reply.json()
    assert answer["reason"] == "invalid_poll"
    assert "question 1" in answer["message"] and "max_selections 3" in answer["message"]

    # Another reason keeps its own description: a stranger (not enrolled) creating the
    # same poll is refused for who they are, and the answer does not blame the question.
    stranger = PrivateKey.generate()
    reply = live.post_json("/v1/tx", {"tx": live.sign(stranger, bad.KIND, bad.encode()).hex()})
    assert reply.status == 422
    assert reply.json()["reason"] != "invalid_poll"
    assert "max_selections" not in reply.json()["message"]
