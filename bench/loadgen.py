"""Closed- and open-loop HTTP load: the same driver for votechain and etcd.

- Closed loop: `concurrency` requests in flight; each worker sends its next request as
  soon as the last one is answered. It finds the maximum rate, at the cost of hiding
  queueing (a slow answer delays the next send).
- Open loop: request i is *scheduled* at start + i / rate whatever happened before, and
  its latency runs from that scheduled time, not from when the client got round to
  sending it. A client or server that falls behind shows as latency, as a citizen
  pressing "vote" would see it (the coordinated-omission trap of measuring from the
  send). How late the client itself started sends is reported too, so a saturated
  client is not mistaken for a slow cluster.

Each answer is classified by a function given by the caller (status, body) -> outcome,
and the outcomes in `success` count as acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.measure import latency_summary_ms

CLIENT_TIMEOUT_S = 30.0
"""Longer than a node's commit_wait_timeout_s (20 s), so the node's own timeout answers."""
CLIENT_TIMEOUT = "client_timeout"
UNREACHABLE = "unreachable"
RETRY_PAUSE_S_MAX = 1.0
"""A closed-loop worker told to come back later waits Retry-After, at most this long, so
the loop keeps the cluster at its maximum rather than idling on a 10 s hint."""
RETRIES_MAX = 120
"""A request answered busy this often in a row is recorded with that answer."""
OPEN_LOOP_START_DELAY_S = 0.05
"""The schedule starts this long after the call, so the first sends are not late."""


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    key: bytes
    """What identifies the request to the caller (a tx_id), kept for acknowledged ones."""
    content_type: str = "application/json"


Classify = Callable[[int, bytes], str]


@dataclass
class RunResult:
    """What one run saw, by outcome."""

    mode: str
    concurrency: int | None = None
    offered_per_s: float | None = None
    sent: int = 0
    elapsed_s: float = 0.0
    """From the first (scheduled) send to the last answer."""
    schedule_s: float | None = None
    """Open loop: the offered window, requests / rate (the last send is due at its end)."""
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies_s: dict[str, list[float]] = field(default_factory=dict)
    acknowledged: list[bytes] = field(default_factory=list)
    wire_latencies_s: dict[str, list[float]] = field(default_factory=dict)
    """Open loop: from the actual send to the answer, by outcome (the part of the latency
    that is not the client's own lateness)."""
    retried: Counter[str] = field(default_factory=Counter)
    """Closed loop: answers after which the same request was sent again, by outcome."""
    client_late_s_max: float = 0.0
    """Open loop: the latest any send started after its scheduled time."""
    success: frozenset[str] = frozenset()

    @property
    def acknowledged_count(self) -> int:
        return sum(self.outcomes[o] for o in self.success)

    @property
    def acknowledged_per_s(self) -> float:
        """Closed loop: acknowledged over the whole run. Open loop: acknowledged over the
        offered window, so a cluster that keeps up with every request scores the offered
        rate (how late the answers came is the latency's business)."""
        window_s = self.schedule_s if self.schedule_s is not None else self.elapsed_s
        return self.acknowledged_count / window_s if window_s > 0 else 0.0

    @property
    def throughput_per_s(self) -> float:
        """Acknowledged from the first send to the last answer: the rate the cluster
        committed at, backlog included."""
        return self.acknowledged_count / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def record(self, outcome: str, latency_s: float, key: bytes) -> None:
        self.outcomes[outcome] += 1
        self.latencies_s.setdefault(outcome, []).append(latency_s)
        if outcome in self.success:
            self.acknowledged.append(key)

    def success_latencies_s(self) -> list[float]:
        return [x for o in self.success for x in self.latencies_s.get(o, [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "concurrency": self.concurrency,
            "offered_per_s": self.offered_per_s,
            "sent": self.sent,
            "elapsed_s": round(self.elapsed_s, 3),
            "acknowledged": self.acknowledged_count,
            "acknowledged_per_s": round(self.acknowledged_per_s, 1),
            "throughput_per_s": round(self.throughput_per_s, 1),
            "schedule_s": None if self.schedule_s is None else round(self.schedule_s, 3),
            "latency_acknowledged": latency_summary_ms(self.success_latencies_s()),
            "outcomes": dict(self.outcomes),
            "retried": dict(self.retried),
            "wire_latency_by_outcome": {
                o: latency_summary_ms(v) for o, v in sorted(self.wire_latencies_s.items())
            },
            "latency_by_outcome": {
                o: latency_summary_ms(v) for o, v in sorted(self.latencies_s.items())
            },
            "client_late_ms_max": round(self.client_late_s_max * 1000, 1),
        }


class Progress:
    """One stderr line per phase, redrawn every PROGRESS_EVERY_S with counts and ETA."""

    PROGRESS_EVERY_S = 2.0

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    async def watch(
        self, phase: str, done: Callable[[], int], total: int | None, deadline: float | None
    ) -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(self.PROGRESS_EVERY_S)
            now = time.monotonic()
            count = done()
            rate = count / (now - started) if now > started else 0.0
            if deadline is not None:
                eta_s = max(0.0, deadline - now)
            elif total and rate > 0:
                eta_s = (total - count) / rate
            else:
                eta_s = float("nan")
            of = f"/{total:,}" if total else ""
            self.say(f"  {phase}: {count:,}{of} answered, {rate:,.0f}/s, ETA {eta_s:,.0f} s")


def session(connections: int) -> aiohttp.ClientSession:
    """A session that keeps up to `connections` connections alive (0: no limit)."""
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=0, force_close=False)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    )


async def closed_loop(
    http: aiohttp.ClientSession,
    requests: Iterator[Request],
    classify: Classify,
    success: frozenset[str],
    concurrency: int,
    duration_s: float | None = None,
    progress: tuple[Progress, str, int | None] | None = None,
    retry: frozenset[str] = frozenset(),
) -> RunResult:
    """`concurrency` workers send until `requests` is used up or `duration_s` has passed
    (no new send after it; the ones in flight are awaited). An answer in `retry` (busy)
    is not final: the worker sends the same request again after its Retry-After, and the
    latency runs from the first send."""
    result = RunResult("closed", concurrency=concurrency, success=success)
    started = time.monotonic()
    deadline = started + duration_s if duration_s is not None else None

    async def worker() -> None:
        while deadline is None or time.monotonic() < deadline:
            request = next(requests, None)
            if request is None:
                return
            result.sent += 1
            sent_at = time.monotonic()
            outcome, retry_after_s = await _send(http, request, classify)
            # As a client told to come back: the same request again after Retry-After
            # (at most RETRY_PAUSE_S_MAX), until it gets a final answer or time is up.
            for _ in range(RETRIES_MAX):
                if outcome not in retry or (deadline is not None and time.monotonic() > deadline):
                    break
                result.retried[outcome] += 1
                await asyncio.sleep(min(retry_after_s, RETRY_PAUSE_S_MAX))
                outcome, retry_after_s = await _send(http, request, classify)
            result.record(outcome, time.monotonic() - sent_at, request.key)

    watcher = _watch(progress, lambda: sum(result.outcomes.values()), deadline)
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        if watcher is not None:
            watcher.cancel()
    result.elapsed_s = time.monotonic() - started
    return result


async def open_loop(
    http: aiohttp.ClientSession,
    requests: Sequence[Request],
    classify: Classify,
    success: frozenset[str],
    rate_per_s: float,
    progress: tuple[Progress, str, int | None] | None = None,
) -> RunResult:
    """Send every request at its scheduled time start + i / rate_per_s; latency from then."""
    result = RunResult(
        "open", offered_per_s=rate_per_s, success=success, schedule_s=len(requests) / rate_per_s
    )
    loop_started = time.monotonic()
    start = loop_started + OPEN_LOOP_START_DELAY_S
    tasks: list[asyncio.Task[None]] = []

    async def one(request: Request, scheduled: float) -> None:
        sent_at = time.monotonic()
        outcome, _ = await _send(http, request, classify)
        done_at = time.monotonic()
        result.record(outcome, done_at - scheduled, request.key)
        result.wire_latencies_s.setdefault(outcome, []).append(done_at - sent_at)

    watcher = _watch(progress, lambda: sum(result.outcomes.values()), None)
    try:
        for i, request in enumerate(requests):
            scheduled = start + i / rate_per_s
            delay_s = scheduled - time.monotonic()
            if delay_s > 0:
                await asyncio.sleep(delay_s)
            # Every send already due leaves now, without sleeping in between.
            result.client_late_s_max = max(result.client_late_s_max, time.monotonic() - scheduled)
            result.sent += 1
            tasks.append(asyncio.create_task(one(request, scheduled)))
        await asyncio.gather(*tasks)
    finally:
        if watcher is not None:
            watcher.cancel()
    result.elapsed_s = time.monotonic() - start
    return result


async def _send(
    http: aiohttp.ClientSession, request: Request, classify: Classify
) -> tuple[str, float]:
    """The answer's outcome, and its Retry-After in seconds (0 if it has none)."""
    try:
        async with http.post(
            request.url, data=request.body, headers={"Content-Type": request.content_type}
        ) as response:
            outcome = classify(response.status, await response.read())
            return outcome, _retry_after_s(response.headers.get("Retry-After"))
    except TimeoutError:
        return CLIENT_TIMEOUT, 0.0
    except aiohttp.ClientError:
        return UNREACHABLE, 0.0


def _retry_after_s(header: str | None) -> float:
    try:
        return max(0.0, float(header)) if header else 0.0
    except ValueError:
        return 0.0  # an HTTP date: not sent by votechain or etcd


def _watch(
    progress: tuple[Progress, str, int | None] | None,
    done: Callable[[], int],
    deadline: float | None,
) -> asyncio.Task[None] | None:
    if progress is None:
        return None
    reporter, phase, total = progress
    return asyncio.create_task(reporter.watch(phase, done, total, deadline))
