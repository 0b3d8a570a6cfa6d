"""A delivered block costs one synced write: the consensus records the core persists just
before a Deliver go into the block's own synced batch (node.service `_execute`,
chain.store `append_block(local_writes=...)`), durable together, before anything the core
asks to send after them. Records followed by a Send still get their own synced write
first (tests/node/test_disk_fail_stop.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import node.service as service
from chain.errors import StoreWriteError
from chain.keys import PrivateKey
from consensus import Broadcast, Deliver, Persist, ReplicaId, decode_record
from consensus.messages import Checkpoint, sign
from consensus.records import COMMITTED_KEY, SLOT_PREFIX, CommittedRecord, ViewRecord, slot_key
from consensus.types import Height, View
from node.service import CONSENSUS_RECORD_PREFIX, EXIT_DISK_FAILED
from tests.node.live_node import LiveNode

COMMITTED = CONSENSUS_RECORD_PREFIX + COMMITTED_KEY


class Exited(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveNode]:
    live = LiveNode(tmp_path)
    live.start()
    yield live
    live.stop()


def test_the_committed_record_is_written_in_the_blocks_synced_batch(
    live: LiveNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = live.node
    assert node is not None
    record_writes: list[list[bytes]] = []
    block_writes: list[tuple[int, list[tuple[bytes, bytes | None]]]] = []
    write_local, append_block = node.store.write_local, node.store.append_block

    def spy_write_local(writes: Sequence[tuple[bytes, bytes | None]], sync: bool = True) -> None:
        assert sync, "consensus records are written synced"
        record_writes.append([key for key, _ in writes])
        write_local(writes, sync)

    def spy_append_block(*args: Any) -> bytes:
        block, local_writes = args[0], list(args[4]) if len(args) > 4 else []
        block_writes.append((block.height, local_writes))
        return append_block(*args)

    monkeypatch.setattr(node.store, "write_local", spy_write_local)
    monkeypatch.setattr(node.store, "append_block", spy_append_block)
    tx = live.enroll_tx(PrivateKey.generate(), "+821044440002")
    reply = live.request("POST", "/v1/tx?wait=commit", f'{{"tx": "{tx.hex()}"}}'.encode())
    assert reply.status == 200, reply
    assert [height for height, _ in block_writes] == [1]
    keys = [key for key, _ in block_writes[0][1]]
    assert COMMITTED in keys, f"block 1's batch holds {keys}, not the committed record"
    assert not [keys for keys in record_writes if COMMITTED in keys], (
        "the committed record was synced on its own too"
    )
    stored = dict(node.store.local_items(CONSENSUS_RECORD_PREFIX))
    committed = decode_record(COMMITTED_KEY, stored[COMMITTED])
    assert isinstance(committed, CommittedRecord)
    assert [entry.height for entry in committed.entries][-1] == 1 == node.store.head_height


def test_a_delivered_blocks_slot_record_is_deleted_in_its_batch(live: LiveNode) -> None:
    """The slot record (the pre-prepare, the block once or twice) was written before the
    prepare and the commit; a restart restores only slots above the committed height, so
    the block's own batch deletes it instead of leaving the block twice more on disk."""
    node = live.node
    assert node is not None
    written: list[list[tuple[bytes, bytes | None]]] = []
    write_local = node.store.write_local

    def spy_write_local(writes: Sequence[tuple[bytes, bytes | None]], sync: bool = True) -> None:
        written.append(list(writes))
        write_local(writes, sync)

    node.store.write_local = spy_write_local  # type: ignore[method-assign]
    tx = live.enroll_tx(PrivateKey.generate(), "+821044440003")
    reply = live.request("POST", "/v1/tx?wait=commit", f'{{"tx": "{tx.hex()}"}}'.encode())
    assert reply.status == 200, reply
    slot = CONSENSUS_RECORD_PREFIX + slot_key(1, node.config.consensus.watermark_window)
    assert any(key == slot and value for writes in written for key, value in writes), (
        "the test saw no slot record of block 1 written before its delivery"
    )
    stored = dict(node.store.local_items(CONSENSUS_RECORD_PREFIX))
    assert node.store.head_height == 1
    assert [key for key in stored if key.startswith(CONSENSUS_RECORD_PREFIX + SLOT_PREFIX)] == []


def test_records_before_a_refused_delivery_are_not_synced_apart_and_nothing_is_sent(
    live: LiveNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk refuses the block's batch: the node stops before the later Broadcast, and
    the records that were to ride in that batch were not written without the block."""
    node = live.node
    assert node is not None
    sent: list[bytes] = []
    record_writes: list[Any] = []
    handed: list[Sequence[tuple[bytes, bytes | None]]] = []
    monkeypatch.setattr(node.transport, "broadcast", lambda data: sent.append(data))
    monkeypatch.setattr(node.store, "write_local", lambda *a, **k: record_writes.append(a))

    def refused_commit(block: Any, certificate: Any, records: Any = ()) -> None:
        handed.append(records)
        raise StoreWriteError("the disk of the chain store at /x refused a write: EIO")

    def exit_(status: int) -> None:
        raise Exited(status)

    monkeypatch.setattr(node.app, "commit", refused_commit)
    monkeypatch.setattr(service.os, "_exit", exit_)
    record = ViewRecord(View(0), False, Height(0), None, None)
    checkpoint = sign(Checkpoint(Height(1), b"\1" * 32, ReplicaId(0)), node.key, node.chain_id)
    block, certificate = SimpleNamespace(height=1), object()  # never executed: commit refuses
    with pytest.raises(Exited) as exited:
        node._execute(
            [Persist(record), Deliver(block, certificate), Broadcast(checkpoint)]  # type: ignore[arg-type]
        )
    assert exited.value.status == EXIT_DISK_FAILED
    window = node.config.consensus.watermark_window
    assert [list(records) for records in handed] == [
        [
            (CONSENSUS_RECORD_PREFIX + record.key, record.value),
            (CONSENSUS_RECORD_PREFIX + slot_key(1, window), None),
        ]
    ]
    assert record_writes == [] and sent == []
