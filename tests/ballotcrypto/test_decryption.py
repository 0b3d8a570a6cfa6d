"""Partial decryptions: their proofs, any k of them decrypt, k - 1 cannot, a wrong one
is named and the honest trustees still finish."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import decryption, elgamal, group
from ballotcrypto.decryption import PartialDecryption
from ballotcrypto.dlog import BoundedLog
from ballotcrypto.errors import InvalidDecryptionShare, NotEnoughShares
from chain.encoding import decode, encode
from chain.errors import DecodeError
from tests.ballotcrypto.fixtures import CHAIN_ID, POLL_ID, Scalars
from tests.ballotcrypto.trustees import Ceremony, run_ceremony

COUNTS = (3, 0, 7, 1)
TABLE = BoundedLog(100)


def encrypted_tally(ceremony: Ceremony, seed: int) -> list[elgamal.Ciphertext]:
    """Per option, the sum of COUNTS[i] encrypted ones and a few encrypted zeros."""
    scalars = Scalars(seed)
    tally = []
    for count in COUNTS:
        ones = [elgamal.encrypt(ceremony.public_key, 1, scalars.one()) for _ in range(count)]
        zeros = [elgamal.encrypt(ceremony.public_key, 0, scalars.one()) for _ in range(2)]
        tally.append(elgamal.total(ones + zeros))
    return tally


def partials(
    ceremony: Ceremony, tally: list[elgamal.Ciphertext], seed: int
) -> list[PartialDecryption]:
    scalars = Scalars(seed)
    return [
        decryption.partial_decrypt(CHAIN_ID, POLL_ID, j, share, tally, scalars.many(len(tally)))
        for j, share in ceremony.secret_shares.items()
    ]


@pytest.fixture(scope="module")
def ceremony() -> Ceremony:
    return run_ceremony(3, 5, seed=20)


def test_any_k_valid_partials_give_the_counts(ceremony: Ceremony) -> None:
    tally = encrypted_tally(ceremony, 1)
    all_partials = partials(ceremony, tally, 2)
    for partial in all_partials:
        decryption.validate_partial(
            CHAIN_ID, POLL_ID, ceremony.verification_keys[partial.trustee], tally, partial
        )
    for subset in itertools.combinations(all_partials, 3):
        points = decryption.combine(tally, list(subset), 3)
        assert tuple(TABLE.log(point) for point in points) == COUNTS


def test_k_minus_one_partials_do_not_decrypt(ceremony: Ceremony) -> None:
    tally = encrypted_tally(ceremony, 3)
    two = partials(ceremony, tally, 4)[:2]
    with pytest.raises(NotEnoughShares, match="2 valid partial decryptions, 3 needed"):
        decryption.combine(tally, two, 3)
    # Combining them as if 2 were enough gives no count at all.
    points = decryption.combine(tally, two, 2)
    assert all(point != group.base_mul(count) for point, count in zip(points, COUNTS, strict=True))
    outcome = decryption.tally(CHAIN_ID, POLL_ID, tally, two, ceremony.verification_keys, 3, TABLE)
    assert outcome.counts is None
    assert outcome.valid == (1, 2)


def test_a_wrong_partial_is_named_and_the_honest_trustees_finish(ceremony: Ceremony) -> None:
    tally = encrypted_tally(ceremony, 5)
    all_partials = partials(ceremony, tally, 6)
    wrong = all_partials[1]  # trustee 2 sends a share of another secret
    forged_share = group.add(wrong.shares[2], group.GENERATOR)
    cheat = dataclasses.replace(wrong, shares=(*wrong.shares[:2], forged_share, *wrong.shares[3:]))
    with pytest.raises(InvalidDecryptionShare, match="trustee 2: the proof of ciphertext 2"):
        decryption.validate_partial(CHAIN_ID, POLL_ID, ceremony.verification_keys[2], tally, cheat)
    outcome = decryption.tally(
        CHAIN_ID,
        POLL_ID,
        tally,
        [all_partials[0], cheat, all_partials[2], all_partials[3]],
        ceremony.verification_keys,
        3,
        TABLE,
    )
    assert outcome.counts == COUNTS
    assert outcome.valid == (1, 3, 4)
    assert [trustee for trustee, _ in outcome.rejected] == [2]


def test_a_partial_is_bound_to_its_trustee_poll_and_chain(ceremony: Ceremony) -> None:
    tally = encrypted_tally(ceremony, 7)
    partial = partials(ceremony, tally, 8)[0]
    keys = ceremony.verification_keys
    with pytest.raises(InvalidDecryptionShare):
        decryption.validate_partial(
            CHAIN_ID, POLL_ID, keys[1], tally, dataclasses.replace(partial, trustee=2)
        )
    with pytest.raises(InvalidDecryptionShare):
        decryption.validate_partial(CHAIN_ID, bytes(32), keys[1], tally, partial)
    with pytest.raises(InvalidDecryptionShare):
        decryption.validate_partial("another-chain", POLL_ID, keys[1], tally, partial)
    with pytest.raises(InvalidDecryptionShare, match="for 3 ciphertexts"):
        decryption.validate_partial(CHAIN_ID, POLL_ID, keys[1], tally[:3], partial)


def test_duplicates_and_strangers_are_rejected_by_name(ceremony: Ceremony) -> None:
    tally = encrypted_tally(ceremony, 9)
    all_partials = partials(ceremony, tally, 10)
    stranger = dataclasses.replace(all_partials[0], trustee=9)
    outcome = decryption.tally(
        CHAIN_ID,
        POLL_ID,
        tally,
        [all_partials[0], all_partials[0], stranger, *all_partials[2:4]],
        ceremony.verification_keys,
        3,
        TABLE,
    )
    assert outcome.counts == COUNTS
    assert [trustee for trustee, _ in outcome.rejected] == [1, 9]


def test_partial_decryptions_round_trip_and_refuse_malformed(ceremony: Ceremony) -> None:
    tally = encrypted_tally(ceremony, 11)
    partial = partials(ceremony, tally, 12)[0]
    assert PartialDecryption.from_value(decode(encode(partial.to_value()))) == partial
    value = partial.to_value()
    for bad, field in (
        ([0, value[1], value[2]], "trustee"),
        ([1, [b"\xff" * 32], value[2]], "shares"),
        ([1, value[1], [[bytes(32)]]], "proofs"),
        ([1, value[1]], "3 fields"),
    ):
        with pytest.raises(DecodeError, match=field):
            PartialDecryption.from_value(bad)


def test_lagrange_refuses_repeated_or_zero_indices() -> None:
    with pytest.raises(ValueError):
        decryption.lagrange_at_zero([1, 1, 2])
    with pytest.raises(ValueError):
        decryption.lagrange_at_zero([0, 1])


@settings(max_examples=6, deadline=None)
@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda k: st.tuples(st.just(k), st.integers(min_value=k, max_value=5))
    ),
    st.integers(min_value=0, max_value=2**32),
    st.data(),
)
def test_any_k_of_n_decrypt_and_no_k_minus_one_do(
    shape: tuple[int, int], seed: int, data: st.DataObject
) -> None:
    """Random k-of-n ceremonies: a random set of k trustees decrypts the counts; a random
    set of k - 1 cannot, even combined as if it were enough."""
    threshold, trustees = shape
    ceremony = run_ceremony(threshold, trustees, seed)
    tally = encrypted_tally(ceremony, seed + 1)
    everyone = partials(ceremony, tally, seed + 2)
    chosen = data.draw(
        st.lists(
            st.sampled_from(everyone),
            min_size=threshold,
            max_size=threshold,
            unique_by=lambda p: p.trustee,
        )
    )
    outcome = decryption.tally(
        CHAIN_ID, POLL_ID, tally, chosen, ceremony.verification_keys, threshold, TABLE
    )
    assert outcome.counts == COUNTS
    if threshold > 1:
        fewer = chosen[: threshold - 1]
        assert (
            decryption.tally(
                CHAIN_ID, POLL_ID, tally, fewer, ceremony.verification_keys, threshold, TABLE
            ).counts
            is None
        )
        points = decryption.combine(tally, fewer, threshold - 1)
        assert points[0] != group.base_mul(COUNTS[0])
