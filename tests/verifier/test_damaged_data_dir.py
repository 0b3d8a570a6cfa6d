"""A damaged copy of a data directory is refused, never verified as a shorter chain.

Issue 10: one flipped byte in LevelDB's log made it drop records silently, and
`votechain verify --data` then said "everything checks" for 0, 1 or 2 blocks where the
node had 3. Now the store opens LevelDB with paranoid checks and verifies block
checksums on every read: each flipped byte in the log, the tables, the manifest or
CURRENT either leaves the chain verifying in full or makes verification fail.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import votingcontract
from bench.chaingen import ChainSpec, GeneratedChain
from chain.block import Block
from chain.certificate import CommitCertificate
from chain.errors import StoreError
from chain.store import ChainStore
from verifier.errors import VerificationFailure
from verifier.replay import verify_chain
from verifier.sources import DataDirSource, RawBlock

OFFSETS_PER_FILE = 24
"""Bytes flipped per file, spread over it (seeded, so every run tries the same ones)."""
SPEC = ChainSpec(ballots=120, polls=2, block_txs=10, chain_id="votechain-damage")


def write_store(folder: Path, chain: GeneratedChain, heights: range) -> None:
    """Execute and append the generated blocks of `heights`, as a node does."""
    with ChainStore(folder) as store:
        store.initialize(chain.genesis(), votingcontract.genesis_writes(chain.genesis()))
        blocks = {raw.height: raw for raw in chain.blocks()}
        for height in heights:
            raw = blocks[height]
            block = Block.decode(raw.block)
            context = votingcontract.BlockContext(
                store.genesis.chain_id, height, block.header.timestamp_ms
            )
            receipts, writes = votingcontract.execute_block(store, context, block.transactions)
            encoded = [r.encode() for r in receipts]
            assert encoded == raw.receipts
            certificate = CommitCertificate.decode(raw.certificate)
            store.append_block(block, certificate, encoded, writes)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A node's chain directory with both LevelDB tables and a live log."""
    folder = tmp_path_factory.mktemp("damage") / "chain"
    chain = GeneratedChain(SPEC)
    head = sum(1 for _ in GeneratedChain(SPEC).blocks())
    # Two sessions: reopening turns the first session's log into a table file.
    write_store(folder, chain, range(1, head - 3))
    write_store(folder, GeneratedChain(SPEC), range(head - 3, head + 1))
    names = {p.suffix for p in folder.iterdir()}
    assert {".ldb", ".log"} <= names, names
    return folder, head


def damaged_copies(source: Path, into: Path) -> Iterator[tuple[str, int, Path]]:
    rng = random.Random(20261201)
    for file in sorted(source.iterdir()):
        if file.name == "LOCK" or file.name.startswith("LOG"):
            continue  # the lock file and LevelDB's own text log hold no data
        size = file.stat().st_size
        for offset in sorted(rng.sample(range(size), min(size, OFFSETS_PER_FILE))):
            copy = into / f"{file.name}-{offset}"
            shutil.copytree(source, copy)
            data = bytearray((copy / file.name).read_bytes())
            data[offset] ^= 0x10
            (copy / file.name).write_bytes(bytes(data))
            yield file.name, offset, copy


def test_the_undamaged_directory_verifies_in_full(data_dir: tuple[Path, int]) -> None:
    folder, head = data_dir
    source = DataDirSource(folder)
    try:
        assert verify_chain(source).blocks == head
    finally:
        source.close()


def test_every_flipped_byte_is_verified_in_full_or_refused_never_accepted_short(
    data_dir: tuple[Path, int], tmp_path: Path
) -> None:
    folder, head = data_dir
    outcomes: dict[str, int] = {"full": 0, "refused": 0}
    for name, offset, copy in damaged_copies(folder, tmp_path):
        try:
            source = DataDirSource(copy)
        except VerificationFailure:
            outcomes["refused"] += 1
            continue
        try:
            report = verify_chain(source)
        except (VerificationFailure, StoreError):
            outcomes["refused"] += 1
            continue
        finally:
            source.close()
        assert report.blocks == head, f"{name} byte {offset}: verified {report.blocks} of {head}"
        outcomes["full"] += 1
    assert outcomes["refused"] > 0, outcomes


def test_a_node_store_on_a_damaged_log_refuses_to_open(
    data_dir: tuple[Path, int], tmp_path: Path
) -> None:
    folder, _ = data_dir
    copy = tmp_path / "chain"
    shutil.copytree(folder, copy)
    log = next(copy.glob("*.log"))
    data = bytearray(log.read_bytes())
    data[len(data) // 2] ^= 0x10
    log.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged"):
        ChainStore(copy, create=False)


class EndsEarly(DataDirSource):
    """A source whose blocks stop before the head it records (a damaged or lying copy)."""

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        for raw in super().blocks(start):
            if raw.height > 3:
                return
            yield raw


def test_a_source_that_ends_before_its_recorded_head_fails_at_the_first_missing_block(
    data_dir: tuple[Path, int],
) -> None:
    folder, head = data_dir
    source = EndsEarly(folder)
    try:
        with pytest.raises(VerificationFailure) as failure:
            verify_chain(source)
    finally:
        source.close()
    assert failure.value.height == 4 and failure.value.rule == 1
    assert f"records head {head}" in str(failure.value)
