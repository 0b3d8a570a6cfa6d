"""Encrypted ballots' proofs checked ahead of execution, by the replay's worker pool.

An encrypted ballot's proofs cost a validator about 39 variable-base multiplications
(docs/adr/009-ballot-group.md), twenty times its signature check: checked inside
execution they held a replay to one core whatever its workers. So, as for signatures,
the replay hands each block's encrypted ballots to its workers as soon as the block is
read, with the poll's key and rules as the replay's state has them then, and passes the
ballots that passed to the state machine (BlockContext.proven_ballots), which checks
only the others itself. A ballot whose poll's key was not yet known when its block was
read ahead, or whose proofs failed, is checked (and refused) in execution as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chain.block import Block
from chain.errors import DecodeError
from chain.state import StateView
from votingcontract.bodies import CastBallot, decode_body
from votingcontract.records import read_poll
from votingcontract.secret_polls import (
    BallotProofKey,
    ballot_proof_key,
    check_ballot_proofs,
    question_rule,
    read_public_key,
)

ProofJob = tuple[str, bytes, bytes, bytes, tuple[Any, ...], list[Any]]
"""check_ballot_proofs' arguments: chain id, poll id, signer, poll key, rules, questions."""

__all__ = [
    "JOBS_PER_TASK",
    "BallotProofKey",
    "EncryptedBallot",
    "ProofJob",
    "check_jobs",
    "encrypted_ballots",
    "proof_jobs",
]

JOBS_PER_TASK = 16
"""Ballots per worker task: a block's ballots spread over every worker."""


def check_jobs(jobs: Sequence[ProofJob]) -> list[bool]:
    """One bool per job: do the ballot's proofs hold? Plain values in and out, for a
    process pool."""
    return [_check(job) for job in jobs]


def _check(job: ProofJob) -> bool:
    try:
        return check_ballot_proofs(*job)
    except Exception:  # a worker's surprise must not end the replay:
        return False  # False only means "not checked ahead", and execution checks it


EncryptedBallot = tuple[bytes, CastBallot]
"""A ballot transaction's signer and its decoded body."""


def encrypted_ballots(block: Block) -> list[EncryptedBallot]:
    """The block's ballots that carry encrypted questions, decoded once."""
    found = []
    for tx in block.transactions:
        if tx.kind != CastBallot.KIND:
            continue
        try:
            body = decode_body(tx.kind, tx.body)
        except DecodeError:
            continue
        if isinstance(body, CastBallot) and body.encrypted is not None and not body.selections:
            found.append((tx.signer, body))
    return found


def proof_jobs(
    state: StateView, chain_id: str, ballots: Sequence[EncryptedBallot]
) -> tuple[list[BallotProofKey], list[ProofJob], bool]:
    """The jobs of `ballots` in polls whose key `state` already holds, and whether others
    may still get one (their poll unknown yet, or its key not yet made)."""
    keys: list[BallotProofKey] = []
    jobs: list[ProofJob] = []
    waiting = False
    for signer, body in ballots:
        poll = read_poll(state, body.poll_id)
        point = read_public_key(state, body.poll_id)
        public_key = None if point is None else point.encoding
        if poll is None or poll.spec.secret is None or public_key is None:
            waiting = waiting or poll is None or poll.spec.secret is not None
            continue
        rules = tuple(question_rule(q) for q in poll.spec.questions)
        keys.append(ballot_proof_key(body.poll_id, signer, public_key, rules, body))
        jobs.append((chain_id, body.poll_id, signer, public_key, rules, list(body.encrypted or ())))
    return keys, jobs, waiting
