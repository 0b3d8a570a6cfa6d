"""A trivial Application for the simulator: blocks of signed "noop" transactions.

It keeps its chain in a SimStore (which survives crashes, like LevelDB) and an app hash
chain H(previous app hash || block hash), so a block built on a different history is
refused by validate_block just as the real node would refuse a wrong app hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chain.block import BLOCK_CHECKS_WHERE, Block, make_header
from chain.certificate import CommitCertificate
from chain.errors import VotechainError
from chain.hashing import Domain, tagged_hash
from chain.state import ZERO_HASH
from chain.verified import VerifiedTransactions

NOOP_KIND = "noop"


@dataclass
class SimStore:
    """A node's durable chain: what survives a crash."""

    genesis_hash: bytes
    blocks: list[tuple[Block, CommitCertificate]] = field(default_factory=list)

    @property
    def height(self) -> int:
        return len(self.blocks)

    @property
    def head_hash(self) -> bytes:
        return self.blocks[-1][0].block_hash if self.blocks else self.genesis_hash


class SimApp:
    """consensus.Application over a SimStore."""

    def __init__(
        self,
        chain_id: str,
        proposer: bytes,
        store: SimStore,
        verified: VerifiedTransactions | None = None,
    ) -> None:
        self.chain_id = chain_id
        self.proposer = proposer
        self.store = store
        self.verified = verified if verified is not None else VerifiedTransactions()
        """Shared with the node's replica, as node/app.py shares the node's set."""
        self.app_hash = ZERO_HASH
        self.tx_ids: set[bytes] = set()
        for block, _ in store.blocks:
            self._apply(block)

    def build_block(
        self, height: int, timestamp_ms: int, prev_hash: bytes, transactions: tuple
    ) -> Block:
        header = make_header(
            self.chain_id,
            height,
            timestamp_ms,
            prev_hash,
            transactions,
            self.app_hash,
            ZERO_HASH,
            self.proposer,
        )
        return Block(header, transactions)

    def validate_block(self, block: Block) -> str | None:
        if block.header.prev_app_hash != self.app_hash:
            return "prev_app_hash does not match this node's state"
        for tx in block.transactions:
            if tx.kind != NOOP_KIND:
                return f"unknown transaction kind {tx.kind!r}"
            if tx.tx_id in self.tx_ids:
                return "transaction already committed"
            try:
                self.verified.verify(tx, self.chain_id, BLOCK_CHECKS_WHERE)
            except VotechainError as exc:
                return str(exc)
        return None

    def is_committed(self, tx_id: bytes) -> bool:
        return tx_id in self.tx_ids

    def execute(self, block: Block, certificate: CommitCertificate) -> None:
        """Deliver: the node executes the block and appends it to its store."""
        assert block.height == self.store.height + 1, (
            f"delivered h={block.height} on a store at {self.store.height}"
        )
        assert block.header.prev_hash == self.store.head_hash, "delivered block does not link"
        self.store.blocks.append((block, certificate))
        self._apply(block)

    def _apply(self, block: Block) -> None:
        self.app_hash = tagged_hash(Domain.APP_HASH, self.app_hash + block.block_hash)
        self.tx_ids.update(tx.tx_id for tx in block.transactions)
