"""Block headers and blocks.

header = [version, chain_id, height, timestamp_ms, prev_hash, tx_root, prev_app_hash,
          prev_receipts_root, proposer]
block  = [header, [transaction, ...]]

block_hash = tagged_hash(BLOCK_HEADER, encode(header)). A header at height h carries the
results of executing block h-1 (its app hash and its receipts root), as CometBFT does:
the proposer of h has executed h-1, and a verifier that re-executes h-1 compares. The
view in which a block was agreed is not in the header, so a block prepared in one view is
re-proposed unchanged in the next; it is in the commit certificate.

An encoded block is at most MAX_BLOCK_BYTES (PROTOCOL.md section 5). validate_basic checks
it from the transactions' sizes without encoding the block; `from_value` refuses a block
value over the limit before it builds a single transaction, and `read_header` reads a
stored block's header without decoding its transactions, so a store that holds a block
over the limit (issue 9) still answers hash and height queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import msgpack

from chain import encoding
from chain.errors import DecodeError, InvalidBlock, VotechainError
from chain.hashing import HASH_SIZE, Domain, tagged_hash
from chain.keys import PUBLIC_KEY_SIZE
from chain.merkle import merkle_levels, merkle_root, root_from_levels
from chain.tx import MAX_CHAIN_ID_LENGTH, MAX_TX_BYTES, Transaction
from chain.verified import VerifiedTransactions

HEADER_VERSION = 1
MAX_BLOCK_TXS = 10_000
MAX_BLOCK_BYTES = 8 * 1024 * 1024
"""Protocol limit on len(encode(block)), header and array headers included."""
MAX_HEADER_BYTES = 1_024
"""More than any encoded header takes (a 64-character chain id in 4-byte UTF-8 is 258)."""
BLOCK_OVERHEAD_MAX_BYTES = MAX_HEADER_BYTES + 1 + 5
"""Bytes of a block that are not its transactions, at most: header, the block's own
2-item array header (1 byte) and the transaction array's header (at most 5 bytes)."""
BLOCK_CHECKS_WHERE = "block"
"""The label of block validation's signature checks in VerifiedTransactions.checks."""


@dataclass(frozen=True)
class BlockHeader:
    version: int
    chain_id: str
    height: int
    timestamp_ms: int
    prev_hash: bytes
    tx_root: bytes
    prev_app_hash: bytes
    prev_receipts_root: bytes
    proposer: bytes

    def to_value(self) -> list[Any]:
        return [
            self.version,
            self.chain_id,
            self.height,
            self.timestamp_ms,
            self.prev_hash,
            self.tx_root,
            self.prev_app_hash,
            self.prev_receipts_root,
            self.proposer,
        ]

    def encode(self) -> bytes:
        return self._encoded

    @cached_property
    def _encoded(self) -> bytes:
        """Encoded once: the block hash, the block's size and its encoding reuse it."""
        return encoding.encode(self.to_value())

    @cached_property
    def block_hash(self) -> bytes:
        return tagged_hash(Domain.BLOCK_HEADER, self.encode())

    @classmethod
    def from_value(cls, value: Any) -> BlockHeader:
        f = encoding.expect_list(value, 9, "header")
        header = cls(
            version=encoding.expect_int(f[0], "header.version"),
            chain_id=encoding.expect_str(f[1], "header.chain_id", MAX_CHAIN_ID_LENGTH),
            height=encoding.expect_int(f[2], "header.height", minimum=1),
            timestamp_ms=encoding.expect_int(f[3], "header.timestamp_ms"),
            prev_hash=encoding.expect_bytes(f[4], "header.prev_hash", HASH_SIZE),
            tx_root=encoding.expect_bytes(f[5], "header.tx_root", HASH_SIZE),
            prev_app_hash=encoding.expect_bytes(f[6], "header.prev_app_hash", HASH_SIZE),
            prev_receipts_root=encoding.expect_bytes(f[7], "header.prev_receipts_root", HASH_SIZE),
            proposer=encoding.expect_bytes(f[8], "header.proposer", PUBLIC_KEY_SIZE),
        )
        if header.version != HEADER_VERSION:
            raise DecodeError(f"header.version: unknown version {header.version}")
        return header

    @classmethod
    def decode(cls, data: bytes) -> BlockHeader:
        header = cls.from_value(encoding.decode(data))
        # The bytes just decoded are canonical: they are this header's encoding.
        header.__dict__["_encoded"] = bytes(data)
        return header


@dataclass(frozen=True)
class Block:
    header: BlockHeader
    transactions: tuple[Transaction, ...]

    @property
    def height(self) -> int:
        return self.header.height

    @property
    def block_hash(self) -> bytes:
        return self.header.block_hash

    def to_value(self) -> list[Any]:
        return [self.header.to_value(), [tx.to_value() for tx in self.transactions]]

    def encode(self) -> bytes:
        """encode(self.to_value()), assembled from the header's and the transactions'
        own canonical encodings (kept, chain.tx) instead of packing every field again:
        an array's encoding is its header followed by its items' encodings."""
        return b"".join(
            [
                _ARRAY_OF_TWO,
                self.header.encode(),
                array_header(len(self.transactions)),
                *(tx.encode() for tx in self.transactions),
            ]
        )

    @cached_property
    def tx_levels(self) -> tuple[tuple[bytes, ...], ...]:
        """The Merkle levels of the tx_ids (chain.merkle.merkle_levels), built once: the
        tx_root check and every inclusion proof a node answers with read them."""
        return merkle_levels([tx.tx_id for tx in self.transactions])

    @cached_property
    def encoded_size(self) -> int:
        """len(self.encode()), computed from the parts without encoding the block."""
        return (
            array_header_size(2)
            + len(self.header.encode())
            + array_header_size(len(self.transactions))
            + sum(tx.encoded_size for tx in self.transactions)
        )

    @classmethod
    def from_value(cls, value: Any, raw: bytes | None = None) -> Block:
        """The block whose decoded value is `value`; refuses one over MAX_BLOCK_BYTES
        before building any transaction, since a proposal may hold up to 10,000.

        `raw`, if given, must be the canonical bytes `value` was decoded from: the
        header and each transaction then keep their own slices of them (chain.tx), so
        the block hash, tx_ids, sizes and sign bytes are hashed from those bytes, not
        from a re-encoding."""
        fields = encoding.expect_list(value, 2, "block")
        txs = encoding.expect_array(fields[1], "block.transactions", MAX_BLOCK_TXS)
        size = len(raw) if raw is not None else _value_size(value)
        if size > MAX_BLOCK_BYTES:
            raise DecodeError(f"block is {size} bytes, the limit is {MAX_BLOCK_BYTES}")
        header = BlockHeader.from_value(fields[0])
        if raw is None:
            return cls(header, tuple(Transaction.from_value(t) for t in txs))
        (header_start, header_end), (txs_start, _) = encoding.array_spans(raw)
        header.__dict__["_encoded"] = raw[header_start:header_end]
        spans = encoding.array_spans(raw, txs_start)
        return cls(
            header,
            tuple(
                Transaction.from_value(t, raw[start:end])
                for t, (start, end) in zip(txs, spans, strict=True)
            ),
        )

    @classmethod
    def decode(cls, data: bytes) -> Block:
        if len(data) > MAX_BLOCK_BYTES:
            raise DecodeError(f"block is {len(data)} bytes, the limit is {MAX_BLOCK_BYTES}")
        data = bytes(data)
        return cls.from_value(encoding.decode(data), raw=data)

    def validate_basic(self) -> None:
        """Checks that need nothing but the block: tx root, sizes, chain ids, duplicates.

        Signatures are not checked here (they are the expensive part); see verify_signatures.
        """
        height = self.header.height
        if self.header.version != HEADER_VERSION:
            raise InvalidBlock(f"block {height}: unknown header version {self.header.version}")
        if len(self.transactions) > MAX_BLOCK_TXS:
            raise InvalidBlock(
                f"block {height}: {len(self.transactions)} transactions, limit {MAX_BLOCK_TXS}"
            )
        if self.encoded_size > MAX_BLOCK_BYTES:
            raise InvalidBlock(
                f"block {height} is {self.encoded_size} bytes, the limit is {MAX_BLOCK_BYTES}"
            )
        tx_ids = [tx.tx_id for tx in self.transactions]
        if len(set(tx_ids)) != len(tx_ids):
            raise InvalidBlock(f"block {height} contains the same transaction twice")
        expected_root = root_from_levels(self.tx_levels)
        if expected_root != self.header.tx_root:
            raise InvalidBlock(
                f"block {height}: tx_root is {self.header.tx_root.hex()[:16]}, "
                f"the transactions give {expected_root.hex()[:16]}"
            )
        for position, tx in enumerate(self.transactions):
            if tx.chain_id != self.header.chain_id:
                raise InvalidBlock(
                    f"block {height}, transaction {position}: chain id {tx.chain_id!r}, "
                    f"expected {self.header.chain_id!r}"
                )
            if len(tx.encode()) > MAX_TX_BYTES:
                raise InvalidBlock(f"block {height}, transaction {position} is too large")
            try:
                tx.validate_basic()
            except VotechainError as exc:
                raise InvalidBlock(f"block {height}, transaction {position}: {exc}") from exc

    def verify_signatures(self, verified: VerifiedTransactions | None = None) -> None:
        """Raise InvalidBlock naming the first transaction whose signature is bad.

        With `verified` (the node's chain.verified set), a transaction whose signature
        the node already checked is not checked again.
        """
        for position, tx in enumerate(self.transactions):
            try:
                if verified is None:
                    tx.verify(self.header.chain_id)
                else:
                    verified.verify(tx, self.header.chain_id, BLOCK_CHECKS_WHERE)
            except VotechainError as exc:
                raise InvalidBlock(f"block {self.height}, transaction {position}: {exc}") from exc


def make_header(
    chain_id: str,
    height: int,
    timestamp_ms: int,
    prev_hash: bytes,
    transactions: tuple[Transaction, ...],
    prev_app_hash: bytes,
    prev_receipts_root: bytes,
    proposer: bytes,
) -> BlockHeader:
    """A header whose tx_root is computed from `transactions`."""
    return BlockHeader(
        HEADER_VERSION,
        chain_id,
        height,
        timestamp_ms,
        prev_hash,
        merkle_root([tx.tx_id for tx in transactions]),
        prev_app_hash,
        prev_receipts_root,
        proposer,
    )


def array_header_size(count: int) -> int:
    """Bytes of the msgpack header of an array of `count` items (fixarray, array 16, 32)."""
    if count < 16:
        return 1
    if count < 2**16:
        return 3
    return 5


_ARRAY_OF_TWO = b"\x92"
"""msgpack fixarray header of a block's [header, transactions]."""


def array_header(count: int) -> bytes:
    """The canonical msgpack header of an array of `count` items (array_header_size bytes)."""
    if count < 16:
        return bytes([0x90 | count])
    if count < 2**16:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")


def read_header(data: bytes) -> BlockHeader:
    """The header of encoded block `data`, without decoding its transactions.

    The header is the first item of the block's 2-item array; its raw bytes are decoded
    canonically, so its block_hash is the one the whole block would give.
    """
    # A header is at most MAX_HEADER_BYTES after the 1-byte array header: read no more,
    # so reading the header of an 8 MiB block costs what a small block's does.
    prefix = data[: 1 + MAX_HEADER_BYTES]
    unpacker = msgpack.Unpacker(raw=False, use_list=True, max_buffer_size=len(prefix) + 1)
    unpacker.feed(prefix)
    try:
        if unpacker.read_array_header() != 2:
            raise DecodeError("block: expected an array of 2 fields")
        start = unpacker.tell()
        unpacker.skip()
        end = unpacker.tell()
    except (msgpack.OutOfData, ValueError, TypeError, msgpack.UnpackException) as exc:
        raise DecodeError(f"block: cannot read the header: {exc}") from exc
    return BlockHeader.decode(data[start:end])


def _value_size(value: Any) -> int:
    """Encoded size of an already decoded value (packing is C code: no Python objects)."""
    try:
        return len(msgpack.packb(value, use_bin_type=True))
    except (TypeError, ValueError, OverflowError) as exc:
        raise DecodeError(f"block: not encodable: {exc}") from exc
