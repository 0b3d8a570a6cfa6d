"""ChainStore: the LevelDB block store and state database of one node.

Key spaces (all in one LevelDB, so one write batch covers a whole block):

    meta/genesis            encoded genesis document
    meta/head               height of the last stored block (8-byte big-endian)
    meta/layout             encode(2): the layout of this list (absent: layout 1)
    block/<h8>              encoded block at height h
    cert/<h8>               encoded commit certificate of block h
    rcpt/<h8>               the receipts of block h without their tx_id and position
                            (chain/storelayout.py); read back whole, as appended
    apphash/<h8>            app hash after executing block h (h = 0: genesis state)
    hash/<block hash>       <h8>
    txi/<tx_id[:8]>         where the transaction is: uvarint height, position, and its
                            bytes' offset and length in the block (chain/storelayout.py)
    txf/<tx_id>             the same, for a later transaction sharing an earlier's txi/
    state/<key>             the voting state machine's state
    local/<key>             this node's own records (consensus votes, bookkeeping);
                            not chain data, not hashed, never sent to a verifier

<h8> is the height as 8 bytes big-endian, so blocks iterate in height order.

Layout 1 (before issue 13's disk work) kept receipts/<h8> as the whole receipts array
and tx/<tx_id> -> <h8><position u32>: 70 more bytes a transaction on disk, every one a
copy of what the block holds. A layout 1 store is rewritten to layout 2 when it is
opened (`_migrate_from_1`): the new records are written first, meta/layout last in a
synced batch, then the old records are deleted; a kill -9 anywhere in between leaves a
store that the next open finishes migrating, and the chain data is untouched throughout.

Invariants, kept by writing every block in one synced write batch:
- blocks are contiguous from 1 to head; each has its certificate, receipts, app hash,
  hash index entry and one tx index entry per transaction, and nothing exists above head;
- block h's prev_hash is block h-1's hash (the genesis hash for h = 1), and its
  prev_app_hash and prev_receipts_root are the stored results of h-1;
- state/ is the state after executing block head.
A kill -9 at any moment leaves either the whole block or none of it: LevelDB applies a
write batch atomically from its log on reopen.

A write the disk refuses raises StoreWriteError and leaves the store as it was (the batch
is all or nothing). LevelDB then refuses every later write of this handle (its background
error sticks), so the caller stops rather than retries; `probe_write` lets a starting
node find a disk that cannot take writes before it says anything to anyone.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import plyvel

from chain import encoding, storelayout
from chain.block import Block, BlockHeader, read_header
from chain.certificate import CommitCertificate
from chain.errors import DecodeError, StoreError, StoreWriteError
from chain.genesis import Genesis
from chain.merkle import merkle_root
from chain.state import ZERO_HASH, WriteSet, next_app_hash

META_GENESIS = b"meta/genesis"
META_HEAD = b"meta/head"
META_LAYOUT = b"meta/layout"
LAYOUT = 2
"""The key layout this code writes (module docstring); meta/layout says a store's."""
RECEIPTS_PREFIX = b"rcpt/"
TX_PREFIX = b"txi/"
TX_FULL_PREFIX = b"txf/"
OLD_RECEIPTS_PREFIX = b"receipts/"
OLD_TX_PREFIX = b"tx/"
MIGRATION_BLOCKS_PER_BATCH = 64
"""Blocks rewritten per write batch when migrating: bounded memory for any chain."""
STATE_PREFIX = b"state/"
LOCAL_PREFIX = b"local/"
PROBE_KEY = b"probe/start"
PROBE_VALUE_BYTES = 4096
"""A start-up probe as large as a typical consensus record, so a disk too full for one
refuses the probe too."""


class ChainStore:
    """One node's chain and state on LevelDB. See the module docstring for the layout."""

    def __init__(self, path: Path | str, create: bool = True) -> None:
        self.path = Path(path)
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
        try:
            # paranoid_checks: a damaged log or table is an error at open, never records
            # silently dropped (which would serve a shorter chain as if it were whole).
            db = plyvel.DB(str(self.path), create_if_missing=create, paranoid_checks=True)
        except plyvel.CorruptionError as exc:
            raise StoreError(f"the chain store at {self.path} is damaged: {exc}") from exc
        except plyvel.IOError as exc:
            # Opening writes a new log file: a full disk refuses it here.
            raise _write_failed(self.path, exc) from exc
        except plyvel.Error as exc:
            raise StoreError(f"cannot open the chain store at {self.path}: {exc}") from exc
        self._db = _CheckedReads(db, self.path)
        self._genesis: Genesis | None = None
        try:
            raw_genesis = self._db.get(META_GENESIS)
            if raw_genesis is not None:
                self._genesis = Genesis.decode(raw_genesis)
            raw_head = self._db.get(META_HEAD)
        except Exception:
            db.close()
            raise
        self._head = _unpack_height(raw_head) if raw_head is not None else -1
        self._head_receipts_root: tuple[int, bytes] | None = None
        """(height, receipts root) of the last block this handle appended: the next
        block's proposal, check and append each need it, and reading it back meant
        decoding and hashing every receipt again, three times a block."""
        self.migrated_from: int | None = None
        """The layout this handle found and rewrote to LAYOUT when it opened, if any."""
        try:
            self._open_layout()
        except Exception:
            db.close()
            raise

    def _open_layout(self) -> None:
        raw = self._db.get(META_LAYOUT)
        if raw is None:
            if self._genesis is None:
                return  # empty: initialize writes the layout
            self._migrate_from_1()
            self.migrated_from = 1
            return
        try:
            layout = encoding.expect_int(encoding.decode(raw), "meta/layout")
        except DecodeError as exc:
            raise StoreError(f"the chain store at {self.path} is damaged: {exc}") from exc
        if layout != LAYOUT:
            raise StoreError(
                f"the chain store at {self.path} has layout {layout}; this votechain reads "
                f"layout {LAYOUT} (and rewrites layout 1): run the votechain release that "
                f"wrote it, or export the chain with it and import it here"
            )
        self._delete_prefixes((OLD_RECEIPTS_PREFIX, OLD_TX_PREFIX))  # a migration cut short

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ChainStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------

    def initialize(self, genesis: Genesis, genesis_writes: WriteSet) -> bytes:
        """Store genesis and the state it creates; returns the app hash at height 0.

        Idempotent for the same genesis; refuses a different one.
        """
        if self._genesis is not None:
            if self._genesis.genesis_hash != genesis.genesis_hash:
                raise StoreError(
                    f"{self.path} holds chain {self._genesis.chain_id!r} with genesis "
                    f"{self._genesis.genesis_hash.hex()[:16]}, not "
                    f"{genesis.genesis_hash.hex()[:16]}"
                )
            return self.app_hash(0)
        app_hash = next_app_hash(ZERO_HASH, genesis_writes)
        batch = self._db.write_batch(sync=True)
        batch.put(META_GENESIS, genesis.encode())
        batch.put(META_HEAD, _pack_height(0))
        batch.put(META_LAYOUT, encoding.encode(LAYOUT))
        batch.put(_key(b"apphash/", 0), app_hash)
        batch.put(_key(RECEIPTS_PREFIX, 0), storelayout.pack_receipts([], []))
        _put_writes(batch, genesis_writes)
        batch.write()
        self._genesis, self._head = genesis, 0
        return app_hash

    def append_block(
        self,
        block: Block,
        certificate: CommitCertificate,
        receipts: Sequence[bytes],
        writes: WriteSet,
        local_writes: Sequence[tuple[bytes, bytes | None]] = (),
    ) -> bytes:
        """Append the next block with its certificate, receipts and state writes.

        One synced write batch: after this returns the block survives a kill -9; if the
        process dies before, none of it is there. `local_writes` are local records (as
        write_local takes them: None deletes) written in the same batch, so they are
        durable exactly when the block is, for one fsync instead of two (the node's
        consensus records that precede a delivery). Returns the new app hash.
        """
        genesis = self.genesis
        height = block.height
        if height != self._head + 1:
            raise StoreError(f"cannot append block {height}: the head is {self._head}")
        if block.header.chain_id != genesis.chain_id:
            raise StoreError(f"block {height} is for chain {block.header.chain_id!r}")
        if block.header.prev_hash != self.block_hash(height - 1):
            raise StoreError(f"block {height} does not link to block {height - 1}")
        if block.header.prev_app_hash != self.app_hash(height - 1):
            raise StoreError(f"block {height} carries a wrong app hash for block {height - 1}")
        if block.header.prev_receipts_root != self.receipts_root(height - 1):
            raise StoreError(f"block {height} carries a wrong receipts root for {height - 1}")
        if certificate.height != height or certificate.block_hash != block.block_hash:
            raise StoreError(f"the certificate given is not for block {height}")
        if len(receipts) != len(block.transactions):
            raise StoreError(
                f"block {height} has {len(block.transactions)} transactions "
                f"but {len(receipts)} receipts"
            )
        app_hash = next_app_hash(self.app_hash(height - 1), writes)
        block_bytes = block.encode()
        tx_ids = [tx.tx_id for tx in block.transactions]
        packed = storelayout.pack_receipts(tx_ids, receipts)
        batch = self._db.write_batch(sync=True)
        batch.put(_key(b"block/", height), block_bytes)
        batch.put(_key(b"cert/", height), certificate.encode())
        batch.put(_key(RECEIPTS_PREFIX, height), packed)
        batch.put(_key(b"apphash/", height), app_hash)
        batch.put(b"hash/" + block.block_hash, _pack_height(height))
        self._put_tx_index(batch, tx_ids, _tx_locations(height, block, len(block_bytes)))
        _put_writes(batch, writes)
        _put_local(batch, local_writes)
        batch.put(META_HEAD, _pack_height(height))
        receipts_root = merkle_root(receipts)
        batch.write()
        self._head = height
        self._head_receipts_root = (height, receipts_root)
        return app_hash

    def put_local(self, key: bytes, value: bytes, sync: bool = True) -> None:
        self._db.put(LOCAL_PREFIX + key, value, sync=sync)

    def delete_local(self, key: bytes, sync: bool = True) -> None:
        self._db.delete(LOCAL_PREFIX + key, sync=sync)

    def probe_write(self) -> None:
        """A synced write of a local record: StoreWriteError if the disk cannot take it."""
        self.put_local(PROBE_KEY, b"\0" * PROBE_VALUE_BYTES, sync=True)

    def write_local(self, writes: Sequence[tuple[bytes, bytes | None]], sync: bool = True) -> None:
        """Several local records in one atomic batch."""
        batch = self._db.write_batch(sync=sync)
        _put_local(batch, writes)
        batch.write()

    # --- reading -------------------------------------------------------------------

    @property
    def genesis(self) -> Genesis:
        if self._genesis is None:
            raise StoreError(f"{self.path} has no genesis yet (run `votechain init`)")
        return self._genesis

    @property
    def initialized(self) -> bool:
        return self._genesis is not None

    @property
    def head_height(self) -> int:
        """Height of the last block; 0 when only genesis is stored, -1 when empty."""
        return self._head

    def block_hash(self, height: int) -> bytes:
        """Hash of block `height`; height 0 is the genesis hash.

        Read from the header alone: cheap for a full block, and possible even for a block
        over the size limit that a store may hold from before the limit was enforced.
        """
        if height == 0:
            return self.genesis.genesis_hash
        return self.get_header(height).block_hash

    def get_header(self, height: int) -> BlockHeader:
        """The header of block `height`, without decoding the block's transactions."""
        return read_header(self._require(_key(b"block/", height), f"block {height}"))

    def get_block(self, height: int) -> Block:
        return Block.decode(self._require(_key(b"block/", height), f"block {height}"))

    def get_block_bytes(self, height: int) -> bytes | None:
        data: bytes | None = self._db.get(_key(b"block/", height))
        return data

    def get_certificate_bytes(self, height: int) -> bytes | None:
        data: bytes | None = self._db.get(_key(b"cert/", height))
        return data

    def get_receipts_bytes(self, height: int) -> bytes | None:
        """The canonical encoding of block `height`'s receipts array (PROTOCOL.md 14.2),
        rebuilt from the block and the stored tails; None if the block is not stored."""
        receipts = self._receipts_or_none(height)
        return None if receipts is None else storelayout.encode_receipts(receipts)

    def get_certificate(self, height: int) -> CommitCertificate:
        raw = self._require(_key(b"cert/", height), f"certificate {height}")
        return CommitCertificate.decode(raw)

    def get_receipts(self, height: int) -> list[bytes]:
        receipts = self._receipts_or_none(height)
        if receipts is None:
            raise StoreError(
                f"receipts {height} is not in the store at {self.path} (head {self._head})"
            )
        return receipts

    def _receipts_or_none(self, height: int) -> list[bytes] | None:
        packed = self._db.get(_key(RECEIPTS_PREFIX, height))
        block_bytes = b"" if height == 0 else self._db.get(_key(b"block/", height))
        if packed is None or block_bytes is None:
            return None
        try:
            tx_ids = storelayout.block_tx_ids(block_bytes) if height else []
            return storelayout.unpack_receipts(tx_ids, packed)
        except DecodeError as exc:
            raise StoreError(
                f"the receipts of block {height} in {self.path} are damaged: {exc}"
            ) from exc

    def receipts_root(self, height: int) -> bytes:
        remembered = self._head_receipts_root
        if remembered is not None and remembered[0] == height:
            return remembered[1]
        return merkle_root(self.get_receipts(height))

    def app_hash(self, height: int) -> bytes:
        """App hash after executing block `height` (0: after genesis)."""
        return self._require(_key(b"apphash/", height), f"app hash {height}")

    def height_of(self, block_hash: bytes) -> int | None:
        raw = self._db.get(b"hash/" + block_hash)
        return None if raw is None else _unpack_height(raw)

    def locate_tx(self, tx_id: bytes) -> tuple[int, int] | None:
        """(height, position) of a committed transaction, or None.

        The index is keyed by the id's first 8 bytes: the entry found is confirmed by
        hashing the transaction's bytes in its block, and one for another transaction
        sends the lookup to txf/, where later transactions sharing those 8 bytes are.
        """
        raw = self._db.get(TX_PREFIX + storelayout.tx_key(tx_id))
        if raw is None:
            return None
        location = self._tx_location(raw)
        if self._tx_id_at(location) != tx_id:
            raw = self._db.get(TX_FULL_PREFIX + tx_id)
            if raw is None:
                return None
            location = self._tx_location(raw)
        return location.height, location.position

    def tx_ids_with_prefix(self, hex_prefix: str, limit: int) -> list[bytes]:
        """Up to `limit` committed tx ids, ascending, whose hex starts with `hex_prefix`
        (lower-case hex, odd lengths too): how a client resolves an id typed shortened."""
        whole = bytes.fromhex(hex_prefix[: len(hex_prefix) // 2 * 2])
        short = whole[: storelayout.TX_KEY_BYTES]
        found: set[bytes] = set()
        for _, raw in self._db.iterator(prefix=TX_PREFIX + short):
            tx_id = self._tx_id_at(self._tx_location(raw))
            if tx_id.hex().startswith(hex_prefix):
                found.add(tx_id)
                if len(found) >= limit:
                    break
        # Ids ascend with their txi/ keys; a txf/ id (sharing 8 bytes with a txi/ one)
        # sorts among them, so both are gathered before cutting to `limit`.
        for key, _ in self._db.iterator(prefix=TX_FULL_PREFIX + whole):
            tx_id = key[len(TX_FULL_PREFIX) :]
            if tx_id.hex().startswith(hex_prefix):
                found.add(tx_id)
        return sorted(found)[:limit]

    def _tx_location(self, raw: bytes) -> storelayout.TxLocation:
        try:
            return storelayout.TxLocation.unpack(raw)
        except DecodeError as exc:
            raise StoreError(f"the tx index in {self.path} is damaged: {exc}") from exc

    def _tx_id_at(self, location: storelayout.TxLocation) -> bytes:
        """The tx_id of the bytes the index entry points at in its block."""
        block_bytes = self._require(_key(b"block/", location.height), f"block {location.height}")
        end = location.offset + location.length
        if end > len(block_bytes):
            raise StoreError(f"the tx index in {self.path} points past block {location.height}")
        return storelayout.tx_id_of_bytes(memoryview(block_bytes)[location.offset : end])

    def _put_tx_index(
        self, batch: Any, tx_ids: Sequence[bytes], locations: Sequence[storelayout.TxLocation]
    ) -> None:
        """Index entries of one block's transactions: under txi/ unless an earlier
        transaction (in the store or in this block) holds that txi/ key."""
        taken: set[bytes] = set()
        key_bytes = storelayout.TX_KEY_BYTES
        for tx_id, location in zip(tx_ids, locations, strict=True):
            key = TX_PREFIX + tx_id[:key_bytes]
            if key in taken or self._db.get(key) is not None:
                key = TX_FULL_PREFIX + tx_id
            else:
                taken.add(key)
            batch.put(key, location.pack())

    # --- layout 1 -> 2 -------------------------------------------------------------

    def _migrate_from_1(self) -> None:
        """Rewrite a layout 1 store's receipts and tx index (module docstring)."""
        # Leftovers of a migration killed before meta/layout was written: start afresh,
        # so no txi/ key of that run is taken for an earlier transaction.
        self._delete_prefixes((RECEIPTS_PREFIX, TX_PREFIX, TX_FULL_PREFIX))
        for first in range(0, self._head + 1, MIGRATION_BLOCKS_PER_BATCH):
            batch = self._db.write_batch(sync=False)
            for height in range(first, min(first + MIGRATION_BLOCKS_PER_BATCH, self._head + 1)):
                self._migrate_block(batch, height)
            batch.write()
        batch = self._db.write_batch(sync=True)
        batch.put(META_LAYOUT, encoding.encode(LAYOUT))
        batch.write()
        self._delete_prefixes((OLD_RECEIPTS_PREFIX, OLD_TX_PREFIX))

    def _migrate_block(self, batch: Any, height: int) -> None:
        """Block `height`'s layout 2 records. Damage is carried over as it is, never
        refused here nor repaired: the reads of that block fail as they did in layout 1
        (and `votechain verify` and `votechain recover` name it), the rest of the chain
        opens."""
        raw = self._require(_key(OLD_RECEIPTS_PREFIX, height), f"receipts {height}")
        block_bytes = b"" if height == 0 else self._db.get(_key(b"block/", height))
        try:
            receipts = [
                encoding.expect_bytes(r, "receipt")
                for r in encoding.expect_array(encoding.decode(raw), "receipts")
            ]
            tx_ids = storelayout.block_tx_ids(block_bytes) if height and block_bytes else []
        except DecodeError:
            batch.put(_key(RECEIPTS_PREFIX, height), storelayout.WHOLE + raw)
            return
        batch.put(_key(RECEIPTS_PREFIX, height), storelayout.pack_receipts(tx_ids, receipts))
        if height and block_bytes:
            # Earlier batches of this migration are written: the txi/ check sees them.
            locations = storelayout.tx_locations(height, block_bytes)
            self._put_tx_index(batch, tx_ids, locations)

    def _delete_prefixes(self, prefixes: Sequence[bytes]) -> None:
        """Delete every key under `prefixes`, in bounded batches, the last one synced."""
        for prefix in prefixes:
            while True:  # bounded: each pass deletes up to 10,000 keys or stops
                keys = [key for key, _ in _first(self._db.iterator(prefix=prefix), 10_000)]
                if not keys:
                    break
                batch = self._db.write_batch(sync=True)
                for key in keys:
                    batch.delete(key)
                batch.write()

    def iter_blocks(self, start: int = 1, stop: int | None = None) -> Iterator[Block]:
        last = self._head if stop is None else min(stop, self._head)
        for height in range(start, last + 1):
            yield self.get_block(height)

    def get_local(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(LOCAL_PREFIX + key)
        return value

    def local_items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        start = LOCAL_PREFIX + prefix
        for key, value in self._db.iterator(prefix=start):
            yield key[len(LOCAL_PREFIX) :], value

    # StateView over the stored state (after block head)

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(STATE_PREFIX + key)
        return value

    def items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        for key, value in self._db.iterator(prefix=STATE_PREFIX + prefix):
            yield key[len(STATE_PREFIX) :], value

    def _require(self, key: bytes, what: str) -> bytes:
        value: bytes | None = self._db.get(key)
        if value is None:
            raise StoreError(f"{what} is not in the store at {self.path} (head {self._head})")
        return value


class _CheckedReads:
    """The LevelDB handle, with every read checked against LevelDB's block checksums.

    Without verify_checksums a flipped bit in a table file is returned as data; with it,
    the read fails, and the failure becomes a StoreError naming the damage.
    """

    def __init__(self, db: Any, path: Path) -> None:
        self._db, self._path = db, path

    def get(self, key: bytes) -> bytes | None:
        try:
            value: bytes | None = self._db.get(key, verify_checksums=True)
        except plyvel.Error as exc:
            raise self._damaged(exc) from exc
        return value

    def iterator(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        try:
            yield from self._db.iterator(prefix=prefix, verify_checksums=True)
        except plyvel.Error as exc:
            raise self._damaged(exc) from exc

    def write_batch(self, sync: bool) -> _CheckedBatch:
        return _CheckedBatch(self._db.write_batch(sync=sync), self._path)

    def put(self, key: bytes, value: bytes, sync: bool) -> None:
        try:
            self._db.put(key, value, sync=sync)
        except plyvel.Error as exc:
            raise _write_failed(self._path, exc) from exc

    def delete(self, key: bytes, sync: bool) -> None:
        try:
            self._db.delete(key, sync=sync)
        except plyvel.Error as exc:
            raise _write_failed(self._path, exc) from exc

    def close(self) -> None:
        self._db.close()

    def _damaged(self, exc: Exception) -> StoreError:
        return StoreError(f"the chain store at {self._path} is damaged: {exc}")


class _CheckedBatch:
    """A LevelDB write batch whose write failure is a StoreWriteError naming the store."""

    def __init__(self, batch: Any, path: Path) -> None:
        self._batch, self._path = batch, path

    def put(self, key: bytes, value: bytes) -> None:
        self._batch.put(key, value)

    def delete(self, key: bytes) -> None:
        self._batch.delete(key)

    def write(self) -> None:
        try:
            self._batch.write()
        except plyvel.Error as exc:
            raise _write_failed(self._path, exc) from exc


def _write_failed(path: Path, exc: Exception) -> StoreWriteError:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        detail = detail.decode(errors="replace")
    return StoreWriteError(f"the disk of the chain store at {path} refused a write: {detail}")


def _put_local(batch: Any, writes: Sequence[tuple[bytes, bytes | None]]) -> None:
    for key, value in writes:
        if value is None:
            batch.delete(LOCAL_PREFIX + key)
        else:
            batch.put(LOCAL_PREFIX + key, value)


def _put_writes(batch: Any, writes: WriteSet) -> None:
    for key, value in writes:
        if value is None:
            batch.delete(STATE_PREFIX + key)
        else:
            batch.put(STATE_PREFIX + key, value)


def _tx_locations(height: int, block: Block, block_size: int) -> list[storelayout.TxLocation]:
    """Where each transaction's bytes are in the block's encoding, which ends with them
    (PROTOCOL.md 5: the array header, the header, the tx array header, the txs)."""
    offset = block_size - sum(tx.encoded_size for tx in block.transactions)
    locations = []
    for position, tx in enumerate(block.transactions):
        locations.append(storelayout.TxLocation(height, position, offset, tx.encoded_size))
        offset += tx.encoded_size
    return locations


def _first(items: Iterator[tuple[bytes, bytes]], count: int) -> list[tuple[bytes, bytes]]:
    found = []
    for item in items:
        found.append(item)
        if len(found) >= count:
            break
    return found


def _key(prefix: bytes, height: int) -> bytes:
    return prefix + _pack_height(height)


def _pack_height(height: int) -> bytes:
    return struct.pack(">Q", height)


def _unpack_height(raw: bytes) -> int:
    height: int = struct.unpack(">Q", raw)[0]
    return height
