"""apply_transaction / execute_block: receipts, refusals that write nothing, determinism."""

from __future__ import annotations

import pytest

from chain import encoding
from chain.errors import DecodeError
from chain.merkle import merkle_root
from chain.state import MemoryState, OverlayState
from votingcontract import (
    BlockContext,
    CastBallot,
    Receipt,
    apply_transaction,
    describe,
    execute_block,
    genesis_writes,
)
from votingcontract.reasons import ACCEPTED, DESCRIPTIONS, ReasonCode

from .helpers import Harness, make_genesis, policy_poll

R = ReasonCode


def test_genesis_writes_are_sorted_and_name_admins_and_attesters() -> None:
    genesis = make_genesis()
    writes = genesis_writes(genesis)
    assert writes == sorted(writes)
    assert len(writes) == len(genesis.admins) + len(genesis.attesters)


def test_unknown_kind_gets_a_receipt_and_writes_nothing() -> None:
    h = Harness.create()
    tx = h.sign_raw(h.admin, "mint_tokens", encoding.encode([1]))
    context = BlockContext(h.chain_id, 1, h.now_ms)
    receipts, writes = execute_block(h.state, context, [tx])
    assert receipts == [Receipt(tx.tx_id, 0, R.UNKNOWN_KIND.value)]
    assert writes == []


@pytest.mark.parametrize(
    "body",
    [b"", b"\xc1", encoding.encode([1, 2]), encoding.encode(["seoul", "n", "city_department", []])],
)
def test_malformed_body_gets_a_receipt_and_writes_nothing(body: bytes) -> None:
    h = Harness.create()
    tx = h.sign_raw(h.admin, "register_org", body)
    receipts, writes = execute_block(h.state, BlockContext(h.chain_id, 1, h.now_ms), [tx])
    assert receipts[0].code == R.MALFORMED_BODY
    assert writes == []


def test_receipt_names_the_poll_of_a_refused_ballot_and_of_a_new_poll() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    create = h.sign(org, policy_poll("seoul-city", h.now_ms))
    (created,) = h.execute([create])
    assert created.poll_id == create.tx_id
    refused = h.submit(org, CastBallot(create.tx_id, ((0,),)))
    assert refused.code == R.NOT_ENROLLED and refused.poll_id == create.tx_id
    failed_create = h.submit(org, policy_poll("nowhere", h.now_ms))
    assert failed_create.poll_id is None


def test_apply_transaction_commits_only_accepted_transactions() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    block = OverlayState(h.state)
    context = BlockContext(h.chain_id, 9, h.now_ms)
    bad = h.sign(org, policy_poll("nowhere", h.now_ms))
    assert apply_transaction(block, context, bad, 0).code == R.UNKNOWN_ORG
    assert block.write_set() == []
    good = h.sign(org, policy_poll("seoul-city", h.now_ms))
    assert apply_transaction(block, context, good, 1).code == ACCEPTED
    assert block.get(b"poll/" + good.tx_id) is not None


def test_later_transactions_in_a_block_see_earlier_ones() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    voter = h.enroll("alice")
    create = h.sign(org, policy_poll("seoul-city", h.now_ms))
    vote = h.sign(voter, CastBallot(create.tx_id, ((1,),)))
    receipts = h.execute([vote, create, h.sign(voter, CastBallot(create.tx_id, ((1,),)))])
    assert [r.code for r in receipts] == [R.UNKNOWN_POLL, ACCEPTED, ACCEPTED]
    assert [r.position for r in receipts] == [0, 1, 2]


def test_execute_block_does_not_modify_its_input_state() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    snapshot = dict(h.state.items(b""))
    tx = h.sign(org, policy_poll("seoul-city", h.now_ms))
    _, writes = execute_block(h.state, BlockContext(h.chain_id, 5, h.now_ms), [tx])
    assert writes and dict(h.state.items(b"")) == snapshot
    assert writes == sorted(writes, key=lambda kv: kv[0])


def test_receipts_are_canonical_and_decode_strictly() -> None:
    receipt = Receipt(b"\x01" * 32, 3, "accepted", b"\x02" * 32)
    assert Receipt.decode(receipt.encode()) == receipt
    plain = Receipt(b"\x01" * 32, 0, R.DUPLICATE.value)
    assert Receipt.decode(plain.encode()) == plain
    assert merkle_root([receipt.encode(), plain.encode()]) != merkle_root([plain.encode()])
    with pytest.raises(DecodeError, match="unknown code"):
        Receipt.decode(encoding.encode([b"\x01" * 32, 0, "maybe", None]))
    with pytest.raises(DecodeError):
        Receipt.decode(encoding.encode([b"\x01" * 32, 0, "accepted"]))
    assert receipt.to_dict()["description"] == "the transaction was accepted"


def test_every_reason_code_has_a_description() -> None:
    assert set(DESCRIPTIONS) == set(ReasonCode)
    for code in ReasonCode:
        assert code.description and "\n" not in code.description
        assert describe(code.value) == code.description
    assert describe("no_such_code") == "unknown code 'no_such_code'"


def test_same_block_twice_gives_the_same_receipts_and_writes() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    voter = h.enroll("alice")
    create = h.sign(org, policy_poll("seoul-city", h.now_ms))
    block = [create, h.sign(voter, CastBallot(create.tx_id, ((0,),)))]
    context = BlockContext(h.chain_id, 5, h.now_ms)
    base = dict(h.state.items(b""))
    first = execute_block(MemoryState(base), context, block)
    second = execute_block(MemoryState(base), context, block)
    assert first == second
    assert [r.encode() for r in first[0]] == [r.encode() for r in second[0]]
