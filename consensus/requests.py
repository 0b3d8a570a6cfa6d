"""The client requests a replica holds until they are committed (section 4.1).

Insertion-ordered by arrival, so batches are first come, first served. Requests this
replica received itself (not forwarded by a peer) are also queued for one relay: if one is
still pending half a request timeout later, the replica broadcasts it to every replica,
which is the paper's client retransmission. Every operation is O(1) per request.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from chain.tx import Transaction


@dataclass
class _Pending:
    tx: Transaction
    since_tick: int


class PendingRequests:
    def __init__(self) -> None:
        self._pending: dict[bytes, _Pending] = {}
        self._unrelayed: deque[bytes] = deque()

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self._pending

    def add(self, tx: Transaction, tick: int, relay: bool) -> None:
        self._pending[tx.tx_id] = _Pending(tx, tick)
        if relay:
            self._unrelayed.append(tx.tx_id)

    def remove(self, tx_id: bytes) -> None:
        self._pending.pop(tx_id, None)

    def oldest(self, count: int) -> list[Transaction]:
        return [p.tx for p in list(self._pending.values())[:count]]

    def take_batch(self, limit: int, is_committed: Callable[[bytes], bool]) -> list[Transaction]:
        """Up to `limit` oldest requests, dropping any that turn out to be committed."""
        batch: list[Transaction] = []
        for tx_id in list(self._pending):
            if is_committed(tx_id):
                del self._pending[tx_id]
                continue
            batch.append(self._pending[tx_id].tx)
            if len(batch) >= limit:
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
