"""Prometheus metrics of one node (its own registry, so tests can run nodes side by side)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class NodeMetrics:
    def __init__(self, node_id: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"registry": self.registry}
        self.height = Gauge("votechain_height", "Height of the last committed block", **labels)
        self.view = Gauge("votechain_view", "Current PBFT view", **labels)
        self.mempool_size = Gauge("votechain_mempool_txs", "Transactions waiting", **labels)
        self.peers_connected = Gauge("votechain_peers_connected", "Peers we send to", **labels)
        self.blocks_committed = Counter(
            "votechain_blocks_committed", "Blocks committed by this node", **labels
        )
        self.txs_committed = Counter(
            "votechain_txs_committed", "Transactions committed, by receipt code", ["code"], **labels
        )
        self.frames_dropped = Counter(
            "votechain_peer_frames_dropped",
            "Peer frames dropped, by reason",
            ["reason"],
            **labels,
        )
        self.rpc_errors = Counter(
            "votechain_rpc_errors", "RPC requests refused, by error code", ["code"], **labels
        )
        self.state_transfers = Counter(
            "votechain_state_transfer_blocks", "Blocks fetched from peers", **labels
        )
        self.step_errors = Counter(
            "votechain_consensus_step_errors",
            "Events the consensus core failed on (bugs)",
            **labels,
        )
        self.node_info = Gauge("votechain_node_info", "Constant 1 with labels", ["node"], **labels)
        self.node_info.labels(node=node_id).set(1)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
