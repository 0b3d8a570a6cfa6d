"""Domain types and the replica's configuration.

Replica ids are indexes into the genesis validator set; the primary of view v is
replica v mod n (Castro & Liskov, section 4.1). Sequence numbers are block heights:
one block is one PBFT batch (docs/adr/003-one-block-in-flight.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NewType

from chain.block import BLOCK_OVERHEAD_MAX_BYTES, MAX_BLOCK_BYTES, MAX_BLOCK_TXS
from chain.certificate import ValidatorSet
from chain.tx import MAX_CHAIN_ID_LENGTH, MAX_TX_BYTES

View = NewType("View", int)
"""A PBFT view number; view v is led by replica v mod n."""
Height = NewType("Height", int)
"""A block height, which is also the PBFT sequence number of that block."""
ReplicaId = NewType("ReplicaId", int)
"""A validator's index in the genesis validator set."""

MAX_BACKOFF_DOUBLINGS = 6
"""The view-change timeout doubles per failed view, up to 2**6 times the base."""


@dataclass(frozen=True)
class ReplicaConfig:
    """Everything a replica needs to know that is fixed for its lifetime.

    Timers count Tick events (`*_ticks`); the node decides how long a tick is. The block
    clock (`max_clock_drift_ms`) is in milliseconds of the Tick's `now_ms`.
    """

    chain_id: str
    validators: ValidatorSet
    replica_id: ReplicaId
    checkpoint_interval: int = 16
    """K: a checkpoint message is sent after every K-th block (section 4.3)."""
    watermark_window: int = 64
    """L: messages are accepted only for heights in (low, low + L], low = stable checkpoint."""
    max_block_txs: int = 500
    """Most transactions the primary puts in one block."""
    max_block_bytes: int = MAX_BLOCK_BYTES
    """Largest encoded block the primary proposes: at most the protocol's MAX_BLOCK_BYTES,
    and room for at least one transaction of MAX_TX_BYTES."""
    batch_delay_ticks: int = 1
    """Ticks the primary waits for more requests before proposing a non-full block."""
    request_timeout_ticks: int = 40
    """Base view-change timeout; doubles with every view change that brings no block."""
    max_clock_drift_ms: int = 5_000
    """A fresh proposal's timestamp must be within this of the replica's own clock."""
    retransmit_ticks: int = 10
    """While work is outstanding, a replica re-sends its latest messages this often."""
    status_ticks: int = 100
    """A replica broadcasts a Commit for its last committed block this often, work or not,
    so a replica that is behind (or alone in a later view) learns it on an idle cluster."""
    state_transfer_delay_ticks: int = 3
    """How long evidence that this replica is behind must persist before it fetches."""
    fetch_timeout_ticks: int = 30
    """How long to wait for BlocksFetched before asking again."""
    max_pending_requests: int = 50_000
    """Requests beyond this many are ignored (the node's mempool keeps the rest)."""
    max_pending_bytes: int = 128 * 1024 * 1024
    """Encoded bytes of all pending requests together; more are ignored likewise."""
    max_pending_per_signer: int = 1_024
    """Pending requests of one signer; a faulty validator's forwards cannot exceed it."""
    max_pending_bytes_per_signer: int = 4 * 1024 * 1024
    """Encoded bytes of one signer's pending requests (half a block at the protocol limit)."""
    quota_exempt_signers: frozenset[bytes] = frozenset()
    """Signers without a per-signer quota (the node passes the genesis attesters, which
    sign one enrollment per verified phone); the total caps still apply to them."""
    signature_cache_size: int = 8_192
    """Verified (key, message, signature) triples remembered to avoid re-verifying."""
    genesis_time_ms: int = 0
    """The genesis document's time: block 1's timestamp must be later (PROTOCOL.md 10)."""

    def __post_init__(self) -> None:
        if not 0 < len(self.chain_id) <= MAX_CHAIN_ID_LENGTH:
            raise ValueError(f"chain_id must be 1..{MAX_CHAIN_ID_LENGTH} characters")
        if not 0 <= self.replica_id < self.validators.size:
            raise ValueError(
                f"replica_id {self.replica_id} is not an index of {self.validators.size} validators"
            )
        if self.checkpoint_interval < 1:
            raise ValueError("checkpoint_interval must be at least 1")
        if self.watermark_window < 2 * self.checkpoint_interval:
            raise ValueError(
                f"watermark_window ({self.watermark_window}) must be at least twice "
                f"checkpoint_interval ({self.checkpoint_interval}), or the window can close "
                "before a checkpoint becomes stable"
            )
        for name in (
            "max_block_txs",
            "request_timeout_ticks",
            "retransmit_ticks",
            "status_ticks",
            "fetch_timeout_ticks",
            "max_pending_requests",
            "max_pending_bytes",
            "max_pending_per_signer",
            "max_pending_bytes_per_signer",
            "signature_cache_size",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.batch_delay_ticks < 0 or self.state_transfer_delay_ticks < 0:
            raise ValueError("delays cannot be negative")
        if self.max_clock_drift_ms < 0:
            raise ValueError("max_clock_drift_ms cannot be negative")
        if self.max_block_txs > MAX_BLOCK_TXS:
            raise ValueError(
                f"max_block_txs ({self.max_block_txs}) is over the protocol's {MAX_BLOCK_TXS}"
            )
        smallest_block_bytes = BLOCK_OVERHEAD_MAX_BYTES + MAX_TX_BYTES
        if not smallest_block_bytes <= self.max_block_bytes <= MAX_BLOCK_BYTES:
            raise ValueError(
                f"max_block_bytes ({self.max_block_bytes}) must be between "
                f"{smallest_block_bytes} (one largest transaction) and {MAX_BLOCK_BYTES}"
            )

    @property
    def max_batch_tx_bytes(self) -> int:
        """Bytes of transactions a proposal may hold: the block budget less its header."""
        return self.max_block_bytes - BLOCK_OVERHEAD_MAX_BYTES

    @property
    def size(self) -> int:
        """n: the number of replicas."""
        return self.validators.size

    @property
    def max_faulty(self) -> int:
        """f: the number of Byzantine replicas tolerated."""
        return self.validators.max_faulty

    @property
    def quorum(self) -> int:
        """2f + 1 (for n = 3f + 1): distinct replicas that make a quorum."""
        return self.validators.quorum

    def primary_of(self, view: View) -> ReplicaId:
        """The replica that leads `view` (section 4.1: p = v mod |R|)."""
        return ReplicaId(view % self.size)

    def public_key_of(self, replica: ReplicaId) -> bytes:
        return self.validators.public_keys[replica]
