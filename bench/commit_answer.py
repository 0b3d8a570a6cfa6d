"""What one `POST /v1/tx?wait=commit` answer costs the node, by block size (issue 13).

    python -m bench.commit_answer                     # 70- and 500-ballot blocks
    python -m bench.commit_answer --block-txs 70,500,2000 --answers 300

For each block size it writes a small chain (bench.chaingen: enrolments, then ballot
blocks of that size) into a fresh ChainStore through the node's ChainApplication, and
times the document the node answers a committed transaction with
(node.views.committed_tx) for positions spread over one ballot block whose next block
exists (so every answer carries its receipt proof too), two ways:

- store: everything read and decoded from LevelDB, proofs hashed from the items (what
  every answer cost before issue 13, and what GET /v1/tx/{id} still costs for a block
  no longer in the node's cache);
- cache: what the node does now: the block's proofs levels and documents built once
  when it is delivered (node.views.DeliveredBlocks), each answer read from them.

The once-per-block work is timed too ("cache build": the documents made on delivery,
the Merkle levels of the tx_ids, which a replica already built when it checked the
block's tx_root, and of the receipts, built for the first receipt proof). Figures are
CPU time per call (time.process_time), printed as a table; nothing is written.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.chaingen import ChainSpec, GeneratedChain
from chain.block import Block
from chain.certificate import CommitCertificate
from chain.store import ChainStore
from node import views
from node.app import ChainApplication
from votingcontract import genesis_writes

DEFAULT_BLOCK_TXS = (70, 500)
DEFAULT_ANSWERS = 200
"""Answers timed per block size and way (positions cycle through the block)."""
BUILDS = 20
"""Cache entries built (from fresh block objects) to time the once-per-block work."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--block-txs", default=",".join(map(str, DEFAULT_BLOCK_TXS)))
    parser.add_argument("--answers", type=int, default=DEFAULT_ANSWERS)
    args = parser.parse_args()
    print("| ballots per block | store: ms per answer | cache: ms per answer | cache build ms |")
    print("|---:|---:|---:|---:|")
    for block_txs in (int(n) for n in args.block_txs.split(",")):
        row = measure(block_txs, args.answers)
        print(
            f"| {block_txs} | {row['store_ms']:.3f} | {row['cache_ms']:.3f} "
            f"| {row['build_ms']:.2f} |",
            flush=True,
        )


def measure(block_txs: int, answers: int) -> dict[str, float]:
    """CPU ms per committed_tx answer from the store and from the cache, and per build."""
    with tempfile.TemporaryDirectory(prefix="commit-answer-") as folder:
        store, delivered, height = _load_chain(Path(folder), block_txs)
        try:
            count = len(store.get_block(height).transactions)
            positions = [(i * 7919) % count for i in range(answers)]
            store_ms = _cpu_ms_per_call(
                positions, lambda p: views.committed_tx(store, height, p, None)
            )
            cache_ms = _cpu_ms_per_call(
                positions, lambda p: views.committed_tx(store, height, p, None, delivered)
            )
            # Fresh blocks, so the tx_ids and their levels are computed inside the timing.
            blocks = [store.get_block(height) for _ in range(BUILDS)]
            certificate, receipts = store.get_certificate(height), store.get_receipts(height)
            build_ms = _cpu_ms_per_call(blocks, lambda b: _build(b, certificate, receipts))
        finally:
            store.close()
    return {"store_ms": store_ms, "cache_ms": cache_ms, "build_ms": build_ms}


def _load_chain(folder: Path, block_txs: int) -> tuple[ChainStore, views.DeliveredBlocks, int]:
    """A store holding two ballot blocks of `block_txs` after the set-up blocks; the
    cache filled as the node fills it on delivery; the height of the first ballot block."""
    chain = GeneratedChain(ChainSpec(ballots=2 * block_txs, polls=4, block_txs=block_txs))
    store = ChainStore(folder / "chain")
    store.initialize(chain.genesis(), genesis_writes(chain.genesis()))
    app = ChainApplication(store, chain.validator_keys[0].public_key)
    delivered = views.DeliveredBlocks(views.DELIVERED_BLOCKS_KEPT)
    first_ballot_block = 0
    for raw in chain.blocks():
        block = Block.decode(raw.block)
        certificate = CommitCertificate.decode(raw.certificate)
        receipts = app.commit(block, certificate)
        delivered.add(block, certificate, [r.encode() for r in receipts])
        if not first_ballot_block and block.transactions[0].kind == "cast_ballot":
            first_ballot_block = block.height
    return store, delivered, first_ballot_block


def _build(block: Block, certificate: CommitCertificate, receipts: list[bytes]) -> None:
    """All the once-per-block work: the documents on delivery, the tx levels (on a
    replica already built by the tx_root check), the receipt levels (first proof)."""
    entry = views.DeliveredBlocks(2).add(block, certificate, receipts)
    _ = entry.block.tx_levels, entry.receipt_levels


def _cpu_ms_per_call(arguments: Any, call: Callable[[Any], object]) -> float:
    items = list(arguments)
    call(items[0])  # warm caches (imports, key objects) outside the timing
    started = time.process_time()
    for item in items:
        call(item)
    return (time.process_time() - started) * 1000 / len(items)


if __name__ == "__main__":
    main()
