"""Every durable write of the chain store is synced, and a write the disk refuses is a
StoreWriteError naming the store (chain/store.py; issue 9's fail-stop).

A committed block must survive a power cut, not just a kill -9: LevelDB writes it to the
operating system either way, but only a synced write reaches the disk before it returns.
A test process cannot cut the power, so these tests watch the calls the store makes to
LevelDB (a recording stand-in for plyvel.DB around the real one) and check the `sync`
flag of each. The refused writes are made by the same stand-in raising the error plyvel
raises for a full disk (tests/chain/test_store_disk_full.py makes a real one where the
machine lets a test mount a small disk).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import plyvel
import pytest

from chain.errors import StoreWriteError
from chain.store import PROBE_KEY, PROBE_VALUE_BYTES, ChainStore
from tests.chain.chain_fixtures import genesis_writes, make_genesis, next_bundle_for_store

GENESIS = make_genesis(4)
DISK_FULL = b"IO error: /data/chain/000005.log: No space left on device"


class RecordingBatch:
    def __init__(self, batch: Any, db: RecordingDB) -> None:
        self._batch, self._db = batch, db

    def put(self, key: bytes, value: bytes) -> None:
        self._batch.put(key, value)

    def delete(self, key: bytes) -> None:
        self._batch.delete(key)

    def write(self) -> None:
        self._db.maybe_fail()
        self._batch.write()


class RecordingDB:
    """plyvel.DB, recording the options of every write; refuses writes once `fail` is set."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.writes: list[tuple[str, dict[str, Any]]] = []
        self.fail: plyvel.Error | None = None

    def maybe_fail(self) -> None:
        if self.fail is not None:
            raise self.fail

    def put(self, key: bytes, value: bytes, **options: Any) -> None:
        self.writes.append(("put", options))
        self.maybe_fail()
        self._db.put(key, value, **options)

    def delete(self, key: bytes, **options: Any) -> None:
        self.writes.append(("delete", options))
        self.maybe_fail()
        self._db.delete(key, **options)

    def write_batch(self, **options: Any) -> RecordingBatch:
        self.writes.append(("write_batch", options))
        return RecordingBatch(self._db.write_batch(**options), self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[RecordingDB]:
    """Every plyvel.DB the store opens during the test, wrapped."""
    opened: list[RecordingDB] = []
    real_db = plyvel.DB

    def open_recording(*args: Any, **kwargs: Any) -> RecordingDB:
        db = RecordingDB(real_db(*args, **kwargs))
        opened.append(db)
        return db

    monkeypatch.setattr(plyvel, "DB", open_recording)
    return opened


@pytest.fixture
def store(tmp_path: Path, recorded: list[RecordingDB]) -> Iterator[ChainStore]:
    with ChainStore(tmp_path / "chain") as opened:
        yield opened


def test_genesis_and_every_block_are_written_in_one_synced_batch(
    store: ChainStore, recorded: list[RecordingDB]
) -> None:
    store.initialize(GENESIS, genesis_writes())
    for _ in range(2):
        store.append_block(*next_bundle_for_store(store).append_args())
    assert recorded[0].writes == [("write_batch", {"sync": True})] * 3


@pytest.mark.parametrize(
    "write",
    [
        lambda store: store.put_local(b"view", b"1"),
        lambda store: store.delete_local(b"view"),
        lambda store: store.write_local([(b"view", b"1"), (b"old", None)]),
        lambda store: store.probe_write(),
    ],
    ids=["put_local", "delete_local", "write_local", "probe_write"],
)
def test_local_records_are_synced_unless_the_caller_says_otherwise(
    store: ChainStore, recorded: list[RecordingDB], write: Callable[[ChainStore], None]
) -> None:
    """Consensus records (a prepare sent, a view entered) must be on disk before the
    message that depends on them is sent."""
    write(store)
    assert [options for _, options in recorded[0].writes] == [{"sync": True}]


def test_a_caller_may_ask_for_unsynced_local_writes(
    store: ChainStore, recorded: list[RecordingDB]
) -> None:
    store.put_local(b"a", b"1", sync=False)
    store.delete_local(b"a", sync=False)
    store.write_local([(b"b", b"2")], sync=False)
    assert [options for _, options in recorded[0].writes] == [{"sync": False}] * 3


def test_the_start_probe_writes_a_record_as_large_as_a_consensus_record(
    store: ChainStore,
) -> None:
    store.probe_write()
    assert store.get_local(PROBE_KEY) == bytes(PROBE_VALUE_BYTES)


@pytest.mark.parametrize(
    "write",
    [
        lambda store: store.put_local(b"view", b"1"),
        lambda store: store.delete_local(b"view"),
        lambda store: store.write_local([(b"view", b"1")]),
        lambda store: store.append_block(*next_bundle_for_store(store).append_args()),
    ],
    ids=["put_local", "delete_local", "write_local", "append_block"],
)
@pytest.mark.parametrize(
    ("refusal", "words"),
    [
        (lambda: plyvel.IOError(DISK_FULL), DISK_FULL.decode()),
        (
            lambda: plyvel.IOError(b"IO error: /data/\xff: No space left"),
            "IO error: /data/\ufffd: No space left",
        ),
        (lambda: plyvel.Error("background error"), "background error"),
    ],
    ids=["disk-full", "undecodable-path", "text"],
)
def test_a_refused_write_is_a_store_write_error_naming_the_store_and_the_disks_words(
    store: ChainStore,
    recorded: list[RecordingDB],
    write: Callable[[ChainStore], None],
    refusal: Callable[[], plyvel.Error],
    words: str,
) -> None:
    store.initialize(GENESIS, genesis_writes())
    recorded[0].fail = refusal()
    with pytest.raises(StoreWriteError) as refused:
        write(store)
    assert str(refused.value) == (
        f"the disk of the chain store at {store.path} refused a write: {words}"
    )


def test_a_store_the_disk_refuses_to_open_is_a_store_write_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise plyvel.IOError(DISK_FULL)

    monkeypatch.setattr(plyvel, "DB", refuse)
    path = tmp_path / "chain"
    with pytest.raises(StoreWriteError) as refused:
        ChainStore(path)
    assert str(refused.value) == (
        f"the disk of the chain store at {path} refused a write: {DISK_FULL.decode()}"
    )
