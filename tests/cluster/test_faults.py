"""SIGKILL during a stream of ballots: the cluster keeps committing, the killed node
comes back by itself, and nothing acknowledged is lost or doubled."""

from __future__ import annotations

from collections import Counter

import pytest

from chain.keys import PrivateKey
from cli.demo import seed_if_fresh
from tests.cluster.harness import LocalCluster, wait_for
from tests.cluster.stream import BallotStream, chain_tx_ids

VOTERS = 12


def prepare(cluster: LocalCluster) -> tuple[bytes, list[PrivateKey]]:
    polls = seed_if_fresh(cluster.config)
    budget_poll = bytes.fromhex(polls[1])  # the demo participatory budget allows revotes
    voters = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(VOTERS)]
    for i, voter in enumerate(voters):
        assert cluster.enroll_directly(f"+8210555{i:05d}", voter)["receipt"]["accepted"]
    return budget_poll, voters


def check_everything_acknowledged_is_there_once(cluster: LocalCluster, acked: set[bytes]) -> None:
    statuses = cluster.wait_converged(timeout_s=90)
    assert len({s["height"] for s in statuses}) == 1
    for node_id in cluster.node_ids:
        counts = Counter(chain_tx_ids(cluster, node_id))
        assert all(c == 1 for c in counts.values()), f"{node_id} holds a transaction twice"
        missing = [t.hex()[:16] for t in acked if t not in counts]
        assert not missing, f"{node_id} lost acknowledged ballots {missing[:5]}"


@pytest.mark.parametrize("victim", ["n3", "n1"], ids=["backup", "primary"])
def test_killed_node_rejoins_and_nothing_acknowledged_is_lost(
    cluster: LocalCluster, victim: str
) -> None:
    poll_id, voters = prepare(cluster)
    alive = list(cluster.node_ids)
    stream = BallotStream(cluster, poll_id, voters, targets=lambda: alive)
    thread = stream.run()
    try:
        wait_for(lambda: stream.count() >= 30, 60, "30 ballots before the kill")
        alive.remove(victim)
        cluster.kill(victim)
        killed_at = stream.count()
        wait_for(lambda: stream.count() >= killed_at + 40, 90, "40 ballots with a node down")
        if victim == "n1":
            views = {cluster.status(n)["view"] for n in alive}
            assert min(views) >= 1, "the primary died but no view change happened"
        cluster.start(victim)
        alive.append(victim)
        restarted_at = stream.count()
        wait_for(lambda: stream.count() >= restarted_at + 20, 90, "ballots after the restart")
    finally:
        stream.stop(thread)
    assert not stream.refused, stream.refused[:3]
    check_everything_acknowledged_is_there_once(cluster, stream.acknowledged)
    restarted = cluster.status(victim)
    # It missed 40 blocks whose pre-prepares the others have garbage-collected, so it
    # can only have caught up by fetching certified blocks (state transfer).
    assert restarted["consensus"]["fetches"] >= 1, restarted["consensus"]
