"""Child process of test_store_crash: appends blocks until it is killed.

    python -m tests.chain.crash_writer DATA_DIR SEED

Opens (or creates) the store, initializes it with chain_fixtures.make_genesis(4), then
appends the blocks chain_fixtures.next_bundle makes, continuing from whatever head the
store has, each with a local record holding its height in the same batch. After each
append_block returns it prints the height and flushes: a printed height is one the store
acknowledged, so it must survive a SIGKILL that comes after.
"""

from __future__ import annotations

import sys

from chain.store import ChainStore
from tests.chain.chain_fixtures import (
    genesis_writes,
    make_genesis,
    next_bundle_for_store,
    pack_u64,
)

LOCAL_HEAD_KEY = b"consensus/committed"
"""The local record the child writes with each block: the block's height."""
MAX_BLOCKS_PER_RUN = 1_000_000
"""Bound on the loop; the test kills the process long before."""


def main(data_dir: str, seed: int) -> None:
    store = ChainStore(data_dir)
    store.initialize(make_genesis(4), genesis_writes())
    print(f"opened {store.head_height}", flush=True)
    for _ in range(MAX_BLOCKS_PER_RUN):
        bundle = next_bundle_for_store(store, seed)
        # A local record in the block's own batch, as the node writes its consensus
        # records with a delivery: it must be durable exactly when the block is.
        height = bundle.block.height
        store.append_block(*bundle.append_args(), [(LOCAL_HEAD_KEY, pack_u64(height))])
        print(bundle.block.height, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
