"""View changes (Castro & Liskov section 4.4; TOCS'02 section 4.5)."""

from __future__ import annotations

import pytest

from consensus import Broadcast, Commit, InvalidMessage, NewView, RequestBatch, Send, ViewChange
from consensus.messages import sign
from consensus.viewchange import check_new_view
from tests.consensus.harness import Cluster
from tests.simulation.cluster import validator_key


def _prepare_everywhere_but_never_commit(cluster: Cluster) -> bytes:
    """Run one request until every replica prepared it, with every commit lost."""
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit) and m.view == 0)
    cluster.submit(0)
    cluster.deliver_all()
    prepared = {m.id: m.up._log.get(1) for m in cluster.members}
    hashes = {slot.prepared.block_hash for slot in prepared.values() if slot and slot.prepared}
    assert len(hashes) == 1 and all(slot and slot.prepared for slot in prepared.values())
    assert cluster.heights() == [0, 0, 0, 0]
    return hashes.pop()


def test_prepared_batch_survives_view_change() -> None:
    """Section 4.4: a batch prepared by a quorum in view v is re-proposed, unchanged, by
    the NewView of v+1, and it is what commits; the view is only in the certificate."""
    cluster = Cluster()
    block_hash = _prepare_everywhere_but_never_commit(cluster)
    cluster.crash(0)
    cluster.run_until(lambda: all(m.store.height == 1 for m in cluster.members[1:]))
    for member in cluster.members[1:]:
        block, certificate = member.store.blocks[0]
        assert block.block_hash == block_hash
        assert certificate.view >= 1
    new_views = [m for m in cluster[1].sent if isinstance(m, NewView)]
    assert new_views and [pp.height for pp in new_views[0].reproposals] == [1]
    assert new_views[0].reproposals[0].block_hash == block_hash


def test_the_cluster_keeps_committing_after_the_primary_crashes() -> None:
    cluster = Cluster()
    cluster.commit_blocks(2)
    cluster.crash(0)
    tx = cluster.submit(2)
    cluster.run_until(lambda: all(m.app.is_committed(tx.tx_id) for m in cluster.members[1:]))  # type: ignore[union-attr]
    assert cluster[1].up.view >= 1 and not cluster[1].up.view_changing


def test_view_change_timeouts_double_across_failed_views() -> None:
    """Section 4.5.2 (TOCS'02): if the new view does not start in time, the next timeout
    is twice as long, so that correct replicas eventually overlap in one view."""
    cluster = Cluster(request_timeout_ticks=4)
    cluster.crash(0)
    cluster.drop_if(lambda s, t, m: isinstance(m, NewView))  # no new view ever starts
    cluster.submit(2)
    started: dict[int, int] = {}
    for tick in range(300):
        cluster.tick()
        started.setdefault(cluster[3].up.view, tick)
    gaps = [started[v + 1] - started[v] for v in sorted(started)[:-1] if v + 1 in started]
    assert len(gaps) >= 3
    assert gaps[-1] >= 2 * gaps[-2] - 1


def test_a_replica_joins_a_view_change_that_f_plus_one_replicas_ask_for() -> None:
    """Section 4.5.2: f+1 view changes for a later view prove a correct replica wants it."""
    cluster = Cluster()
    cluster.commit_blocks(1)
    for sender in (1, 2):
        view_change = sign(ViewChange(3, sender, None, ()), validator_key(sender), "sim-chain")  # type: ignore[arg-type]
        cluster.inject(sender, 0, view_change)
    assert cluster[0].up.view == 3 and cluster[0].up.view_changing


def test_a_new_view_with_the_wrong_reproposals_is_refused() -> None:
    """Backups recompute the NewView's pre-prepares from its view changes (section 4.4)."""
    cluster = Cluster()
    _prepare_everywhere_but_never_commit(cluster)
    cluster.crash(0)
    cluster.drop_if(lambda s, t, m: isinstance(m, NewView))
    cluster.run_until(lambda: any(isinstance(m, NewView) for m in cluster[1].sent))
    new_view = next(m for m in cluster[1].sent if isinstance(m, NewView))
    assert new_view.reproposals
    emptied = sign(
        NewView(new_view.view, new_view.replica, new_view.view_changes, ()),
        validator_key(1),
        "sim-chain",
    )
    with pytest.raises(InvalidMessage, match="re-proposes"):
        check_new_view(emptied, cluster[2].config, cluster[2].up._verifier)
    cluster.inject(1, 2, emptied)
    assert cluster[2].up.view_changing
    assert cluster[2].up.stats.dropped["invalid new-view"] == 1


def test_a_new_view_from_a_replica_that_is_not_the_new_primary_is_refused() -> None:
    cluster = Cluster()
    cluster.commit_blocks(1)
    view_changes = tuple(
        sign(ViewChange(1, r, None, ()), validator_key(r), "sim-chain")  # type: ignore[arg-type]
        for r in (1, 2, 3)
    )
    bogus = sign(NewView(1, 2, view_changes, ()), validator_key(2), "sim-chain")  # type: ignore[arg-type]
    with pytest.raises(InvalidMessage, match="led by r1"):
        check_new_view(bogus, cluster[3].config, cluster[3].up._verifier)


def test_requests_a_silent_primary_ignores_are_relayed_and_handed_over_in_batches() -> None:
    """Section 4.1's retransmission and 4.4's hand-over, batched (PROTOCOL.md 12.3): the
    requests due for relay in a tick go to every replica in one RequestBatch, and on
    entering the new view a backup sends the new primary its pending ones in one more."""
    cluster = Cluster()
    cluster.crash(0)
    txs = [cluster.make_tx() for _ in range(5)]
    for tx in txs:
        cluster.submit(2, tx)
    cluster.run_until(lambda: all(m.app.is_committed(tx.tx_id) for m in cluster.members[1:]))  # type: ignore[union-attr]
    effects = cluster[2].effects
    relays = [
        e.message
        for e in effects
        if isinstance(e, Broadcast) and isinstance(e.message, RequestBatch)
    ]
    assert relays and relays[0].transactions == tuple(txs)
    handed_over = [
        e.message
        for e in effects
        if isinstance(e, Send) and e.to == 1 and isinstance(e.message, RequestBatch)
    ]
    assert any(batch.transactions == tuple(txs) for batch in handed_over)
