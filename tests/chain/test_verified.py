"""chain.verified: a checked tx_id skips its signature check, nothing else ever does."""

from __future__ import annotations

import dataclasses

import pytest

from chain.errors import InvalidTransaction
from chain.keys import PrivateKey
from chain.tx import Transaction
from chain.verified import VerifiedTransactions

CHAIN_ID = "verified-test"
KEY = PrivateKey.from_seed(bytes(range(32)))


def make_txs(count: int) -> list[Transaction]:
    return [Transaction.create(KEY, CHAIN_ID, "noop", b"body", nonce) for nonce in range(count)]


def test_a_checked_transaction_is_not_checked_again() -> None:
    tx = make_txs(1)[0]
    verified = VerifiedTransactions()
    verified.verify(tx, CHAIN_ID, "mempool")
    verified.verify(Transaction.decode(tx.encode()), CHAIN_ID, "block")  # same bytes
    assert verified.checks == {"mempool": 1} and verified.hits == {"block": 1}


def test_eviction_costs_a_check_again() -> None:
    txs = make_txs(3)
    verified = VerifiedTransactions(capacity_txs=2)
    for tx in txs:
        verified.verify(tx, CHAIN_ID, "test")
    assert len(verified) == 2 and verified.evictions == 1 and txs[0].tx_id not in verified
    verified.verify(txs[1], CHAIN_ID, "test")  # a hit makes txs[1] the most recent ...
    verified.verify(txs[0], CHAIN_ID, "test")  # ... so txs[2] goes when txs[0] comes back
    assert verified.checks == {"test": 4} and verified.hits == {"test": 1}
    assert txs[1].tx_id in verified and txs[2].tx_id not in verified


def test_other_bytes_under_a_checked_signer_and_body_are_checked_on_their_own() -> None:
    """A forged signature on a checked transaction's envelope has another tx_id, so it is
    checked, refused, and not remembered; a refusal is checked again every time."""
    tx = make_txs(1)[0]
    verified = VerifiedTransactions()
    verified.verify(tx, CHAIN_ID, "test")
    forged = dataclasses.replace(tx, signature=bytes(64))
    for _ in range(2):
        with pytest.raises(InvalidTransaction, match="bad signature"):
            verified.verify(forged, CHAIN_ID, "test")
    assert forged.tx_id not in verified and verified.checks == {"test": 3}


def test_the_chain_id_is_checked_on_a_hit() -> None:
    tx = make_txs(1)[0]
    verified = VerifiedTransactions()
    verified.verify(tx, CHAIN_ID, "test")
    with pytest.raises(InvalidTransaction, match="wrong chain id"):
        verified.verify(tx, "another-chain", "test")
    with pytest.raises(ValueError):
        VerifiedTransactions(capacity_txs=0)
