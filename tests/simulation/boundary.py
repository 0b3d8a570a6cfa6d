"""Byzantine strategies that forge at the quorum boundary, and the checker that sees them.

Issue 12: weakening a quorum check in consensus/ by one (check_certificate accepting
quorum - 1 signatures, a prepared certificate with 2f - 1 prepares, a NewView with
quorum - 1 view changes) went unnoticed by every simulation seed, because no strategy
ever sent a forgery that was exactly one short. The strategies here do.

The adversary: one Byzantine replica that holds quorum - 1 validator keys (its own and
those of 2f - 1 honest replicas, as if their keys had leaked while the replicas still
behave). That is more keys than PBFT's f, on purpose: it is the strongest position from
which every forgery is still one signature short, so the count under test is the only
thing between it and harm. The strategies never use the borrowed keys to send ordinary
messages, only inside the forged structures, so a correct replica refuses all of them.

Each forgery comes in three variants (PROTOCOL.md 7 and 12):

- "short": exactly quorum - 1 distinct signers;
- "duplicate": quorum - 1 distinct signers and one of them again (a quorum if counted twice);
- "outsider": quorum - 1 validators and one signature by a key outside the validator set.

BoundaryCheckers adds two rules to the safety checker (checkers.py), so a replica that
accepts a forgery is caught even when the run stays consistent:

- FORGED: an honest replica pre-prepares, prepares, commits or delivers a block the
  adversary fabricated and only ever showed inside a forgery;
- VIEW: an honest replica acts in view w > 0 (pre-prepare, prepare, commit, new-view) or
  asks for view w + 1 before any honest replica asked for view w. A correct replica
  enters w only on a NewView of a quorum of view changes, at least one of them honest
  (the adversary holds quorum - 1 keys), and asks for w + 1 only from w.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chain.block import Block, make_header
from chain.certificate import CommitCertificate, CommitSignature, ValidatorSet
from chain.hashing import Domain, tagged_hash
from chain.keys import PrivateKey
from chain.state import ZERO_HASH
from chain.tx import Transaction
from consensus import FetchBlocks
from consensus.messages import (
    Commit,
    Message,
    NewView,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    ViewChange,
    sign,
)
from consensus.types import Height, ReplicaId, View
from consensus.viewchange import plan_new_view
from tests.simulation.app import NOOP_KIND, SimStore
from tests.simulation.byzantine import ByzantineContext, Outgoing, Strategy
from tests.simulation.checkers import Checkers
from tests.simulation.cluster import CHAIN_ID, MAX_FETCH_BLOCKS, Simulation, validator_key
from tests.simulation.options import SimOptions

VARIANTS = ("short", "duplicate", "outsider")
FORGER = 1
"""The Byzantine replica: the primary of view 1, so it may send NewView(1)."""
OUTSIDER_KEY = PrivateKey.from_seed(hashlib.sha256(b"sim outsider, not a validator").digest())
RESEND_TICKS = 20
"""How often a strategy repeats its forgery (the network may drop it)."""
SENDS_MAX = 10
"""Every loop is bounded: at most this many forgeries per strategy and target."""


@dataclass
class Forgery:
    """What the adversary holds, and the blocks it fabricated (shared with the checker)."""

    variant: str
    keys: dict[int, PrivateKey]
    """quorum - 1 validator keys: the forger's own and borrowed ones."""
    forged_blocks: set[bytes] = field(default_factory=set)


def adversary_keys(replicas: int) -> dict[int, PrivateKey]:
    """quorum - 1 keys: the forger's, the primary of view 0's, then the lowest others."""
    quorum = ValidatorSet(tuple(validator_key(i).public_key for i in range(replicas))).quorum
    ids = [FORGER, 0] + [i for i in range(2, replicas)]
    return {i: validator_key(i) for i in ids[: quorum - 1]}


class BoundaryStrategy(Strategy):
    """Honest in everything it sends; adds forgeries one signature short of a quorum."""

    name = "boundary"

    def __init__(self, context: ByzantineContext, forgery: Forgery) -> None:
        super().__init__(context)
        self.forgery = forgery
        self.store: SimStore | None = None
        """The forger's own chain (set by BoundarySimulation)."""
        self.sends = 0

    # ---- what the forgeries are made of --------------------------------------------

    def fake_block(self, parent: Block | None, prev_hash: bytes) -> Block:
        """A block at the parent's height + 1 that no correct replica ever proposed.

        Deterministic, so a certificate forged now matches the block served later."""
        height = 1 if parent is None else parent.height + 1
        timestamp_ms = 1 if parent is None else parent.header.timestamp_ms + 1
        tx = Transaction.create(
            self.ctx.key, CHAIN_ID, NOOP_KIND, f"forged h={height}".encode(), height
        )
        header = make_header(
            CHAIN_ID,
            height,
            timestamp_ms,
            prev_hash,
            (tx,),
            self.app_hash_at(height - 1),
            ZERO_HASH,
            self.ctx.key.public_key,
        )
        block = Block(header, (tx,))
        self.forgery.forged_blocks.add(block.block_hash)
        return block

    def app_hash_at(self, height: int) -> bytes:
        """The simulator app's hash after `height` (so the fake block passes validate_block)."""
        app_hash = ZERO_HASH
        assert self.store is not None
        for block, _ in self.store.blocks[:height]:
            app_hash = tagged_hash(Domain.APP_HASH, app_hash + block.block_hash)
        return app_hash

    def signers(self, exclude: Sequence[int] = ()) -> list[tuple[int, PrivateKey]]:
        """quorum - 1 - len(exclude) borrowed keys, then the variant's extra signer."""
        own = [(i, k) for i, k in sorted(self.forgery.keys.items()) if i not in exclude]
        if self.forgery.variant == "duplicate":
            return [*own, own[0]]
        if self.forgery.variant == "outsider":
            honest = next(i for i in range(self.ctx.config.size) if i not in self.forgery.keys)
            return [*own, (honest, OUTSIDER_KEY)]
        return own

    def forged_certificate(self, view: int, block: Block) -> CommitCertificate:
        """A commit certificate of quorum - 1 validators (plus the variant's extra)."""
        signed = CommitCertificate.sign([], CHAIN_ID, view, block.height, block.block_hash)
        message = signed.sign_bytes
        signatures = [CommitSignature(k.public_key, k.sign(message)) for _, k in self.signers()]
        return CommitCertificate.from_signatures(
            CHAIN_ID, view, block.height, block.block_hash, signatures
        )

    def head(self) -> tuple[Block | None, bytes]:
        assert self.store is not None
        if not self.store.blocks:
            return None, self.store.genesis_hash
        return self.store.blocks[-1][0], self.store.head_hash

    # ---- hooks ---------------------------------------------------------------------

    def serve_fetch(self, requester: SimStore, from_height: int) -> tuple[Any, ...] | None:
        """The reply to a state-transfer request, or None to answer honestly."""
        return None


class ShortCertificateFetch(BoundaryStrategy):
    """State transfer: serves a fabricated next block with a forged commit certificate."""

    name = "short-certificate-fetch"

    def serve_fetch(self, requester: SimStore, from_height: int) -> tuple[Any, ...] | None:
        if from_height != requester.height + 1:
            return None
        parent = requester.blocks[-1][0] if requester.blocks else None
        block = self.fake_block(parent, requester.head_hash)
        return ((block, self.forged_certificate(self.ctx.view, block)),)


class ShortCertificateViewChange(ShortCertificateFetch):
    """View change: a ViewChange whose commit certificate for the next height is forged.

    A replica that takes the certificate thinks it is behind, fetches, and is served the
    fabricated block (with the same forged certificate) by this replica."""

    name = "short-certificate-view-change"

    def on_tick(self, now_ms: int) -> Outgoing:
        if self.store is None or self.sends >= SENDS_MAX * len(self.others()):
            return []
        if self.ctx.rng.randrange(RESEND_TICKS) != 0:
            return []
        parent, prev_hash = self.head()
        block = self.fake_block(parent, prev_hash)
        certificate = self.forged_certificate(self.ctx.view, block)
        view_change = self.sign(
            ViewChange(View(self.ctx.view + 1), ReplicaId(self.me), certificate, ())
        )
        self.sends += len(self.others())
        return [(self.me, to, view_change) for to in self.others()]


class ShortPreparedCertificate(BoundaryStrategy):
    """View change to the forger's view: a NewView of one honest ViewChange and quorum - 1
    forged ones, one of which carries a prepared certificate for a fabricated block with
    2f - 1 prepares (plus the pre-prepare). Counted right, the NewView is refused; with
    2f - 1 prepares accepted, every replica re-proposes the fabricated block."""

    name = "short-prepared-certificate"

    def __init__(self, context: ByzantineContext, forgery: Forgery) -> None:
        super().__init__(context, forgery)
        self.forged_views: set[int] = set()
        self.pending: ViewChange | None = None
        """The first honest ViewChange for a view this replica leads, not yet used."""

    def on_received(self, sender: int, message: Message) -> None:
        if not isinstance(message, ViewChange) or message.replica in self.forgery.keys:
            return
        view = message.new_view
        if self.ctx.config.primary_of(view) != self.me or view in self.forged_views:
            return
        self.pending = message

    def on_tick(self, now_ms: int) -> Outgoing:
        genuine, self.pending = self.pending, None
        if genuine is None or self.store is None or genuine.new_view in self.forged_views:
            return []
        view = genuine.new_view
        height = genuine.committed_height + 1
        if self.store.height < height - 1:
            return []
        self.forged_views.add(view)
        parent = self.store.blocks[height - 2][0] if height > 1 else None
        prev_hash = parent.block_hash if parent is not None else self.store.genesis_hash
        block = self.fake_block(parent, prev_hash)
        prepared = self.prepared_certificate(View(view - 1), block)
        forged = [
            sign(
                ViewChange(
                    View(view),
                    ReplicaId(i),
                    genuine.committed,
                    (prepared,) if i == self.me else (),
                ),
                key,
                CHAIN_ID,
            )
            for i, key in sorted(self.forgery.keys.items())
        ]
        view_changes = sorted([genuine, *forged], key=lambda vc: vc.replica)
        plan = plan_new_view(View(view), view_changes)
        reproposals = tuple(
            sign(PrePrepare(View(view), h, b, ReplicaId(self.me)), self.ctx.key, CHAIN_ID)
            for h, b in plan.reproposals
        )
        new_view = self.sign(
            NewView(View(view), ReplicaId(self.me), tuple(view_changes), reproposals)
        )
        return [(self.me, to, new_view) for to in self.others()]

    def prepared_certificate(self, view: View, block: Block) -> PreparedCertificate:
        primary = self.ctx.config.primary_of(view)
        pre_prepare = sign(
            PrePrepare(view, Height(block.height), block, primary),
            self.forgery.keys[primary],
            CHAIN_ID,
        )
        prepares = tuple(
            sign(Prepare(view, Height(block.height), block.block_hash, ReplicaId(i)), key, CHAIN_ID)
            for i, key in self.signers(exclude=(primary,))
        )
        return PreparedCertificate(pre_prepare, prepares)


class ShortNewView(BoundaryStrategy):
    """The forger's view, unasked: a NewView of quorum - 1 forged view changes, sent while
    every honest replica is content in view 0. Counted right, it is refused."""

    name = "short-new-view"

    def on_tick(self, now_ms: int) -> Outgoing:
        if self.store is None or not self.store.blocks or self.sends >= SENDS_MAX:
            return []
        view = View(self.ctx.view + 1)
        if self.ctx.config.primary_of(view) != self.me:
            return []
        if self.sends and self.ctx.rng.randrange(RESEND_TICKS) != 0:
            return []
        self.sends += 1
        committed = self.store.blocks[-1][1]
        view_changes = tuple(
            sign(ViewChange(view, ReplicaId(i), committed, ()), key, CHAIN_ID)
            for i, key in self.signers()
        )
        plan = plan_new_view(view, view_changes)
        reproposals = tuple(
            sign(PrePrepare(view, h, b, ReplicaId(self.me)), self.ctx.key, CHAIN_ID)
            for h, b in plan.reproposals
        )
        new_view = self.sign(NewView(view, ReplicaId(self.me), view_changes, reproposals))
        return [(self.me, to, new_view) for to in self.others()]


BOUNDARY_STRATEGIES: dict[str, type[BoundaryStrategy]] = {
    cls.name: cls
    for cls in (
        ShortCertificateFetch,
        ShortCertificateViewChange,
        ShortPreparedCertificate,
        ShortNewView,
    )
}


class BoundaryCheckers(Checkers):
    """The safety checker plus the FORGED and VIEW rules of the module docstring."""

    def __init__(
        self, validators: ValidatorSet, chain_id: str, honest: set[int], forgery: Forgery
    ) -> None:
        super().__init__(validators, chain_id, honest)
        self.forgery = forgery
        self.asked_views: set[int] = {0}
        """Views some honest replica sent a ViewChange for (view 0 needs none)."""

    def on_deliver(self, replica: int, block: Block, certificate: Any, time_ms: int) -> None:
        if replica in self.honest and block.block_hash in self.forgery.forged_blocks:
            self.violations.append(
                f"t={time_ms} FORGED: r{replica} delivered the fabricated block "
                f"{block.block_hash.hex()[:8]} at h={block.height}"
            )
        super().on_deliver(replica, block, certificate, time_ms)

    def on_send(self, replica: int, message: Message, time_ms: int) -> None:
        super().on_send(replica, message, time_ms)
        if replica not in self.honest or message.replica != replica:
            return
        forged = self.forgery.forged_blocks
        if isinstance(message, PrePrepare | Prepare | Commit) and message.block_hash in forged:
            self.violations.append(
                f"t={time_ms} FORGED: r{replica} sent {message.describe()} "
                "for a block only a forgery showed"
            )
        if isinstance(message, ViewChange):
            needed = message.new_view - 1
        elif isinstance(message, PrePrepare | Prepare | Commit | NewView):
            needed = message.view
        else:
            return
        if needed not in self.asked_views:
            self.violations.append(
                f"t={time_ms} VIEW: r{replica} sent {message.describe()} but no honest "
                f"replica asked for view {needed}"
            )
        if isinstance(message, ViewChange):
            self.asked_views.add(message.new_view)


class BoundarySimulation(Simulation):
    """A Simulation whose Byzantine replica runs a BoundaryStrategy (see the docstring)."""

    def __init__(self, options: SimOptions, strategy: str, variant: str) -> None:
        self.forgery = Forgery(variant, adversary_keys(options.replicas))
        cls = BOUNDARY_STRATEGIES[strategy]
        options = dataclasses.replace(options, byzantine={FORGER: strategy})
        super().__init__(options, strategy_factory=lambda ctx: cls(ctx, self.forgery))
        self.checkers = BoundaryCheckers(self.validators, CHAIN_ID, self.honest, self.forgery)
        for node in self.nodes:
            if isinstance(node.strategy, BoundaryStrategy):
                node.strategy.store = node.store

    def _schedule_faults(self, fault_end: int) -> None:
        """The options' faults, and the primary of view 0 isolated for a while in the
        middle of the fault phase, so that a view change to the forger's view happens."""
        super()._schedule_faults(fault_end)
        phase = self.options.fault_phase_ms
        self._push(phase // 3, "partition", "isolate", 0.0)
        self._push(phase // 3 + phase // 3, "unpartition")

    def _serve_fetch(self, node: Any, effect: FetchBlocks) -> None:
        """As Simulation._serve_fetch, except that the forger always answers with its
        forgery when it is the first reachable peer."""
        for peer_id in effect.peers:
            peer = self.nodes[peer_id]
            if not peer.alive or not self.network.connected(peer_id, node.id):
                continue
            blocks: tuple[Any, ...] | None = None
            if isinstance(peer.strategy, BoundaryStrategy):
                blocks = peer.strategy.serve_fetch(node.store, effect.from_height)
            if blocks is None:
                start = effect.from_height - 1
                blocks = tuple(peer.store.blocks[start : start + MAX_FETCH_BLOCKS])
            if not blocks:
                continue
            delay = self.rng.randint(self.options.delay_ms_min, self.options.delay_ms_max) * 2
            self._push(delay, "fetched", node.id, blocks)
            return
