"""The answer to a committed transaction (wait=commit, GET /v1/tx/{id}) from the node's
latest delivered blocks is the document the store gives, byte for byte (issue 13).

The node keeps the Merkle levels and the header and certificate documents of the blocks
it delivers, so an answer no longer reads and hashes the whole block. A citizen keeps a
receipt from that answer: it must prove the same things as before, for every position
of every block, with and without the next block's receipt proof, and after the block
has left the cache.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chaingen import ChainSpec, GeneratedChain
from chain.block import Block
from chain.certificate import CommitCertificate
from chain.store import ChainStore
from node import views
from node.app import ChainApplication
from verifier.receipts import receipt_from_committed_tx, verify_receipt
from votingcontract import genesis_writes

BLOCK_TXS = 7
"""Small, odd blocks: the Merkle trees promote a node at some level of every proof."""


@pytest.fixture
def chain() -> GeneratedChain:
    return GeneratedChain(ChainSpec(ballots=24, polls=4, block_txs=BLOCK_TXS))


@pytest.fixture
def store(tmp_path: Path, chain: GeneratedChain) -> Iterator[ChainStore]:
    with ChainStore(tmp_path / "chain") as opened:
        opened.initialize(chain.genesis(), genesis_writes(chain.genesis()))
        yield opened


def deliver_all(chain: GeneratedChain, store: ChainStore, delivered: views.DeliveredBlocks) -> None:
    """Execute and store every block, filling `delivered` as Node._deliver does."""
    app = ChainApplication(store, chain.validator_keys[0].public_key)
    for raw in chain.blocks():
        block = Block.decode(raw.block)
        certificate = CommitCertificate.decode(raw.certificate)
        receipts = app.commit(block, certificate)
        delivered.add(block, certificate, [r.encode() for r in receipts])


def every_position(store: ChainStore) -> Iterator[tuple[int, int]]:
    for height in range(1, store.head_height + 1):
        for position in range(len(store.get_block(height).transactions)):
            yield height, position


@pytest.mark.parametrize("now_ms", [None, 0])
def test_answers_from_delivered_blocks_are_the_answers_from_the_store(
    chain: GeneratedChain, store: ChainStore, now_ms: int | None
) -> None:
    delivered = views.DeliveredBlocks(kept=100)
    deliver_all(chain, store, delivered)
    assert len(delivered) == store.head_height
    for height, position in every_position(store):
        cached = views.committed_tx(store, height, position, now_ms, delivered)
        fresh = views.committed_tx(store, height, position, now_ms)
        assert json.dumps(cached) == json.dumps(fresh), (height, position)
        assert (cached["receipt_proof"] is None) == (height == store.head_height)


def test_every_answer_from_delivered_blocks_is_a_receipt_that_verifies(
    chain: GeneratedChain, store: ChainStore
) -> None:
    delivered = views.DeliveredBlocks(kept=100)
    deliver_all(chain, store, delivered)
    for height, position in every_position(store):
        answer = views.committed_tx(store, height, position, None, delivered)
        check = verify_receipt(receipt_from_committed_tx(answer, chain.genesis()))
        assert check.receipt_certified == (height < store.head_height)


def test_blocks_past_the_kept_number_are_answered_from_the_store_the_same_way(
    chain: GeneratedChain, store: ChainStore
) -> None:
    delivered = views.DeliveredBlocks(kept=2)
    deliver_all(chain, store, delivered)
    head = store.head_height
    assert len(delivered) == 2
    assert delivered.get(head - 2) is None and delivered.get(head - 1) is not None
    for height, position in every_position(store):
        answer = views.committed_tx(store, height, position, None, delivered)
        assert answer == views.committed_tx(store, height, position, None), (height, position)


def test_big_blocks_are_kept_by_transactions_but_the_newest_two_always(
    chain: GeneratedChain, store: ChainStore
) -> None:
    """Memory is bounded by transactions too (16 blocks of 10,000 would be 200 MB); the
    newest block and the one before it stay whatever their size."""
    kept_txs = 2 * BLOCK_TXS
    delivered = views.DeliveredBlocks(kept=100, kept_txs=kept_txs)
    deliver_all(chain, store, delivered)
    head = store.head_height
    sizes = {h: len(store.get_block(h).transactions) for h in range(1, head + 1)}
    expected, total = [head - 1, head], sizes[head - 1] + sizes[head]
    while expected[0] > 1 and total + sizes[expected[0] - 1] <= kept_txs:
        total += sizes[expected[0] - 1]
        expected.insert(0, expected[0] - 1)
    assert len(expected) < head - 1, "the test chain should not fit"
    assert [h for h in range(1, head + 1) if delivered.get(h) is not None] == expected

    tiny = views.DeliveredBlocks(kept=100, kept_txs=1)
    for height in range(1, head + 1):
        tiny.add(store.get_block(height), store.get_certificate(height), store.get_receipts(height))
    assert [h for h in range(1, head + 1) if tiny.get(h) is not None] == [head - 1, head]
    for height, position in every_position(store):
        answer = views.committed_tx(store, height, position, None, delivered)
        assert answer == views.committed_tx(store, height, position, None)


def test_a_kept_block_whose_next_block_is_not_kept_takes_the_next_header_from_the_store(
    chain: GeneratedChain, store: ChainStore
) -> None:
    deliver_all(chain, store, views.DeliveredBlocks())
    height = store.head_height - 1
    only = views.DeliveredBlocks()
    receipts = store.get_receipts(height)
    only.add(store.get_block(height), store.get_certificate(height), receipts)
    for position in range(len(receipts)):
        answer = views.committed_tx(store, height, position, None, only)
        assert answer["receipt_proof"] is not None
        assert answer == views.committed_tx(store, height, position, None)


def test_changing_an_answer_does_not_change_the_next_one(
    chain: GeneratedChain, store: ChainStore
) -> None:
    """The kept documents are shared by every answer about a block: a caller that adds
    to its answer (the RPC adds "status") must not change what the next caller gets."""
    delivered = views.DeliveredBlocks()
    deliver_all(chain, store, delivered)
    height = store.head_height - 1
    first = views.committed_tx(store, height, 0, None, delivered)
    first["header"]["status"] = "changed"
    first["certificate"]["view"] = -1
    first["receipt_proof"]["next_header"]["hash"] = "00"
    again = views.committed_tx(store, height, 0, None, delivered)
    assert again == views.committed_tx(store, height, 0, None)


def test_a_cache_that_keeps_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        views.DeliveredBlocks(kept=0)
