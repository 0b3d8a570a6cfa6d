"""A hand-driven in-memory cluster for focused consensus tests (etcd raft's `network`).

Messages wait in one FIFO queue until the test delivers them; the test decides who is
cut off (`isolate`, `cut`, `heal`), which messages are dropped (`drop_if`), when time
passes (`tick`), and who crashes and restarts from its records (`crash`, `restart`).
Effects are carried out exactly as consensus.effects tells the node to.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chain.block import Block
from chain.certificate import CommitCertificate, ValidatorSet
from chain.keys import PrivateKey
from chain.tx import Transaction
from chain.verified import VerifiedTransactions
from consensus import (
    BlocksFetched,
    Broadcast,
    Deliver,
    Effect,
    Event,
    FetchBlocks,
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
from tests.simulation.app import NOOP_KIND, SimApp, SimStore
from tests.simulation.cluster import CHAIN_ID, GENESIS_HASH, client_key, validator_key

START_MS = 1_700_000_000_000
TICK_MS = 100


@dataclass
class Member:
    id: int
    key: PrivateKey
    config: ReplicaConfig
    store: SimStore
    disk: dict[bytes, bytes] = field(default_factory=dict)
    replica: Replica | None = None
    app: SimApp | None = None
    verified: VerifiedTransactions | None = None
    """Shared by the replica and the app, as a node shares it (lost in a crash)."""
    sent: list[Message] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    fetches: list[FetchBlocks] = field(default_factory=list)

    @property
    def up(self) -> Replica:
        assert self.replica is not None, f"r{self.id} is down"
        return self.replica


class Cluster:
    """n replicas, one message queue, a manual clock."""

    def __init__(self, n: int = 4, auto_fetch: bool = True, **config: Any) -> None:
        self.validators = ValidatorSet(tuple(validator_key(i).public_key for i in range(n)))
        defaults: dict[str, Any] = dict(
            checkpoint_interval=2,
            watermark_window=4,
            max_block_txs=10,
            batch_delay_ticks=0,
            request_timeout_ticks=10,
            retransmit_ticks=3,
            state_transfer_delay_ticks=1,
            fetch_timeout_ticks=5,
        )
        defaults.update(config)
        self.members = [
            Member(
                i,
                validator_key(i),
                ReplicaConfig(CHAIN_ID, self.validators, ReplicaId(i), **defaults),
                SimStore(GENESIS_HASH),
            )
            for i in range(n)
        ]
        self.queue: deque[tuple[int, int, bytes]] = deque()
        self.cut_links: set[tuple[int, int]] = set()
        self.drop_rules: list[Callable[[int, int, Message], bool]] = []
        self.auto_fetch = auto_fetch
        self.now_ms = START_MS
        self._tx_counter = 0
        for member in self.members:
            self.restart(member.id)

    # ---- replicas ----------------------------------------------------------------------

    def __getitem__(self, index: int) -> Member:
        return self.members[index]

    def restart(self, index: int) -> None:
        member = self.members[index]
        member.verified = VerifiedTransactions()
        member.app = SimApp(CHAIN_ID, member.key.public_key, member.store, member.verified)
        records = [decode_record(k, v) for k, v in sorted(member.disk.items())]
        member.replica = Replica(
            member.config,
            member.key,
            member.app,
            records,
            member.store.height,
            member.store.head_hash,
            member.verified,
        )

    def crash(self, index: int) -> None:
        self.members[index].replica = None
        self.members[index].app = None

    def step(self, index: int, event: Event) -> list[Effect]:
        member = self.members[index]
        effects = member.up.step(event)
        member.effects.extend(effects)
        self.apply(member, effects)
        return effects

    def apply(self, member: Member, effects: list[Effect]) -> None:
        for effect in effects:
            match effect:
                case Persist(record):
                    member.disk[record.key] = record.value
                case Send(to, message):
                    self.post(member.id, to, message)
                case Broadcast(message):
                    for to in range(len(self.members)):
                        if to != member.id:
                            self.post(member.id, to, message)
                case Deliver(block, certificate):
                    assert member.app is not None
                    member.app.execute(block, certificate)
                case FetchBlocks():
                    member.fetches.append(effect)
                    if self.auto_fetch:
                        self.serve_fetch(member.id, effect)

    def serve_fetch(self, index: int, effect: FetchBlocks) -> None:
        for peer in effect.peers:
            if (peer, index) in self.cut_links or self.members[peer].replica is None:
                continue
            blocks = tuple(self.members[peer].store.blocks[effect.from_height - 1 :])
            if blocks:
                self.step(index, BlocksFetched(blocks))
                return

    # ---- network -----------------------------------------------------------------------

    def post(self, sender: int, to: int, message: Message) -> None:
        self.members[sender].sent.append(message)
        if (sender, to) in self.cut_links:
            return
        if any(rule(sender, to, message) for rule in self.drop_rules):
            return
        self.queue.append((sender, to, encode_message(message)))

    def inject(self, sender: int, to: int, message: Message) -> list[Effect]:
        """Deliver `message` to `to` now, as if it came from peer `sender`."""
        return self.step(to, MessageReceived(ReplicaId(sender), message))

    def deliver_all(self, limit: int = 100_000) -> int:
        delivered = 0
        while self.queue and delivered < limit:
            sender, to, data = self.queue.popleft()
            if self.members[to].replica is None or (sender, to) in self.cut_links:
                continue
            self.step(to, MessageReceived(ReplicaId(sender), decode_message(data)))
            delivered += 1
        return delivered

    def isolate(self, index: int) -> None:
        for other in range(len(self.members)):
            if other != index:
                self.cut_links.add((index, other))
                self.cut_links.add((other, index))

    def heal(self) -> None:
        self.cut_links.clear()
        self.drop_rules.clear()

    def drop_if(self, rule: Callable[[int, int, Message], bool]) -> None:
        self.drop_rules.append(rule)

    # ---- time and requests -------------------------------------------------------------

    def tick(self, ticks: int = 1, deliver: bool = True) -> None:
        for _ in range(ticks):
            self.now_ms += TICK_MS
            for member in self.members:
                if member.replica is not None:
                    self.step(member.id, Tick(self.now_ms))
            if deliver:
                self.deliver_all()

    def make_tx(self) -> Transaction:
        self._tx_counter += 1
        body = f"request {self._tx_counter}".encode()
        return Transaction.create(
            client_key(self._tx_counter % 3), CHAIN_ID, NOOP_KIND, body, self._tx_counter
        )

    def submit(self, index: int, tx: Transaction | None = None) -> Transaction:
        tx = tx or self.make_tx()
        self.step(index, RequestReceived(tx))
        return tx

    def run_until(self, condition: Callable[[], bool], max_ticks: int = 500) -> None:
        for _ in range(max_ticks):
            self.deliver_all()
            if condition():
                return
            self.tick()
        raise AssertionError(f"condition not reached within {max_ticks} ticks")

    def commit_blocks(self, count: int, at: int = 0, max_ticks: int = 500) -> None:
        """Submit one request per block and run until every live replica has them."""
        for _ in range(count):
            tx = self.submit(at)
            self.run_until(lambda tx=tx: self.everyone_has(tx), max_ticks)

    def everyone_has(self, tx: Transaction) -> bool:
        return all(
            m.app is not None and m.app.is_committed(tx.tx_id)
            for m in self.members
            if m.replica is not None and not self._isolated(m.id)
        )

    def _isolated(self, index: int) -> bool:
        return all((index, o) in self.cut_links for o in range(len(self.members)) if o != index)

    def heights(self) -> list[int]:
        return [m.store.height for m in self.members]

    def blocks_at(self, height: int) -> set[bytes]:
        return {
            m.store.blocks[height - 1][0].block_hash
            for m in self.members
            if m.store.height >= height
        }


def certificate_of(member: Member, height: int) -> tuple[Block, CommitCertificate]:
    return member.store.blocks[height - 1]
