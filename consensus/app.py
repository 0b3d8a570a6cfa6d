"""The narrow interface through which the core asks the node about blocks.

The core orders opaque batches. It never looks inside a transaction's body: the node
(with votingcontract) builds blocks, says whether a proposal is valid, and whether a
transaction is already on the chain. The simulator implements this trivially.
"""

from __future__ import annotations

from typing import Protocol

from chain.block import Block
from chain.tx import Transaction


class Application(Protocol):
    """Implemented by the node; every method is called from inside Replica.step.

    When the core calls these, the node has executed every block it was asked to
    Deliver before the current step, so its state is the state after the last
    committed block.
    """

    def build_block(
        self,
        height: int,
        timestamp_ms: int,
        prev_hash: bytes,
        transactions: tuple[Transaction, ...],
    ) -> Block:
        """A block at `height` on `prev_hash` holding `transactions` (or a prefix of them).

        The node fills prev_app_hash, prev_receipts_root, tx_root and proposer (this
        replica's key). It may leave out a suffix, for example to respect the byte limit;
        the transactions left out stay pending in the core.
        """
        ...

    def validate_block(self, block: Block) -> str | None:
        """None if `block` may follow the last committed block, else the reason it may not.

        The node checks what needs application state: transaction signatures, the app
        hash and receipts root of the previous block, transactions already committed.
        The core has already checked height, prev_hash, proposer and timestamp.
        """
        ...

    def is_committed(self, tx_id: bytes) -> bool:
        """True if a committed block holds the transaction `tx_id`."""
        ...
