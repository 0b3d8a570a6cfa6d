"""One simulated cluster run: replicas, network, clock, faults, checkers, phases.

A run has two phases (TigerBeetle's VOPR does the same):

1. the fault phase: requests arrive while the network drops, duplicates, replays and
   partitions, honest replicas crash (sometimes halfway through an effect list) and
   restart from their persisted records, an honest replica's disk refuses writes for a
   while (its node stops on the refused write, as node/service.py does, and cannot
   restart until the disk takes writes again), and Byzantine replicas follow their
   strategies. Only safety is checked here;
2. the liveness phase: the network heals, crashed replicas restart, faults stop
   (Byzantine replicas keep misbehaving), and every request then submitted to an honest
   replica must be delivered by every honest replica within `liveness_bound_ms`;
3. the idle phase: nothing more is submitted, and every honest replica must reach the
   highest honest height within IDLE_STATUS_ROUNDS status periods (issue 11: a replica
   behind, or alone in a later view, once stayed behind on an idle cluster).

Everything random comes from one random.Random seeded from the run's seed.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from chain.certificate import CommitCertificate, ValidatorSet
from chain.hashing import Domain, tagged_hash
from chain.keys import PrivateKey
from chain.tx import Transaction
from chain.verified import VerifiedTransactions
from consensus import (
    BlocksFetched,
    Broadcast,
    Deliver,
    Effect,
    FetchBlocks,
    InvalidMessage,
    InvariantViolation,
    Message,
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
from consensus.effects import describe_effect
from tests.simulation.app import NOOP_KIND, SimApp, SimStore
from tests.simulation.byzantine import STRATEGIES, ByzantineContext, Silent, Strategy
from tests.simulation.checkers import Checkers
from tests.simulation.network import SimNetwork
from tests.simulation.options import SimOptions

CHAIN_ID = "sim-chain"
GENESIS_HASH = tagged_hash(Domain.GENESIS, b"votechain simulation genesis")
TRACE_LINES = 5_000
MAX_FETCH_BLOCKS = 32
CLIENTS = 3
LIVENESS_CHECK_MS = 50
RESTART_RETRY_MS = 100
IDLE_STATUS_ROUNDS = 4
"""Status periods (status_ticks) an idle cluster has to bring every honest replica up."""
"""How soon the supervisor tries again to start a node whose disk refused the probe."""
START_TIME_MS = 1_700_000_000_000


@cache
def validator_key(index: int) -> PrivateKey:
    return PrivateKey.from_seed(hashlib.sha256(f"sim validator {index}".encode()).digest())


@cache
def client_key(index: int) -> PrivateKey:
    return PrivateKey.from_seed(hashlib.sha256(f"sim client {index}".encode()).digest())


@dataclass
class SimNode:
    """One validator: its durable store and records, and its replica while it is up."""

    id: int
    key: PrivateKey
    config: ReplicaConfig
    store: SimStore
    skew_ms: int
    strategy: Strategy | None = None
    disk: dict[bytes, bytes] = field(default_factory=dict)
    replica: Replica | None = None
    app: SimApp | None = None
    verified: VerifiedTransactions | None = None
    """The node's checked transactions, shared by its replica and app (lost in a crash)."""
    crash_armed: bool = False
    restarts: int = 0
    disk_refusing_until_ms: int = 0
    """Until this time every write to this node's store is refused (a full disk)."""

    @property
    def alive(self) -> bool:
        return self.replica is not None

    @property
    def honest(self) -> bool:
        return self.strategy is None


@dataclass
class SimResult:
    options: SimOptions
    violations: list[str]
    heights: dict[int, int]
    view_changes: int
    fetches: int
    bad_signatures: int
    messages: int
    end_ms: int
    trace: list[str]

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        status = "ok" if self.ok else "FAILED"
        return (
            f"seed={self.options.seed} {status} scenario={self.options.scenario} "
            f"n={self.options.replicas} heights={sorted(self.heights.values())} "
            f"view_changes={self.view_changes} fetches={self.fetches} "
            f"bad_signatures={self.bad_signatures} messages={self.messages} "
            f"virtual_ms={self.end_ms}"
        )

    def report(self, trace_lines: int = 150) -> str:
        lines = [
            self.summary(),
            f"options: {self.options.describe()}",
            *self.violations,
            f"last {min(trace_lines, len(self.trace))} trace lines:",
            *self.trace[-trace_lines:],
            f"reproduce: .venv/bin/python -m tests.simulation --seed {self.options.seed} --trace",
        ]
        return "\n".join(lines)


class Simulation:
    """A cluster of `options.replicas` replicas under the faults `options` describe."""

    def __init__(
        self,
        options: SimOptions,
        strategy_factory: Callable[[ByzantineContext], Strategy] | None = None,
    ) -> None:
        self.options = options
        self.rng = random.Random(f"simulation {options.seed}")
        n = options.replicas
        self.validators = ValidatorSet(tuple(validator_key(i).public_key for i in range(n)))
        self.network = SimNetwork(self.rng, n, options.delay_ms_min, options.delay_ms_max)
        self.nodes: list[SimNode] = []
        for i in range(n):
            config = ReplicaConfig(
                chain_id=CHAIN_ID,
                validators=self.validators,
                replica_id=ReplicaId(i),
                checkpoint_interval=options.checkpoint_interval,
                watermark_window=options.watermark_window,
                max_block_txs=options.max_block_txs,
                batch_delay_ticks=1,
                request_timeout_ticks=options.request_timeout_ticks,
                max_clock_drift_ms=options.max_clock_drift_ms,
                retransmit_ticks=options.retransmit_ticks,
                status_ticks=options.status_ticks,
                state_transfer_delay_ticks=2,
                fetch_timeout_ticks=10,
            )
            skew = self.rng.randint(-options.clock_skew_ms_max, options.clock_skew_ms_max)
            node = SimNode(i, validator_key(i), config, SimStore(GENESIS_HASH), skew)
            if i in options.byzantine:
                context = ByzantineContext(i, node.key, config, random.Random(self.rng.random()))
                if strategy_factory is not None:
                    node.strategy = strategy_factory(context)
                else:
                    node.strategy = STRATEGIES[options.byzantine[i]](context)
            self.nodes.append(node)
        self.honest = {node.id for node in self.nodes if node.honest}
        self.checkers = Checkers(self.validators, CHAIN_ID, self.honest)
        self.now_ms = START_TIME_MS
        self._queue: list[tuple[int, int, str, tuple[Any, ...]]] = []
        self._seq = 0
        self._trace: deque[tuple[int, int, str, Any]] = deque(maxlen=TRACE_LINES)
        self._tx_counter = 0
        self._liveness_txs: dict[bytes, int] = {}
        self._done = False
        self._idle_since_ms: int | None = None

    # ---- the run -----------------------------------------------------------------------

    def run(self) -> SimResult:
        options = self.options
        fault_end = START_TIME_MS + options.fault_phase_ms
        for node in self.nodes:
            self._start(node)
            self._push(self.rng.randint(0, options.tick_ms), "tick", node.id)
        self._schedule_faults(fault_end)
        for _ in range(options.requests_fault_phase):
            at = self.rng.randint(0, options.fault_phase_ms - 1)
            self._push(at, "request", self.rng.randrange(options.replicas), False)
        self._push(options.fault_phase_ms, "heal")
        deadline = fault_end + options.liveness_bound_ms
        while self._queue and not self._done and not self.checkers.violations:
            time_ms, _, kind, args = heapq.heappop(self._queue)
            if time_ms > deadline:
                break
            self.now_ms = time_ms
            self._handle(kind, args)
        if not self._done and not self.checkers.violations and self._idle_since_ms is not None:
            self._idle_violation(self.now_ms - self._idle_since_ms)
        elif not self._done and not self.checkers.violations:
            missing = self._undelivered()
            self.checkers.violations.append(
                f"t={self.now_ms} LIVENESS: {len(missing)} requests submitted to honest "
                f"replicas after healing were not delivered everywhere within "
                f"{options.liveness_bound_ms} ms: {[m.hex()[:8] for m in missing[:5]]}"
            )
        return self._result()

    def _handle(self, kind: str, args: tuple[Any, ...]) -> None:
        match kind:
            case "tick":
                node = self.nodes[args[0]]
                self._push(self.options.tick_ms, "tick", node.id)
                if node.alive:
                    if node.strategy is not None:
                        self._sync_context(node)
                        for sender, to, message in node.strategy.on_tick(self.now_ms):
                            self._transmit(sender, to, message)
                    self._step(node, Tick(self.now_ms + node.skew_ms))
            case "msg":
                self._on_frame(*args)
            case "fetched":
                node = self.nodes[args[0]]
                if node.alive:
                    self._step(node, BlocksFetched(args[1]))
            case "request":
                self._submit(self.nodes[args[0]], liveness=args[1])
            case "crash":
                self._crash_or_arm(self.nodes[args[0]], args[1])
            case "restart":
                node = self.nodes[args[0]]
                if node.alive:
                    pass
                elif self._disk_refuses(node):
                    # The start probe fails: the node says so and the supervisor retries.
                    self._trace_event(node.id, "refuses to start: its disk takes no writes")
                    self._push(RESTART_RETRY_MS, "restart", node.id)
                else:
                    self._start(node)
            case "disk-full":
                node = self.nodes[args[0]]
                node.disk_refusing_until_ms = max(node.disk_refusing_until_ms, args[1])
                self._trace_event(node.id, f"disk refuses writes until t={args[1] - START_TIME_MS}")
            case "partition":
                self._partition(args[0], args[1])
            case "unpartition":
                self.network.heal()
                self._trace_event(-1, "network healed")
            case "heal":
                self._heal()
            case "liveness-check":
                if not self._undelivered():
                    self._idle_since_ms = self.now_ms
                    self._trace_event(-1, "liveness requests delivered: idle phase")
                    self._push(LIVENESS_CHECK_MS, "idle-check")
                else:
                    self._push(LIVENESS_CHECK_MS, "liveness-check")
            case "idle-check":
                self._check_idle()
            case "call":
                args[0]()  # a scenario's own step (tests build situations with it)

    def _check_idle(self) -> None:
        """The idle phase: done once every honest replica is at the highest honest height."""
        assert self._idle_since_ms is not None
        heights = {node.id: node.store.height for node in self.nodes if node.honest}
        if len(set(heights.values())) == 1:
            self._done = True
            return
        bound_ms = IDLE_STATUS_ROUNDS * self.options.status_ticks * self.options.tick_ms
        if self.now_ms - self._idle_since_ms > bound_ms:
            self._idle_violation(bound_ms)
            return
        self._push(LIVENESS_CHECK_MS, "idle-check")

    def _idle_violation(self, idle_ms: int) -> None:
        heights = {node.id: node.store.height for node in self.nodes if node.honest}
        self.checkers.violations.append(
            f"t={self.now_ms} IDLE LIVENESS: with nothing submitted for {idle_ms} ms the "
            f"honest replicas stayed at heights {heights}"
        )

    def _schedule_faults(self, fault_end: int) -> None:
        options = self.options
        phase = options.fault_phase_ms
        self.network.faults.drop_rate = options.drop_rate
        self.network.faults.duplicate_rate = options.duplicate_rate
        self.network.faults.replay_rate = options.replay_rate
        for _ in range(options.partitions):
            start = self.rng.randint(0, phase - 1)
            length = self.rng.randint(50, options.partition_ms_max)
            shape = self.rng.choice(("isolate", "cut", "split"))
            self._push(start, "partition", shape, self.rng.random())
            self._push(min(start + length, phase), "unpartition")
        honest = sorted(self.honest)
        for _ in range(options.crashes):
            victim = self.rng.choice(honest)
            start = self.rng.randint(0, phase - 1)
            self._push(start, "crash", victim, self.rng.randint(20, options.crash_down_ms_max))
        for _ in range(options.disk_faults):
            victim = self.rng.choice(honest)
            start = self.rng.randint(0, phase - 1)
            until = START_TIME_MS + min(
                start + self.rng.randint(1, options.disk_fault_ms_max), phase
            )
            self._push(start, "disk-full", victim, until)

    def _heal(self) -> None:
        """End of the fault phase: heal everything, then submit the liveness requests."""
        self._trace_event(-1, "fault phase over: network healed, faults off")
        self.network.heal()
        self.network.faults.drop_rate = 0.0
        self.network.faults.duplicate_rate = 0.0
        self.network.faults.replay_rate = 0.0
        for node in self.nodes:
            node.crash_armed = False
            node.disk_refusing_until_ms = 0
            if not node.alive:
                self._start(node)
        for _ in range(self.options.requests_liveness_phase):
            target = self.rng.choice(sorted(self.honest))
            self._push(self.rng.randint(0, 200), "request", target, True)
        self._push(LIVENESS_CHECK_MS, "liveness-check")

    # ---- replicas ----------------------------------------------------------------------

    def _start(self, node: SimNode) -> None:
        node.verified = VerifiedTransactions()
        node.app = SimApp(CHAIN_ID, node.key.public_key, node.store, node.verified)
        records = [decode_record(k, v) for k, v in sorted(node.disk.items())]
        node.replica = Replica(
            node.config,
            node.key,
            node.app,
            records,
            node.store.height,
            node.store.head_hash,
            node.verified,
        )
        if node.restarts or records:
            self._trace_event(
                node.id, f"restarted from {len(records)} records at h={node.store.height}"
            )
        node.restarts += 1

    def _crash_or_arm(self, node: SimNode, down_ms: int) -> None:
        if not node.alive:
            return
        if self.options.crash_mid_effects and not node.crash_armed:
            node.crash_armed = True
            self._push(down_ms, "restart", node.id)
            return
        self._crash(node)
        self._push(down_ms, "restart", node.id)

    def _crash(self, node: SimNode) -> None:
        node.replica = None
        node.app = None
        node.crash_armed = False
        self._trace_event(node.id, f"crashed at h={node.store.height}")

    def _step(self, node: SimNode, event: Any) -> None:
        assert node.replica is not None
        try:
            effects = node.replica.step(event)
        except InvariantViolation as exc:
            self.checkers.on_invariant(node.id, exc, self.now_ms)
            return
        self._execute(node, effects)

    def _execute(self, node: SimNode, effects: Sequence[Effect]) -> None:
        crash_at = -1
        if node.crash_armed and len(effects) >= 2:
            crash_at = self.rng.randrange(1, len(effects))
        for index, effect in enumerate(effects):
            if index == crash_at:
                self._trace_event(node.id, f"crash after {index} of {len(effects)} effects")
                self._crash(node)
                return
            if isinstance(effect, Persist | Deliver) and self._disk_refuses(node):
                self._fail_stop(node, effect)
                return
            self._trace.append((self.now_ms, node.id, "effect", effect))
            match effect:
                case Persist(record):
                    node.disk[record.key] = record.value
                case Send(to, message):
                    self._send(node, (to,), message)
                case Broadcast(message):
                    self._send(node, [r for r in range(len(self.nodes)) if r != node.id], message)
                case Deliver(block, certificate):
                    assert node.app is not None
                    node.app.execute(block, certificate)
                    self.checkers.on_deliver(node.id, block, certificate, self.now_ms)
                case FetchBlocks():
                    self._serve_fetch(node, effect)

    def _disk_refuses(self, node: SimNode) -> bool:
        return self.now_ms < node.disk_refusing_until_ms

    def _fail_stop(self, node: SimNode, effect: Effect) -> None:
        """The store refused a write: the node stops before any later effect, and its
        supervisor starts it again (which waits until the disk takes writes)."""
        self._trace_event(node.id, f"write refused ({describe_effect(effect)}): fail-stop")
        self._crash(node)
        self._push(RESTART_RETRY_MS, "restart", node.id)

    def _sync_context(self, node: SimNode) -> None:
        assert node.strategy is not None and node.replica is not None
        context = node.strategy.ctx
        context.view = node.replica.view
        context.committed_height = node.store.height
        blocks = node.store.blocks
        context.committed_timestamp_ms = blocks[-1][0].header.timestamp_ms if blocks else 0

    # ---- network -----------------------------------------------------------------------

    def _send(self, node: SimNode, targets: Sequence[int], message: Message) -> None:
        if node.strategy is None:
            self.checkers.on_send(node.id, message, self.now_ms)
            data = encode_message(message)
            for to in targets:
                self._route(node.id, to, data)
            return
        self._sync_context(node)
        for sender, to, out in node.strategy.outgoing(targets, message):
            self._transmit(sender, to, out)

    def _transmit(self, sender: int, to: int, message: Message) -> None:
        self._route(sender, to, encode_message(message))

    def _route(self, sender: int, to: int, data: bytes) -> None:
        for delay, s, t, d in self.network.route(sender, to, data):
            self._push(delay, "msg", s, t, d)

    def _on_frame(self, sender: int, to: int, data: bytes) -> None:
        node = self.nodes[to]
        if not node.alive:
            return
        try:
            message = decode_message(data)
        except InvalidMessage as exc:
            self._trace_event(to, f"undecodable frame from r{sender}: {exc}")
            return
        self._trace.append((self.now_ms, to, "recv", (sender, message)))
        if node.strategy is not None:
            node.strategy.on_received(sender, message)
        self._step(node, MessageReceived(ReplicaId(sender), message))

    def _partition(self, shape: str, roll: float) -> None:
        n = len(self.nodes)
        victim = int(roll * n)
        if shape == "isolate":
            self.network.isolate(victim)
            self._trace_event(-1, f"partition: r{victim} isolated")
        elif shape == "cut":
            other = (victim + 1 + int(roll * 997) % (n - 1)) % n
            self.network.cut(victim, other)
            self._trace_event(-1, f"partition: link r{victim}-r{other} cut")
        else:
            side = set(self.rng.sample(range(n), n // 2))
            for a in side:
                for b in range(n):
                    if b not in side:
                        self.network.cut(a, b)
            self._trace_event(-1, f"partition: {sorted(side)} | rest")

    def _serve_fetch(self, node: SimNode, effect: FetchBlocks) -> None:
        """The node's state transfer: ask the first reachable peer that has the blocks."""
        for peer_id in effect.peers:
            peer = self.nodes[peer_id]
            if not peer.alive or not self.network.connected(peer_id, node.id):
                continue
            if isinstance(peer.strategy, Silent):
                continue
            start = effect.from_height - 1
            blocks = tuple(peer.store.blocks[start : start + MAX_FETCH_BLOCKS])
            if not blocks:
                continue
            if peer.strategy is not None and self.rng.random() < 0.5:
                blocks = self._tamper(blocks, peer)
            delay = self.rng.randint(self.options.delay_ms_min, self.options.delay_ms_max) * 2
            self._push(delay, "fetched", node.id, blocks)
            return

    def _tamper(
        self, blocks: tuple[tuple[Any, CommitCertificate], ...], peer: SimNode
    ) -> tuple[tuple[Any, CommitCertificate], ...]:
        """A Byzantine peer serves a block with a certificate only it signed."""
        block, cert = blocks[0]
        forged = CommitCertificate.sign(
            [peer.key], CHAIN_ID, cert.view, cert.height, block.block_hash
        )
        return ((block, forged), *blocks[1:])

    # ---- requests and liveness ---------------------------------------------------------

    def _submit(self, node: SimNode, liveness: bool) -> None:
        self._tx_counter += 1
        client = client_key(self._tx_counter % CLIENTS)
        body = f"seed {self.options.seed} request {self._tx_counter}".encode()
        tx = Transaction.create(client, CHAIN_ID, NOOP_KIND, body, self._tx_counter)
        if not node.alive:
            return
        self._trace_event(node.id, f"request {tx.tx_id.hex()[:8]} submitted")
        if liveness and node.honest:
            self._liveness_txs[tx.tx_id] = self.now_ms
        self._step(node, RequestReceived(tx))

    def _undelivered(self) -> list[bytes]:
        missing = []
        for tx_id in self._liveness_txs:
            for node in self.nodes:
                if node.honest and (node.app is None or not node.app.is_committed(tx_id)):
                    missing.append(tx_id)
                    break
        return missing

    # ---- bookkeeping -------------------------------------------------------------------

    def _push(self, delay_ms: int, kind: str, *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (self.now_ms + delay_ms, self._seq, kind, args))

    def _trace_event(self, replica: int, text: str) -> None:
        self._trace.append((self.now_ms, replica, "event", text))

    def _format_trace(self) -> list[str]:
        lines = []
        for time_ms, replica, tag, item in self._trace:
            who = "net" if replica < 0 else f"r{replica}"
            t = time_ms - START_TIME_MS
            if tag == "recv":
                sender, message = item
                lines.append(f"t={t} {who} <- r{sender}: {message.describe()}")
            elif tag == "effect":
                lines.append(f"t={t} {who} {describe_effect(item)}")
            else:
                lines.append(f"t={t} {who} {item}")
        return lines

    def _result(self) -> SimResult:
        replicas = [node.replica for node in self.nodes if node.replica is not None]
        return SimResult(
            options=self.options,
            violations=list(self.checkers.violations),
            heights={node.id: node.store.height for node in self.nodes},
            view_changes=sum(r.stats.view_changes for r in replicas),
            fetches=sum(r.stats.fetches for r in replicas),
            bad_signatures=sum(r.stats.bad_signatures for r in replicas),
            messages=self.network.sent,
            end_ms=self.now_ms - START_TIME_MS,
            trace=self._format_trace() if self.checkers.violations else [],
        )


def run_seed(options: SimOptions, keep_trace: bool = False) -> SimResult:
    simulation = Simulation(options)
    result = simulation.run()
    if keep_trace and not result.trace:
        result.trace = simulation._format_trace()
    return result
