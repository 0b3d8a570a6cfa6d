"""The normal case: pre-prepare, prepare, commit, deliver (Castro & Liskov section 4.2)."""

from __future__ import annotations

import dataclasses

from consensus import (
    Broadcast,
    Commit,
    Deliver,
    FlushRequests,
    Persist,
    Prepare,
    PrePrepare,
    RequestBatch,
    RequestReceived,
    Send,
    Tick,
)
from consensus.messages import sign
from consensus.types import ReplicaId
from tests.consensus.harness import Cluster
from tests.simulation.cluster import CHAIN_ID, validator_key


def test_a_request_commits_on_every_replica_in_height_order() -> None:
    """Section 4.2: a batch pre-prepared, prepared by 2f+1 and committed by 2f+1 is
    delivered by every replica, in sequence-number (height) order."""
    cluster = Cluster()
    cluster.commit_blocks(3)
    assert cluster.heights() == [3, 3, 3, 3]
    for height in (1, 2, 3):
        assert len(cluster.blocks_at(height)) == 1
    for member in cluster.members:
        delivered = [e.block.height for e in member.effects if isinstance(e, Deliver)]
        assert delivered == [1, 2, 3]


def test_a_backup_forwards_a_request_to_the_primary() -> None:
    """Section 4.1: a request that reaches a backup is sent on to the primary at once."""
    cluster = Cluster()
    tx = cluster.make_tx()
    effects = cluster.step(2, RequestReceived(tx))
    sends = [e for e in effects if isinstance(e, Send)]
    assert len(sends) == 1 and sends[0].to == 0
    assert isinstance(sends[0].message, RequestBatch)
    assert sends[0].message.transactions == (tx,)


def test_a_backup_forwards_the_rest_of_a_tick_in_one_batch() -> None:
    """PROTOCOL.md 12.3: after the first request of a tick, a backup's requests leave in
    one RequestBatch at the next tick, in arrival order, not one message each."""
    cluster = Cluster()
    first, *rest = [cluster.make_tx() for _ in range(6)]
    cluster.step(2, RequestReceived(first))
    quiet = [cluster.step(2, RequestReceived(tx)) for tx in rest]
    assert not [e for effects in quiet for e in effects if isinstance(e, Send)]
    effects = cluster.step(2, Tick(cluster.now_ms + 100))
    batches = [e for e in effects if isinstance(e, Send) and isinstance(e.message, RequestBatch)]
    assert len(batches) == 1 and batches[0].to == 0
    assert isinstance(batches[0].message, RequestBatch)
    assert batches[0].message.transactions == tuple(rest)
    cluster.run_until(lambda: all(cluster.everyone_has(tx) for tx in [first, *rest]))


def test_a_backup_forwards_a_burst_when_the_node_flushes_not_a_tick_later() -> None:
    """PROTOCOL.md 12.3: the requests queued after the first of a tick leave in one
    RequestBatch as soon as the node steps FlushRequests (the end of its burst); a flush
    with nothing queued, or on the primary, sends nothing."""
    cluster = Cluster()
    first, *rest = [cluster.make_tx() for _ in range(4)]
    cluster.step(2, RequestReceived(first))
    for tx in rest:
        cluster.step(2, RequestReceived(tx))
    effects = cluster.step(2, FlushRequests())
    batches = [e for e in effects if isinstance(e, Send) and isinstance(e.message, RequestBatch)]
    assert len(batches) == 1 and batches[0].to == 0
    assert isinstance(batches[0].message, RequestBatch)
    assert batches[0].message.transactions == tuple(rest)
    assert not [e for e in cluster.step(2, FlushRequests()) if isinstance(e, Send)]
    later = cluster.make_tx()
    cluster.step(2, RequestReceived(later))  # after a flush in this tick: queued
    effects = cluster.step(2, FlushRequests())
    sent = [e.message.transactions for e in effects if isinstance(e, Send)]  # type: ignore[union-attr]
    assert sent == [(later,)]
    cluster.step(0, RequestReceived(cluster.make_tx()))
    assert not [e for e in cluster.step(0, FlushRequests()) if isinstance(e, Send)]
    cluster.run_until(lambda: all(cluster.everyone_has(tx) for tx in [first, *rest, later]))


def test_a_request_batch_from_a_peer_is_checked_tx_by_tx() -> None:
    """One transaction with a bad signature costs only itself: the others in the batch
    are held by the primary and committed."""
    cluster = Cluster(batch_delay_ticks=1_000, max_block_txs=1_000)
    good = [cluster.make_tx() for _ in range(3)]
    bad = dataclasses.replace(cluster.make_tx(), signature=bytes(64))
    batch = sign(RequestBatch(ReplicaId(1), (good[0], bad, *good[1:])), validator_key(1), CHAIN_ID)
    cluster.inject(1, 0, batch)
    primary = cluster[0].up
    assert primary.pending_count == 3
    assert primary.stats.dropped["invalid transaction"] == 1


def test_duplicate_requests_make_one_block_entry() -> None:
    cluster = Cluster(batch_delay_ticks=2)
    tx = cluster.make_tx()
    for member in range(4):
        cluster.submit(member, tx)
    cluster.run_until(lambda: cluster.everyone_has(tx))
    assert cluster.heights() == [1, 1, 1, 1]
    assert len(cluster[0].store.blocks[0][0].transactions) == 1


def test_every_prepare_commit_and_view_change_is_persisted_before_it_is_sent() -> None:
    """The node stores Persist effects before later sends of the same list: a replica
    never sends a prepare, commit or pre-prepare that its records do not show."""
    cluster = Cluster()
    cluster.commit_blocks(2)
    for member in cluster.members:
        for index, effect in enumerate(member.effects):
            if isinstance(effect, Broadcast) and isinstance(
                effect.message, Prepare | Commit | PrePrepare
            ):
                earlier = member.effects[:index]
                assert any(isinstance(e, Persist) for e in earlier)


def test_commit_signatures_form_the_block_certificate() -> None:
    """Commits are signed over chain.certificate.commit_vote_sign_bytes, so the delivered
    certificate is exactly 2f+1 commit signatures and verifies with chain/ alone."""
    cluster = Cluster()
    cluster.commit_blocks(1)
    block, certificate = cluster[3].store.blocks[0]
    certificate.verify(cluster.validators, "sim-chain", 1, block.block_hash)
    assert len(certificate.signatures) >= cluster.validators.quorum


def test_a_forged_prepare_fails_the_signature_check() -> None:
    """The core checks every message's signature itself, even from an authenticated peer."""
    cluster = Cluster()
    tx = cluster.submit(0)
    pre_prepare = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    forged = sign(
        Prepare(pre_prepare.view, pre_prepare.height, bytes(32), cluster[2].config.replica_id),
        validator_key(1),  # r1's key, claiming to be r2
        "sim-chain",
    )
    before = cluster[3].up.stats.bad_signatures
    cluster.inject(2, 3, forged)
    assert cluster[3].up.stats.bad_signatures == before + 1
    cluster.run_until(lambda: cluster.everyone_has(tx))


def test_a_message_whose_replica_field_is_not_the_peer_is_dropped() -> None:
    cluster = Cluster()
    cluster.submit(0)
    cluster.deliver_all()
    prepare = next(m for m in cluster[1].sent if isinstance(m, Prepare))
    cluster.inject(2, 3, prepare)  # r1's genuine prepare relayed by r2
    assert cluster[3].up.stats.dropped.get("replica field is not the sending peer") == 1


def test_a_message_signed_for_another_chain_is_refused() -> None:
    cluster = Cluster()
    cluster.submit(0)
    pre_prepare = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    prepare = Prepare(pre_prepare.view, pre_prepare.height, pre_prepare.block_hash, 1)  # type: ignore[arg-type]
    other_chain = sign(prepare, validator_key(1), "another-chain")
    cluster.inject(1, 3, other_chain)
    assert cluster[3].up.stats.bad_signatures == 1
