"""Errors the consensus core raises; every one descends from chain's VotechainError."""

from __future__ import annotations

from chain.errors import VotechainError


class InvalidMessage(VotechainError):
    """A consensus message that is malformed, badly signed, or breaks a protocol rule.

    The replica drops such a message and counts it; it never crashes on one.
    """


class InvariantViolation(VotechainError):
    """Something that cannot happen with at most f Byzantine replicas happened.

    Example: a block carrying a valid commit certificate that does not link to this
    replica's last committed block. The node should stop and alert an operator rather
    than continue on a chain it can no longer trust.
    """
