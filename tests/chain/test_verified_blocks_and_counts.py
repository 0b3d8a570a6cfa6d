"""Block validation through a node's VerifiedTransactions, and the counts it reports
(chain/verified.py, Block.verify_signatures; issue 13).

The counts feed votechain_signature_checks_total: an operator reads from them whether
signatures are checked once per node. The mutation run of chain/ found unheld: a block's
transactions checked through the set under another label or for no chain id, a second
hit or a second eviction not counted, and a set of capacity 1 refused.
"""

from __future__ import annotations

import dataclasses

import pytest

from chain.block import BLOCK_CHECKS_WHERE, Block, make_header
from chain.errors import InvalidBlock
from chain.keys import PrivateKey
from chain.tx import Transaction
from chain.verified import VerifiedTransactions

CHAIN_ID = "verified-blocks"
KEY = PrivateKey.from_seed(bytes(range(32, 64)))


def make_txs(count: int, chain_id: str = CHAIN_ID) -> list[Transaction]:
    return [Transaction.create(KEY, chain_id, "noop", b"body", nonce) for nonce in range(count)]


def block_of(transactions: list[Transaction]) -> Block:
    txs = tuple(transactions)
    header = make_header(CHAIN_ID, 1, 0, bytes(32), txs, bytes(32), bytes(32), KEY.public_key)
    return Block(header, txs)


def test_a_blocks_transactions_are_checked_once_through_the_nodes_set() -> None:
    txs = make_txs(3)
    verified = VerifiedTransactions()
    verified.verify(txs[0], CHAIN_ID, "mempool")
    block_of(txs).verify_signatures(verified)
    assert verified.checks == {"mempool": 1, BLOCK_CHECKS_WHERE: 2}
    assert verified.hits == {BLOCK_CHECKS_WHERE: 1}
    block_of(txs).verify_signatures(verified)  # every one a hit now
    assert verified.hits == {BLOCK_CHECKS_WHERE: 4}
    assert BLOCK_CHECKS_WHERE == "block"


def test_a_block_refuses_through_the_set_what_it_refuses_without_it() -> None:
    good = make_txs(2)
    forged = dataclasses.replace(good[1], signature=bytes(64))
    other_chain = make_txs(1, chain_id="another-chain")[0]
    for position, bad in ((1, forged), (0, other_chain)):
        transactions = [bad, good[0]] if position == 0 else [good[0], bad]
        for verified in (None, VerifiedTransactions()):
            with pytest.raises(InvalidBlock, match=f"block 1, transaction {position}: "):
                block_of(transactions).verify_signatures(verified)


def test_each_eviction_is_counted_and_a_set_of_one_works() -> None:
    txs = make_txs(3)
    verified = VerifiedTransactions(capacity_txs=1)
    for tx in txs:
        verified.verify(tx, CHAIN_ID, "request")
    assert verified.evictions == 2
    assert len(verified) == 1 and txs[2].tx_id in verified


def test_a_set_that_could_hold_nothing_is_refused_saying_why() -> None:
    with pytest.raises(ValueError) as refused:
        VerifiedTransactions(capacity_txs=0)
    assert str(refused.value) == "capacity_txs must be at least 1"
