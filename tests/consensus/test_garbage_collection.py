"""Checkpoints and garbage collection keep a replica's log bounded (section 4.3).

Two drives, both without a network:
- a one-validator chain (f = 0, quorum 1) runs 10,000 blocks through a real Replica:
  it proposes, prepares, commits, checkpoints and collects garbage on its own;
- one backup (r1) of four is fed the signed pre-prepares, prepares, commits and
  checkpoints of the other three, 1,000 blocks by default (10,000 in the slow run: most
  of that time is Ed25519 verification).
"""

from __future__ import annotations

import pytest

from chain.block import Block, make_header
from chain.certificate import ValidatorSet
from chain.state import ZERO_HASH
from chain.tx import Transaction
from consensus import (
    Checkpoint,
    Commit,
    Deliver,
    Effect,
    MessageReceived,
    Persist,
    Prepare,
    PrePrepare,
    Replica,
    ReplicaConfig,
    ReplicaId,
    RequestReceived,
    Tick,
)
from consensus.messages import sign
from tests.consensus.harness import START_MS
from tests.simulation.app import NOOP_KIND, SimApp, SimStore
from tests.simulation.cluster import CHAIN_ID, GENESIS_HASH, client_key, validator_key

K = 8
L = 16
CACHE = 256


class Driven:
    """A replica whose effects are carried out in place, with its records on a dict."""

    def __init__(self, validators: ValidatorSet, index: int) -> None:
        config = ReplicaConfig(
            CHAIN_ID,
            validators,
            ReplicaId(index),
            checkpoint_interval=K,
            watermark_window=L,
            batch_delay_ticks=0,
            signature_cache_size=CACHE,
        )
        self.store = SimStore(GENESIS_HASH)
        self.app = SimApp(CHAIN_ID, validator_key(index).public_key, self.store)
        self.replica = Replica(config, validator_key(index), self.app, None, 0, GENESIS_HASH)
        self.disk: dict[bytes, bytes] = {}
        self.max_log = self.max_disk = 0

    def step(self, event: object) -> list[Effect]:
        effects = self.replica.step(event)  # type: ignore[arg-type]
        for effect in effects:
            if isinstance(effect, Persist):
                self.disk[effect.record.key] = effect.record.value
            elif isinstance(effect, Deliver):
                self.app.execute(effect.block, effect.certificate)
        self.max_log = max(self.max_log, self.replica.log_size)
        self.max_disk = max(self.max_disk, len(self.disk))
        return effects

    def check_bounded(self, blocks: int) -> None:
        assert self.store.height == blocks
        assert self.max_log <= L
        assert self.max_disk <= L + 4
        assert len(self.replica._verifier._cache) <= CACHE
        assert self.replica.pending_count == 0
        assert blocks - K < self.replica.low_watermark <= blocks


def test_garbage_collection_keeps_the_log_bounded_over_10000_blocks() -> None:
    """A one-validator chain: every block is proposed, prepared, committed, and every K-th
    checkpointed and collected by the same real Replica code."""
    key = validator_key(0)
    driven = Driven(ValidatorSet((key.public_key,)), 0)
    for height in range(1, 10_001):
        tx = Transaction.create(client_key(0), CHAIN_ID, NOOP_KIND, b"", height)
        driven.step(RequestReceived(tx))
        driven.step(Tick(START_MS + height * 100))
    driven.step(Tick(START_MS + 10_001 * 100))
    driven.check_bounded(10_000)


def _drive_backup(blocks: int) -> None:
    keys = [validator_key(i) for i in range(4)]
    driven = Driven(ValidatorSet(tuple(k.public_key for k in keys)), 1)

    def feed(sender: int, message: object) -> None:
        signed = sign(message, keys[sender], CHAIN_ID)  # type: ignore[type-var]
        driven.step(MessageReceived(ReplicaId(sender), signed))

    for height in range(1, blocks + 1):
        now_ms = START_MS + height * 100
        driven.step(Tick(now_ms))
        header = make_header(
            CHAIN_ID,
            height,
            now_ms,
            driven.store.head_hash,
            (),
            driven.app.app_hash,
            ZERO_HASH,
            keys[0].public_key,
        )
        block = Block(header, ())
        feed(0, PrePrepare(0, height, block, 0))  # type: ignore[arg-type]
        for r in (2, 3):
            feed(r, Prepare(0, height, block.block_hash, r))  # type: ignore[arg-type]
        for r in (0, 2):
            feed(r, Commit(0, height, block.block_hash, r))  # type: ignore[arg-type]
        if height % K == 0:
            for r in (0, 2):
                feed(r, Checkpoint(height, block.block_hash, r))  # type: ignore[arg-type]
            assert driven.replica.low_watermark == height
    driven.check_bounded(blocks)


def test_a_backup_collects_garbage_at_every_stable_checkpoint() -> None:
    """Section 4.3: 2f+1 matching checkpoints make one stable; slots at or below it go."""
    _drive_backup(1_000)


@pytest.mark.slow
def test_a_backup_log_stays_bounded_over_10000_blocks() -> None:
    _drive_backup(10_000)
