"""Issue 11: a node that cannot give a final answer says so, and clients ask another node.

- a node behind the cluster answers a dry-run refusal with `behind` (503, Retry-After,
  naming its height and the cluster's) instead of a final `refused`;
- a node shutting down answers clients waiting for a commit with `stopping` at once;
- the CLI's client sends a transaction on to the next node of the cluster on such an
  answer (and on an unreachable node).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.client import RpcClient
from cli.txs import submit
from tests.cluster.harness import free_port
from tests.node.live_node import LiveNode


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path)
    node.start()
    try:
        yield node
    finally:
        node.stop()


def test_a_node_behind_answers_behind_instead_of_a_stale_refusal(live: LiveNode) -> None:
    """The issue's voter: enrolled in a block the lagging node has not executed, their
    re-enrollment (here: an enrollment the stale state refuses) must not get a final 422."""
    voter = PrivateKey.generate()
    enroll = live.enroll_tx(voter, "+821066660001")
    assert live.post_json("/v1/tx?wait=commit", {"tx": enroll.hex()}).status == 200
    again = live.enroll_tx(voter, "+821066660001")  # refused on this node's state
    refusal = live.post_json("/v1/tx", {"tx": again.hex()})
    assert refusal.status == 422 and refusal.json()["reason"] == "already_enrolled"

    node = live.node
    assert node is not None
    head = node.store.head_height
    # A valid certificate for a later height is what tells a replica it is behind.
    node.replica._behind.note_certificate(head + 7)
    reply = live.post_json("/v1/tx", {"tx": again.hex()})
    assert reply.status == 503, reply
    assert reply.json()["error"] == "behind"
    message = reply.json()["message"]
    assert f"its height is {head}" in message and f"cluster is at {head + 7}" in message
    assert "already_enrolled" in message and "another node" in message
    headers = live.request("POST", "/v1/tx", json.dumps({"tx": again.hex()}).encode())
    assert headers.status == 503
    assert node.store.head_height == head, "nothing was admitted or committed"


def test_waiting_clients_get_stopping_when_the_node_shuts_down(live: LiveNode) -> None:
    node = live.node
    assert node is not None
    node._step = lambda event: None  # type: ignore[method-assign]  # nothing ever commits
    tx = live.enroll_tx(PrivateKey.generate(), "+821066660002")
    answers: list[tuple[int, dict[str, str]]] = []

    def wait_commit() -> None:
        reply = live.post_json("/v1/tx?wait=commit", {"tx": tx.hex()})
        answers.append((reply.status, reply.json()))

    threads = [threading.Thread(target=wait_commit) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(node._waiters) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    live.run(node.stop())
    stop_s = time.monotonic() - started
    live.node = None  # stopped already
    for thread in threads:
        thread.join(timeout=10)
    assert [(status, body["error"]) for status, body in answers] == [(503, "stopping")] * 3
    assert "may still commit" in answers[0][1]["message"]
    assert stop_s < node.config.rpc.commit_wait_timeout_s, "nobody waited for the timeout"


class _Behind(BaseHTTPRequestHandler):
    """A stand-in node that is always behind."""

    calls = 0

    def do_POST(self) -> None:
        type(self).calls += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"error": "behind", "message": "node n9 is behind"}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_the_cli_sends_a_transaction_on_to_the_next_node(live: LiveNode) -> None:
    behind = ThreadingHTTPServer(("127.0.0.1", free_port()), _Behind)
    threading.Thread(target=behind.serve_forever, daemon=True).start()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    try:
        behind_url = f"http://127.0.0.1:{behind.server_address[1]}"
        client = RpcClient(behind_url, timeout_s=10, fallbacks=[dead, live.address.rpc_url])
        tx = Transaction.decode(live.enroll_tx(PrivateKey.generate(), "+821066660003"))
        result = submit(client, tx)
        assert result["status"] == "committed" and result["receipt"]["accepted"]
        assert _Behind.calls == 1
        # Sent again through the same route: the live node answers already_committed,
        # which the client takes as the commit it waited for.
        again = submit(client, tx)
        assert again["status"] == "committed" and again["height"] == result["height"]
    finally:
        behind.shutdown()
        behind.server_close()
