"""Replay a chain from genesis, applying docs/PROTOCOL.md section 10 rule by rule.

    report = verify_chain(source, expected_genesis_hash=..., workers=2)

The first failing rule stops the replay with VerificationFailure(height, object,
reason, rule). Per height, in order: decode (rule 1), header (2-5), transactions
(2, 6, 7), signatures (8), certificate (9), the previous block's results carried by
this header (10), and re-execution giving exactly the stored receipts (11). After the
head: the source's own stored state and app hashes, where it has them (a data
directory), must equal the replay's, so state edited outside the chain is found too.

Signature checks are the bulk of the work. Blocks are read and decoded up to
READ_AHEAD_BLOCKS ahead of execution, and their signatures verified meanwhile by
signatures.SignatureChecker (a process pool when workers > 1); verdicts are used in
height order, so the first bad height and rule are the same with any worker count.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import votingcontract
from chain import encoding
from chain.block import Block
from chain.certificate import CommitCertificate
from chain.errors import DecodeError, VotechainError
from chain.genesis import Genesis
from chain.merkle import EMPTY_ROOT, merkle_root
from chain.state import ZERO_HASH, MemoryState, next_app_hash
from verifier import rules
from verifier.ballot_proofs import BallotProofKey, EncryptedBallot, encrypted_ballots, proof_jobs
from verifier.errors import VerificationFailure
from verifier.rules import short
from verifier.signatures import Pending, SignatureChecker
from verifier.sources import ChainSource, RawBlock
from votingcontract import secret_polls

READ_AHEAD_BLOCKS = 16


@dataclass(frozen=True)
class Progress:
    height: int
    head: int
    """The source's head height, or -1 when it is not known in advance."""
    transactions: int
    ballots: int
    elapsed_s: float


@dataclass
class Report:
    """What a successful replay found: counts, the head, and every poll's results."""

    chain_id: str
    genesis_hash: str
    workers: int = 1
    blocks: int = 0
    transactions: int = 0
    ballots: int = 0
    accepted_ballots: int = 0
    signatures: int = 0
    head_hash: str = ""
    head_time_ms: int = 0
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
            "signatures_checked": self.signatures,
            "polls_count": len(self.polls),
            "head_hash": self.head_hash,
            "head_time_ms": self.head_time_ms,
            "app_hash": self.app_hash,
            "workers": self.workers,
            "elapsed_s": round(self.elapsed_s, 3),
            "ballots_per_s": round(self.ballots_per_s, 1),
            "stats": self.stats,
            "polls": self.polls,
        }


def verify_chain(
    source: ChainSource,
    expected_genesis_hash: bytes | None = None,
    workers: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
    partial: Report | None = None,
) -> Report:
    """Replay `source` from genesis; return the report or raise VerificationFailure.

    `partial`, if given, is filled as the replay goes, so a caller can say how far a
    failing replay got.
    """
    started = time.monotonic()
    genesis = source.genesis()
    if expected_genesis_hash is not None and genesis.genesis_hash != expected_genesis_hash:
        raise VerificationFailure(
            None,
            "genesis",
            f"hashes to {genesis.genesis_hash.hex()}, not the pinned {expected_genesis_hash.hex()}",
            0,
        )
    report = partial or Report(genesis.chain_id, genesis.genesis_hash.hex())
    report.chain_id, report.genesis_hash = genesis.chain_id, genesis.genesis_hash.hex()
    report.workers = max(1, workers)
    replay = _Replay(source, genesis, report)
    head = source.head_height()
    checker = SignatureChecker(workers)
    try:
        for prepared in _read_ahead(source.blocks(), checker, replay.ballots_ahead):
            replay.check_block(prepared)
            if on_progress is not None:
                on_progress(
                    Progress(
                        prepared.raw.height,
                        head,
                        report.transactions,
                        report.ballots,
                        time.monotonic() - started,
                    )
                )
        if report.blocks != head:
            # Every source stops at the head it recorded; this guards that promise, so a
            # source that ended early can never pass as a shorter, complete chain.
            raise VerificationFailure(
                report.blocks + 1,
                "the chain",
                f"ends after block {report.blocks}, but the source records head {head}",
                1,
            )
        replay.finish()
    finally:
        checker.close()
        report.elapsed_s = time.monotonic() - started
    return report


@dataclass
class _Prepared:
    """A block read ahead: decoded, its signatures handed to the checker. A decoding
    failure is kept here and raised when the replay reaches this height, not before."""

    raw: RawBlock
    block: Block | None = None
    certificate: CommitCertificate | None = None
    failure: VerificationFailure | None = None
    signatures: Pending | None = None
    proof_keys: list[BallotProofKey] = field(default_factory=list)
    proofs: list[Future[list[bool]]] | None = None
    """Verdicts of the encrypted ballots' proofs checked ahead (verifier/ballot_proofs.py)."""
    proofs_due: bool = True
    """Its encrypted ballots are still to be handed to the workers."""
    encrypted: list[EncryptedBallot] | None = None
    """Its encrypted ballots, decoded once (verifier/ballot_proofs.py)."""

    def proven_ballots(self) -> frozenset[BallotProofKey]:
        if self.proofs is None:
            return frozenset()
        verdicts = [ok for future in self.proofs for ok in future.result()]
        return frozenset(k for k, ok in zip(self.proof_keys, verdicts, strict=True) if ok)


BallotsAhead = Callable[[list[EncryptedBallot]], tuple[list[BallotProofKey], list[Any], bool]]


def _prepare(raw: RawBlock, checker: SignatureChecker) -> _Prepared:
    prepared = _Prepared(raw)
    try:
        prepared.block = rules.decode_block(raw.height, raw.block, raw.block_value)
        prepared.certificate = rules.decode_certificate(raw.height, raw.certificate)
    except VerificationFailure as failure:
        prepared.failure = failure
    if prepared.block is not None:
        items = rules.signature_items(prepared.block, prepared.certificate)
        prepared.signatures = checker.submit(items)
    return prepared


def _read_ahead(
    blocks: Iterator[RawBlock], checker: SignatureChecker, ballots: BallotsAhead
) -> Iterator[_Prepared]:
    window: deque[_Prepared] = deque()
    for raw in blocks:
        window.append(_prepare(raw, checker))
        if len(window) > READ_AHEAD_BLOCKS:
            _submit_proofs(window, checker, ballots)
            yield window.popleft()
    checker.flush()
    while window:
        _submit_proofs(window, checker, ballots)
        yield window.popleft()


def _submit_proofs(
    window: deque[_Prepared], checker: SignatureChecker, ballots: BallotsAhead
) -> None:
    """Hand the encrypted ballots of the blocks read ahead to the workers once the state
    executed so far holds their poll's key (a poll's key and questions never change once
    set); a block whose ballots all wait for a key is tried again before the next one."""
    if not checker.parallel:
        return
    for prepared in window:
        if prepared.block is None or not prepared.proofs_due:
            continue
        if prepared.encrypted is None:
            prepared.encrypted = encrypted_ballots(prepared.block)
        keys, jobs, waiting = ballots(prepared.encrypted)
        if jobs or not waiting:
            prepared.proof_keys, prepared.proofs = keys, checker.submit_proofs(jobs)
            prepared.proofs_due = False


class _Replay:
    """The replay's running state: what height h-1 left for height h to check."""

    def __init__(self, source: ChainSource, genesis: Genesis, report: Report) -> None:
        self.source, self.genesis, self.report = source, genesis, report
        self.state = MemoryState()
        writes = votingcontract.genesis_writes(genesis)
        self.state.apply(writes)
        self.app_hash = next_app_hash(ZERO_HASH, writes)
        self.height = 0
        self.prev_hash = genesis.genesis_hash
        self.prev_timestamp_ms = genesis.genesis_time_ms
        self.prev_receipts_root = EMPTY_ROOT
        self.seen_tx_ids: set[bytes] = set()
        self._check_stored_app_hash(0)

    def check_block(self, prepared: _Prepared) -> None:
        """Rules 1-11 for the next height."""
        raw, h = prepared.raw, self.height + 1
        if raw.height != h:
            raise VerificationFailure(
                h, f"block {h}", f"is missing (the source gave {raw.height})", 1
            )
        if prepared.failure is not None:
            raise prepared.failure
        block, certificate, pending = prepared.block, prepared.certificate, prepared.signatures
        assert block is not None and certificate is not None and pending is not None
        rules.validate_header(self.genesis, h, block.header, self.prev_hash, self.prev_timestamp_ms)
        tx_ids = rules.validate_transactions(self.genesis, h, block, self.seen_tx_ids)
        valid = pending.result()
        rules.validate_tx_signatures(h, block, valid)
        rules.validate_certificate(
            self.genesis, h, block.block_hash, certificate, valid[len(block.transactions) :]
        )
        self._validate_previous_results(h, block)
        self._execute(raw, block, prepared.proven_ballots())
        self.seen_tx_ids.update(tx_ids)
        self.report.signatures += len(valid)

    def _validate_previous_results(self, h: int, block: Block) -> None:
        """Rule 10: this header carries what executing block h-1 gave the replay."""
        header, previous = block.header, "genesis" if h == 1 else f"block {h - 1}"
        if header.prev_app_hash != self.app_hash:
            raise VerificationFailure(
                h,
                f"header of block {h}",
                f"has prev_app_hash {short(header.prev_app_hash)}, but executing {previous} "
                f"gives {short(self.app_hash)}",
                10,
            )
        if header.prev_receipts_root != self.prev_receipts_root:
            raise VerificationFailure(
                h,
                f"header of block {h}",
                f"has prev_receipts_root {short(header.prev_receipts_root)}, but the receipts "
                f"of {previous} give {short(self.prev_receipts_root)}",
                10,
            )

    def ballots_ahead(
        self, ballots: list[EncryptedBallot]
    ) -> tuple[list[BallotProofKey], list[Any], bool]:
        """A block read ahead: its encrypted ballots to check in the workers, with the
        poll keys and rules of the state as executed so far."""
        keys, jobs, waiting = proof_jobs(self.state, self.genesis.chain_id, ballots)
        return keys, list(jobs), waiting

    def _execute(
        self, raw: RawBlock, block: Block, proven: frozenset[BallotProofKey] = frozenset()
    ) -> None:
        """Rule 11: executing the block gives exactly the stored receipts."""
        h = raw.height
        if raw.receipts_unreadable is not None:
            raise VerificationFailure(
                h, f"stored receipts of block {h}", f"do not decode: {raw.receipts_unreadable}", 11
            )
        context = votingcontract.BlockContext(
            self.genesis.chain_id, h, block.header.timestamp_ms, proven
        )
        receipts, writes = votingcontract.execute_block(self.state, context, block.transactions)
        encoded = [r.encode() for r in receipts]
        if len(raw.receipts) != len(encoded):
            raise VerificationFailure(
                h,
                f"receipts of block {h}",
                f"are {len(raw.receipts)} for {len(encoded)} transactions",
                11,
            )
        for position, (stored, replayed) in enumerate(zip(raw.receipts, encoded, strict=True)):
            if stored != replayed:
                raise VerificationFailure(
                    h,
                    f"receipt {position} of block {h}",
                    f"says {_describe_receipt(stored)}, re-execution gives "
                    f"{_describe_receipt(replayed)}",
                    11,
                )
        self.state.apply(writes)
        self.app_hash = next_app_hash(self.app_hash, writes)
        self.height = h
        self.prev_hash = block.block_hash
        self.prev_timestamp_ms = block.header.timestamp_ms
        self.prev_receipts_root = merkle_root(encoded)
        self._check_stored_app_hash(h)
        report = self.report
        report.blocks = h
        report.transactions += len(receipts)
        for tx, receipt in zip(block.transactions, receipts, strict=True):
            if tx.kind == "cast_ballot":
                report.ballots += 1
                report.accepted_ballots += receipt.accepted

    def _check_stored_app_hash(self, h: int) -> None:
        stored = self.source.stored_app_hash(h)
        if stored is not None and stored != self.app_hash:
            raise VerificationFailure(
                h,
                f"stored app hash after block {h}",
                f"is {short(stored)}, the replay gives {short(self.app_hash)}",
                11,
            )

    def finish(self) -> None:
        """After the head: the source's stored state, then the summary."""
        stored = self.source.stored_state()
        if stored is not None:
            self._compare_state(stored)
        report = self.report
        report.head_hash = self.prev_hash.hex()
        report.head_time_ms = self.prev_timestamp_ms
        report.app_hash = self.app_hash.hex()
        now_ms = self.prev_timestamp_ms
        for poll in reversed(votingcontract.list_polls(self.state, now_ms=now_ms)):
            result = votingcontract.results(self.state, poll.poll_id, now_ms=now_ms)
            document = poll.to_dict(now_ms)
            secret = secret_polls.secret_status(self.state, poll)
            if secret is not None:
                document["secret"] = secret  # as the RPC's poll view: key set-up, partials
            report.polls.append(
                {
                    "poll": document,
                    "results": None if result is None else result.to_dict(),
                }
            )
        report.stats = votingcontract.stats(self.state).to_dict()

    def _compare_state(self, stored: dict[bytes, bytes]) -> None:
        replayed = dict(self.state.items(b""))
        if stored == replayed:
            return
        differing = sorted(
            k for k in stored.keys() | replayed.keys() if stored.get(k) != replayed.get(k)
        )
        key = differing[0]

        def shown(value: bytes | None) -> str:
            return "nothing" if value is None else _describe_value(value)

        raise VerificationFailure(
            self.height,
            f"stored state after block {self.height}",
            f"has {describe_state_key(key)} = {shown(stored.get(key))}, the replay gives "
            f"{shown(replayed.get(key))} ({len(differing)} key{'s' if len(differing) != 1 else ''} "
            f"differ)",
            11,
        )


def describe_state_key(key: bytes) -> str:
    """`tally/3fa4…/0/2` for humans: the ASCII prefix, then the binary parts in hex."""
    prefix, slash, rest = key.partition(b"/")
    if not slash or not prefix.isascii():
        return key.hex()
    if prefix in (b"tally", b"tallyballots") and len(rest) == 36:
        q, o = int.from_bytes(rest[32:34], "big"), int.from_bytes(rest[34:36], "big")
        return f"{prefix.decode()}/{short(rest[:32])}/question {q}/option {o}"
    if prefix in (b"stat", b"org"):
        return key.decode("utf-8", "replace")
    return (
        prefix.decode() + "/" + "/".join(short(rest[i : i + 32]) for i in range(0, len(rest), 32))
    )


def _describe_value(value: bytes) -> str:
    try:
        decoded = encoding.decode(value)
    except DecodeError:
        return value.hex()[:32]
    return repr(decoded)[:60]


def _describe_receipt(encoded: bytes) -> str:
    try:
        receipt = votingcontract.Receipt.decode(encoded)
    except VotechainError:
        return f"something undecodable ({encoded.hex()[:16]}…)"
    return f"{receipt.code} for tx {short(receipt.tx_id)} at position {receipt.position}"
