"""The block context a transaction executes in: all it may know about the world."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BlockContext:
    """Chain id, height and timestamp of the block being executed.

    timestamp_ms is the block header's (agreed by the validators); every "now" in the
    voting rules is this value, never a local clock.

    proven_ballots: encrypted ballots whose proofs the caller has already checked
    (secret_polls.ballot_proof_key of each, made by secret_polls.check_ballot_proofs),
    as the caller checks every transaction's signature before execution: a caller with
    spare cores checks a block's ballot proofs in parallel. The results are the same
    with or without it; a ballot not in it is checked here.
    """

    chain_id: str
    height: int
    timestamp_ms: int
    proven_ballots: frozenset[Any] = field(default=frozenset(), compare=False)
