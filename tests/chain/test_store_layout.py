"""ChainStore's layout 2 (chain/store.py, chain/storelayout.py): what is appended reads
back, the short tx index finds every transaction and only those, and a layout 1 store
(receipts/ and tx/ records) opens rewritten, also after a rewrite cut short."""

from __future__ import annotations

import struct
from pathlib import Path

import plyvel
import pytest

from chain import encoding, storelayout
from chain.errors import StoreError
from chain.store import LAYOUT, ChainStore
from tests.chain.chain_fixtures import (
    BlockBundle,
    append_blocks,
    genesis_writes,
    make_genesis,
)

GENESIS = make_genesis(4)
BLOCKS = 6


def store_with_blocks(path: Path, blocks: int = BLOCKS) -> list[BlockBundle]:
    with ChainStore(path) as store:
        store.initialize(GENESIS, genesis_writes())
        return append_blocks(store, blocks)


def _keys(path: Path) -> list[bytes]:
    db = plyvel.DB(str(path))
    try:
        return [key for key, _ in db.iterator()]
    finally:
        db.close()


def _check_reads(store: ChainStore, bundles: list[BlockBundle]) -> None:
    """Everything appended reads back as appended, and the index finds every tx."""
    assert store.get_receipts(0) == []
    assert store.get_receipts_bytes(0) == encoding.encode([])
    for height, bundle in enumerate(bundles, start=1):
        assert store.get_receipts(height) == list(bundle.receipts)
        assert store.get_receipts_bytes(height) == encoding.encode(list(bundle.receipts))
        for position, tx in enumerate(bundle.block.transactions):
            assert store.locate_tx(tx.tx_id) == (height, position)
            assert store.tx_ids_with_prefix(tx.tx_id.hex()[:20], 5) == [tx.tx_id]


def test_an_appended_block_reads_back_and_the_index_finds_its_transactions(
    tmp_path: Path,
) -> None:
    bundles = store_with_blocks(tmp_path / "chain")
    with ChainStore(tmp_path / "chain", create=False) as store:
        assert store.migrated_from is None
        _check_reads(store, bundles)
        assert store.locate_tx(b"\x55" * 32) is None
    keys = _keys(tmp_path / "chain")
    assert b"meta/layout" in keys
    assert not [k for k in keys if k.startswith((b"tx/", b"receipts/"))]
    tx_count = sum(len(b.block.transactions) for b in bundles)
    assert len([k for k in keys if k.startswith(b"txi/")]) == tx_count
    assert {len(k) for k in keys if k.startswith(b"txi/")} == {4 + storelayout.TX_KEY_BYTES}


def test_a_tx_id_sharing_a_committed_ones_index_key_is_not_taken_for_it(
    tmp_path: Path,
) -> None:
    bundles = store_with_blocks(tmp_path / "chain", blocks=1)
    stranger = bundles[0].block.transactions[0].tx_id[:8] + b"\x00" * 24
    with ChainStore(tmp_path / "chain", create=False) as store:
        assert store.locate_tx(stranger) is None  # confirmed by the tx's bytes, not 8 bytes


def test_transactions_sharing_an_index_key_are_all_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a 1-byte index key, 18 transactions must share keys (by chance at 8 bytes
    about once in 2^64 / n^2): each later one goes under txf/ and is still found."""
    monkeypatch.setattr(storelayout, "TX_KEY_BYTES", 1)
    bundles = store_with_blocks(tmp_path / "chain")
    keys = _keys(tmp_path / "chain")
    shared = [k for k in keys if k.startswith(b"txf/")]
    assert shared, "the test needs transactions that share an index key"
    with ChainStore(tmp_path / "chain", create=False) as store:
        _check_reads(store, bundles)
        for tx_id in (k[len(b"txf/") :] for k in shared):
            assert store.tx_ids_with_prefix(tx_id.hex()[:2], 100).count(tx_id) == 1
        everything = sorted(tx.tx_id for b in bundles for tx in b.block.transactions)
        assert store.tx_ids_with_prefix("", 1_000) == everything
        assert store.tx_ids_with_prefix("", 4) == everything[:4]


# --- layout 1 -------------------------------------------------------------------------


def _h8(height: int) -> bytes:
    return struct.pack(">Q", height)


def make_layout_1(path: Path, bundles: list[BlockBundle]) -> None:
    """Turn a layout 2 store into the layout 1 records a store of before wrote."""
    db = plyvel.DB(str(path))
    try:
        with db.write_batch(sync=True) as batch:
            for key, _ in db.iterator():
                if key.startswith((b"rcpt/", b"txi/", b"txf/", b"meta/layout")):
                    batch.delete(key)
            batch.put(b"receipts/" + _h8(0), encoding.encode([]))
            for height, bundle in enumerate(bundles, start=1):
                batch.put(b"receipts/" + _h8(height), encoding.encode(list(bundle.receipts)))
                for position, tx in enumerate(bundle.block.transactions):
                    batch.put(b"tx/" + tx.tx_id, _h8(height) + struct.pack(">I", position))
    finally:
        db.close()


def test_a_layout_1_store_opens_rewritten_to_layout_2(tmp_path: Path) -> None:
    path = tmp_path / "chain"
    bundles = store_with_blocks(path)
    make_layout_1(path, bundles)
    with ChainStore(path, create=False) as store:
        assert store.migrated_from == 1
        _check_reads(store, bundles)
        append_blocks(store, 1)  # and the chain goes on
    keys = _keys(path)
    assert not [k for k in keys if k.startswith((b"tx/", b"receipts/"))]
    with ChainStore(path, create=False) as store:
        assert store.migrated_from is None and store.head_height == BLOCKS + 1


def test_a_rewrite_killed_before_its_end_is_done_again_at_the_next_open(tmp_path: Path) -> None:
    """Killed before meta/layout was written: the new records of that run are there,
    some for the wrong transactions even (another run's); the next open starts afresh."""
    path = tmp_path / "chain"
    bundles = store_with_blocks(path)
    make_layout_1(path, bundles)
    db = plyvel.DB(str(path))
    first = bundles[0].block.transactions[0].tx_id
    db.put(b"txi/" + first[:8], storelayout.TxLocation(2, 0, 5, 9).pack())  # a stale entry
    db.put(b"rcpt/" + _h8(1), b"\x07")
    db.close()
    with ChainStore(path, create=False) as store:
        assert store.migrated_from == 1
        _check_reads(store, bundles)


def test_a_rewrite_killed_while_deleting_the_old_records_finishes_them(tmp_path: Path) -> None:
    path = tmp_path / "chain"
    bundles = store_with_blocks(path)
    db = plyvel.DB(str(path))
    db.put(b"tx/" + b"\x01" * 32, _h8(1) + struct.pack(">I", 0))
    db.put(b"receipts/" + _h8(1), b"left over")
    db.close()
    with ChainStore(path, create=False) as store:
        assert store.migrated_from is None
        _check_reads(store, bundles)
    assert not [k for k in _keys(path) if k.startswith((b"tx/", b"receipts/"))]


def test_damaged_layout_1_receipts_are_kept_as_they_were_for_a_verifier_to_find(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chain"
    bundles = store_with_blocks(path)
    make_layout_1(path, bundles)
    other = encoding.encode([b"\x09" * 32, 0, "accepted", None])
    wrong = [other, *bundles[1].receipts[1:]]
    db = plyvel.DB(str(path))
    db.put(b"receipts/" + _h8(2), encoding.encode(wrong))
    db.close()
    with ChainStore(path, create=False) as store:
        assert store.get_receipts(2) == wrong


def test_a_store_of_a_later_layout_is_refused_naming_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "chain"
    store_with_blocks(path, blocks=1)
    db = plyvel.DB(str(path))
    db.put(b"meta/layout", encoding.encode(LAYOUT + 1))
    db.close()
    with pytest.raises(StoreError) as refused:
        ChainStore(path, create=False)
    assert str(refused.value) == (
        f"the chain store at {path} has layout {LAYOUT + 1}; this votechain reads layout "
        f"{LAYOUT} (and rewrites layout 1): run the votechain release that wrote it, or "
        "export the chain with it and import it here"
    )
