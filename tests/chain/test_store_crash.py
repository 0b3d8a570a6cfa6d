"""ChainStore under SIGKILL: a block is wholly there with its index entries, or not at all.

A child process (tests/chain/crash_writer.py) appends blocks to a store as fast as it
can and prints each height after append_block returns. The test kills it with SIGKILL
at seeded random moments -- while it starts, while it initializes, mid-batch -- and
after each kill reopens the store and checks it against a replay of the same
deterministic generator (chain_fixtures.next_bundle): every record the store's docstring
lists, for blocks 1..head, byte for byte; nothing for head + 1; state exactly the
state after head; the local record written in each block's batch (as the node writes its
consensus records with a delivery) naming exactly head; and every height the child
acknowledged is at or below head. The child then restarts on the same data directory,
so recovery is exercised too.

A failure names the seed; rerun it with VOTECHAIN_CRASH_SEED=<seed>.
"""

from __future__ import annotations

import os
import random
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import plyvel
import pytest

from chain import encoding, storelayout
from chain.errors import StoreError
from chain.genesis import Genesis
from chain.state import MemoryState
from chain.store import LAYOUT, ChainStore
from tests.chain.chain_fixtures import (
    BLOCK_KEY_PREFIX,
    COUNTER_KEY,
    SCRATCH_KEY,
    BlockBundle,
    ChainTip,
    block_key,
    genesis_writes,
    make_genesis,
    next_bundle,
    pack_u64,
)
from tests.chain.crash_writer import LOCAL_HEAD_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("VOTECHAIN_CRASH_SEED", "20251125"))
GENERATOR_SEED = 0
"""Seed of the blocks themselves (the child and the replay must agree on it)."""
KILL_AFTER_S_MIN, KILL_AFTER_S_MAX = 0.05, 0.8
"""Kill moments, from the child's start; it needs about 0.15 s to import and open."""
CHILD_EXIT_TIMEOUT_S = 10


class Replay:
    """The chain the child writes, rebuilt in memory from the same generator."""

    def __init__(self, genesis: Genesis, seed: int) -> None:
        self.genesis, self.seed = genesis, seed
        self.bundles: list[BlockBundle] = []
        self.tips = [ChainTip.from_genesis(genesis)]
        self.state = MemoryState()
        self.state.apply(genesis_writes())
        self.state_height = 0
        self.chain_records = {
            b"meta/genesis": genesis.encode(),
            b"apphash/" + h8(0): self.tips[0].app_hash,
            b"meta/layout": encoding.encode(LAYOUT),
            b"rcpt/" + h8(0): storelayout.pack_receipts([], []),
        }
        self.chain_records_height = 0

    def bundle(self, height: int) -> BlockBundle:
        while len(self.bundles) < height:
            bundle = next_bundle(self.tips[-1], self.genesis, self.seed)
            self.bundles.append(bundle)
            self.tips.append(self.tips[-1].advance(bundle))
        return self.bundles[height - 1]

    def state_at(self, height: int) -> dict[bytes, bytes]:
        """State after block `height`; heights must not go backwards."""
        assert height >= self.state_height, "the head went backwards"
        for h in range(self.state_height + 1, height + 1):
            self.state.apply(self.bundle(h).writes)
        self.state_height = height
        return dict(self.state.items(b""))

    def expected_records(self, head: int) -> dict[bytes, bytes]:
        """Every LevelDB record the store must hold at `head` (store.py's key spaces)."""
        if head < 0:
            return {}
        for height in range(self.chain_records_height + 1, head + 1):
            bundle = self.bundle(height)
            block = bundle.block
            records = self.chain_records
            records[b"block/" + h8(height)] = block.encode()
            records[b"cert/" + h8(height)] = bundle.certificate.encode()
            tx_ids = [tx.tx_id for tx in block.transactions]
            records[b"rcpt/" + h8(height)] = storelayout.pack_receipts(tx_ids, bundle.receipts)
            records[b"apphash/" + h8(height)] = self.tips[height].app_hash
            records[b"hash/" + block.block_hash] = h8(height)
            locations = storelayout.tx_locations(height, block.encode())
            for tx_id, location in zip(tx_ids, locations, strict=True):
                # The fixture's tx_ids share no 8-byte prefix: every one is under txi/.
                records[b"txi/" + tx_id[:8]] = location.pack()
        self.chain_records_height = max(self.chain_records_height, head)
        state = {b"state/" + key: value for key, value in self.state_at(head).items()}
        # The local record written in each block's batch names exactly the head.
        local = {b"local/" + LOCAL_HEAD_KEY: h8(head)} if head > 0 else {}
        return {**self.chain_records, b"meta/head": h8(head), **state, **local}


def h8(height: int) -> bytes:
    return struct.pack(">Q", height)


def run_child_until_killed(data_dir: Path, out_path: Path, kill_after_s: float) -> list[int]:
    """Start crash_writer, SIGKILL it after `kill_after_s`; return the heights it printed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    with out_path.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.chain.crash_writer", str(data_dir), str(GENERATOR_SEED)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
        )
        try:
            # Count the delay from when the child has opened the store, not from its start:
            # interpreter start-up on a loaded machine would otherwise eat the whole window.
            deadline = time.monotonic() + CHILD_EXIT_TIMEOUT_S
            while b"opened" not in out_path.read_bytes() and child.poll() is None:
                assert time.monotonic() < deadline, "the child never opened the store"
                time.sleep(0.01)
            time.sleep(kill_after_s)
            os.kill(child.pid, signal.SIGKILL)
            _, stderr = child.communicate(timeout=CHILD_EXIT_TIMEOUT_S)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == -signal.SIGKILL, (
        f"the child exited by itself ({child.returncode}): {stderr.decode(errors='replace')}"
    )
    lines = out_path.read_bytes().split(b"\n")[:-1]  # a last line without "\n" is torn
    return [int(line) for line in lines if not line.startswith(b"opened")]


def check_store(data_dir: Path, replay: Replay, checked_up_to: int, acknowledged: list[int]) -> int:
    """Check the reopened store block by block and record by record; return its head."""
    with ChainStore(data_dir) as store:
        head = store.head_height
        assert head >= checked_up_to, f"head {head} is below the {checked_up_to} seen before"
        assert all(height <= head for height in acknowledged), (
            f"acknowledged {max(acknowledged)} but the head is {head}"
        )
        if head >= 0:
            check_blocks(store, replay, range(max(checked_up_to, 0) + 1, head + 1))
            check_nothing_above_head(store, replay, head)
            check_state(store, head)
    db = plyvel.DB(str(data_dir))
    try:
        stored = dict(db.iterator())
    finally:
        db.close()
    expected = replay.expected_records(head)
    missing = sorted(expected.keys() - stored.keys())[:3]
    extra = sorted(stored.keys() - expected.keys())[:3]
    assert not missing and not extra, f"head {head}: missing {missing}, unexpected {extra}"
    differ = [k for k in expected if stored[k] != expected[k]][:3]
    assert not differ, f"head {head}: records differ from the replay: {differ}"
    return head


def check_blocks(store: ChainStore, replay: Replay, heights: range) -> None:
    validators = store.genesis.validator_set
    for height in heights:
        bundle = replay.bundle(height)
        block = store.get_block(height)
        assert block == bundle.block, f"block {height} differs from the replay"
        certificate = store.get_certificate(height)
        certificate.verify(validators, store.genesis.chain_id, height, block.block_hash)
        assert store.get_receipts(height) == list(bundle.receipts)
        assert store.app_hash(height) == replay.tips[height].app_hash, f"app hash {height}"
        assert store.height_of(block.block_hash) == height
        for position, tx in enumerate(block.transactions):
            assert store.locate_tx(tx.tx_id) == (height, position)


def check_nothing_above_head(store: ChainStore, replay: Replay, head: int) -> None:
    following = replay.bundle(head + 1).block
    assert store.get_block_bytes(head + 1) is None, f"block {head + 1} is stored above the head"
    with pytest.raises(StoreError):
        store.get_certificate(head + 1)
    with pytest.raises(StoreError):
        store.app_hash(head + 1)
    assert store.height_of(following.block_hash) is None, f"block {head + 1}'s hash is indexed"
    for tx in following.transactions:
        assert store.locate_tx(tx.tx_id) is None, f"a tx of block {head + 1} is indexed"


def check_state(store: ChainStore, head: int) -> None:
    assert store.get(COUNTER_KEY) == pack_u64(head)
    assert [key for key, _ in store.items(BLOCK_KEY_PREFIX)] == [
        block_key(h) for h in range(1, head + 1)
    ]
    for height in range(max(head - 2, 1), head + 1):
        assert store.get(block_key(height)) == store.block_hash(height)
    assert store.get(SCRATCH_KEY) == (pack_u64(head) if head % 2 else None)


def run_crash_rounds(tmp_path: Path, seed: int, kill_points: int) -> list[int]:
    """Kill the child `kill_points` times on one data directory; return the heads seen."""
    rng = random.Random(seed)
    replay = Replay(make_genesis(4), GENERATOR_SEED)
    data_dir = tmp_path / "data"
    heads, head = [], -1
    for round_number in range(kill_points):
        kill_after_s = rng.uniform(KILL_AFTER_S_MIN, KILL_AFTER_S_MAX)
        context = f"seed {seed}, round {round_number}, kill after {kill_after_s:.3f} s"
        try:
            acknowledged = run_child_until_killed(
                data_dir, tmp_path / f"child-{round_number}.out", kill_after_s
            )
            assert all(height > head for height in acknowledged), "the child re-appended"
            head = check_store(data_dir, replay, head, acknowledged)
        except AssertionError as exc:
            raise AssertionError(f"{context}: {exc}") from exc
        heads.append(head)
    return heads


def test_a_store_killed_mid_append_reopens_consistent(tmp_path: Path) -> None:
    heads = run_crash_rounds(tmp_path, SEED, kill_points=20)
    progressed = sum(
        1 for before, after in zip([-1, *heads], heads, strict=False) if after > before
    )
    assert heads[-1] > 0 and progressed >= 10, f"the child made too little progress: {heads}"


@pytest.mark.slow
def test_a_store_killed_many_times_reopens_consistent_soak(tmp_path: Path) -> None:
    run_crash_rounds(tmp_path, SEED + 1, kill_points=100)
