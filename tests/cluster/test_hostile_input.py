"""Hostile peers and clients against a real 4-node cluster: the node stays up, keeps
committing ballots, and counts what it dropped.

The attacks aim at n2 (a backup in view 0) over real sockets: its peer port (/peer,
WebSocket) and its RPC port. They run one after another in a single test on one cluster
of OS processes, so that the closing check (ballots still commit, in view 0, and all four
nodes agree) follows every attack, and so that `pytest -n 2` never starts a second
cluster for them. A peer that
knows a validator key is Byzantine, not a stranger: it gets past the hello, and then
every frame it sends must still be checked on its own. The attacker holds n4's key while
the real n4 is frozen (SIGSTOP): the target keeps one inbound session per validator and a
newer one replaces the older, so a live n4 would reconnect and cut the attacker off.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import signal
import socket
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest

import votingcontract
from chain import encoding
from chain.keyfile import load_key
from chain.keys import PrivateKey
from cli.client import RpcFailure
from cli.demo import seed_if_fresh
from consensus import Checkpoint, Commit, Height, Prepare, ReplicaId, View, encode_message
from consensus.messages import max_message_bytes, sign
from node.transport import make_hello
from tests.cluster.harness import LocalCluster, wait_for

TARGET = "n2"
TARGET_REPLICA = 1
PEER = 3
"""The attacker's validator identity: n4, frozen during the attacks."""
MAX_FRAME_BYTES = max_message_bytes(4, 3)
"""The frame limit of a node of a 4-validator cluster: the largest valid consensus
message (a NewView of a quorum of view changes with their blocks), about 48 MiB."""


class Hostile:
    """The cluster, a poll to vote in, and helpers to read what the target counted."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.poll_id = bytes.fromhex(seed_if_fresh(cluster.config)[1])
        self.address = cluster.config.node(TARGET)
        self.peer_url = self.address.peer_url
        self.peer_key = load_key(cluster.config.node_dir("n4") / "validator.pem")

    def status(self) -> dict:
        return self.cluster.status(TARGET)

    def dropped(self) -> dict[str, float]:
        """votechain_peer_frames_dropped_total by reason, from the target's /metrics."""
        with urllib.request.urlopen(self.address.rpc_url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        pattern = r'votechain_peer_frames_dropped_total\{reason="([^"]+)"\} ([0-9.e+]+)'
        return {reason: float(value) for reason, value in re.findall(pattern, text)}

    def metrics_text(self) -> str:
        with urllib.request.urlopen(self.address.rpc_url + "/metrics", timeout=10) as response:
            return response.read().decode()

    def hello(self, key: PrivateKey | None = None, sender: int = PEER, to: int = 1) -> Hello:
        return Hello(key or self.peer_key, self.cluster.chain_id, sender, to)

    def cast_ballot(self, node_id: str = TARGET) -> dict:
        voter = PrivateKey.from_seed(secrets.token_bytes(32))
        phone = f"+8210{secrets.randbelow(10**8):08d}"
        assert self.cluster.enroll_directly(phone, voter, node_id)["receipt"]["accepted"]
        ballot = votingcontract.CastBallot(self.poll_id, ((0,),))
        return self.cluster.submit(self.cluster.sign(voter, ballot), node_id)

    def alive(self) -> bool:
        return self.cluster.processes[TARGET].poll() is None


async def connect(
    url: str, then: Callable[[aiohttp.ClientWebSocketResponse], Awaitable[None]]
) -> aiohttp.WSMessage:
    """Open /peer, run `then`, and return what the node answers (normally its close)."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, max_msg_size=0) as ws,
    ):
        await then(ws)
        return await ws.receive(timeout=15)


@dataclass(frozen=True)
class Hello:
    """A hello to sign with the nonce of the connection's challenge, once it is read."""

    key: PrivateKey
    chain_id: str
    sender: int
    to: int

    def answer(self, nonce: bytes) -> bytes:
        return make_hello(self.key, self.chain_id, self.sender, self.to, nonce)


async def read_challenge(ws: aiohttp.ClientWebSocketResponse) -> bytes:
    """The nonce of the challenge the target (replica 1) opens every connection with."""
    first = await ws.receive(timeout=15)
    assert first.type == aiohttp.WSMsgType.BINARY, first
    challenge = encoding.decode(first.data)
    assert challenge[0] == "challenge" and challenge[2] == 1, challenge
    return bytes(challenge[3])


def send_frames(
    *frames: bytes | str | Hello,
) -> Callable[[aiohttp.ClientWebSocketResponse], Awaitable[bytes]]:
    """Read the listener's challenge, then send `frames`; returns the challenge's nonce."""

    async def then(ws: aiohttp.ClientWebSocketResponse) -> bytes:
        nonce = await read_challenge(ws)
        for frame in frames:
            if isinstance(frame, str):
                await ws.send_str(frame)
            elif isinstance(frame, Hello):
                await ws.send_bytes(frame.answer(nonce))
            else:
                await ws.send_bytes(frame)
        return nonce

    return then


def wait_for_counts(hostile: Hostile, expected: dict[str, float], before: dict[str, float]) -> None:
    def reached() -> bool:
        now = hostile.dropped()
        return all(now.get(r, 0) - before.get(r, 0) >= n for r, n in expected.items())

    try:
        wait_for(reached, 15, f"drop counts {expected}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: before {before}, now {hostile.dropped()}") from None


def attack_with_bad_hellos(hostile: Hostile) -> None:
    before = hostile.dropped()
    stranger = PrivateKey.from_seed(b"stranger".ljust(32, b"!"))

    first_frames: list[bytes | str | Hello] = [
        "hello?",  # a text frame
        b"garbage",
        encoding.encode(["hello", hostile.cluster.chain_id, 0, 1]),  # a short hello
        hostile.hello(key=stranger),  # a non-validator's key
        hostile.hello(to=3),  # addressed to another replica
        hostile.hello(sender=7),  # no such replica
    ]

    async def attacks() -> list[aiohttp.WSMessage]:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(hostile.peer_url) as silent,
        ):
            # n1's genuine hello, as an eavesdropper would capture it on one connection...
            captured = hostile.hello().answer(await read_challenge(silent))
            await silent.close()  # (that connection says nothing and leaves)
        answers = [await connect(hostile.peer_url, send_frames(f)) for f in first_frames]
        # ...is refused on the next: it signs that connection's challenge, not this one's.
        answers.append(await connect(hostile.peer_url, send_frames(captured)))
        return answers

    answers = asyncio.run(attacks())
    assert all(a.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) for a in answers)
    wait_for_counts(hostile, {"hello_refused": 8}, before)
    assert hostile.alive()


def attack_with_raw_tcp_and_plain_http(hostile: Hostile) -> None:
    address = hostile.address
    with socket.create_connection((address.host, address.peer_port), timeout=10) as raw:
        raw.sendall(b"\x00\xff" * 1000 + b"\r\n\r\n")
        raw.recv(1024)  # the node answers 400 or closes; either way it must not die
    request = urllib.request.Request(hostile.peer_url, data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert 400 <= error.value.code < 500
    assert hostile.alive() and hostile.status()["node"] == TARGET


def attack_with_garbage_after_a_valid_hello(hostile: Hostile) -> None:
    before = hostile.dropped()
    prepare = sign(
        Prepare(View(0), Height(10**6), b"\x11" * 32, ReplicaId(PEER)),
        hostile.peer_key,
        hostile.cluster.chain_id,
    )
    encoded = encode_message(prepare)
    frames: list[bytes | str] = [
        hostile.hello(),
        b"garbage",
        b"",
        encoded[: len(encoded) // 2],  # truncated msgpack
        encoded + b"\x00",  # trailing bytes
        encoding.encode([99, 1, 2]),  # unknown message kind
        encoding.encode([int(prepare.kind), 0]),  # the right kind, too few fields
        b"\xdd\xff\xff\xff\xff",  # an array header claiming 4 billion items
        "a text frame",
    ]

    async def attack() -> aiohttp.WSMessage:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(hostile.peer_url) as ws,
        ):
            await send_frames(*frames)(ws)
            await asyncio.sleep(0.5)  # the connection stays open: garbage is not fatal
            assert not ws.closed
            await ws.close()
            return await ws.receive(timeout=5)

    asyncio.run(attack())
    wait_for_counts(hostile, {"malformed": 7, "not_binary": 1}, before)
    assert hostile.alive()


def attack_with_forged_consensus_messages(hostile: Hostile) -> None:
    chain_id = hostile.cluster.chain_id
    status = hostile.status()
    view, next_height = View(status["view"]), Height(status["height"] + 1)
    wrong_key = PrivateKey.from_seed(b"forger".ljust(32, b"!"))
    digest = b"\x22" * 32
    forged = [
        sign(Commit(view, next_height, digest, ReplicaId(PEER)), wrong_key, chain_id),
        sign(Prepare(view, next_height, digest, ReplicaId(PEER)), wrong_key, chain_id),
        sign(Checkpoint(next_height + 4, digest, ReplicaId(PEER)), wrong_key, chain_id),
        # signed by n1 for another chain
        sign(Commit(view, next_height, digest, ReplicaId(PEER)), hostile.peer_key, "other"),
    ]
    # a frame on n1's connection that claims to come from replica 2
    impostor = sign(Commit(view, next_height, digest, ReplicaId(2)), wrong_key, chain_id)
    bad_before = status["consensus"]["bad_signatures"]
    frames = [hostile.hello(), *(encode_message(m) for m in [*forged, impostor])]

    async def attack() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(hostile.peer_url) as ws,
        ):
            await send_frames(*frames)(ws)
            await asyncio.sleep(0.5)
            await ws.close()

    asyncio.run(attack())

    def counted() -> bool:
        consensus = hostile.status()["consensus"]
        return consensus["bad_signatures"] - bad_before >= len(forged) and bool(
            consensus["dropped"].get("replica field is not the sending peer")
        )

    wait_for(counted, 15, "bad signatures and the impostor counted in /v1/status")
    text = hostile.metrics_text()
    assert re.search(
        r'votechain_consensus_messages_dropped_total\{reason="bad signature"\} [1-9]', text
    ), text
    assert hostile.alive()


def attack_with_an_oversized_frame(hostile: Hostile) -> None:
    before = hostile.dropped()

    async def attack() -> bool:
        """True if the node cut the connection (while we sent, or right after)."""
        try:
            answer = await connect(
                hostile.peer_url, send_frames(hostile.hello(), b"\x00" * (MAX_FRAME_BYTES + 1))
            )
        except (ConnectionError, aiohttp.ClientError):
            return True  # the node refused the frame from its header, mid-send
        return answer.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)

    assert asyncio.run(attack())
    wait_for_counts(hostile, {"oversized": 1}, before)
    assert hostile.alive()


def attack_rpc_and_enroll_on_a_non_attester(hostile: Hostile) -> None:
    client = hostile.cluster.client(TARGET)
    height = hostile.status()["height"]
    for path, body in [
        ("/v1/tx", b"[" * 100_000),
        ("/v1/tx", b"\xde\xad\xbe\xef"),
        ("/v1/tx", b'{"tx": "' + b"ab" * 200_000 + b'"}'),
        ("/v1/enroll/start", b'{"phone": "' + b"1" * 5000 + b'"}'),
        ("/v1/enroll/start", b"[" * 100_000),
    ]:
        request = urllib.request.Request(
            hostile.address.rpc_url + path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=10)
        document = json.loads(error.value.read())
        assert {"error", "message"} <= set(document), document
        assert error.value.code < 500, document
    # A node serving the web app relays enrollment to the attester (webapp/enroll_relay.py):
    # it verifies nothing itself, so what a finish gets is the attester's own answer.
    with pytest.raises(RpcFailure) as refused:
        client.post("/v1/enroll/finish", {"session": "x", "code": "1", "voter_key": "00" * 32})
    assert refused.value.code == "code_expired"
    assert hostile.status()["height"] == height
    assert not (hostile.cluster.config.node_dir(TARGET) / "outbox").exists()


ATTACKS = [
    attack_with_bad_hellos,
    attack_with_raw_tcp_and_plain_http,
    attack_with_garbage_after_a_valid_hello,
    attack_with_forged_consensus_messages,
    attack_with_an_oversized_frame,
    attack_rpc_and_enroll_on_a_non_attester,
]


def test_a_node_under_attack_stays_up_counts_every_drop_and_keeps_committing(
    cluster: LocalCluster,
) -> None:
    """One cluster, every attack in turn on the same node, then ballots must commit."""
    hostile = Hostile(cluster)
    frozen = cluster.processes["n4"]  # the attacker speaks with n4's key
    frozen.send_signal(signal.SIGSTOP)
    try:
        for attack in ATTACKS:
            attack(hostile)
            assert hostile.alive(), f"{TARGET} died during {attack.__name__}"
    finally:
        frozen.send_signal(signal.SIGCONT)
    for node_id in (TARGET, "n1"):
        result = hostile.cast_ballot(node_id)
        assert result["status"] == "committed", result
        assert result["receipt"]["code"] == "accepted", result
    statuses = hostile.cluster.wait_converged(timeout_s=30)
    assert {s["view"] for s in statuses} == {0}, "the attacks forced a view change"
    assert all(hostile.cluster.processes[n].poll() is None for n in hostile.cluster.node_ids)
    wait_for(
        lambda: hostile.status()["peers"] == {"n1": True, "n3": True, "n4": True},
        30,
        "the target connected to every peer again",
    )
