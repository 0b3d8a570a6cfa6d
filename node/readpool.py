"""Heavy reads off the consensus loop, with bounded concurrency.

Block details, raw blocks, transactions with proofs, block lists, poll lists and
histories decode blocks and build JSON; on the event loop, ten clients re-fetching a
5.4 MB block raised ballot commit latency from 104 ms to 1,951 ms. They run here instead:
in a small thread pool, at most `max_pending` at a time (running or queued). One more is
refused at once with `busy` (503, Retry-After) rather than queued without bound.

What runs here must only read: the chain store (plyvel reads are thread-safe, and a
block at a height at or below the head never changes) and values passed in. It must
not touch the replica, the mempool, the waiters or anything else the loop mutates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from node.errors import RpcError, RpcErrorCode

T = TypeVar("T")


class ReadPool:
    def __init__(self, threads: int, max_pending: int) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="votechain-read")
        self.max_pending = max_pending
        self.pending = 0
        self.refused = 0

    async def run(self, read: Callable[[], T]) -> T:
        """read() in the pool; RpcError(BUSY) at once if max_pending reads are in."""
        if self.pending >= self.max_pending:
            self.refused += 1
            raise RpcError(
                RpcErrorCode.BUSY,
                f"the node is serving {self.pending} heavy reads; retry in a moment",
            )
        self.pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, read)
        finally:
            self.pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
