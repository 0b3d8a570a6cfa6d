"""Byzantine strategies: small classes that rewrite what a faulty replica sends.

A Byzantine replica runs the real Replica (so it stays in step with the cluster) and
every message it would send passes through its strategy, which may drop it, change it,
re-sign it, send different versions to different peers, or inject messages of its own.
Each strategy holds only its own validator key, except the Coalition used to show that
f + 1 colluding replicas do break safety (tests/consensus/test_checker_catches.py).
"""

from __future__ import annotations

import dataclasses
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from chain.block import MAX_BLOCK_BYTES, MAX_BLOCK_TXS, Block, make_header
from chain.keys import PrivateKey
from chain.tx import MAX_TX_BYTES, Transaction
from consensus.messages import (
    Checkpoint,
    Commit,
    Message,
    Prepare,
    PrePrepare,
    ViewChange,
    sign,
)
from consensus.types import Height, ReplicaConfig, ReplicaId, View

Outgoing = list[tuple[int, int, Message]]
"""(sender the network is told, destination, message)."""


@dataclass
class ByzantineContext:
    """What a strategy may know: its own identity and key, and its replica's progress."""

    replica_id: int
    key: PrivateKey
    config: ReplicaConfig
    rng: random.Random
    view: int = 0
    committed_height: int = 0
    committed_timestamp_ms: int = 0


class Strategy:
    """Honest pass-through; subclasses override what they corrupt."""

    name = "honest"

    def __init__(self, context: ByzantineContext) -> None:
        self.ctx = context

    @property
    def me(self) -> int:
        return self.ctx.replica_id

    def sign(self, message: Message) -> Message:
        return sign(message, self.ctx.key, self.ctx.config.chain_id)

    def outgoing(self, targets: Sequence[int], message: Message) -> Outgoing:
        return [(self.me, to, message) for to in targets]

    def on_received(self, sender: int, message: Message) -> None:
        return None

    def on_tick(self, now_ms: int) -> Outgoing:
        return []

    def others(self) -> list[int]:
        return [r for r in range(self.ctx.config.size) if r != self.me]

    def rebuild(self, block: Block, **changes: object) -> Block:
        """`block` with header fields changed and the tx root recomputed."""
        h = block.header
        fields: dict[str, object] = dict(
            chain_id=h.chain_id,
            height=h.height,
            timestamp_ms=h.timestamp_ms,
            prev_hash=h.prev_hash,
            transactions=block.transactions,
            prev_app_hash=h.prev_app_hash,
            prev_receipts_root=h.prev_receipts_root,
            proposer=h.proposer,
        )
        fields.update(changes)
        header = make_header(**fields)  # type: ignore[arg-type]
        return Block(header, fields["transactions"])  # type: ignore[arg-type]


class Silent(Strategy):
    """Sends nothing at all (a crashed or mute replica that still looks alive)."""

    name = "silent"

    def outgoing(self, targets: Sequence[int], message: Message) -> Outgoing:
        return []


class EquivocatingPrimary(Strategy):
    """As primary, sends one block to some backups and a different one to the others."""

    name = "equivocating-primary"

    def outgoing(self, targets: Sequence[int], message: Message) -> Outgoing:
        if not isinstance(message, PrePrepare) or message.replica != self.me or len(targets) < 2:
            return super().outgoing(targets, message)
        block = message.block
        other = self.rebuild(
            block,
            timestamp_ms=block.header.timestamp_ms + 1,
            transactions=block.transactions[:-1]
            if len(block.transactions) > 1
            else block.transactions,
        )
        twin = self.sign(PrePrepare(message.view, message.height, other, message.replica))
        shuffled = list(targets)
        self.ctx.rng.shuffle(shuffled)
        half = self.ctx.rng.randint(1, len(shuffled) - 1)
        return [(self.me, to, message) for to in shuffled[:half]] + [
            (self.me, to, twin) for to in shuffled[half:]
        ]


class ConflictingVotes(Strategy):
    """Sends prepares and commits for made-up blocks, different ones to different peers."""

    name = "conflicting-votes"

    def outgoing(self, targets: Sequence[int], message: Message) -> Outgoing:
        if not isinstance(message, Prepare | Commit) or message.replica != self.me:
            return super().outgoing(targets, message)
        out: Outgoing = []
        for to in targets:
            roll = self.ctx.rng.random()
            if roll < 0.3:
                out.append((self.me, to, message))
                continue
            fake = type(message)(
                message.view, message.height, self.ctx.rng.randbytes(32), message.replica
            )
            out.append((self.me, to, self.sign(fake)))
            if roll > 0.8:
                out.append((self.me, to, message))
        return out


class Replayer(Strategy):
    """Re-sends old messages, its own and other replicas' (whose signatures are genuine)."""

    name = "replay"

    def __init__(self, context: ByzantineContext) -> None:
        super().__init__(context)
        self.history: deque[Message] = deque(maxlen=300)

    def on_received(self, sender: int, message: Message) -> None:
        self.history.append(message)

    def outgoing(self, targets: Sequence[int], message: Message) -> Outgoing:
        self.history.append(message)
        return super().outgoing(targets, message)

    def on_tick(self, now_ms: int) -> Outgoing:
        if not self.history or self.ctx.rng.random() > 0.3:
            return []
        old = self.ctx.rng.choice(self.history)
        to = self.ctx.rng.choice(self.others())
        if old.replica == to:
            return []
        return [(old.replica, to, old)]


class Forger(Strategy):
    """Injects messages claiming to come from other replicas; signatures cannot match."""

    name = "forger"

    def on_tick(self, now_ms: int) -> Outgoing:
        rng = self.ctx.rng
        if rng.random() > 0.4:
            return []
        victim = rng.choice(self.others())
        to = rng.choice([r for r in self.others() if r != victim] or self.others())
        view = View(self.ctx.view)
        height = Height(self.ctx.committed_height + 1)
        fake_hash = rng.randbytes(32)
        forged: Message = rng.choice(
            [
                Prepare(view, height, fake_hash, ReplicaId(victim)),
                Commit(view, height, fake_hash, ReplicaId(victim)),
                Checkpoint(height, fake_hash, ReplicaId(victim)),
                ViewChange(View(view + 1), ReplicaId(victim), None, ()),
            ]
        )
        if rng.random() < 0.5:
            forged = self.sign(forged)  # signed with the wrong key
        else:
            forged = _with_signature(forged, rng.randbytes(64))
        return [(victim, to, forged)]


class BadTimestamps(Strategy):
    """As primary, proposes blocks whose timestamps are stale or far in the future."""

    name = "bad-timestamps"

    def outgoing(self, targets: Sequence[int], message: Message) -> Outgoing:
        if not isinstance(message, PrePrepare) or message.replica != self.me:
            return super().outgoing(targets, message)
        drift = self.ctx.config.max_clock_drift_ms
        choice = self.ctx.rng.choice(("parent", "past", "future"))
        timestamp = {
            "parent": self.ctx.committed_timestamp_ms,
            "past": max(0, message.block.header.timestamp_ms - 3 * drift),
            "future": message.block.header.timestamp_ms + 3 * drift,
        }[choice]
        block = self.rebuild(message.block, timestamp_ms=timestamp)
        bad = self.sign(PrePrepare(message.view, message.height, block, message.replica))
        return [(self.me, to, bad) for to in targets]


class InvalidBlocks(Strategy):
    """As primary, proposes blocks that break a chain or application rule."""

    name = "invalid-blocks"

    def outgoing(self, targets: Sequence[int], message: Message) -> Outgoing:
        if not isinstance(message, PrePrepare) or message.replica != self.me:
            return super().outgoing(targets, message)
        rng = self.ctx.rng
        block = message.block
        choice = rng.choice(("app-hash", "prev-hash", "proposer", "tx-kind", "tx-signature"))
        if choice == "app-hash":
            bad = self.rebuild(block, prev_app_hash=rng.randbytes(32))
        elif choice == "prev-hash":
            bad = self.rebuild(block, prev_hash=rng.randbytes(32))
        elif choice == "proposer":
            other = self.ctx.config.public_key_of(ReplicaId(rng.choice(self.others())))
            bad = self.rebuild(block, proposer=other)
        elif choice == "tx-kind":
            evil = Transaction.create(self.ctx.key, self.ctx.config.chain_id, "evil", b"", 0)
            bad = self.rebuild(block, transactions=(*block.transactions, evil))
        else:
            tx = Transaction.create(self.ctx.key, self.ctx.config.chain_id, "noop", b"x", 1)
            forged = Transaction(
                tx.version, tx.chain_id, tx.kind, tx.signer, tx.nonce, b"y", tx.signature
            )
            bad = self.rebuild(block, transactions=(*block.transactions, forged))
        pre_prepare = self.sign(PrePrepare(message.view, message.height, bad, message.replica))
        return [(self.me, to, pre_prepare) for to in targets]


class OversizedBlocks(Strategy):
    """As primary, proposes blocks over a protocol limit (issue 9): over MAX_BLOCK_BYTES
    in large transactions, or over MAX_BLOCK_TXS in tiny ones. Every transaction is
    validly signed and new, so size is the only thing wrong with the block."""

    name = "oversized-blocks"

    def __init__(self, context: ByzantineContext) -> None:
        super().__init__(context)
        # One limit per run: 10,001 transactions cost the simulator a second a run to
        # encode and decode, so the cheap byte variant runs twice as often.
        self.limit = context.rng.choice(("bytes", "bytes", "count"))
        self.proposed: set[tuple[int, int]] = set()

    def outgoing(self, targets: Sequence[int], message: Message) -> Outgoing:
        if not isinstance(message, PrePrepare) or message.replica != self.me:
            return super().outgoing(targets, message)
        if (message.view, message.height) in self.proposed:
            return []  # no retransmissions: each costs the simulator a large encode
        self.proposed.add((message.view, message.height))
        chain_id = self.ctx.config.chain_id
        padding = oversized_padding(self.ctx.key, chain_id, self.limit)
        block = self.rebuild(message.block, transactions=(*message.block.transactions, *padding))
        pre_prepare = self.sign(PrePrepare(message.view, message.height, block, message.replica))
        return [(self.me, to, pre_prepare) for to in targets]


_PADDING: dict[tuple[bytes, str, str], tuple[Transaction, ...]] = {}


def oversized_padding(key: PrivateKey, chain_id: str, limit: str) -> tuple[Transaction, ...]:
    """Signed noop transactions that push any block over the byte ("bytes") or the
    transaction ("count") limit. Made once per key: signing 10,001 costs a second."""
    cache_key = (key.public_key, chain_id, limit)
    if cache_key not in _PADDING:
        if limit == "bytes":
            body = bytes(MAX_TX_BYTES - 200)
            count = MAX_BLOCK_BYTES // len(body) + 1
        else:
            body, count = b"", MAX_BLOCK_TXS + 1
        _PADDING[cache_key] = tuple(
            Transaction.create(key, chain_id, "noop", body, 1_000_000 + i) for i in range(count)
        )
    return _PADDING[cache_key]


@dataclass
class Coalition:
    """f + 1 colluding replicas (more than PBFT tolerates) with each other's keys.

    Honest replicas are split in two groups; the coalition's primary shows block A to one
    and block B to the other, and every member prepares and commits A towards the first
    group and B towards the second. With f + 1 members both groups reach a quorum.
    """

    keys: dict[int, PrivateKey]
    group_a: set[int] = field(default_factory=set)
    group_b: set[int] = field(default_factory=set)


class TwoFaced(Strategy):
    """A coalition member; only the member that is primary speaks, for all of them."""

    name = "two-faced"

    def __init__(self, context: ByzantineContext, coalition: Coalition) -> None:
        super().__init__(context)
        self.coalition = coalition

    def outgoing(self, targets: Sequence[int], message: Message) -> Outgoing:
        if not isinstance(message, PrePrepare) or message.replica != self.me:
            return []
        chain_id = self.ctx.config.chain_id
        block_a = message.block
        block_b = self.rebuild(block_a, timestamp_ms=block_a.header.timestamp_ms + 1)
        out: Outgoing = []
        for group, block in ((self.coalition.group_a, block_a), (self.coalition.group_b, block_b)):
            pre_prepare = self.sign(
                PrePrepare(message.view, message.height, block, message.replica)
            )
            for to in sorted(group):
                out.append((self.me, to, pre_prepare))
                for member, key in sorted(self.coalition.keys.items()):
                    for cls in (Prepare, Commit):
                        if cls is Prepare and member == message.replica:
                            continue
                        vote = cls(
                            message.view, message.height, block.block_hash, ReplicaId(member)
                        )
                        out.append((member, to, sign(vote, key, chain_id)))
        return out


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        Silent,
        EquivocatingPrimary,
        ConflictingVotes,
        Replayer,
        Forger,
        BadTimestamps,
        InvalidBlocks,
        OversizedBlocks,
    )
}


def _with_signature(message: Message, signature: bytes) -> Message:
    return dataclasses.replace(message, signature=signature)
