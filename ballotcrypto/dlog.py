"""Bounded discrete logarithm: m from m·G for 0 ≤ m ≤ maximum (baby-step giant-step).

A table of the baby steps j·G (0 ≤ j < s, s = ⌈√(maximum + 1)⌉) is built once per bound
and reused for every count of a tally; a lookup then takes at most s giant steps of
subtracting s·G. For a poll of 100,000 voters s is 317: a table of 317 points and at
most 317 subtractions per option. Built from public values only, so nothing here needs
to be constant time.
"""

from __future__ import annotations

from math import isqrt

from ballotcrypto import group
from ballotcrypto.errors import OutOfRange
from ballotcrypto.group import IDENTITY, Point


class BoundedLog:
    """The baby-step table for one bound; immutable once built."""

    __slots__ = ("_baby", "_giant", "_steps", "maximum")

    def __init__(self, maximum: int) -> None:
        if maximum < 0:
            raise ValueError(f"bound {maximum} is negative")
        self.maximum = maximum
        steps = isqrt(maximum) + 1  # steps² > maximum
        baby: dict[bytes, int] = {}
        point = IDENTITY
        for j in range(steps):
            baby[point.encoding] = j
            point = group.add(point, group.GENERATOR)
        self._baby = baby
        self._steps = steps
        self._giant = point  # steps·G

    def log(self, point: Point) -> int:
        """m with m·G = `point`, or OutOfRange if no m in [0, maximum] fits."""
        current = point
        for i in range(self._steps + 1):
            j = self._baby.get(current.encoding)
            if j is not None:
                m = i * self._steps + j
                if m <= self.maximum:
                    return m
                break
            current = group.sub(current, self._giant)
        raise OutOfRange(f"the decrypted value is not in [0, {self.maximum}]")
