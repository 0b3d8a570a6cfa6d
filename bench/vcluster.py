"""A votechain cluster for the benchmark: `votechain node` processes on free ports in a
temporary folder, exactly what `votechain up` starts (cli/runner.py), and the work that
is prepared before any clock runs: an organisation, polls, enrolled voters and their
pre-signed ballots.

The cluster file uses the defaults of the repository's cluster.toml (node/config.py),
with one change: the load generator is one client address holding hundreds of
connections, which rpc.max_connections_per_client (64, meant for one citizen's host)
would refuse; a city's voters come from as many addresses as there are phones.

Voters are enrolled as the attester service does after a correct one-time code: an
enroll_voter transaction signed with the attester's key (tests/cluster/harness.py
LocalCluster.enroll_directly does the same), many in flight, so the SMS path's limit of
60 codes a minute does not make setting up tens of thousands of voters take hours.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import votingcontract
from bench.loadgen import Request
from chain import encoding
from chain.keyfile import load_key
from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.client import RpcClient, RpcFailure
from cli.localports import free_port
from cli.runner import start_node, wait_until_serving
from cli.txs import sign, submit
from node.config import ClusterConfig, load_config
from node.setup import init_cluster, load_pepper

ORG_ID = "bench-city"
DAY_MS = 86_400_000
OPTIONS = ("Very satisfied", "Satisfied", "Dissatisfied", "No opinion")
CONNECTIONS_PER_CLIENT = 1024
STOP_TIMEOUT_S = 30.0
CONVERGE_TIMEOUT_S = 120.0
COMMITTED = "committed"
"""The outcome of an answer that says the transaction committed and was accepted."""
SUCCESS = frozenset({COMMITTED})
COME_BACK = frozenset({"busy", "signer_busy", "behind", "cannot_commit"})
"""Answers after which a closed-loop client sends the same ballot again after Retry-After:
node/errors.py RETRYABLE without `stopping` (the benchmark stops no node under load, so
it should show), and `signer_busy` (the attester's quota while enrolling)."""


def cluster_toml(validators: int) -> str:
    nodes = "".join(
        f'\n[[nodes]]\nid = "n{i + 1}"\nhost = "127.0.0.1"\n'
        f"peer_port = {free_port()}\nrpc_port = {free_port()}\n"
        for i in range(validators)
    )
    return (
        '[chain]\nchain_id = "votechain-bench"\ndata_dir = "data"\n\n'
        f"[rpc]\nmax_connections_per_client = {CONNECTIONS_PER_CLIENT}\n\n"
        f'[attester]\nport = {free_port()}\nsender = "dev_outbox"\n' + nodes
    )


@dataclass
class BenchCluster:
    folder: Path
    validators: int = 4
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    phones_used: int = 0
    """Phone numbers enrolled so far: each voter gets a new one (a number enrolled again
    would move its earlier ballots' phone_id to the new key: `duplicate`)."""

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_path = self.folder / "cluster.toml"
        self.config_path.write_text(cluster_toml(self.validators))
        self.config: ClusterConfig = load_config(self.config_path)
        self.chain_id = init_cluster(self.config).genesis.chain_id

    @property
    def node_ids(self) -> list[str]:
        return [n.node_id for n in self.config.nodes]

    @property
    def urls(self) -> list[str]:
        return [n.rpc_url for n in self.config.nodes]

    def pids(self, node_ids: list[str] | None = None) -> list[int]:
        return [p.pid for n, p in self.processes.items() if node_ids is None or n in node_ids]

    def start(self, *node_ids: str) -> None:
        names = list(node_ids) or self.node_ids
        for node_id in names:
            self.processes[node_id] = start_node(self.config, self.config_path, node_id)
        subset = replace(
            self.config, nodes=tuple(n for n in self.config.nodes if n.node_id in names)
        )
        wait_until_serving(subset)

    def stop(self, *node_ids: str) -> None:
        names = list(node_ids) or list(self.processes)
        for node_id in names:
            process = self.processes[node_id]
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for node_id in names:
            process = self.processes.pop(node_id)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def client(self, node_id: str = "n1", timeout_s: float = 30.0) -> RpcClient:
        return RpcClient(self.config.node(node_id).rpc_url, timeout_s=timeout_s)

    def status(self, node_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client(node_id, timeout_s=10).get("/v1/status")
        return result

    def statuses(self, node_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
        return {n: self.status(n) for n in node_ids or list(self.processes)}

    def wait_converged(self, node_ids: list[str] | None = None) -> int:
        """Wait until the nodes report one height and head; returns that height."""
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        while True:
            try:
                heads = {(s["height"], s["head_hash"]) for s in self.statuses(node_ids).values()}
            except RpcFailure:
                heads = set()
            if len(heads) == 1:
                return int(next(iter(heads))[0])
            if time.monotonic() > deadline:
                raise RuntimeError(f"nodes did not converge within {CONVERGE_TIMEOUT_S} s")
            time.sleep(0.2)

    def create_polls(self, count: int) -> list[bytes]:
        """Register the organisation and create `count` single-question policy polls."""
        client = RpcClient(self.urls[0], fallbacks=self.urls)
        admin = load_key(self.config.keys_dir / "admin.pem")
        org_key = load_key(self.config.keys_dir / "demo-org.pem")
        register = votingcontract.RegisterOrg.from_dict(
            {
                "org_id": ORG_ID,
                "name": "Benchmark city",
                "category": "city_department",
                "keys": [org_key.public_key.hex()],
            }
        )
        submit(client, sign(admin, self.chain_id, register))
        now_ms = int(time.time() * 1000)
        poll_ids = []
        for i in range(count):
            spec = {
                "kind": "policy",
                "org_id": ORG_ID,
                "title": f"Benchmark survey {i + 1}",
                "purpose": "A poll of the benchmark.",
                "reference_url": "https://example.org/bench",
                "opens_at_ms": now_ms - DAY_MS,
                "closes_at_ms": now_ms + 30 * DAY_MS,
                "visibility": "live",
                "revote": False,
                "questions": [
                    {
                        "text": "Overall satisfaction",
                        "options": list(OPTIONS),
                        "min_selections": 1,
                        "max_selections": 1,
                    }
                ],
            }
            body = votingcontract.CreatePoll.from_dict(spec)
            result = submit(client, sign(org_key, self.chain_id, body))
            poll_ids.append(bytes.fromhex(result["tx"]["tx_id"]))
        return poll_ids

    def enrollments(self, voters: list[PrivateKey]) -> list[Request]:
        """One enroll_voter per voter, each with a phone number of its own, signed with
        the attester's key, round-robin over the nodes."""
        attester = load_key(self.config.attester_key_path)
        pepper = load_pepper(self.config)
        requests = []
        first_phone, self.phones_used = self.phones_used, self.phones_used + len(voters)
        for i, voter in enumerate(voters):
            phone = votingcontract.normalise_e164(f"+8210{first_phone + i:08d}")
            body = votingcontract.EnrollVoter(
                phone_id=votingcontract.phone_id(pepper, phone), voter_key=voter.public_key
            )
            requests.append(self._request(i, sign(attester, self.chain_id, body)))
        return requests

    def ballots(self, voters: list[PrivateKey], poll_ids: list[bytes]) -> list[Request]:
        """One ballot per voter and poll, poll after poll (so one voter's ballots are far
        apart and never wait on each other's signer quota), round-robin over the nodes."""
        requests: list[Request] = []
        for poll_id in poll_ids:
            for voter in voters:
                choice = len(requests) % len(OPTIONS)
                body = votingcontract.CastBallot(poll_id, ((choice,),))
                requests.append(self._request(len(requests), sign(voter, self.chain_id, body)))
        return requests

    def chain_txs(self, node_id: str, first: int, last: int) -> Iterator[tuple[bytes, str]]:
        """(tx_id, kind) of every transaction of the blocks first..last on the node, in
        chain order."""
        client = self.client(node_id)
        for height in range(first, last + 1):
            block_value = encoding.decode(client.get_bytes(f"/v1/raw/blocks/{height}"))[0]
            for tx_value in block_value[1]:
                tx = Transaction.from_value(tx_value)
                yield tx.tx_id, tx.kind

    def _request(self, index: int, tx: Transaction) -> Request:
        url = f"{self.urls[index % len(self.urls)]}/v1/tx?wait=commit"
        return Request(url, json.dumps({"tx": tx.encode().hex()}).encode(), key=tx.tx_id)


def voter_keys(count: int, seed: str) -> list[PrivateKey]:
    """Distinct voters, derived from the seed (different for each run's cluster)."""
    return [
        PrivateKey.from_seed(hashlib.sha256(f"{seed}/voter/{i}".encode()).digest())
        for i in range(count)
    ]


def fresh_seed() -> str:
    return secrets.token_hex(8)


def classify(status: int, body: bytes) -> str:
    """The outcome of a POST /v1/tx?wait=commit answer: `committed` (accepted),
    `refused:<code>` (committed, refused by the state machine), `pending` (answered
    before the commit), or the error code of a refusal (busy, timeout, ...)."""
    try:
        document = json.loads(body)
    except ValueError:
        return f"http_{status}"
    if not isinstance(document, dict):
        return f"http_{status}"
    if status == 200 and document.get("status") == COMMITTED:
        receipt = document.get("receipt")
        receipt = receipt if isinstance(receipt, dict) else document
        if receipt.get("accepted", True) is False:
            return f"refused:{receipt.get('code')}"
        return COMMITTED
    if status == 202:
        return "pending"
    return str(document.get("error", f"http_{status}"))
