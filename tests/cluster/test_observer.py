"""Observer nodes on real processes (issue 13, "Reads scale past the validators").

A 4-validator cluster plus one observer (`votechain observer`), which follows the chain
from a lying source first and then the validators:
- ballots submitted to the observer are forwarded and commit, and wait=commit answers
  the document a validator answers, with the same error codes for a refused transaction;
- the observer's reads (tx, polls, poll, results, blocks, raw blocks, status) answer what
  a validator answers;
- the lying source (a fake RPC here that serves every block with its timestamp changed,
  under the real certificate, and claims a height far ahead) is refused and counted, and
  its claim does not make the observer say it is behind;
- with a validator stopped, the observer keeps following and forwarding.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import votingcontract
from chain import encoding
from chain.keys import PrivateKey
from cli.client import RpcClient, RpcFailure
from cli.demo import seed_if_fresh
from cli.runner import start_observer, wait_until_serving
from node.config import load_config
from node.setup import load_pepper
from tests.cluster.harness import LocalCluster, free_port, wait_for

LIE_HEIGHT = 1_000_000
"""The height the lying source claims in its /v1/status."""


class LyingSource:
    """An RPC that serves each block of a real validator with one header field changed
    (so its hash no longer matches the real certificate it is served with), and claims a
    height far ahead of the cluster."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.served = 0
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/v1/status":
                    self._send(200, json.dumps({"height": LIE_HEIGHT}).encode(), "application/json")
                    return
                try:
                    with urllib.request.urlopen(source.upstream + self.path, timeout=5) as reply:
                        body = reply.read()
                except urllib.error.HTTPError as exc:
                    self._send(exc.code, exc.read(), "application/json")
                    return
                if self.path.startswith("/v1/raw/blocks/"):
                    body = tamper(body)
                    source.served += 1
                self._send(200, body, "application/msgpack")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def tamper(raw: bytes) -> bytes:
    """The raw block [block, certificate, receipts] with the block's timestamp moved 1 ms:
    still well-formed and canonical, but not the block the certificate's quorum signed."""
    block, certificate, receipts = encoding.decode(raw)
    header, transactions = block
    header[3] += 1
    return encoding.encode([[header, transactions], certificate, receipts])


class ObservedCluster:
    def __init__(self, cluster: LocalCluster, liar: LyingSource) -> None:
        self.cluster, self.liar = cluster, liar
        # The chain holds blocks before the observer starts, so its first round (which
        # asks the first source, the liar) is served a block: the refusal is certain, not
        # left to which source's turn it is when a later block commits.
        self.poll_ids = seed_if_fresh(cluster.config)
        port = free_port()
        sources = [liar.url, *(n.rpc_url for n in cluster.config.nodes)]
        with open(cluster.config_path, "a", encoding="utf-8") as toml:
            toml.write(
                f'\n[[observers]]\nid = "o1"\nrpc_port = {port}\nsources = {json.dumps(sources)}\n'
                "\n[observer]\nstatus_interval_ms = 200\n"
            )
        cluster.config = load_config(cluster.config_path)
        self.observer = start_observer(cluster.config, cluster.config_path, "o1")
        wait_until_serving(cluster.config, observers=True)
        self.url = cluster.config.observer("o1").rpc_url

    def client(self, timeout_s: float = 30.0) -> RpcClient:
        return RpcClient(self.url, timeout_s=timeout_s)

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.client().get("/v1/status")
        return result

    def stop(self) -> int:
        self.observer.terminate()
        return self.observer.wait(timeout=30)


@pytest.fixture
def observed(cluster: LocalCluster) -> Iterator[ObservedCluster]:
    liar = LyingSource(cluster.config.nodes[0].rpc_url)
    observed = ObservedCluster(cluster, liar)
    try:
        yield observed
    finally:
        observed.stop()
        liar.close()


def submit_to_observer(observed: ObservedCluster, tx: Any, wait: bool = True) -> dict[str, Any]:
    path = "/v1/tx?wait=commit" if wait else "/v1/tx"
    result: dict[str, Any] = observed.client().post(path, {"tx": tx.encode().hex()})
    return result


def enroll_at_observer(observed: ObservedCluster, phone: str, voter: PrivateKey) -> None:
    cluster = observed.cluster
    pepper = load_pepper(cluster.config)
    phone_id = votingcontract.phone_id(pepper, votingcontract.normalise_e164(phone))
    body = votingcontract.EnrollVoter(phone_id=phone_id, voter_key=voter.public_key)
    result = submit_to_observer(observed, cluster.sign(cluster.key("attester"), body))
    assert result["receipt"]["accepted"]


def test_observer_forwards_serves_reads_refuses_a_liar_and_survives_a_validator_stop(
    observed: ObservedCluster,
) -> None:
    cluster = observed.cluster
    poll_id = bytes.fromhex(observed.poll_ids[1])  # the demo participatory budget: revotes allowed
    voters = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(3)]
    for i, voter in enumerate(voters):
        enroll_at_observer(observed, f"+8210777{i:05d}", voter)

    # Ballots submitted to the observer commit; the answer is a validator's document.
    ballot = cluster.sign(voters[0], votingcontract.CastBallot(poll_id, ((0, 1),)))
    committed = submit_to_observer(observed, ballot)
    assert committed["status"] == "committed"
    assert committed["receipt"]["accepted"]
    tx_path = f"/v1/tx/{ballot.tx_id.hex()}"
    at_validator = cluster.client("n1").get(tx_path)
    for name in ("height", "position", "receipt", "header", "tx_proof"):
        assert committed[name] == at_validator[name], name
    later = cluster.sign(voters[1], votingcontract.CastBallot(poll_id, ((2,),)))
    assert submit_to_observer(observed, later, wait=False)["status"] == "pending"
    wait_for(lambda: _committed_at(cluster, later.tx_id), 30, "the ballot sent without waiting")

    # A refusal keeps the validator's code: the same ballot again is already committed.
    with pytest.raises(RpcFailure) as refused:
        submit_to_observer(observed, ballot)
    assert refused.value.code == "already_committed"
    with pytest.raises(RpcFailure) as malformed:
        observed.client().post("/v1/tx", {"tx": "00"})
    assert malformed.value.code == "malformed_tx"

    # Reads answer what a validator answers, once both hold the same head.
    statuses = cluster.wait_converged()
    wait_for(lambda: observed.status()["head_hash"] == statuses[0]["head_hash"], 30, "the observer")
    validator, observer = cluster.client("n2"), observed.client()
    head = statuses[0]["height"]
    for path in [
        tx_path,
        "/v1/polls",
        f"/v1/polls/{poll_id.hex()}",
        f"/v1/polls/{poll_id.hex()}/results",
        f"/v1/blocks?from=1&limit={head}",
        f"/v1/blocks/{head}",
        "/v1/genesis",
        "/v1/stats",
    ]:
        assert uncertified(observer.get(path)) == uncertified(validator.get(path)), path
    raw = f"/v1/raw/blocks/{head}"
    block, _, receipts = encoding.decode(_raw(observed.url + raw))
    assert [block, receipts] == encoding.decode(_raw(validator.base_url + raw))[::2]

    # The liar served blocks; each was refused, counted, and none was stored.
    status = observed.status()
    assert status["role"] == "observer"
    liar = status["sources"][observed.liar.url]
    assert observed.liar.served >= 1
    assert liar["refused_blocks"] >= 1
    assert liar["blocks"] == 0
    assert "certifies another block" in liar["last_refusal"]
    assert sum(s["blocks"] for s in status["sources"].values()) == head
    metrics = _raw(observed.url + "/metrics").decode()
    assert f'votechain_observer_blocks_refused_total{{source="{observed.liar.url}"}}' in metrics
    # Its claim of a far higher chain is one of five: it does not make the observer behind.
    wait_for(
        lambda: all(s["claimed_height"] for s in observed.status()["sources"].values()),
        10,
        "every source's height",
    )
    status = observed.status()
    assert status["sources"][observed.liar.url]["claimed_height"] == LIE_HEIGHT
    assert status["validators_height"] < LIE_HEIGHT

    # A validator stops: the observer keeps following and forwarding.
    cluster.kill("n3")
    for voter in voters[1:]:
        ballot = cluster.sign(voter, votingcontract.CastBallot(poll_id, ((3,),)))
        assert submit_to_observer(observed, ballot)["receipt"]["accepted"]
    alive = ["n1", "n2", "n4"]
    statuses = cluster.wait_converged(alive)
    assert statuses[0]["height"] > head
    wait_for(
        lambda: observed.status()["head_hash"] == statuses[0]["head_hash"],
        30,
        "the observer to follow with n3 down",
    )
    assert observed.status()["behind_blocks"] == 0
    table = cluster.cli("status", check=False).stdout
    observer_row = next(line for line in table.splitlines() if "o1" in line)
    assert "observer" in observer_row and "0 behind" in observer_row, table


def _raw(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as reply:
        data: bytes = reply.read()
    return data


def _committed_at(cluster: LocalCluster, tx_id: bytes) -> bool:
    try:
        cluster.client("n1").get(f"/v1/tx/{tx_id.hex()}")
    except RpcFailure:
        return False
    return True


def uncertified(document: Any) -> Any:
    """`document` without its commit certificates: each node keeps the quorum of commit
    signatures it collected itself, so two honest nodes' certificates may differ."""
    if isinstance(document, dict):
        return {k: uncertified(v) for k, v in document.items() if "certificate" not in k}
    if isinstance(document, list):
        return [uncertified(v) for v in document]
    return document
