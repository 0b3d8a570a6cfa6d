"""What a replica persists so that, restarted, it never contradicts itself.

The core never writes storage; it emits Persist(record) and the node stores
`record.value` under `record.key` (the node adds its own prefix, e.g. LevelDB
`local/consensus/`). A record replaces any earlier record with the same key, so the
whole set is small and bounded:

    b"view"            ViewRecord        current view, whether changing, own ViewChange/NewView
    b"checkpoint"      CheckpointRecord  the latest stable checkpoint and its proof
    b"committed"       CommittedRecord   height, hash, timestamp and certificate of the last
                                         two committed blocks (written before each Deliver)
    b"slot/" + u32     SlotRecord        per height h, under index h mod (L + 1): the
                                         pre-prepare accepted, whether a prepare and a commit
                                         were sent, and the highest-view prepared certificate

At most L + 4 keys exist. Slot keys are reused: the live heights are always inside one
watermark window (low, low + L], so two live heights never share an index.

value = encode([RECORD_VERSION, record kind, fields...]); decode_record(key, value)
returns the record, refusing unknown versions and kinds and keys that do not match.
To restart, the node reads every record back and passes them to Replica(restored=...).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TypeAlias

from chain import encoding
from chain.block import array_header
from chain.certificate import CommitCertificate
from chain.errors import DecodeError
from chain.hashing import HASH_SIZE
from consensus.messages import (
    Checkpoint,
    NewView,
    PreparedCertificate,
    PrePrepare,
    ViewChange,
    message_from_value,
)
from consensus.types import Height, View

RECORD_VERSION = 1
VIEW_KEY = b"view"
CHECKPOINT_KEY = b"checkpoint"
COMMITTED_KEY = b"committed"
SLOT_PREFIX = b"slot/"
_NIL = encoding.encode(None)


class RecordKind(IntEnum):
    VIEW = 1
    SLOT = 2
    CHECKPOINT = 3
    COMMITTED = 4


def slot_key(height: int, watermark_window: int) -> bytes:
    """The key of the slot record for `height`: b"slot/" + u32 big-endian (h mod (L+1))."""
    return SLOT_PREFIX + (height % (watermark_window + 1)).to_bytes(4, "big")


@dataclass(frozen=True)
class ViewRecord:
    """The view this replica is in, and the view messages it sent for it.

    Written before a ViewChange or NewView is sent and when a NewView is accepted.
    `view_floor` is the highest height the NewView of `view` decided; fresh proposals in
    `view` must be above it.
    """

    view: View
    view_changing: bool
    view_floor: Height
    view_change: ViewChange | None
    new_view: NewView | None

    @property
    def key(self) -> bytes:
        return VIEW_KEY

    @property
    def value(self) -> bytes:
        return encoding.encode(
            [
                RECORD_VERSION,
                RecordKind.VIEW,
                self.view,
                self.view_changing,
                self.view_floor,
                None if self.view_change is None else self.view_change.to_value(),
                None if self.new_view is None else self.new_view.to_value(),
            ]
        )

    def describe(self) -> str:
        state = "changing" if self.view_changing else "active"
        return f"view v={self.view} {state} floor={self.view_floor}"


@dataclass(frozen=True)
class SlotRecord:
    """What this replica said about one height, written before each prepare or commit."""

    key: bytes
    height: Height
    view: View
    pre_prepare: PrePrepare | None
    reproposal: bool
    sent_prepare: bool
    sent_commit: bool
    prepared: PreparedCertificate | None

    @property
    def value(self) -> bytes:
        """encode([RECORD_VERSION, SLOT, height, view, pre_prepare, reproposal,
        sent_prepare, sent_commit, prepared]), the messages' own encodings spliced in
        (PrePrepare.encode): written before each prepare and commit, it holds the block
        once or twice, which packing field by field would re-encode every time."""
        return b"".join(
            [
                array_header(9),
                encoding.encode([RECORD_VERSION, RecordKind.SLOT, self.height, self.view])[1:],
                _NIL if self.pre_prepare is None else self.pre_prepare.encode(),
                encoding.encode([self.reproposal, self.sent_prepare, self.sent_commit])[1:],
                _NIL if self.prepared is None else self.prepared.encode(),
            ]
        )

    def describe(self) -> str:
        sent = "prepare+commit" if self.sent_commit else "prepare" if self.sent_prepare else "-"
        prepared = "-" if self.prepared is None else f"v{self.prepared.view}"
        return f"slot h={self.height} v={self.view} sent={sent} prepared={prepared}"


@dataclass(frozen=True)
class CheckpointRecord:
    """The latest stable checkpoint (the low watermark) and the quorum proving it."""

    stable_height: Height
    proof: tuple[Checkpoint, ...]

    @property
    def key(self) -> bytes:
        return CHECKPOINT_KEY

    @property
    def value(self) -> bytes:
        return encoding.encode(
            [
                RECORD_VERSION,
                RecordKind.CHECKPOINT,
                self.stable_height,
                [cp.to_value() for cp in self.proof],
            ]
        )

    def describe(self) -> str:
        return f"checkpoint stable={self.stable_height}"


@dataclass(frozen=True)
class CommittedEntry:
    """One committed block as the core remembers it across restarts."""

    height: Height
    block_hash: bytes
    timestamp_ms: int
    certificate: CommitCertificate | None

    def to_value(self) -> list[Any]:
        certificate = None if self.certificate is None else self.certificate.to_value()
        return [self.height, self.block_hash, self.timestamp_ms, certificate]

    @classmethod
    def from_value(cls, value: Any) -> CommittedEntry:
        f = encoding.expect_list(value, 4, "committed entry")
        return cls(
            height=Height(encoding.expect_int(f[0], "committed.height")),
            block_hash=encoding.expect_bytes(f[1], "committed.block_hash", HASH_SIZE),
            timestamp_ms=encoding.expect_int(f[2], "committed.timestamp_ms"),
            certificate=None if f[3] is None else CommitCertificate.from_value(f[3]),
        )


@dataclass(frozen=True)
class CommittedRecord:
    """The last two committed blocks; written before each Deliver.

    Two, because the node may crash after storing this record but before storing the
    block: on restart the entry matching the store's head is the one used.
    """

    entries: tuple[CommittedEntry, ...]

    @property
    def key(self) -> bytes:
        return COMMITTED_KEY

    @property
    def value(self) -> bytes:
        return encoding.encode(
            [RECORD_VERSION, RecordKind.COMMITTED, [e.to_value() for e in self.entries]]
        )

    def describe(self) -> str:
        return f"committed heights={[e.height for e in self.entries]}"

    def entry_at(self, height: int) -> CommittedEntry | None:
        return next((e for e in self.entries if e.height == height), None)


Record: TypeAlias = ViewRecord | SlotRecord | CheckpointRecord | CommittedRecord


def decode_record(key: bytes, value: bytes) -> Record:
    """The record stored as (`key`, `value`); DecodeError if it is not one."""
    fields = encoding.decode(value)
    if not isinstance(fields, list) or len(fields) < 2:
        raise DecodeError("consensus record: expected an array with version and kind")
    version = encoding.expect_int(fields[0], "record.version")
    if version != RECORD_VERSION:
        raise DecodeError(f"record.version: unknown version {version}")
    kind = encoding.expect_int(fields[1], "record.kind")
    if kind == RecordKind.VIEW and key == VIEW_KEY:
        return _view_record(fields)
    if kind == RecordKind.SLOT and key.startswith(SLOT_PREFIX) and len(key) == 9:
        return _slot_record(key, fields)
    if kind == RecordKind.CHECKPOINT and key == CHECKPOINT_KEY:
        f = encoding.expect_list(fields, 4, "checkpoint record")
        proof = encoding.expect_array(f[3], "checkpoint record.proof", 256)
        return CheckpointRecord(
            stable_height=Height(encoding.expect_int(f[2], "checkpoint record.height")),
            proof=tuple(_expect(p, Checkpoint) for p in proof),
        )
    if kind == RecordKind.COMMITTED and key == COMMITTED_KEY:
        f = encoding.expect_list(fields, 3, "committed record")
        entries = encoding.expect_array(f[2], "committed record.entries", 2)
        return CommittedRecord(tuple(CommittedEntry.from_value(e) for e in entries))
    raise DecodeError(f"record kind {kind} does not belong under key {key!r}")


def _view_record(fields: list[Any]) -> ViewRecord:
    f = encoding.expect_list(fields, 7, "view record")
    return ViewRecord(
        view=View(encoding.expect_int(f[2], "view record.view")),
        view_changing=encoding.expect_bool(f[3], "view record.view_changing"),
        view_floor=Height(encoding.expect_int(f[4], "view record.view_floor")),
        view_change=None if f[5] is None else _expect(f[5], ViewChange),
        new_view=None if f[6] is None else _expect(f[6], NewView),
    )


def _slot_record(key: bytes, fields: list[Any]) -> SlotRecord:
    f = encoding.expect_list(fields, 9, "slot record")
    return SlotRecord(
        key=key,
        height=Height(encoding.expect_int(f[2], "slot record.height", minimum=1)),
        view=View(encoding.expect_int(f[3], "slot record.view")),
        pre_prepare=None if f[4] is None else _expect(f[4], PrePrepare),
        reproposal=encoding.expect_bool(f[5], "slot record.reproposal"),
        sent_prepare=encoding.expect_bool(f[6], "slot record.sent_prepare"),
        sent_commit=encoding.expect_bool(f[7], "slot record.sent_commit"),
        prepared=None if f[8] is None else PreparedCertificate.from_value(f[8]),
    )


def _expect(value: Any, cls: type[Any]) -> Any:
    message = message_from_value(value)
    if not isinstance(message, cls):
        raise DecodeError(f"expected a {cls.__name__} in a consensus record")
    return message
