"""Issue 11: a replica that is behind, or alone in a later view, catches up on an idle
cluster.

Seen on a real cluster under load: one replica moved alone to view 4 while the other
three stayed in view 3 and committed one more block; with no further traffic it stayed at
the old height for over 60 s, because nothing an idle cluster sends told it. Each replica
now broadcasts a Commit for its last committed block every `status_ticks` (PROTOCOL.md
12.7): q of them make a certificate, and the replica fetches the block.
"""

from __future__ import annotations

from tests.consensus.harness import Cluster

STATUS_TICKS = 20


def test_a_replica_alone_in_a_later_view_catches_up_on_an_idle_cluster() -> None:
    cluster = Cluster(status_ticks=STATUS_TICKS)
    cluster.isolate(3)
    tx = cluster.make_tx()
    cluster.submit(3, tx)  # r3 holds it, cannot reach the primary, and times out
    cluster.submit(0, tx)  # the other three commit it without r3
    cluster.run_until(lambda: cluster.heights()[:3] == [1, 1, 1])
    cluster.run_until(lambda: cluster[3].up.view_changing, max_ticks=200)
    assert cluster[3].up.view == 1 and [cluster[i].up.view for i in range(3)] == [0, 0, 0]
    assert cluster.heights() == [1, 1, 1, 0]
    cluster.heal()  # from here on nobody submits anything: the cluster is idle
    cluster.tick(3 * STATUS_TICKS)
    assert cluster.heights() == [1, 1, 1, 1], "r3 learned the block it missed"
    assert cluster[3].up.view == 1, "it stays in its view (it cannot go back)"
    assert [cluster[i].up.view for i in range(3)] == [0, 0, 0]


def test_a_replica_that_missed_the_last_block_catches_up_on_an_idle_cluster() -> None:
    cluster = Cluster(status_ticks=STATUS_TICKS)
    cluster.isolate(2)
    cluster.commit_blocks(2)
    assert cluster.heights() == [2, 2, 0, 2]
    cluster.heal()
    cluster.tick(3 * STATUS_TICKS)
    assert cluster.heights() == [2, 2, 2, 2]
