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
   loop is late with its consensus timers and its peers' frames too, so while a backlog
   builds (the cluster does not keep up, see GROWTH) the node takes no more client work
   than min_queue_txs waiting until it has caught up. Not none: a flood of refusals
   alone can make the loop late, and it must not stop the trickle of transactions that
   keeps the node's clients committing. And not while the cluster keeps up: on a shared
   2-core machine the loop ran 250-330 ms late at 240 ballots/s offered while every
   block took the whole queue, and refusing then was refusing below capacity;
3. the queue: this node's transactions waiting to commit, against the cluster's capacity
   for them: the most of this node's transactions it has been seen to commit per second
   (measured over the blocks of the last DRAIN_WINDOW_S), a maximum that decays with a
   half-life of CAPACITY_HALF_LIFE_S. More than max_queue_s of that capacity would wait
   longer than a client should (and than half the request timeout, after which every
   replica relays them). And never less than PIPELINE_BLOCKS block intervals of it: with
   one block in flight (docs/adr/003-one-block-in-flight.md), the next block holds what
   waited while the last one was agreed, so a queue shorter than a block interval would
   leave blocks half empty on a slow or loaded machine and cut throughput (measured: 600
   ballots/s offered on a loaded 2-core machine, 1 s of queue committed 133-174/s, 2 s
   290/s). Until a rate is known (fewer than MIN_RATE_SPAN_S of blocks), at least
   min_queue_txs are taken: the cold-start allowance, so a rush that starts on an idle
   cluster is admitted while the first blocks measure what it commits.

Why capacity and not the current rate (measured, issue 13): a limit of max_queue_s of the
rate of the last seconds follows the admitted load, not what the cluster could commit.
Below capacity a transaction waits one to two block intervals by the pipeline alone; on a
loaded machine that is more than max_queue_s, so the node refused, its rate fell with
what it admitted, its limit with its rate, down to min_queue_txs: offered 240/s (0.8x the
closed-loop maximum of 301/s) 46% of ballots were answered busy and the cluster committed
125/s. The rate was also divided by the whole window from the first block on, so a rush
on an idle cluster met a limit of min_queue_txs for seconds. The decaying maximum does
not fall when refusals lower the admitted load, it grows as soon as the cluster commits
more, and it forgets a capacity the cluster no longer has (a node down, a slower disk)
within a minute or two; everything is O(1) per request and per block.

Retry-After is spread (a refused client is told base..2 x base seconds, in turn), so a
crowd refused in the same second does not come back in the same second, a wave that
would be refused again.

Each node judges only its own transactions: with clients spread over n nodes each one
drains at its share, which is exactly the rate its own transactions see.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

DRAIN_WINDOW_S = 5.0
"""The commit rate is measured over the blocks of this long: several, even at their slowest."""
MIN_RATE_SPAN_S = 1.0
"""A rate needs blocks spanning at least this long: two blocks a few ms apart say nothing
about what the cluster commits per second (and a spurious peak would be kept for minutes)."""
CAPACITY_HALF_LIFE_S = 30.0
"""The capacity estimate (the highest rate seen) halves over this long if the cluster no
longer reaches it: slow enough that the quiet seconds of a rush do not shrink the queue
limit, fast enough that a cluster that lost capacity stops taking what it cannot commit."""
PIPELINE_BLOCKS = 2.0
"""The queue holds at least this many block intervals of the capacity: the block being
agreed and the next one, so the primary always finds a full block waiting."""
GROWTH = 1.5
"""While the cluster keeps up, the queue may hold this much more than the capacity seen
so far allows: a rate can only be seen by admitting it, so without room to grow the
estimate would stay at whatever the node first admitted (the cold-start allowance) and
refuse a load the cluster could commit. At saturation the queue stops growing after the
first over-full round, so the longest wait is at most GROWTH x max_queue_s."""
KEEP_UP_SLACK = 1.25
"""The cluster keeps up while what still waits after a block committed is at most this
many times the most of ours one block of the last DRAIN_WINDOW_S committed: the next
block takes all of it, as each round takes what arrived during the last. A backlog
larger than the largest block is saturation. (The largest, not the last: a block made
small by refusals says nothing about what the next can take.)"""
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
    _peak_per_s: float = 0.0
    _peak_at_s: float = 0.0
    _keeping_up: bool = True

    def note_tick(self, late_s: float) -> None:
        """The tick task woke `late_s` after it asked to (never negative)."""
        late_ms = max(0.0, late_s) * 1000
        self.loop_lag_ms += LAG_SMOOTHING * (late_ms - self.loop_lag_ms)

    def note_committed(self, now_s: float, own_txs: int, still_queued: int = 0) -> None:
        """A block committed `own_txs` of this node's pending transactions, and
        `still_queued` of them wait for the next blocks."""
        self._committed.append((now_s, own_txs))
        self._committed_in_window += own_txs
        self._forget_before(now_s - DRAIN_WINDOW_S)
        largest_block = max(txs for _, txs in self._committed)  # per block, not per request
        self._keeping_up = still_queued <= KEEP_UP_SLACK * largest_block + 1
        rate = self.drain_per_s(now_s)
        if rate >= self.capacity_per_s(now_s):
            self._peak_per_s, self._peak_at_s = rate, now_s

    def drain_per_s(self, now_s: float) -> float:
        """This node's transactions committed per second by the blocks of the last
        DRAIN_WINDOW_S: what the blocks after the first committed over the time from the
        first to the last, once they span MIN_RATE_SPAN_S (so it is right within a second
        or two of the first block, not only once a whole window has passed); before,
        what they committed over the whole window."""
        self._forget_before(now_s - DRAIN_WINDOW_S)
        if not self._committed:
            return 0.0
        span_s = self._committed[-1][0] - self._committed[0][0]
        if span_s < MIN_RATE_SPAN_S:
            return self._committed_in_window / DRAIN_WINDOW_S
        return (self._committed_in_window - self._committed[0][1]) / span_s

    def capacity_per_s(self, now_s: float) -> float:
        """The most of this node's transactions the cluster was seen to commit per second,
        decayed by half every CAPACITY_HALF_LIFE_S since (O(1): decayed when read)."""
        age_s = max(0.0, now_s - self._peak_at_s)
        return float(self._peak_per_s * 0.5 ** (age_s / CAPACITY_HALF_LIFE_S))

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
        growth = GROWTH if self._keeping_up else 1.0
        return max(self.min_queue_txs, round(self.capacity_per_s(now_s) * queue_s * growth))

    def refusal(self, now_s: float, queued: int) -> Refusal | None:
        """Why a new submission is refused now (`queued` of ours wait already), or None."""
        if self.waiters >= self.max_commit_waiters:
            return self._refuse(
                WAITERS,
                f"{self.waiters} clients are waiting for a commit here, the most it holds",
                1,
            )
        if (
            self.loop_lag_ms > self.max_loop_lag_ms
            and queued >= self.min_queue_txs
            and not self._keeping_up
        ):
            return self._refuse(
                LOOP_LAG,
                f"its event loop runs {self.loop_lag_ms:.0f} ms late "
                f"(limit {self.max_loop_lag_ms:g} ms) with {queued} of its transactions "
                "waiting to commit",
                1,
            )
        limit = self.queue_limit(now_s)
        if queued >= limit:
            capacity = self.capacity_per_s(now_s)
            wait_s = (queued - limit + 1) / capacity if capacity > 0 else 1.0
            return self._refuse(
                QUEUE,
                f"{queued} of its transactions wait to commit and the cluster commits "
                f"at most {capacity:.0f} of them per second (limit {limit})",
                min(MAX_RETRY_AFTER_S, max(1, math.ceil(wait_s))),
            )
        return None

    def describe(self, now_s: float) -> dict[str, Any]:
        """The signals and counts, for /v1/status."""
        return {
            "commit_waiters": self.waiters,
            "loop_lag_ms": round(self.loop_lag_ms, 1),
            "committed_per_s": round(self.drain_per_s(now_s), 1),
            "capacity_per_s": round(self.capacity_per_s(now_s), 1),
            "block_interval_ms": round(self.block_interval_s(now_s) * 1000),
            "keeping_up": self._keeping_up,
            "queue_limit": self.queue_limit(now_s),
            "refused": dict(self.refused),
        }

    def _refuse(self, signal: str, why: str, retry_after_s: int) -> Refusal:
        """Count the refusal; its Retry-After is spread over retry_after_s..2 x that (at
        most MAX_RETRY_AFTER_S), one step per refusal in turn, so the clients refused in
        one second come back over several instead of in one wave. In turn, not at
        random: the same refusals give the same answers (tests, replays of a log)."""
        total = sum(self.refused.values())
        self.refused[signal] += 1
        spread_s = total % (retry_after_s + 1)
        return Refusal(signal, why, min(MAX_RETRY_AFTER_S, retry_after_s + spread_s))

    def _forget_before(self, cutoff_s: float) -> None:
        while self._committed and self._committed[0][0] < cutoff_s:
            self._committed_in_window -= self._committed.popleft()[1]
