"""Feldman verifiable secret sharing: the arithmetic of one dealer's polynomial.

A dealer with secret coefficients a_0..a_{k-1} (its polynomial f of degree k - 1)
publishes commitments C_m = a_m·G and gives trustee j the share s_j = f(j) mod L. Anyone
can compute what s_j·G must be, and trustee j checks its share against it:

    f(j) = Σ_m a_m·j^m mod L                                                  (V1)
    f(j)·G = Σ_m j^m·C_m                                                      (V2)

Indices are 1..n; f(0) = a_0 is the dealer's contribution to the poll's secret key.
"""

from __future__ import annotations

from collections.abc import Sequence

from ballotcrypto import group
from ballotcrypto.group import IDENTITY, L, Point


def commitments(coefficients: Sequence[int]) -> tuple[Point, ...]:
    """(C_0, …, C_{k-1})."""
    return tuple(group.base_mul(a) for a in coefficients)


def evaluate(coefficients: Sequence[int], x: int) -> int:
    """f(x) mod L (V1), by Horner's rule. The coefficients are secret."""
    result = 0
    for a in reversed(coefficients):
        result = (result * x + a) % L
    return result


def share_point(commitments: Sequence[Point], j: int) -> Point:
    """f(j)·G from the commitments alone (V2), by Horner's rule."""
    result = IDENTITY
    for c in reversed(commitments):
        result = group.add(group.mul(j, result), c)
    return result


def share_matches(commitments: Sequence[Point], j: int, share: int) -> bool:
    """True if `share` is the dealer's f(j) (V2)."""
    return group.base_mul(share) == share_point(commitments, j)
