"""A replica's persisted records decode to exactly what it wrote, and a damaged record is
refused naming the field (consensus.records).

Castro & Liskov (TOCS'02, section 5) assume a replica keeps its log across restarts; here
that is the records of the Persist effect. A view record that loses its ViewChange on
reading makes a restarted replica resend a view change it cannot prove it sent; a damaged
record must be refused with words an operator can act on.
"""

from __future__ import annotations

from typing import Any

import pytest

from chain import encoding
from chain.errors import DecodeError
from consensus import NewView, ViewChange, decode_record
from consensus.records import (
    COMMITTED_KEY,
    RECORD_VERSION,
    VIEW_KEY,
    CommittedEntry,
    CommittedRecord,
    RecordKind,
    ViewRecord,
)
from consensus.types import Height
from tests.consensus.harness import Cluster


def _view_record_during_a_view_change() -> tuple[bytes, ViewChange]:
    """r2's stored view record after it asked for view 1 (the primary r0 crashed)."""
    cluster = Cluster()
    cluster.crash(0)
    cluster.submit(1)
    cluster.drop_if(lambda s, t, m: isinstance(m, NewView))
    cluster.run_until(lambda: cluster[2].up.view_changing)
    sent = next(m for m in cluster[2].sent if isinstance(m, ViewChange))
    return cluster[2].disk[VIEW_KEY], sent


def test_a_view_record_keeps_the_view_change_it_was_written_for() -> None:
    value, sent = _view_record_during_a_view_change()
    record = decode_record(VIEW_KEY, value)
    assert isinstance(record, ViewRecord)
    assert record.view == sent.new_view and record.view_changing
    assert record.view_change == sent
    assert record.new_view is None
    assert record.value == value


def _view_fields(**changes: Any) -> list[Any]:
    fields: dict[str, Any] = dict(view=1, view_changing=False, view_floor=0, vc=None, nv=None)
    fields.update(changes)
    return [RECORD_VERSION, RecordKind.VIEW, *fields.values()]


def _committed_fields(entry: list[Any]) -> list[Any]:
    return [RECORD_VERSION, RecordKind.COMMITTED, [entry]]


_GOOD_ENTRY = [3, b"\x11" * 32, 1_700_000_000_000, None]


@pytest.mark.parametrize(
    ("key", "fields", "refusal"),
    [
        (VIEW_KEY, _view_fields()[:-1], r"^view record: expected 7 fields, got 6$"),
        (VIEW_KEY, _view_fields(view="1"), r"^view record\.view: expected an integer"),
        (VIEW_KEY, _view_fields(view=-1), r"^view record\.view: -1 is outside"),
        (
            VIEW_KEY,
            _view_fields(view_changing=1),
            r"^view record\.view_changing: expected a boolean",
        ),
        (VIEW_KEY, _view_fields(view_floor=b"\x00"), r"^view record\.view_floor: expected an"),
        (
            COMMITTED_KEY,
            _committed_fields(_GOOD_ENTRY[:3]),
            r"^committed entry: expected 4 fields, got 3$",
        ),
        (
            COMMITTED_KEY,
            _committed_fields(["3", *_GOOD_ENTRY[1:]]),
            r"^committed\.height: expected an integer",
        ),
        (
            COMMITTED_KEY,
            _committed_fields([3, b"\x11" * 31, *_GOOD_ENTRY[2:]]),
            r"^committed\.block_hash: expected 32 bytes, got 31$",
        ),
    ],
)
def test_a_damaged_record_is_refused_naming_the_field(
    key: bytes, fields: list[Any], refusal: str
) -> None:
    with pytest.raises(DecodeError, match=refusal):
        decode_record(key, encoding.encode(fields))


def test_a_well_formed_committed_record_decodes() -> None:
    record = decode_record(COMMITTED_KEY, encoding.encode(_committed_fields(_GOOD_ENTRY)))
    assert record == CommittedRecord(
        (CommittedEntry(Height(3), b"\x11" * 32, 1_700_000_000_000, None),)
    )


def test_the_committed_entry_used_on_restart_is_the_one_for_the_stores_head() -> None:
    """The record keeps the last two committed blocks: the node may crash between storing
    it and storing the block, so the entry matching the store's head is the one used."""
    older = CommittedEntry(Height(5), b"\x05" * 32, 1_000, None)
    newer = CommittedEntry(Height(6), b"\x06" * 32, 2_000, None)
    record = CommittedRecord((older, newer))
    assert record.entry_at(5) is older
    assert record.entry_at(6) is newer
    assert record.entry_at(7) is None
    assert record.entry_at(4) is None
