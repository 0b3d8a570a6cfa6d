"""A real node in this process: one validator (quorum 1), its own event loop thread.

It is the production `node.service.Node` with its RPC on a free loopback port, started
from a cluster.toml written by the cluster harness, so RPC tests see exactly what a
client of a real node sees, without the seconds it takes to start OS processes. The
helpers speak raw HTTP (http.client) so tests can send what no well-behaved client
would: broken bodies, wrong content types, odd paths.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import votingcontract
from chain.keys import PrivateKey
from chain.tx import Transaction
from node.service import Node
from node.setup import load_pepper
from tests.cluster.harness import LocalCluster


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LiveNode:
    """Start with `start()`, stop with `stop()`; `cluster` has the keys and helpers."""

    def __init__(self, folder: Path) -> None:
        self.cluster = LocalCluster(folder, node_count=1)
        self.config = self.cluster.config
        self.address = self.config.node("n1")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.node: Node | None = None

    def start(self) -> None:
        self._thread.start()
        self.node = self.run(self._start())

    def stop(self) -> None:
        if self.node is not None:
            self.run(self.node.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine on the node's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _start(self) -> Node:
        node = Node(self.config, "n1")
        await node.start()
        return node

    # --- raw HTTP --------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        connection = http.client.HTTPConnection(self.address.host, self.address.rpc_port, 30)
        try:
            all_headers = {"Content-Type": content_type, **(headers or {})}
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return Reply(response.status, response.getheader("Content-Type", ""), response.read())
        finally:
            connection.close()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post_json(self, path: str, document: Any) -> Reply:
        return self.request("POST", path, json.dumps(document).encode())

    def status(self) -> dict[str, Any]:
        reply = self.get("/v1/status")
        assert reply.status == 200, reply
        result: dict[str, Any] = reply.json()
        return result

    # --- transactions ------------------------------------------------------------------

    def sign(self, key: PrivateKey, kind: str, body: bytes, chain_id: str | None = None) -> bytes:
        return Transaction.create(
            key, chain_id or self.cluster.chain_id, kind, body, secrets.randbits(63)
        ).encode()

    def commit(self, tx: bytes) -> dict[str, Any]:
        """Submit with wait=commit; asserts the transaction was accepted."""
        reply = self.post_json("/v1/tx?wait=commit", {"tx": tx.hex()})
        assert reply.status == 200, reply.body
        document: dict[str, Any] = reply.json()
        assert document["receipt"]["accepted"], document
        return document

    def send(self, key: PrivateKey, body: Any) -> dict[str, Any]:
        """Sign `body` with `key` and commit it (accepted)."""
        return self.commit(self.sign(key, body.KIND, body.encode()))

    def enroll_tx(self, voter: PrivateKey, phone: str) -> bytes:
        phone_id = votingcontract.phone_id(self.pepper, votingcontract.normalise_e164(phone))
        body = votingcontract.EnrollVoter(phone_id=phone_id, voter_key=voter.public_key)
        return self.sign(self.cluster.key("attester"), body.KIND, body.encode())

    @property
    def pepper(self) -> bytes:
        return load_pepper(self.config)

    @property
    def outbox(self) -> Path:
        return self.config.attester_outbox
