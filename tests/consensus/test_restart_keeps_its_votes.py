"""A replica restarted from its slot records resumes the votes it had cast, exactly.

Castro & Liskov (TOCS'02, section 5) keep a replica's log across a restart; here the slot
record says which pre-prepare a replica accepted and whether it sent its prepare and its
commit. After a restart the replica must go on from there: retransmit the very prepare and
commit it sent (same view, same block, same signature), and count the prepares that still
arrive for the block it prepared or proposed, without checking it again (its clock and its
executed state may have moved on; it is bound by what it sent).
"""

from __future__ import annotations

from consensus import Commit, Prepare, PrePrepare
from tests.consensus.harness import Cluster


def _proposal_seen_by(
    cluster: Cluster, backups: tuple[int, ...]
) -> tuple[PrePrepare, dict[int, Prepare]]:
    """r0 proposes one block; only `backups` receive it (by hand); their prepares."""
    cluster.drop_if(lambda s, t, m: True)  # nothing arrives unless injected
    cluster.submit(0)
    pre_prepare = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    prepares: dict[int, Prepare] = {}
    for backup in backups:
        cluster.inject(0, backup, pre_prepare)
        prepares[backup] = next(m for m in cluster[backup].sent if isinstance(m, Prepare))
    return pre_prepare, prepares


def test_a_restarted_replica_retransmits_exactly_the_prepare_and_commit_it_sent() -> None:
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit))  # prepared everywhere, no commit
    cluster.submit(0)
    cluster.deliver_all()
    prepare = next(m for m in cluster[1].sent if isinstance(m, Prepare))
    commit = next(m for m in cluster[1].sent if isinstance(m, Commit))
    cluster.crash(1)
    cluster.restart(1)
    cluster[1].sent.clear()
    cluster.tick(cluster[1].config.retransmit_ticks, deliver=False)
    assert [m for m in cluster[1].sent if isinstance(m, Prepare)][:1] == [prepare]
    assert [m for m in cluster[1].sent if isinstance(m, Commit)][:1] == [commit]


def test_a_restarted_backup_commits_the_block_it_prepared_when_the_prepares_arrive() -> None:
    """r1 prepared (v0, h1) and crashed before it was prepared; after the restart, and
    before its first tick, the prepares of r2 and r3 arrive: r1 commits that block."""
    cluster = Cluster()
    pre_prepare, prepares = _proposal_seen_by(cluster, (1, 2, 3))
    cluster.crash(1)
    cluster.restart(1)
    cluster[1].sent.clear()
    cluster.inject(2, 1, prepares[2])
    cluster.inject(3, 1, prepares[3])
    commits = [m for m in cluster[1].sent if isinstance(m, Commit)]
    assert {(c.view, c.height, c.block_hash) for c in commits} == {
        (pre_prepare.view, pre_prepare.height, pre_prepare.block_hash)
    }
    assert not [m for m in cluster[1].sent if isinstance(m, Prepare | PrePrepare)]


def test_a_restarted_primary_commits_its_own_proposal_when_the_prepares_arrive() -> None:
    cluster = Cluster()
    pre_prepare, prepares = _proposal_seen_by(cluster, (1, 2))
    cluster.crash(0)
    cluster.restart(0)
    cluster[0].sent.clear()
    cluster.inject(1, 0, prepares[1])
    cluster.inject(2, 0, prepares[2])
    commits = [m for m in cluster[0].sent if isinstance(m, Commit)]
    assert {(c.view, c.height, c.block_hash) for c in commits} == {
        (pre_prepare.view, pre_prepare.height, pre_prepare.block_hash)
    }


def test_a_replica_restarted_in_a_later_view_votes_for_that_views_block_not_its_old_one() -> None:
    """Section 4.4: a prepare binds a replica within its view only. r2 prepared r0's block
    at (v0, h1); r0 crashed and the others moved to view 1 before r2 saw v1's proposal; r2
    restarts in view 1 with its v0 slot record still on disk. It must not take that v0
    pre-prepare as view 1's: it prepares and commits the block r1 proposes for (v1, h1),
    and sends no vote in view 1 for the old block."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: True)
    cluster.submit(0)
    old = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    cluster.inject(0, 2, old)
    assert any(isinstance(m, Prepare) for m in cluster[2].sent)
    cluster.crash(0)
    cluster.heal()
    cluster.drop_if(lambda s, t, m: t == 2 and isinstance(m, PrePrepare))
    for i in (1, 2, 3):
        cluster.submit(i)
    cluster.run_until(
        lambda: all(cluster[i].up.view == 1 and not cluster[i].up.view_changing for i in (1, 2, 3))
    )
    cluster.crash(2)
    cluster.restart(2)
    cluster[2].sent.clear()
    cluster.heal()
    cluster.run_until(lambda: cluster[2].store.height >= 1)
    new = next(
        m for m in cluster[1].sent if isinstance(m, PrePrepare) and m.view == 1 and m.height == 1
    )
    assert new.block_hash != old.block_hash
    votes = {
        (m.view, m.height, m.block_hash)
        for m in cluster[2].sent
        if isinstance(m, Prepare | Commit) and m.height == 1
    }
    assert votes == {(1, 1, new.block_hash)}
