"""Per-client token buckets, with an injected clock so tests need no sleeping.

A client may spend `burst` requests at once, then one per `refill_interval_s`. A bucket
that has refilled completely says nothing a fresh bucket would not, so it is dropped;
that keeps memory bounded by the clients active within one refill of the burst, and
`max_clients` bounds it even under a flood from many addresses (the oldest go first).

Both servers that face citizens use them: the attester (enrollment starts and finishes)
and the validators' RPC (`ClientLimits`: POST /v1/tx and the heavy reads). A client is
its remote address, or, behind a trusted reverse proxy, the address the proxy names in
X-Forwarded-For (`client_address`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from node.errors import RpcError, RpcErrorCode

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


@dataclass(frozen=True)
class ClientRate:
    """One kind of request's allowance per client: `burst` at once, then `per_s` a second."""

    burst: int
    per_s: float


class ClientLimits:
    """Named token buckets per client, for one server; refusals raise RpcError
    `rate_limited` (429 with Retry-After) and are counted by kind.

    Addresses in `unlimited` (the node's own validators, which fetch blocks from each
    other, and whatever the operator lists) are never limited."""

    def __init__(
        self,
        rates: dict[str, ClientRate],
        trusted_proxies: Iterable[str],
        unlimited: Iterable[str],
        clock_s: Callable[[], float],
    ) -> None:
        self._buckets = {
            kind: TokenBuckets(rate.burst, max(1, round(rate.per_s * 3600)), clock_s)
            for kind, rate in rates.items()
        }
        self.trusted_proxies = frozenset(trusted_proxies)
        self.unlimited = frozenset(unlimited)
        self.refused: dict[str, int] = {kind: 0 for kind in rates}
        """Requests refused, by kind (exported at /metrics)."""

    def take(self, request: web.Request, kind: str) -> None:
        """Spend one request of `kind` for the request's client, or raise `rate_limited`."""
        client = client_address(request, self.trusted_proxies)
        if client in self.unlimited:
            return
        wait_s = self._buckets[kind].take(client)
        if wait_s is None:
            return
        self.refused[kind] += 1
        raise RpcError(
            RpcErrorCode.RATE_LIMITED,
            f"too many {kind} requests from your address; retry in {wait_s} s",
            retry_after_s=wait_s,
        )

    def clients(self) -> int:
        """Clients with a bucket that has not refilled (memory in use)."""
        return sum(len(buckets) for buckets in self._buckets.values())


def client_address(request: web.Request, trusted_proxies: frozenset[str]) -> str:
    """The remote address, or, from a trusted reverse proxy, the nearest untrusted address
    in X-Forwarded-For (entries further left can be written by the client itself)."""
    remote = request.remote or "unknown"
    if remote not in trusted_proxies:
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop not in trusted_proxies:
            return hop
    return remote
