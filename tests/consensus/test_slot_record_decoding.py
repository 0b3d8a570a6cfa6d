"""A slot record decodes to exactly what the replica wrote, field for field, and a
damaged one is refused naming the field (consensus.records).

The slot record is a replica's promise (Castro & Liskov, TOCS'02, section 5): the
pre-prepare it accepted at a height and view, whether that block came from a NewView
(re-proposal), whether it sent its prepare and its commit, and its prepared certificate.
A restart reads it back: a flag read from its neighbour's place would make the replica
resend a vote it never cast or forget one it did, so every field is checked apart.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chain import encoding
from chain.errors import DecodeError
from consensus import Commit, Prepare, decode_record
from consensus.records import SLOT_PREFIX, SlotRecord
from consensus.types import Height, View
from tests.consensus.harness import Cluster


def _written_slot_record() -> tuple[bytes, bytes]:
    """r1's record of (v0, h1) once it prepared and committed (commits never arrive)."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit))
    cluster.submit(0)
    cluster.deliver_all()
    key = next(k for k in cluster[1].disk if k.startswith(SLOT_PREFIX))
    return key, cluster[1].disk[key]


KEY, VALUE = _written_slot_record()


def test_a_written_slot_record_decodes_with_its_pre_prepare_votes_and_certificate() -> None:
    record = decode_record(KEY, VALUE)
    assert isinstance(record, SlotRecord)
    assert (record.key, record.height, record.view) == (KEY, 1, 0)
    assert record.pre_prepare is not None and record.prepared is not None
    assert record.prepared.pre_prepare == record.pre_prepare
    assert (record.reproposal, record.sent_prepare, record.sent_commit) == (False, True, True)
    assert record.value == VALUE


@pytest.mark.parametrize(
    ("reproposal", "sent_prepare", "sent_commit"),
    [(True, False, False), (False, True, False), (False, False, True), (True, True, False)],
)
def test_each_flag_of_a_slot_record_is_read_from_its_own_place(
    reproposal: bool, sent_prepare: bool, sent_commit: bool
) -> None:
    written = decode_record(KEY, VALUE)
    assert isinstance(written, SlotRecord)
    record = dataclasses.replace(
        written,
        height=Height(3),
        view=View(2),
        reproposal=reproposal,
        sent_prepare=sent_prepare,
        sent_commit=sent_commit,
    )
    assert decode_record(KEY, record.value) == record


def test_a_slot_record_without_pre_prepare_or_certificate_decodes_with_none() -> None:
    written = decode_record(KEY, VALUE)
    assert isinstance(written, SlotRecord)
    for record in (
        dataclasses.replace(written, pre_prepare=None, prepared=None),
        dataclasses.replace(written, prepared=None),
        dataclasses.replace(written, pre_prepare=None),
    ):
        assert decode_record(KEY, record.value) == record


def _fields(**changes: Any) -> list[Any]:
    fields = encoding.decode(VALUE)
    names = ["height", "view", "pre_prepare", "reproposal", "sent_prepare", "sent_commit"]
    for name, value in changes.items():
        fields[2 + names.index(name) if name != "prepared" else 8] = value
    return list(fields)


def _a_prepare_value() -> Any:
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: True)
    cluster.submit(0)
    pre_prepare = next(m for m in cluster[0].sent)
    cluster.inject(0, 1, pre_prepare)
    prepare = next(m for m in cluster[1].sent if isinstance(m, Prepare))
    return prepare.to_value()


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        (_fields()[:8], r"^slot record: expected 9 fields, got 8$"),
        ([*_fields(), None], r"^slot record: expected 9 fields, got 10$"),
        (_fields(height="1"), r"^slot record\.height: expected an integer, got str$"),
        (_fields(height=0), r"^slot record\.height: 0 is outside \[1, "),
        (_fields(view=-1), r"^slot record\.view: -1 is outside \[0, "),
        (_fields(view="0"), r"^slot record\.view: expected an integer, got str$"),
        (_fields(reproposal=0), r"^slot record\.reproposal: expected a boolean, got int$"),
        (_fields(sent_prepare=1), r"^slot record\.sent_prepare: expected a boolean, got int$"),
        (_fields(sent_commit=1), r"^slot record\.sent_commit: expected a boolean, got int$"),
        (
            _fields(pre_prepare=_a_prepare_value()),
            r"^expected a PrePrepare in a consensus record$",
        ),
        (_fields(prepared=[1, 2]), r"^prepared certificate\.prepares: expected an array"),
    ],
)
def test_a_damaged_slot_record_is_refused_naming_the_field(fields: list[Any], refusal: str) -> None:
    with pytest.raises(DecodeError, match=refusal):
        decode_record(KEY, encoding.encode(fields))


def test_a_slot_record_at_height_one_decodes() -> None:
    """Height 1 is the first a slot can hold (the lowest bound, not below it)."""
    record = decode_record(KEY, encoding.encode(_fields(height=1)))
    assert isinstance(record, SlotRecord) and record.height == 1
