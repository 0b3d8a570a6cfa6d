"""Stateless checks outside the decoders, and the words of their refusals: a transaction's
key and signature lengths, a validator set, a certificate's subject, a Merkle proof's
shape, an overlay after commit (chain/tx.py, certificate.py, merkle.py, state.py).

Each of these was left unheld by the mutation run of chain/ (docs/mutation-survivors.md):
`or` read as `and` in a length check, index 0 of a proof refused, an overlay unusable
after it committed, or a message a person reads losing the fact it names.
"""

from __future__ import annotations

import pytest

from chain.certificate import CommitCertificate, ValidatorSet
from chain.errors import InvalidCertificate, InvalidProof, InvalidTransaction
from chain.keys import PrivateKey
from chain.merkle import MerkleProof, check_proof_shape, merkle_proof
from chain.state import MemoryState, OverlayState
from chain.tx import Transaction

KEY = PrivateKey.from_seed(bytes(32))


def transaction(signer: bytes, signature: bytes) -> Transaction:
    return Transaction(1, "c", "test", signer, 0, b"", signature)


@pytest.mark.parametrize(
    ("signer_bytes", "signature_bytes"),
    [(31, 64), (33, 64), (32, 63), (32, 65)],
)
def test_a_transaction_with_a_key_or_signature_of_the_wrong_length_is_refused(
    signer_bytes: int, signature_bytes: int
) -> None:
    tx = transaction(bytes(signer_bytes), bytes(signature_bytes))
    with pytest.raises(InvalidTransaction) as refused:
        tx.validate_basic()
    assert str(refused.value) == "signer or signature has the wrong length"


def test_a_transaction_with_both_lengths_right_passes_its_stateless_check() -> None:
    transaction(bytes(32), bytes(64)).validate_basic()


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ((), "a validator set needs at least one validator"),
        ((KEY.public_key, KEY.public_key), "a validator set lists a key twice"),
    ],
)
def test_a_validator_set_refuses_no_keys_and_a_key_twice_saying_which(
    keys: tuple[bytes, ...], message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        ValidatorSet(keys)
    assert str(refused.value) == message


def test_a_certificate_refusal_names_the_height_it_was_for() -> None:
    certificate = CommitCertificate.sign([KEY], "chain-a", 0, 7, bytes(32))
    with pytest.raises(InvalidCertificate) as refused:
        certificate.verify(ValidatorSet((KEY.public_key,)), chain_id="chain-b")
    assert str(refused.value) == (
        "certificate for height 7 is for chain 'chain-a', expected 'chain-b'"
    )


@pytest.mark.parametrize(("index", "leaf_count"), [(0, 1), (0, 3), (2, 3)])
def test_every_leaf_index_inside_the_tree_has_a_valid_shape(index: int, leaf_count: int) -> None:
    check_proof_shape(MerkleProof(index, leaf_count, ()))


def test_a_leaf_index_outside_the_tree_is_refused_naming_both() -> None:
    with pytest.raises(InvalidProof) as refused:
        check_proof_shape(MerkleProof(3, 3, ()))
    assert str(refused.value) == "leaf index 3 outside a tree of 3"
    with pytest.raises(IndexError) as no_proof:
        merkle_proof([b"a", b"b", b"c"], 3)
    assert str(no_proof.value) == "leaf 3 is outside a tree of 3 leaves"


def test_a_committed_overlay_is_empty_and_reads_through_to_its_base() -> None:
    """The state machine may keep using a transaction's overlay after it committed."""
    block = OverlayState(MemoryState({b"k": b"old"}))
    child = block.child()
    child.set(b"k", b"new")
    child.commit()
    assert child.write_set() == []
    assert child.get(b"k") == b"new"
    assert list(child.items(b"")) == [(b"k", b"new")]
    child.set(b"j", b"1")
    child.commit()
    assert block.write_set() == [(b"j", b"1"), (b"k", b"new")]


def test_commit_onto_a_plain_state_is_refused_saying_why() -> None:
    with pytest.raises(TypeError) as refused:
        OverlayState(MemoryState()).commit()
    assert str(refused.value) == "commit() needs an OverlayState underneath"
