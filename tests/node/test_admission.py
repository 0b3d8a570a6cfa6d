"""Issue 13: a node refuses what the cluster cannot commit soon, at once and before any work.

Admission control (node/admission.py) answers `busy` with a Retry-After when too many
clients wait for a commit, when the node's event loop runs late, or when its queue of
transactions holds more than max_queue_s of what the cluster commits of them; an idle
node still takes a burst of min_queue_txs.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import secrets
import time
from pathlib import Path

import pytest

from chain.keys import PrivateKey
from node.admission import DRAIN_WINDOW_S, LOOP_LAG, QUEUE, WAITERS, Admission
from node.config import ConfigError, load_config
from tests.cluster.harness import cluster_toml
from tests.node.live_node import LiveNode


def admission(
    max_queue_s: float = 1.0,
    min_queue_txs: int = 50,
    max_loop_lag_ms: float = 250,
    max_commit_waiters: int = 100,
) -> Admission:
    return Admission(max_queue_s, min_queue_txs, max_loop_lag_ms, max_commit_waiters)


def test_an_idle_node_takes_a_burst_of_min_queue_txs_then_refuses() -> None:
    gate = admission(min_queue_txs=50)
    assert gate.refusal(now_s=100.0, queued=49) is None
    refusal = gate.refusal(now_s=100.0, queued=50)
    assert refusal is not None and refusal.signal == QUEUE
    assert refusal.retry_after_s >= 1
    assert "50 of its transactions wait" in refusal.message
    assert gate.refused[QUEUE] == 1


def commit_blocks(gate: Admission, start_s: float, every_s: float, count: int, txs: int) -> None:
    for block in range(count):
        gate.note_committed(start_s + block * every_s, txs)


def test_the_queue_limit_follows_what_the_cluster_commits() -> None:
    """Blocks every 100 ms commit 500 of this node's transactions in the window: 100/s,
    so 1 s of queue is 100 transactions; at 2 s it would be 200."""
    gate = admission(max_queue_s=1.0, min_queue_txs=50)
    commit_blocks(gate, 100.0, 0.1, 50, 10)
    now_s = 104.95
    assert gate.drain_per_s(now_s) == pytest.approx(100.0)
    assert gate.block_interval_s(now_s) == pytest.approx(0.1)
    assert gate.queue_limit(now_s) == 100
    assert gate.refusal(now_s, queued=99) is None
    refusal = gate.refusal(now_s, queued=150)
    assert refusal is not None and refusal.signal == QUEUE
    # 51 over the limit drain in about half a second at 100/s: retry after 1 s.
    assert refusal.retry_after_s == 1
    assert admission(max_queue_s=2.0).queue_limit(now_s) == 50  # nothing committed there
    longer = admission(max_queue_s=2.0)
    commit_blocks(longer, 100.0, 0.1, 50, 10)
    assert longer.queue_limit(now_s) == 200


def test_the_queue_holds_two_block_intervals_when_blocks_are_slow() -> None:
    """Blocks 2 s apart (a loaded machine): 1 s of queue would leave every next block
    half empty, so the queue holds two intervals, 4 s of the rate."""
    gate = admission(max_queue_s=1.0, min_queue_txs=10)
    commit_blocks(gate, 100.0, 2.0, 3, 200)  # 600 in the window: 120/s
    assert gate.block_interval_s(104.5) == pytest.approx(2.0)
    assert gate.queue_limit(104.5) == 480
    # One block alone says nothing about intervals: an idle gap is not a slow block.
    lone = admission(max_queue_s=1.0, min_queue_txs=10)
    lone.note_committed(100.0, 100)
    assert lone.block_interval_s(100.5) == 0.0
    assert lone.queue_limit(100.5) == 20


def test_commits_older_than_the_window_no_longer_count() -> None:
    gate = admission(min_queue_txs=50)
    gate.note_committed(100.0, 1_000)
    assert gate.queue_limit(100.5) == int(1_000 / DRAIN_WINDOW_S)
    assert gate.queue_limit(100.0 + DRAIN_WINDOW_S + 0.1) == 50


def test_retry_after_says_when_the_excess_has_drained() -> None:
    gate = admission(min_queue_txs=10)
    gate.note_committed(100.0, 50)  # 10/s
    refusal = gate.refusal(100.0, queued=40)
    assert refusal is not None
    assert refusal.retry_after_s == 4  # 40 - 10 + 1 = 31 over the limit at 10/s


def test_one_slow_iteration_is_tolerated_a_loop_that_stays_late_is_not() -> None:
    gate = admission(max_loop_lag_ms=250, min_queue_txs=10)
    for second in range(5):
        gate.note_committed(100.0 + second, 1_000)  # a queue limit far above 20
    gate.note_tick(0.4)  # one large block executed: 400 ms late once
    assert gate.refusal(104.0, queued=20) is None
    for _ in range(5):
        gate.note_tick(0.4)
    refusal = gate.refusal(104.0, queued=20)
    assert refusal is not None and refusal.signal == LOOP_LAG
    assert "event loop runs" in refusal.message and refusal.retry_after_s == 1
    # A trickle still passes, so a flood of refusals alone cannot stop every commit.
    assert gate.refusal(104.0, queued=9) is None
    for _ in range(10):
        gate.note_tick(0.0)  # caught up: on time again
    assert gate.refusal(104.0, queued=20) is None
    gate.note_tick(-0.01)  # a wake-up reported early counts as on time, not as credit
    assert gate.loop_lag_ms >= 0


def test_too_many_commit_waiters_are_refused_first() -> None:
    gate = admission(max_commit_waiters=3)
    gate.waiters = 3
    for _ in range(6):
        gate.note_tick(1.0)
    refusal = gate.refusal(100.0, queued=10_000)
    assert refusal is not None and refusal.signal == WAITERS
    assert gate.refused == {WAITERS: 1, LOOP_LAG: 0, QUEUE: 0}


def test_a_busy_node_refuses_before_decoding_and_admits_nothing(tmp_path: Path) -> None:
    """Over its queue limit the node answers 503 busy with Retry-After, even to bytes it
    could not decode (so a refusal costs no decoding or signature check), and its
    mempool and metrics say what happened; under the limit the same node admits."""
    live = LiveNode(tmp_path)
    live.start()
    try:
        node = live.node
        assert node is not None
        node.admission.min_queue_txs = 1
        node._step = lambda event: None  # type: ignore[method-assign]  # nothing commits
        first = live.enroll_tx(PrivateKey.from_seed(secrets.token_bytes(32)), "+821044440001")
        assert live.post_json("/v1/tx", {"tx": first.hex()}).status == 202
        second = live.enroll_tx(PrivateKey.from_seed(secrets.token_bytes(32)), "+821044440002")
        for body in (second.hex(), "00ff"):  # a valid transaction, and garbage
            reply = live.post_json("/v1/tx", {"tx": body})
            assert reply.status == 503, reply
            assert reply.json()["error"] == "busy"
            assert "1 of its transactions wait to commit" in reply.json()["message"]
            assert retry_after(live, body) == "1"
        assert len(node.mempool) == 1
        status = live.status()
        assert status["admission"]["refused"][QUEUE] == 4
        assert status["admission"]["queue_limit"] == 1
        metrics = live.get("/metrics").body.decode()
        assert 'votechain_admission_refused_total{signal="queue"} 4.0' in metrics
    finally:
        live.stop()


def test_admission_settings_are_read_from_the_mempool_section(tmp_path: Path) -> None:
    path = tmp_path / "cluster.toml"
    path.write_text(
        cluster_toml(1)
        + "\n[mempool]\nmax_queue_s = 2.5\nmin_queue_txs = 7\nmax_loop_lag_ms = 400\n"
        + "max_commit_waiters = 9\n"
    )
    settings = load_config(path).mempool
    assert (settings.max_queue_s, settings.min_queue_txs) == (2.5, 7)
    assert (settings.max_loop_lag_ms, settings.max_commit_waiters) == (400, 9)
    path.write_text(cluster_toml(1) + "\n[mempool]\nmax_queue_s = 0\n")
    with pytest.raises(ConfigError, match="max_queue_s must be a positive number"):
        load_config(path)


def retry_after(live: LiveNode, body: str) -> str | None:
    connection = http.client.HTTPConnection(live.address.host, live.address.rpc_port, 30)
    try:
        connection.request(
            "POST", "/v1/tx", json.dumps({"tx": body}), {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        return response.getheader("Retry-After")
    finally:
        connection.close()


def test_a_stalled_loop_counts_one_late_tick_not_the_ticks_it_missed(tmp_path: Path) -> None:
    """The consensus timers count Tick events, and a loop that stalls for twice the
    request timeout delivers one late tick, not the 80 it missed: a starved node does not
    time out its primary on its own account. The lateness is what admission control sees."""
    live = LiveNode(tmp_path)
    live.start()
    try:
        node = live.node
        assert node is not None
        consensus = node.config.consensus
        stall_s = 2 * consensus.request_timeout_ticks * consensus.tick_ms / 1000

        async def stall() -> tuple[int, float]:
            before = node.replica._ticks
            time.sleep(stall_s)  # the whole loop stops, as under a CPU-bound burst
            await asyncio.sleep(consensus.tick_ms / 1000 * 1.5)
            return node.replica._ticks - before, node.admission.loop_lag_ms

        ticks, lag_ms = live.run(stall())
        assert 1 <= ticks <= 3, ticks
        assert lag_ms > 250, "the stall is seen as a late loop"
        assert node.replica.stats.view_changes == 0
    finally:
        live.stop()
