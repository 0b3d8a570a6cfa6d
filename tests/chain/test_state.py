"""State views, overlays and the app hash chain (PROTOCOL.md section 9)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.state import (
    ZERO_HASH,
    MemoryState,
    OverlayState,
    WriteSet,
    next_app_hash,
    write_set_hash,
)

BASE = {b"poll/1": b"open", b"poll/2": b"closed", b"vote/1/a": b"yes", b"vote/1/b": b"no"}


def overlay() -> OverlayState:
    return OverlayState(MemoryState(BASE))


def test_reads_see_the_overlays_writes_before_the_base() -> None:
    state = overlay()
    assert state.get(b"poll/1") == b"open"
    state.set(b"poll/1", b"tallied")
    state.set(b"poll/3", b"new")
    assert state.get(b"poll/1") == b"tallied"
    assert state.get(b"poll/3") == b"new"
    assert state.get(b"poll/9") is None


def test_writes_do_not_reach_the_base_until_committed() -> None:
    base = MemoryState(BASE)
    state = OverlayState(base)
    state.set(b"poll/1", b"tallied")
    state.delete(b"poll/2")
    assert base.get(b"poll/1") == b"open" and base.get(b"poll/2") == b"closed"


def test_a_delete_hides_the_base_key_from_reads_and_scans() -> None:
    state = overlay()
    state.delete(b"vote/1/a")
    assert state.get(b"vote/1/a") is None
    assert list(state.items(b"vote/")) == [(b"vote/1/b", b"no")]


def test_items_merge_base_and_writes_in_key_order_within_the_prefix() -> None:
    state = overlay()
    state.set(b"vote/1/0", b"first")
    state.set(b"vote/1/b", b"changed")
    state.set(b"vote/1/c", b"last")
    state.set(b"voter/x", b"outside the prefix")
    state.delete(b"vote/1/a")
    assert list(state.items(b"vote/1/")) == [
        (b"vote/1/0", b"first"),
        (b"vote/1/b", b"changed"),
        (b"vote/1/c", b"last"),
    ]
    assert [k for k, _ in state.items(b"")] == sorted(k for k, _ in state.items(b""))


def test_a_child_commit_moves_its_writes_and_deletes_into_the_parent() -> None:
    block = overlay()
    accepted = block.child()
    accepted.set(b"vote/1/c", b"yes")
    accepted.delete(b"vote/1/a")
    assert block.get(b"vote/1/c") is None, "not visible before commit"
    accepted.commit()
    assert block.get(b"vote/1/c") == b"yes"
    assert block.get(b"vote/1/a") is None
    assert block.write_set() == [(b"vote/1/a", None), (b"vote/1/c", b"yes")]


def test_a_child_that_is_not_committed_leaves_no_trace() -> None:
    block = overlay()
    refused = block.child()
    refused.set(b"vote/1/c", b"yes")
    refused.delete(b"poll/1")
    assert refused.get(b"vote/1/c") == b"yes"
    assert block.write_set() == []
    assert block.get(b"poll/1") == b"open"


def test_grandchildren_read_through_every_level() -> None:
    block = overlay()
    block.set(b"a", b"1")
    tx = block.child()
    tx.delete(b"poll/1")
    step = tx.child()
    assert step.get(b"a") == b"1" and step.get(b"poll/1") is None
    assert step.get(b"poll/2") == b"closed"


def test_commit_needs_an_overlay_underneath() -> None:
    with pytest.raises(TypeError):
        overlay().commit()


def test_the_write_set_is_sorted_by_key_and_holds_the_last_write() -> None:
    state = overlay()
    for key in (b"z", b"a", b"m"):
        state.set(key, key * 2)
    state.set(b"a", b"again")
    state.delete(b"m")
    assert state.write_set() == [(b"a", b"again"), (b"m", None), (b"z", b"zz")]


def test_memory_state_applies_writes_and_deletes() -> None:
    state = MemoryState(BASE)
    state.apply([(b"poll/1", None), (b"poll/3", b"new"), (b"missing", None)])
    assert state.get(b"poll/1") is None and state.get(b"poll/3") == b"new"
    assert len(state) == len(BASE)


# --- the app hash chain ----------------------------------------------------------------

write_sets = st.dictionaries(
    st.binary(max_size=12), st.none() | st.binary(max_size=12), min_size=1, max_size=12
).map(lambda d: sorted(d.items()))


@settings(max_examples=100, deadline=None)
@given(write_sets, st.randoms(use_true_random=False))
def test_the_write_set_hash_ignores_the_order_writes_are_listed_in(writes: WriteSet, rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(writes)
    rnd.shuffle(shuffled)
    assert write_set_hash(shuffled) == write_set_hash(writes)
    assert next_app_hash(ZERO_HASH, shuffled) == next_app_hash(ZERO_HASH, writes)


@settings(max_examples=100, deadline=None)
@given(write_sets, st.data())
def test_the_app_hash_depends_on_every_key_and_value(writes: WriteSet, data) -> None:  # type: ignore[no-untyped-def]
    original = next_app_hash(ZERO_HASH, writes)
    position = data.draw(st.integers(0, len(writes) - 1), label="position")
    key, value = writes[position]
    others = writes[:position] + writes[position + 1 :]
    variants = {
        "dropped": others,
        "value changed": [*others, (key, (value or b"") + b"!")],
        "key changed": [*others, (key + b"\xff", value)]
        if all(k != key + b"\xff" for k, _ in others)
        else None,
        "set vs delete": [*others, (key, None if value is not None else b"")],
        "added": [*writes, (b"\xff" * 13, b"")],
    }
    for name, variant in variants.items():
        if variant is not None:
            assert next_app_hash(ZERO_HASH, variant) != original, name


def test_a_delete_differs_from_writing_an_empty_value() -> None:
    assert write_set_hash([(b"k", None)]) != write_set_hash([(b"k", b"")])


def test_the_app_hash_chains_on_the_previous_link() -> None:
    writes: WriteSet = [(b"k", b"v")]
    first = next_app_hash(ZERO_HASH, writes)
    assert next_app_hash(first, writes) != first
    assert next_app_hash(first, writes) != next_app_hash(bytes([1]) * 32, writes)
    assert next_app_hash(ZERO_HASH, []) != ZERO_HASH
