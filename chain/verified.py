"""VerifiedTransactions: the transactions whose signatures one node has already checked.

A transaction reaches a node up to three times: the mempool admits it, the consensus core
takes it as a request (its own or forwarded by a peer), and the block that holds it is
validated before the node prepares it. Verifying its Ed25519 signature each time was most
of a validator's CPU (issue 13). One VerifiedTransactions per node, shared by the mempool,
the consensus core and block validation, makes it once per node.

Why a cache hit is safe. The key is the transaction's tx_id, computed by this process from
the transaction's own bytes (Transaction.tx_id hashes the canonical encoding, the
signature and the chain id included), never an id a peer or client claims. Equal tx_ids
mean equal bytes (SHA-256), equal bytes decode to equal fields, and whether a signature
verifies is a function of those fields alone; so a tx_id recorded here after a successful
check names bytes whose signature did verify. Only successes are recorded: a bad
signature is checked again every time it comes, never remembered as good. The chain id is
inside those bytes, and every call checks it against the caller's, hit or not.

The set is bounded (`capacity_txs`); when full, the least recently used tx_id goes.
Eviction only costs one more verification of that transaction later, never a wrong
answer. Pure: no clock, no I/O, no randomness, so the deterministic simulator uses it too.
"""

from __future__ import annotations

from chain.errors import InvalidTransaction
from chain.tx import Transaction

DEFAULT_CAPACITY_TXS = 131_072
"""About 13 MB of tx_ids. More than the default mempool (see node/config.py) and the
consensus core's pending set hold together, so a transaction admitted under load is still
here when its block is validated."""


class VerifiedTransactions:
    """A bounded LRU set of tx_ids whose signatures verified."""

    def __init__(self, capacity_txs: int = DEFAULT_CAPACITY_TXS) -> None:
        if capacity_txs < 1:
            raise ValueError("capacity_txs must be at least 1")
        self.capacity_txs = capacity_txs
        self._tx_ids: dict[bytes, None] = {}
        """Insertion order is recency: a hit moves its tx_id to the end."""
        self.checks: dict[str, int] = {}
        """Ed25519 verifications actually run, by where (the caller's label)."""
        self.hits: dict[str, int] = {}
        """Verifications skipped because the tx_id was here, by where."""
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._tx_ids)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self._tx_ids

    def verify(self, tx: Transaction, chain_id: str, where: str) -> None:
        """Raise InvalidTransaction unless `tx` is well formed, for `chain_id`, and signed.

        The same contract as `tx.verify(chain_id)`; the signature itself is checked only
        if this tx_id has not verified here before. `where` labels the counts
        ("mempool", "request", "block").
        """
        tx.validate_basic()
        if tx.chain_id != chain_id:
            raise InvalidTransaction(f"wrong chain id: expected {chain_id!r}, got {tx.chain_id!r}")
        tx_id = tx.tx_id
        if tx_id in self._tx_ids:
            # Refresh: a transaction seen again is likely to be seen once more (in its
            # block), so it should outlive ones not seen since their admission.
            del self._tx_ids[tx_id]
            self._tx_ids[tx_id] = None
            self.hits[where] = self.hits.get(where, 0) + 1
            return
        self.checks[where] = self.checks.get(where, 0) + 1
        tx.verify(chain_id)
        if len(self._tx_ids) >= self.capacity_txs:
            del self._tx_ids[next(iter(self._tx_ids))]
            self.evictions += 1
        self._tx_ids[tx_id] = None
