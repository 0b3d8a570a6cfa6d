"""Issue 9 finding 3 on a real node: a phone's new key waits, the old key's holder is
told through GET /v1/voters/{key} and the CLI, and cancels with `votechain enroll cancel`.

One real node (one validator). Block time follows the wall clock, so the 24-hour wait
itself is covered by tests/votingcontract/test_key_replacement.py; here: what the RPC
and the CLI show during it, and that a cancel from the CLI reaches the chain.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import votingcontract
from chain.keyfile import save_key
from chain.keys import PrivateKey
from cli.main import main as votechain
from tests.node.live_node import LiveNode

PHONE = "+821055520001"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path_factory.mktemp("key-change-node"))
    node.start()
    try:
        yield node
    finally:
        node.stop()


def commit(live: LiveNode, tx: bytes) -> dict[str, Any]:
    reply = live.post_json("/v1/tx?wait=commit", {"tx": tx.hex()})
    assert reply.status == 200, reply.body
    document: dict[str, Any] = reply.json()
    assert document["receipt"]["accepted"], document
    return document


def voter(live: LiveNode, key: PrivateKey) -> dict[str, Any]:
    reply = live.get(f"/v1/voters/{key.public_key.hex()}")
    assert reply.status == 200, reply.body
    document: dict[str, Any] = reply.json()
    return document


def create_poll(live: LiveNode, creator: PrivateKey) -> str:
    start_ms = int(time.time() * 1000)
    body = votingcontract.CreatePoll(
        kind="citizen",
        org_id="",
        title="Which park first?",
        purpose="test",
        reference_url="",
        opens_at_ms=start_ms - 1_000,
        closes_at_ms=start_ms + 3_600_000,
        visibility="live",
        revote=False,
        questions=(
            votingcontract.Question(
                "Park", (votingcontract.Option("north"), votingcontract.Option("south"))
            ),
        ),
        access=votingcontract.Access(),
    )
    document = commit(live, live.sign(creator, body.KIND, body.encode()))
    poll_id: str = document["tx"]["tx_id"]
    return poll_id


def test_notice_and_cancel_through_rpc_and_cli(
    live: LiveNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    owner, thief = (PrivateKey.from_seed(secrets.token_bytes(32)) for _ in range(2))
    commit(live, live.enroll_tx(owner, PHONE))
    assert voter(live, owner) == {"voter_key": owner.public_key.hex(), "status": "active"}

    enrolled = commit(live, live.enroll_tx(thief, PHONE))
    block_time_ms = enrolled["header"]["timestamp_ms"]
    effective_ms = block_time_ms + 24 * 3_600_000
    notice = voter(live, owner)
    assert notice == {
        "voter_key": owner.public_key.hex(),
        "status": "active",
        "replacement_pending_until_ms": effective_ms,
    }
    assert voter(live, thief) == {
        "voter_key": thief.public_key.hex(),
        "status": "pending",
        "effective_at_ms": effective_ms,
    }
    assert "phone_id" not in notice  # a key no longer leads to its phone

    owner_file, thief_file = tmp_path / "owner.key", tmp_path / "thief.key"
    save_key(owner, owner_file)
    save_key(thief, thief_file)
    rpc = f"http://{live.address.host}:{live.address.rpc_port}"

    # the pending key is told when it becomes active, and the node refuses its cancel
    # at admission with key_pending's description
    assert votechain(["enroll", "cancel", "--key", str(thief_file), "--rpc", rpc]) != 0
    captured = capsys.readouterr()
    assert "warning: this key is pending" in captured.err
    assert "becomes active 24 hours after its enrollment" in captured.err

    # the owner's key still votes during the wait, and `vote` shows the notice first
    poll_id = create_poll(live, owner)
    vote = ["vote", poll_id, "--answer", "1:1", "--key", str(owner_file), "--rpc", rpc]
    assert votechain(vote) == 0
    captured = capsys.readouterr()
    assert "warning: a new key was enrolled for your phone" in captured.err
    assert "votechain enroll cancel" in captured.err and "accepted" in captured.out

    assert votechain(["enroll", "cancel", "--key", str(owner_file), "--rpc", rpc]) == 0
    captured = capsys.readouterr()
    assert "a new key was enrolled for your phone" in captured.err
    assert "cancelled; this key stays active" in captured.out
    assert voter(live, owner) == {"voter_key": owner.public_key.hex(), "status": "active"}
    assert voter(live, thief) == {"voter_key": thief.public_key.hex(), "status": "revoked"}


def test_an_unknown_key_is_not_found(live: LiveNode) -> None:
    reply = live.get(f"/v1/voters/{'ab' * 32}")
    assert reply.status == 404
    assert reply.json()["error"] == "not_found"
