"""Prometheus metrics of one node (its own registry, so tests can run nodes side by side)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector


class NodeMetrics:
    def __init__(self, node_id: str) -> None:
        self.registry = CollectorRegistry()
        self.height = Gauge(
            "votechain_height", "Height of the last committed block", registry=self.registry
        )
        self.view = Gauge("votechain_view", "Current PBFT view", registry=self.registry)
        self.mempool_size = Gauge(
            "votechain_mempool_txs", "Transactions waiting", registry=self.registry
        )
        self.peers_connected = Gauge(
            "votechain_peers_connected", "Peers we send to", registry=self.registry
        )
        self.loop_lag_ms = Gauge(
            "votechain_loop_lag_ms",
            "How late the event loop wakes the tick task, smoothed (admission control)",
            registry=self.registry,
        )
        self.admission_queue_limit = Gauge(
            "votechain_admission_queue_limit_txs",
            "This node's transactions that may wait to commit now (admission control)",
            registry=self.registry,
        )
        self.blocks_committed = Counter(
            "votechain_blocks_committed", "Blocks committed by this node", registry=self.registry
        )
        self.txs_committed = Counter(
            "votechain_txs_committed",
            "Transactions committed, by receipt code",
            ["code"],
            registry=self.registry,
        )
        self.rpc_errors = Counter(
            "votechain_rpc_errors",
            "RPC requests refused, by error code",
            ["code"],
            registry=self.registry,
        )
        self.state_transfers = Counter(
            "votechain_state_transfer_blocks", "Blocks fetched from peers", registry=self.registry
        )
        self.step_errors = Counter(
            "votechain_consensus_step_errors",
            "Events the consensus core failed on (bugs)",
            registry=self.registry,
        )
        self.node_info = Gauge(
            "votechain_node_info", "Constant 1 with labels", ["node"], registry=self.registry
        )
        self.node_info.labels(node=node_id).set(1)

    def export_counts(
        self, name: str, documentation: str, label: str, read: Callable[[], Mapping[str, int]]
    ) -> None:
        """Export counts another object keeps (transport, replica) as a labelled counter,
        read at scrape time, so there is one owner of each count."""
        self.registry.register(_CountsCollector(name, documentation, label, read))

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _CountsCollector(Collector):
    def __init__(
        self, name: str, documentation: str, label: str, read: Callable[[], Mapping[str, int]]
    ) -> None:
        self.name, self.documentation, self.label, self.read = name, documentation, label, read

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, count in sorted(self.read().items()):
            family.add_metric([value], count)
        yield family
