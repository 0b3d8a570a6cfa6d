"""ChainApplication: what the consensus core asks of the node, answered from the store.

The core orders opaque blocks; this is the narrow interface through which it asks the
node to build a proposal, to judge a proposal, and whether a transaction is already on
the chain. `commit` executes a delivered block through the voting state machine and
appends it with its certificate, receipts and write set in one synced batch (with the
consensus records that must be durable by then).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import votingcontract
from chain.block import BLOCK_OVERHEAD_MAX_BYTES, MAX_BLOCK_BYTES, Block, make_header
from chain.certificate import CommitCertificate
from chain.errors import VotechainError
from chain.state import OverlayState
from chain.store import ChainStore
from chain.tx import Transaction
from chain.verified import VerifiedTransactions


@dataclass
class ChainApplication:
    store: ChainStore
    proposer: bytes
    """This node's validator public key, written into the headers it proposes."""
    verified: VerifiedTransactions = field(default_factory=VerifiedTransactions)
    """The node's transactions whose signatures it checked, shared with its mempool and
    consensus core: a proposal's transactions admitted here are not checked again."""

    @property
    def chain_id(self) -> str:
        return self.store.genesis.chain_id

    def build_block(
        self,
        height: int,
        timestamp_ms: int,
        prev_hash: bytes,
        transactions: tuple[Transaction, ...],
    ) -> Block:
        """The proposal; leaves out a suffix of `transactions` if the block would be over
        MAX_BLOCK_BYTES (the core's own budget normally keeps it well under)."""
        tx_bytes = BLOCK_OVERHEAD_MAX_BYTES + sum(tx.encoded_size for tx in transactions)
        while transactions and tx_bytes > MAX_BLOCK_BYTES:
            tx_bytes -= transactions[-1].encoded_size
            transactions = transactions[:-1]
        header = make_header(
            chain_id=self.chain_id,
            height=height,
            timestamp_ms=timestamp_ms,
            prev_hash=prev_hash,
            transactions=transactions,
            prev_app_hash=self.store.app_hash(height - 1),
            prev_receipts_root=self.store.receipts_root(height - 1),
            proposer=self.proposer,
        )
        return Block(header, transactions)

    def validate_block(self, block: Block) -> str | None:
        """None if this node would execute the block; else why not."""
        try:
            block.validate_basic()
        except VotechainError as exc:
            return str(exc)
        if block.header.chain_id != self.chain_id:
            return f"block is for chain {block.header.chain_id!r}"
        height = block.height
        if height == self.store.head_height + 1:
            if block.header.prev_app_hash != self.store.app_hash(height - 1):
                return f"prev_app_hash does not match our app hash after block {height - 1}"
            if block.header.prev_receipts_root != self.store.receipts_root(height - 1):
                return f"prev_receipts_root does not match our receipts of block {height - 1}"
        for tx in block.transactions:
            if self.is_committed(tx.tx_id):
                return f"transaction {tx.tx_id.hex()} is already committed"
        try:
            block.verify_signatures(self.verified)
        except VotechainError as exc:
            return str(exc)
        return None

    def is_committed(self, tx_id: bytes) -> bool:
        return self.store.locate_tx(tx_id) is not None

    def commit(
        self,
        block: Block,
        certificate: CommitCertificate,
        local_writes: Sequence[tuple[bytes, bytes | None]] = (),
    ) -> list[votingcontract.Receipt]:
        """Execute and store a committed block; returns its receipts. `local_writes` (the
        consensus records persisted just before the delivery) go in the block's synced
        batch: one fsync for both."""
        context = votingcontract.BlockContext(
            chain_id=self.chain_id, height=block.height, timestamp_ms=block.header.timestamp_ms
        )
        receipts, writes = votingcontract.execute_block(self.store, context, block.transactions)
        self.store.append_block(
            block, certificate, [r.encode() for r in receipts], writes, local_writes
        )
        return receipts

    def dry_run(self, tx: Transaction, now_ms: int) -> str | None:
        """The reason code the state machine would refuse `tx` with in the next block."""
        context = votingcontract.BlockContext(
            chain_id=self.chain_id, height=self.store.head_height + 1, timestamp_ms=now_ms
        )
        receipt = votingcontract.apply_transaction(OverlayState(self.store), context, tx, 0)
        return None if receipt.accepted else str(receipt.code)

    def refusal_detail(self, tx: Transaction, reason: str, now_ms: int) -> str | None:
        """For a create_poll refused with `reason`, which field is wrong and why ("question
        2: ..."), if the stateless poll rules give that same reason; a receipt carries only
        the code, but the client who sent it should learn the field."""
        if tx.kind != votingcontract.CreatePoll.KIND:
            return None
        try:
            body = votingcontract.decode_body(tx.kind, tx.body)
        except VotechainError:
            return None
        assert isinstance(body, votingcontract.CreatePoll)
        code, _, detail = (votingcontract.poll_problem(body, now_ms) or "").partition(": ")
        return detail if code == reason and detail else None
