"""JSON views of chain objects for the RPC, CLI and web UI (one place for the shapes).

Public views show what a poll promises and no more: while a poll keeps its results until
it closes (visibility "after_close"), a ballot's selections are left out of every view
of its transaction (decoded body and encoded hex alike) and `choices_hidden` says so.
Callers pass `now_ms` to judge that; `now_ms=None` is the full view, only for whoever
already holds the transaction (its submitter, its signer through a signed history
request). Raw blocks stay complete: blocks are public data (docs/OPERATIONS.md, Security).

Views that can grow with a block or a state (block detail, poll lists, history) come
as pages of JSON bytes no larger than the caller's max_bytes (plus one item, so a page
always makes progress); `next_*` says where the next page starts, null at the end.

A committed transaction's document (`committed_tx`, the answer to wait=commit and
GET /v1/tx/{id}) costs the same whatever the size of its block when the block is among
the latest few the node delivered: `DeliveredBlocks` keeps, for each, what the document
needs, built once: the Merkle levels of the tx_ids (the block keeps them from the check
of its tx_root) and of the receipts (built by the first reader that needs a receipt
proof), the header and certificate documents (built on delivery). Before it, every
answer read and decoded the whole block and hashed every transaction again (issue 13:
0.7 ms per answer at 70 ballots a block, 5 ms at 500). Older blocks are read from the
store as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import votingcontract
from chain.block import Block, BlockHeader
from chain.certificate import CommitCertificate
from chain.errors import VotechainError
from chain.merkle import MerkleProof, merkle_levels, merkle_proof, proof_from_levels
from chain.state import StateView
from chain.store import ChainStore
from chain.tx import Transaction
from votingcontract.queries import poll_document
from votingcontract.records import PollRecord
from votingcontract.secret_polls import format_tracking_code, tracking_code

HIDDEN_CHOICES_NOTE = "the choices are hidden until the poll closes (its results come after close)"
_ITEMS_PLACEHOLDER = "\u0000items\u0000"
"""Stands for the list in a page's head; never in a head's own text (hex and numbers)."""
RAW_BLOCK_ARRAY_HEADER = b"\x93"
"""msgpack fixarray of 3: [block, certificate, receipts]."""
DELIVERED_BLOCKS_KEPT = 16
"""Latest delivered blocks whose commit documents are kept ready. A client waiting with
wait=commit is answered right after its block is delivered, and a receipt proof needs the
next block too; 16 blocks cover that with room for a slow reader."""
DELIVERED_TXS_KEPT = 20_000
"""At most this many transactions in the kept blocks, the newest two aside (a block and
the next one, for receipt proofs, are kept whatever their size). An entry costs about
1.25 KB per transaction (measured at 500 a block: the decoded transactions, their ids
and both Merkle trees), so this bounds the memory near 25 MB when blocks are large
(16 blocks of 10,000 would be 200 MB)."""
MIN_DELIVERED_BLOCKS_KEPT = 2
"""The newest blocks kept whatever DELIVERED_TXS_KEPT says."""


@dataclass(frozen=True)
class DeliveredBlock:
    """What committed_tx needs of one delivered block, built once (DeliveredBlocks.add)."""

    block: Block
    """Its tx_levels (merkle_levels of the tx_ids, kept by the block: the node built them
    when it checked the block's tx_root) give the tx proofs."""
    receipts: tuple[bytes, ...]
    """The encoded receipts, in transaction order (as stored)."""
    header: dict[str, Any]
    certificate: dict[str, Any]

    @cached_property
    def receipt_levels(self) -> tuple[tuple[bytes, ...], ...]:
        """merkle_levels of the receipts, for receipt proofs: built by the first reader
        that needs one (the next block exists then), not on the consensus loop. Two
        readers at once may both build it; both get the same levels."""
        return merkle_levels(self.receipts)


class DeliveredBlocks:
    """The DeliveredBlock of the latest blocks a node delivered, by height: at most
    `kept` blocks holding at most `kept_txs` transactions (the newest two always).

    Written by the node's loop on delivery, read by RPC reader threads: one dict, whose
    single get and set are atomic under the GIL; an entry is complete when it is set and
    what it says never changes (a committed block is final), so a reader sees the whole
    entry or none and then reads the store, which already holds the block.
    """

    def __init__(
        self, kept: int = DELIVERED_BLOCKS_KEPT, kept_txs: int = DELIVERED_TXS_KEPT
    ) -> None:
        if kept < 1:
            raise ValueError("kept must be at least 1")
        self.kept, self.kept_txs = kept, kept_txs
        self._by_height: dict[int, DeliveredBlock] = {}
        self._txs = 0
        """Transactions in the blocks kept (written by the loop only)."""

    def add(
        self, block: Block, certificate: CommitCertificate, receipts: Sequence[bytes]
    ) -> DeliveredBlock:
        """Remember a block just stored with its certificate and encoded receipts."""
        entry = DeliveredBlock(
            block=block,
            receipts=tuple(receipts),
            header=header_document(block.header),
            certificate=certificate_document(certificate),
        )
        self._by_height[block.height] = entry
        self._txs += len(block.transactions)
        # Heights arrive in order: the oldest go first.
        for old in sorted(self._by_height):
            count = len(self._by_height)
            too_many_txs = self._txs > self.kept_txs and count > MIN_DELIVERED_BLOCKS_KEPT
            if count <= self.kept and not too_many_txs:
                break
            self._txs -= len(self._by_height.pop(old).block.transactions)
        return entry

    def get(self, height: int) -> DeliveredBlock | None:
        return self._by_height.get(height)

    def __len__(self) -> int:
        return len(self._by_height)


def proof_dict(proof: MerkleProof) -> dict[str, Any]:
    return {
        "index": proof.index,
        "leaf_count": proof.leaf_count,
        "siblings": [s.hex() for s in proof.siblings],
    }


def tx_dict(store: ChainStore, tx: Transaction, now_ms: int | None) -> dict[str, Any]:
    """The transaction; a ballot's choices left out while its poll hides results at now_ms."""
    try:
        decoded = votingcontract.decode_body(tx.kind, tx.body)
    except (ValueError, KeyError, VotechainError):
        decoded = None
    hidden = decoded is not None and now_ms is not None and choices_hidden(store, decoded, now_ms)
    body: Any
    if decoded is None:
        body = {"undecodable": tx.body.hex()}
    elif hidden:
        assert isinstance(decoded, votingcontract.CastBallot)
        body = {"poll_id": decoded.poll_id.hex(), "hidden": HIDDEN_CHOICES_NOTE}
    else:
        body = decoded.to_dict()
    document = {
        "tx_id": tx.tx_id.hex(),
        "chain_id": tx.chain_id,
        "kind": tx.kind,
        "signer": tx.signer.hex(),
        "nonce": tx.nonce,
        "body": body,
        "choices_hidden": hidden,
        "encoded": None if hidden else tx.encode().hex(),
    }
    if isinstance(decoded, votingcontract.CastBallot) and decoded.encrypted is not None:
        code = tracking_code(decoded)
        document["tracking_code"] = {"hex": code.hex(), "shown": format_tracking_code(code)}
    return document


def choices_hidden(store: ChainStore, body: Any, now_ms: int) -> bool:
    """True for a ballot of a poll that shows results only after close and is not closed
    at now_ms (the same judgement GET /v1/polls/{id}/results makes)."""
    if not isinstance(body, votingcontract.CastBallot):
        return False
    poll = votingcontract.get_poll(store, body.poll_id)
    return (
        poll is not None
        and poll.spec.visibility == "after_close"
        and poll.status(now_ms) != "closed"
    )


def header_dict(block: Block) -> dict[str, Any]:
    return header_document(block.header)


def header_document(h: BlockHeader) -> dict[str, Any]:
    return {
        "height": h.height,
        "hash": h.block_hash.hex(),
        "chain_id": h.chain_id,
        "timestamp_ms": h.timestamp_ms,
        "prev_hash": h.prev_hash.hex(),
        "tx_root": h.tx_root.hex(),
        "prev_app_hash": h.prev_app_hash.hex(),
        "prev_receipts_root": h.prev_receipts_root.hex(),
        "proposer": h.proposer.hex(),
        "encoded": h.encode().hex(),
    }


def certificate_dict(store: ChainStore, height: int) -> dict[str, Any]:
    return certificate_document(store.get_certificate(height))


def certificate_document(certificate: CommitCertificate) -> dict[str, Any]:
    return {
        "view": certificate.view,
        "height": certificate.height,
        "block_hash": certificate.block_hash.hex(),
        "signers": [s.validator.hex() for s in certificate.signatures],
        "encoded": certificate.encode().hex(),
    }


def receipt_dict(encoded: bytes) -> dict[str, Any]:
    receipt = votingcontract.Receipt.decode(encoded)
    document: dict[str, Any] = receipt.to_dict()
    document["description"] = votingcontract.describe(receipt.code)
    document["encoded"] = encoded.hex()
    return document


def block_summary(store: ChainStore, height: int) -> dict[str, Any]:
    block = store.get_block(height)
    document = header_dict(block)
    document["tx_count"] = len(block.transactions)
    document["app_hash"] = store.app_hash(height).hex()
    return document


def block_detail(
    store: ChainStore, height: int, now_ms: int, tx_from: int, tx_limit: int, max_bytes: int
) -> bytes:
    """JSON of block `height` with transactions tx_from.. (at most tx_limit, and no more
    than max_bytes in all), each with its receipt; ballots as tx_dict shows them."""
    block = store.get_block(height)
    receipts = store.get_receipts(height)
    count = len(block.transactions)
    head = {
        "header": header_dict(block),
        "certificate": certificate_dict(store, height),
        "app_hash": store.app_hash(height).hex(),
        "tx_count": count,
        "tx_from": tx_from,
    }
    stop = min(count, tx_from + tx_limit)
    entries = (
        {**tx_dict(store, block.transactions[i], now_ms), "receipt": receipt_dict(receipts[i])}
        for i in range(tx_from, stop)
    )
    return json_page(head, "transactions", entries, max_bytes, "next_tx_from", tx_from, count)


def raw_block(store: ChainStore, height: int) -> bytes:
    """msgpack [block, certificate, [receipt, ...]] from the stored bytes, which are
    already canonical: an array header and the three encodings, the receipts array as the
    store rebuilds it from the block's bytes (chain/storelayout.py), nothing decoded."""
    parts = [store.get_block_bytes(height), store.get_certificate_bytes(height)]
    parts.append(store.get_receipts_bytes(height))
    if any(part is None for part in parts):
        raise VotechainError(f"block {height} is not complete in the store")
    return RAW_BLOCK_ARRAY_HEADER + b"".join(p for p in parts if p is not None)


def poll_page(
    state: StateView,
    polls: list[PollRecord],
    now_ms: int,
    start: int,
    limit: int,
    max_bytes: int,
) -> bytes:
    """JSON {"total", "from", "polls": [...], "next_from"} of polls[start:start+limit]."""
    head = {"total": len(polls), "from": start}
    entries = (poll_document(state, p, now_ms) for p in polls[start : start + limit])
    stop = min(len(polls), start + limit)
    return json_page(head, "polls", entries, max_bytes, "next_from", start, stop, len(polls))


def history_page(
    store: ChainStore, voter_key: bytes, phone_id: bytes, start: int, limit: int, max_bytes: int
) -> bytes:
    """The owner's participation records start.., each with its committed ballot in full
    (the owner signed it) and the proofs a receipt needs."""
    records = votingcontract.participation_history(store, phone_id)
    head = {
        "voter_key": voter_key.hex(),
        "phone_id": phone_id.hex(),
        "total": len(records),
        "from": start,
    }
    entries = (_history_entry(store, r) for r in records[start : start + limit])
    stop = min(len(records), start + limit)
    return json_page(head, "records", entries, max_bytes, "next_from", start, stop, len(records))


def json_page(
    head: dict[str, Any],
    items_key: str,
    items: Iterable[dict[str, Any]],
    max_bytes: int,
    next_key: str,
    start: int,
    stop: int,
    total: int | None = None,
) -> bytes:
    """`head` with the list `items_key` and `next_key` (the index after the last item
    given, or null once `total` items are given), as JSON bytes of about max_bytes at
    most: items stop before the one that would pass it (the first is always given)."""
    total = stop if total is None else total
    budget = max_bytes - len(json.dumps(head)) - 200
    parts: list[str] = []
    used = 0
    for item in items:
        text = json.dumps(item)
        if parts and used + len(text) + 1 > budget:
            break
        parts.append(text)
        used += len(text) + 1
    end = start + len(parts)
    document = {**head, next_key: end if end < total else None, items_key: _ITEMS_PLACEHOLDER}
    before, _, after = json.dumps(document).rpartition(json.dumps(_ITEMS_PLACEHOLDER))
    return f"{before}[{','.join(parts)}]{after}".encode()


def committed_tx(
    store: ChainStore,
    height: int,
    position: int,
    now_ms: int | None,
    delivered: DeliveredBlocks | None = None,
) -> dict[str, Any]:
    """A committed tx with everything a citizen needs to prove it counted.

    tx_proof shows the tx is in block `height` (tx_root, certified by `certificate`);
    when block height+1 exists, receipt_proof shows the receipt is in its
    prev_receipts_root, certified by `next_certificate`. A ballot's choices are hidden
    as tx_dict says (now_ms=None: the full view, for whoever holds the tx already).

    From `delivered` when it holds block `height` (a few hashes' worth of work, whatever
    the block size); else from the store (the whole block read and hashed).
    """
    entry = None if delivered is None else delivered.get(height)
    if entry is None:
        return _committed_tx_from_store(store, height, position, now_ms)
    document: dict[str, Any] = {
        "height": height,
        "position": position,
        "tx": tx_dict(store, entry.block.transactions[position], now_ms),
        "receipt": receipt_dict(entry.receipts[position]),
        # Copies: the kept documents are shared by every answer about this block.
        "header": dict(entry.header),
        "certificate": dict(entry.certificate),
        "tx_proof": proof_dict(proof_from_levels(entry.block.tx_levels, position)),
        "receipt_proof": None,
    }
    if store.head_height > height:
        following = delivered.get(height + 1) if delivered is not None else None
        document["receipt_proof"] = {
            "proof": proof_dict(proof_from_levels(entry.receipt_levels, position)),
            "next_header": (
                header_document(store.get_header(height + 1))
                if following is None
                else dict(following.header)
            ),
            "next_certificate": (
                certificate_dict(store, height + 1)
                if following is None
                else dict(following.certificate)
            ),
        }
    return document


def _committed_tx_from_store(
    store: ChainStore, height: int, position: int, now_ms: int | None
) -> dict[str, Any]:
    """committed_tx of a block no longer among the delivered ones."""
    block = store.get_block(height)
    receipts = store.get_receipts(height)
    tx_ids = [tx.tx_id for tx in block.transactions]
    document: dict[str, Any] = {
        "height": height,
        "position": position,
        "tx": tx_dict(store, block.transactions[position], now_ms),
        "receipt": receipt_dict(receipts[position]),
        "header": header_dict(block),
        "certificate": certificate_dict(store, height),
        "tx_proof": proof_dict(merkle_proof(tx_ids, position)),
        "receipt_proof": None,
    }
    if store.head_height > height:
        # The next block's header alone (its transactions are not needed).
        document["receipt_proof"] = {
            "proof": proof_dict(merkle_proof(receipts, position)),
            "next_header": header_document(store.get_header(height + 1)),
            "next_certificate": certificate_dict(store, height + 1),
        }
    return document


def _history_entry(store: ChainStore, record: Any) -> dict[str, Any]:
    entry: dict[str, Any] = dict(record.to_dict())
    location = store.locate_tx(record.tx_id)
    entry["committed"] = None if location is None else committed_tx(store, *location, None)
    return entry


def reason_table() -> dict[str, str]:
    codes = [votingcontract.ACCEPTED, *(code.value for code in votingcontract.ReasonCode)]
    return {code: votingcontract.describe(code) for code in codes}
