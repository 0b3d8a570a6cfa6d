"""The campaign's checker: apart from the faults, it reads only what a user or auditor
can read (RPC answers, the data directories, `votechain verify`, the files on disk).

What it asserts (issue 11, "Done when"):
- every acknowledged ballot is in the chain (0 lost) and no transaction is in it twice;
- every double-vote race ended with at most one accepted ballot, and exactly one where
  either ballot was committed;
- all nodes on one head hash and app hash;
- `votechain verify --data` passes on every node's data directory;
- no phone number in clear anywhere outside the attester's outbox.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import votingcontract
from chain.block import Block
from cli.client import RpcFailure
from tests.cluster.harness import ROOT
from tests.faults.cluster import FaultCluster
from tests.faults.load import Load
from verifier.sources import DataDirSource

PHONE_PATTERN = re.compile(rb"(?:\+?82|0)10[0-9]{8}")
CONVERGE_TIMEOUT_S = 120.0


@dataclass
class Verdict:
    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def require(self, ok: bool, failure: str) -> None:
        if not ok:
            self.failures.append(failure)


def check_live(cluster: FaultCluster, verdict: Verdict) -> None:
    """The checks made while the nodes still run (after the load has stopped)."""
    try:
        statuses = cluster.wait_converged(timeout_s=CONVERGE_TIMEOUT_S)
    except AssertionError as error:
        verdict.failures.append(str(error))
        statuses = [cluster.status(n) for n in cluster.node_ids]
    heads = {(s["head_hash"], s["app_hash"]) for s in statuses}
    verdict.require(len(heads) == 1, f"nodes end on {len(heads)} heads: {statuses}")
    verdict.figures["final_height"] = max(s["height"] for s in statuses)


def read_chain(data_dir: Path) -> tuple[Counter[bytes], dict[bytes, bool]]:
    """Every tx_id in a stopped node's chain (with repeats, if any), and its receipt's
    accepted flag."""
    in_chain: Counter[bytes] = Counter()
    accepted: dict[bytes, bool] = {}
    source = DataDirSource(data_dir)
    try:
        for raw in source.blocks():
            for tx in Block.decode(raw.block).transactions:
                in_chain[tx.tx_id] += 1
            for encoded in raw.receipts:
                receipt = votingcontract.Receipt.decode(encoded)
                accepted[receipt.tx_id] = receipt.accepted
    finally:
        source.close()
    return in_chain, accepted


def check_ballots(cluster: FaultCluster, load: Load, verdict: Verdict) -> None:
    in_chain, accepted = read_chain(cluster.config.node_dir(cluster.node_ids[0]))
    assert load.stream is not None
    acknowledged = set(load.stream.acknowledged)
    lost = [t for t in acknowledged if t not in in_chain]
    doubled = [t for t, c in in_chain.items() if c > 1]
    verdict.figures.update(
        acknowledged=len(acknowledged),
        lost=len(lost),
        double_counts=len(doubled),
        transactions_in_chain=sum(in_chain.values()),
        final_refusals=len(load.stream.refused),
        final_refusal_examples=load.stream.refused[:5],
        retried_answers=dict(Counter(code for _, code in load.stream.retried)),
    )
    verdict.require(not lost, f"{len(lost)} acknowledged ballots lost: {lost[:3]}")
    verdict.require(not doubled, f"{len(doubled)} transactions in the chain twice")
    one_accepted = 0
    for race in load.races:
        count = sum(accepted.get(t, False) for t in race.tx_ids)
        committed = any(t in in_chain for t in race.tx_ids)
        verdict.require(
            count == (1 if committed else 0) and race.accepted_replies <= 1,
            f"double-vote race of voter {race.voter}: {count} accepted in the chain, "
            f"{race.accepted_replies} accepted answers",
        )
        one_accepted += count == 1
    verdict.figures["races"] = len(load.races)
    verdict.figures["races_one_accepted"] = one_accepted


def check_stopped(cluster: FaultCluster, load: Load, verdict: Verdict) -> None:
    """The checks on the files, once every node has stopped."""
    check_ballots(cluster, load, verdict)

    def verify(node_id: str) -> tuple[str, subprocess.CompletedProcess[str]]:
        return node_id, subprocess.run(
            [
                sys.executable,
                "-m",
                "cli.main",
                "verify",
                "--data",
                str(cluster.config.node_dir(node_id)),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=900,
            check=False,
        )

    with ThreadPoolExecutor(2) as pool:
        for node_id, result in pool.map(verify, cluster.node_ids):
            verdict.require(
                result.returncode == 0,
                f"verify --data {node_id} exited {result.returncode}: "
                f"{(result.stdout + result.stderr)[-600:]}",
            )
    verdict.figures["verify_passed_on"] = len(cluster.node_ids) - sum(
        f.startswith("verify") for f in verdict.failures
    )
    found = numbers_in_clear(cluster.folder, cluster.config.attester_outbox, set(load.phones))
    verdict.figures["numbers_in_clear"] = len(found)
    verdict.require(not found, f"phone numbers in clear: {found[:5]}")


def numbers_in_clear(folder: Path, outbox: Path, phones: set[str]) -> list[str]:
    """Files (outside the outbox) holding one of the campaign's numbers, in any usual form."""
    national = {p.removeprefix("+82") for p in phones}
    found = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.is_relative_to(outbox) or path.name == "filler":
            continue
        for match in PHONE_PATTERN.finditer(path.read_bytes()):
            digits = match.group().decode()
            tail = digits[-10:]
            if tail in national:
                found.append(f"{path}: {digits}")
    return found


def commits_again_s(cluster: FaultCluster, since: float, timeout_s: float) -> dict[str, float]:
    """Seconds from `since` (monotonic) until each node's height passes the cluster's
    highest height at the time of the call; a node that never does is missing."""
    import time

    def height(node_id: str) -> int | None:
        try:
            return int(cluster.status(node_id)["height"])
        except (RpcFailure, KeyError):
            return None

    mark = max((h for n in cluster.node_ids if (h := height(n)) is not None), default=0)
    resumed: dict[str, float] = {}
    deadline = time.monotonic() + timeout_s
    while len(resumed) < len(cluster.node_ids) and time.monotonic() < deadline:
        for node_id in cluster.node_ids:
            if node_id not in resumed and (height(node_id) or 0) > mark:
                resumed[node_id] = time.monotonic() - since
        time.sleep(0.2)
    return resumed
