"""A clock a test sets by hand: the attester's limits, windows and quotas read time only
through the clock they are given."""

from __future__ import annotations


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s
