"""Replay a chain from genesis, applying docs/PROTOCOL.md section 10 rule by rule.

The first failing rule stops the replay with VerificationFailure(height, object,
reason). Signature checks (transactions and certificates) are the bulk of the work; with
workers > 1 they run in a process pool a chunk of blocks ahead of execution, and their
results are still reported in height order, so the first bad height is the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import votingcontract
from chain.block import Block
from chain.certificate import CommitCertificate, ValidatorSet
from chain.errors import VotechainError
from chain.genesis import Genesis
from chain.merkle import EMPTY_ROOT, merkle_root
from chain.state import ZERO_HASH, MemoryState, next_app_hash
from verifier.errors import VerificationFailure
from verifier.sources import ChainSource, RawBlock

CHUNK_BLOCKS = 32


@dataclass
class Progress:
    height: int
    head: int
    transactions: int
    ballots: int
    elapsed_s: float


@dataclass
class Report:
    chain_id: str
    genesis_hash: str
    blocks: int = 0
    transactions: int = 0
    ballots: int = 0
    accepted_ballots: int = 0
    head_hash: str = ""
    app_hash: str = ""
    elapsed_s: float = 0.0
    polls: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ballots_per_s(self) -> float:
        return self.ballots / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash,
            "blocks": self.blocks,
            "transactions": self.transactions,
            "ballots": self.ballots,
            "accepted_ballots": self.accepted_ballots,
            "head_hash": self.head_hash,
            "app_hash": self.app_hash,
            "elapsed_s": round(self.elapsed_s, 3),
            "ballots_per_s": round(self.ballots_per_s, 1),
            "stats": self.stats,
            "polls": self.polls,
        }


def check_signatures(
    chain_id: str, validators: tuple[bytes, ...], height: int, block_bytes: bytes, cert_bytes: bytes
) -> tuple[str, str] | None:
    """Rules 8 and 9 for one block: (object, reason) of the first failure, or None.

    A top-level function of plain arguments, so a process pool can run it.
    """
    try:
        block = Block.decode(block_bytes)
    except VotechainError as exc:
        return "block", str(exc)
    for position, tx in enumerate(block.transactions):
        try:
            tx.verify(chain_id)
        except VotechainError as exc:
            return f"transaction {position} ({tx.tx_id.hex()[:16]})", str(exc)
    try:
        certificate = CommitCertificate.decode(cert_bytes)
        certificate.verify(ValidatorSet(validators), chain_id, height, block.block_hash)
    except VotechainError as exc:
        return "certificate", str(exc)
    return None


class _Replay:
    """The replay's running state: what the previous height left for the next to check."""

    def __init__(self, source: ChainSource, genesis: Genesis) -> None:
        self.source, self.genesis = source, genesis
        self.validators = genesis.validator_set
        self.state = MemoryState()
        writes = votingcontract.genesis_writes(genesis)
        self.state.apply(writes)
        self.app_hash = next_app_hash(ZERO_HASH, writes)
        self.prev_hash = genesis.genesis_hash
        self.prev_timestamp_ms = genesis.genesis_time_ms
        self.prev_receipts_root = EMPTY_ROOT
        self.seen_tx_ids: set[bytes] = set()
        self.report = Report(genesis.chain_id, genesis.genesis_hash.hex())

    def check_block(self, raw: RawBlock, signature_result: tuple[str, str] | None) -> None:
        h = raw.height
        try:
            block = Block.decode(raw.block)
        except VotechainError as exc:
            raise VerificationFailure(h, "block", f"does not decode: {exc}") from exc
        header = block.header
        self._rule(header.height == h, h, "header", f"says height {header.height}")
        self._rule(
            header.chain_id == self.genesis.chain_id, h, "header", f"chain id {header.chain_id!r}"
        )
        self._rule(
            header.prev_hash == self.prev_hash,
            h,
            "header",
            f"prev_hash {header.prev_hash.hex()[:16]} does not link to block {h - 1} "
            f"({self.prev_hash.hex()[:16]})",
        )
        self._rule(
            header.timestamp_ms > self.prev_timestamp_ms,
            h,
            "header",
            f"timestamp {header.timestamp_ms} is not after the parent's {self.prev_timestamp_ms}",
        )
        self._rule(
            self.validators.contains(header.proposer), h, "header", "proposer is not a validator"
        )
        try:
            block.validate_basic()
        except VotechainError as exc:
            raise VerificationFailure(h, "block", str(exc)) from exc
        for position, tx in enumerate(block.transactions):
            self._rule(
                tx.tx_id not in self.seen_tx_ids,
                h,
                f"transaction {position}",
                f"{tx.tx_id.hex()} was already committed (replayed transaction)",
            )
            self.seen_tx_ids.add(tx.tx_id)
        if signature_result is not None:
            raise VerificationFailure(h, *signature_result)
        self._rule(
            header.prev_app_hash == self.app_hash,
            h,
            "header",
            f"prev_app_hash {header.prev_app_hash.hex()[:16]} differs from the replayed app "
            f"hash after block {h - 1} ({self.app_hash.hex()[:16]})",
        )
        self._rule(
            header.prev_receipts_root == self.prev_receipts_root,
            h,
            "header",
            f"prev_receipts_root differs from the replayed receipts of block {h - 1}",
        )
        self._execute(raw, block)

    def _execute(self, raw: RawBlock, block: Block) -> None:
        h = raw.height
        context = votingcontract.BlockContext(self.genesis.chain_id, h, block.header.timestamp_ms)
        receipts, writes = votingcontract.execute_block(self.state, context, block.transactions)
        encoded = [r.encode() for r in receipts]
        if len(raw.receipts) != len(encoded):
            raise VerificationFailure(
                h, "receipts", f"{len(raw.receipts)} stored for {len(encoded)} transactions"
            )
        for position, (stored, replayed) in enumerate(zip(raw.receipts, encoded, strict=True)):
            if stored != replayed:
                raise VerificationFailure(
                    h,
                    f"receipt {position}",
                    f"stored receipt says {_receipt_code(stored)}, "
                    f"re-execution says {receipts[position].code}",
                )
        self.state.apply(writes)
        self.app_hash = next_app_hash(self.app_hash, writes)
        stored_app_hash = self.source.stored_app_hash(h)
        if stored_app_hash is not None and stored_app_hash != self.app_hash:
            raise VerificationFailure(h, "stored app hash", "differs from the replayed one")
        self.prev_hash = block.block_hash
        self.prev_timestamp_ms = block.header.timestamp_ms
        self.prev_receipts_root = merkle_root(encoded)
        ballots = [
            r
            for tx, r in zip(block.transactions, receipts, strict=True)
            if tx.kind == "cast_ballot"
        ]
        self.report.blocks += 1
        self.report.transactions += len(receipts)
        self.report.ballots += len(ballots)
        self.report.accepted_ballots += sum(1 for r in ballots if r.accepted)

    def finish(self) -> Report:
        stored = self.source.stored_state()
        if stored is not None:
            replayed = dict(self.state.items(b""))
            if stored != replayed:
                key = min(
                    set(stored) ^ set(replayed)
                    | {k for k in stored if stored[k] != replayed.get(k)}
                )
                raise VerificationFailure(
                    self.report.blocks,
                    "stored state",
                    f"key {key!r} differs from the replayed state (altered outside the chain?)",
                )
        self.report.head_hash = self.prev_hash.hex()
        self.report.app_hash = self.app_hash.hex()
        now_ms = self.prev_timestamp_ms
        for poll in votingcontract.list_polls(self.state, now_ms=now_ms):
            result = votingcontract.results(self.state, poll.poll_id, now_ms=now_ms)
            self.report.polls.append(
                {"poll": poll.to_dict(), "results": None if result is None else result.to_dict()}
            )
        self.report.stats = votingcontract.stats(self.state).to_dict()
        return self.report

    @staticmethod
    def _rule(ok: bool, height: int, subject: str, reason: str) -> None:
        if not ok:
            raise VerificationFailure(height, subject, reason)


def verify_chain(
    source: ChainSource,
    expected_genesis_hash: bytes | None = None,
    workers: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
) -> Report:
    """Replay `source` from genesis; return the report or raise VerificationFailure."""
    started = time.monotonic()
    genesis = source.genesis()
    if expected_genesis_hash is not None and genesis.genesis_hash != expected_genesis_hash:
        raise VerificationFailure(
            None,
            "genesis",
            f"hash {genesis.genesis_hash.hex()} is not the pinned {expected_genesis_hash.hex()}",
        )
    replay = _Replay(source, genesis)
    head = source.head_height()
    executor: Executor | None = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        for raw, result in _with_signature_checks(source.blocks(), genesis, executor):
            replay.check_block(raw, result)
            if on_progress is not None:
                r = replay.report
                on_progress(
                    Progress(
                        raw.height, head, r.transactions, r.ballots, time.monotonic() - started
                    )
                )
        report = replay.finish()
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    report.elapsed_s = time.monotonic() - started
    return report


def _with_signature_checks(
    blocks: Iterator[RawBlock], genesis: Genesis, executor: Executor | None
) -> Iterator[tuple[RawBlock, tuple[str, str] | None]]:
    keys = genesis.validator_set.public_keys
    chain_id = genesis.chain_id
    if executor is None:
        for raw in blocks:
            yield raw, check_signatures(chain_id, keys, raw.height, raw.block, raw.certificate)
        return
    window: list[tuple[RawBlock, Future[tuple[str, str] | None]]] = []
    for raw in blocks:
        window.append(
            (
                raw,
                executor.submit(
                    check_signatures, chain_id, keys, raw.height, raw.block, raw.certificate
                ),
            )
        )
        if len(window) >= CHUNK_BLOCKS:
            first, future = window.pop(0)
            yield first, future.result()
    for raw, future in window:
        yield raw, future.result()


def _receipt_code(encoded: bytes) -> str:
    try:
        return votingcontract.Receipt.decode(encoded).code
    except VotechainError:
        return "something undecodable"
