"""A restarted replica resumes the view, the window and the committed block it had.

Castro & Liskov (TOCS'02, section 5) keep a replica's state across a restart; here three
records hold what is not in the block store: the view record (the view, whether it is
being changed, this replica's own ViewChange or NewView), the checkpoint record (the low
watermark, section 4.3) and the committed record (the commit certificate of the store's
head, which a ViewChange carries and a status Commit shows, ADR 003 and PROTOCOL.md
12.7). test_restart.py and test_restart_keeps_its_votes.py cover the slot records.
"""

from __future__ import annotations

from consensus import Commit, NewView, ViewChange
from consensus.records import (
    COMMITTED_KEY,
    SLOT_PREFIX,
    CommittedEntry,
    CommittedRecord,
    decode_record,
)
from consensus.types import Height
from tests.consensus.harness import Cluster, certificate_of


def _sent_after_restart(cluster: Cluster, index: int) -> None:
    cluster.crash(index)
    cluster.restart(index)
    cluster[index].sent.clear()


# ---- the committed record -----------------------------------------------------------


def test_a_restarted_replica_shows_the_certificate_of_its_last_committed_block() -> None:
    """Its status Commit (12.7) is for the store's head, in the certificate's view."""
    cluster = Cluster(status_ticks=3)
    cluster.commit_blocks(3)
    _, certificate = certificate_of(cluster[1], 3)
    _sent_after_restart(cluster, 1)
    cluster.tick(3, deliver=False)
    status = [m for m in cluster[1].sent if isinstance(m, Commit)]
    assert {(c.view, c.height, c.block_hash) for c in status} == {
        (certificate.view, 3, certificate.block_hash)
    }
    cluster.commit_blocks(1, at=1)  # and it goes on from there: the next block links
    assert cluster[1].store.height == 4


def test_a_restarted_replicas_view_change_carries_its_committed_certificate() -> None:
    """ADR 003: a ViewChange's `committed` is the sender's highest commit certificate,
    the per-block replacement of the stable-checkpoint proof; a restart keeps it."""
    cluster = Cluster()
    cluster.commit_blocks(2)
    _, certificate = certificate_of(cluster[2], 2)
    _sent_after_restart(cluster, 2)
    cluster.crash(0)
    cluster.drop_if(lambda s, t, m: isinstance(m, NewView))
    cluster.submit(2)
    cluster.run_until(lambda: any(isinstance(m, ViewChange) for m in cluster[2].sent))
    view_change = next(m for m in cluster[2].sent if isinstance(m, ViewChange))
    assert view_change.committed == certificate


def test_a_committed_record_for_another_block_or_height_is_not_taken_as_the_heads() -> None:
    """The committed record names the block it certifies; only an entry for the store's
    head height and hash is used. For another block at that height, or only other
    heights (the store two blocks behind), the restarted replica has no certificate to
    show rather than a wrong one, and it starts."""
    cluster = Cluster(status_ticks=3)
    cluster.commit_blocks(2)
    block, certificate = certificate_of(cluster[1], 2)
    other_hash = bytes(32)
    for entries in (
        (CommittedEntry(Height(2), other_hash, block.header.timestamp_ms, certificate),),
        (
            CommittedEntry(Height(4), other_hash, block.header.timestamp_ms, certificate),
            CommittedEntry(Height(5), other_hash, block.header.timestamp_ms, certificate),
        ),
    ):
        record = CommittedRecord(entries)
        cluster.crash(1)
        cluster[1].disk[record.key] = record.value
        cluster.restart(1)
        cluster[1].sent.clear()
        cluster.tick(3, deliver=False)
        assert not [m for m in cluster[1].sent if isinstance(m, Commit)], entries


def test_the_committed_record_also_keeps_the_block_before_the_head() -> None:
    """A crash after the committed record of block h is written but before block h is
    stored restarts with the store's head at h - 1: the record must still hold h - 1's
    certificate, so it keeps the last two committed blocks (CommittedRecord's docstring)."""
    cluster = Cluster()
    cluster.commit_blocks(3)
    record = decode_record(COMMITTED_KEY, cluster[1].disk[COMMITTED_KEY])
    assert isinstance(record, CommittedRecord)
    assert [entry.height for entry in record.entries] == [2, 3]
    _, certificate = certificate_of(cluster[1], 2)
    held = record.entry_at(2)
    assert held is not None and held.certificate == certificate


# ---- the checkpoint record ----------------------------------------------------------


def test_a_restarted_replica_keeps_the_low_watermark_of_its_stable_checkpoint() -> None:
    """Section 4.3: the low watermark is the last stable checkpoint. r3 prepared height 1
    and saw the others' checkpoints at height 4 (a quorum), but no commit: it committed
    nothing. After a restart its window still starts at 4, not at its committed height's
    checkpoint (0), and its slot record for height 1, now below the window, is left."""
    cluster = Cluster(auto_fetch=False)
    cluster.drop_if(lambda s, t, m: t == 3 and isinstance(m, Commit))
    for height in range(1, 5):
        cluster.submit(0)
        cluster.run_until(lambda: cluster[0].store.height >= height)  # noqa: B023 (run now)
    cluster.run_until(lambda: cluster[3].up._log.low == 4)
    assert cluster[3].store.height == 0
    assert any(k.startswith(SLOT_PREFIX) for k in cluster[3].disk)
    cluster.crash(3)
    cluster.restart(3)
    assert cluster[3].up._log.low == 4
    assert cluster[3].up._log.get(1) is None


# ---- the view record ----------------------------------------------------------------


def _view_change_to_1(cluster: Cluster, crashed: int = 0) -> None:
    cluster.crash(crashed)
    for i in range(len(cluster.members)):
        if i != crashed:
            cluster.submit(i)


def test_a_replica_restarted_during_a_view_change_retransmits_the_same_view_change() -> None:
    cluster = Cluster()
    _view_change_to_1(cluster)
    cluster.drop_if(lambda s, t, m: isinstance(m, NewView))
    cluster.run_until(lambda: cluster[2].up.view_changing)
    sent = next(m for m in cluster[2].sent if isinstance(m, ViewChange))
    _sent_after_restart(cluster, 2)
    cluster.tick(cluster[2].config.retransmit_ticks, deliver=False)
    assert [m for m in cluster[2].sent if isinstance(m, ViewChange)][:1] == [sent]


def test_a_restarted_new_primary_counts_its_own_view_change_toward_the_quorum() -> None:
    """r1, primary of view 1, asked for view 1 and crashed before any other view change
    reached it. Restarted, it needs only two more (q = 3 with its own): it sends NewView
    after r2's and r3's, and that NewView holds its own ViewChange."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: t == 1 and isinstance(m, ViewChange))
    cluster.drop_if(lambda s, t, m: isinstance(m, NewView))
    _view_change_to_1(cluster)
    cluster.run_until(lambda: all(cluster[i].up.view_changing for i in (1, 2, 3)))
    own = next(m for m in cluster[1].sent if isinstance(m, ViewChange))
    others = [next(m for m in cluster[i].sent if isinstance(m, ViewChange)) for i in (2, 3)]
    assert all(vc.new_view == own.new_view for vc in others)
    _sent_after_restart(cluster, 1)
    cluster.inject(2, 1, others[0])
    assert not [m for m in cluster[1].sent if isinstance(m, NewView)]
    cluster.inject(3, 1, others[1])
    new_views = [m for m in cluster[1].sent if isinstance(m, NewView)]
    assert new_views and new_views[0].view == own.new_view
    assert own in new_views[0].view_changes
    assert not cluster[1].up.view_changing


def test_a_restarted_primary_shows_its_new_view_to_a_replica_still_asking_for_it() -> None:
    """A ViewChange for the view the primary already entered gets its NewView back
    (the sender missed it); the NewView survives the primary's restart."""
    cluster = Cluster()
    _view_change_to_1(cluster)
    cluster.drop_if(lambda s, t, m: t == 3 and isinstance(m, NewView))
    cluster.run_until(
        lambda: all(cluster[i].up.view == 1 and not cluster[i].up.view_changing for i in (1, 2))
    )
    new_view = next(m for m in cluster[1].sent if isinstance(m, NewView))
    asking = next(m for m in cluster[3].sent if isinstance(m, ViewChange) and m.new_view == 1)
    _sent_after_restart(cluster, 1)
    cluster.heal()
    cluster.inject(3, 1, asking)
    assert [m for m in cluster[1].sent if isinstance(m, NewView)] == [new_view]
    cluster.restart(0)
    cluster.commit_blocks(1, at=1)  # and the cluster, r1 included, goes on committing
    assert cluster[1].store.height == 1
