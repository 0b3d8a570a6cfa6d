"""Admission control: refuse at once what the cluster cannot commit soon (issue 13).

A node that takes every transaction offered while the cluster commits fewer only builds a
queue: each client waits longer, requests age past half the request timeout and are
relayed to every replica (more work for everyone), the event loop falls behind its ticks
and its peer frames, and the cluster ends in timeouts and view changes instead of commits.
So before a submission costs anything (decoding, the signature check, a waiter), the node
asks `Admission.refusal()`, which compares signals the node already has, in this order,
with their limits ([mempool] in cluster.toml), and answers `busy` (503 with Retry-After)
if one is over:

1. commit waiters: clients holding a connection for wait=commit (max_commit_waiters);
2. event-loop lag: how late the node's tick task wakes, smoothed (max_loop_lag_ms): a late
   loop is late with its consensus timers and its peers' frames too, so the node takes
   no more client work than min_queue_txs waiting until it has caught up. Not none: a
   flood of refusals alone can make the loop late, and it must not stop the trickle of
   transactions that keeps the node's clients committing;
3. the queue: this node's transactions waiting to commit, against how many of its
   transactions the cluster committed per second over the last DRAIN_WINDOW_S: more than
   max_queue_s of them would wait longer than a client should (and than half the request
   timeout, after which every replica relays them). At least min_queue_txs are always
   taken, so an idle cluster, whose rate says nothing yet, takes a burst. And never less
   than PIPELINE_BLOCKS block intervals of that rate: with one block in flight
   (docs/adr/003-one-block-in-flight.md), the next block holds what waited while the
   last one was agreed, so a queue shorter than a block interval would leave blocks
   half empty on a slow or loaded machine and cut throughput (measured: 600 ballots/s
   offered on a loaded 2-core machine, 1 s of queue committed 133-174/s, 2 s 290/s).

The queue limit follows the cluster's real rate by itself: under a light load the node
commits what it takes, its rate grows with the load, and so does the limit; once the
cluster commits no more, the queue stops at max_queue_s of it and the rest is refused.
Each node judges only its own transactions: with clients spread over n nodes each one
drains at its share, which is exactly the rate its own transactions see.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

DRAIN_WINDOW_S = 5.0
"""The commit rate is measured over this long: several blocks, even at their slowest."""
PIPELINE_BLOCKS = 2.0
"""The queue holds at least this many block intervals of the commit rate: the block being
agreed and the next one, so the primary always finds a full block waiting."""
LAG_SMOOTHING = 0.3
"""Weight of the newest tick in the smoothed loop lag: one slow iteration (a large block
executed) does not refuse clients; a loop that stays late does, within a few ticks."""
MAX_RETRY_AFTER_S = 10
QUEUE = "queue"
LOOP_LAG = "loop_lag"
WAITERS = "waiters"
SIGNALS = (WAITERS, LOOP_LAG, QUEUE)
"""The reasons of a refusal (the label of votechain_admission_refused)."""


@dataclass(frozen=True)
class Refusal:
    signal: str
    """One of SIGNALS."""
    message: str
    retry_after_s: int


@dataclass
class Admission:
    max_queue_s: float
    min_queue_txs: int
    max_loop_lag_ms: float
    max_commit_waiters: int
    waiters: int = 0
    """Clients waiting for a commit now (the node counts them in and out)."""
    loop_lag_ms: float = 0.0
    """The smoothed lateness of the tick task."""
    refused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIGNALS, 0))
    _committed: deque[tuple[float, int]] = field(default_factory=deque)
    _committed_in_window: int = 0

    def note_tick(self, late_s: float) -> None:
        """The tick task woke `late_s` after it asked to (never negative)."""
        late_ms = max(0.0, late_s) * 1000
        self.loop_lag_ms += LAG_SMOOTHING * (late_ms - self.loop_lag_ms)

    def note_committed(self, now_s: float, own_txs: int) -> None:
        """A block committed `own_txs` of this node's pending transactions."""
        self._committed.append((now_s, own_txs))
        self._committed_in_window += own_txs
        self._forget_before(now_s - DRAIN_WINDOW_S)

    def drain_per_s(self, now_s: float) -> float:
        """This node's transactions committed per second over the last DRAIN_WINDOW_S."""
        self._forget_before(now_s - DRAIN_WINDOW_S)
        return self._committed_in_window / DRAIN_WINDOW_S

    def block_interval_s(self, now_s: float) -> float:
        """The mean time between the blocks committed within the last DRAIN_WINDOW_S
        (0 with fewer than two: an idle gap is never taken for a slow block)."""
        self._forget_before(now_s - DRAIN_WINDOW_S)
        if len(self._committed) < 2:
            return 0.0
        return (self._committed[-1][0] - self._committed[0][0]) / (len(self._committed) - 1)

    def queue_limit(self, now_s: float) -> int:
        """How many of its transactions this node lets wait to commit at once."""
        queue_s = max(self.max_queue_s, PIPELINE_BLOCKS * self.block_interval_s(now_s))
        return max(self.min_queue_txs, int(self.drain_per_s(now_s) * queue_s))

    def refusal(self, now_s: float, queued: int) -> Refusal | None:
        """Why a new submission is refused now (`queued` of ours wait already), or None."""
        if self.waiters >= self.max_commit_waiters:
            return self._refuse(
                WAITERS,
                f"{self.waiters} clients are waiting for a commit here, the most it holds",
                1,
            )
        if self.loop_lag_ms > self.max_loop_lag_ms and queued >= self.min_queue_txs:
            return self._refuse(
                LOOP_LAG,
                f"its event loop runs {self.loop_lag_ms:.0f} ms late "
                f"(limit {self.max_loop_lag_ms:g} ms) with {queued} of its transactions "
                "waiting to commit",
                1,
            )
        limit = self.queue_limit(now_s)
        if queued >= limit:
            rate = self.drain_per_s(now_s)
            wait_s = (queued - limit + 1) / rate if rate > 0 else 1.0
            return self._refuse(
                QUEUE,
                f"{queued} of its transactions wait to commit and the cluster commits "
                f"{rate:.0f} of them per second (limit {limit})",
                min(MAX_RETRY_AFTER_S, max(1, math.ceil(wait_s))),
            )
        return None

    def describe(self, now_s: float) -> dict[str, Any]:
        """The signals and counts, for /v1/status."""
        return {
            "commit_waiters": self.waiters,
            "loop_lag_ms": round(self.loop_lag_ms, 1),
            "committed_per_s": round(self.drain_per_s(now_s), 1),
            "block_interval_ms": round(self.block_interval_s(now_s) * 1000),
            "queue_limit": self.queue_limit(now_s),
            "refused": dict(self.refused),
        }

    def _refuse(self, signal: str, why: str, retry_after_s: int) -> Refusal:
        self.refused[signal] += 1
        return Refusal(signal, why, retry_after_s)

    def _forget_before(self, cutoff_s: float) -> None:
        while self._committed and self._committed[0][0] < cutoff_s:
            self._committed_in_window -= self._committed.popleft()[1]
