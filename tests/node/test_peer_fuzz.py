"""Issue 11: garbage on the peer port of a real in-process node (tests/node/live_node.py).

A dialler that authenticates (the node's one validator key, as a restarted twin would)
then sends hundreds of mutated consensus messages and random frames; others send
mutated hellos and no hello at all. The node drops and counts them, never fails on one
(no consensus step error, no traceback), keeps serving the RPC, commits nothing while
the garbage flows, and then commits a valid transaction as exactly the next block.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
from collections.abc import Iterator

import aiohttp
import pytest

from chain.keyfile import load_key
from node.transport import answer_challenge, make_hello
from tests.fuzz.targets import TARGETS, mutate
from tests.node.live_node import LiveNode

FRAMES = 400
BAD_HELLOS = 40
SEED = 11


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path_factory.mktemp("peer-fuzz-node"))
    node.start()
    try:
        yield node
    finally:
        node.stop()


def metric(live: LiveNode, pattern: str) -> float:
    match = re.search(pattern + r" ([0-9.e+]+)", live.get("/metrics").body.decode())
    return float(match.group(1)) if match else 0.0


async def send_garbage(live: LiveNode) -> None:
    rng = random.Random(SEED)
    url = live.address.peer_url
    key = load_key(live.config.node_dir("n1") / "validator.pem")
    chain_id = live.cluster.chain_id
    seeds = TARGETS["consensus_message"].seeds()
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            await answer_challenge(ws, key, chain_id, 0, 0)
            for i in range(FRAMES):
                frame = mutate(rng.choice(seeds), rng) if i % 4 else rng.randbytes(i % 300)
                await ws.send_bytes(frame)
            await ws.send_str("not binary")
        hellos = TARGETS["peer_hello"].seeds()
        for i in range(BAD_HELLOS):
            async with session.ws_connect(url) as ws:
                challenge = await ws.receive(timeout=5)
                assert challenge.type == aiohttp.WSMsgType.BINARY
                if i % 2:
                    hello = make_hello(key, chain_id, 0, 0, secrets.token_bytes(32))
                else:
                    hello = mutate(rng.choice(hellos), rng)
                await ws.send_bytes(hello)
                closing = await ws.receive(timeout=5)
                assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


def test_garbage_from_an_authenticated_peer_is_dropped_and_commits_nothing(
    live: LiveNode,
) -> None:
    before = live.status()["height"]
    asyncio.run(send_garbage(live))
    status = live.status()
    assert status["height"] == before
    assert metric(live, r'votechain_peer_frames_dropped_total\{reason="malformed"\}') > 0
    assert metric(live, r'votechain_peer_frames_dropped_total\{reason="hello_refused"\}') >= (
        BAD_HELLOS
    )
    assert metric(live, "votechain_consensus_step_errors_total") == 0
    voter_tx = live.enroll_tx(
        load_key(live.config.node_dir("n1") / "validator.pem"), "+821044400001"
    )
    reply = live.post_json("/v1/tx?wait=commit", {"tx": voter_tx.hex()})
    assert reply.status == 200 and reply.json()["height"] == before + 1, reply.body
