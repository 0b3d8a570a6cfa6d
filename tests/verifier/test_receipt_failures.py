"""What `votechain receipt verify` tells a citizen or auditor when a receipt fails
(PROTOCOL.md 14.3): the check number, the height and the words, for every forged receipt
of forge_receipts.py and every malformed field. The vectors' manifest holds only the
check number; issue 12's mutation testing found the height, the object and the reason
of most failures free to change (or to be None) with no test noticing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import votingcontract
from chain.tx import Transaction
from tests.verifier import forge_receipts
from tests.verifier.forge import base
from tests.verifier.forge_receipts import RECEIPT_HEIGHT, RECEIPT_POSITION, receipt_document
from verifier.errors import VerificationFailure
from verifier.receipts import verify_receipt
from verifier.rules import short

NEXT = RECEIPT_HEIGHT + 1


def _failure(document: dict[str, Any], pin_genesis: bool = True) -> VerificationFailure:
    with pytest.raises(VerificationFailure) as caught:
        verify_receipt(document, base().genesis if pin_genesis else None)
    return caught.value


def _shown(failure: VerificationFailure) -> tuple[int | None, str, str, int | None]:
    return failure.height, failure.subject, failure.reason, failure.rule


def _tx_id(document: dict[str, Any]) -> bytes:
    return Transaction.decode(bytes.fromhex(document["tx"])).tx_id


def _expected(name: str, document: dict[str, Any]) -> tuple[int | None, str, str, int]:
    """The failure of forged case `name`, as PROTOCOL.md 14.3 names it."""
    tx_id = _tx_id(document)
    chain_id = base().genesis.chain_id
    real_hash = base().genesis.genesis_hash.hex()
    their_hash = forge_receipts._attackers_genesis()[0].genesis_hash.hex()
    undecodable = "does not decode: not valid msgpack: Unpack failed: incomplete input"
    neighbour = receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION + 1)
    return {
        "check-1-fake-chain": (
            None,
            "the given genesis",
            f"hashes to {real_hash}, but the receipt is for genesis {their_hash}",
            1,
        ),
        "check-1-genesis-swapped": (
            None,
            "the receipt's genesis",
            f"hashes to {their_hash}, but the receipt is for genesis {real_hash}",
            1,
        ),
        "check-2-tx-id": (
            RECEIPT_HEIGHT,
            "transaction",
            f"hashes to {tx_id.hex()}, not the receipt's tx_id {neighbour['tx_id']}",
            2,
        ),
        "check-2-signature": (
            RECEIPT_HEIGHT,
            f"transaction {short(tx_id)}",
            f"bad signature on transaction {tx_id.hex()}",
            2,
        ),
        "check-3-header-height": (
            RECEIPT_HEIGHT,
            f"header of block {RECEIPT_HEIGHT}",
            f"is for chain {chain_id!r} at height {NEXT}",
            3,
        ),
        "check-3-header-undecodable": (RECEIPT_HEIGHT, "the receipt's header", undecodable, 3),
        "check-4-not-in-block": (
            RECEIPT_HEIGHT,
            f"transaction {short(tx_id)}",
            f"is not at position {RECEIPT_POSITION} of block {RECEIPT_HEIGHT}: its Merkle "
            "proof does not lead to the header's tx_root",
            4,
        ),
        "check-4-position": (
            RECEIPT_HEIGHT,
            f"transaction {short(tx_id)}",
            f"is not at position {RECEIPT_POSITION + 2} of block {RECEIPT_HEIGHT}: its Merkle "
            "proof does not lead to the header's tx_root",
            4,
        ),
        "check-5-short-of-quorum": (
            RECEIPT_HEIGHT,
            f"certificate for height {RECEIPT_HEIGHT}",
            "has 2 valid signatures, needs 3",
            5,
        ),
        "check-5-other-block": (
            RECEIPT_HEIGHT,
            f"certificate for height {RECEIPT_HEIGHT}",
            f"says height {RECEIPT_HEIGHT - 1}",
            5,
        ),
        "check-5-certificate-undecodable": (
            RECEIPT_HEIGHT,
            f"certificate for height {RECEIPT_HEIGHT}",
            undecodable,
            5,
        ),
        "check-5-non-validators": (
            RECEIPT_HEIGHT,
            f"certificate for height {RECEIPT_HEIGHT}",
            f"is signed by {forge_receipts._attackers_genesis()[1][0].public_key.hex()[:16]}…, "
            "not a validator",
            5,
        ),
        "check-6-other-receipt": (
            RECEIPT_HEIGHT,
            "receipt",
            f"is for tx {short(_tx_id(neighbour))} at position {RECEIPT_POSITION + 1}, "
            "not this one",
            6,
        ),
        "check-6-receipt-undecodable": (RECEIPT_HEIGHT, "the receipt's receipt", undecodable, 6),
        "check-7-receipt-altered": (
            NEXT,
            "receipt",
            f"is not in the receipts root that block {NEXT + 1} certifies (altered receipt?)",
            7,
        ),
        "check-7-next-header-unlinked": (
            NEXT + 1,
            f"header of block {NEXT + 1}",
            "does not link to the receipt's block",
            7,
        ),
        "check-7-next-certificate-short": (
            NEXT,
            f"certificate for height {NEXT}",
            "has 2 valid signatures, needs 3",
            7,
        ),
        "check-7-next-certificate-undecodable": (
            NEXT,
            f"certificate for height {NEXT}",
            undecodable,
            7,
        ),
        "check-7-next-header-height": (
            NEXT,
            f"next header, of block {NEXT}",
            f"is for chain {chain_id!r} at height {NEXT + 1}",
            7,
        ),
        "check-7-proof-index": (
            RECEIPT_HEIGHT,
            "receipt",
            f"is not in the receipts root that block {NEXT} certifies (altered receipt?)",
            7,
        ),
        "check-8-refused": (
            NEXT,
            "receipt",
            "says duplicate: this phone has already voted in this poll, which allows no revote",
            8,
        ),
    }[name]


FAILING = [c for c in forge_receipts.RECEIPT_CASES if c.check is not None]


@pytest.mark.parametrize("case", FAILING, ids=lambda c: c.name)
def test_each_forged_receipt_fails_with_its_check_height_and_words(
    case: forge_receipts.ReceiptCase,
) -> None:
    document = case.build()
    failure = _failure(document, case.pin_genesis)
    assert _shown(failure) == _expected(case.name, document)
    assert str(failure) == f"{failure.subject} {failure.reason}"


@pytest.mark.parametrize(
    ("format_", "version"),
    [("votechain-receipt", 2), ("votechain-receipt", "1"), ("other", 1), (None, None)],
)
def test_a_file_of_another_format_or_version_fails_check_0(format_: Any, version: Any) -> None:
    document = {**receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)}
    document["format"], document["version"] = format_, version
    assert _shown(_failure(document)) == (
        None,
        "receipt file",
        "is not a votechain-receipt version 1",
        0,
    )


@pytest.mark.parametrize("field", ["height", "position"])
@pytest.mark.parametrize("value", ["4", True, False, -1, 4.0, None])
def test_a_height_or_position_that_is_not_a_whole_number_fails_check_0(
    field: str, value: Any
) -> None:
    document = {**receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION), field: value}
    assert _shown(_failure(document)) == (None, "receipt file", f"has no valid {field}", 0)


@pytest.mark.parametrize(("field", "check"), [("tx", 2), ("header", 3), ("receipt", 6)])
def test_a_missing_field_fails_the_check_that_reads_it(field: str, check: int) -> None:
    document = receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)
    del document[field]
    assert _shown(_failure(document)) == (RECEIPT_HEIGHT, "receipt file", f"has no {field}", check)


@pytest.mark.parametrize(("field", "check"), [("tx", 2), ("header", 3), ("receipt", 6)])
def test_a_field_that_is_not_hex_fails_the_check_that_reads_it(field: str, check: int) -> None:
    document = {**receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION), field: "zz"}
    failure = _failure(document)
    assert (failure.height, failure.subject, failure.rule) == (
        RECEIPT_HEIGHT,
        f"the receipt's {field}",
        check,
    )
    assert failure.reason.startswith("does not decode: non-hexadecimal number")


def test_a_receipt_for_this_transaction_at_another_position_fails_check_6() -> None:
    """The receipt names the right transaction but another position: either field alone
    differing is enough (a receipt must be this transaction's, here)."""
    document = receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)
    real = votingcontract.Receipt.decode(bytes.fromhex(document["receipt"]))
    moved = votingcontract.Receipt(real.tx_id, RECEIPT_POSITION + 1, real.code, real.poll_id)
    failure = _failure({**document, "receipt": moved.encode().hex()})
    assert _shown(failure) == (
        RECEIPT_HEIGHT,
        "receipt",
        f"is for tx {short(real.tx_id)} at position {RECEIPT_POSITION + 1}, not this one",
        6,
    )


def test_a_receipt_for_another_transaction_at_this_position_fails_check_6() -> None:
    document = receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)
    real = votingcontract.Receipt.decode(bytes.fromhex(document["receipt"]))
    other = votingcontract.Receipt(bytes(32), RECEIPT_POSITION, real.code, real.poll_id)
    assert _failure({**document, "receipt": other.encode().hex()}).rule == 6


def test_a_malformed_tx_proof_fails_check_4() -> None:
    document = {**receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION), "tx_proof": {"index": 1}}
    assert _shown(_failure(document)) == (
        RECEIPT_HEIGHT,
        "receipt file",
        "has a malformed tx_proof",
        4,
    )


def test_a_malformed_receipt_proof_fails_check_7_at_the_next_height() -> None:
    document = receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)
    document["receipt_proof"]["proof"] = {"index": 1, "leaf_count": 4, "siblings": ["zz"]}
    assert _shown(_failure(document)) == (
        NEXT,
        "receipt file",
        "has a malformed receipt_proof.proof",
        7,
    )


@pytest.mark.parametrize("value", ["zz", None])
def test_a_next_header_that_is_missing_or_not_hex_fails_check_7(value: Any) -> None:
    document = receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)
    if value is None:
        del document["receipt_proof"]["next_header"]
    else:
        document["receipt_proof"]["next_header"] = value
    failure = _failure(document)
    assert (failure.height, failure.subject, failure.rule) == (NEXT, "receipt_proof", 7)
    assert failure.reason.startswith("has no valid next_header: ")


def test_a_receipt_that_is_not_a_ballot_shows_no_poll_id() -> None:
    """An enrolment's receipt (block 3): `receipt verify --json` shows poll_id null."""
    document = receipt_document(3, 0)
    shown = verify_receipt(document, base().genesis).to_dict()
    assert (shown["kind"], shown["poll_id"], shown["ok"]) == ("enroll_voter", None, True)
    assert json.loads(json.dumps(shown)) == shown


@pytest.mark.parametrize("value", [None, "zz"], ids=["missing", "not-hex"])
def test_a_receipt_without_a_genesis_hash_fails_check_1(value: Any) -> None:
    document = receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)
    if value is None:
        del document["genesis_hash"]
    else:
        document["genesis_hash"] = value
    assert _shown(_failure(document)) == (None, "receipt file", "has no genesis_hash", 1)


def test_a_receipt_checked_against_its_own_genesis_must_carry_one() -> None:
    document = receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)
    del document["genesis"]
    assert _shown(_failure(document, pin_genesis=False)) == (
        None,
        "receipt file",
        "carries no genesis: give the chain's genesis.json",
        1,
    )


def test_a_malformed_genesis_in_the_receipt_fails_check_1() -> None:
    document = {**receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION), "genesis": {"x": 1}}
    failure = _failure(document, pin_genesis=False)
    assert (failure.height, failure.subject, failure.rule) == (None, "the receipt's genesis", 1)
    assert failure.reason.startswith("is malformed: ")


def test_a_receipt_naming_another_chain_fails_check_1() -> None:
    document = {**receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION), "chain_id": "elsewhere"}
    assert _shown(_failure(document)) == (None, "receipt file", "names chain 'elsewhere'", 1)
    unnamed = receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)
    del unnamed["chain_id"]  # the chain id is optional: the genesis hash decides
    assert verify_receipt(unnamed, base().genesis).receipt_certified
