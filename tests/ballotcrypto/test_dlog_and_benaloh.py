"""The bounded discrete log of a tally, and the voter's Benaloh audit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import benaloh, elgamal, group
from ballotcrypto.dlog import BoundedLog
from ballotcrypto.errors import OutOfRange
from tests.ballotcrypto.fixtures import Scalars, keypair

TABLE = BoundedLog(100_000)


@pytest.mark.parametrize("m", [0, 1, 2, 315, 316, 317, 318, 99_999, 100_000])
def test_every_value_up_to_the_bound_is_found(m: int) -> None:
    assert TABLE.log(group.base_mul(m)) == m


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=100_000))
def test_any_value_up_to_the_bound_is_found(m: int) -> None:
    assert TABLE.log(group.base_mul(m)) == m


@pytest.mark.parametrize("m", [100_001, 10**9, group.L - 1])
def test_a_value_above_the_bound_is_refused(m: int) -> None:
    with pytest.raises(OutOfRange, match="100000"):
        TABLE.log(group.base_mul(m))


@pytest.mark.parametrize("maximum", [0, 1, 2, 3, 4, 15, 16, 17])
def test_small_bounds_find_exactly_their_values(maximum: int) -> None:
    table = BoundedLog(maximum)
    for m in range(maximum + 1):
        assert table.log(group.base_mul(m)) == m
    with pytest.raises(OutOfRange):
        table.log(group.base_mul(maximum + 1))


def test_an_honest_booth_passes_the_audit() -> None:
    scalars = Scalars(1)
    key = keypair(scalars)
    selections = [0, 1, 0, 0]
    randomness = scalars.many(4)
    ciphertexts = [
        elgamal.encrypt(key.public, s, r) for s, r in zip(selections, randomness, strict=True)
    ]
    assert benaloh.mismatched_options(key.public, ciphertexts, selections, randomness) == []


def test_a_booth_that_encrypted_another_choice_is_caught_on_those_options() -> None:
    scalars = Scalars(2)
    key = keypair(scalars)
    randomness = scalars.many(4)
    encrypted = [1, 0, 0, 0]  # what the booth encrypted
    claimed = [0, 1, 0, 0]  # what it shows the voter
    ciphertexts = [
        elgamal.encrypt(key.public, s, r) for s, r in zip(encrypted, randomness, strict=True)
    ]
    assert benaloh.mismatched_options(key.public, ciphertexts, claimed, randomness) == [0, 1]
    wrong_randomness = [randomness[0], randomness[1] + 1, *randomness[2:]]
    assert benaloh.mismatched_options(key.public, ciphertexts, encrypted, wrong_randomness) == [1]
    assert benaloh.mismatched_options(
        keypair(scalars).public, ciphertexts, encrypted, randomness
    ) == [0, 1, 2, 3]
    assert benaloh.mismatched_options(key.public, ciphertexts, encrypted[:3], randomness) == [
        0,
        1,
        2,
        3,
    ]
    assert benaloh.mismatched_options(key.public, ciphertexts, [2, 0, 0, 0], randomness) == [0]
