"""Enrollment that does not stop (issue 14): two attester processes beside four validators.

With one attester down the other enrolls; `vote --phone` enrols a new key and votes in one
step (the development outbox plays the SMS); a finish goes back to the attester that
started its session; a key already enrolled just votes; re-enrolling a phone says when
its old key is revoked.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from cli.demo import seed_if_fresh
from node.senders import read_outbox_code
from tests.cluster.harness import LocalCluster

# a short resend interval: the same numbers are asked for codes again within the test
SETTINGS = "resend_interval_s = 1\n"


@pytest.fixture
def cluster(tmp_path: Path) -> Any:
    local = LocalCluster(tmp_path, attester=SETTINGS, attester_count=2)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def post(url: str, document: object) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, json.dumps(document).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_enrolment_survives_an_attester_down_and_a_citizen_enrols_and_votes_in_one_step(
    cluster: LocalCluster,
) -> None:
    config = cluster.config
    a1, a2 = config.attester_addresses
    assert set(cluster.attester_processes) == {"a1", "a2"}
    poll_id = seed_if_fresh(config)[0]  # one question, four options, public

    # --- a1 down: `enroll` says so and enrolls through a2 ------------------------------------
    cluster.stop_attester("a1")
    cluster.cli("keygen", "first.pem")
    enrolled = cluster.cli("enroll", "--phone", "+821050000001", "--key", "first.pem")
    assert "accepted" in enrolled.stdout, enrolled.stdout + enrolled.stderr
    assert "attester a1: cannot reach" in enrolled.stderr
    assert "attester a2 sent a code" in enrolled.stderr

    # --- `vote --phone`: enrol a new key, wait for it, vote, in one command ------------------
    cluster.cli("keygen", "citizen.pem")
    voted = cluster.cli(
        "vote", poll_id, "--answer", "1:2", "--phone", "+821050000002", "--key", "citizen.pem"
    )
    assert "enrolment: accepted" in voted.stderr, voted.stderr
    assert voted.stdout.startswith("accepted"), voted.stdout + voted.stderr

    # --- a key already enrolled just votes: no session, no code ------------------------------
    again = cluster.cli(
        "vote", poll_id, "--answer", "1:1", "--phone", "+821050000001", "--key", "first.pem"
    )
    assert "session" not in again.stderr and again.stdout.startswith("accepted"), again.stderr

    # --- a finish goes to the attester that started the session ------------------------------
    cluster.start_attester("a1")
    status, started = post(a2.url + "/v1/enroll/start", {"phone": "+821050000003"})
    assert status == 200 and started["session"].startswith("a2.")
    code = read_outbox_code(config.attester_outbox, "+821050000003")
    assert code is not None
    cluster.cli("keygen", "third.pem")
    finish = {"session": started["session"], "code": code, "voter_key": "ab" * 32}
    status, elsewhere = post(a1.url + "/v1/enroll/finish", finish)
    assert (status, elsewhere["error"]) == (421, "wrong_attester")
    assert "send finish to a2" in elsewhere["message"]
    # a1 is up and listed first; the CLI still sends this session's finish to a2
    voted = cluster.cli(
        "vote",
        poll_id,
        "--answer",
        "1:3",
        "--key",
        "third.pem",
        "--session",
        started["session"],
        "--code",
        code,
    )
    assert "enrolment: accepted" in voted.stderr and voted.stdout.startswith("accepted")

    # --- re-enrolling a phone with a new key says when the old key is revoked ----------------
    cluster.cli("keygen", "new.pem")
    time.sleep(1.1)  # the resend interval since the last code to this number
    replaced = cluster.cli("enroll", "--phone", "+821050000001", "--key", "new.pem")
    assert "accepted" in replaced.stdout
    assert "this phone already had a key: that old key is revoked at" in replaced.stdout
    cluster.cli("keygen", "newer.pem")
    time.sleep(1.1)
    as_json = cluster.cli("enroll", "--phone", "+821050000001", "--key", "newer.pem", "--json")
    result = json.loads(as_json.stdout)
    assert result["replaces_old_key"] is True
    assert result["old_key_revoked_at_ms"] == result["effective_at_ms"] > 0
    # `vote --phone` with a fresh key for an enrolled phone does not vote: the key waits
    cluster.cli("keygen", "newest.pem")
    time.sleep(1.1)
    waiting = cluster.cli(
        "vote",
        poll_id,
        "--answer",
        "1:1",
        "--phone",
        "+821050000001",
        "--key",
        "newest.pem",
        check=False,
    )
    assert waiting.returncode == 1 and "not voting: this key cannot vote yet" in waiting.stderr
    assert "old key is revoked at" in waiting.stderr
