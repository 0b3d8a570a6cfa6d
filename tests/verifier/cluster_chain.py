"""One chain made by a real 4-node cluster, shared by every verifier test of a run.

A cluster of OS processes enrolls voters, runs the demo polls and takes ballots in
several rounds (so ballots sit in several blocks), then a revote. While it
runs, the RPC-only artefacts are taken: a replay over RPC, an export file, a citizen's
receipt (`votechain receipt save` / `check`) and `votechain history`. Then the cluster
stops and its data directories stay for tests to copy and tamper with.

Under pytest-xdist every worker asks for the chain; a file lock makes the first one
build it and the others wait and reuse it (the pattern pytest-xdist documents).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

import votingcontract
from chain.keyfile import load_key, save_key
from chain.keys import PrivateKey
from cli.demo import seed_if_fresh
from tests.cluster.harness import ROOT, LocalCluster
from verifier.export import write_export
from verifier.replay import verify_chain
from verifier.sources import RpcSource

VOTERS = 8


@dataclass
class ClusterChain:
    folder: str
    chain_dir: str
    """data/n1/chain of the stopped cluster: copy it before changing anything."""
    keys_dir: str
    genesis_json: str
    genesis_hash: str
    head: int
    poll_ids: list[str]
    ballots: list[dict[str, Any]]
    """Every accepted ballot: tx_id, height, position, voter (index)."""
    rpc_report: dict[str, Any]
    export_file: str
    receipt_file: str
    receipt_tx_id: str
    cli_outputs: dict[str, dict[str, Any]]

    def validator_key(self, node_id: str) -> PrivateKey:
        return load_key(Path(self.folder) / "data" / node_id / "validator.pem")

    def voter_key(self, index: int) -> PrivateKey:
        return PrivateKey.from_seed(bytes([0x40 + index]) * 32)


KEEP_DIR_ENV = "VOTECHAIN_TEST_CLUSTER_CHAIN_DIR"
"""If set, the chain is built once into this folder and reused by every later test run
(mutation testing runs the tests once per mutant: tools/mutation.py)."""


def shared_cluster_chain(tmp_path_factory: pytest.TempPathFactory) -> ClusterChain:
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder = base / "verifier-cluster-chain"
    if os.environ.get(KEEP_DIR_ENV):
        folder = Path(os.environ[KEEP_DIR_ENV])
        folder.mkdir(parents=True, exist_ok=True)
    folder.mkdir(exist_ok=True)
    manifest = folder / "manifest.json"
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists():
            chain = build(folder / f"cluster-{os.getpid()}")  # a failed try leaves its own
            manifest.write_text(json.dumps(asdict(chain)))
    return ClusterChain(**json.loads(manifest.read_text()))


def run_cli(*args: str, cwd: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`votechain ARGS` in a subprocess, as a citizen or auditor runs it."""
    command = [sys.executable, "-m", "cli.main", *args]
    if config is not None and (args[0] == "history" or args[:2] == ("receipt", "save")):
        command += ["-c", str(config)]
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def build(folder: Path) -> ClusterChain:
    folder.mkdir()
    cluster = LocalCluster(folder)
    cluster.start()
    try:
        poll_ids = seed_if_fresh(cluster.config)
        survey, budget = (bytes.fromhex(p) for p in poll_ids)
        voters = [PrivateKey.from_seed(bytes([0x40 + i]) * 32) for i in range(VOTERS)]
        for i, voter in enumerate(voters):
            save_key(voter, folder / f"voter-{i}.pem")
        with ThreadPoolExecutor(VOTERS) as pool:
            list(
                pool.map(
                    lambda i: cluster.enroll_directly(f"+8210555{i:05d}", voters[i]), range(VOTERS)
                )
            )
        ballots: list[dict[str, Any]] = []

        def cast(voter_index: int, poll_id: bytes, choice: tuple[int, ...]) -> dict[str, Any]:
            body = votingcontract.CastBallot(poll_id, (choice,))
            result = cluster.submit(cluster.sign(voters[voter_index], body))
            return {
                "tx_id": result["tx"]["tx_id"],
                "height": result["height"],
                "position": result["position"],
                "voter": voter_index,
                "code": result["receipt"]["code"],
            }

        rounds = [
            [(i, survey, (i % 4,)) for i in range(0, 4)],
            [(i, survey, (i % 3,)) for i in range(4, 8)],
            [(i, budget, [(0,), (1, 3), (0, 1, 3)][i % 3]) for i in range(VOTERS)],
        ]
        for round_ in rounds:
            with ThreadPoolExecutor(len(round_)) as pool:
                ballots.extend(pool.map(lambda args: cast(*args), round_))
        assert all(b["code"] == "accepted" for b in ballots), ballots
        receipt_ballot = ballots[0]
        revote = cast(0, budget, (2,))  # the budget poll allows revotes: the last counts
        assert revote["code"] == "accepted", revote
        ballots.append(revote)
        status = cluster.wait_converged()[0]

        rpc_url = cluster.config.node("n1").rpc_url
        source = RpcSource(rpc_url)
        rpc_report = verify_chain(source, workers=2).to_dict()
        source.close()
        export_file = folder / "chain.export"
        source = RpcSource(cluster.config.node("n2").rpc_url)
        write_export(source, export_file)
        source.close()
        receipt_file = folder / "receipt.json"
        outputs = {}
        for name, args in {
            "receipt_save": ["receipt", "save", receipt_ballot["tx_id"], str(receipt_file)],
            "receipt_check": ["receipt", "check", str(receipt_file), "--rpc", rpc_url],
            "history": ["history", "--key", str(folder / "voter-0.pem")],
            "history_json": ["history", "--key", str(folder / "voter-0.pem"), "--json"],
            "verify_rpc": ["verify", "--rpc", rpc_url, "--json"],
        }.items():
            result = run_cli(*args, cwd=folder, config=cluster.config_path)
            outputs[name] = {
                "returncode": result.returncode,
                "stdout": result.stdout,
                "stderr": result.stderr,
            }
        genesis = cluster.genesis
    finally:
        cluster.stop()
    return ClusterChain(
        folder=str(folder),
        chain_dir=str(cluster.config.node_dir("n1") / "chain"),
        keys_dir=str(cluster.config.keys_dir),
        genesis_json=genesis.to_json(),
        genesis_hash=genesis.genesis_hash.hex(),
        head=int(status["height"]),
        poll_ids=poll_ids,
        ballots=ballots,
        rpc_report=rpc_report,
        export_file=str(export_file),
        receipt_file=str(receipt_file),
        receipt_tx_id=receipt_ballot["tx_id"],
        cli_outputs=outputs,
    )
