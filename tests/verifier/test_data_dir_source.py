"""`votechain verify --data DIR`: what the auditor is told when the copied chain directory
lacks a record or cannot be opened (PROTOCOL.md 14.1: a stored block without its
certificate is rule 1 at its height; stored receipts that do not decode, rule 11).

Issue 12: mutation testing found these reports free to lose their height, rule or
words, and the missing-record check free to need both records missing.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import plyvel
import pytest

from chain.errors import VotechainError
from chain.store import ChainStore
from tests.verifier.cluster_chain import ClusterChain
from verifier.errors import VerificationFailure
from verifier.export import write_export
from verifier.replay import verify_chain
from verifier.sources import DataDirSource

HEIGHT = 3


def _copy(cluster_chain: ClusterChain, into: Path) -> Path:
    copy = into / "chain"
    shutil.copytree(cluster_chain.chain_dir, copy, ignore=shutil.ignore_patterns("LOCK"))
    return copy


def _store_error(folder: Path, height: int) -> str:
    """What the chain store itself says of block `height`'s receipts (the reason a
    failure must pass on word for word)."""
    store = ChainStore(folder, create=False)
    try:
        with pytest.raises(VotechainError) as caught:
            store.get_receipts(height)
    finally:
        store.close()
    return str(caught.value)


def _edit(
    folder: Path, delete: bytes | None = None, put: tuple[bytes, bytes] | None = None
) -> None:
    db = plyvel.DB(str(folder))
    try:
        if delete is not None:
            db.delete(delete)
        if put is not None:
            db.put(*put)
    finally:
        db.close()


def _key(prefix: bytes, height: int) -> bytes:
    return prefix + struct.pack(">Q", height)


def _first_failure(folder: Path) -> tuple[VerificationFailure, list[int]]:
    """The failure reading every block of `folder`, and the heights read before it."""
    source = DataDirSource(folder)
    read: list[int] = []
    try:
        with pytest.raises(VerificationFailure) as caught:
            for raw in source.blocks():
                read.append(raw.height)
    finally:
        source.close()
    return caught.value, read


@pytest.mark.parametrize(("prefix", "what"), [(b"block/", "block"), (b"cert/", "certificate")])
def test_a_stored_block_missing_a_record_fails_rule_1_at_its_height(
    cluster_chain: ClusterChain, tmp_path: Path, prefix: bytes, what: str
) -> None:
    folder = _copy(cluster_chain, tmp_path)
    _edit(folder, delete=_key(prefix, HEIGHT))
    failure, read = _first_failure(folder)
    assert (failure.height, failure.subject, failure.reason, failure.rule) == (
        HEIGHT,
        f"stored block {HEIGHT}",
        f"has no {what}",
        1,
    )
    assert read == list(range(1, HEIGHT))


def test_stored_receipts_that_do_not_decode_fail_rule_11_at_their_height(
    cluster_chain: ClusterChain, tmp_path: Path
) -> None:
    """The source hands the block on with why its receipts are unreadable, so the replay
    checks the block's own rules first (a changed block makes its receipts unreadable
    too: they are stored without what the block holds) and reports rule 11 after them."""
    folder = _copy(cluster_chain, tmp_path)
    _edit(folder, put=(_key(b"rcpt/", HEIGHT), b"\x01\xc1"))  # kept whole (storelayout)
    source = DataDirSource(folder)
    try:
        raws = {raw.height: raw for raw in source.blocks() if raw.height <= HEIGHT}
        with pytest.raises(VerificationFailure) as caught:
            verify_chain(source)
    finally:
        source.close()
    assert [h for h, raw in raws.items() if raw.receipts_unreadable] == [HEIGHT]
    assert raws[HEIGHT].receipts == []
    failure = caught.value
    assert (failure.height, failure.subject, failure.rule) == (
        HEIGHT,
        f"stored receipts of block {HEIGHT}",
        11,
    )
    assert failure.reason == f"do not decode: {_store_error(folder, HEIGHT)}"


def test_an_export_of_a_directory_with_unreadable_receipts_stops_naming_the_block(
    cluster_chain: ClusterChain, tmp_path: Path
) -> None:
    """Never an export file with the receipts left out: write_export stops as reading
    the directory used to, and leaves no file."""
    folder = _copy(cluster_chain, tmp_path)
    _edit(folder, put=(_key(b"rcpt/", HEIGHT), b"\x01\xc1"))
    source = DataDirSource(folder)
    out = tmp_path / "chain.export"
    try:
        with pytest.raises(VerificationFailure) as caught:
            write_export(source, out)
    finally:
        source.close()
    failure = caught.value
    assert (failure.height, failure.subject, failure.rule) == (
        HEIGHT,
        f"stored receipts of block {HEIGHT}",
        11,
    )
    assert failure.reason == f"do not decode: {_store_error(folder, HEIGHT)}"
    assert not out.exists() and not (tmp_path / "chain.export.partial").exists()


def test_a_directory_leveldb_cannot_open_is_refused_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "chain"
    folder.mkdir()
    (folder / "CURRENT").write_text("MANIFEST-000009\n")  # names a manifest that is not there
    with pytest.raises(VerificationFailure) as caught:
        DataDirSource(tmp_path)  # the node's folder holding chain/
    failure = caught.value
    assert (failure.height, failure.subject, failure.rule) == (None, str(folder), None)
    assert failure.reason.startswith("cannot be read: ")
    assert "MANIFEST-000009" in failure.reason


def test_the_original_directory_is_left_as_it_was(
    cluster_chain: ClusterChain, tmp_path: Path
) -> None:
    folder = _copy(cluster_chain, tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    source = DataDirSource(folder)
    assert sum(1 for _ in source.blocks()) == cluster_chain.head
    source.close()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
