"""The attester as `votechain up` runs it: its own process beside four validator processes.

Issue 9, findings 3, 4 and 6 on the wire: no validator holds the pepper or verifies
phones; `start` says the same for an enrolled and an unknown number; one address pumping
`start` is throttled while another still gets a code; a brute force over many sessions
ends in a lockout; other countries are refused; a citizen still enrolls with the CLI.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import votingcontract
from node.senders import outbox_messages, read_outbox_code
from node.setup import load_pepper
from tests.cluster.harness import LocalCluster

CITIZEN = "+821012340001"
TARGET = "+821012340002"
STRANGER = "+821012340003"
RELAYED = "+821012340004"
# a short resend interval and roomy client buckets, so the brute force below is about the
# number's wrong-guess budget and takes seconds
SETTINGS = "resend_interval_s = 1\nclient_start_burst = 20\nclient_finish_burst = 40\n"


def post(
    url: str, document: object, source: str = "127.0.0.1"
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST JSON from the loopback address `source` (each is its own client to the attester)."""
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=60, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST", parts.path, json.dumps(document), {"Content-Type": "application/json"}
        )
        reply = connection.getresponse()
        return reply.status, json.loads(reply.read()), dict(reply.getheaders())
    finally:
        connection.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Any:
    local = LocalCluster(tmp_path, attester=SETTINGS)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def test_the_attester_runs_apart_from_validators_and_holds_its_limits_on_the_wire(
    cluster: LocalCluster,
) -> None:
    config = cluster.config
    attester_url = config.attester.url
    # --- its own process; the pepper is nowhere a validator keeps its data ---------------
    assert cluster.attester_process is not None and cluster.attester_process.poll() is None
    status = cluster.attester_client().get("/v1/status")
    assert status["service"] == "attester" and status["sender"] == "dev_outbox"
    pepper_hex = config.attester_pepper_path.read_text().strip().encode()
    pepper = load_pepper(config)
    for node_id in cluster.node_ids:
        for path in config.node_dir(node_id).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert pepper_hex not in data and pepper not in data, path
    # A validator serving the web app only relays enrollment to the attester (the browser
    # may reach nothing else): the attester's own answer, and still no pepper on its disk.
    relayed = cluster.client("n1").post("/v1/enroll/start", {"phone": RELAYED})
    assert relayed["sent"] is True and set(relayed) == {"session", "sent", "expires_in_s"}
    assert read_outbox_code(config.attester_outbox, RELAYED) is not None

    # --- a citizen enrolls with the CLI; the code file is gone once used -------------------
    cluster.cli("keygen", "me.pem")
    enrolled = cluster.cli("enroll", "--phone", CITIZEN, "--key", "me.pem")
    assert "accepted" in enrolled.stdout, enrolled.stdout + enrolled.stderr
    assert read_outbox_code(config.attester_outbox, CITIZEN) is None

    # --- start answers the enrolled and an unknown number alike, without a phone_id -------
    time.sleep(1.1)  # the resend interval since the CLI's start
    answers = []
    for phone in (CITIZEN, STRANGER):
        code, body, _ = post(attester_url + "/v1/enroll/start", {"phone": phone})
        assert code == 200, body
        assert votingcontract.phone_id(pepper, phone).hex() not in json.dumps(body)
        answers.append({k: (len(v) if k == "session" else v) for k, v in body.items()})
    assert answers[0] == answers[1]

    # --- one address pumping start is throttled; another address still gets a code ---------
    pumped = [
        post(attester_url + "/v1/enroll/start", {"phone": f"+8210777{i:05d}"}, "127.0.0.3")[0]
        for i in range(25)
    ]
    assert pumped == [200] * 20 + [429] * 5  # client_start_burst = 20 in SETTINGS
    code, body, _ = post(attester_url + "/v1/enroll/start", {"phone": "+821066660000"}, "127.0.0.4")
    assert code == 200 and body["sent"]
    assert 'votechain_attester_limit_trips_total{kind="client_start"} 5.0' in cluster_metrics(
        attester_url
    )

    # --- other countries are refused ------------------------------------------------------
    code, body, _ = post(attester_url + "/v1/enroll/start", {"phone": "+14155550123"})
    assert (code, body["error"]) == (400, "country_not_allowed")

    # --- brute force of one number across sessions stops at the budget ------------------------
    guesses, last, headers = 0, {}, {}
    for _ in range(10):
        code, started, headers = post(attester_url + "/v1/enroll/start", {"phone": TARGET})
        if code == 429 and started["error"] == "too_many_attempts":  # the 1 s resend interval
            time.sleep(1.1)
            code, started, headers = post(attester_url + "/v1/enroll/start", {"phone": TARGET})
        if code != 200:
            last = started
            break
        real = read_outbox_code(config.attester_outbox, TARGET)
        for _ in range(5):
            guess = f"{guesses:08d}" if f"{guesses:08d}" != real else "99999999"
            guesses += 1
            finish = {"session": started["session"], "code": guess, "voter_key": "ab" * 32}
            code, last, headers = post(attester_url + "/v1/enroll/finish", finish)
            if last["error"] == "locked_out":
                break
        if last["error"] == "locked_out":
            break
    assert guesses == config.attester.wrong_guess_budget == 10
    assert last["error"] == "locked_out" and int(headers["Retry-After"]) > 23 * 3600
    code, body, headers = post(attester_url + "/v1/enroll/start", {"phone": TARGET})
    assert (code, body["error"]) == (429, "locked_out") and "Retry-After" in headers
    assert read_outbox_code(config.attester_outbox, TARGET) is None, "voided codes are gone"
    metrics = cluster_metrics(attester_url)
    assert "votechain_attester_lockouts_total 1.0" in metrics

    # --- re-enrolling the citizen's phone with a new key: the old holder is told -------------
    cluster.cli("keygen", "new.pem")
    time.sleep(1.1)  # the resend interval since the start above
    again = cluster.cli("enroll", "--phone", CITIZEN, "--key", "new.pem", "--json")
    result = json.loads(again.stdout)
    assert result["receipt"]["accepted"], result
    assert result["voter_status"] == "pending" and result["effective_at_ms"] > 0, result
    notices = outbox_messages(config.attester_outbox, CITIZEN)
    assert result["notice_sent"] and any("new device" in n for n in notices), notices
    first = [n for n in notices if "new device" in n]
    assert len(first) == 1, "the first enrollment (no old key) sent no notice"


def cluster_metrics(url: str) -> str:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as reply:
        text: str = reply.read().decode()
        return text
