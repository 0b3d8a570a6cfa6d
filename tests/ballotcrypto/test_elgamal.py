"""Exponential ElGamal: decryption, homomorphic sums, differences and multiples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import elgamal, group
from ballotcrypto.dlog import BoundedLog
from ballotcrypto.errors import MalformedCrypto
from tests.ballotcrypto.fixtures import Scalars, keypair

TABLE = BoundedLog(1000)
small = st.integers(min_value=0, max_value=30)
seeds = st.integers(min_value=0, max_value=2**32)


def decrypt(secret: int, ciphertext: elgamal.Ciphertext) -> int:
    return TABLE.log(elgamal.decrypt_to_point(secret, ciphertext))


@settings(max_examples=25, deadline=None)
@given(small, small, small, seeds)
def test_sums_differences_and_multiples_decrypt_to_the_same_arithmetic(
    a: int, b: int, k: int, seed: int
) -> None:
    scalars = Scalars(seed)
    key = keypair(scalars)
    ea = elgamal.encrypt(key.public, a, scalars.one())
    eb = elgamal.encrypt(key.public, b, scalars.one())
    assert decrypt(key.secret, ea) == a
    assert decrypt(key.secret, elgamal.add(ea, eb)) == a + b
    assert decrypt(key.secret, elgamal.sub(elgamal.add(ea, eb), eb)) == a
    assert decrypt(key.secret, elgamal.scale(k, ea)) == k * a
    assert decrypt(key.secret, elgamal.total([ea, eb, ea])) == 2 * a + b


def test_the_empty_sum_is_zero_and_decrypts_to_zero() -> None:
    key = keypair(Scalars(1))
    assert elgamal.total([]) == elgamal.ZERO
    assert decrypt(key.secret, elgamal.ZERO) == 0


def test_a_wrong_key_does_not_decrypt() -> None:
    scalars = Scalars(2)
    key = keypair(scalars)
    ciphertext = elgamal.encrypt(key.public, 3, scalars.one())
    assert elgamal.decrypt_to_point(key.secret + 1, ciphertext) != group.base_mul(3)


def test_encryption_is_randomised_by_the_callers_scalar() -> None:
    scalars = Scalars(3)
    key = keypair(scalars)
    r = scalars.one()
    assert elgamal.encrypt(key.public, 1, r) == elgamal.encrypt(key.public, 1, r)
    assert elgamal.encrypt(key.public, 1, r) != elgamal.encrypt(key.public, 1, r + 1)


def test_ciphertext_encoding_round_trips_and_refuses_malformed() -> None:
    scalars = Scalars(4)
    key = keypair(scalars)
    ciphertext = elgamal.encrypt(key.public, 1, scalars.one())
    assert elgamal.decode_ciphertext(ciphertext.to_value(), "c", fresh=True) == ciphertext
    for bad in ([], [ciphertext.alpha.encoding], b"x", [b"\xff" * 32, ciphertext.beta.encoding]):
        with pytest.raises(MalformedCrypto):
            elgamal.decode_ciphertext(bad, "c")


def test_a_fresh_ciphertext_with_zero_randomness_is_refused() -> None:
    """alpha = O would mean r = 0: the choice in clear."""
    key = keypair(Scalars(5))
    exposed = elgamal.encrypt(key.public, 1, 0)
    with pytest.raises(MalformedCrypto, match="identity"):
        elgamal.decode_ciphertext(exposed.to_value(), "c", fresh=True)
    assert elgamal.decode_ciphertext(exposed.to_value(), "c") == exposed
