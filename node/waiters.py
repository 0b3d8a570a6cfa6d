"""Clients waiting for their transaction to commit (wait=commit), by tx_id.

One place for what validators (node/service.py) and observers (node/observer.py) both do
with them: register a future before the transaction can commit, wake every future of a
committed transaction, answer all of them with one error on shutdown, and forget a
future whose client timed out or went away (for a transaction that never commits,
nothing else would ever remove it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


class CommitWaiters:
    def __init__(self) -> None:
        self._by_tx: dict[bytes, list[asyncio.Future[None]]] = {}

    def __len__(self) -> int:
        """How many clients wait (a transaction may have several)."""
        return sum(len(waiters) for waiters in self._by_tx.values())

    def __bool__(self) -> bool:
        return bool(self._by_tx)

    def add(self, tx_id: bytes) -> asyncio.Future[None]:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._by_tx.setdefault(tx_id, []).append(waiter)
        return waiter

    def forget(self, tx_id: bytes, waiter: asyncio.Future[None]) -> None:
        waiters = self._by_tx.get(tx_id, [])
        if waiter in waiters:
            waiters.remove(waiter)
        if not waiters:
            self._by_tx.pop(tx_id, None)

    def wake(self, tx_ids: Iterable[bytes]) -> None:
        """The transactions committed: their clients may read the answer now."""
        for tx_id in tx_ids:
            for waiter in self._by_tx.pop(tx_id, []):
                if not waiter.done():
                    waiter.set_result(None)

    def fail_all(self, error: BaseException) -> None:
        for waiters in self._by_tx.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(error)
