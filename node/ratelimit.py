"""Per-client token buckets, with an injected clock so tests need no sleeping.

A client may spend `burst` requests at once, then one per `refill_interval_s`. A bucket
that has refilled completely says nothing a fresh bucket would not, so it is dropped;
that keeps memory bounded by the clients active within one refill of the burst, and
`max_clients` bounds it even under a flood from many addresses (the oldest go first).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

MAX_CLIENTS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated_s: float


class TokenBuckets:
    def __init__(
        self,
        burst: int,
        per_hour: int,
        clock_s: Callable[[], float],
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.burst, self.refill_interval_s = burst, 3600.0 / per_hour
        self.clock_s, self.max_clients = clock_s, max_clients
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client: str) -> int | None:
        """Spend one token of `client`: None if allowed, else whole seconds until one is."""
        now = self.clock_s()
        bucket = self._buckets.pop(client, None)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
        else:
            elapsed_s = max(0.0, now - bucket.updated_s)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed_s / self.refill_interval_s)
            bucket.updated_s = now
        self._buckets[client] = bucket  # re-inserted: the dict's order is least recent first
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            self._prune(now)
            return None
        # rounded first: 59 s of a 60 s refill must say 1 s, not 1.0000000002 -> 2
        return max(1, math.ceil(round((1 - bucket.tokens) * self.refill_interval_s, 6)))

    def __len__(self) -> int:
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        if len(self._buckets) <= self.max_clients:
            return
        full_after_s = self.burst * self.refill_interval_s
        for client in [c for c, b in self._buckets.items() if now - b.updated_s >= full_after_s]:
            del self._buckets[client]
        while len(self._buckets) > self.max_clients:
            del self._buckets[next(iter(self._buckets))]
