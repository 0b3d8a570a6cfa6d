"""Each stored record is read only as its own kind, under its own key, within its bounds,
and a record that is not one is refused with words naming what is wrong
(consensus.records.decode_record).

A replica's records are the promises it made (Castro & Liskov, TOCS'02, section 5): its
view, its votes per slot, its stable checkpoint (section 4.3) and its committed block. A
record read as another kind, or from under another key, would restore a promise it never
made; a damaged one must stop the restart with a message an operator can act on.
"""

from __future__ import annotations

from typing import Any

import pytest

from chain import encoding
from chain.errors import DecodeError
from consensus import Checkpoint, decode_record
from consensus.records import (
    CHECKPOINT_KEY,
    COMMITTED_KEY,
    SLOT_PREFIX,
    VIEW_KEY,
    CheckpointRecord,
    CommittedRecord,
    RecordKind,
)
from tests.consensus.harness import Cluster


def _disk_after_a_view_change() -> dict[bytes, bytes]:
    """r1's records: four blocks in view 0 (stable checkpoint 4), r0 crashes, a fifth in
    view 1."""
    cluster = Cluster()
    cluster.commit_blocks(4)
    cluster.crash(0)
    cluster.commit_blocks(1, at=1)
    return dict(cluster[1].disk)


DISK = _disk_after_a_view_change()
SLOT_KEY = next(k for k in DISK if k.startswith(SLOT_PREFIX))
KEY_OF_KIND = {
    RecordKind.VIEW: VIEW_KEY,
    RecordKind.SLOT: SLOT_KEY,
    RecordKind.CHECKPOINT: CHECKPOINT_KEY,
    RecordKind.COMMITTED: COMMITTED_KEY,
}


def _checkpoint_value() -> Any:
    record = decode_record(CHECKPOINT_KEY, DISK[CHECKPOINT_KEY])
    assert isinstance(record, CheckpointRecord) and record.proof
    return record.proof[0].to_value()


def test_a_stable_checkpoint_record_decodes_with_its_height_and_quorum_proof() -> None:
    record = decode_record(CHECKPOINT_KEY, DISK[CHECKPOINT_KEY])
    assert isinstance(record, CheckpointRecord)
    assert record.stable_height == 4
    assert len(record.proof) == 3  # q = 2f + 1 checkpoints for n = 4
    assert all(isinstance(c, Checkpoint) and c.height == 4 for c in record.proof)
    assert len({c.replica for c in record.proof}) == 3


def test_a_committed_record_decodes_with_its_two_entries() -> None:
    record = decode_record(COMMITTED_KEY, DISK[COMMITTED_KEY])
    assert isinstance(record, CommittedRecord)
    assert [e.height for e in record.entries] == [4, 5]
    assert all(e.certificate is not None for e in record.entries)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_every_kind_is_refused_under_every_other_key(kind: RecordKind) -> None:
    value = DISK[KEY_OF_KIND[kind]]
    for other_kind, key in KEY_OF_KIND.items():
        if other_kind == kind:
            assert decode_record(key, value).key == key
            continue
        with pytest.raises(DecodeError, match=rf"^record kind {kind} does not belong under key"):
            decode_record(key, value)


@pytest.mark.parametrize("key", [SLOT_KEY[:-1], SLOT_KEY + b"\x00", b"slat/" + SLOT_KEY[5:]])
def test_a_slot_record_under_a_key_of_another_shape_is_refused(key: bytes) -> None:
    with pytest.raises(DecodeError, match=r"^record kind 2 does not belong under key"):
        decode_record(key, DISK[SLOT_KEY])


def _with(key: bytes, index: int, value: Any) -> list[Any]:
    fields = list(encoding.decode(DISK[key]))
    if index == len(fields):
        fields.append(value)
    else:
        fields[index] = value
    return fields


@pytest.mark.parametrize(
    ("key", "fields", "refusal"),
    [
        (VIEW_KEY, 1, r"^consensus record: expected an array with version and kind$"),
        (VIEW_KEY, [1], r"^consensus record: expected an array with version and kind$"),
        (VIEW_KEY, [1, 1], r"^view record: expected 7 fields, got 2$"),
        (VIEW_KEY, _with(VIEW_KEY, 0, "1"), r"^record\.version: expected an integer, got str$"),
        (VIEW_KEY, _with(VIEW_KEY, 0, 2), r"^record\.version: unknown version 2$"),
        (VIEW_KEY, _with(VIEW_KEY, 1, "1"), r"^record\.kind: expected an integer, got str$"),
        (VIEW_KEY, _with(VIEW_KEY, 1, 9), r"^record kind 9 does not belong under key b'view'$"),
        (
            CHECKPOINT_KEY,
            _with(CHECKPOINT_KEY, 4, None),
            r"^checkpoint record: expected 4 fields, got 5$",
        ),
        (
            CHECKPOINT_KEY,
            _with(CHECKPOINT_KEY, 2, "4"),
            r"^checkpoint record\.height: expected an integer, got str$",
        ),
        (
            CHECKPOINT_KEY,
            _with(CHECKPOINT_KEY, 3, 0),
            r"^checkpoint record\.proof: expected an array, got int$",
        ),
        (
            CHECKPOINT_KEY,
            _with(CHECKPOINT_KEY, 3, [_checkpoint_value()] * 257),
            r"^checkpoint record\.proof: at most 256 items, got 257$",
        ),
        (
            CHECKPOINT_KEY,
            _with(CHECKPOINT_KEY, 3, [encoding.decode(DISK[SLOT_KEY])[4]]),  # a PrePrepare
            r"^expected a Checkpoint in a consensus record$",
        ),
        (
            COMMITTED_KEY,
            _with(COMMITTED_KEY, 3, None),
            r"^committed record: expected 3 fields, got 4$",
        ),
        (
            COMMITTED_KEY,
            _with(COMMITTED_KEY, 2, 0),
            r"^committed record\.entries: expected an array, got int$",
        ),
        (
            COMMITTED_KEY,
            _with(COMMITTED_KEY, 2, encoding.decode(DISK[COMMITTED_KEY])[2] * 2),
            r"^committed record\.entries: at most 2 items, got 4$",
        ),
    ],
)
def test_a_record_that_is_not_one_is_refused_saying_why(
    key: bytes, fields: Any, refusal: str
) -> None:
    with pytest.raises(DecodeError, match=refusal):
        decode_record(key, encoding.encode(fields))


def test_a_checkpoint_record_holds_up_to_256_checkpoints() -> None:
    fields = _with(CHECKPOINT_KEY, 3, [_checkpoint_value()] * 256)
    record = decode_record(CHECKPOINT_KEY, encoding.encode(fields))
    assert isinstance(record, CheckpointRecord) and len(record.proof) == 256
