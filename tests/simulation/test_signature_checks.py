"""Each transaction's signature is checked once per node, and backups forward in batches.

Issue 13: a ballot's Ed25519 signature was verified about 6.5 times across a 4-validator
cluster (twice where it arrived, again on the primary, again by every backup validating
the block). The node now shares one chain.verified.VerifiedTransactions between its
consensus core and block validation (and its mempool), and a backup forwards the requests
of a tick to the primary in one RequestBatch (PROTOCOL.md 12.2, 12.3).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import pytest

import tests.simulation.cluster as sim_cluster
from chain.tx import Transaction
from chain.verified import VerifiedTransactions
from consensus import Message, RequestBatch
from tests.simulation.cluster import SimNode, Simulation
from tests.simulation.options import options_for_seed

REQUESTS = 60
BURST = 30
"""Requests that reach one backup within the same millisecond."""


class CountingVerified(VerifiedTransactions):
    """Records, per tx_id, how often a signature was actually checked."""

    instances: list[CountingVerified] = []

    def __init__(self) -> None:
        super().__init__()
        self.checked: Counter[bytes] = Counter()
        CountingVerified.instances.append(self)

    def verify(self, tx: Transaction, chain_id: str, where: str) -> None:
        if tx.tx_id not in self:
            self.checked[tx.tx_id] += 1
        super().verify(tx, chain_id, where)


@pytest.mark.parametrize("replicas", [4, 7])
def test_each_node_checks_each_transaction_signature_exactly_once(
    monkeypatch: pytest.MonkeyPatch, replicas: int
) -> None:
    CountingVerified.instances = []
    monkeypatch.setattr(sim_cluster, "VerifiedTransactions", CountingVerified)
    options = dataclasses.replace(
        options_for_seed(1, scenario="clean"),
        replicas=replicas,
        requests_fault_phase=REQUESTS,
        requests_liveness_phase=0,
        max_block_txs=20,
    )
    simulation = Simulation(options)
    batches: list[tuple[int, RequestBatch]] = []
    send = simulation._send

    def recording_send(node: SimNode, targets: Sequence[int], message: Message) -> None:
        if isinstance(message, RequestBatch):
            batches.append((node.id, message))
        send(node, targets, message)

    monkeypatch.setattr(simulation, "_send", recording_send)
    for _ in range(BURST):
        simulation._push(5, "request", 1, False)  # replica 1 is a backup in view 0
    result = simulation.run()
    assert result.ok, result.report()
    assert result.view_changes == 0

    committed = [
        {tx.tx_id for block, _ in node.store.blocks for tx in block.transactions}
        for node in simulation.nodes
    ]
    assert all(len(ids) == REQUESTS + BURST for ids in committed)
    # One set per node: no node restarted, so nothing was forgotten.
    assert len(CountingVerified.instances) == replicas
    for node, verified in zip(simulation.nodes, CountingVerified.instances, strict=True):
        assert node.verified is verified
        assert set(verified.checked) == committed[node.id], f"r{node.id} skipped a check"
        assert set(verified.checked.values()) == {1}, f"r{node.id} checked a signature twice"
        assert sum(verified.checks.values()) == REQUESTS + BURST
        assert verified.evictions == 0
    # The burst left replica 1 in at most two messages (the first request at once, the
    # rest at the next tick), not one message per request.
    burst_batches = [b for sender, b in batches if sender == 1 and len(b.transactions) > 1]
    assert burst_batches and max(len(b.transactions) for b in burst_batches) >= BURST - 1
