"""Connection limits for the node's two aiohttp servers (client RPC and peer transport).

A node has one file-descriptor budget for LevelDB, its peers and every client socket;
before these limits, 19,990 half-open requests from one client used up all 20,000 and
consensus failed with "Too many open files". Each server now accepts connections through
a `ConnectionGuard`:

1. a total cap and a per-client cap (by remote address) on open connections: a
   connection over either cap gets a fixed `503 busy` answer and is closed at once,
   before aiohttp sees it, so refusing costs no parser, no task and no lasting fd;
2. a head timeout: a connection that has not sent a complete first request head (up to
   the blank line) within `header_timeout_s` is aborted (slowloris, half-open requests).

aiohttp itself (3.14, web_protocol.RequestHandler) closes a connection that waits for a
request longer than its keepalive_timeout, both at the start of a connection and between
requests; we set that to `idle_timeout_s`, which also bounds the head of every later
request on a kept-alive connection. aiohttp has no separate head timeout, hence the
guard: a thin asyncio.Protocol in front of aiohttp's RequestHandler that forwards every
call unchanged.

`raise_fd_limit` raises RLIMIT_NOFILE's soft limit to the hard limit at start;
`connection_caps` sizes the totals from it, keeping FD_RESERVE descriptors for
everything that is not a client connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from aiohttp import web

from node.errors import RpcErrorCode

log = logging.getLogger("votechain.connlimit")

FD_RESERVE = 1_200
"""Descriptors kept for all but client connections: LevelDB's table files (plyvel's
default max_open_files is 1,000), outgoing peer sockets, the log and the thread pool."""
MIN_CONNECTIONS = 16
"""Even on a tiny fd limit each server accepts this many (the operator is warned)."""
RETRY_AFTER_S = 1
LISTEN_BACKLOG = 128
"""aiohttp's default; refused connections leave the accept queue at once anyway."""
HEAD_END_MARKERS = (b"\r\n\r\n", b"\n\n")
"""The end of a request head: the blank line (bare LF line ends are tolerated)."""

REFUSED_TOTAL = "refused_total_cap"
REFUSED_PER_CLIENT = "refused_per_client_cap"
HEAD_TIMEOUT = "header_timeout"


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    max_connections_per_client: int
    header_timeout_s: float


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit from %d to %d: %s", soft, target, exc)
    return soft


def connection_caps(fd_limit: int, rpc_max: int, peer_max: int) -> tuple[int, int]:
    """(RPC total cap, peer total cap): the configured caps, lowered to fit the fd budget.

    Clients get three quarters of the budget, peers one quarter (a cluster has a handful
    of validators; the rest of the peer port's connections are strangers)."""
    budget = fd_limit - FD_RESERVE
    rpc_cap = min(rpc_max, max(MIN_CONNECTIONS, budget * 3 // 4))
    peer_cap = min(peer_max, max(MIN_CONNECTIONS, budget // 4))
    if budget < 2 * MIN_CONNECTIONS:
        log.warning(
            "the open-file limit %d leaves almost nothing for connections after %d reserved; "
            "raise it (ulimit -n, LimitNOFILE=) before serving the public",
            fd_limit,
            FD_RESERVE,
        )
    return rpc_cap, peer_cap


class ConnectionGuard:
    """Counts open connections per client and in total, and makes the guarded protocols.

    Use as the protocol factory of loop.create_server (GuardedSite does that)."""

    def __init__(self, server: Callable[[], asyncio.Protocol], limits: ConnectionLimits) -> None:
        self._server, self.limits = server, limits
        self.open_total = 0
        self._open_by_client: dict[str, int] = {}
        self.counters: dict[str, int] = {REFUSED_TOTAL: 0, REFUSED_PER_CLIENT: 0, HEAD_TIMEOUT: 0}

    def __call__(self) -> asyncio.Protocol:
        return _GuardedProtocol(self)

    def open_by(self, client: str) -> int:
        return self._open_by_client.get(client, 0)

    def _admit(self, client: str) -> str | None:
        """None and the connection counted, or why it is refused."""
        if self.open_total >= self.limits.max_connections:
            return REFUSED_TOTAL
        if self.open_by(client) >= self.limits.max_connections_per_client:
            return REFUSED_PER_CLIENT
        self.open_total += 1
        self._open_by_client[client] = self.open_by(client) + 1
        return None

    def _release(self, client: str) -> None:
        self.open_total -= 1
        left = self.open_by(client) - 1
        if left > 0:
            self._open_by_client[client] = left
        else:
            self._open_by_client.pop(client, None)

    def _count(self, what: str) -> None:
        self.counters[what] += 1


class _GuardedProtocol(asyncio.Protocol):
    """Admits or refuses one connection, watches for the end of its first request head,
    and otherwise forwards every protocol call to aiohttp's own handler."""

    def __init__(self, guard: ConnectionGuard) -> None:
        self._guard = guard
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._client = ""
        self._head_seen = False
        self._tail = b""
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport; uvloop's is not a subclass of asyncio.Transport, so no
        # isinstance check: it has the same methods.
        stream = cast(asyncio.Transport, transport)
        peer = stream.get_extra_info("peername")
        self._client = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        refused = self._guard._admit(self._client)
        if refused is not None:
            self._guard._count(refused)
            stream.write(_BUSY_RESPONSE)
            stream.close()
            return
        self._transport = stream
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._guard.limits.header_timeout_s, self._head_timed_out)
        self._inner = self._guard._server()
        self._inner.connection_made(stream)

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            return  # refused: whatever it sends is dropped while the close completes
        if not self._head_seen:
            window = self._tail + data
            if any(marker in window for marker in HEAD_END_MARKERS):
                self._head_seen = True
                self._cancel_timer()
            self._tail = window[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return None if self._inner is None else self._inner.eof_received()

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is None:
            return
        self._cancel_timer()
        self._guard._release(self._client)
        inner, self._inner = self._inner, None
        inner.connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._timer = None
        if self._head_seen or self._transport is None or self._inner is None:
            return
        self._guard._count(HEAD_TIMEOUT)
        # abort, not close: there is no answer to flush, and the fd is freed at once.
        self._transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class GuardedSite(web.BaseSite):
    """web.TCPSite with a ConnectionGuard in front of the runner's protocol factory."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        limits: ConnectionLimits,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._host, self._port = host, port
        self._limits = limits
        assert runner.server is not None
        self.guard = ConnectionGuard(runner.server, limits)

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        # With TLS the guard sees the connection once the handshake is done; the handshake
        # itself is bounded by the head timeout, so a stalled one costs no more than a
        # stalled head.
        self._server = await loop.create_server(
            self.guard,
            self._host,
            self._port,
            reuse_address=True,
            backlog=LISTEN_BACKLOG,
            ssl=self._ssl_context,
            ssl_handshake_timeout=self._limits.header_timeout_s if self._ssl_context else None,
        )


def _busy_response() -> bytes:
    body = json.dumps(
        {"error": RpcErrorCode.BUSY.value, "message": "too many connections; retry later"}
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Retry-After: {RETRY_AFTER_S}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


_BUSY_RESPONSE = _busy_response()
