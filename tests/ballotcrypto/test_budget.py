"""The participatory-budget proof: the chosen costs within [floor, cap], by bits."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import budget, elgamal, nonnegative
from ballotcrypto.budget import BudgetProof
from ballotcrypto.errors import MalformedCrypto
from ballotcrypto.group import L
from tests.ballotcrypto.fixtures import Scalars, ballot_context, keypair, other_contexts

COSTS = (300, 200, 500, 100)
CAP = 800


def prove(selections: list[int], cap: int, floor: int, seed: int, costs=COSTS):  # type: ignore[no-untyped-def]
    scalars = Scalars(seed)
    key = keypair(scalars)
    randomness = scalars.many(len(selections))
    ciphertexts = [
        elgamal.encrypt(key.public, s, r) for s, r in zip(selections, randomness, strict=True)
    ]
    nonces = scalars.many(budget.nonce_count(costs, cap, floor))
    proof = budget.prove(
        ballot_context(), key.public, selections, randomness, costs, cap, floor, nonces
    )
    return key, ciphertexts, proof


@pytest.mark.parametrize(
    ("selections", "floor"),
    [([1, 0, 1, 0], 0), ([0, 0, 0, 0], 0), ([1, 1, 0, 1], 600), ([0, 1, 1, 1], 800)],
)
def test_a_selection_within_the_budget_verifies(selections: list[int], floor: int) -> None:
    key, ciphertexts, proof = prove(selections, CAP, floor, 1)
    assert budget.verify(ballot_context(), key.public, ciphertexts, COSTS, CAP, floor, proof)
    for where, other in other_contexts(ballot_context()).items():
        if where != "option":
            assert not budget.verify(other, key.public, ciphertexts, COSTS, CAP, floor, proof)


def test_a_selection_over_the_cap_or_under_the_floor_is_not_proven() -> None:
    with pytest.raises(ValueError, match="outside"):
        prove([1, 1, 1, 0], CAP, 0, 2)  # 1,000 > 800
    with pytest.raises(ValueError, match="outside"):
        prove([0, 0, 0, 1], CAP, 200, 2)  # 100 < 200


def test_a_proof_does_not_verify_for_another_selection_cap_floor_or_costs() -> None:
    key, ciphertexts, proof = prove([1, 0, 1, 0], CAP, 0, 3)
    context = ballot_context()
    over = list(ciphertexts)
    over[1] = elgamal.encrypt(key.public, 1, 12345)  # now 1,000: over the cap
    assert not budget.verify(context, key.public, over, COSTS, CAP, 0, proof)
    assert not budget.verify(context, key.public, ciphertexts, COSTS, CAP - 1, 0, proof)
    assert not budget.verify(context, key.public, ciphertexts, (300, 200, 400, 100), CAP, 0, proof)
    assert not budget.verify(context, key.public, ciphertexts, COSTS, CAP, 100, proof)


def test_every_altered_bit_ciphertext_or_bit_proof_fails() -> None:
    key, ciphertexts, proof = prove([1, 1, 0, 0], CAP, 0, 4)
    context = ballot_context()
    upper = proof.upper
    for k in range(len(upper.bits)):
        bits = list(upper.bits)
        bits[k] = elgamal.add(bits[k], elgamal.trivial(1))
        tampered = BudgetProof(dataclasses.replace(upper, bits=tuple(bits)), None)
        assert not budget.verify(context, key.public, ciphertexts, COSTS, CAP, 0, tampered)
        proofs = list(upper.proofs)
        (c, v), rest = proofs[k].branches[0], proofs[k].branches[1:]
        proofs[k] = dataclasses.replace(proofs[k], branches=((c, (v + 1) % L), *rest))
        tampered = BudgetProof(dataclasses.replace(upper, proofs=tuple(proofs)), None)
        assert not budget.verify(context, key.public, ciphertexts, COSTS, CAP, 0, tampered)


def test_bits_that_add_up_to_an_overspend_cannot_be_proven() -> None:
    """cap - T for T > cap is L - (T - cap): the bits of any n-bit value cannot match it,
    and a bit ciphertext of 2 is not a bit."""
    scalars = Scalars(5)
    key = keypair(scalars)
    context = ballot_context()
    overspend = -200 % L
    with pytest.raises(ValueError, match="does not fit"):
        nonnegative.prove(context, 0, key.public, overspend, scalars.one(), 10, scalars.many(39))
    target = elgamal.encrypt(key.public, overspend, scalars.one())
    honest_bits = nonnegative.prove(
        context, 0, key.public, 600, scalars.one(), 10, scalars.many(39)
    )
    assert not nonnegative.verify(context, 0, key.public, target, 10, honest_bits)


def test_the_lower_proof_is_required_exactly_when_there_is_a_floor() -> None:
    key, ciphertexts, proof = prove([1, 1, 0, 1], CAP, 600, 6)
    context = ballot_context()
    without_lower = BudgetProof(proof.upper, None)
    assert not budget.verify(context, key.public, ciphertexts, COSTS, CAP, 600, without_lower)
    with pytest.raises(MalformedCrypto, match="lower"):
        budget.decode_proof(proof.to_value(), COSTS, CAP, 0, "budget")
    with pytest.raises(MalformedCrypto):
        budget.decode_proof(without_lower.to_value(), COSTS, CAP, 600, "budget")
    decoded = budget.decode_proof(proof.to_value(), COSTS, CAP, 600, "budget")
    assert decoded == proof


def test_malformed_bit_proofs_are_refused() -> None:
    _, _, proof = prove([1, 0, 0, 0], CAP, 0, 7)
    value = proof.upper.to_value()
    with pytest.raises(MalformedCrypto, match="bit ciphertexts"):
        nonnegative.decode_proof([value[0][:-1], value[1]], len(proof.upper.bits), "u")
    with pytest.raises(MalformedCrypto, match="more than 64"):
        nonnegative.decode_proof(value, 65, "u")


@settings(max_examples=8, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=4),
    st.integers(min_value=0, max_value=2**32),
    st.data(),
)
def test_any_selection_within_any_budget_verifies(
    costs: list[int], seed: int, data: st.DataObject
) -> None:
    selections = data.draw(st.lists(st.integers(0, 1), min_size=len(costs), max_size=len(costs)))
    spent = sum(c * s for c, s in zip(costs, selections, strict=True))
    cap = data.draw(st.integers(min_value=spent, max_value=spent + 5000))
    floor = data.draw(st.integers(min_value=0, max_value=spent))
    key, ciphertexts, proof = prove(selections, cap, floor, seed, tuple(costs))
    assert budget.verify(ballot_context(), key.public, ciphertexts, costs, cap, floor, proof)
