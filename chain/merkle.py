"""Merkle trees over byte strings, with inclusion proofs.

leaf hash  = tagged_hash(MERKLE_LEAF, item)
node hash  = tagged_hash(MERKLE_NODE, left || right)
root       = tagged_hash(MERKLE_ROOT, leaf_count as 8 bytes big-endian || top node)
Levels are built pairwise from the left. The odd rule: when a level has an odd number of
nodes, the last one is promoted unchanged to the next level (it is not duplicated, so no
two different lists of leaves share a root). The root commits to the leaf count, so a
proof cannot place a leaf at another index by claiming another tree size. The root of an
empty list is 32 zero bytes.

A proof for leaf `index` of a tree of `leaf_count` leaves is the list of sibling hashes
from the leaf level up, skipping the levels where the node was promoted without a sibling.

`merkle_levels` builds every level of a tree once (n leaf hashes and about n node hashes);
`proof_from_levels` then reads a proof out of them in O(log n), with no hashing. A node
builds the levels of each block it delivers, so answering a commit with its proof costs
the same whatever the block size (issue 13); `merkle_proof` is the one-off form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chain import encoding
from chain.errors import InvalidProof
from chain.hashing import HASH_SIZE, Domain, tagged_hash

EMPTY_ROOT = bytes(HASH_SIZE)
MAX_PROOF_DEPTH = 64


@dataclass(frozen=True)
class MerkleProof:
    index: int
    leaf_count: int
    siblings: tuple[bytes, ...]

    def to_value(self) -> list[Any]:
        return [self.index, self.leaf_count, list(self.siblings)]

    @classmethod
    def from_value(cls, value: Any) -> MerkleProof:
        fields = encoding.expect_list(value, 3, "merkle proof")
        siblings = encoding.expect_array(fields[2], "merkle proof.siblings", MAX_PROOF_DEPTH)
        return cls(
            index=encoding.expect_int(fields[0], "merkle proof.index"),
            leaf_count=encoding.expect_int(fields[1], "merkle proof.leaf_count", minimum=1),
            siblings=tuple(
                encoding.expect_bytes(s, "merkle proof.sibling", HASH_SIZE) for s in siblings
            ),
        )


def leaf_hash(item: bytes) -> bytes:
    return tagged_hash(Domain.MERKLE_LEAF, item)


def node_hash(left: bytes, right: bytes) -> bytes:
    return tagged_hash(Domain.MERKLE_NODE, left + right)


def seal_root(leaf_count: int, top: bytes) -> bytes:
    """The root of a tree of `leaf_count` leaves whose top node is `top`."""
    return tagged_hash(Domain.MERKLE_ROOT, leaf_count.to_bytes(8, "big") + top)


def merkle_root(items: Sequence[bytes]) -> bytes:
    """Root of the tree whose leaves are `items`, in order."""
    if not items:
        return EMPTY_ROOT
    level = [leaf_hash(item) for item in items]
    while len(level) > 1:
        level = _next_level(level)
    return seal_root(len(items), level[0])


def merkle_proof(items: Sequence[bytes], index: int) -> MerkleProof:
    """Inclusion proof of items[index]."""
    if not 0 <= index < len(items):
        raise IndexError(f"leaf {index} is outside a tree of {len(items)} leaves")
    level = [leaf_hash(item) for item in items]
    position = index
    siblings: list[bytes] = []
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):
            siblings.append(level[sibling])
        level = _next_level(level)
        position //= 2
    return MerkleProof(index, len(items), tuple(siblings))


def merkle_levels(items: Sequence[bytes]) -> tuple[tuple[bytes, ...], ...]:
    """Every level of the tree over `items`: leaf hashes first, the top node last.

    Empty for no items. levels[-1] is the 1-node top level, so the root is
    seal_root(len(items), levels[-1][0])."""
    if not items:
        return ()
    level = [leaf_hash(item) for item in items]
    levels = [tuple(level)]
    while len(level) > 1:
        level = _next_level(level)
        levels.append(tuple(level))
    return tuple(levels)


def root_from_levels(levels: Sequence[Sequence[bytes]]) -> bytes:
    """merkle_root of the items whose levels are `levels` (merkle_levels)."""
    if not levels:
        return EMPTY_ROOT
    return seal_root(len(levels[0]), levels[-1][0])


def proof_from_levels(levels: Sequence[Sequence[bytes]], index: int) -> MerkleProof:
    """merkle_proof(items, index), read from merkle_levels(items) without hashing."""
    leaf_count = len(levels[0]) if levels else 0
    if not 0 <= index < leaf_count:
        raise IndexError(f"leaf {index} is outside a tree of {leaf_count} leaves")
    siblings: list[bytes] = []
    position = index
    for level in levels[:-1]:
        sibling = position ^ 1
        if sibling < len(level):
            siblings.append(level[sibling])
        position //= 2
    return MerkleProof(index, leaf_count, tuple(siblings))


def verify_merkle_proof(root: bytes, item: bytes, proof: MerkleProof) -> bool:
    """True if `item` is leaf `proof.index` of a tree with root `root`."""
    if not 0 <= proof.index < proof.leaf_count:
        return False
    current = leaf_hash(item)
    position, width = proof.index, proof.leaf_count
    remaining = list(proof.siblings)
    while width > 1:
        sibling = position ^ 1
        if sibling < width:
            if not remaining:
                return False
            other = remaining.pop(0)
            current = node_hash(current, other) if position % 2 == 0 else node_hash(other, current)
        position //= 2
        width = (width + 1) // 2
    return not remaining and seal_root(proof.leaf_count, current) == root


def _next_level(level: list[bytes]) -> list[bytes]:
    paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        paired.append(level[-1])
    return paired


def check_proof_shape(proof: MerkleProof) -> None:
    """Raise InvalidProof if the proof cannot belong to any tree."""
    if not 0 <= proof.index < proof.leaf_count:
        raise InvalidProof(f"leaf index {proof.index} outside a tree of {proof.leaf_count}")
