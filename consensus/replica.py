"""Replica: one PBFT replica as a pure state machine (Castro & Liskov, OSDI'99 / TOCS'02).

The node calls `step(event)` and carries out the returned effects (consensus.effects
states its duties). `step` first lets the replica catch up with blocks the node has just
executed, then screens a received message by view, watermarks and signature, then
dispatches on the event to one handler per message kind:

    on_request        a client transaction from the mempool, or one of a RequestBatch
                      forwarded by a replica
    on_pre_prepare    the primary proposes a block (section 4.2)
    on_prepare        a backup accepted it; pre-prepare + 2f prepares = prepared
    on_commit         2f + 1 commits = a commit certificate = committed (section 4.2)
    on_checkpoint     every K blocks; 2f + 1 matching = stable, then GC (section 4.3)
    on_view_change    a replica suspects the primary (section 4.4)
    on_new_view       the new primary starts its view with re-proposals (section 4.4)
    on_tick           timers: batching, view-change timeout, retransmission, state transfer
    FlushRequests     the node's burst ended: a backup forwards its queued requests now
    on_blocks_fetched state transfer: certified blocks fetched from peers

One block is in flight at a time (docs/adr/003-one-block-in-flight.md): the primary
proposes height h + 1 only after it has committed and executed h, because the header of
h + 1 carries h's app hash. A replica may still receive messages for later heights (it
may be behind); the watermark window bounds what it keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chain.block import Block
from chain.certificate import CommitCertificate, CommitSignature
from chain.errors import VotechainError
from chain.keys import PrivateKey
from chain.tx import MAX_TX_BYTES, Transaction
from chain.verified import VerifiedTransactions
from consensus.app import Application
from consensus.effects import Broadcast, Deliver, Effect, Persist, Send
from consensus.errors import InvalidMessage, InvariantViolation
from consensus.events import (
    BlocksFetched,
    Event,
    FlushRequests,
    MessageReceived,
    RequestReceived,
    Tick,
)
from consensus.log import MessageLog, Slot
from consensus.messages import (
    MAX_REQUEST_BATCH_TXS,
    Checkpoint,
    Commit,
    Message,
    NewView,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    RequestBatch,
    ViewChange,
    request_batches,
    sign,
)
from consensus.quorum import Quorum
from consensus.records import (
    CheckpointRecord,
    CommittedEntry,
    CommittedRecord,
    Record,
    SlotRecord,
    ViewRecord,
    slot_key,
)
from consensus.requests import PendingLimits, PendingRequests
from consensus.signatures import SignatureVerifier
from consensus.transfer import BehindDetector, check_fetched_block
from consensus.types import MAX_BACKOFF_DOUBLINGS, Height, ReplicaConfig, ReplicaId, View
from consensus.viewchange import NewViewPlan, check_new_view, check_view_change, make_new_view

MAX_FORWARDED_ON_NEW_VIEW = 1_000
"""Pending requests a backup re-forwards to a new primary (the rest are relayed later)."""
TX_CHECKS_WHERE = "request"
"""The label of this core's transaction signature checks in VerifiedTransactions.checks."""


@dataclass
class ReplicaStats:
    """Counters for metrics and tests; never read by the protocol itself."""

    delivered: int = 0
    view_changes: int = 0
    fetches: int = 0
    bad_signatures: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


def _later_view_change(new: ViewChange, old: ViewChange) -> bool:
    return new.new_view > old.new_view


class Replica:
    """A PBFT replica. Drive it only through `step`; see the module docstring."""

    def __init__(
        self,
        config: ReplicaConfig,
        key: PrivateKey,
        app: Application,
        restored: Sequence[Record] | None,
        committed_height: int,
        committed_hash: bytes,
        verified: VerifiedTransactions | None = None,
    ) -> None:
        """A replica whose chain store ends at `committed_height` / `committed_hash`.

        `restored` is every record this replica persisted before (None or empty on first
        start). Height 0 means an empty chain whose "last block hash" is the genesis hash.
        `verified` is the node's set of transactions whose signatures it has checked,
        shared with its mempool and block validation, so each is checked once per node;
        without one the replica keeps its own.
        """
        if key.public_key != config.public_key_of(config.replica_id):
            raise ValueError(f"the key is not validator {config.replica_id}'s key")
        self.config = config
        self.stats = ReplicaStats()
        self._key = key
        self._app = app
        self._me = config.replica_id
        self._verifier = SignatureVerifier(
            config.validators, config.chain_id, config.signature_cache_size
        )
        self.verified = verified if verified is not None else VerifiedTransactions()
        self._log = MessageLog(config.watermark_window, config.quorum)
        # View state.
        self._view = View(0)
        self._view_changing = False
        self._view_floor = Height(0)
        self._own_view_change: ViewChange | None = None
        self._own_new_view: NewView | None = None
        self._view_changes: Quorum[View, ViewChange] = Quorum(config.quorum)
        # The committed chain, as far as the core needs it.
        self._committed_height = Height(committed_height)
        self._committed_hash = committed_hash
        self._committed_timestamp_ms = config.genesis_time_ms if committed_height == 0 else 0
        self._committed_certificate: CommitCertificate | None = None
        self._committed_entries: tuple[CommittedEntry, ...] = ()
        self._app_behind = False
        # Requests and timers (all in ticks).
        self._pending = PendingRequests(
            PendingLimits(
                max_requests=config.max_pending_requests,
                max_bytes=config.max_pending_bytes,
                max_requests_per_signer=config.max_pending_per_signer,
                max_bytes_per_signer=config.max_pending_bytes_per_signer,
                exempt_signers=config.quota_exempt_signers,
            )
        )
        # Requests this replica admitted and has not handed to the primary yet: they leave
        # in one RequestBatch per FlushRequests or tick (the first of a tick at once, so a
        # lone request waits for nothing). Insertion-ordered; a subset of the pending set.
        self._outbox: dict[bytes, Transaction] = {}
        self._forwarded_this_tick = False
        self._now_ms = 0
        self._ticks = 0
        self._idle_ticks = 0
        self._view_change_ticks = 0
        self._failed_views = 0
        self._batch_ticks = 0
        self._retransmit_ticks = 0
        self._status_ticks = 0
        self._status_commit: Commit | None = None
        self._behind = BehindDetector(config)
        # Heights up to the last checkpoint height at or below the committed one are
        # decided for this replica whatever its records say, so the watermark window
        # starts there: a replica whose records are gone (a store rebuilt by `votechain
        # recover`) can still accept the next height when it is beyond the window.
        self._log.collect_garbage(
            Height(committed_height - committed_height % config.checkpoint_interval)
        )
        if restored:
            self._restore(restored)

    # ---- what the node and tests may look at -------------------------------------------

    @property
    def view(self) -> View:
        return self._view

    @property
    def view_changing(self) -> bool:
        return self._view_changing

    @property
    def committed_height(self) -> Height:
        return self._committed_height

    @property
    def cluster_height(self) -> Height:
        """The highest height this replica knows some correct replica committed (f + 1
        peers showed it, or a certificate did); its own committed height at least."""
        return max(self._committed_height, self._behind.target())

    @property
    def low_watermark(self) -> Height:
        return self._log.low

    @property
    def is_primary(self) -> bool:
        return self.config.primary_of(self._view) == self._me

    @property
    def log_size(self) -> int:
        """Slots held; bounded by the watermark window."""
        return len(self._log)

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    # ---- the entry point ---------------------------------------------------------------

    def step(self, event: Event) -> list[Effect]:
        """Handle one event; return what the node must do, in order (consensus.effects)."""
        out: list[Effect] = []
        if self._app_behind:
            self._app_behind = False
            self._on_app_caught_up(out)
        match event:
            case MessageReceived(sender, message):
                reason = self._screen(sender, message, out)
                if reason is not None:
                    self.stats.drop(reason)
                    return out
                self._behind.note_message(message)
                match message:
                    case RequestBatch():
                        for tx in message.transactions:
                            self.on_request(tx, out, forwarded=True)
                    case PrePrepare():
                        self.on_pre_prepare(message, out)
                    case Prepare():
                        self.on_prepare(message, out)
                    case Commit():
                        self.on_commit(message, out)
                    case Checkpoint():
                        self.on_checkpoint(message, out)
                    case ViewChange():
                        self.on_view_change(message, out)
                    case NewView():
                        self.on_new_view(message, out)
            case RequestReceived(tx):
                self.on_request(tx, out, forwarded=False)
            case Tick(now_ms):
                self.on_tick(now_ms, out)
            case BlocksFetched(blocks):
                self.on_blocks_fetched(blocks, out)
            case FlushRequests():
                self._flush_outbox(out)
        return out

    def _screen(self, sender: ReplicaId, message: Message, out: list[Effect]) -> str | None:
        """The view, watermark and signature checks every message passes before its handler.

        Returns why the message is dropped, or None. Messages from the future (a later
        view, or above the high watermark) are still signature-checked, because they are
        evidence that this replica is behind.
        """
        if message.replica != sender:
            return "replica field is not the sending peer"
        if not 0 <= sender < self.config.size or sender == self._me:
            return "not from another validator"
        stale = self._stale_reason(message, out)
        if stale is not None:
            return stale
        try:
            message.validate_basic()
        except InvalidMessage:
            return "malformed"
        if not self._verifier.verify_message(message):
            self.stats.bad_signatures += 1
            return "bad signature"
        return self._future_reason(message)

    def _stale_reason(self, message: Message, out: list[Effect]) -> str | None:
        match message:
            case PrePrepare() | Prepare() | Commit():
                if message.height <= self._committed_height:
                    self._help_behind_peer(message, out)
                    return "already committed"
                if message.height <= self._log.low:
                    return "below the low watermark"
                if not isinstance(message, Commit) and message.view < self._view:
                    return "from an earlier view"
            case Checkpoint():
                if message.height <= self._log.low:
                    return "below the low watermark"
            case NewView():
                if message.view < self._view or (
                    message.view == self._view and not self._view_changing
                ):
                    return "new-view for a view already entered"
        return None

    def _future_reason(self, message: Message) -> str | None:
        match message:
            case PrePrepare() | Prepare() | Commit():
                if message.height > self._log.high:
                    self._behind.note_message(message)
                    return "above the high watermark"
                if isinstance(message, Commit):
                    return None
                if message.view > self._view:
                    self._behind.note_message(message)
                    return "from a later view"
                if self._view_changing:
                    return "view change in progress"
        return None

    # ---- requests ----------------------------------------------------------------------

    def on_request(self, tx: Transaction, out: list[Effect], forwarded: bool) -> None:
        """Remember a client transaction until it commits; backups forward it (section 4.1).

        Duplicates (by tx_id) and transactions already committed are ignored. A backup
        queues its own requests for the primary: the first of a tick leaves at once, the
        rest in one RequestBatch when the node steps FlushRequests (the end of its burst)
        or at the latest at the next tick (or as soon as a batch is full).
        """
        tx_id = tx.tx_id
        if tx_id in self._pending or self._app.is_committed(tx_id):
            return
        if tx.encoded_size > MAX_TX_BYTES:
            # Forwarded requests skip the mempool's size check; a block holding this one
            # would be refused by every correct replica (PROTOCOL.md section 10, rule 1).
            self.stats.drop("transaction over MAX_TX_BYTES")
            return
        refusal = self._pending.refusal(tx)
        if refusal is not None:
            self.stats.drop(refusal)
            return
        try:
            self.verified.verify(tx, self.config.chain_id, TX_CHECKS_WHERE)
        except VotechainError:
            self.stats.drop("invalid transaction")
            return
        self._pending.add(tx, self._ticks, relay=not forwarded)
        if forwarded:
            return
        if self.is_primary and not self._view_changing:
            self._maybe_propose(out)
            return
        self._outbox[tx_id] = tx
        if not self._forwarded_this_tick or len(self._outbox) >= MAX_REQUEST_BATCH_TXS:
            self._flush_outbox(out)

    def _flush_outbox(self, out: list[Effect]) -> None:
        """Send the queued requests still pending to the primary, as RequestBatches."""
        if not self._outbox:
            return
        queued = [tx for tx_id, tx in self._outbox.items() if tx_id in self._pending]
        self._outbox.clear()
        primary = self.config.primary_of(self._view)
        if not queued or primary == self._me:
            return  # the primary (or the primary-elect) orders its pending requests itself
        self._forwarded_this_tick = True
        for batch in request_batches(queued, self._me, self._key, self.config.chain_id):
            out.append(Send(primary, batch))

    def _forward_pending(self, out: list[Effect]) -> None:
        """On entering a view as a backup, hand the new primary what is still pending."""
        primary = self.config.primary_of(self._view)
        oldest = self._pending.oldest(MAX_FORWARDED_ON_NEW_VIEW)
        for tx in oldest:
            self._outbox.pop(tx.tx_id, None)
        for batch in request_batches(oldest, self._me, self._key, self.config.chain_id):
            out.append(Send(primary, batch))

    def _relay_old_requests(self, out: list[Effect]) -> None:
        """Broadcast requests pending half a timeout, so every replica's timer covers them.

        This is the client retransmission of section 4.1: a faulty primary that ignores a
        forwarded request is suspected by all correct replicas, not just one.
        """
        half_timeout = self.config.request_timeout_ticks // 2
        due = self._pending.due_for_relay(self._ticks, half_timeout)
        for batch in request_batches(due, self._me, self._key, self.config.chain_id):
            out.append(Broadcast(batch))

    # ---- normal case: pre-prepare, prepare, commit (section 4.2) --------------------------

    def _maybe_propose(self, out: list[Effect]) -> None:
        """As primary, propose the next block if one is due and none is in flight."""
        height = Height(self._committed_height + 1)
        if (
            not self.is_primary
            or self._view_changing
            or self._app_behind
            or height <= self._view_floor
            or not self._log.in_window(height)
            or not self._pending
        ):
            return
        slot = self._log.slot(height)
        if slot.pre_prepare is not None:
            return
        full = self._pending.is_full_batch(
            self.config.max_block_txs, self.config.max_batch_tx_bytes
        )
        if not full and self._batch_ticks < self.config.batch_delay_ticks:
            return
        transactions = self._take_batch()
        if not transactions:
            return
        timestamp_ms = max(self._now_ms, self._committed_timestamp_ms + 1)
        block = self._app.build_block(height, timestamp_ms, self._committed_hash, transactions)
        self._check_own_block(block, height, timestamp_ms)
        pre_prepare = sign(
            PrePrepare(self._view, height, block, self._me), self._key, self.config.chain_id
        )
        slot.pre_prepare = pre_prepare
        slot.checked = True
        slot.add_block(block)
        self._batch_ticks = 0
        out.append(Persist(self._slot_record(slot)))
        out.append(Broadcast(pre_prepare))
        self._check_prepared(slot, out)

    def _take_batch(self) -> tuple[Transaction, ...]:
        """The oldest pending requests that fit the block budget in count and bytes."""
        return tuple(
            self._pending.take_batch(
                self.config.max_block_txs, self.config.max_batch_tx_bytes, self._app.is_committed
            )
        )

    def _check_own_block(self, block: Block, height: Height, timestamp_ms: int) -> None:
        header = block.header
        expected = (height, timestamp_ms, self._committed_hash, self._key.public_key)
        got = (header.height, header.timestamp_ms, header.prev_hash, header.proposer)
        if got != expected:
            raise InvariantViolation(
                f"Application.build_block returned height/timestamp/prev_hash/proposer "
                f"{got[:2]}, expected {expected[:2]} on the last committed block by this replica"
            )
        if block.encoded_size > self.config.max_block_bytes:
            # Every correct replica would refuse it (PROTOCOL.md section 5); proposing it
            # would only cost a view change.
            raise InvariantViolation(
                f"Application.build_block returned a block of {block.encoded_size} bytes, "
                f"over max_block_bytes {self.config.max_block_bytes}"
            )

    def on_pre_prepare(self, pre_prepare: PrePrepare, out: list[Effect]) -> None:
        """Accept at most one pre-prepare per (view, height) from the view's primary."""
        if pre_prepare.replica != self.config.primary_of(self._view):
            self.stats.drop("pre-prepare not from the primary")
            return
        if pre_prepare.height <= self._view_floor:
            self.stats.drop("pre-prepare at or below the new view's floor")
            return
        slot = self._log.slot(pre_prepare.height)
        if slot.pre_prepare is not None:
            if slot.pre_prepare.block_hash != pre_prepare.block_hash:
                self.stats.drop("conflicting pre-prepare (equivocating primary)")
            return
        slot.pre_prepare = pre_prepare
        slot.add_block(pre_prepare.block)
        self._process_next_slot(out)

    def _process_next_slot(self, out: list[Effect]) -> None:
        """Check the pre-prepare waiting at the next height, now that its parent is executed."""
        slot = self._log.get(self._committed_height + 1)
        if (
            slot is None
            or slot.pre_prepare is None
            or slot.checked
            or slot.rejected is not None
            or self._app_behind
            or self._view_changing
        ):
            return
        reason = self._check_proposal(slot.pre_prepare.block, slot.reproposal)
        if reason is not None:
            slot.rejected = reason
            self.stats.drop(f"proposal refused: {reason.split(':')[0]}")
            return
        slot.checked = True
        if slot.pre_prepare.replica != self._me:
            prepare = sign(
                Prepare(self._view, slot.height, slot.pre_prepare.block_hash, self._me),
                self._key,
                self.config.chain_id,
            )
            slot.own_prepare = prepare
            slot.add_prepare(prepare)
            out.append(Persist(self._slot_record(slot)))
            out.append(Broadcast(prepare))
        self._check_prepared(slot, out)

    def _check_proposal(self, block: Block, reproposal: bool) -> str | None:
        """Why `block` may not follow the last committed block, or None.

        A re-proposal (from a NewView) carries a prepared certificate: a quorum already
        checked its proposer and clock, so only the chain rules and the app are asked again.
        """
        header = block.header
        if header.chain_id != self.config.chain_id:
            return f"chain id {header.chain_id!r}"
        if header.height != self._committed_height + 1:
            return f"height {header.height}, expected {self._committed_height + 1}"
        if header.prev_hash != self._committed_hash:
            return "prev_hash: does not link to the last committed block"
        if not reproposal:
            primary_key = self.config.public_key_of(self.config.primary_of(self._view))
            if header.proposer != primary_key:
                return "proposer: not the primary of the view"
        elif not self.config.validators.contains(header.proposer):
            return "proposer: not a validator"
        if header.timestamp_ms <= self._committed_timestamp_ms:
            return (
                f"timestamp: {header.timestamp_ms} not later than the parent's "
                f"{self._committed_timestamp_ms}"
            )
        drift_ms = abs(header.timestamp_ms - self._now_ms)
        if not reproposal and drift_ms > self.config.max_clock_drift_ms:
            return f"timestamp: {drift_ms} ms from this replica's clock"
        reason = self._app.validate_block(block)
        if reason is not None:
            return f"application: {reason}"
        return None

    def on_prepare(self, prepare: Prepare, out: list[Effect]) -> None:
        """Count a prepare; the first one per replica and view is the one that counts."""
        slot = self._log.slot(prepare.height)
        if slot.add_prepare(prepare):
            self._check_prepared(slot, out)

    def _check_prepared(self, slot: Slot, out: list[Effect]) -> None:
        """prepared(m, v, n, i): the checked pre-prepare plus 2f matching prepares from
        replicas other than the primary. Then persist the certificate and send a commit."""
        pre_prepare = slot.pre_prepare
        if pre_prepare is None or not slot.checked or slot.own_commit is not None:
            return
        matching = [
            p
            for p in slot.prepares.messages_for(pre_prepare.block_hash)
            if p.view == self._view and p.replica != pre_prepare.replica
        ]
        if len(matching) < self.config.quorum - 1:
            return
        slot.prepared = PreparedCertificate(pre_prepare, tuple(matching[: self.config.quorum - 1]))
        commit = sign(
            Commit(self._view, slot.height, pre_prepare.block_hash, self._me),
            self._key,
            self.config.chain_id,
        )
        slot.own_commit = commit
        slot.add_commit(commit)
        out.append(Persist(self._slot_record(slot)))
        out.append(Broadcast(commit))
        self._check_committed(slot, out)

    def on_commit(self, commit: Commit, out: list[Effect]) -> None:
        """Count a commit; a commit from any view counts toward a certificate of that view."""
        slot = self._log.slot(commit.height)
        if slot.add_commit(commit):
            self._check_committed(slot, out)

    def _check_committed(self, slot: Slot, out: list[Effect]) -> None:
        """committed: a quorum of commits for one (view, block) is its commit certificate."""
        if slot.certificate is None:
            for view, block_hash in slot.commits.values_reaching():
                commits = slot.commits.messages_for((view, block_hash))
                signatures = [
                    CommitSignature(self.config.public_key_of(c.replica), c.signature)
                    for c in commits
                ]
                slot.certificate = CommitCertificate.from_signatures(
                    self.config.chain_id, view, slot.height, block_hash, signatures
                )
                self._behind.note_certificate(slot.height)
                break
        self._try_deliver(out)

    def _try_deliver(self, out: list[Effect]) -> None:
        """Deliver every next block whose certificate and block are both known."""
        while True:
            slot = self._log.get(self._committed_height + 1)
            if slot is None or slot.certificate is None:
                return
            block = slot.blocks.get(slot.certificate.block_hash)
            if block is None:
                return
            self._deliver(block, slot.certificate, out)

    def _deliver(self, block: Block, certificate: CommitCertificate, out: list[Effect]) -> None:
        if block.header.prev_hash != self._committed_hash:
            raise InvariantViolation(
                f"certified block {block.height} does not link to this replica's block "
                f"{self._committed_height}: more than f replicas are faulty"
            )
        height = Height(block.height)
        entry = CommittedEntry(height, block.block_hash, block.header.timestamp_ms, certificate)
        self._committed_entries = (*self._committed_entries[-1:], entry)
        out.append(Persist(CommittedRecord(self._committed_entries)))
        out.append(Deliver(block, certificate))
        self._committed_height = height
        self._committed_hash = block.block_hash
        self._committed_timestamp_ms = block.header.timestamp_ms
        self._committed_certificate = certificate
        self._app_behind = True
        self.stats.delivered += 1
        for tx in block.transactions:
            self._pending.remove(tx.tx_id)
        if not self._view_changing:
            self._idle_ticks = 0
            self._failed_views = 0
        self._behind.progressed()
        if height % self.config.checkpoint_interval == 0:
            checkpoint = sign(
                Checkpoint(height, block.block_hash, self._me), self._key, self.config.chain_id
            )
            self._add_checkpoint(checkpoint, out)
            out.append(Broadcast(checkpoint))

    def _on_app_caught_up(self, out: list[Effect]) -> None:
        """The node executed every delivered block: the next height can be checked."""
        self._process_next_slot(out)
        self._try_deliver(out)
        self._maybe_propose(out)

    def _help_behind_peer(self, message: Message, out: list[Effect]) -> None:
        """A peer still works on a height this replica committed: resend our commit.

        Only a pre-prepare or prepare asks for this; a commit never does, so two replicas
        that both committed cannot keep answering each other.
        """
        if not isinstance(message, PrePrepare | Prepare):
            return
        slot = self._log.get(message.height)
        if slot is None or slot.certificate is None:
            return
        if slot.own_commit is None:
            # Committed through others' commits before preparing: a certificate exists,
            # so adding this replica's signature to it cannot certify anything else.
            # No record is needed before sending it: the block is in the store (stored
            # before this replica's height moved past it), and a restarted replica never
            # signs anything at a height it has already committed but this same block.
            certificate = slot.certificate
            slot.own_commit = sign(
                Commit(View(certificate.view), slot.height, certificate.block_hash, self._me),
                self._key,
                self.config.chain_id,
            )
        out.append(Send(message.replica, slot.own_commit))

    # ---- checkpoints and garbage collection (section 4.3) ------------------------------

    def on_checkpoint(self, checkpoint: Checkpoint, out: list[Effect]) -> None:
        self._add_checkpoint(checkpoint, out)

    def _add_checkpoint(self, checkpoint: Checkpoint, out: list[Effect]) -> None:
        stable = self._log.add_checkpoint(checkpoint)
        if stable is None:
            return
        self._log.collect_garbage(stable)
        out.append(Persist(CheckpointRecord(stable, self._log.stable_proof)))

    # ---- view changes (section 4.4) ----------------------------------------------------

    def _timeout_ticks(self) -> int:
        return self.config.request_timeout_ticks << min(self._failed_views, MAX_BACKOFF_DOUBLINGS)

    def _start_view_change(self, new_view: View, out: list[Effect]) -> None:
        """Stop accepting messages of the current view and ask to move to `new_view`."""
        self.stats.view_changes += 1
        self._view = new_view
        self._view_changing = True
        self._view_change_ticks = 0
        self._idle_ticks = 0
        self._failed_views += 1
        self._own_new_view = None
        self._log.reset_view()
        prepared = tuple(
            slot.prepared
            for slot in self._log.slots()
            if slot.prepared is not None and slot.height > self._committed_height
        )
        view_change = sign(
            ViewChange(new_view, self._me, self._committed_certificate, prepared),
            self._key,
            self.config.chain_id,
        )
        self._own_view_change = view_change
        self._view_changes.add(self._me, new_view, view_change, _later_view_change)
        out.append(Persist(self._view_record()))
        out.append(Broadcast(view_change))
        self._maybe_send_new_view(out)

    def on_view_change(self, view_change: ViewChange, out: list[Effect]) -> None:
        """File a view change; join a later view that f + 1 others want; lead if due."""
        if view_change.new_view < self._view or (
            view_change.new_view == self._view and not self._view_changing
        ):
            # The sender is behind: as primary of the current view, show it the NewView.
            if self.is_primary and not self._view_changing and self._own_new_view is not None:
                out.append(Send(view_change.replica, self._own_new_view))
            return
        try:
            check_view_change(view_change, self.config, self._verifier)
        except InvalidMessage:
            self.stats.drop("invalid view-change")
            return
        self._learn_from_view_change(view_change, out)
        self._view_changes.add(
            view_change.replica, view_change.new_view, view_change, _later_view_change
        )
        self._maybe_join_view_change(out)
        self._maybe_send_new_view(out)

    def _maybe_join_view_change(self, out: list[Effect]) -> None:
        """f + 1 replicas ask for views above ours: at least one is correct, so follow."""
        wanted = sorted(
            (
                view
                for replica, view, _ in self._view_changes.items()
                if replica != self._me and view > self._view
            ),
            reverse=True,
        )
        if len(wanted) > self.config.max_faulty:
            self._start_view_change(wanted[self.config.max_faulty], out)

    def _maybe_send_new_view(self, out: list[Effect]) -> None:
        """As primary of the view being changed to, send NewView once a quorum asked."""
        view = self._view
        if not self._view_changing or not self.is_primary or self._own_new_view is not None:
            return
        candidates = [vc for _, v, vc in self._view_changes.items() if v == view]
        if len(candidates) < self.config.quorum:
            return
        candidates.sort(key=lambda vc: (vc.replica != self._me, vc.replica))
        chosen = candidates[: self.config.quorum]
        try:
            new_view, plan = make_new_view(view, chosen, self.config, self._key)
        except InvalidMessage:
            self.stats.drop("view changes leave a gap")
            return
        self._own_new_view = new_view
        self._enter_view(new_view, plan, out)

    def on_new_view(self, new_view: NewView, out: list[Effect]) -> None:
        """Check the NewView against its own view changes, then enter the view."""
        try:
            plan = check_new_view(new_view, self.config, self._verifier)
        except InvalidMessage:
            self.stats.drop("invalid new-view")
            return
        for view_change in new_view.view_changes:
            self._learn_from_view_change(view_change, out)
        self._enter_view(new_view, plan, out)

    def _enter_view(self, new_view: NewView, plan: NewViewPlan, out: list[Effect]) -> None:
        self._view = new_view.view
        self._view_changing = False
        self._view_floor = plan.floor
        self._view_change_ticks = 0
        self._idle_ticks = 0
        self._own_view_change = None
        self._log.reset_view()
        self._view_changes.remove_if(lambda view, _: view <= new_view.view)
        out.append(Persist(self._view_record()))
        if self._own_new_view is new_view:
            out.append(Broadcast(new_view))
        if plan.anchor is not None:
            self._learn_certificate(plan.anchor, out)
        for pre_prepare in new_view.reproposals:
            height = pre_prepare.height
            if height <= self._committed_height or not self._log.in_window(height):
                continue
            slot = self._log.slot(height)
            slot.pre_prepare = pre_prepare
            slot.reproposal = True
            slot.add_block(pre_prepare.block)
        self._process_next_slot(out)
        self._try_deliver(out)
        if not self.is_primary:
            self._forward_pending(out)

    def _learn_from_view_change(self, view_change: ViewChange, out: list[Effect]) -> None:
        """A checked view change carries a certificate and prepared blocks: keep them."""
        if view_change.committed is not None:
            self._learn_certificate(view_change.committed, out)
        for prepared in view_change.prepared:
            if prepared.height > self._committed_height and self._log.in_window(prepared.height):
                self._log.slot(prepared.height).add_block(prepared.pre_prepare.block)

    def _learn_certificate(self, certificate: CommitCertificate, out: list[Effect]) -> None:
        height = Height(certificate.height)
        if height <= self._committed_height:
            return
        self._behind.note_certificate(height)
        if self._log.in_window(height):
            slot = self._log.slot(height)
            if slot.certificate is None:
                slot.certificate = certificate
        if not self._app_behind:
            self._try_deliver(out)

    # ---- timers ------------------------------------------------------------------------

    def on_tick(self, now_ms: int, out: list[Effect]) -> None:
        """Advance every timer by one tick."""
        self._now_ms = now_ms
        self._ticks += 1
        self._flush_outbox(out)
        self._forwarded_this_tick = False
        self._relay_old_requests(out)
        behind = self._behind.target() > self._committed_height
        if self._view_changing:
            # Section 4.5.2: the timer for the next view starts once a quorum asked for
            # this view or a later one (a later view change also gives up on this view).
            asking = sum(1 for _, view, _ in self._view_changes.items() if view >= self._view)
            if asking >= self.config.quorum:
                self._view_change_ticks += 1
            if self._view_change_ticks >= self._timeout_ticks():
                self._start_view_change(View(self._view + 1), out)
        elif self._has_work() and not behind:
            self._idle_ticks += 1
            if self._idle_ticks >= self._timeout_ticks():
                self._start_view_change(View(self._view + 1), out)
        else:
            self._idle_ticks = 0
        self._tick_state_transfer(out)
        self._tick_retransmit(out)
        self._tick_status(out)
        if self._pending:
            self._batch_ticks += 1
        self._maybe_propose(out)

    def _has_work(self) -> bool:
        """Something is outstanding that the primary should bring to commit."""
        if self._pending:
            return True
        slot = self._log.get(self._committed_height + 1)
        return slot is not None and slot.pre_prepare is not None

    def _tick_retransmit(self, out: list[Effect]) -> None:
        """Re-send this replica's latest messages; the network may have lost them.

        Every signed vote re-sent is persisted again first (issue 11): the node stops on a
        refused write, but if it did not, a vote sent from memory whose record was lost
        could be contradicted after a restart. A record rewritten with the same content is
        harmless. Checkpoints need no record: they sign the committed chain itself.
        """
        self._retransmit_ticks += 1
        if self._retransmit_ticks < self.config.retransmit_ticks:
            return
        self._retransmit_ticks = 0
        if self._view_changing:
            if self._own_view_change is not None:
                out.append(Persist(self._view_record()))
                out.append(Broadcast(self._own_view_change))
            return
        if not self._has_work():
            return
        slot = self._log.get(self._committed_height + 1)
        if slot is not None:
            own_pre_prepare = slot.pre_prepare is not None and slot.pre_prepare.replica == self._me
            if own_pre_prepare or slot.own_prepare is not None or slot.own_commit is not None:
                out.append(Persist(self._slot_record(slot)))
            if own_pre_prepare and slot.pre_prepare is not None:
                out.append(Broadcast(slot.pre_prepare))
            if slot.own_prepare is not None:
                out.append(Broadcast(slot.own_prepare))
            if slot.own_commit is not None:
                out.append(Broadcast(slot.own_commit))
        checkpoint = self._log.checkpoint_of(self._me)
        if checkpoint is not None:
            out.append(Broadcast(checkpoint))

    def _tick_status(self, out: list[Effect]) -> None:
        """Every `status_ticks`, show the peers this replica's committed height.

        Issue 11: on an idle cluster nothing else is sent, so a replica that missed the
        last block, or moved alone to a later view while the others committed one more,
        stayed behind until the next request. The Commit for the last committed block
        (in the view of its certificate) is evidence for 12.7: q of them are a certificate,
        f + 1 show the height. Signing it is safe for the reason _help_behind_peer gives,
        and needs no record: the block is stored.
        """
        self._status_ticks += 1
        if self._status_ticks < self.config.status_ticks:
            return
        self._status_ticks = 0
        certificate = self._committed_certificate
        if certificate is None:
            return
        status = self._status_commit
        if status is None or status.height != certificate.height:
            status = sign(
                Commit(
                    View(certificate.view),
                    Height(certificate.height),
                    certificate.block_hash,
                    self._me,
                ),
                self._key,
                self.config.chain_id,
            )
            self._status_commit = status
        out.append(Broadcast(status))

    # ---- state transfer (consensus.transfer) --------------------------------------------

    def _tick_state_transfer(self, out: list[Effect]) -> None:
        fetch = self._behind.tick(self._committed_height)
        if fetch is not None:
            self.stats.fetches += 1
            out.append(fetch)

    def on_blocks_fetched(
        self, blocks: tuple[tuple[Block, CommitCertificate], ...], out: list[Effect]
    ) -> None:
        """Deliver fetched blocks that extend the chain and carry valid certificates."""
        self._behind.answered()
        for block, certificate in blocks:
            if block.height <= self._committed_height:
                continue
            reason = check_fetched_block(
                block,
                certificate,
                self.config,
                self._verifier,
                self._committed_height,
                self._committed_hash,
                self._committed_timestamp_ms,
            )
            if reason is not None:
                self.stats.drop(f"fetched block refused: {reason}")
                return
            self._behind.note_certificate(certificate.height)
            self._deliver(block, certificate, out)

    # ---- records: persist and restore --------------------------------------------------

    def _slot_record(self, slot: Slot) -> SlotRecord:
        return SlotRecord(
            key=slot_key(slot.height, self.config.watermark_window),
            height=slot.height,
            view=self._view,
            pre_prepare=slot.pre_prepare,
            reproposal=slot.reproposal,
            sent_prepare=slot.own_prepare is not None,
            sent_commit=slot.own_commit is not None,
            prepared=slot.prepared,
        )

    def _view_record(self) -> ViewRecord:
        return ViewRecord(
            view=self._view,
            view_changing=self._view_changing,
            view_floor=self._view_floor,
            view_change=self._own_view_change if self._view_changing else None,
            new_view=self._own_new_view if not self._view_changing else None,
        )

    def _restore(self, records: Sequence[Record]) -> None:
        """Resume from persisted records: same view, same votes, same certificates."""
        slots: list[SlotRecord] = []
        for record in records:
            match record:
                case ViewRecord():
                    self._view = record.view
                    self._view_changing = record.view_changing
                    self._view_floor = record.view_floor
                    self._own_view_change = record.view_change
                    self._own_new_view = record.new_view
                case CheckpointRecord():
                    self._log.collect_garbage(record.stable_height)
                    self._log.stable_proof = record.proof
                case CommittedRecord():
                    entry = record.entry_at(self._committed_height)
                    if entry is not None and entry.block_hash == self._committed_hash:
                        self._committed_timestamp_ms = entry.timestamp_ms
                        self._committed_certificate = entry.certificate
                        self._committed_entries = (entry,)
                case SlotRecord():
                    slots.append(record)
        if self._view_changing and self._own_view_change is not None:
            self._view_changes.add(self._me, self._view, self._own_view_change)
        for record in slots:
            if record.height > self._committed_height and self._log.in_window(record.height):
                self._restore_slot(record)

    def _restore_slot(self, record: SlotRecord) -> None:
        slot = self._log.slot(record.height)
        if record.prepared is not None:
            slot.prepared = record.prepared
            slot.add_block(record.prepared.pre_prepare.block)
        pre_prepare = record.pre_prepare
        if record.view != self._view or self._view_changing or pre_prepare is None:
            return
        chain_id = self.config.chain_id
        slot.pre_prepare = pre_prepare
        slot.reproposal = record.reproposal
        slot.checked = record.sent_prepare or pre_prepare.replica == self._me
        slot.add_block(pre_prepare.block)
        if record.sent_prepare:
            prepare = Prepare(self._view, record.height, pre_prepare.block_hash, self._me)
            slot.own_prepare = sign(prepare, self._key, chain_id)
            slot.add_prepare(slot.own_prepare)
        if record.sent_commit:
            commit = Commit(self._view, record.height, pre_prepare.block_hash, self._me)
            slot.own_commit = sign(commit, self._key, chain_id)
            slot.add_commit(slot.own_commit)
