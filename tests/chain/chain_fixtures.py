"""Deterministic chains for tests: keys from fixed seeds, genesis, and valid next blocks.

Everything here is a pure function of its arguments (Ed25519 signatures are
deterministic), so a chain built twice from the same seed is byte-identical. The crash
test relies on this: its child process appends blocks made by `next_bundle`, and the
test replays the same generator to know what the store must hold.

    genesis = make_genesis(4)
    tip = ChainTip.from_genesis(genesis)
    bundle = next_bundle(tip, genesis, seed=7)      # block, certificate, receipts, writes
    store.append_block(*bundle.append_args())
    tip = tip.advance(bundle)

`next_bundle_for_store(store, seed)` reads the tip from a ChainStore instead.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from chain import encoding
from chain.block import Block, make_header
from chain.certificate import CommitCertificate
from chain.genesis import Genesis, NamedKey
from chain.keys import PrivateKey
from chain.merkle import merkle_root
from chain.state import ZERO_HASH, WriteSet, next_app_hash
from chain.store import ChainStore
from chain.tx import Transaction

CHAIN_ID = "test-chain"
GENESIS_TIME_MS = 1_700_000_000_000
BLOCK_INTERVAL_MS = 1_000
TXS_PER_BLOCK = 3

COUNTER_KEY = b"counter"
"""State key holding the head height as 8 bytes big-endian."""
BLOCK_KEY_PREFIX = b"block-seen/"
"""One state key per block: BLOCK_KEY_PREFIX + height (8 bytes) -> block hash."""
SCRATCH_KEY = b"scratch"
"""Written at odd heights and deleted at even ones, so deletes are exercised too."""


def seeded_key(label: str, index: int = 0) -> PrivateKey:
    """An Ed25519 key derived from a fixed label, the same in every process."""
    return PrivateKey.from_seed(hashlib.sha256(f"{label}/{index}".encode()).digest())


def validator_keys(count: int) -> list[PrivateKey]:
    return [seeded_key("validator", i) for i in range(count)]


def make_genesis(validator_count: int = 4, chain_id: str = CHAIN_ID) -> Genesis:
    return Genesis(
        chain_id=chain_id,
        genesis_time_ms=GENESIS_TIME_MS,
        validators=tuple(
            NamedKey(f"validator-{i}", key.public_key)
            for i, key in enumerate(validator_keys(validator_count))
        ),
        admins=(seeded_key("admin").public_key,),
        attesters=(NamedKey("attester-0", seeded_key("attester").public_key),),
    )


def genesis_writes() -> WriteSet:
    return [(COUNTER_KEY, pack_u64(0))]


@dataclass(frozen=True)
class ChainTip:
    """What the next block must link to: the results of the last block."""

    height: int
    block_hash: bytes
    app_hash: bytes
    receipts_root: bytes

    @classmethod
    def from_genesis(cls, genesis: Genesis) -> ChainTip:
        return cls(0, genesis.genesis_hash, next_app_hash(ZERO_HASH, genesis_writes()), ZERO_HASH)

    @classmethod
    def from_store(cls, store: ChainStore) -> ChainTip:
        head = store.head_height
        return cls(head, store.block_hash(head), store.app_hash(head), store.receipts_root(head))

    def advance(self, bundle: BlockBundle) -> ChainTip:
        return ChainTip(
            bundle.block.height,
            bundle.block.block_hash,
            next_app_hash(self.app_hash, bundle.writes),
            merkle_root(bundle.receipts),
        )


@dataclass(frozen=True)
class BlockBundle:
    """Everything ChainStore.append_block takes for one block."""

    block: Block
    certificate: CommitCertificate
    receipts: tuple[bytes, ...]
    writes: WriteSet

    def append_args(self) -> tuple[Block, CommitCertificate, list[bytes], WriteSet]:
        return self.block, self.certificate, list(self.receipts), self.writes


def block_transactions(
    height: int, seed: int, chain_id: str = CHAIN_ID, count: int = TXS_PER_BLOCK
) -> tuple[Transaction, ...]:
    """`count` signed transactions, distinct per (seed, height, position)."""
    return tuple(
        Transaction.create(
            seeded_key(f"phone-{seed}", position),
            chain_id,
            "test",
            encoding.encode([seed, height, position]),
            nonce=height,
        )
        for position in range(count)
    )


def certified_block(
    tip: ChainTip, genesis: Genesis, transactions: tuple[Transaction, ...]
) -> tuple[Block, CommitCertificate, tuple[bytes, ...]]:
    """The block after `tip` holding `transactions`, certified by every validator, and a
    receipt per transaction shaped as PROTOCOL.md 11.2's (the store keeps those compactly)."""
    height = tip.height + 1
    keys = validator_keys(len(genesis.validators))
    header = make_header(
        genesis.chain_id,
        height,
        genesis.genesis_time_ms + height * BLOCK_INTERVAL_MS,
        tip.block_hash,
        transactions,
        tip.app_hash,
        tip.receipts_root,
        keys[height % len(keys)].public_key,
    )
    block = Block(header, transactions)
    certificate = CommitCertificate.sign(keys, genesis.chain_id, 0, height, block.block_hash)
    receipts = tuple(
        encoding.encode([tx.tx_id, position, "accepted", None])
        for position, tx in enumerate(transactions)
    )
    return block, certificate, receipts


def next_bundle(tip: ChainTip, genesis: Genesis, seed: int = 0) -> BlockBundle:
    """The valid block after `tip`, certified by all validators of make_genesis()."""
    height = tip.height + 1
    transactions = block_transactions(height, seed, genesis.chain_id)
    block, certificate, receipts = certified_block(tip, genesis, transactions)
    writes: WriteSet = [
        (COUNTER_KEY, pack_u64(height)),
        (block_key(height), block.block_hash),
        (SCRATCH_KEY, pack_u64(height) if height % 2 else None),
    ]
    return BlockBundle(block, certificate, receipts, sorted(writes, key=lambda kv: kv[0]))


def next_bundle_for_store(store: ChainStore, seed: int = 0) -> BlockBundle:
    return next_bundle(ChainTip.from_store(store), store.genesis, seed)


def append_blocks(store: ChainStore, count: int) -> list[BlockBundle]:
    """Appends the next `count` blocks of next_bundle's chain to `store`."""
    bundles = []
    for _ in range(count):
        bundle = next_bundle_for_store(store)
        store.append_block(*bundle.append_args())
        bundles.append(bundle)
    return bundles


def build_chain(genesis: Genesis, length: int, seed: int = 0) -> list[BlockBundle]:
    """Blocks 1..length of the chain next_bundle makes from `genesis`."""
    tip, bundles = ChainTip.from_genesis(genesis), []
    for _ in range(length):
        bundle = next_bundle(tip, genesis, seed)
        bundles.append(bundle)
        tip = tip.advance(bundle)
    return bundles


def block_key(height: int) -> bytes:
    return BLOCK_KEY_PREFIX + pack_u64(height)


def pack_u64(value: int) -> bytes:
    return struct.pack(">Q", value)


def oversized_bundle(
    store: ChainStore, tx_count: int = 139, body_bytes: int = 64_700
) -> BlockBundle:
    """The next block on `store` made of `tx_count` large transactions: over
    MAX_BLOCK_BYTES with the defaults, like block 14 of issue 9. Only for tests that need
    a store holding such a block (ChainStore.append_block never judges validity)."""
    tip = ChainTip.from_store(store)
    genesis = store.genesis
    height = tip.height + 1
    key = seeded_key("oversized-signer")
    transactions = tuple(
        Transaction.create(key, genesis.chain_id, "test", bytes(body_bytes), nonce=n)
        for n in range(tx_count)
    )
    block, certificate, receipts = certified_block(tip, genesis, transactions)
    return BlockBundle(block, certificate, receipts, [(COUNTER_KEY, pack_u64(height))])
