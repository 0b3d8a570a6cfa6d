"""The node-local forms of the store's transaction index and receipts (layout 2).

Pure functions from bytes to bytes; chain/store.py does the reading and writing. Both
forms drop what the block itself already holds, so no byte a verifier checks changes:
the block, certificate, app hash and state records are stored exactly as before, and a
receipt read back is byte for byte the canonical encoding of PROTOCOL.md 11.2.

**Transaction index.** Layout 1 keyed every transaction by its whole 32-byte tx_id and
stored (height, position) in 12 fixed bytes: 47 bytes a transaction, of which LevelDB
compresses nothing (the ids are random). Layout 2 keys it by the tx_id's first
TX_KEY_BYTES bytes, and the value locates the transaction's bytes inside its block:

    txi/<tx_id[:8]>   uvarint height || uvarint position || uvarint offset || uvarint length

A lookup reads the block's bytes at [offset, offset + length) and hashes them: the tx_id
is confirmed, never assumed from 8 bytes. Two transactions sharing the 8 bytes (by
chance about one pair in 2^64 / n^2, or ground on purpose at about 2^32 signatures) are
both kept: the first under txi/, every later one under txf/<whole tx_id> with the same
value, where a lookup whose txi/ entry is another transaction looks next.

**Receipts.** A receipt is [tx_id, position, code, poll_id] (11.2); the first two are the
block's own tx_id and index. Layout 2 stores only the rest:

    rcpt/<h8>   0x00 || the concatenated encodings of each receipt's fields after
                position (code, poll_id), in transaction order
             or 0x01 || encode([receipt bytes, ...]) when some receipt does not begin
                with its transaction's tx_id and position (the store keeps what it is
                given, so a verifier still finds such a receipt wrong, as in layout 1)

and a receipt is rebuilt as the array header, the tx_id hashed from the block's bytes,
the position, and its stored tail. The tail is kept as encoded bytes (not re-encoded), so
whatever the state machine wrote after position comes back unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import msgpack

from chain import encoding
from chain.errors import DecodeError, StoreError
from chain.hashing import Domain

TX_KEY_BYTES = 8
RECEIPT_HEADER = b"\x94"
"""A receipt is an array of 4 (PROTOCOL.md 11.2)."""
_TX_ID_PREFIX = b"\xc4\x20"
"""bin 8 of length 32: how a receipt's tx_id begins."""
RECEIPT_TAIL_FIELDS = 2
TAILS = b"\x00"
WHOLE = b"\x01"


@dataclass(frozen=True)
class TxLocation:
    """Where a transaction is: its block, its index there, and its bytes in the block."""

    height: int
    position: int
    offset: int
    length: int

    def pack(self) -> bytes:
        return pack_location(self.height, self.position, self.offset, self.length)

    @classmethod
    def unpack(cls, raw: bytes) -> TxLocation:
        values, end = [], 0
        for _ in range(4):
            value, end = unpack_uvarint(raw, end)
            values.append(value)
        if end != len(raw):
            raise DecodeError(f"a tx index entry of {len(raw)} bytes has {len(raw) - end} extra")
        return cls(*values)


def pack_location(height: int, position: int, offset: int, length: int) -> bytes:
    """A txi/ value. Every transaction of every block is indexed, so the common sizes
    (position and length below 2^14, offset and height below 2^21) skip the loop."""
    return (
        pack_uvarint(height)
        + pack_uvarint(position)
        + pack_uvarint(offset)
        + (pack_uvarint(length))
    )


_ONE_BYTE = [bytes([value]) for value in range(0x80)]


def pack_uvarint(value: int) -> bytes:
    """LEB128: 7 bits a byte, low first, high bit set on every byte but the last."""
    if 0 <= value < 0x80:
        return _ONE_BYTE[value]
    if 0 < value < 0x4000:
        return bytes((value & 0x7F | 0x80, value >> 7))
    if 0 < value < 0x200000:
        return bytes((value & 0x7F | 0x80, (value >> 7) & 0x7F | 0x80, value >> 14))
    if value < 0:
        raise ValueError(f"uvarint of negative {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def unpack_uvarint(raw: bytes, start: int) -> tuple[int, int]:
    """(value, offset after it) of the uvarint at `start`."""
    value, shift, at = 0, 0, start
    while True:  # bounded: each pass consumes a byte of `raw` or raises
        if at >= len(raw) or shift > 63:
            raise DecodeError(f"truncated or overlong uvarint at offset {start}")
        byte = raw[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def tx_key(tx_id: bytes) -> bytes:
    return tx_id[:TX_KEY_BYTES]


_TX_ID_HASH = hashlib.sha256(bytes([Domain.TRANSACTION_ID]))
"""SHA-256 having read the domain byte: copied per tx_id (receipts are rebuilt 500 at a
time for a state transfer's raw blocks, and this halves the hashing's Python cost)."""


def tx_id_of_bytes(tx_bytes: bytes | memoryview) -> bytes:
    """H(TRANSACTION_ID, encoded transaction): chain.tx.tx_id_of without a copy."""
    digest = _TX_ID_HASH.copy()
    digest.update(tx_bytes)
    return digest.digest()


def tx_spans(block_bytes: bytes) -> list[tuple[int, int]]:
    """(offset, end) of each transaction's encoding in a stored (canonical) block."""
    _header, (txs_start, _end) = encoding.array_spans(block_bytes)
    return encoding.array_spans(block_bytes, txs_start)


def tx_locations(height: int, block_bytes: bytes) -> list[TxLocation]:
    return [
        TxLocation(height, i, start, end - start)
        for i, (start, end) in enumerate(tx_spans(block_bytes))
    ]


def block_tx_ids(block_bytes: bytes) -> list[bytes]:
    view = memoryview(block_bytes)
    return [tx_id_of_bytes(view[start:end]) for start, end in tx_spans(block_bytes)]


_POSITIONS = [encoding.encode(position) for position in range(10_001)]
"""The encodings of every position a block can have (at most 10,000 transactions)."""


def receipt_prefix(tx_id: bytes, position: int) -> bytes:
    """The bytes every receipt of this transaction starts with."""
    encoded = _POSITIONS[position] if position < len(_POSITIONS) else encoding.encode(position)
    return RECEIPT_HEADER + _TX_ID_PREFIX + tx_id + encoded


def receipt_tails(tx_ids: Sequence[bytes], receipts: Sequence[bytes]) -> bytes:
    """The rcpt/ value of a block: each receipt without its tx_id and position.

    Refuses (StoreError) a receipt that is not for the transaction at its position or
    whose tail is not exactly two encoded fields: storing it would rebuild other bytes.
    """
    if len(tx_ids) != len(receipts):
        raise StoreError(f"{len(tx_ids)} transactions but {len(receipts)} receipts")
    tails, ends, at = [], [], 0
    for position, (tx_id, receipt) in enumerate(zip(tx_ids, receipts, strict=True)):
        prefix = receipt_prefix(tx_id, position)
        if not receipt.startswith(prefix):
            raise StoreError(f"receipt {position} is not for transaction {tx_id.hex()}")
        tails.append(receipt[len(prefix) :])
        at += len(receipt) - len(prefix)
        ends.append(at)
    joined = b"".join(tails)
    try:
        parsed = _tail_ends(joined, len(receipts))
    except DecodeError as exc:
        raise StoreError(f"a receipt's fields after its position do not parse: {exc}") from exc
    if parsed != ends:
        wrong = next(i for i, (a, b) in enumerate(zip(parsed, ends, strict=True)) if a != b)
        raise StoreError(
            f"receipt {wrong} has not exactly {RECEIPT_TAIL_FIELDS} fields after position"
        )
    return joined


def pack_receipts(tx_ids: Sequence[bytes], receipts: Sequence[bytes]) -> bytes:
    """The rcpt/ value of a block's receipts: their tails, or all of them if they are not
    the receipts of these transactions in order."""
    try:
        return TAILS + receipt_tails(tx_ids, receipts)
    except StoreError:
        return WHOLE + encode_receipts(receipts)


def unpack_receipts(tx_ids: Sequence[bytes], value: bytes) -> list[bytes]:
    """The receipts stored as `value` (an rcpt/ value) for a block of `tx_ids`."""
    if value.startswith(TAILS):
        return rebuild_receipts(tx_ids, value[1:])
    if value.startswith(WHOLE):
        array = encoding.expect_array(encoding.decode(value[1:]), "receipts")
        return [encoding.expect_bytes(r, "receipt") for r in array]
    raise DecodeError(f"unknown stored receipts form {value[:1].hex() or 'empty'}")


def rebuild_receipts(tx_ids: Sequence[bytes], tails: bytes) -> list[bytes]:
    """The receipts' canonical encodings from the block's tx_ids and the rcpt/ value."""
    ends = _tail_ends(tails, len(tx_ids))
    if (ends[-1] if ends else 0) != len(tails):
        raise DecodeError(f"the stored receipts hold bytes past receipt {len(tx_ids) - 1}")
    receipts, start = [], 0
    for position, (tx_id, end) in enumerate(zip(tx_ids, ends, strict=True)):
        receipts.append(receipt_prefix(tx_id, position) + tails[start:end])
        start = end
    return receipts


def encode_receipts(receipts: Sequence[bytes]) -> bytes:
    """The receipts array as PROTOCOL.md 14.2 serves it: encode([receipt bytes, ...])."""
    return encoding.encode(list(receipts))


def _tail_ends(data: bytes, count: int) -> list[int]:
    """The offset after each of `count` receipt tails (RECEIPT_TAIL_FIELDS encoded
    values each) laid end to end from the start of `data`: one unpacker for them all."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=max(len(data), 1))
    unpacker.feed(data)
    ends = []
    try:
        for _ in range(count):
            for _ in range(RECEIPT_TAIL_FIELDS):
                unpacker.skip()
            ends.append(unpacker.tell())
    except (msgpack.OutOfData, ValueError, TypeError, msgpack.UnpackException) as exc:
        raise DecodeError(f"stored receipt fields cut short after {len(ends)}: {exc}") from exc
    return ends
