"""A stream of ballots against a live cluster, remembering which ones were acknowledged."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import votingcontract
from chain import encoding
from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.client import RETRY_CODES, RpcFailure
from tests.cluster.harness import LocalCluster

CHOICES = [[0], [1], [2], [3], [0, 1], [1, 3], [0, 3], [1, 2], [0, 1, 3]]
"""Option sets of the demo budget poll that fit under its cap of 1000."""


@dataclass
class BallotStream:
    cluster: LocalCluster
    poll_id: bytes
    voters: list[PrivateKey]
    targets: Callable[[], list[str]]
    """The nodes to submit to right now (the test changes it while killing nodes)."""
    acknowledged: set[bytes] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)
    retried: list[tuple[str, str]] = field(default_factory=list)
    """(node, code) of every answer that sent a ballot on to another node."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, workers: int = 6) -> threading.Thread:
        counter = itertools.count()

        def worker() -> None:
            while not self._stop.is_set():
                n = next(counter)
                voter = self.voters[n % len(self.voters)]
                ballot = votingcontract.CastBallot(
                    self.poll_id, (tuple(CHOICES[n % len(CHOICES)]),)
                )
                self._submit(self.cluster.sign(voter, ballot), n)

        def main() -> None:
            with ThreadPoolExecutor(workers) as pool:
                for _ in range(workers):
                    pool.submit(worker)

        thread = threading.Thread(target=main, daemon=True)
        thread.start()
        return thread

    def stop(self, thread: threading.Thread) -> None:
        self._stop.set()
        thread.join(timeout=120)

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def _submit(self, tx: Transaction, n: int) -> None:
        for attempt in range(12):
            if self._stop.is_set() and attempt > 0:
                return
            nodes = self.targets()
            node = nodes[(n + attempt) % len(nodes)]
            try:
                result = self.cluster.submit(tx, node)
            except RpcFailure as exc:
                if exc.code == "already_committed":
                    self._ack(tx)
                    return
                if exc.code == "timeout" or exc.code in RETRY_CODES:
                    with self._lock:
                        self.retried.append((node, exc.code))
                    continue
                with self._lock:
                    self.refused.append(f"{exc.code}: {exc}")
                return
            if result.get("status") == "committed":
                self._ack(tx)
                return

    def _ack(self, tx: Transaction) -> None:
        with self._lock:
            self.acknowledged.add(tx.tx_id)


def chain_tx_ids(cluster: LocalCluster, node_id: str) -> list[bytes]:
    """Every tx_id in the node's chain, in order, with repeats if there were any."""
    client = cluster.client(node_id)
    head = client.get("/v1/status")["height"]
    tx_ids = []
    for height in range(1, head + 1):
        raw = encoding.decode(client.get_bytes(f"/v1/raw/blocks/{height}"))
        block_value = raw[0]
        for tx_value in block_value[1]:
            tx_ids.append(Transaction.from_value(tx_value).tx_id)
    return tx_ids
