"""ChainStore (chain/store.py): what it keeps, what it refuses, and what survives a reopen."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain.block import Block, make_header
from chain.certificate import CommitCertificate
from chain.errors import StoreError
from chain.state import ZERO_HASH, OverlayState, next_app_hash
from chain.store import ChainStore
from tests.chain.chain_fixtures import (
    COUNTER_KEY,
    SCRATCH_KEY,
    BlockBundle,
    ChainTip,
    append_blocks,
    block_key,
    build_chain,
    genesis_writes,
    make_genesis,
    next_bundle_for_store,
    pack_u64,
    validator_keys,
)

GENESIS = make_genesis(4)
KEYS = validator_keys(4)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ChainStore]:
    with ChainStore(tmp_path / "data") as opened:
        opened.initialize(GENESIS, genesis_writes())
        yield opened


def with_header(bundle: BlockBundle, **changes: object) -> BlockBundle:
    """`bundle` with header fields changed and a certificate re-signed for the new hash."""
    header = dataclasses.replace(bundle.block.header, **changes)  # type: ignore[arg-type]
    block = Block(header, bundle.block.transactions)
    certificate = CommitCertificate.sign(KEYS, header.chain_id, 0, header.height, block.block_hash)
    return BlockBundle(block, certificate, bundle.receipts, bundle.writes)


# --- initialize ------------------------------------------------------------------------


def test_a_new_store_is_empty_until_initialized(tmp_path: Path) -> None:
    with ChainStore(tmp_path / "data") as empty:
        assert not empty.initialized
        assert empty.head_height == -1
        with pytest.raises(StoreError, match="no genesis"):
            _ = empty.genesis


def test_initialize_stores_genesis_and_its_state(store: ChainStore) -> None:
    assert store.initialized and store.head_height == 0
    assert store.genesis == GENESIS
    assert store.block_hash(0) == GENESIS.genesis_hash
    assert store.app_hash(0) == next_app_hash(ZERO_HASH, genesis_writes())
    assert store.get_receipts(0) == [] and store.receipts_root(0) == ZERO_HASH
    assert store.get(COUNTER_KEY) == pack_u64(0)


def test_initialize_is_idempotent_for_the_same_genesis(store: ChainStore) -> None:
    append_blocks(store, 2)
    app_hash_0 = store.app_hash(0)
    assert store.initialize(GENESIS, genesis_writes()) == app_hash_0
    assert store.head_height == 2
    assert store.get(COUNTER_KEY) == pack_u64(2), "genesis writes are not applied again"


def test_initialize_refuses_a_different_genesis(store: ChainStore) -> None:
    other = make_genesis(5)
    with pytest.raises(StoreError, match="holds chain 'test-chain'") as info:
        store.initialize(other, genesis_writes())
    assert other.genesis_hash.hex()[:16] in str(info.value)
    assert store.genesis == GENESIS


def test_opening_a_missing_store_without_create_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open"):
        ChainStore(tmp_path / "nowhere", create=False)


# --- append_block and reads ------------------------------------------------------------


def test_appended_blocks_are_readable_by_height_hash_and_tx(store: ChainStore) -> None:
    bundles = append_blocks(store, 3)
    assert store.head_height == 3
    tip = ChainTip.from_genesis(GENESIS)
    for bundle in bundles:
        height = bundle.block.height
        tip = tip.advance(bundle)
        assert store.get_block(height) == bundle.block
        assert store.get_block_bytes(height) == bundle.block.encode()
        assert store.get_certificate(height) == bundle.certificate
        assert store.get_receipts(height) == list(bundle.receipts)
        assert store.app_hash(height) == tip.app_hash
        assert store.receipts_root(height) == tip.receipts_root
        assert store.block_hash(height) == bundle.block.block_hash
        assert store.height_of(bundle.block.block_hash) == height
        for position, tx in enumerate(bundle.block.transactions):
            assert store.locate_tx(tx.tx_id) == (height, position)
    assert [b.height for b in store.iter_blocks()] == [1, 2, 3]
    assert [b.height for b in store.iter_blocks(2, 9)] == [2, 3]


def test_app_hash_returned_by_append_is_the_stored_one(store: ChainStore) -> None:
    bundle = next_bundle_for_store(store)
    assert store.append_block(*bundle.append_args()) == store.app_hash(1)


def test_unknown_heights_hashes_and_txs_are_absent(store: ChainStore) -> None:
    append_blocks(store, 1)
    assert store.height_of(bytes(32)) is None
    assert store.locate_tx(bytes(32)) is None
    assert store.get_block_bytes(2) is None
    with pytest.raises(StoreError, match="block 2 is not in the store"):
        store.get_block(2)
    with pytest.raises(StoreError, match="certificate 5"):
        store.get_certificate(5)


def test_state_after_each_block_is_the_head_state(store: ChainStore) -> None:
    append_blocks(store, 3)
    assert store.get(COUNTER_KEY) == pack_u64(3)
    assert store.get(SCRATCH_KEY) == pack_u64(3)
    assert [k for k, _ in store.items(b"block-seen/")] == [block_key(h) for h in (1, 2, 3)]
    append_blocks(store, 1)
    assert store.get(SCRATCH_KEY) is None, "the delete in block 4 is applied"


def test_the_store_is_a_state_view_for_overlays(store: ChainStore) -> None:
    append_blocks(store, 1)
    overlay = OverlayState(store)
    overlay.set(block_key(9), b"pending")
    assert overlay.get(COUNTER_KEY) == pack_u64(1)
    assert [k for k, _ in overlay.items(b"block-seen/")] == [block_key(1), block_key(9)]
    assert store.get(block_key(9)) is None


def test_everything_is_there_after_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "data"
    with ChainStore(path) as first:
        first.initialize(GENESIS, genesis_writes())
        bundles = append_blocks(first, 4)
        first.put_local(b"vote/4", b"committed")
        state = dict(first.items(b""))
    with ChainStore(path, create=False) as reopened:
        assert reopened.genesis == GENESIS
        assert reopened.head_height == 4
        assert dict(reopened.items(b"")) == state
        assert reopened.get_local(b"vote/4") == b"committed"
        for bundle in bundles:
            assert reopened.get_block(bundle.block.height) == bundle.block
            assert reopened.height_of(bundle.block.block_hash) == bundle.block.height
        following = next_bundle_for_store(reopened)
        reopened.append_block(*following.append_args())
        assert reopened.head_height == 5


# --- refusals: each leaves the store exactly as it was ---------------------------------


def snapshot(store: ChainStore) -> dict[str, object]:
    return {
        "head": store.head_height,
        "state": dict(store.items(b"")),
        "blocks": [store.get_block_bytes(h) for h in range(1, store.head_height + 3)],
    }


def assert_refused_and_untouched(
    store: ChainStore, bundle: BlockBundle, message: str, receipts: list[bytes] | None = None
) -> None:
    before = snapshot(store)
    block, certificate, good_receipts, writes = bundle.append_args()
    with pytest.raises(StoreError, match=message):
        store.append_block(
            block, certificate, good_receipts if receipts is None else receipts, writes
        )
    assert snapshot(store) == before
    if store.get_block_bytes(block.height) != block.encode():
        assert store.height_of(block.block_hash) is None
        for tx in block.transactions:
            assert store.locate_tx(tx.tx_id) is None


@pytest.fixture
def two_blocks(store: ChainStore) -> ChainStore:
    append_blocks(store, 2)
    return store


def test_a_block_that_skips_a_height_is_refused(two_blocks: ChainStore) -> None:
    skipping = build_chain(GENESIS, 4)[3]
    assert_refused_and_untouched(two_blocks, skipping, "cannot append block 4: the head is 2")


def test_the_same_block_appended_again_is_refused(two_blocks: ChainStore) -> None:
    again = build_chain(GENESIS, 2)[1]
    assert_refused_and_untouched(two_blocks, again, "cannot append block 2: the head is 2")


def test_a_block_not_linked_to_the_head_is_refused(two_blocks: ChainStore) -> None:
    unlinked = with_header(next_bundle_for_store(two_blocks), prev_hash=bytes(32))
    assert_refused_and_untouched(two_blocks, unlinked, "does not link to block 2")


def test_a_block_with_a_wrong_prev_app_hash_is_refused(two_blocks: ChainStore) -> None:
    wrong = with_header(next_bundle_for_store(two_blocks), prev_app_hash=two_blocks.app_hash(1))
    assert_refused_and_untouched(two_blocks, wrong, "wrong app hash for block 2")


def test_a_block_with_a_wrong_prev_receipts_root_is_refused(two_blocks: ChainStore) -> None:
    wrong = with_header(next_bundle_for_store(two_blocks), prev_receipts_root=ZERO_HASH)
    assert_refused_and_untouched(two_blocks, wrong, "wrong receipts root for 2")


def test_a_block_of_another_chain_is_refused(two_blocks: ChainStore) -> None:
    foreign = with_header(next_bundle_for_store(two_blocks), chain_id="another-city")
    assert_refused_and_untouched(two_blocks, foreign, "is for chain 'another-city'")


@pytest.mark.parametrize("mismatch", ["height", "block_hash"])
def test_a_certificate_for_another_block_is_refused(two_blocks: ChainStore, mismatch: str) -> None:
    bundle = next_bundle_for_store(two_blocks)
    block = bundle.block
    height = block.height + 1 if mismatch == "height" else block.height
    block_hash = bytes(32) if mismatch == "block_hash" else block.block_hash
    certificate = CommitCertificate.sign(KEYS, block.header.chain_id, 0, height, block_hash)
    wrong = dataclasses.replace(bundle, certificate=certificate)
    assert_refused_and_untouched(two_blocks, wrong, "certificate given is not for block 3")


@pytest.mark.parametrize("receipt_count", [0, 2, 4])
def test_a_receipt_count_other_than_the_tx_count_is_refused(
    two_blocks: ChainStore, receipt_count: int
) -> None:
    bundle = next_bundle_for_store(two_blocks)
    receipts = [b"\xc0"] * receipt_count
    assert_refused_and_untouched(
        two_blocks, bundle, f"has 3 transactions but {receipt_count} receipts", receipts
    )


def test_an_empty_block_with_no_receipts_is_accepted(two_blocks: ChainStore) -> None:
    tip = ChainTip.from_store(two_blocks)
    header = make_header(
        GENESIS.chain_id,
        3,
        3_000,
        tip.block_hash,
        (),
        tip.app_hash,
        tip.receipts_root,
        KEYS[0].public_key,
    )
    block = Block(header, ())
    certificate = CommitCertificate.sign(KEYS, GENESIS.chain_id, 0, 3, block.block_hash)
    app_hash = two_blocks.append_block(block, certificate, [], [])
    assert app_hash == next_app_hash(tip.app_hash, [])
    assert two_blocks.receipts_root(3) == ZERO_HASH


def test_a_refused_block_does_not_stop_the_right_one(two_blocks: ChainStore) -> None:
    bundle = next_bundle_for_store(two_blocks)
    with pytest.raises(StoreError):
        two_blocks.append_block(*with_header(bundle, prev_hash=bytes(32)).append_args())
    two_blocks.append_block(*bundle.append_args())
    assert two_blocks.head_height == 3


# --- local records ---------------------------------------------------------------------


def test_local_records_are_kept_apart_from_chain_state(store: ChainStore) -> None:
    store.put_local(b"counter", b"local value")
    assert store.get_local(b"counter") == b"local value"
    assert store.get(COUNTER_KEY) == pack_u64(0), "state/ and local/ are separate spaces"
    assert b"counter" in dict(store.items(b"")) and len(dict(store.items(b""))) == 1
    store.delete_local(b"counter")
    assert store.get_local(b"counter") is None


def test_write_local_applies_puts_and_deletes_together(store: ChainStore) -> None:
    store.write_local([(b"view/1", b"a"), (b"view/2", b"b"), (b"other", b"c")])
    store.write_local([(b"view/1", None), (b"view/3", b"d")])
    assert list(store.local_items(b"view/")) == [(b"view/2", b"b"), (b"view/3", b"d")]
    assert store.get_local(b"other") == b"c"


def test_local_records_do_not_change_the_chain(store: ChainStore) -> None:
    store.put_local(b"x", b"y", sync=False)
    (bundle,) = append_blocks(store, 1)
    assert store.app_hash(1) == ChainTip.from_genesis(GENESIS).advance(bundle).app_hash
    assert store.get(b"x") is None
