"""A replica restarted from its persisted records never contradicts what it sent.

Castro & Liskov assume replicas keep their log across restarts (TOCS'02 section 5,
"proactive recovery" relies on it); here that is the Persist effect, stored before the
prepare, commit, pre-prepare or view change it covers is sent.
"""

from __future__ import annotations

import dataclasses

from chain.block import Block
from consensus import Broadcast, Commit, NewView, Persist, Prepare, PrePrepare, ViewChange
from consensus.messages import sign
from consensus.records import SlotRecord
from tests.consensus.harness import Cluster
from tests.simulation.cluster import validator_key


def _twin(pre_prepare: PrePrepare) -> PrePrepare:
    """A conflicting pre-prepare for the same (view, height), signed by the same primary."""
    header = pre_prepare.block.header
    other = Block(
        dataclasses.replace(header, timestamp_ms=header.timestamp_ms + 1),
        pre_prepare.block.transactions,
    )
    twin = PrePrepare(pre_prepare.view, pre_prepare.height, other, pre_prepare.replica)
    return sign(twin, validator_key(pre_prepare.replica), "sim-chain")


def test_restarted_backup_does_not_prepare_a_conflicting_block() -> None:
    """r1 prepared block A at (v0, h1), crashed and restarted from its records; an
    equivocating primary then offers block B for the same (v0, h1): r1 refuses it, and
    still retransmits its prepare for A."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: True)  # nothing arrives anywhere
    cluster.submit(0)
    pre_prepare = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    cluster.inject(0, 1, pre_prepare)
    prepare_a = [m for m in cluster[1].sent if isinstance(m, Prepare)]
    assert {p.block_hash for p in prepare_a} == {pre_prepare.block_hash}

    cluster.crash(1)
    cluster.restart(1)
    cluster[1].sent.clear()
    twin = _twin(pre_prepare)
    cluster.inject(0, 1, twin)
    cluster.tick(10, deliver=False)
    prepares = [m for m in cluster[1].sent if isinstance(m, Prepare)]
    assert prepares, "the restarted replica retransmits its prepare"
    assert {p.block_hash for p in prepares} == {pre_prepare.block_hash}


def test_an_equivocating_primary_is_counted_and_its_repeated_pre_prepare_is_not() -> None:
    """The operators' metrics count a primary's second, conflicting pre-prepare for a slot
    as equivocation; the same pre-prepare again (a retransmission) is no such evidence."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: True)
    cluster.submit(0)
    pre_prepare = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    cluster.inject(0, 1, pre_prepare)
    cluster.inject(0, 1, pre_prepare)
    assert EQUIVOCATION not in cluster[1].up.stats.dropped
    cluster.inject(0, 1, _twin(pre_prepare))
    assert cluster[1].up.stats.dropped[EQUIVOCATION] == 1
    prepares = [m for m in cluster[1].sent if isinstance(m, Prepare)]
    assert {p.block_hash for p in prepares} == {pre_prepare.block_hash}


EQUIVOCATION = "conflicting pre-prepare (equivocating primary)"


def test_restarted_primary_does_not_propose_a_second_block_for_the_same_height() -> None:
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: True)
    cluster.submit(0)
    first = [m for m in cluster[0].sent if isinstance(m, PrePrepare)]
    cluster.crash(0)
    cluster.restart(0)
    cluster.submit(0)
    cluster.submit(0)
    cluster.tick(5, deliver=False)
    proposals = [m for m in cluster[0].sent if isinstance(m, PrePrepare)]
    assert len(proposals) > len(first)
    assert {(p.view, p.height, p.block_hash) for p in proposals} == {
        (first[0].view, first[0].height, first[0].block_hash)
    }


def test_restarted_replica_reports_its_prepared_certificate_in_its_view_change() -> None:
    """Section 4.4: a view change carries the prepared certificates; one persisted before
    the commit was sent survives a crash, so the block stays safe across the view change."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit))
    cluster.submit(0)
    cluster.deliver_all()
    block_hash = cluster[2].up._log.get(1).prepared.block_hash  # type: ignore[union-attr]
    cluster.crash(2)
    cluster.restart(2)
    cluster.crash(0)
    cluster.drop_if(lambda s, t, m: isinstance(m, NewView))
    cluster.run_until(lambda: any(isinstance(m, ViewChange) for m in cluster[2].sent))
    view_change = next(m for m in cluster[2].sent if isinstance(m, ViewChange))
    assert [p.block_hash for p in view_change.prepared] == [block_hash]


def test_restarted_replica_resumes_its_view_change() -> None:
    cluster = Cluster()
    cluster.crash(0)
    cluster.submit(1)
    cluster.drop_if(lambda s, t, m: isinstance(m, NewView))
    cluster.run_until(lambda: cluster[2].up.view_changing)
    sent = next(m for m in cluster[2].sent if isinstance(m, ViewChange))
    cluster.crash(2)
    cluster.restart(2)
    assert cluster[2].up.view == sent.new_view and cluster[2].up.view_changing
    cluster.heal()
    cluster.run_until(lambda: not cluster[2].up.view_changing)


def test_a_retransmitted_prepare_or_commit_is_persisted_again_before_it_leaves() -> None:
    """Issue 11: `_tick_retransmit` re-sends votes from memory. A node whose record write
    was lost (and that had not stopped) would send a vote it never recorded, and could
    vote differently after a restart. Each retransmission is now preceded by the slot's
    record, which says the prepare (and commit) was sent for that block."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit))  # r1 prepares and commits, no more
    cluster.submit(0)
    cluster.deliver_all()
    member = cluster[1]
    assert any(isinstance(m, Commit) for m in member.sent), "r1 sent its commit"
    member.disk.clear()  # the record writes are lost
    member.effects.clear()
    cluster.tick(cluster[1].config.retransmit_ticks, deliver=False)
    effects = member.effects
    resent = [
        i
        for i, e in enumerate(effects)
        if isinstance(e, Broadcast) and isinstance(e.message, Prepare | Commit)
    ]
    assert resent, "r1 retransmits its prepare and commit"
    for index in resent:
        persisted = [
            e.record
            for e in effects[:index]
            if isinstance(e, Persist) and isinstance(e.record, SlotRecord)
        ]
        assert persisted and persisted[-1].height == effects[index].message.height
        assert persisted[-1].sent_prepare and persisted[-1].sent_commit
    cluster.crash(1)
    cluster.restart(1)
    restored = cluster[1].up._log.get(1)
    assert restored is not None and restored.own_commit is not None
