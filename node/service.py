"""Node: the I/O shell that wires the pure cores to sockets, timers and disk.

One asyncio loop per node process. Everything that changes the replica goes through
`_step(event)`, which runs `Replica.step` and then executes its effects in order, keeping
the duties consensus/effects.py lists: persist (synced) before any later send, deliver in
height order and before the next step, fetch blocks for state transfer in the background.

Fail-stop on the disk: a durable write the disk refuses (ENOSPC, EIO, a LevelDB
background error) ends the process at once with EXIT_DISK_FAILED, before any effect after
it runs, so nothing that depends on the write is ever sent; a node whose disk cannot take
a synced probe write does not start. A supervisor (`votechain up`, systemd) restarts it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import aiohttp
from aiohttp import web

import votingcontract
from chain.block import Block
from chain.certificate import CommitCertificate
from chain.errors import DecodeError, StoreWriteError, VotechainError
from chain.keyfile import load_key
from chain.store import LAYOUT, ChainStore
from chain.verified import DEFAULT_CAPACITY_TXS, VerifiedTransactions
from consensus import (
    BlocksFetched,
    Broadcast,
    Deliver,
    Effect,
    Event,
    FetchBlocks,
    FlushRequests,
    InvariantViolation,
    MessageReceived,
    Persist,
    Replica,
    ReplicaConfig,
    ReplicaId,
    RequestReceived,
    Send,
    Tick,
    decode_message,
    decode_record,
    encode_message,
)
from consensus.messages import max_message_bytes
from consensus.records import slot_key
from node import views
from node.admission import SIGNALS, Admission
from node.app import ChainApplication
from node.config import ClusterConfig, ConfigError
from node.connlimit import ConnectionLimits, GuardedSite, connection_caps, raise_fd_limit
from node.errors import RpcError, RpcErrorCode
from node.httpread import read_capped
from node.images import ImageService, ImageStore
from node.mempool import Mempool
from node.metrics import NodeMetrics
from node.rpc import (
    MAX_RAW_BLOCK_BYTES,
    AppHook,
    decode_raw_block,
    export_rpc_refusals,
    make_rpc_app,
)
from node.setup import load_genesis
from node.tls import client_context, server_context
from node.transport import PeerTransport
from node.waiters import CommitWaiters

log = logging.getLogger("votechain.node")

CONSENSUS_RECORD_PREFIX = b"consensus/"
FETCH_BATCH = 50
EXIT_DISK_FAILED = 74
"""Exit status of a node whose disk refused a durable write (EX_IOERR in sysexits.h)."""
EXIT_CANNOT_FOLLOW = 70
"""Exit status of a node that can no longer follow the chain (EX_SOFTWARE)."""
BEHIND_GRACE_S = 1.0
"""How long this node must trail the height peers showed before wait=commit is refused as
`behind` (in the normal pipeline a replica trails by a block for milliseconds)."""
NO_QUORUM_GRACE_S = 2.0
"""How long fewer than a quorum of validators may be connected (counting this one) before
wait=commit is refused as `cannot_commit` (links come up within this after a start)."""
WAIT_CHECK_S = 0.5
"""A client waiting for a commit is re-checked this often: a node that loses its quorum
or falls behind meanwhile answers at once instead of at the full timeout."""
STOP_HANDLERS_S = 1.0
"""On stop, how long running RPC handlers may take to finish (heavy reads) before their
connections are closed; waiting clients were answered `stopping` before this."""
TEST_CLOCK_OFFSET_ENV = "VOTECHAIN_TEST_CLOCK_OFFSET_MS"
"""TEST ONLY: milliseconds added to this node's wall clock (the fault campaign in
tests/faults/ skews one node's clock with it). Never set it on a real validator."""
_TEST_CLOCK_OFFSET_MS = int(os.environ.get(TEST_CLOCK_OFFSET_ENV, "0") or "0")
DISK_PROBE_INTERVAL_S = 10.0
"""How often a running node repeats its synced probe write: an idle node whose disk has
filled (or whose LevelDB is stuck after a failed compaction) stops within this, instead
of looking alive until its next vote."""


def fail_stop(error: StoreWriteError, doing: str) -> NoReturn:
    """Stop the process now: the disk refused a write this node's promises depend on.

    Logged and also written straight to stderr (the log file may sit on the full disk, and
    a supervisor reads stderr). os._exit, not an exception: no handler, finally block or
    pending effect may run and send what the lost write should have recorded.
    """
    line = f"votechain: FATAL: {error} while {doing}; stopping (exit {EXIT_DISK_FAILED})"
    log.critical("%s", line)
    if not _logs_to_stderr():
        try:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        except OSError:
            pass
    os._exit(EXIT_DISK_FAILED)


def open_store(path: Path, node_id: str) -> ChainStore:
    """Open the chain store and make a synced probe write: a disk that cannot take one now
    would fail the first vote, so the node refuses to start instead, naming the path, and
    the supervisor's retries say why."""
    try:
        store = ChainStore(path)
    except StoreWriteError as exc:
        raise cannot_start(node_id, exc) from exc
    if store.migrated_from is not None:
        log.warning(
            "%s: rewrote the chain store at %s from layout %d to layout %d; releases before "
            "it cannot read it (docs/OPERATIONS.md, Keys and data directories)",
            node_id,
            path,
            store.migrated_from,
            LAYOUT,
        )
    try:
        store.probe_write()
    except StoreWriteError as exc:
        store.close()
        raise cannot_start(node_id, exc) from exc
    return store


def cannot_start(node_id: str, error: StoreWriteError) -> ConfigError:
    return ConfigError(
        f"{node_id} cannot start: {error}; free space or fix the disk, then start again"
    )


def _logs_to_stderr() -> bool:
    return any(
        type(handler) is logging.StreamHandler and handler.stream is sys.stderr
        for handler in logging.getLogger().handlers
    )


class Node:
    def __init__(self, config: ClusterConfig, node_id: str, extend: AppHook | None = None) -> None:
        self.config, self.node_id = config, node_id
        self._extend = extend
        """Adds the web app's routes to the RPC app (wired in by cli; None: RPC only)."""
        self.address = config.node(node_id)
        self.replica_id = config.replica_id(node_id)
        genesis = load_genesis(config)
        self.chain_id = genesis.chain_id
        self.key = load_key(config.node_dir(node_id) / "validator.pem")
        if genesis.validators[self.replica_id].public_key != self.key.public_key:
            raise ConfigError(
                f"{node_id}'s validator.pem is not the key genesis lists for replica "
                f"{self.replica_id}; is the data directory from another chain?"
            )
        self.store = open_store(config.node_dir(node_id) / "chain", node_id)
        try:
            self.store.initialize(genesis, votingcontract.genesis_writes(genesis))
        except StoreWriteError as exc:
            self.store.close()
            raise cannot_start(node_id, exc) from exc
        replica_config = self._replica_config()
        # One set of the transactions whose signatures this node checked, shared by the
        # mempool, the consensus core and block validation: each is checked once per node
        # (chain.verified). Room for everything the mempool and the core can hold at once.
        self.verified = VerifiedTransactions(
            max(DEFAULT_CAPACITY_TXS, config.mempool.max_txs + replica_config.max_pending_requests)
        )
        self.app = ChainApplication(self.store, self.key.public_key, self.verified)
        self.metrics = NodeMetrics(node_id)
        self.mempool = Mempool(
            self.chain_id,
            config.mempool.max_txs,
            self.app.is_committed,
            lambda tx: self.app.dry_run(tx, self.now_ms()),
            explain=lambda tx, reason: self.app.refusal_detail(tx, reason, self.now_ms()),
            max_tx_bytes=config.mempool.max_tx_bytes,
            max_bytes=config.mempool.max_bytes,
            max_txs_per_signer=config.mempool.max_txs_per_signer,
            max_bytes_per_signer=config.mempool.max_bytes_per_signer,
            unlimited_signers=frozenset(k.public_key for k in genesis.attesters),
            verified=self.verified,
        )
        self.replica = Replica(
            replica_config,
            self.key,
            self.app,
            [
                decode_record(key[len(CONSENSUS_RECORD_PREFIX) :], value)
                for key, value in self.store.local_items(CONSENSUS_RECORD_PREFIX)
            ],
            self.store.head_height,
            self.store.block_hash(self.store.head_height),
            self.verified,
        )
        peers = {
            config.replica_id(n.node_id): n.peer_url for n in config.nodes if n.node_id != node_id
        }
        validator_set = genesis.validator_set
        # The frame limit is the size of the largest valid consensus message (a NewView
        # with its view changes' blocks), so no valid message is ever cut off.
        self._max_message_bytes = max_message_bytes(validator_set.size, validator_set.quorum)
        self.transport = PeerTransport(
            self.replica_id,
            self.key,
            self.chain_id,
            genesis.validator_set,
            peers,
            self._on_frame,
            max_frame_bytes=self._max_message_bytes,
            ssl_context=client_context(config, node_id),
        )
        self.metrics.export_counts(
            "votechain_peer_frames_dropped",
            "Peer frames dropped and connections refused by the transport, by reason",
            "reason",
            self.transport.counters.dropped,
        )
        self.metrics.export_counts(
            "votechain_consensus_messages_dropped",
            "Peer messages the consensus core dropped (bad signature, old view, ...), by reason",
            "reason",
            lambda: self.replica.stats.dropped,
        )
        self.metrics.export_counts(
            "votechain_signature_checks",
            "Transaction signatures verified (Ed25519), by where: mempool, request, block",
            "where",
            lambda: self.verified.checks,
        )
        mempool = config.mempool
        self.admission = Admission(
            mempool.max_queue_s,
            mempool.min_queue_txs,
            mempool.max_loop_lag_ms,
            mempool.max_commit_waiters,
        )
        self.metrics.export_counts(
            "votechain_admission_refused",
            "Submissions refused busy before any work by admission control, by signal "
            "(commit waiters, event-loop lag, queue against the commit rate)",
            "signal",
            lambda: {signal: self.admission.refused[signal] for signal in SIGNALS},
        )
        self._waiters = CommitWaiters()
        self.delivered = views.DeliveredBlocks()
        """The latest delivered blocks, ready for commit answers (node/views.py)."""
        self._fetching = False
        self._stopping = False
        self._flush_scheduled = False
        """A FlushRequests step is due at the end of this turn of the event loop."""
        now_s = time.monotonic()
        self._behind_since: float | None = None
        self._view_changing_since: float | None = None
        self._no_quorum_since: float | None = now_s
        self._runner: web.AppRunner | None = None
        self._peer_runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        # State transfer fetches blocks from peers' RPC: https with the cluster's CA under [tls].
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=10),
            connector=aiohttp.TCPConnector(ssl=self.transport.ssl_context or True),
        )
        rpc = self.config.rpc
        rpc_app = make_rpc_app(
            self,
            rpc.max_body_bytes,
            lambda code: self.metrics.rpc_errors.labels(code=code).inc(),
            rpc,
            # Validators fetch blocks from each other's RPC (state transfer), and observers
            # follow the chain and forward their clients' transactions: never limited.
            unlimited_clients={
                *(n.host for n in self.config.nodes),
                *(o.host for o in self.config.observers),
            },
            delivered=self.delivered,
            images=ImageService(
                ImageStore(self.config.node_dir(self.node_id) / "images"),
                self.store,
                [n.rpc_url for n in self.config.nodes if n.node_id != self.node_id],
                lambda: self._session,
            ),
            extend=self._extend,
        )
        # Connection caps and timeouts on both servers (node/connlimit.py); aiohttp's
        # keepalive_timeout is the idle timeout, the guard adds the head timeout.
        fd_limit = raise_fd_limit()
        rpc_cap, peer_cap = connection_caps(fd_limit, rpc.max_connections, rpc.peer_max_connections)
        self._runner, rpc_site = await start_server(
            rpc_app,
            self.config,
            self.node_id,
            self.address.host,
            self.address.rpc_port,
            ConnectionLimits(rpc_cap, rpc.max_connections_per_client, rpc.header_timeout_s),
            peers=False,
        )
        peer_app = web.Application()
        peer_app.add_routes(self.transport.routes())
        self._peer_runner, peer_site = await start_server(
            peer_app,
            self.config,
            self.node_id,
            self.address.host,
            self.address.peer_port,
            ConnectionLimits(peer_cap, rpc.peer_max_connections_per_client, rpc.header_timeout_s),
            peers=True,
        )
        self._export_connection_metrics(rpc_site, peer_site, rpc_app)
        log.info(
            "open-file limit %d: up to %d RPC connections (%d per client), %d peer connections",
            fd_limit,
            rpc_cap,
            rpc.max_connections_per_client,
            peer_cap,
        )
        await self.transport.start()
        self._tasks.append(asyncio.create_task(self._tick_forever()))
        log.info(
            "node %s (replica %d) serving RPC on %s, peers on %s, height %d",
            self.node_id,
            self.replica_id,
            self.address.rpc_url,
            self.address.peer_url,
            self.store.head_height,
        )

    async def stop(self) -> None:
        """Graceful stop, in well under 3 s: answer every client waiting for a commit with
        `stopping`, refuse new submissions, then close the RPC and peer servers, the
        peer links and the store (every write is already synced)."""
        self._stopping = True
        stopping = RpcError(
            RpcErrorCode.STOPPING,
            f"node {self.node_id} is shutting down before the transaction committed; it may "
            "still commit: ask another node (GET /v1/tx/{tx_id})",
            retry_after_s=1,
        )
        self._waiters.fail_all(stopping)
        await asyncio.sleep(0)  # the waiting handlers write their answers
        if self._runner is not None:
            # Stops accepting, lets running handlers finish (at most STOP_HANDLERS_S),
            # then closes every client connection.
            await self._runner.cleanup()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.transport.close()
        if self._peer_runner is not None:
            await self._peer_runner.cleanup()
        if self._session is not None:
            await self._session.close()
        self.store.close()

    async def _tick_forever(self) -> None:
        interval_s = self.config.consensus.tick_ms / 1000
        probe_ticks = max(1, round(DISK_PROBE_INTERVAL_S / interval_s))
        ticks = 0
        while True:
            asleep_s = time.monotonic()
            await asyncio.sleep(interval_s)
            # How late the loop let this task wake: admission control refuses clients
            # while it stays late, so timers and peer frames are not starved (issue 13).
            self.admission.note_tick(time.monotonic() - asleep_s - interval_s)
            self._step(Tick(self.now_ms()))
            self._update_gauges()
            self._note_lag(time.monotonic())
            ticks += 1
            if ticks % 200 == 0:
                self.mempool.expire(time.monotonic())
            if ticks % probe_ticks == 0:
                try:
                    self.store.probe_write()
                except StoreWriteError as exc:
                    fail_stop(exc, "probing the disk")

    # --- the step/effect loop ------------------------------------------------------------

    def _step(self, event: Event) -> None:
        try:
            effects = self.replica.step(event)
        except InvariantViolation:
            # More than f replicas are faulty, or this node broke the Application
            # contract: continuing could commit something wrong. Stop; the operator looks.
            log.critical(
                "consensus invariant violated on %s; stopping", type(event).__name__, exc_info=True
            )
            os._exit(EXIT_CANNOT_FOLLOW)
        except VotechainError as exc:
            log.warning("replica refused %s: %s", type(event).__name__, exc)
            return
        except Exception:
            # A bug, not bad input: the core validates everything a peer sends. Dropping
            # the event keeps the node serving; the traceback is what the bug report needs.
            log.exception("replica failed on %s; event dropped", type(event).__name__)
            self.metrics.step_errors.inc()
            return
        self._execute(effects)

    def _execute(self, effects: Sequence[Effect]) -> None:
        """Carry out `effects` in order. Consecutive Persists become one synced write, made
        before the next effect runs; when that effect is a Deliver, the records go in the
        block's own synced batch instead (durable together, before anything later is sent),
        so a delivery costs one fsync, not two."""
        pending_records: list[tuple[bytes, bytes | None]] = []
        for effect in effects:
            if isinstance(effect, Persist):
                pending_records.append(
                    (CONSENSUS_RECORD_PREFIX + effect.record.key, effect.record.value)
                )
                continue
            if isinstance(effect, Deliver):
                pending_records.append(self._slot_done(effect.block.height))
                self._deliver(effect.block, effect.certificate, pending_records)
                pending_records = []
                continue
            if pending_records:
                self._write_records(pending_records)
                pending_records = []
            match effect:
                case Send(to=to, message=message):
                    self.transport.send(to, encode_message(message))
                case Broadcast(message=message):
                    self.transport.broadcast(encode_message(message))
                case FetchBlocks():
                    self._start_fetch(effect)
                case _:
                    log.debug("ignoring effect %s", effect)
        if pending_records:
            self._write_records(pending_records)

    def _slot_done(self, height: int) -> tuple[bytes, None]:
        """The deletion of height `height`'s slot record, for the batch that stores the
        block: a restarted replica restores only slots above its committed height
        (Replica._restore), so once the block is stored the record (the block once or
        twice) is dead weight, up to a watermark window of blocks on disk. Within the
        window no other live height shares the key (consensus/records.py)."""
        window = self.config.consensus.watermark_window
        return CONSENSUS_RECORD_PREFIX + slot_key(height, window), None

    def _write_records(self, records: list[tuple[bytes, bytes | None]]) -> None:
        try:
            self.store.write_local(records, sync=True)
        except StoreWriteError as exc:
            fail_stop(exc, f"persisting {len(records)} consensus records")

    def _on_frame(self, sender: int, frame: bytes) -> None:
        try:
            message = decode_message(frame, self._max_message_bytes)
        except (DecodeError, VotechainError) as exc:
            self.transport.counters.drop("malformed")
            log.debug("dropped a malformed frame from replica %d: %s", sender, exc)
            return
        self._step(MessageReceived(ReplicaId(sender), message))

    def _deliver(
        self,
        block: Block,
        certificate: CommitCertificate,
        records: Sequence[tuple[bytes, bytes | None]] = (),
    ) -> None:
        """Execute and store `block`, with the consensus `records` in the same synced batch."""
        try:
            receipts = self.app.commit(block, certificate, records)
        except StoreWriteError as exc:
            fail_stop(exc, f"storing block {block.height}")
        except Exception:
            # The store is consistent (one atomic batch) but this replica can no longer
            # follow the chain; stop and let the supervisor restart it, which recovers
            # from the data directory and state transfer.
            log.critical("cannot execute and store block %d; stopping", block.height, exc_info=True)
            os._exit(EXIT_CANNOT_FOLLOW)
        # Before the waiters wake: their answers are read from it (node/views.py).
        self.delivered.add(block, certificate, [r.encode() for r in receipts])
        tx_ids = [tx.tx_id for tx in block.transactions]
        self.admission.note_committed(
            time.monotonic(), self.mempool.remove(tx_ids), len(self.mempool)
        )
        self.metrics.blocks_committed.inc()
        for receipt in receipts:
            self.metrics.txs_committed.labels(code=str(receipt.code)).inc()
        self._waiters.wake(tx_ids)
        # The core acts on an executed block at its next step: as primary it proposes the
        # next block then, at the end of this turn, not at the next message or tick.
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Step FlushRequests once at the end of this turn of the event loop: requests
        admitted in one burst leave for the primary together, without waiting for a tick."""
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a test driving the node by hand): the next tick flushes
        self._flush_scheduled = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._stopping:
            self._step(FlushRequests())

    # --- state transfer ------------------------------------------------------------------

    def _start_fetch(self, effect: FetchBlocks) -> None:
        if self._fetching:
            return
        self._fetching = True
        self._tasks.append(asyncio.create_task(self._fetch(effect)))

    async def _fetch(self, effect: FetchBlocks) -> None:
        try:
            start = self.store.head_height + 1
            # The core names the peers most likely to have the blocks first; the rest follow.
            named = [self.config.nodes[p] for p in effect.peers if p != self.replica_id]
            others = [n for n in self.config.nodes if n not in named and n.node_id != self.node_id]
            for address in named + others:
                fetched = await self._fetch_from(address.rpc_url, start)
                if fetched:
                    self.metrics.state_transfers.inc(len(fetched))
                    self._step(BlocksFetched(tuple(fetched)))
                    return
        finally:
            self._fetching = False

    async def _fetch_from(self, rpc_url: str, start: int) -> list[tuple[Block, CommitCertificate]]:
        assert self._session is not None
        fetched: list[tuple[Block, CommitCertificate]] = []
        height = start
        while len(fetched) < FETCH_BATCH:
            try:
                async with self._session.get(f"{rpc_url}/v1/raw/blocks/{height}") as response:
                    if response.status != 200:
                        break
                    data = await read_capped(response, MAX_RAW_BLOCK_BYTES)
                    block, certificate, _ = decode_raw_block(data)
            except (aiohttp.ClientError, OSError, TimeoutError, DecodeError) as exc:
                log.debug("state transfer from %s stopped at %d: %s", rpc_url, height, exc)
                break
            fetched.append((block, certificate))
            height += 1
        return fetched

    # --- what the RPC calls -----------------------------------------------------------

    def now_ms(self) -> int:
        return int(time.time() * 1000) + _TEST_CLOCK_OFFSET_MS

    async def submit(self, data: bytes, wait_commit: bool) -> dict[str, Any]:
        """Admit a transaction; with `wait_commit`, answer once it is committed here.

        A node that cannot give a final answer says so with a retryable error (503 and
        Retry-After) instead: `stopping` while it shuts down; `busy` at once, before any
        work, while admission control says more is offered than the cluster commits
        (node/admission.py); `behind` instead of the dry
        run's refusal while it trails the cluster (its state may be stale: the voter may
        have enrolled in a block it has not executed yet); and for wait=commit `behind`
        or `cannot_commit` as soon as it trails the cluster or lacks a quorum of peers,
        rather than holding the client for the full timeout.
        """
        if self._stopping:
            raise RpcError(
                RpcErrorCode.STOPPING,
                f"node {self.node_id} is shutting down; send the transaction to another node",
                retry_after_s=1,
            )
        self._check_admission()
        if wait_commit:
            self._check_can_commit(time.monotonic(), waiting=False)
        try:
            tx, newly_admitted = self.mempool.admit_bytes(data, time.monotonic())
        except RpcError as exc:
            lag = self._lag(time.monotonic(), grace_s=0.0)
            if exc.code != RpcErrorCode.REFUSED or lag is None:
                raise
            raise self._behind(
                lag,
                f"it would refuse the transaction ({exc.reason}) on its own "
                "state, which may be stale; ",
            ) from exc
        waiter: asyncio.Future[None] | None = None
        if wait_commit:
            waiter = self._waiters.add(tx.tx_id)
        if newly_admitted:
            self._step(RequestReceived(tx))
            self._schedule_flush()
        if waiter is not None:
            self.admission.waiters += 1
            try:
                await self._wait_commit(tx.tx_id, waiter)
            finally:
                self.admission.waiters -= 1
                self._waiters.forget(tx.tx_id, waiter)
            location = self.store.locate_tx(tx.tx_id)
            if location is not None:
                # The full view: the submitter sent these bytes (ballot choices included).
                document = views.committed_tx(self.store, *location, None, self.delivered)
                return {"status": "committed", **document}
        return {"status": "pending", "tx_id": tx.tx_id.hex(), "height": None}

    def _check_admission(self) -> None:
        """Raise `busy` if admission control refuses new work now (node/admission.py):
        before the transaction is decoded or verified, so a refusal costs next to nothing."""
        refusal = self.admission.refusal(time.monotonic(), len(self.mempool))
        if refusal is not None:
            raise RpcError(
                RpcErrorCode.BUSY,
                f"node {self.node_id} is busy: {refusal.message}; retry after "
                f"{refusal.retry_after_s} s, or on another node",
                retry_after_s=refusal.retry_after_s,
            )

    async def _wait_commit(self, tx_id: bytes, waiter: asyncio.Future[None]) -> None:
        timeout_s = self.config.rpc.commit_wait_timeout_s
        deadline = time.monotonic() + timeout_s
        while not waiter.done():
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0:
                raise RpcError(
                    RpcErrorCode.TIMEOUT,
                    f"transaction {tx_id.hex()} did not commit within {timeout_s} s; "
                    "it may still commit",
                )
            await asyncio.wait({waiter}, timeout=min(WAIT_CHECK_S, remaining_s))
            if not waiter.done():
                self._check_can_commit(time.monotonic(), waiting=True)
        waiter.result()  # raises `stopping` if the node is shutting down

    def _check_can_commit(self, now_s: float, waiting: bool) -> None:
        """Raise `cannot_commit` or `behind` if this node cannot confirm a commit soon."""
        may_commit = "; the transaction may still commit" if waiting else ""
        if self._no_quorum_since is not None and now_s - self._no_quorum_since >= NO_QUORUM_GRACE_S:
            validators = self.store.genesis.validator_set
            connected = 1 + sum(self.transport.connected.values())
            raise RpcError(
                RpcErrorCode.CANNOT_COMMIT,
                f"node {self.node_id} cannot commit now: {connected} of {validators.size} "
                f"validators connected (itself included), a commit needs {validators.quorum}; "
                f"retry on another node{may_commit}",
                retry_after_s=2,
            )
        lag = self._lag(now_s, BEHIND_GRACE_S)
        if lag is not None:
            raise self._behind(lag, "", may_commit)

    def _lag(self, now_s: float, grace_s: float) -> str | None:
        """Why this node trails the cluster (for at least `grace_s`), or None."""
        cluster = self.replica.cluster_height
        if cluster > self.store.head_height and (
            grace_s == 0
            or (self._behind_since is not None and now_s - self._behind_since >= grace_s)
        ):
            return f"peers showed height {cluster}"
        if self._fetching:
            return "it is fetching blocks from peers"
        consensus = self.config.consensus
        long_s = consensus.request_timeout_ticks * consensus.tick_ms / 1000
        if self._view_changing_since is not None and now_s - self._view_changing_since >= long_s:
            return f"it has been changing views for {now_s - self._view_changing_since:.0f} s"
        return None

    def _behind(self, lag: str, before: str, after: str = "") -> RpcError:
        head, cluster = (
            self.store.head_height,
            max(self.replica.cluster_height, self.store.head_height),
        )
        return RpcError(
            RpcErrorCode.BEHIND,
            f"node {self.node_id} is behind the cluster ({lag}): its height is {head}, the "
            f"cluster is at {cluster} or more; {before}retry on another node{after}",
            retry_after_s=1,
        )

    def _note_lag(self, now_s: float) -> None:
        """Once a tick: since when this node trails, changes views, or lacks a quorum."""
        behind = self.replica.cluster_height > self.store.head_height
        self._behind_since = (self._behind_since or now_s) if behind else None
        changing = self.replica.view_changing
        self._view_changing_since = (self._view_changing_since or now_s) if changing else None
        connected = 1 + sum(self.transport.connected.values())
        quorate = connected >= self.store.genesis.validator_set.quorum
        self._no_quorum_since = None if quorate else (self._no_quorum_since or now_s)

    def status(self) -> dict[str, Any]:
        head = self.store.head_height
        replica = self.replica
        stats = replica.stats
        return {
            "node": self.node_id,
            "role": "validator",
            "replica_id": self.replica_id,
            "chain_id": self.chain_id,
            "genesis_hash": self.store.genesis.genesis_hash.hex(),
            "height": head,
            "head_hash": self.store.block_hash(head).hex(),
            "app_hash": self.store.app_hash(head).hex(),
            "view": replica.view,
            "primary": replica.config.primary_of(replica.view),
            "view_changing": replica.view_changing,
            "mempool": len(self.mempool),
            "admission": self.admission.describe(time.monotonic()),
            "peers": {
                self.config.nodes[peer].node_id: connected
                for peer, connected in self.transport.connected.items()
            },
            "consensus": {
                "low_watermark": replica.low_watermark,
                "log_size": replica.log_size,
                "pending_requests": replica.pending_count,
                "delivered": stats.delivered,
                "view_changes": stats.view_changes,
                "fetches": stats.fetches,
                "bad_signatures": stats.bad_signatures,
                "dropped": dict(stats.dropped),
            },
        }

    def metrics_text(self) -> tuple[bytes, str]:
        self._update_gauges()
        return self.metrics.render()

    # --- helpers ----------------------------------------------------------------------

    def _replica_config(self) -> ReplicaConfig:
        c = self.config.consensus
        return ReplicaConfig(
            chain_id=self.chain_id,
            validators=self.store.genesis.validator_set,
            replica_id=ReplicaId(self.replica_id),
            checkpoint_interval=c.checkpoint_interval,
            watermark_window=c.watermark_window,
            max_block_txs=c.max_block_txs,
            max_block_bytes=c.max_block_bytes,
            quota_exempt_signers=frozenset(k.public_key for k in self.store.genesis.attesters),
            batch_delay_ticks=c.batch_delay_ticks,
            request_timeout_ticks=c.request_timeout_ticks,
            max_clock_drift_ms=c.max_clock_drift_ms,
            genesis_time_ms=self.store.genesis.genesis_time_ms,
        )

    def _export_connection_metrics(
        self, rpc_site: GuardedSite, peer_site: GuardedSite, rpc_app: web.Application
    ) -> None:
        guards = {"rpc": rpc_site.guard, "peer": peer_site.guard}
        self.metrics.export_counts(
            "votechain_connections_closed_by_limits",
            "Connections closed by the connection guard, by server and reason "
            "(total cap, per-client cap, header timeout)",
            "reason",
            lambda: {
                f"{server}_{reason}": count
                for server, guard in guards.items()
                for reason, count in guard.counters.items()
            },
        )
        export_rpc_refusals(self.metrics, rpc_app)

    def _update_gauges(self) -> None:
        self.metrics.height.set(self.store.head_height)
        self.metrics.view.set(self.replica.view)
        self.metrics.mempool_size.set(len(self.mempool))
        self.metrics.peers_connected.set(sum(self.transport.connected.values()))
        self.metrics.loop_lag_ms.set(self.admission.loop_lag_ms)
        self.metrics.admission_queue_limit.set(self.admission.queue_limit(time.monotonic()))


async def start_server(
    app: web.Application,
    config: ClusterConfig,
    node_id: str,
    host: str,
    port: int,
    limits: ConnectionLimits,
    peers: bool,
) -> tuple[web.AppRunner, GuardedSite]:
    """Serve `app` on `host`:`port` behind the connection guard
    (node/connlimit.py: caps and the head timeout; aiohttp's keepalive_timeout is the idle
    timeout), with TLS under [tls]. On stop, running handlers get STOP_HANDLERS_S."""
    runner = web.AppRunner(
        app,
        access_log=None,
        keepalive_timeout=config.rpc.idle_timeout_s,
        shutdown_timeout=STOP_HANDLERS_S,
    )
    await runner.setup()
    site = GuardedSite(runner, host, port, limits, server_context(config, node_id, peers=peers))
    await site.start()
    return runner, site


async def run_node(
    config: ClusterConfig, node_id: str, stop: asyncio.Event, extend: AppHook | None = None
) -> None:
    node = Node(config, node_id, extend)
    await node.start()
    try:
        await stop.wait()
    finally:
        await node.stop()
