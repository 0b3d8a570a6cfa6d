"""Issue 11: ChainStore on a disk that fills up — a real one, a small tmpfs.

Mounting a tmpfs needs root (CAP_SYS_ADMIN); where the mount is refused the tests are
skipped, and tests/node/test_disk_fail_stop.py still covers what the node does with the
error. On a full disk LevelDB refuses the synced write with ENOSPC and from then on
refuses every write of that handle (its background error sticks); the store must turn
both into StoreWriteError, keep the block that did not fit out of the store, and reopen
whole once space is back.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain.errors import StoreWriteError
from chain.store import ChainStore
from tests.chain.chain_fixtures import genesis_writes, make_genesis, next_bundle_for_store
from tests.small_disk import fill

GENESIS = make_genesis(4)
TMPFS_BYTES = 4 * 1024 * 1024
MAX_BLOCKS_TO_FILL = 200


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_refuses_the_block_whole_and_every_write_after_it(small_disk: Path) -> None:
    path = small_disk / "chain"
    store = ChainStore(path)
    store.initialize(GENESIS, genesis_writes())
    first = next_bundle_for_store(store)
    store.append_block(*first.append_args())
    filler = fill(small_disk)
    # The log file's last page may still hold a small block; one of the next few does not fit.
    refused = None
    for _ in range(MAX_BLOCKS_TO_FILL):
        bundle = next_bundle_for_store(store)
        try:
            store.append_block(*bundle.append_args())
        except StoreWriteError as error:
            refused = (bundle, error)
            break
    assert refused is not None, "the full disk took every block"
    second, error = refused
    assert str(path) in str(error) and "No space left" in str(error)
    stored_head = store.head_height
    stored_hash = store.block_hash(stored_head)
    os.remove(filler)
    # Whether this handle takes writes again depends on where LevelDB failed (a failed
    # sync sticks, a failed append may not); the node never finds out: it has stopped.
    store.close()
    with ChainStore(path) as reopened:
        assert reopened.head_height == stored_head, "the refused block is not in the store"
        assert reopened.block_hash(stored_head) == stored_hash
        reopened.probe_write()
        reopened.append_block(*second.append_args())
        assert reopened.head_height == stored_head + 1


def test_the_start_probe_finds_a_full_disk(small_disk: Path) -> None:
    path = small_disk / "chain"
    with ChainStore(path) as store:
        store.initialize(GENESIS, genesis_writes())
    fill(small_disk)
    try:
        store = ChainStore(path)
    except Exception as exc:  # LevelDB may already fail to open its new log file
        assert str(path) in str(exc)
        return
    with store, pytest.raises(StoreWriteError) as error:
        store.probe_write()
    assert str(path) in str(error.value)
