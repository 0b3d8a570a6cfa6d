"""The replica at its exact limits: each rule holds at the boundary, and one step past it.

Issue 12's mutation sample of consensus/ left these boundaries untested: a message at
exactly the high watermark, a request of exactly MAX_TX_BYTES, a prepared certificate at
exactly the sender's committed height, and a slot prepared by exactly 2f prepares.
"""

from __future__ import annotations

import hashlib

import pytest

from chain.block import MAX_BLOCK_TXS
from chain.tx import MAX_TX_BYTES, Transaction
from consensus import (
    Broadcast,
    Commit,
    Effect,
    InvalidMessage,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    ReplicaConfig,
    RequestBatch,
    ViewChange,
)
from consensus.messages import sign
from consensus.types import Height, ReplicaId, View
from tests.consensus.harness import Cluster, certificate_of
from tests.simulation.app import NOOP_KIND
from tests.simulation.cluster import CHAIN_ID, client_key, validator_key

ABOVE = "above the high watermark"


def _prepare(replica: int, height: int, block_hash: bytes, view: int = 0) -> Prepare:
    vote = Prepare(View(view), Height(height), block_hash, ReplicaId(replica))
    return sign(vote, validator_key(replica), CHAIN_ID)


def _commits(effects: list[Effect]) -> list[Commit]:
    return [
        e.message for e in effects if isinstance(e, Broadcast) and isinstance(e.message, Commit)
    ]


# ---- prepared: the pre-prepare and exactly 2f prepares -----------------------------------


@pytest.mark.parametrize("n", [4, 7])
def test_a_backup_commits_once_it_holds_exactly_2f_prepares_and_not_before(n: int) -> None:
    """Castro & Liskov 4.2: prepared = the pre-prepare plus 2f matching prepares from
    backups (its own counts). One short, the backup sends no commit; the 2f-th sends it."""
    cluster = Cluster(n)
    cluster.drop_if(lambda s, t, m: True)  # every vote below is handed over by the test
    cluster.submit(0)
    pre_prepare = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    f = (n - 1) // 3
    effects = cluster.inject(0, 1, pre_prepare)  # r1's own prepare is the first
    own = [e.message for e in effects if isinstance(e, Broadcast)]
    assert [(type(m), m.replica) for m in own] == [(Prepare, 1)]
    for other in range(2, 2 * f):
        effects += cluster.inject(other, 1, _prepare(other, 1, pre_prepare.block_hash))
    assert not _commits(effects), f"{2 * f - 1} prepares must not prepare the slot"
    last = 2 * f
    effects = cluster.inject(last, 1, _prepare(last, 1, pre_prepare.block_hash))
    assert [(c.height, c.block_hash) for c in _commits(effects)] == [(1, pre_prepare.block_hash)]


# ---- the high watermark ------------------------------------------------------------------


def test_a_vote_at_exactly_the_high_watermark_is_taken_and_one_above_is_held_back() -> None:
    """The window is (low, low + L] (Castro & Liskov 4.2): a prepare at low + L is filed
    in its slot; only one at low + L + 1 is dropped as above the high watermark."""
    cluster = Cluster(watermark_window=4, checkpoint_interval=2)
    backup = cluster[1].up
    high = backup._log.high
    assert high == 4
    block_hash = hashlib.sha256(b"a block at the edge of the window").digest()
    cluster.inject(2, 1, _prepare(2, high, block_hash))
    assert ABOVE not in backup.stats.dropped
    slot = backup._log.get(high)
    assert slot is not None and slot.prepares.get(ReplicaId(2)) is not None
    cluster.inject(2, 1, _prepare(2, high + 1, block_hash))
    assert backup.stats.dropped[ABOVE] == 1
    assert backup._log.get(high + 1) is None


# ---- a request of exactly MAX_TX_BYTES ---------------------------------------------------


def _transaction_of_encoded_size(size: int) -> Transaction:
    key = client_key(4)
    probe = Transaction.create(key, CHAIN_ID, NOOP_KIND, bytes(60_000), 0)
    body = size - (probe.encoded_size - 60_000)
    tx = Transaction.create(key, CHAIN_ID, NOOP_KIND, bytes(body), 0)
    assert tx.encoded_size == size
    return tx


def test_a_forwarded_request_of_exactly_max_tx_bytes_is_proposed_and_committed() -> None:
    """PROTOCOL.md 10, rule 1 allows a transaction of MAX_TX_BYTES; the primary refuses
    only larger forwarded ones (test_block_budget.py), so this one commits everywhere."""
    cluster = Cluster()
    tx = _transaction_of_encoded_size(MAX_TX_BYTES)
    batch = sign(RequestBatch(ReplicaId(1), (tx,)), validator_key(1), CHAIN_ID)
    cluster.inject(1, 0, batch)
    assert cluster[0].up.pending_count == 1
    assert "transaction over MAX_TX_BYTES" not in cluster[0].up.stats.dropped
    cluster.run_until(lambda: cluster.everyone_has(tx))
    assert cluster.heights() == [1, 1, 1, 1]


# ---- a view change's prepared certificates lie above its committed height ----------------


def _prepared_certificate(cluster: Cluster, height: int) -> PreparedCertificate:
    pre_prepare = next(
        m for m in cluster[0].sent if isinstance(m, PrePrepare) and m.height == height
    )
    prepares = tuple(
        next(m for m in cluster[i].sent if isinstance(m, Prepare) and m.height == height)
        for i in (1, 2)
    )
    return PreparedCertificate(pre_prepare, prepares)


def test_a_view_change_with_a_prepared_certificate_at_its_committed_height_is_refused() -> None:
    """PROTOCOL.md 12.5: a ViewChange reports prepared certificates above the height its
    commit certificate shows. One at exactly that height is malformed, and a replica drops
    it; one a height above is accepted."""
    cluster = Cluster()
    cluster.commit_blocks(2)
    prepared = _prepared_certificate(cluster, 2)
    _, committed_1 = certificate_of(cluster[2], 1)
    _, committed_2 = certificate_of(cluster[2], 2)

    above = ViewChange(View(1), ReplicaId(2), committed_1, (prepared,))
    above.validate_basic()

    at = sign(
        ViewChange(View(1), ReplicaId(2), committed_2, (prepared,)), validator_key(2), CHAIN_ID
    )
    with pytest.raises(
        InvalidMessage,
        match="view-change carries a prepared certificate for h=2, not above its committed "
        "height 2",
    ):
        at.validate_basic()
    receiver = cluster[1].up
    cluster.inject(2, 1, at)
    assert receiver.stats.dropped.get("malformed") == 1
    assert receiver.view == 0 and not receiver.view_changing


# ---- a node's consensus settings (cluster.toml) at their bounds --------------------------


def test_a_block_of_exactly_the_protocols_transaction_count_is_a_valid_budget() -> None:
    config = Cluster()[0].config
    exact = ReplicaConfig(CHAIN_ID, config.validators, ReplicaId(0), max_block_txs=MAX_BLOCK_TXS)
    assert exact.max_block_txs == MAX_BLOCK_TXS
    with pytest.raises(
        ValueError,
        match=rf"^max_block_txs \({MAX_BLOCK_TXS + 1}\) is over the protocol's {MAX_BLOCK_TXS}$",
    ):
        ReplicaConfig(CHAIN_ID, config.validators, ReplicaId(0), max_block_txs=MAX_BLOCK_TXS + 1)


def test_a_checkpoint_interval_of_zero_is_refused_saying_so() -> None:
    """The operator reads this when cluster.toml sets checkpoint_interval = 0."""
    config = Cluster()[0].config
    with pytest.raises(ValueError, match=r"^checkpoint_interval must be at least 1$"):
        ReplicaConfig(CHAIN_ID, config.validators, ReplicaId(0), checkpoint_interval=0)
