"""The consensus messages, their canonical bytes and what their senders sign.

Every message is a msgpack array whose first item is its kind and whose last item is
the sender's Ed25519 signature (docs/PROTOCOL.md section 12 lists every field):

    PrePrepare  [1, view, height, block, replica, signature]
    Prepare     [2, view, height, block_hash, replica, signature]
    Commit      [3, view, height, block_hash, replica, signature]
    Checkpoint  [4, height, block_hash, replica, signature]
    ViewChange  [5, new_view, replica, certificate | nil, [prepared, ...], signature]
    NewView     [6, view, replica, [view_change, ...], [pre_prepare, ...], signature]
    RequestBatch [8, replica, [transaction, ...], signature]

(Kind 7, a Request carrying one transaction and its own signature, is retired: see
docs/adr/006-request-batches.md.)

    prepared = [pre_prepare, [prepare, ...]]    (a prepared certificate)

A sender signs tagged_hash(CONSENSUS_MESSAGE, encode([chain_id, *fields])) where fields
are the message's items without the signature, except that a PrePrepare signs the block
hash in place of the block and a RequestBatch signs the list of tx_ids in place of the
transactions.
A Commit is the exception: it signs chain.certificate.commit_vote_sign_bytes(chain_id,
view, height, block_hash), so that a quorum of Commits is a CommitCertificate.

`validate_basic()` checks what needs nothing but the message; signatures and the rules
that need the validator set are checked by consensus.validity.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Self, TypeAlias, TypeVar

from chain import encoding
from chain.block import MAX_BLOCK_BYTES, Block, array_header
from chain.certificate import MAX_VALIDATORS, CommitCertificate, commit_vote_sign_bytes
from chain.errors import DecodeError, VotechainError
from chain.hashing import HASH_SIZE, Domain, tagged_hash
from chain.keys import SIGNATURE_SIZE, PrivateKey
from chain.tx import Transaction
from consensus.errors import InvalidMessage
from consensus.types import Height, ReplicaId, View

MAX_MESSAGE_BYTES = 8 * MAX_BLOCK_BYTES
"""Default cap for decode_message; a node passes max_message_bytes(n, q) instead."""
MAX_PREPARED_PER_VIEW_CHANGE = 1
"""Prepared certificates in one ViewChange. With one block in flight (ADR 003) a correct
replica prepares only the height above its last delivered block, so it never holds more;
the cap is what bounds the size of ViewChange and NewView (see max_message_bytes)."""
MESSAGE_OVERHEAD_MAX_BYTES = 128
"""More than a PrePrepare takes besides its block, and more than a whole Prepare, Commit
or Checkpoint: array header, kind, two u64, replica id, hash and 64-byte signature."""
CERTIFICATE_OVERHEAD_MAX_BYTES = 512
"""More than a commit certificate takes besides its signers (chain id of up to 258 bytes)."""
CERTIFICATE_SIGNER_MAX_BYTES = 128
"""More than one [validator, signature] pair of a certificate takes (101 bytes)."""
MAX_REPROPOSALS = 256
"""Decoding cap on re-proposals in one NewView."""
NO_SIGNATURE = bytes(SIGNATURE_SIZE)
MAX_REQUEST_BATCH_TXS = 1_000
"""Transactions in one RequestBatch: about a block's worth at the node's default
max_block_txs (500), so the primary gets a full block in one or two messages."""
MAX_REQUEST_BATCH_BYTES = MAX_BLOCK_BYTES
"""Encoded bytes of the transactions of one RequestBatch. No more than a block's limit, so
a RequestBatch is never larger than a PrePrepare and the frame bound (max_message_bytes)
holds unchanged."""


class Kind(IntEnum):
    """The first item of every encoded message. Values are part of the protocol."""

    PRE_PREPARE = 1
    PREPARE = 2
    COMMIT = 3
    CHECKPOINT = 4
    VIEW_CHANGE = 5
    NEW_VIEW = 6
    # 7 was Request (one transaction per message); retired, never reused.
    REQUEST_BATCH = 8


def consensus_sign_bytes(chain_id: str, fields: list[Any]) -> bytes:
    """What a replica signs for every message except Commit."""
    return tagged_hash(Domain.CONSENSUS_MESSAGE, encoding.encode([chain_id, *fields]))


def _short(digest: bytes) -> str:
    return digest.hex()[:8]


def _check_signature_length(signature: bytes, what: str) -> None:
    if len(signature) != SIGNATURE_SIZE:
        raise InvalidMessage(f"{what}: signature is {len(signature)} bytes, not {SIGNATURE_SIZE}")


def _check_replica(replica: int, what: str) -> None:
    if not 0 <= replica < MAX_VALIDATORS:
        raise InvalidMessage(f"{what}: replica id {replica} is out of range")


@dataclass(frozen=True)
class PrePrepare:
    """The primary of `view` proposes `block` as the block at `height` (section 4.2)."""

    kind: ClassVar[Kind] = Kind.PRE_PREPARE
    view: View
    height: Height
    block: Block
    replica: ReplicaId
    signature: bytes = NO_SIGNATURE

    @property
    def block_hash(self) -> bytes:
        return self.block.block_hash

    def signed_fields(self) -> list[Any]:
        return [self.kind, self.view, self.height, self.block_hash, self.replica]

    def sign_bytes(self, chain_id: str) -> bytes:
        return consensus_sign_bytes(chain_id, self.signed_fields())

    def to_value(self) -> list[Any]:
        return [
            self.kind,
            self.view,
            self.height,
            self.block.to_value(),
            self.replica,
            self.signature,
        ]

    def encode(self) -> bytes:
        """encoding.encode(self.to_value()), with the block's own encoding spliced in
        (Block.encode joins the kept bytes of its header and transactions) instead of
        packing every transaction's fields again: the primary encodes its proposal for
        the broadcast and for each slot record, on the round's critical path."""
        return b"".join(
            [
                array_header(6),
                encoding.encode([self.kind, self.view, self.height])[1:],
                self.block.encode(),
                encoding.encode([self.replica, self.signature])[1:],
            ]
        )

    @classmethod
    def from_value(cls, value: Any, raw: bytes | None = None) -> PrePrepare:
        """`raw`, if given, must be the canonical bytes `value` was decoded from: the
        block then keeps its slice of them (Block.from_value), so a backup hashes its
        header and transactions from the bytes that came, without re-encoding them."""
        f = encoding.expect_list(value, 6, "pre-prepare")
        block_raw = None
        if raw is not None:
            start, end = encoding.array_spans(raw)[3]
            block_raw = raw[start:end]
        return cls(
            view=View(encoding.expect_int(f[1], "pre-prepare.view")),
            height=Height(encoding.expect_int(f[2], "pre-prepare.height", minimum=1)),
            block=Block.from_value(f[3], block_raw),
            replica=ReplicaId(encoding.expect_int(f[4], "pre-prepare.replica")),
            signature=encoding.expect_bytes(f[5], "pre-prepare.signature", SIGNATURE_SIZE),
        )

    def validate_basic(self) -> None:
        _check_replica(self.replica, "pre-prepare")
        _check_signature_length(self.signature, "pre-prepare")
        if self.block.height != self.height:
            raise InvalidMessage(
                f"pre-prepare for height {self.height} carries a block of height "
                f"{self.block.height}"
            )
        try:
            self.block.validate_basic()
        except VotechainError as exc:
            raise InvalidMessage(f"pre-prepare for height {self.height}: {exc}") from exc

    def describe(self) -> str:
        return (
            f"PrePrepare v={self.view} h={self.height} block={_short(self.block_hash)} "
            f"txs={len(self.block.transactions)} ts={self.block.header.timestamp_ms} "
            f"from r{self.replica}"
        )


@dataclass(frozen=True)
class _SlotVote:
    """What Prepare and Commit share: a replica's word about `block_hash` at (view, height).

    Both encode as [kind, view, height, block_hash, replica, signature]; they differ in
    their kind and in what they sign.
    """

    kind: ClassVar[Kind]
    name: ClassVar[str]
    view: View
    height: Height
    block_hash: bytes
    replica: ReplicaId
    signature: bytes = NO_SIGNATURE

    def signed_fields(self) -> list[Any]:
        return [self.kind, self.view, self.height, self.block_hash, self.replica]

    def to_value(self) -> list[Any]:
        return [*self.signed_fields(), self.signature]

    @classmethod
    def from_value(cls, value: Any) -> Self:
        name = cls.name
        f = encoding.expect_list(value, 6, name)
        return cls(
            view=View(encoding.expect_int(f[1], f"{name}.view")),
            height=Height(encoding.expect_int(f[2], f"{name}.height", minimum=1)),
            block_hash=encoding.expect_bytes(f[3], f"{name}.block_hash", HASH_SIZE),
            replica=ReplicaId(encoding.expect_int(f[4], f"{name}.replica")),
            signature=encoding.expect_bytes(f[5], f"{name}.signature", SIGNATURE_SIZE),
        )

    def validate_basic(self) -> None:
        _check_replica(self.replica, self.name)
        _check_signature_length(self.signature, self.name)
        if self.height < 1 or len(self.block_hash) != HASH_SIZE:
            raise InvalidMessage(f"{self.name}: height below 1 or block hash of the wrong size")

    def describe(self) -> str:
        return (
            f"{type(self).__name__} v={self.view} h={self.height} "
            f"block={_short(self.block_hash)} from r{self.replica}"
        )


@dataclass(frozen=True)
class Prepare(_SlotVote):
    """A backup accepted the pre-prepare of `block_hash` at (`view`, `height`)."""

    kind: ClassVar[Kind] = Kind.PREPARE
    name: ClassVar[str] = "prepare"

    def sign_bytes(self, chain_id: str) -> bytes:
        return consensus_sign_bytes(chain_id, self.signed_fields())


@dataclass(frozen=True)
class Commit(_SlotVote):
    """The sender prepared `block_hash` at (`view`, `height`); a quorum commits it.

    Its signature is over commit_vote_sign_bytes, so a quorum of Commits for the same
    (view, height, block_hash) is a chain.certificate.CommitCertificate.
    """

    kind: ClassVar[Kind] = Kind.COMMIT
    name: ClassVar[str] = "commit"

    def sign_bytes(self, chain_id: str) -> bytes:
        return commit_vote_sign_bytes(chain_id, self.view, self.height, self.block_hash)


@dataclass(frozen=True)
class Checkpoint:
    """The sender committed block `block_hash` at `height`, a multiple of K (section 4.3).

    The checkpoint digest is the block hash: it commits, through prev_hash links, to
    every block up to `height` and to the app hash after `height - 1`.
    """

    kind: ClassVar[Kind] = Kind.CHECKPOINT
    height: Height
    block_hash: bytes
    replica: ReplicaId
    signature: bytes = NO_SIGNATURE

    def signed_fields(self) -> list[Any]:
        return [self.kind, self.height, self.block_hash, self.replica]

    def sign_bytes(self, chain_id: str) -> bytes:
        return consensus_sign_bytes(chain_id, self.signed_fields())

    def to_value(self) -> list[Any]:
        return [*self.signed_fields(), self.signature]

    @classmethod
    def from_value(cls, value: Any) -> Checkpoint:
        f = encoding.expect_list(value, 5, "checkpoint")
        return cls(
            height=Height(encoding.expect_int(f[1], "checkpoint.height", minimum=1)),
            block_hash=encoding.expect_bytes(f[2], "checkpoint.block_hash", HASH_SIZE),
            replica=ReplicaId(encoding.expect_int(f[3], "checkpoint.replica")),
            signature=encoding.expect_bytes(f[4], "checkpoint.signature", SIGNATURE_SIZE),
        )

    def validate_basic(self) -> None:
        _check_replica(self.replica, "checkpoint")
        _check_signature_length(self.signature, "checkpoint")
        if self.height < 1 or len(self.block_hash) != HASH_SIZE:
            raise InvalidMessage("checkpoint: height below 1 or block hash of the wrong size")

    def describe(self) -> str:
        return f"Checkpoint h={self.height} block={_short(self.block_hash)} from r{self.replica}"


@dataclass(frozen=True)
class PreparedCertificate:
    """A pre-prepare and quorum - 1 matching prepares from other replicas (section 4.2).

    It proves that a quorum accepted `pre_prepare.block` at its height in its view.
    """

    pre_prepare: PrePrepare
    prepares: tuple[Prepare, ...]

    @property
    def view(self) -> View:
        return self.pre_prepare.view

    @property
    def height(self) -> Height:
        return self.pre_prepare.height

    @property
    def block_hash(self) -> bytes:
        return self.pre_prepare.block_hash

    def to_value(self) -> list[Any]:
        return [self.pre_prepare.to_value(), [p.to_value() for p in self.prepares]]

    def encode(self) -> bytes:
        """encoding.encode(self.to_value()), the pre-prepare's block spliced in."""
        prepares = encoding.encode([p.to_value() for p in self.prepares])
        return b"".join([array_header(2), self.pre_prepare.encode(), prepares])

    @classmethod
    def from_value(cls, value: Any) -> PreparedCertificate:
        f = encoding.expect_list(value, 2, "prepared certificate")
        prepares = encoding.expect_array(f[1], "prepared certificate.prepares", MAX_VALIDATORS)
        return cls(
            pre_prepare=_expect_kind(f[0], PrePrepare),
            prepares=tuple(_expect_kind(p, Prepare) for p in prepares),
        )

    def validate_basic(self) -> None:
        self.pre_prepare.validate_basic()
        seen: set[int] = set()
        for prepare in self.prepares:
            prepare.validate_basic()
            if (prepare.view, prepare.height, prepare.block_hash) != (
                self.view,
                self.height,
                self.block_hash,
            ):
                raise InvalidMessage(
                    f"prepared certificate for h={self.height} v={self.view} holds a prepare "
                    f"for h={prepare.height} v={prepare.view} block={_short(prepare.block_hash)}"
                )
            if prepare.replica in seen or prepare.replica == self.pre_prepare.replica:
                raise InvalidMessage(
                    f"prepared certificate for h={self.height}: replica {prepare.replica} "
                    "counted twice or is the primary"
                )
            seen.add(prepare.replica)

    def describe(self) -> str:
        signers = ",".join(str(p.replica) for p in self.prepares)
        return (
            f"prepared(v={self.view} h={self.height} block={_short(self.block_hash)} "
            f"prepares=[{signers}])"
        )


@dataclass(frozen=True)
class ViewChange:
    """The sender moves to `new_view` (section 4.4).

    `committed` is the commit certificate of the sender's highest committed block: the
    per-block replacement of the paper's stable-checkpoint proof (ADR 003). `prepared`
    holds the sender's prepared certificates for heights above it, highest view each.
    """

    kind: ClassVar[Kind] = Kind.VIEW_CHANGE
    new_view: View
    replica: ReplicaId
    committed: CommitCertificate | None
    prepared: tuple[PreparedCertificate, ...]
    signature: bytes = NO_SIGNATURE

    @property
    def committed_height(self) -> Height:
        return Height(self.committed.height if self.committed is not None else 0)

    def signed_fields(self) -> list[Any]:
        return [
            self.kind,
            self.new_view,
            self.replica,
            None if self.committed is None else self.committed.to_value(),
            [p.to_value() for p in self.prepared],
        ]

    def sign_bytes(self, chain_id: str) -> bytes:
        return consensus_sign_bytes(chain_id, self.signed_fields())

    def to_value(self) -> list[Any]:
        return [*self.signed_fields(), self.signature]

    @classmethod
    def from_value(cls, value: Any) -> ViewChange:
        f = encoding.expect_list(value, 6, "view-change")
        prepared = encoding.expect_array(f[4], "view-change.prepared", MAX_PREPARED_PER_VIEW_CHANGE)
        return cls(
            new_view=View(encoding.expect_int(f[1], "view-change.new_view", minimum=1)),
            replica=ReplicaId(encoding.expect_int(f[2], "view-change.replica")),
            committed=None if f[3] is None else CommitCertificate.from_value(f[3]),
            prepared=tuple(PreparedCertificate.from_value(p) for p in prepared),
            signature=encoding.expect_bytes(f[5], "view-change.signature", SIGNATURE_SIZE),
        )

    def validate_basic(self) -> None:
        _check_replica(self.replica, "view-change")
        _check_signature_length(self.signature, "view-change")
        if self.new_view < 1:
            raise InvalidMessage("view-change: new_view must be at least 1")
        heights: set[int] = set()
        for certificate in self.prepared:
            certificate.validate_basic()
            if certificate.view >= self.new_view:
                raise InvalidMessage(
                    f"view-change to {self.new_view} carries a prepared certificate "
                    f"from view {certificate.view}"
                )
            if certificate.height <= self.committed_height:
                raise InvalidMessage(
                    f"view-change carries a prepared certificate for h={certificate.height}, "
                    f"not above its committed height {self.committed_height}"
                )
            if certificate.height in heights:
                raise InvalidMessage(
                    f"view-change carries two prepared certificates for h={certificate.height}"
                )
            heights.add(certificate.height)

    def describe(self) -> str:
        prepared = " ".join(p.describe() for p in self.prepared) or "-"
        return (
            f"ViewChange v={self.new_view} committed={self.committed_height} "
            f"prepared=[{prepared}] from r{self.replica}"
        )


@dataclass(frozen=True)
class NewView:
    """The primary of `view` starts it (section 4.4).

    `view_changes` is a quorum of ViewChange messages for `view`; `reproposals` are the
    pre-prepares, signed by this primary in `view`, that the rules of consensus.viewchange
    derive from them. Every replica recomputes them and refuses a NewView that differs.
    """

    kind: ClassVar[Kind] = Kind.NEW_VIEW
    view: View
    replica: ReplicaId
    view_changes: tuple[ViewChange, ...]
    reproposals: tuple[PrePrepare, ...]
    signature: bytes = NO_SIGNATURE

    def signed_fields(self) -> list[Any]:
        return [
            self.kind,
            self.view,
            self.replica,
            [vc.to_value() for vc in self.view_changes],
            [pp.to_value() for pp in self.reproposals],
        ]

    def sign_bytes(self, chain_id: str) -> bytes:
        return consensus_sign_bytes(chain_id, self.signed_fields())

    def to_value(self) -> list[Any]:
        return [*self.signed_fields(), self.signature]

    @classmethod
    def from_value(cls, value: Any) -> NewView:
        f = encoding.expect_list(value, 6, "new-view")
        view_changes = encoding.expect_array(f[3], "new-view.view_changes", MAX_VALIDATORS)
        reproposals = encoding.expect_array(f[4], "new-view.reproposals", MAX_REPROPOSALS)
        return cls(
            view=View(encoding.expect_int(f[1], "new-view.view", minimum=1)),
            replica=ReplicaId(encoding.expect_int(f[2], "new-view.replica")),
            view_changes=tuple(_expect_kind(vc, ViewChange) for vc in view_changes),
            reproposals=tuple(_expect_kind(pp, PrePrepare) for pp in reproposals),
            signature=encoding.expect_bytes(f[5], "new-view.signature", SIGNATURE_SIZE),
        )

    def validate_basic(self) -> None:
        _check_replica(self.replica, "new-view")
        _check_signature_length(self.signature, "new-view")
        senders: set[int] = set()
        for vc in self.view_changes:
            vc.validate_basic()
            if vc.new_view != self.view:
                raise InvalidMessage(
                    f"new-view {self.view} holds a view-change to view {vc.new_view}"
                )
            if vc.replica in senders:
                raise InvalidMessage(f"new-view holds two view-changes from r{vc.replica}")
            senders.add(vc.replica)
        heights: set[int] = set()
        for pp in self.reproposals:
            pp.validate_basic()
            if pp.view != self.view or pp.replica != self.replica:
                raise InvalidMessage(
                    f"new-view {self.view} by r{self.replica} holds a pre-prepare of view "
                    f"{pp.view} by r{pp.replica}"
                )
            if pp.height in heights:
                raise InvalidMessage(f"new-view re-proposes h={pp.height} twice")
            heights.add(pp.height)

    def describe(self) -> str:
        senders = ",".join(str(vc.replica) for vc in self.view_changes)
        heights = ",".join(str(pp.height) for pp in self.reproposals) or "-"
        return (
            f"NewView v={self.view} view-changes=[{senders}] reproposals=[{heights}] "
            f"from r{self.replica}"
        )


@dataclass(frozen=True)
class RequestBatch:
    """A replica hands client transactions to the primary (or to all, on a timeout).

    One message and one signature for up to MAX_REQUEST_BATCH_TXS transactions; the
    signature covers their tx_ids, so it is checked without re-encoding the list. Each
    transaction still carries its client's signature, which the receiver checks (once per
    node, chain.verified) before it holds the request.
    """

    kind: ClassVar[Kind] = Kind.REQUEST_BATCH
    replica: ReplicaId
    transactions: tuple[Transaction, ...]
    signature: bytes = NO_SIGNATURE

    def signed_fields(self) -> list[Any]:
        return [self.kind, self.replica, [tx.tx_id for tx in self.transactions]]

    def sign_bytes(self, chain_id: str) -> bytes:
        return consensus_sign_bytes(chain_id, self.signed_fields())

    def to_value(self) -> list[Any]:
        return [
            self.kind,
            self.replica,
            [tx.to_value() for tx in self.transactions],
            self.signature,
        ]

    @classmethod
    def from_value(cls, value: Any) -> RequestBatch:
        f = encoding.expect_list(value, 4, "request-batch")
        txs = encoding.expect_array(f[2], "request-batch.transactions", MAX_REQUEST_BATCH_TXS)
        return cls(
            replica=ReplicaId(encoding.expect_int(f[1], "request-batch.replica")),
            transactions=tuple(Transaction.from_value(t) for t in txs),
            signature=encoding.expect_bytes(f[3], "request-batch.signature", SIGNATURE_SIZE),
        )

    def validate_basic(self) -> None:
        _check_replica(self.replica, "request-batch")
        _check_signature_length(self.signature, "request-batch")
        if not 1 <= len(self.transactions) <= MAX_REQUEST_BATCH_TXS:
            raise InvalidMessage(
                f"request-batch holds {len(self.transactions)} transactions, "
                f"expected 1..{MAX_REQUEST_BATCH_TXS}"
            )
        total_bytes = sum(tx.encoded_size for tx in self.transactions)
        if total_bytes > MAX_REQUEST_BATCH_BYTES:
            raise InvalidMessage(
                f"request-batch transactions are {total_bytes} bytes, "
                f"the limit is {MAX_REQUEST_BATCH_BYTES}"
            )
        if len({tx.tx_id for tx in self.transactions}) != len(self.transactions):
            raise InvalidMessage("request-batch holds the same transaction twice")
        for position, tx in enumerate(self.transactions):
            try:
                tx.validate_basic()
            except VotechainError as exc:
                raise InvalidMessage(f"request-batch, transaction {position}: {exc}") from exc

    def describe(self) -> str:
        first = _short(self.transactions[0].tx_id) if self.transactions else "-"
        return f"RequestBatch txs={len(self.transactions)} first={first} from r{self.replica}"


def request_batches(
    transactions: Sequence[Transaction], replica: ReplicaId, key: PrivateKey, chain_id: str
) -> list[RequestBatch]:
    """`transactions`, in order, as signed RequestBatches within the count and byte caps.

    A transaction over MAX_TX_BYTES never reaches here (the mempool and on_request refuse
    it), so every batch holds at least one transaction and fits MAX_REQUEST_BATCH_BYTES.
    """
    batches: list[RequestBatch] = []
    chunk: list[Transaction] = []
    chunk_bytes = 0
    for tx in transactions:
        full = len(chunk) >= MAX_REQUEST_BATCH_TXS
        if chunk and (full or chunk_bytes + tx.encoded_size > MAX_REQUEST_BATCH_BYTES):
            batches.append(sign(RequestBatch(replica, tuple(chunk)), key, chain_id))
            chunk, chunk_bytes = [], 0
        chunk.append(tx)
        chunk_bytes += tx.encoded_size
    if chunk:
        batches.append(sign(RequestBatch(replica, tuple(chunk)), key, chain_id))
    return batches


Message: TypeAlias = (
    PrePrepare | Prepare | Commit | Checkpoint | ViewChange | NewView | RequestBatch
)

M = TypeVar("M", PrePrepare, Prepare, Commit, Checkpoint, ViewChange, NewView, RequestBatch)

_CLASSES: dict[int, type[Message]] = {
    Kind.PRE_PREPARE: PrePrepare,
    Kind.PREPARE: Prepare,
    Kind.COMMIT: Commit,
    Kind.CHECKPOINT: Checkpoint,
    Kind.VIEW_CHANGE: ViewChange,
    Kind.NEW_VIEW: NewView,
    Kind.REQUEST_BATCH: RequestBatch,
}


def sign(message: M, key: PrivateKey, chain_id: str) -> M:
    """`message` with its signature field set to `key`'s signature of its sign bytes."""
    return dataclasses.replace(message, signature=key.sign(message.sign_bytes(chain_id)))


def encode_message(message: Message) -> bytes:
    """The canonical bytes of a message, as sent between replicas."""
    if isinstance(message, PrePrepare):
        return message.encode()
    return encoding.encode(message.to_value())


def decode_message(data: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """Decode and validate_basic a message; raise InvalidMessage on anything wrong.

    Unknown kinds, wrong field counts or types, non-canonical bytes, trailing bytes and
    input over `max_bytes` are all refused; so is a block over MAX_BLOCK_BYTES, before
    its transactions are built (Block.from_value).
    """
    if len(data) > max_bytes:
        raise InvalidMessage(f"message is {len(data)} bytes, the limit is {max_bytes}")
    try:
        message = message_from_value(encoding.decode(data), data)
    except DecodeError as exc:
        raise InvalidMessage(f"undecodable message: {exc}") from exc
    message.validate_basic()
    return message


def message_from_value(value: Any, raw: bytes | None = None) -> Message:
    """The message whose canonical array is `value` (kind first); `raw`, if given, the
    checked bytes it was decoded from (a PrePrepare's block keeps its slice of them)."""
    if not isinstance(value, list) or not value:
        raise DecodeError("message: expected a non-empty array")
    kind = encoding.expect_int(value[0], "message.kind")
    cls = _CLASSES.get(kind)
    if cls is None:
        raise DecodeError(f"message.kind: unknown kind {kind}")
    if cls is PrePrepare and raw is not None:
        return PrePrepare.from_value(value, raw)
    return cls.from_value(value)


def max_message_bytes(validators: int, quorum: int) -> int:
    """An upper bound on any valid message's encoded size, for a validator set of that
    size (PROTOCOL.md 12.2); the peer transport's frame limit.

    A PrePrepare is one block (at most MAX_BLOCK_BYTES) plus a small envelope; a
    ViewChange at most one PrePrepare, a prepare per other validator and a commit
    certificate; a NewView exactly `quorum` ViewChanges and at most one re-proposal per
    ViewChange (each re-proposed height comes from a distinct prepared certificate).
    So a NewView, the largest, holds at most 2 * quorum blocks.
    """
    pre_prepare = MAX_BLOCK_BYTES + MESSAGE_OVERHEAD_MAX_BYTES
    certificate = CERTIFICATE_OVERHEAD_MAX_BYTES + validators * CERTIFICATE_SIGNER_MAX_BYTES
    prepared = 8 + pre_prepare + (validators - 1) * MESSAGE_OVERHEAD_MAX_BYTES
    view_change = MESSAGE_OVERHEAD_MAX_BYTES + certificate + prepared
    return MESSAGE_OVERHEAD_MAX_BYTES + quorum * (view_change + pre_prepare)


def _expect_kind(value: Any, cls: type[M]) -> M:
    message = message_from_value(value)
    if not isinstance(message, cls):
        raise DecodeError(f"expected a {cls.__name__}, got a {type(message).__name__}")
    return message
