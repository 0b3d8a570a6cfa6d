"""Peer transport: one long-lived WebSocket to each peer, msgpack frames.

Each node dials every peer and sends its consensus messages over that outgoing socket;
it receives on the sockets its peers dialed in. The listener opens with a fresh random
challenge and the dialer answers with a hello signed by its validator key:

    challenge = [ "challenge", chain_id, listener_replica, nonce ]        (nonce: 32 bytes)
    hello     = [ "hello", chain_id, from_replica, to_replica, nonce, signature ]
    signature over H(CONSENSUS_MESSAGE, encode(["peer-hello", chain_id, from, to, nonce]))

The listener accepts only a hello from a validator of this chain, addressed to itself,
signing the nonce it has just sent: a captured hello is worth nothing on another
connection, so hellos cannot be replayed, and no clock is involved. It keeps one inbound
session per validator: a newly authenticated session from a validator closes that
validator's older one (the dialer reconnects after a failure it may not have noticed).
Every later frame is one encoded consensus message; the consensus core verifies each
message's own signature too, so a connection proves only where a frame came from, never
that it is true.

With [tls] enabled (node/tls.py) the links are wss:// with mutual TLS: each side checks
the other's certificate against the cluster's CA before the challenge is sent, and the
challenge and hello then run inside TLS exactly as above.

Slowness of one peer never blocks the others: each peer has a bounded send queue and the
oldest frame is dropped (and counted) when it is full; PBFT recovers lost messages by
retransmission and view change. Reconnects back off from 0.1 s doubling to 5 s.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from chain import encoding
from chain.certificate import ValidatorSet
from chain.errors import DecodeError
from chain.hashing import Domain, tagged_hash
from chain.keys import PrivateKey, verify_signature

log = logging.getLogger("votechain.transport")

CHALLENGE_BYTES = 32
HANDSHAKE_TIMEOUT_S = 10.0
RECONNECT_MIN_S = 0.1
CLOSE_TIMEOUT_S = 1.0
"""How long closing a peer link waits for the peer's close frame (node stop)."""
RECONNECT_MAX_S = 5.0


@dataclass
class TransportCounters:
    """Plain counters; the node exports them as Prometheus metrics."""

    frames_sent: int = 0
    frames_received: int = 0
    frames_dropped_queue_full: int = 0
    frames_dropped_oversized: int = 0
    hellos_refused: int = 0
    connects: int = 0
    disconnects: int = 0
    dropped_by_reason: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped_by_reason[reason] = self.dropped_by_reason.get(reason, 0) + 1

    def dropped(self) -> dict[str, int]:
        """Every frame dropped or connection refused, by reason (exported at /metrics)."""
        return {
            "hello_refused": self.hellos_refused,
            "oversized": self.frames_dropped_oversized,
            "send_queue_full": self.frames_dropped_queue_full,
            **self.dropped_by_reason,
        }


def make_challenge(chain_id: str, listener: int, nonce: bytes) -> bytes:
    return encoding.encode(["challenge", chain_id, listener, nonce])


def check_challenge(frame: bytes, chain_id: str, peer: int) -> bytes:
    """Return the nonce of a challenge from replica `peer`, or raise DecodeError."""
    fields = encoding.expect_list(encoding.decode(frame), 4, "challenge")
    if fields[0] != "challenge":
        raise DecodeError("the first frame from a listener must be a challenge")
    if fields[1] != chain_id:
        raise DecodeError(f"challenge for chain {fields[1]!r}, this is {chain_id!r}")
    if encoding.expect_int(fields[2], "challenge.from") != peer:
        raise DecodeError(f"challenge from replica {fields[2]}, dialled {peer}")
    return encoding.expect_bytes(fields[3], "challenge.nonce", CHALLENGE_BYTES)


def hello_sign_bytes(chain_id: str, sender: int, receiver: int, nonce: bytes) -> bytes:
    return tagged_hash(
        Domain.CONSENSUS_MESSAGE,
        encoding.encode(["peer-hello", chain_id, sender, receiver, nonce]),
    )


def make_hello(key: PrivateKey, chain_id: str, sender: int, receiver: int, nonce: bytes) -> bytes:
    signature = key.sign(hello_sign_bytes(chain_id, sender, receiver, nonce))
    return encoding.encode(["hello", chain_id, sender, receiver, nonce, signature])


def check_hello(
    frame: bytes, chain_id: str, validators: ValidatorSet, me: int, nonce: bytes
) -> int:
    """Return the sender's replica id, or raise DecodeError saying why it is refused.

    `nonce` is the challenge this listener sent on this connection.
    """
    fields = encoding.expect_list(encoding.decode(frame), 6, "hello")
    if fields[0] != "hello":
        raise DecodeError("the first frame must be a hello")
    if fields[1] != chain_id:
        raise DecodeError(f"hello for chain {fields[1]!r}, this is {chain_id!r}")
    sender = encoding.expect_int(fields[2], "hello.from", maximum=validators.size - 1)
    receiver = encoding.expect_int(fields[3], "hello.to")
    signed_nonce = encoding.expect_bytes(fields[4], "hello.nonce", CHALLENGE_BYTES)
    signature = encoding.expect_bytes(fields[5], "hello.signature", 64)
    if receiver != me:
        raise DecodeError(f"hello addressed to replica {receiver}, I am {me}")
    if signed_nonce != nonce:
        raise DecodeError("hello answers another challenge (a replayed hello)")
    message = hello_sign_bytes(chain_id, sender, receiver, nonce)
    if not verify_signature(validators.public_keys[sender], signature, message):
        raise DecodeError(f"hello from replica {sender} has a bad signature")
    return sender


async def answer_challenge(
    ws: aiohttp.ClientWebSocketResponse,
    key: PrivateKey,
    chain_id: str,
    sender: int,
    receiver: int,
) -> None:
    """The dialer's half of the handshake: read the listener's challenge, send the hello."""
    first = await ws.receive(timeout=HANDSHAKE_TIMEOUT_S)
    if first.type != aiohttp.WSMsgType.BINARY:
        raise DecodeError(f"expected a challenge, got a {first.type.name} frame")
    nonce = check_challenge(first.data, chain_id, receiver)
    await ws.send_bytes(make_hello(key, chain_id, sender, receiver, nonce))


class PeerTransport:
    """Sends to and receives from the other validators of the cluster."""

    def __init__(
        self,
        me: int,
        key: PrivateKey,
        chain_id: str,
        validators: ValidatorSet,
        peer_urls: dict[int, str],
        on_frame: Callable[[int, bytes], None],
        max_frame_bytes: int = 16 * 1024 * 1024,
        queue_size: int = 4096,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.me, self.key, self.chain_id, self.validators = me, key, chain_id, validators
        self.ssl_context = ssl_context
        """With [tls]: trusts the cluster's CA and presents this node's certificate."""
        self.peer_urls = peer_urls
        self.on_frame = on_frame
        self.max_frame_bytes = max_frame_bytes
        self.counters = TransportCounters()
        self.connected: dict[int, bool] = {peer: False for peer in peer_urls}
        self._queues: dict[int, asyncio.Queue[bytes]] = {
            peer: asyncio.Queue(maxsize=queue_size) for peer in peer_urls
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._inbound: set[web.WebSocketResponse] = set()
        self._sessions: dict[int, web.WebSocketResponse] = {}
        """The one authenticated inbound session per validator."""

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/peer", self._accept)]

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        for peer in self.peer_urls:
            self._tasks.append(asyncio.create_task(self._dial_forever(peer)))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A cancelled dialer closes its link on the way out; that close waits for the
            # peer's close frame, so it is bounded too (the session close cuts the rest).
            await asyncio.wait(self._tasks, timeout=CLOSE_TIMEOUT_S)
        # Close inbound links together, each waiting at most CLOSE_TIMEOUT_S for the
        # peer's close frame: a stopped or busy peer must not hold a graceful stop.
        await asyncio.gather(
            *(asyncio.wait_for(ws.close(), CLOSE_TIMEOUT_S) for ws in list(self._inbound)),
            return_exceptions=True,
        )
        if self._session is not None:
            await self._session.close()

    def send(self, peer: int, frame: bytes) -> None:
        queue = self._queues.get(peer)
        if queue is None:
            return
        if queue.full():
            queue.get_nowait()
            self.counters.frames_dropped_queue_full += 1
        queue.put_nowait(frame)

    def broadcast(self, frame: bytes) -> None:
        for peer in self._queues:
            self.send(peer, frame)

    async def _dial_forever(self, peer: int) -> None:
        delay = RECONNECT_MIN_S
        assert self._session is not None
        while True:
            try:
                async with self._session.ws_connect(
                    self.peer_urls[peer],
                    heartbeat=10,
                    max_msg_size=self.max_frame_bytes,
                    ssl=self.ssl_context if self.ssl_context is not None else True,
                ) as ws:
                    await answer_challenge(ws, self.key, self.chain_id, self.me, peer)
                    self.connected[peer] = True
                    self.counters.connects += 1
                    delay = RECONNECT_MIN_S
                    await self._pump(peer, ws)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, aiohttp.ClientError, OSError, DecodeError) as exc:
                log.debug("peer %s unreachable: %s", peer, exc)
            if self.connected[peer]:
                self.counters.disconnects += 1
            self.connected[peer] = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    async def _pump(self, peer: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        queue = self._queues[peer]
        closed = asyncio.create_task(ws.receive())  # completes when the peer closes
        try:
            while True:
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    getter.cancel()
                    return
                frame = getter.result()
                try:
                    await ws.send_bytes(frame)
                except (ConnectionResetError, aiohttp.ClientError):
                    if not queue.full():
                        queue.put_nowait(frame)
                    return
                self.counters.frames_sent += 1
        finally:
            closed.cancel()

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=self.max_frame_bytes, heartbeat=10)
        try:
            await ws.prepare(request)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            # The dialler went away during the handshake (seen in the fault campaign):
            # nothing to serve, and not an error of this node's.
            self.counters.drop("closed_during_handshake")
            return ws
        self._inbound.add(ws)
        sender: int | None = None
        try:
            nonce = secrets.token_bytes(CHALLENGE_BYTES)
            await ws.send_bytes(make_challenge(self.chain_id, self.me, nonce))
            first = await ws.receive(timeout=HANDSHAKE_TIMEOUT_S)
            if first.type != aiohttp.WSMsgType.BINARY:
                self.counters.hellos_refused += 1
                return ws
            try:
                sender = check_hello(first.data, self.chain_id, self.validators, self.me, nonce)
            except DecodeError as exc:
                self.counters.hellos_refused += 1
                log.warning("refused a peer connection from %s: %s", request.remote, exc)
                return ws
            older = self._sessions.get(sender)
            self._sessions[sender] = ws
            if older is not None:
                self.counters.drop("superseded_session")
                await older.close()
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY:
                    self.counters.frames_received += 1
                    self.on_frame(sender, message.data)
                elif message.type == aiohttp.WSMsgType.ERROR:
                    self.counters.frames_dropped_oversized += 1
                    break
                else:
                    self.counters.drop("not_binary")
        except (TimeoutError, ConnectionResetError):
            pass
        finally:
            self._inbound.discard(ws)
            if sender is not None and self._sessions.get(sender) is ws:
                del self._sessions[sender]
            await ws.close()
        return ws
