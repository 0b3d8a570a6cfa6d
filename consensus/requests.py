"""The client requests a replica holds until they are committed (section 4.1).

Insertion-ordered by arrival, so batches are first come, first served. Requests this
replica received itself (not forwarded by a peer) are also queued for one relay: if one is
still pending half a request timeout later, the replica broadcasts it to every replica,
which is the paper's client retransmission. Every operation is O(1) per request, except
take_batch, which walks the requests it puts in the batch.

The pending set is bounded in count and bytes, in total and per signer (issue 9): a
faulty validator may forward as many signed requests as it likes, and without a per-signer
quota one key's transactions could fill the set, and so every block the replica proposes.
Quotas are node policy, not protocol: a request refused here stays in the mempool of the
replica that admitted it, which hands it over again on the next view.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from chain.tx import Transaction


@dataclass(frozen=True)
class PendingLimits:
    """How much the pending set holds; see ReplicaConfig for each field's meaning."""

    max_requests: int
    max_bytes: int
    max_requests_per_signer: int
    max_bytes_per_signer: int
    exempt_signers: frozenset[bytes] = frozenset()


@dataclass
class _Pending:
    tx: Transaction
    since_tick: int


class PendingRequests:
    def __init__(self, limits: PendingLimits) -> None:
        self.limits = limits
        self._pending: dict[bytes, _Pending] = {}
        self._unrelayed: deque[bytes] = deque()
        self._bytes = 0
        self._by_signer: dict[bytes, tuple[int, int]] = {}
        """signer -> (requests, encoded bytes) pending; a signer with none has no entry."""

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self._pending

    @property
    def total_bytes(self) -> int:
        """Encoded bytes of every pending request."""
        return self._bytes

    def refusal(self, tx: Transaction) -> str | None:
        """Why `tx` may not be added now (a ReplicaStats drop reason), or None."""
        limits = self.limits
        size = tx.encoded_size
        if len(self._pending) >= limits.max_requests:
            return "too many pending requests"
        if self._bytes + size > limits.max_bytes:
            return "pending requests over the byte cap"
        if tx.signer in limits.exempt_signers:
            return None
        count, used = self._by_signer.get(tx.signer, (0, 0))
        if count + 1 > limits.max_requests_per_signer:
            return "signer over its pending request quota"
        if used + size > limits.max_bytes_per_signer:
            return "signer over its pending byte quota"
        return None

    def add(self, tx: Transaction, tick: int, relay: bool) -> None:
        """Hold `tx`; the caller checked `refusal` first. A held tx_id is not added twice."""
        if tx.tx_id in self._pending:
            return
        self._pending[tx.tx_id] = _Pending(tx, tick)
        self._account(tx, 1)
        if relay:
            self._unrelayed.append(tx.tx_id)

    def remove(self, tx_id: bytes) -> None:
        pending = self._pending.pop(tx_id, None)
        if pending is not None:
            self._account(pending.tx, -1)

    def oldest(self, count: int) -> list[Transaction]:
        return [p.tx for p in list(self._pending.values())[:count]]

    def is_full_batch(self, max_txs: int, max_tx_bytes: int) -> bool:
        """Enough is pending to fill a block by count or by bytes (so propose now)."""
        return len(self._pending) >= max_txs or self._bytes >= max_tx_bytes

    def take_batch(
        self, max_txs: int, max_tx_bytes: int, is_committed: Callable[[bytes], bool]
    ) -> list[Transaction]:
        """The oldest requests, at most `max_txs` of them with encoded sizes adding up to
        at most `max_tx_bytes`; drops any that turn out to be committed.

        The batch stops at the first request that does not fit, so a large request waits
        for the next block rather than being overtaken by every small one behind it.
        """
        batch: list[Transaction] = []
        batch_bytes = 0
        for tx_id in list(self._pending):
            if is_committed(tx_id):
                self.remove(tx_id)
                continue
            tx = self._pending[tx_id].tx
            if batch_bytes + tx.encoded_size > max_tx_bytes:
                break
            batch.append(tx)
            batch_bytes += tx.encoded_size
            if len(batch) >= max_txs:
                break
        return batch

    def due_for_relay(self, tick: int, after_ticks: int) -> list[Transaction]:
        """Own requests pending for `after_ticks` and not relayed yet; each is due once."""
        due: list[Transaction] = []
        while self._unrelayed:
            pending = self._pending.get(self._unrelayed[0])
            if pending is not None and pending.since_tick > tick - after_ticks:
                break
            self._unrelayed.popleft()
            if pending is not None:
                due.append(pending.tx)
        return due

    def _account(self, tx: Transaction, sign: int) -> None:
        size = tx.encoded_size
        self._bytes += sign * size
        count, used = self._by_signer.get(tx.signer, (0, 0))
        count, used = count + sign, used + sign * size
        if count:
            self._by_signer[tx.signer] = (count, used)
        else:
            self._by_signer.pop(tx.signer, None)
