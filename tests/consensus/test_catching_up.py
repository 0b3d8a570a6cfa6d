"""How replicas help each other catch up: answering a peer still at a committed height,
re-sending their own messages on a timer, and when and whom a replica behind asks for
blocks (PROTOCOL.md 12.7; consensus/transfer.py).

Issue 12's mutation sample of consensus/ showed none of this was held by a test: the
simulation's seeds still commit without it (state transfer makes up for it), so only
these focused tests notice.
"""

from __future__ import annotations

import hashlib

from consensus import (
    Broadcast,
    Checkpoint,
    Commit,
    FetchBlocks,
    Persist,
    Prepare,
    PrePrepare,
    RequestBatch,
    Send,
    decode_message,
    encode_message,
)
from consensus.messages import sign
from consensus.records import SlotRecord
from consensus.transfer import BehindDetector
from consensus.types import Height, ReplicaId, View
from tests.consensus.harness import Cluster
from tests.simulation.cluster import CHAIN_ID, validator_key

# ---- a peer still working on a committed height -------------------------------------------


def test_a_replica_answers_a_peer_still_preparing_a_committed_height_with_its_commit() -> None:
    """A prepare or pre-prepare for a height this replica committed means the sender has
    not: it gets this replica's commit for that height, sent to it alone."""
    cluster = Cluster()
    cluster.commit_blocks(1)
    stale_prepare = next(m for m in cluster[3].sent if isinstance(m, Prepare))
    own_commit = next(m for m in cluster[1].sent if isinstance(m, Commit) and m.height == 1)
    effects = cluster.inject(3, 1, stale_prepare)
    assert [(e.to, e.message) for e in effects if isinstance(e, Send)] == [(3, own_commit)]
    assert not [e for e in effects if isinstance(e, Broadcast)]
    stale_pre_prepare = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    effects = cluster.inject(0, 1, stale_pre_prepare)
    assert [(e.to, e.message) for e in effects if isinstance(e, Send)] == [(0, own_commit)]


# ---- retransmission on a timer -------------------------------------------------------------


def test_a_replica_with_work_outstanding_retransmits_its_latest_checkpoint() -> None:
    """A checkpoint lost on the way keeps the peers' low watermark behind; while requests
    wait, each retransmission also re-sends the replica's own latest checkpoint."""
    cluster = Cluster(checkpoint_interval=2)
    cluster.commit_blocks(2)
    own_checkpoint = next(m for m in cluster[1].sent if isinstance(m, Checkpoint))
    assert own_checkpoint.height == 2
    cluster.drop_if(lambda s, t, m: True)
    cluster.submit(1)  # waits at r1: its forward to the primary is lost
    cluster[1].effects.clear()
    cluster.tick(cluster[1].config.retransmit_ticks, deliver=False)
    resent = [
        e.message
        for e in cluster[1].effects
        if isinstance(e, Broadcast) and isinstance(e.message, Checkpoint)
    ]
    assert resent == [own_checkpoint]


def test_a_replica_with_no_vote_of_its_own_at_the_next_height_writes_and_resends_none() -> None:
    """Retransmission re-sends (and first records again) only this replica's own votes; a
    slot holding only a peer's prepare costs no synced write and no message."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: True)
    cluster.submit(1)  # work outstanding, so the retransmit timer acts
    block_hash = hashlib.sha256(b"a block r1 has not seen").digest()
    prepare = sign(
        Prepare(View(0), Height(1), block_hash, ReplicaId(2)), validator_key(2), CHAIN_ID
    )
    cluster.inject(2, 1, prepare)
    assert cluster[1].up._log.get(1) is not None
    cluster[1].effects.clear()
    cluster.tick(cluster[1].config.retransmit_ticks, deliver=False)
    effects = cluster[1].effects
    assert not [e for e in effects if isinstance(e, Persist) and isinstance(e.record, SlotRecord)]
    assert not [
        e for e in effects if isinstance(e, Broadcast) and isinstance(e.message, Prepare | Commit)
    ]


# ---- when, and whom, a replica behind asks ------------------------------------------------


def _detector(delay_ticks: int = 1) -> BehindDetector:
    config = Cluster()[0].config
    return BehindDetector(
        type(config)(
            CHAIN_ID,
            config.validators,
            ReplicaId(0),
            state_transfer_delay_ticks=delay_ticks,
            fetch_timeout_ticks=2,
        )
    )


def _shows(detector: BehindDetector, replica: int, committed: int) -> None:
    """A signed commit for `committed` + 1 shows its sender committed `committed`."""
    detector.note_message(Commit(View(0), Height(committed + 1), b"\0" * 32, ReplicaId(replica)))


def test_the_first_fetch_asks_the_peer_furthest_ahead_first_and_the_next_one_the_next() -> None:
    """PROTOCOL.md 12.7: peers are asked furthest ahead first, each later request starting
    with a different peer, so one silent peer cannot stall the catch-up."""
    detector = _detector()
    for replica, committed in ((1, 5), (2, 7), (3, 6)):
        _shows(detector, replica, committed)
    first = detector.tick(Height(0))
    assert first == FetchBlocks(Height(1), Height(6), (ReplicaId(2), ReplicaId(3), ReplicaId(1)))
    assert detector.tick(Height(0)) is None and detector.tick(Height(0)) is None  # waits
    second = detector.tick(Height(0))
    assert second is not None and second.peers == (ReplicaId(3), ReplicaId(1), ReplicaId(2))


def test_a_delivered_block_restarts_the_wait_before_fetching() -> None:
    """Ordinary commits usually arrive first: after each delivered block the evidence of
    being behind must last `state_transfer_delay_ticks` ticks again before a fetch."""
    detector = _detector(delay_ticks=3)
    for replica in (1, 2, 3):
        _shows(detector, replica, 5)
    assert detector.tick(Height(0)) is None and detector.tick(Height(0)) is None
    detector.progressed()  # a block was delivered the ordinary way
    assert detector.tick(Height(1)) is None
    assert detector.tick(Height(1)) is None
    peers = (ReplicaId(1), ReplicaId(2), ReplicaId(3))
    assert detector.tick(Height(1)) == FetchBlocks(Height(2), Height(5), peers)


def test_a_replica_committed_by_others_commits_answers_with_a_commit_signed_as_itself() -> None:
    """r3 saw the pre-prepare and the others' commits, never enough prepares: it committed
    without a commit of its own. A peer still preparing gets one now, signed by r3 and
    naming r3, so it decodes and counts at the peer."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: t == 3 and isinstance(m, Prepare))
    tx = cluster.submit(0)
    cluster.run_until(lambda: cluster.everyone_has(tx))
    slot = cluster[3].up._log.get(1)
    assert slot is not None and slot.own_prepare is not None
    assert not [m for m in cluster[3].sent if isinstance(m, Commit)]
    stale_prepare = next(m for m in cluster[2].sent if isinstance(m, Prepare))
    effects = cluster.inject(2, 3, stale_prepare)
    answers = [e for e in effects if isinstance(e, Send)]
    assert [a.to for a in answers] == [2]
    commit = answers[0].message
    assert isinstance(commit, Commit) and (commit.replica, commit.height) == (3, 1)
    assert decode_message(encode_message(commit)) == commit


def test_a_prepared_backup_records_its_slot_again_before_retransmitting_its_prepare() -> None:
    """Issue 11, for a backup that prepared and has not committed: the prepare it re-sends
    is preceded by the slot record saying it was sent (and no commit was)."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: t == 1 and isinstance(m, Prepare))  # r1 never commits
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit))
    cluster.submit(0)
    cluster.deliver_all()
    member = cluster[1]
    slot = member.up._log.get(1)
    assert slot is not None and slot.own_prepare is not None and slot.own_commit is None
    member.disk.clear()  # the record write was lost
    member.effects.clear()
    cluster.tick(member.config.retransmit_ticks, deliver=False)
    effects = member.effects
    resent = [
        i
        for i, e in enumerate(effects)
        if isinstance(e, Broadcast) and isinstance(e.message, Prepare)
    ]
    assert resent
    records = [
        e.record
        for e in effects[: resent[0]]
        if isinstance(e, Persist) and isinstance(e.record, SlotRecord)
    ]
    assert records and (records[-1].sent_prepare, records[-1].sent_commit) == (True, False)


def test_a_request_is_relayed_to_every_replica_after_half_an_odd_timeout_rounded_down() -> None:
    """Section 4.1's client retransmission: with a timeout of 7 ticks a backup's own
    request that has waited 3 ticks (7 // 2) is broadcast, once."""
    cluster = Cluster(request_timeout_ticks=7)
    cluster.drop_if(lambda s, t, m: True)
    tx = cluster.submit(1)
    relayed_at = []
    for tick in range(1, 7):
        cluster[1].effects.clear()
        cluster.tick(1, deliver=False)
        batches = [
            e.message
            for e in cluster[1].effects
            if isinstance(e, Broadcast) and isinstance(e.message, RequestBatch)
        ]
        if batches:
            assert [b.transactions for b in batches] == [(tx,)]
            relayed_at.append(tick)
    assert relayed_at == [3]


def test_a_replica_retransmits_every_retransmit_ticks_not_more_often() -> None:
    cluster = Cluster(retransmit_ticks=3)
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit))
    cluster.submit(0)
    cluster.deliver_all()  # r1 prepared and committed; its commit never arrives anywhere
    member = cluster[1]
    member.effects.clear()
    resent_at = []
    for tick in range(1, 10):
        member.effects.clear()
        cluster.tick(1, deliver=False)
        if any(isinstance(e, Broadcast) and isinstance(e.message, Commit) for e in member.effects):
            resent_at.append(tick)
    assert resent_at == [3, 6, 9]


def test_a_replicas_first_commit_in_a_view_is_the_one_counted() -> None:
    """A faulty replica that commits to one block and then, in the same view, to another
    cannot move its vote: only a commit of a later view replaces an earlier one."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit))
    cluster.submit(0)
    cluster.deliver_all()  # every replica prepared the block and sent its commit (lost)
    pre_prepare = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    block_hash = pre_prepare.block_hash
    other_hash = hashlib.sha256(b"another block").digest()

    def commit(replica: int, digest: bytes) -> Commit:
        vote = Commit(View(0), Height(1), digest, ReplicaId(replica))
        return sign(vote, validator_key(replica), CHAIN_ID)

    cluster.inject(3, 1, commit(3, other_hash))  # r3 (faulty) first commits elsewhere
    cluster.inject(3, 1, commit(3, block_hash))  # then to the block: not counted
    cluster.inject(0, 1, commit(0, block_hash))
    assert cluster[1].store.height == 0, "r0 and r1 alone are no quorum"
    cluster.inject(2, 1, commit(2, block_hash))
    assert cluster[1].store.height == 1
