"""The block context a transaction executes in: all it may know about the world."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlockContext:
    """Chain id, height and timestamp of the block being executed.

    timestamp_ms is the block header's (agreed by the validators); every "now" in the
    voting rules is this value, never a local clock.
    """

    chain_id: str
    height: int
    timestamp_ms: int
