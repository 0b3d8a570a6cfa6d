"""Proof that a participatory budget's chosen projects cost at most the cap (and, when
the poll sets one, at least its minimum spend).

With option ciphertexts E_i = Enc(s_i; r_i) already proven 0/1 (zero_one.py) and public
costs w_i ≥ 0, the weighted sum

    W = Σ_i w_i·E_i = Enc(T; Σ_i w_i·r_i),  T = Σ_i w_i·s_i                    (B1)

is computed by anyone (E3). Then

    U = Enc(cap; 0) - W   encrypts cap - T with randomness -Σ w_i·r_i           (B2)
    F = W - Enc(floor; 0) encrypts T - floor with randomness Σ w_i·r_i          (B3)

and nonnegative.py proves U holds a value in [0, 2^n_U), n_U = bits of cap (offset 0),
and, if floor > 0, F one in [0, 2^n_F), n_F = bits of (Σ w_i - floor) (offset 0x100).
Since 0 ≤ T ≤ Σ w_i ≪ L, cap - T ∈ [0, 2^n_U) means T ≤ cap: a T above the cap makes
cap - T ≡ L - (T - cap), far above 2^n_U. The proof costs about n 0/1 proofs; the
rules use costs, cap and floor as they are (no division by a common factor), so an
organiser states them in a coarse unit. See ADR 009.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ballotcrypto import elgamal, nonnegative
from ballotcrypto.context import BallotContext
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.errors import MalformedCrypto
from ballotcrypto.group import L, Point
from ballotcrypto.nonnegative import BitsProof
from chain.encoding import Value

UPPER_OFFSET = 0
LOWER_OFFSET = 0x100


@dataclass(frozen=True, slots=True)
class BudgetProof:
    upper: BitsProof
    lower: BitsProof | None

    def to_value(self) -> list[Value]:
        return [self.upper.to_value(), None if self.lower is None else self.lower.to_value()]


def upper_bits(cap: int) -> int:
    return nonnegative.bit_count(cap)


def lower_bits(costs: Sequence[int], floor: int) -> int:
    """0 when there is no minimum spend."""
    return 0 if floor == 0 else nonnegative.bit_count(max(sum(costs) - floor, 0))


def nonce_count(costs: Sequence[int], cap: int, floor: int = 0) -> int:
    lower = lower_bits(costs, floor)
    return nonnegative.nonce_count(upper_bits(cap)) + (
        nonnegative.nonce_count(lower) if lower else 0
    )


def weighted_total(ciphertexts: Sequence[Ciphertext], costs: Sequence[int]) -> Ciphertext:
    """W of (B1)."""
    if len(ciphertexts) != len(costs):
        raise ValueError(f"{len(ciphertexts)} ciphertexts for {len(costs)} costs")
    return elgamal.total(elgamal.scale(w, ct) for w, ct in zip(costs, ciphertexts, strict=True))


def prove(
    context: BallotContext,
    public_key: Point,
    selections: Sequence[int],
    randomness: Sequence[int],
    costs: Sequence[int],
    cap: int,
    floor: int,
    nonces: Sequence[int],
) -> BudgetProof:
    """The proof for options chosen as `selections` (0/1) encrypted with `randomness`."""
    _check_terms(costs, cap, floor)
    if len(nonces) != nonce_count(costs, cap, floor):
        raise ValueError(f"expected {nonce_count(costs, cap, floor)} nonces, got {len(nonces)}")
    spent = sum(w * s for w, s in zip(costs, selections, strict=True))
    if not floor <= spent <= cap:
        raise ValueError(f"the selection costs {spent}, outside [{floor}, {cap}]")
    rho_w = sum(w * r for w, r in zip(costs, randomness, strict=True)) % L
    n_upper = upper_bits(cap)
    split = nonnegative.nonce_count(n_upper)
    upper = nonnegative.prove(
        context, UPPER_OFFSET, public_key, cap - spent, -rho_w % L, n_upper, nonces[:split]
    )
    lower = None
    if floor:
        n_lower = lower_bits(costs, floor)
        lower = nonnegative.prove(
            context, LOWER_OFFSET, public_key, spent - floor, rho_w, n_lower, nonces[split:]
        )
    return BudgetProof(upper, lower)


def verify(
    context: BallotContext,
    public_key: Point,
    ciphertexts: Sequence[Ciphertext],
    costs: Sequence[int],
    cap: int,
    floor: int,
    proof: BudgetProof,
) -> bool:
    _check_terms(costs, cap, floor)
    weighted = weighted_total(ciphertexts, costs)
    upper_target = elgamal.sub(elgamal.trivial(cap), weighted)  # (B2)
    if not nonnegative.verify(
        context, UPPER_OFFSET, public_key, upper_target, upper_bits(cap), proof.upper
    ):
        return False
    if floor == 0:
        return proof.lower is None
    if proof.lower is None:
        return False
    lower_target = elgamal.sub(weighted, elgamal.trivial(floor))  # (B3)
    return nonnegative.verify(
        context, LOWER_OFFSET, public_key, lower_target, lower_bits(costs, floor), proof.lower
    )


def decode_proof(value: Any, costs: Sequence[int], cap: int, floor: int, what: str) -> BudgetProof:
    if not isinstance(value, list) or len(value) != 2:
        raise MalformedCrypto(f"{what}: expected [upper, lower]")
    upper = nonnegative.decode_proof(value[0], upper_bits(cap), f"{what}.upper")
    if floor == 0:
        if value[1] is not None:
            raise MalformedCrypto(f"{what}.lower: must be nil without a minimum spend")
        return BudgetProof(upper, None)
    lower = nonnegative.decode_proof(value[1], lower_bits(costs, floor), f"{what}.lower")
    return BudgetProof(upper, lower)


def _check_terms(costs: Sequence[int], cap: int, floor: int) -> None:
    if any(w < 0 for w in costs) or cap < 0 or not 0 <= floor <= cap:
        raise ValueError(f"costs {list(costs)}, cap {cap}, floor {floor}: not a budget")
    if sum(costs) >= 2**nonnegative.MAX_BITS:
        raise ValueError("the costs add up to 2^64 or more")
