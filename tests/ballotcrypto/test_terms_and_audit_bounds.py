"""The budget's terms and the Benaloh audit at their bounds (issue 12's mutation sample of
ballotcrypto/ left each of these untested)."""

from __future__ import annotations

import re

import pytest

from ballotcrypto import benaloh, budget, elgamal
from ballotcrypto.group import L
from tests.ballotcrypto.fixtures import Scalars, ballot_context, keypair

COSTS = (300, 200, 500)


@pytest.mark.parametrize(
    ("cap", "floor"),
    [(800, 801), (800, -1), (-1, 0)],
    ids=["floor above the cap", "negative floor", "negative cap"],
)
def test_a_budget_whose_floor_is_outside_zero_to_cap_is_refused(cap: int, floor: int) -> None:
    """PROTOCOL.md 15: a budget is 0 <= floor <= cap. Terms outside that are not a budget,
    for the voter proving and for the validator checking alike."""
    scalars = Scalars(5)
    key = keypair(scalars)
    selections = [1, 0, 0]
    randomness = scalars.many(3)
    ciphertexts = [
        elgamal.encrypt(key.public, s, r) for s, r in zip(selections, randomness, strict=True)
    ]
    honest = budget.prove(
        ballot_context(),
        key.public,
        selections,
        randomness,
        COSTS,
        800,
        0,
        scalars.many(budget.nonce_count(COSTS, 800, 0)),
    )
    expected = re.escape(f"costs {list(COSTS)}, cap {cap}, floor {floor}: not a budget")
    with pytest.raises(ValueError, match=expected):
        budget.verify(ballot_context(), key.public, ciphertexts, COSTS, cap, floor, honest)
    with pytest.raises(ValueError, match=expected):
        budget.prove(
            ballot_context(), key.public, selections, randomness, COSTS, cap, floor, [1] * 200
        )


def test_the_audit_takes_randomness_up_to_l_minus_1_and_names_an_option_opened_with_l() -> None:
    """Enc(s; r) needs 0 < r < L. r = L is r = 0 in the group: (O, s·G), the selection in
    clear. A booth showing r = L for that ciphertext is caught, not let through."""
    key = keypair(Scalars(6))
    top = elgamal.encrypt(key.public, 1, L - 1)
    assert benaloh.mismatched_options(key.public, [top], [1], [L - 1]) == []
    in_clear = elgamal.trivial(1)
    assert elgamal.encrypt(key.public, 1, L) == in_clear  # what a check without the bound sees
    assert benaloh.mismatched_options(key.public, [in_clear], [1], [L]) == [0]
    assert benaloh.mismatched_options(key.public, [in_clear], [1], [0]) == [0]


def test_a_cap_of_1_or_a_spread_of_0_takes_one_bit_as_protocol_15_says() -> None:
    """PROTOCOL.md 15: n_U = max(1, bitlen(cap)); an outside verifier expects exactly
    that many bit ciphertexts, so the count is part of the format."""
    assert [budget.upper_bits(cap) for cap in (1, 2, 3, 4, 255, 256)] == [1, 2, 2, 3, 8, 9]
    assert budget.lower_bits((3, 2), 5) == 1  # spread 0: still one bit
    assert budget.lower_bits((3, 2), 0) == 0  # no minimum spend: no lower proof
