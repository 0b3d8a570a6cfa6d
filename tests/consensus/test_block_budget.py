"""Issue 9 in the consensus core: the block byte budget and the pending-request quotas.

One voter's 300 transactions of 64 KB made a 9,005,319-byte block that every validator
committed and none could read back. Here: the primary never proposes over its budget,
a backup refuses a proposal over MAX_BLOCK_BYTES (as a decoded message and as an object),
a ViewChange carries at most one prepared block so a NewView fits the frame limit, and a
faulty validator's forwarded requests cannot fill the pending set with one signer's.
"""

from __future__ import annotations

import pytest

from chain.block import BLOCK_OVERHEAD_MAX_BYTES, MAX_BLOCK_BYTES, MAX_BLOCK_TXS, Block
from chain.tx import MAX_TX_BYTES, Transaction
from consensus import InvalidMessage, Prepare, PrePrepare, ReplicaConfig, ReplicaId, RequestBatch
from consensus.messages import (
    MESSAGE_OVERHEAD_MAX_BYTES,
    PreparedCertificate,
    ViewChange,
    decode_message,
    encode_message,
    max_message_bytes,
    sign,
)
from consensus.requests import PendingLimits, PendingRequests
from consensus.signatures import SignatureVerifier
from consensus.types import View
from consensus.viewchange import check_view_change
from tests.consensus.harness import Cluster
from tests.simulation.app import NOOP_KIND
from tests.simulation.cluster import CHAIN_ID, GENESIS_HASH, client_key, validator_key

LARGE_BODY_BYTES = 60_000
"""A transaction of about 60 KB: three fit in a 200,000-byte budget, four do not."""


def large_txs(count: int, signer: int = 0, first_nonce: int = 0) -> list[Transaction]:
    key = client_key(signer)
    return [
        Transaction.create(key, CHAIN_ID, NOOP_KIND, bytes(LARGE_BODY_BYTES), first_nonce + n)
        for n in range(count)
    ]


def oversized_block(cluster: Cluster, tx_count: int = 140) -> Block:
    """A block at height 1, valid in every way but size (over MAX_BLOCK_BYTES)."""
    txs = tuple(
        Transaction.create(client_key(n % 3), CHAIN_ID, NOOP_KIND, bytes(MAX_TX_BYTES - 200), n)
        for n in range(tx_count)
    )
    app = cluster[0].app
    assert app is not None
    return app.build_block(1, cluster.now_ms, GENESIS_HASH, txs)


# ---- the proposer's budget -------------------------------------------------------------


def test_the_primary_fills_blocks_up_to_its_byte_budget_and_carries_the_rest() -> None:
    budget = 200_000
    cluster = Cluster(max_block_txs=100, max_block_bytes=budget, batch_delay_ticks=3)
    txs = large_txs(10)
    for tx in txs:
        cluster.submit(0, tx)
    cluster.run_until(lambda: all(cluster.everyone_has(tx) for tx in txs))
    blocks = [block for block, _ in cluster[0].store.blocks]
    assert [len(b.transactions) for b in blocks] == [3, 3, 3, 1]
    assert all(b.encoded_size == len(b.encode()) <= budget for b in blocks)
    assert [tx for b in blocks for tx in b.transactions] == txs  # first come, first served


def test_a_batch_stops_at_the_first_request_that_does_not_fit() -> None:
    pending = PendingRequests(PendingLimits(100, 10**9, 100, 10**9))
    small = Transaction.create(client_key(1), CHAIN_ID, NOOP_KIND, b"small", 0)
    big, after = large_txs(2)
    for tx in (small, big, after):
        pending.add(tx, 0, relay=False)
    budget = small.encoded_size + big.encoded_size - 1
    assert pending.take_batch(10, budget, lambda _: False) == [small]
    assert pending.take_batch(2, 10**9, lambda _: False) == [small, big]
    exactly = small.encoded_size + big.encoded_size
    assert pending.take_batch(10, exactly, lambda _: False) == [small, big], "a batch may fill it"


def test_an_own_request_is_relayed_once_exactly_when_it_has_waited_its_ticks() -> None:
    pending = PendingRequests(PendingLimits(100, 10**9, 100, 10**9))
    tx = Transaction.create(client_key(1), CHAIN_ID, NOOP_KIND, b"mine", 0)
    pending.add(tx, 10, relay=True)
    assert pending.due_for_relay(14, after_ticks=5) == []
    assert pending.due_for_relay(15, after_ticks=5) == [tx]
    assert pending.due_for_relay(16, after_ticks=5) == []


def test_the_replica_config_refuses_a_budget_over_the_protocol_limit_or_under_one_tx() -> None:
    cluster = Cluster()
    config = cluster[0].config
    for bad in (MAX_BLOCK_BYTES + 1, BLOCK_OVERHEAD_MAX_BYTES + MAX_TX_BYTES - 1):
        with pytest.raises(ValueError, match="max_block_bytes"):
            ReplicaConfig(CHAIN_ID, config.validators, ReplicaId(0), max_block_bytes=bad)


def test_a_budget_over_the_protocols_transaction_count_is_refused() -> None:
    config = Cluster()[0].config
    with pytest.raises(ValueError, match="max_block_txs"):
        ReplicaConfig(CHAIN_ID, config.validators, ReplicaId(0), max_block_txs=MAX_BLOCK_TXS + 1)


def test_a_forwarded_transaction_over_max_tx_bytes_is_never_proposed() -> None:
    """Forwarded requests skip the mempool: a faulty validator forwards a transaction a
    little over MAX_TX_BYTES (its body alone is within the decoder's cap). A primary that
    proposed it would see every backup refuse the block, view after view."""
    cluster = Cluster(batch_delay_ticks=0)
    too_big = Transaction.create(client_key(4), CHAIN_ID, NOOP_KIND, bytes(MAX_TX_BYTES), 0)
    assert too_big.encoded_size > MAX_TX_BYTES
    forward(cluster, [too_big])
    assert cluster[0].up.pending_count == 0
    assert cluster[0].up.stats.dropped["transaction over MAX_TX_BYTES"] == 1
    cluster.commit_blocks(1)
    assert cluster.heights() == [1, 1, 1, 1] and cluster[0].up.view == 0


# ---- a backup refuses an oversized proposal ---------------------------------------------


def test_a_backup_refuses_an_oversized_pre_prepare_and_sends_no_prepare() -> None:
    cluster = Cluster()
    block = oversized_block(cluster)
    assert block.encoded_size > MAX_BLOCK_BYTES
    pre_prepare = sign(
        PrePrepare(View(0), block.height, block, ReplicaId(0)), validator_key(0), CHAIN_ID
    )
    effects = cluster.inject(0, 1, pre_prepare)
    assert not any(isinstance(getattr(e, "message", None), Prepare) for e in effects)
    assert cluster[1].up.stats.dropped.get("malformed") == 1


def test_an_oversized_pre_prepare_is_refused_when_decoded() -> None:
    cluster = Cluster()
    block = oversized_block(cluster)
    pre_prepare = sign(
        PrePrepare(View(0), block.height, block, ReplicaId(0)), validator_key(0), CHAIN_ID
    )
    with pytest.raises(InvalidMessage, match=r"block is \d+ bytes, the limit is 8388608"):
        decode_message(encode_message(pre_prepare))


def test_the_primary_of_the_next_view_takes_over_after_an_oversized_proposal() -> None:
    """The backups refuse it, time out, change view, and the request commits in view 1."""
    cluster = Cluster()
    block = oversized_block(cluster)
    pre_prepare = sign(
        PrePrepare(View(0), block.height, block, ReplicaId(0)), validator_key(0), CHAIN_ID
    )
    cluster.drop_if(lambda sender, to, m: sender == 0)  # r0 is faulty: only its bad proposal
    tx = cluster.make_tx()
    for backup in (1, 2, 3):
        cluster.submit(backup, tx)
        cluster.inject(0, backup, pre_prepare)
    cluster.crash(0)
    cluster.run_until(lambda: all(cluster[i].store.height == 1 for i in (1, 2, 3)))
    committed = cluster[1].store.blocks[0][0]
    assert committed.transactions == (tx,) and committed.encoded_size <= MAX_BLOCK_BYTES
    assert all(cluster[i].up.view >= 1 for i in (1, 2, 3))


# ---- message sizes and the frame limit ---------------------------------------------------


def test_a_pre_prepare_of_a_block_at_the_limit_fits_its_share_of_the_bound() -> None:
    cluster = Cluster()
    block = oversized_block(cluster, tx_count=1)
    pre_prepare = sign(
        PrePrepare(View(2**63), 2**40, block, ReplicaId(255)), validator_key(0), CHAIN_ID
    )
    envelope = len(encode_message(pre_prepare)) - block.encoded_size
    assert envelope <= MESSAGE_OVERHEAD_MAX_BYTES


def test_the_frame_limit_holds_a_new_view_of_a_quorum_of_full_view_changes() -> None:
    """2 * quorum blocks: 48 MiB for 4 validators, more than the old 16 MiB frame."""
    bound = max_message_bytes(4, 3)
    assert 6 * MAX_BLOCK_BYTES < bound < 6 * MAX_BLOCK_BYTES + 64 * 1024


def test_a_view_change_with_two_prepared_blocks_is_refused() -> None:
    """With one block in flight a correct replica holds one prepared certificate at most;
    a ViewChange with more (a faulty replica padding its NewView share) is refused."""
    cluster = Cluster()
    cluster.commit_blocks(2)
    certificates = []
    for height in (1, 2):
        pre_prepare = next(
            m for m in cluster[0].sent if isinstance(m, PrePrepare) and m.height == height
        )
        prepares = tuple(
            next(m for m in cluster[i].sent if isinstance(m, Prepare) and m.height == height)
            for i in (1, 2)
        )
        certificates.append(PreparedCertificate(pre_prepare, prepares))
    config = cluster[1].config
    verifier = SignatureVerifier(config.validators, CHAIN_ID, 64)
    one = sign(
        ViewChange(View(1), ReplicaId(1), None, (certificates[0],)), validator_key(1), CHAIN_ID
    )
    check_view_change(one, config, verifier)
    two = sign(
        ViewChange(View(1), ReplicaId(1), None, tuple(certificates)), validator_key(1), CHAIN_ID
    )
    with pytest.raises(InvalidMessage, match="2 prepared certificates, at most 1"):
        check_view_change(two, config, verifier)


# ---- pending-request quotas --------------------------------------------------------------


def forward(cluster: Cluster, txs: list[Transaction], by: int = 1, to: int = 0) -> None:
    """`txs` arrive at `to` from replica `by`, one RequestBatch each (as relays may)."""
    for tx in txs:
        batch = RequestBatch(ReplicaId(by), (tx,))
        cluster.inject(by, to, sign(batch, validator_key(by), CHAIN_ID))


def small_txs(count: int, signer: int) -> list[Transaction]:
    key = client_key(signer)
    return [Transaction.create(key, CHAIN_ID, NOOP_KIND, b"x", n) for n in range(count)]


def test_a_faulty_validator_cannot_fill_the_pending_set_with_one_signers_requests() -> None:
    cluster = Cluster(max_pending_per_signer=5, batch_delay_ticks=1_000, max_block_txs=1_000)
    forward(cluster, small_txs(50, signer=7))
    primary = cluster[0].up
    assert primary.pending_count == 5
    assert primary.stats.dropped["signer over its pending request quota"] == 45
    forward(cluster, small_txs(3, signer=8))  # other signers still get in
    assert primary.pending_count == 8


def test_one_signers_pending_bytes_are_capped() -> None:
    per_signer = 3 * (LARGE_BODY_BYTES + 200)
    cluster = Cluster(max_pending_bytes_per_signer=per_signer, batch_delay_ticks=1_000)
    forward(cluster, large_txs(10))
    primary = cluster[0].up
    assert primary.pending_count == 3
    assert primary.stats.dropped["signer over its pending byte quota"] == 7


def test_the_total_pending_bytes_are_capped_and_exempt_signers_skip_only_their_quota() -> None:
    exempt = client_key(0).public_key
    cluster = Cluster(
        max_pending_bytes=5 * (LARGE_BODY_BYTES + 200),
        max_pending_per_signer=2,
        quota_exempt_signers=frozenset({exempt}),
        batch_delay_ticks=1_000,
    )
    forward(cluster, large_txs(8))
    primary = cluster[0].up
    assert primary.pending_count == 5
    assert primary.stats.dropped["pending requests over the byte cap"] == 3


def test_requests_leave_the_quota_when_they_commit() -> None:
    cluster = Cluster(max_pending_per_signer=2, batch_delay_ticks=0)
    first = small_txs(4, signer=5)
    forward(cluster, first[:2])
    cluster.run_until(lambda: all(cluster.everyone_has(tx) for tx in first[:2]))
    forward(cluster, first[2:])
    primary = cluster[0].up
    assert primary.pending_count == 2
    assert "signer over its pending request quota" not in primary.stats.dropped


# ---- restarting without records (after `votechain recover`) ------------------------------


def test_a_cluster_restarted_without_its_records_beyond_the_window_commits_again() -> None:
    """`votechain recover` rebuilds each store without its consensus records. Every
    replica then starts at view 0 with no checkpoint; its watermark window must start at
    its committed height, or height h + 1 is "above the high watermark" for good."""
    cluster = Cluster()  # watermark_window 4, checkpoint_interval 2
    cluster.commit_blocks(7)
    for member in cluster.members:
        cluster.crash(member.id)
        member.disk.clear()
    cluster.queue.clear()
    for member in cluster.members:
        cluster.restart(member.id)
    assert all(m.up.low_watermark == 6 for m in cluster.members)
    cluster.commit_blocks(2)
    assert cluster.heights() == [9, 9, 9, 9]
