"""Mempool: admission control for transactions waiting to be ordered.

The consensus core batches and orders what it is given; the mempool decides what it is
given. Admission, in order: size, decode, well-formed envelope (version, kind), chain
id, signature, not already committed, not already pending (then it is the same
submission and is not an error), room left in count and bytes (else `busy`), the
signer's own quota in count and bytes (else `signer_busy`), and a dry run against the
current state so a ballot that would surely be refused (already voted, poll closed, ...)
is refused at once with the state machine's reason code instead of being written to the
chain.

The signer quota is what keeps one key from filling the mempool (and so the blocks)
with its own transactions: a voter who signs hundreds of 64 KB transactions gets a few
in, then must wait for them to commit. Keys named in `unlimited_signers` (the genesis
attesters, which sign an enrollment for every verified phone) are exempt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from chain.errors import DecodeError, InvalidTransaction
from chain.tx import MAX_TX_BYTES, Transaction
from chain.verified import VerifiedTransactions
from node.errors import RpcError, RpcErrorCode
from votingcontract import describe

MEMPOOL_CHECKS_WHERE = "mempool"
"""The label of admission's signature checks in VerifiedTransactions.checks."""


@dataclass
class Mempool:
    chain_id: str
    max_txs: int
    is_committed: Callable[[bytes], bool]
    dry_run: Callable[[Transaction], str | None]
    """Returns the reason code the state machine would refuse the tx with, or None."""
    explain: Callable[[Transaction, str], str | None] = lambda tx, reason: None
    """Which field of a transaction refused with this reason code is wrong and why, where
    the state machine can say (create_poll's invalid_poll and bad_schedule), or None: the
    RPC's message then names the field, as the CLI's own check does before it submits."""

    max_tx_bytes: int = MAX_TX_BYTES
    """The node's own cap (mempool.max_tx_bytes), at most the protocol's MAX_TX_BYTES."""
    max_age_s: float = 600.0
    """A transaction not committed this long after admission is forgotten (its client
    has long timed out; the consensus core may have dropped it under load)."""
    max_bytes: int = 64 * 1024 * 1024
    """Encoded bytes of all pending transactions together (mempool.max_bytes)."""
    max_txs_per_signer: int = 64
    max_bytes_per_signer: int = 512 * 1024
    unlimited_signers: frozenset[bytes] = field(default_factory=frozenset)
    verified: VerifiedTransactions = field(default_factory=VerifiedTransactions)
    """The node's transactions whose signatures it checked (chain.verified), shared with
    its consensus core and block validation: a signature checked here is not checked
    there again, and a resubmission of a checked transaction costs no verification."""

    def __post_init__(self) -> None:
        self._pending: dict[bytes, Transaction] = {}
        self._admitted_at: dict[bytes, float] = {}
        self._sizes: dict[bytes, int] = {}
        self._bytes = 0
        self._by_signer: dict[bytes, list[int]] = {}
        """signer -> [pending transactions, their encoded bytes]"""

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self._pending

    def admit_bytes(self, data: bytes, now_s: float = 0.0) -> tuple[Transaction, bool]:
        """Decode and admit; returns (tx, newly_admitted)."""
        limit = min(self.max_tx_bytes, MAX_TX_BYTES)
        if len(data) > limit:
            raise RpcError(
                RpcErrorCode.BODY_TOO_LARGE,
                f"transaction is {len(data)} bytes; the limit is {limit}",
            )
        try:
            tx = Transaction.decode(data)
        except DecodeError as exc:
            raise RpcError(RpcErrorCode.MALFORMED_TX, str(exc)) from exc
        return tx, self.admit(tx, now_s, len(data))

    def admit(self, tx: Transaction, now_s: float = 0.0, size: int | None = None) -> bool:
        """Admit `tx` (whose encoding is `size` bytes, if the caller knows it)."""
        try:
            tx.validate_basic()
        except InvalidTransaction as exc:
            # Before the signature check, so an empty or non-ASCII kind is reported as
            # malformed, not as a bad signature.
            raise RpcError(RpcErrorCode.MALFORMED_TX, str(exc)) from exc
        if tx.chain_id != self.chain_id:
            raise RpcError(
                RpcErrorCode.WRONG_CHAIN,
                f"transaction is for chain {tx.chain_id!r}, this node runs {self.chain_id!r}",
            )
        try:
            self.verified.verify(tx, self.chain_id, MEMPOOL_CHECKS_WHERE)
        except InvalidTransaction as exc:
            raise RpcError(RpcErrorCode.BAD_SIGNATURE, str(exc)) from exc
        if self.is_committed(tx.tx_id):
            raise RpcError(
                RpcErrorCode.ALREADY_COMMITTED, f"transaction {tx.tx_id.hex()} is already committed"
            )
        if tx.tx_id in self._pending:
            return False
        size = len(tx.encode()) if size is None else size
        if len(self._pending) >= self.max_txs or self._bytes + size > self.max_bytes:
            raise RpcError(
                RpcErrorCode.BUSY,
                f"the mempool is full ({len(self._pending)} transactions, {self._bytes} bytes); "
                "retry shortly",
            )
        self._check_signer_quota(tx.signer, size)
        reason = self.dry_run(tx)
        if reason is not None:
            raise RpcError(
                RpcErrorCode.REFUSED,
                f"the voting state machine would refuse it ({reason}): "
                f"{self.explain(tx, reason) or describe(reason)}",
                reason,
            )
        self._pending[tx.tx_id] = tx
        self._admitted_at[tx.tx_id] = now_s
        self._sizes[tx.tx_id] = size
        self._bytes += size
        usage = self._by_signer.setdefault(tx.signer, [0, 0])
        usage[0] += 1
        usage[1] += size
        return True

    def remove(self, tx_ids: Iterable[bytes]) -> int:
        """Forget these transactions (committed or expired); returns how many were here."""
        removed = 0
        for tx_id in tx_ids:
            tx = self._pending.pop(tx_id, None)
            if tx is None:
                continue
            removed += 1
            self._admitted_at.pop(tx_id, None)
            size = self._sizes.pop(tx_id)
            self._bytes -= size
            usage = self._by_signer[tx.signer]
            usage[0] -= 1
            usage[1] -= size
            if usage[0] == 0:
                del self._by_signer[tx.signer]
        return removed

    def _check_signer_quota(self, signer: bytes, size: int) -> None:
        if signer in self.unlimited_signers:
            return
        count, used = self._by_signer.get(signer, (0, 0))
        if count + 1 > self.max_txs_per_signer or used + size > self.max_bytes_per_signer:
            raise RpcError(
                RpcErrorCode.SIGNER_BUSY,
                f"this key already has {count} transactions ({used} bytes) waiting to commit; "
                f"the limit is {self.max_txs_per_signer} transactions and "
                f"{self.max_bytes_per_signer} bytes per key; retry when some have committed",
            )

    def expire(self, now_s: float) -> int:
        """Forget transactions older than max_age_s; returns how many."""
        old = [t for t, at in self._admitted_at.items() if now_s - at > self.max_age_s]
        self.remove(old)
        return len(old)

    def pending(self) -> list[Transaction]:
        return list(self._pending.values())
