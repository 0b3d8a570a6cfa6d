"""Deterministic randomness and a poll's worth of context for the ballotcrypto tests.

The package takes every random scalar from its caller; these tests pass scalars drawn
from a seeded generator so that a failure reproduces.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ballotcrypto import group
from ballotcrypto.context import BallotContext
from ballotcrypto.group import Point

CHAIN_ID = "votechain-test"
POLL_ID = bytes(range(32))
VOTER_KEY = bytes([7]) * 32
OTHER_VOTER_KEY = bytes([8]) * 32


class Scalars:
    """Uniform nonzero scalars from a seed."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def one(self) -> int:
        return self._random.randrange(1, group.L)

    def many(self, count: int) -> list[int]:
        return [self.one() for _ in range(count)]


@dataclass(frozen=True)
class KeyPair:
    secret: int
    public: Point


def keypair(scalars: Scalars) -> KeyPair:
    secret = scalars.one()
    return KeyPair(secret, group.base_mul(secret))


def ballot_context(question: int = 0, option: int = 0) -> BallotContext:
    return BallotContext(CHAIN_ID, POLL_ID, VOTER_KEY, question, option)


def other_contexts(context: BallotContext) -> dict[str, BallotContext]:
    """The same place in a ballot, but another voter, poll, chain, question or option."""
    return {
        "voter": BallotContext(
            context.chain_id, context.poll_id, OTHER_VOTER_KEY, context.question, context.option
        ),
        "poll": BallotContext(
            context.chain_id, bytes(32), context.voter_key, context.question, context.option
        ),
        "chain": BallotContext(
            "another-chain", context.poll_id, context.voter_key, context.question, context.option
        ),
        "question": context.at(context.question + 1, context.option),
        "option": context.at(context.question, context.option + 1),
    }


def flip_scalar(value: int) -> int:
    """Another scalar, as a tamperer would send."""
    return (value + 1) % group.L
