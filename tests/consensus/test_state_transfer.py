"""State transfer: a replica that is behind fetches certified blocks (section 4.3; TOCS'02
section 6.2 describes the paper's state transfer, which here moves whole blocks)."""

from __future__ import annotations

from chain.certificate import CommitCertificate
from consensus import BlocksFetched, FetchBlocks
from tests.consensus.harness import Cluster
from tests.simulation.cluster import validator_key


def test_a_replica_behind_by_many_checkpoints_catches_up_by_state_transfer() -> None:
    """r3 misses 20 blocks (10 checkpoints with K=2, well past its window L=4); when it
    hears from the others again it fetches the blocks, verifies their certificates and
    links, delivers them in order, and then takes part in new blocks."""
    cluster = Cluster(checkpoint_interval=2, watermark_window=4)
    cluster.isolate(3)
    cluster.commit_blocks(20)
    assert cluster.heights() == [20, 20, 20, 0]
    assert cluster[0].up.low_watermark >= 16
    cluster.heal()
    tx = cluster.submit(1)
    cluster.run_until(lambda: cluster.everyone_has(tx))
    assert cluster[3].fetches and cluster[3].fetches[0].from_height == 1
    assert cluster.heights() == [21, 21, 21, 21]
    for height in range(1, 22):
        assert len(cluster.blocks_at(height)) == 1
    # r3 is a full participant again: its own prepare for the next block is sent.
    tx = cluster.submit(3)
    cluster.run_until(lambda: cluster.everyone_has(tx))
    assert cluster[3].up.committed_height == 22


def test_fetched_blocks_with_a_forged_certificate_are_refused() -> None:
    """A certificate signed by fewer than 2f+1 validators proves nothing: the core refuses
    the block and asks again, whoever served it."""
    cluster = Cluster(auto_fetch=False)
    cluster.isolate(3)
    cluster.commit_blocks(4)
    cluster.heal()
    cluster.submit(0)
    cluster.run_until(lambda: bool(cluster[3].fetches))
    request = cluster[3].fetches[0]
    assert isinstance(request, FetchBlocks) and request.from_height == 1
    block, certificate = cluster[0].store.blocks[0]
    forged = CommitCertificate.sign(
        [validator_key(2)], certificate.chain_id, certificate.view, 1, block.block_hash
    )
    cluster.step(3, BlocksFetched(((block, forged),)))
    assert cluster[3].store.height == 0
    assert any("fetched block refused" in reason for reason in cluster[3].up.stats.dropped)
    # A block from another height under a genuine certificate is refused too.
    other_block, _ = cluster[0].store.blocks[1]
    cluster.step(3, BlocksFetched(((other_block, certificate),)))
    assert cluster[3].store.height == 0
    # The genuine chain is accepted.
    cluster.step(3, BlocksFetched(tuple(cluster[0].store.blocks)))
    assert cluster[3].store.height >= 4
