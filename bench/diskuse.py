"""Where a node's bytes on disk go: a generated chain applied to a real ChainStore.

    python -m bench.diskuse --ballots 50000            # about a minute
    python -m bench.diskuse --ballots 50000 --polls 1  # one ballot per voter, as `python -m bench`

No cluster: bench/chaingen.py builds the chain (every role played by one process), and
each block is executed and appended the way a node delivers it (node/app.py
ChainApplication.commit: votingcontract.execute_block on the store, then one synced
append_block with receipts and state writes). With --consensus-records each block is
also preceded by stand-ins, as large, of the consensus records a replica persists for it
(consensus/records.py): the slot record with the pre-prepare (the whole block), written
before the prepare, again before the commit with the prepared certificate (the block a
second time), and the committed record with the last two certificates and the slot's
deletion in the block's own batch, as node/service.py writes them. Deleted or
overwritten, the old versions stay in LevelDB's files until a compaction merges them
away, which the `written` figure shows.

Two figures of the folder (st_blocks, as bench.measure.disk_bytes and `du` count):
`written` right after the last block, as a running node leaves it (log file, level-0
tables, versions overwritten but not yet compacted), and `compacted` after LevelDB's
compact_range over the whole key space, which is what the data itself needs. Then the
key + value bytes of every live record by family (block, cert, receipts, tx index, each
state/ key space, local/...), from iterating the store, which LevelDB's snappy
compression and key prefix sharing make smaller on disk.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plyvel

import votingcontract
from bench.chaingen import ChainSpec, GeneratedChain
from bench.measure import disk_bytes
from chain.block import Block
from chain.certificate import CommitCertificate
from chain.store import ChainStore
from consensus.records import slot_key
from node.config import ConsensusSettings

KEY_SPACE_END = b"\xff" * 16
"""Above every store key (they begin with ASCII names)."""
FAMILY_DEPTH = {b"state/": 2, b"local/": 3}
"""How many '/'-separated parts name a family: state/ballot/, local/consensus/slot/;
every other key space is named by its first part (block/, tx/, meta/)."""


@dataclass(frozen=True)
class Family:
    name: str
    keys: int
    key_bytes: int
    value_bytes: int

    @property
    def total(self) -> int:
        return self.key_bytes + self.value_bytes


@dataclass(frozen=True)
class DiskUse:
    """What one chain costs on disk; per-ballot figures divide by the ballots cast."""

    ballots: int
    transactions: int
    blocks: int
    written_bytes: int
    compacted_bytes: int
    families: tuple[Family, ...]

    @property
    def logical_bytes(self) -> int:
        return sum(f.total for f in self.families)

    def per_ballot(self, value: int) -> float:
        return value / self.ballots if self.ballots else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "ballots": self.ballots,
            "transactions": self.transactions,
            "blocks": self.blocks,
            "disk_bytes_written": self.written_bytes,
            "disk_bytes_compacted": self.compacted_bytes,
            "disk_bytes_per_ballot_written": round(self.per_ballot(self.written_bytes), 1),
            "disk_bytes_per_ballot_compacted": round(self.per_ballot(self.compacted_bytes), 1),
            "logical_bytes_per_ballot": round(self.per_ballot(self.logical_bytes), 1),
            "families": {
                f.name: {
                    "keys": f.keys,
                    "key_bytes": f.key_bytes,
                    "value_bytes": f.value_bytes,
                    "bytes_per_ballot": round(self.per_ballot(f.total), 1),
                }
                for f in self.families
            },
        }


def family_of(key: bytes) -> str:
    """The family a store key belongs to: its prefix up to the depth FAMILY_DEPTH gives
    (state/ballot/, local/consensus/slot/), else its first part (block/)."""
    depth = next((d for p, d in FAMILY_DEPTH.items() if key.startswith(p)), 1)
    parts = key.split(b"/", depth)
    if len(parts) <= depth:  # a key with fewer parts (meta/head) is its own family
        return key.decode("ascii", "replace")
    return (b"/".join(parts[:depth]) + b"/").decode("ascii", "replace")


def families(items: Iterable[tuple[bytes, bytes]]) -> tuple[Family, ...]:
    """Key and value bytes summed by family, largest first."""
    sums: dict[str, list[int]] = {}
    for key, value in items:
        entry = sums.setdefault(family_of(key), [0, 0, 0])
        entry[0] += 1
        entry[1] += len(key)
        entry[2] += len(value)
    found = [Family(name, n, k, v) for name, (n, k, v) in sums.items()]
    return tuple(sorted(found, key=lambda f: (-f.total, f.name)))


def format_table(use: DiskUse) -> str:
    per = use.per_ballot
    lines = [
        f"{use.ballots} ballots, {use.transactions} transactions, {use.blocks} blocks",
        f"on disk as written:   {use.written_bytes:>12,} B  {per(use.written_bytes):7.1f} B/ballot",
        f"on disk compacted:    {use.compacted_bytes:>12,} B  "
        f"{per(use.compacted_bytes):7.1f} B/ballot",
        f"key+value, all live:  {use.logical_bytes:>12,} B  {per(use.logical_bytes):7.1f} B/ballot",
        "",
        f"{'family':<28}{'keys':>9}{'key B':>12}{'value B':>13}{'B/ballot':>10}",
    ]
    for f in use.families:
        lines.append(
            f"{f.name:<28}{f.keys:>9,}{f.key_bytes:>12,}{f.value_bytes:>13,}{per(f.total):>10.1f}"
        )
    return "\n".join(lines)


# --- I/O: build, append, compact, measure ------------------------------------------


def build_store(spec: ChainSpec, path: Path, consensus_records: bool = False) -> GeneratedChain:
    """Append the chain of `spec` to a new ChainStore at `path` as a node delivers it."""
    chain = GeneratedChain(spec)
    genesis = chain.genesis()
    with ChainStore(path) as store:
        store.initialize(genesis, votingcontract.genesis_writes(genesis))
        previous: CommitCertificate | None = None
        for raw in chain.blocks():
            block = Block.decode(raw.block)
            certificate = CommitCertificate.decode(raw.certificate)
            context = votingcontract.BlockContext(
                genesis.chain_id, block.height, block.header.timestamp_ms
            )
            receipts, writes = votingcontract.execute_block(store, context, block.transactions)
            local: list[tuple[bytes, bytes | None]] = []
            if consensus_records:
                slot_key_, _ = slot = slot_record(block.height, raw.block, 1)
                store.write_local([slot], sync=True)
                store.write_local([slot_record(block.height, raw.block, 2)], sync=True)
                local = [committed_record(previous, certificate), (slot_key_, None)]
            store.append_block(block, certificate, [r.encode() for r in receipts], writes, local)
            previous = certificate
    return chain


SLOT_ENVELOPE_BYTES = 110
"""A pre-prepare's bytes besides its block (view, height, replica, signature, array
headers), and about what a prepared certificate's prepares add."""


def slot_record(height: int, block_bytes: bytes, blocks: int) -> tuple[bytes, bytes]:
    """A stand-in of a slot record (consensus/records.py): its key, under the prefix
    node/service.py stores consensus records at, and a value as large, holding the block
    `blocks` times (1 before the prepare, 2 once prepared)."""
    window = ConsensusSettings().watermark_window
    key = b"consensus/" + slot_key(height, window)
    return key, (b"\x99" + block_bytes + b"\0" * SLOT_ENVELOPE_BYTES) * blocks


def committed_record(
    previous: CommitCertificate | None, current: CommitCertificate
) -> tuple[bytes, bytes]:
    """A stand-in of the committed record: the last two blocks' certificates."""
    value = (b"" if previous is None else previous.encode()) + current.encode()
    return b"consensus/committed", value


def measure(path: Path) -> tuple[int, int, tuple[Family, ...]]:
    """(bytes as written, bytes after a full compaction, live families) of the store."""
    written = disk_bytes(path)
    db = plyvel.DB(str(path), create_if_missing=False)
    try:
        # With no bounds plyvel 1.5's compact_range left level-0 files and deleted
        # records in place here; bounds around every key make LevelDB merge them all.
        db.compact_range(start=b"", stop=KEY_SPACE_END)
        found = families(db.iterator())
    finally:
        db.close()
    return written, disk_bytes(path), found


def disk_use(spec: ChainSpec, folder: Path, consensus_records: bool = False) -> DiskUse:
    path = folder / "chain"
    chain = build_store(spec, path, consensus_records)
    written, compacted, found = measure(path)
    return DiskUse(chain.ballots_cast, chain.transactions, chain.built, written, compacted, found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ballots", type=int, default=50_000)
    parser.add_argument("--polls", type=int, default=4, help="voters = ballots / polls")
    parser.add_argument("--block-txs", type=int, default=500)
    parser.add_argument(
        "--consensus-records",
        action="store_true",
        help="also write the consensus records a replica persists per block",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    spec = ChainSpec(args.ballots, args.polls, args.block_txs)
    with tempfile.TemporaryDirectory(prefix="votechain-diskuse-") as tmp:
        use = disk_use(spec, Path(tmp), args.consensus_records)
    print(format_table(use))
    if args.json is not None:
        figures = {"spec": vars(args) | {"json": None}, **use.to_json()}
        args.json.write_text(json.dumps(figures, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
