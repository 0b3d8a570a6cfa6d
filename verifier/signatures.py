"""Ed25519 verification in bulk, in this process or in a pool of worker processes.

Signature checks are most of a replay's work (one per transaction and a quorum per
block). The replay hands each block's verifications to a `SignatureChecker` as soon as
the block is read, keeps reading ahead while workers verify, and collects the results
in height order, so the first bad height is the same as in a serial run. Workers get
only (public key, signature, signed bytes) triples: decoding, hashing and execution
stay in the main process, and a worker's time goes to Ed25519 alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from chain.keys import verify_signature
from verifier.ballot_proofs import JOBS_PER_TASK, ProofJob, check_jobs
from verifier.rules import SignatureItem

BATCH_ITEMS = 512
"""Signatures per worker task: small blocks are grouped, so task overhead stays small."""


def verify_items(items: Sequence[SignatureItem]) -> list[bool]:
    """One bool per item: does the signature verify? A top-level function of plain
    values, so a process pool can run it."""
    return [verify_signature(key, signature, message) for key, signature, message in items]


class _Batch:
    def __init__(self) -> None:
        self.items: list[SignatureItem] = []
        self.future: Future[list[bool]] | None = None
        self.results: list[bool] | None = None


class Pending:
    """The verdicts of one block's signatures, computed now or by a worker."""

    def __init__(self, checker: SignatureChecker, batch: _Batch, start: int, end: int) -> None:
        self._checker, self._batch, self._start, self._end = checker, batch, start, end

    def result(self) -> list[bool]:
        return self._checker._results(self._batch)[self._start : self._end]


class SignatureChecker:
    """`workers` <= 1: verify in this process, when a result is asked for. Otherwise a
    pool of `workers` processes verifies in the background while the caller goes on."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool = ProcessPoolExecutor(self.workers) if self.workers > 1 else None
        self._open = _Batch()

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def submit(self, items: Sequence[SignatureItem]) -> Pending:
        batch = self._open
        start = len(batch.items)
        batch.items.extend(items)
        pending = Pending(self, batch, start, len(batch.items))
        if len(batch.items) >= BATCH_ITEMS:
            self.flush()
        return pending

    def submit_proofs(self, jobs: Sequence[ProofJob]) -> list[Future[list[bool]]] | None:
        """Encrypted ballots' proofs (verifier/ballot_proofs.py), in tasks spread over the
        pool; None without a pool or jobs: execution then checks them itself."""
        if self._pool is None or not jobs:
            return None
        self.flush()  # the signatures first: execution waits for them before the proofs
        return [
            self._pool.submit(check_jobs, jobs[i : i + JOBS_PER_TASK])
            for i in range(0, len(jobs), JOBS_PER_TASK)
        ]

    def flush(self) -> None:
        """Send the open batch to a worker (no-op without a pool)."""
        batch = self._open
        if self._pool is not None and batch.items:
            batch.future = self._pool.submit(verify_items, batch.items)
            self._open = _Batch()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _results(self, batch: _Batch) -> list[bool]:
        if batch.results is None:
            if batch is self._open:
                if self._pool is not None:
                    self.flush()
                else:
                    batch.results = verify_items(batch.items)
                    self._open = _Batch()
                    return batch.results
            assert batch.future is not None
            batch.results = batch.future.result()
        return batch.results
