"""Merkle trees and inclusion proofs (PROTOCOL.md section 6)."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import encoding
from chain.errors import DecodeError, InvalidProof
from chain.merkle import (
    EMPTY_ROOT,
    MAX_PROOF_DEPTH,
    MerkleProof,
    check_proof_shape,
    leaf_hash,
    merkle_levels,
    merkle_proof,
    merkle_root,
    node_hash,
    proof_from_levels,
    root_from_levels,
    seal_root,
    verify_merkle_proof,
)

trees = st.lists(st.binary(max_size=40), min_size=1, max_size=70, unique=True)


def items_of(count: int) -> list[bytes]:
    return [f"item-{i}".encode() for i in range(count)]


@cache
def path_length(index: int, leaf_count: int) -> int:
    """How many siblings a proof of leaf `index` in a tree of `leaf_count` leaves has."""
    return len(merkle_proof([bytes(4)] * leaf_count, index).siblings)


def test_every_leaf_of_every_tree_up_to_70_leaves_has_a_valid_proof() -> None:
    for count in range(1, 71):
        items = items_of(count)
        root = merkle_root(items)
        for index, item in enumerate(items):
            proof = merkle_proof(items, index)
            assert proof.leaf_count == count
            assert verify_merkle_proof(root, item, proof), (count, index)


@settings(max_examples=60, deadline=None)
@given(trees)
def test_proofs_verify_for_every_leaf_and_fail_when_anything_is_tampered(
    items: list[bytes],
) -> None:
    root, count = merkle_root(items), len(items)
    for index, item in enumerate(items):
        proof = merkle_proof(items, index)
        siblings = proof.siblings
        assert verify_merkle_proof(root, item, proof)

        assert not verify_merkle_proof(root, item + b"\0", proof), "tampered item"
        assert not verify_merkle_proof(merkle_root([*items, b"new"]), item, proof), "other root"
        for position in range(len(siblings)):
            tampered = bytearray(siblings[position])
            tampered[position % 32] ^= 0x01
            changed = (*siblings[:position], bytes(tampered), *siblings[position + 1 :])
            assert not verify_merkle_proof(root, item, MerkleProof(index, count, changed))
            missing = siblings[:position] + siblings[position + 1 :]
            assert not verify_merkle_proof(root, item, MerkleProof(index, count, missing))
        for extra in ((*siblings, root), (root, *siblings), (*siblings, bytes(32))):
            assert not verify_merkle_proof(root, item, MerkleProof(index, count, extra))

        for wrong_index in {index - 1, index + 1, count - 1 - index, index ^ 1, count}:
            if wrong_index != index and wrong_index >= 0:
                wrong = MerkleProof(wrong_index, count, siblings)
                assert not verify_merkle_proof(root, item, wrong), ("index", wrong_index)

        for wrong_count in range(index + 1, count + 4):
            if wrong_count != count and path_length(index, wrong_count) != len(siblings):
                wrong = MerkleProof(index, wrong_count, siblings)
                assert not verify_merkle_proof(root, item, wrong), ("leaf_count", wrong_count)
        assert not verify_merkle_proof(root, item, MerkleProof(index, index, siblings))


def test_a_proof_cannot_place_a_leaf_at_another_index() -> None:
    """The root commits to the leaf count: without it, leaf 2 of [a, b, c] also verified
    as leaf 1 of 2, and leaf 0 of three leaves with leaf_count 4."""
    items = [b"a", b"b", b"c"]
    siblings = merkle_proof(items, 2).siblings
    assert not verify_merkle_proof(merkle_root(items), b"c", MerkleProof(1, 2, siblings))
    first = merkle_proof(items, 0)
    assert not verify_merkle_proof(merkle_root(items), b"a", MerkleProof(0, 4, first.siblings))


def test_the_odd_node_is_promoted_not_duplicated() -> None:
    a, b, c = (leaf_hash(x) for x in (b"a", b"b", b"c"))
    assert merkle_root([b"a", b"b", b"c"]) == seal_root(3, node_hash(node_hash(a, b), c))
    assert merkle_root([b"a", b"b", b"c"]) != merkle_root([b"a", b"b", b"c", b"c"])
    assert merkle_root([b"a", b"b", b"c", b"c"]) == seal_root(
        4, node_hash(node_hash(a, b), node_hash(c, c))
    )


def test_five_leaves_promote_the_last_leaf_twice() -> None:
    leaves = [leaf_hash(x) for x in items_of(5)]
    left = node_hash(node_hash(leaves[0], leaves[1]), node_hash(leaves[2], leaves[3]))
    assert merkle_root(items_of(5)) == seal_root(5, node_hash(left, leaves[4]))
    proof = merkle_proof(items_of(5), 4)
    assert proof.siblings == (left,), "no sibling at the levels where leaf 4 is promoted"


def test_duplicating_trailing_leaves_never_keeps_the_root() -> None:
    for count in range(1, 40):
        items = items_of(count)
        assert merkle_root(items) != merkle_root([*items, items[-1]])


def test_roots_of_the_empty_and_single_leaf_trees() -> None:
    assert merkle_root([]) == EMPTY_ROOT == bytes(32)
    assert merkle_root([b"only"]) == seal_root(1, leaf_hash(b"only"))
    assert merkle_proof([b"only"], 0) == MerkleProof(0, 1, ())
    assert verify_merkle_proof(merkle_root([b"only"]), b"only", MerkleProof(0, 1, ()))


def test_leaves_and_inner_nodes_cannot_be_confused() -> None:
    """Domain tags: a leaf whose bytes are two child hashes is not that inner node."""
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert merkle_root([a + b]) != merkle_root([b"a", b"b"])
    assert leaf_hash(a + b) != node_hash(a, b)
    root = merkle_root([b"a", b"b"])
    assert not verify_merkle_proof(root, a + b, MerkleProof(0, 1, ()))


def test_leaf_order_matters() -> None:
    assert merkle_root([b"a", b"b"]) != merkle_root([b"b", b"a"])


def test_a_proof_for_an_index_outside_the_tree_cannot_be_made_or_verified() -> None:
    with pytest.raises(IndexError):
        merkle_proof([b"a"], 1)
    with pytest.raises(IndexError):
        merkle_proof([], 0)
    root = merkle_root([b"a", b"b"])
    assert not verify_merkle_proof(root, b"a", MerkleProof(2, 2, (leaf_hash(b"b"),)))
    with pytest.raises(InvalidProof, match="outside a tree of 2"):
        check_proof_shape(MerkleProof(2, 2, ()))
    check_proof_shape(MerkleProof(1, 2, ()))


@settings(max_examples=50, deadline=None)
@given(trees, st.data())
def test_proofs_round_trip_through_to_value_and_the_canonical_encoding(
    items: list[bytes], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(items) - 1), label="index")
    proof = merkle_proof(items, index)
    assert MerkleProof.from_value(proof.to_value()) == proof
    decoded = MerkleProof.from_value(encoding.decode(encoding.encode(proof.to_value())))
    assert decoded == proof
    assert verify_merkle_proof(merkle_root(items), items[index], decoded)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([0, 0, []], "leaf_count"),
        ([0, 2, [bytes(31)]], "expected 32 bytes"),
        ([0, 2, [bytes(32)] * (MAX_PROOF_DEPTH + 1)], "at most 64"),
        ([0, 2], "expected 3 fields"),
        ([-1, 2, []], "index"),
    ],
)
def test_from_value_refuses_malformed_proofs(value: list[object], message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        MerkleProof.from_value(value)


def test_proofs_read_from_the_levels_are_the_proofs_built_from_the_items() -> None:
    """The node answers commits with proofs read from levels built once per block
    (issue 13): they must be exactly what merkle_proof gives, for every tree size up to
    a few levels past 2**6 and every leaf, odd promotions included."""
    for count in [*range(1, 71), 127, 128, 129, 500]:
        items = items_of(count)
        levels = merkle_levels(items)
        assert root_from_levels(levels) == merkle_root(items)
        assert len(levels[-1]) == 1
        for index in range(count):
            assert proof_from_levels(levels, index) == merkle_proof(items, index), (count, index)


def test_levels_of_no_items_give_the_empty_root_and_no_proof() -> None:
    assert merkle_levels([]) == ()
    assert root_from_levels(()) == EMPTY_ROOT
    with pytest.raises(IndexError):
        proof_from_levels((), 0)


@pytest.mark.parametrize("index", [-1, 3])
def test_a_proof_from_levels_outside_the_tree_is_refused_as_merkle_proof_refuses_it(
    index: int,
) -> None:
    items = items_of(3)
    with pytest.raises(IndexError):
        merkle_proof(items, index)
    with pytest.raises(IndexError):
        proof_from_levels(merkle_levels(items), index)
