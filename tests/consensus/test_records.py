"""Persisted records: round trips, strict keys, bounded key space (consensus.records)."""

from __future__ import annotations

import pytest

from chain.errors import DecodeError
from consensus import decode_record
from consensus.records import SLOT_PREFIX, CheckpointRecord, slot_key
from tests.consensus.harness import Cluster


def test_every_record_a_replica_persists_decodes_back_to_itself() -> None:
    cluster = Cluster()
    cluster.commit_blocks(5)
    cluster.crash(0)
    cluster.commit_blocks(1, at=1)
    kinds = set()
    for member in cluster.members[1:]:
        for key, value in member.disk.items():
            record = decode_record(key, value)
            assert record.key == key and record.value == value
            kinds.add(type(record).__name__)
    assert kinds == {"ViewRecord", "SlotRecord", "CheckpointRecord", "CommittedRecord"}


def test_a_record_under_the_wrong_key_is_refused() -> None:
    record = CheckpointRecord(0, ())  # type: ignore[arg-type]
    with pytest.raises(DecodeError):
        decode_record(b"view", record.value)
    with pytest.raises(DecodeError):
        decode_record(b"checkpoint", record.value + b"\x00")


def test_slot_keys_are_reused_within_one_watermark_window() -> None:
    window = 4
    keys = {slot_key(h, window) for h in range(1, 1_000)}
    assert len(keys) == window + 1
    assert all(k.startswith(SLOT_PREFIX) and len(k) == 9 for k in keys)
    live = [slot_key(h, window) for h in range(11, 11 + window)]
    assert len(set(live)) == window
