"""Real clusters of OS processes on loopback, for end-to-end and fault tests.

Every cluster gets its own temporary folder, a cluster.toml with free ports, and its own
data directory; nodes are `python -m cli.main node` processes, exactly what
`votechain up` starts. Tests kill them with real signals.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import votingcontract
from chain.keyfile import load_key
from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.client import RpcClient, RpcFailure
from cli.localports import free_port
from cli.runner import (
    start_attester,
    start_node,
    wait_until_attester_serving,
    wait_until_serving,
)
from node.config import ClusterConfig, load_config
from node.setup import init_cluster, load_pepper

ROOT = Path(__file__).resolve().parents[2]


def cluster_toml(
    node_count: int = 4, consensus: str = "", attester: str = "", attester_count: int = 1
) -> str:
    """With attester_count > 1, [[attesters]] a1, a2, ... (else [attester] port alone)."""
    nodes = "".join(
        f'\n[[nodes]]\nid = "n{i + 1}"\nhost = "127.0.0.1"\n'
        f"peer_port = {free_port()}\nrpc_port = {free_port()}\n"
        for i in range(node_count)
    )
    port = f"port = {free_port()}\n" if attester_count == 1 else ""
    attesters = "".join(
        f'\n[[attesters]]\nid = "a{i + 1}"\nport = {free_port()}\n'
        for i in range(attester_count if attester_count > 1 else 0)
    )
    return (
        '[chain]\nchain_id = "votechain-test"\ndata_dir = "data"\n\n'
        "[consensus]\ntick_ms = 50\nbatch_delay_ticks = 1\ncheckpoint_interval = 5\n"
        f"watermark_window = 10\nrequest_timeout_ticks = 40\n{consensus}\n"
        f'[attester]\n{port}sender = "dev_outbox"\n{attester}\n' + nodes + attesters
    )


class LocalCluster:
    def __init__(
        self,
        folder: Path,
        node_count: int = 4,
        consensus: str = "",
        attester: str = "",
        attester_count: int = 1,
    ) -> None:
        self.folder = folder
        self.config_path = folder / "cluster.toml"
        self.config_path.write_text(cluster_toml(node_count, consensus, attester, attester_count))
        self.config: ClusterConfig = load_config(self.config_path)
        self.genesis = init_cluster(self.config).genesis
        self.chain_id = self.genesis.chain_id
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.attester_processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def node_ids(self) -> list[str]:
        return [n.node_id for n in self.config.nodes]

    def start(self, *node_ids: str) -> None:
        """Start the nodes (all if none are named); starting all also starts the attester,
        its own process as `votechain up` runs it."""
        for node_id in node_ids or self.node_ids:
            self.processes[node_id] = start_node(self.config, self.config_path, node_id)
        wait_until_serving(self._subset(node_ids or tuple(self.node_ids)))
        if not node_ids and not self.attester_processes:
            self.start_attester()

    @property
    def attester_process(self) -> subprocess.Popen[bytes] | None:
        """The first attester's process (the only one unless attester_count > 1)."""
        return next(iter(self.attester_processes.values()), None)

    def start_attester(self, attester_id: str | None = None) -> None:
        """Start every attester instance, or the one named."""
        for address in self.config.attester_addresses:
            if attester_id not in (None, address.attester_id):
                continue
            name = address.attester_id
            process = start_attester(self.config, self.config_path, name)
            self.attester_processes[name] = process
            wait_until_attester_serving(self.config, process, attester_id=name)

    def stop_attester(self, attester_id: str | None = None) -> None:
        """Stop (SIGTERM) every attester instance, or the one named."""
        for name in list(self.attester_processes):
            if attester_id in (None, name):
                process = self.attester_processes.pop(name)
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)

    def kill(self, node_id: str, signum: int = signal.SIGKILL) -> None:
        process = self.processes.pop(node_id)
        process.send_signal(signum)
        process.wait(timeout=30)

    def stop(self) -> None:
        self.stop_attester()
        for node_id in list(self.processes):
            self.kill(node_id, signal.SIGTERM)

    def client(self, node_id: str = "n1", timeout_s: float = 30.0) -> RpcClient:
        return RpcClient(
            self.config.node(node_id).rpc_url,
            timeout_s=timeout_s,
            ca_file=self.config.client_ca_path,  # https with the cluster's CA under [tls]
        )

    def status(self, node_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client(node_id, timeout_s=5).get("/v1/status")
        return result

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `votechain ARGS -c cluster.toml` as a citizen would, in the cluster folder."""
        command = [sys.executable, "-m", "cli.main", *args]
        if args and args[0] not in ("keygen",):
            command += ["-c", str(self.config_path)]
        result = subprocess.run(
            command,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"votechain {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def key(self, name: str) -> PrivateKey:
        if name == "attester":  # the attester's key lives in its own folder, not keys/
            return load_key(self.config.attester_key_path)
        return load_key(self.config.keys_dir / f"{name}.pem")

    def attester_client(self, timeout_s: float = 60.0) -> RpcClient:
        return RpcClient(self.config.attester.url, timeout_s=timeout_s)

    def sign(self, key: PrivateKey, body: Any) -> Transaction:
        return Transaction.create(
            key, self.chain_id, body.KIND, body.encode(), secrets.randbits(63)
        )

    def submit(self, tx: Transaction, node_id: str = "n1", wait: bool = True) -> dict[str, Any]:
        path = "/v1/tx?wait=commit" if wait else "/v1/tx"
        result: dict[str, Any] = self.client(node_id).post(path, {"tx": tx.encode().hex()})
        return result

    def enroll_directly(self, phone: str, voter: PrivateKey, node_id: str = "n1") -> dict[str, Any]:
        """Enroll as the attester would after a correct code (fast set-up for load).

        Submitted at `node_id` and waited for there, so that a ballot sent next to the
        same node is checked against state that already holds the enrolment (another
        node may not have applied that block yet and would answer not_enrolled)."""
        pepper = load_pepper(self.config)
        phone_id = votingcontract.phone_id(pepper, votingcontract.normalise_e164(phone))
        body = votingcontract.EnrollVoter(phone_id=phone_id, voter_key=voter.public_key)
        return self.submit(self.sign(self.key("attester"), body), node_id)

    def wait_converged(
        self, node_ids: list[str] | None = None, timeout_s: float = 60.0
    ) -> list[dict[str, Any]]:
        """Wait until the nodes report one height, head hash and app hash."""
        deadline = time.monotonic() + timeout_s
        last: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            try:
                last = [self.status(n) for n in node_ids or self.node_ids]
            except RpcFailure:
                time.sleep(0.2)
                continue
            keys = {(s["height"], s["head_hash"], s["app_hash"]) for s in last}
            if len(keys) == 1:
                return last
            time.sleep(0.2)
        summary = [(s["node"], s["height"], s["head_hash"][:12], s["view"]) for s in last]
        raise AssertionError(f"nodes did not converge within {timeout_s} s: {summary}")

    def _subset(self, node_ids: tuple[str, ...]) -> ClusterConfig:
        from dataclasses import replace

        return replace(
            self.config, nodes=tuple(n for n in self.config.nodes if n.node_id in node_ids)
        )


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
