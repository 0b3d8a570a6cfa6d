"""Mempool admission: each check in the documented order, each refusal with its code.

Order (node/mempool.py): size, decode, well-formed envelope, chain id, signature, not
already committed, not already pending (the same submission, not an error), room left,
then a dry run against the current state.
"""

from __future__ import annotations

import dataclasses

import pytest

import votingcontract
from chain import encoding
from chain.keys import PrivateKey
from chain.tx import MAX_TX_BYTES, Transaction
from node.errors import HTTP_STATUS, RpcError, RpcErrorCode
from node.mempool import Mempool

CHAIN_ID = "votechain-test"
KEY = PrivateKey.from_seed(b"k" * 32)
OTHER_KEY = PrivateKey.from_seed(b"o" * 32)


class FakeChain:
    """What the mempool asks of the chain: committed tx ids and a dry run."""

    def __init__(self) -> None:
        self.committed: set[bytes] = set()
        self.refuse: dict[bytes, str] = {}
        self.dry_runs: list[bytes] = []

    def is_committed(self, tx_id: bytes) -> bool:
        return tx_id in self.committed

    def dry_run(self, tx: Transaction) -> str | None:
        self.dry_runs.append(tx.tx_id)
        return self.refuse.get(tx.tx_id)


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain()


@pytest.fixture
def mempool(chain: FakeChain) -> Mempool:
    return Mempool(CHAIN_ID, 3, chain.is_committed, chain.dry_run)


def make_tx(nonce: int = 1, chain_id: str = CHAIN_ID, key: PrivateKey = KEY) -> Transaction:
    body = votingcontract.EnrollVoter(phone_id=b"p" * 32, voter_key=b"v" * 32)
    return Transaction.create(key, chain_id, body.KIND, body.encode(), nonce)


def refused(mempool: Mempool, data: bytes | Transaction) -> RpcError:
    with pytest.raises(RpcError) as info:
        if isinstance(data, Transaction):
            mempool.admit(data)
        else:
            mempool.admit_bytes(data)
    return info.value


def test_a_valid_tx_is_admitted_once_and_listed(mempool: Mempool, chain: FakeChain) -> None:
    tx = make_tx()
    decoded, newly = mempool.admit_bytes(tx.encode())
    assert decoded == tx and newly
    assert tx.tx_id in mempool and len(mempool) == 1
    assert mempool.pending() == [tx]
    assert chain.dry_runs == [tx.tx_id]


def test_a_duplicate_submission_is_not_an_error_and_returns_false(
    mempool: Mempool, chain: FakeChain
) -> None:
    tx = make_tx()
    assert mempool.admit(tx) is True
    assert mempool.admit(tx) is False
    assert mempool.admit_bytes(tx.encode()) == (tx, False)
    assert len(mempool) == 1
    assert chain.dry_runs == [tx.tx_id], "a duplicate is not dry-run again"


def test_an_oversized_tx_is_body_too_large_before_decoding(mempool: Mempool) -> None:
    error = refused(mempool, b"\x00" * (MAX_TX_BYTES + 1))
    assert error.code == RpcErrorCode.BODY_TOO_LARGE and error.status == 413
    assert str(MAX_TX_BYTES) in error.message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",
        b"garbage",
        make_tx().encode()[:-1],  # truncated
        make_tx().encode() + b"\x00",  # trailing bytes
        encoding.encode([1, CHAIN_ID, "enroll_voter"]),  # too few fields
        encoding.encode([2, *make_tx().to_value()[1:]]),  # unknown version
        b"\x81\xa2tx\x01",  # a map, not an array
    ],
    ids=["empty", "reserved-byte", "text", "truncated", "trailing", "short", "version", "map"],
)
def test_undecodable_bytes_are_malformed_tx(mempool: Mempool, data: bytes) -> None:
    error = refused(mempool, data)
    assert error.code == RpcErrorCode.MALFORMED_TX and error.status == 400
    assert error.message


@pytest.mark.parametrize("kind", ["", "ballöt"])
def test_an_envelope_with_a_bad_kind_is_malformed_not_a_bad_signature(
    mempool: Mempool, kind: str
) -> None:
    tx = Transaction.create(KEY, CHAIN_ID, kind, b"", 1)
    error = refused(mempool, tx.encode())
    assert error.code == RpcErrorCode.MALFORMED_TX, error.message
    assert "kind" in error.message


def test_a_tx_for_another_chain_is_wrong_chain_naming_both(mempool: Mempool) -> None:
    error = refused(mempool, make_tx(chain_id="elsewhere").encode())
    assert error.code == RpcErrorCode.WRONG_CHAIN and error.status == 400
    assert "elsewhere" in error.message and CHAIN_ID in error.message


def test_a_forged_signature_is_bad_signature(mempool: Mempool, chain: FakeChain) -> None:
    tx = make_tx()
    forged = dataclasses.replace(tx, signer=OTHER_KEY.public_key)
    error = refused(mempool, forged.encode())
    assert error.code == RpcErrorCode.BAD_SIGNATURE and error.status == 400
    tampered = dataclasses.replace(tx, nonce=tx.nonce + 1)
    assert refused(mempool, tampered).code == RpcErrorCode.BAD_SIGNATURE
    assert chain.dry_runs == [] and len(mempool) == 0


def test_a_committed_tx_is_already_committed(mempool: Mempool, chain: FakeChain) -> None:
    tx = make_tx()
    chain.committed.add(tx.tx_id)
    error = refused(mempool, tx)
    assert error.code == RpcErrorCode.ALREADY_COMMITTED and error.status == 409
    assert tx.tx_id.hex() in error.message


def test_a_full_mempool_is_busy_but_still_accepts_a_duplicate(
    mempool: Mempool, chain: FakeChain
) -> None:
    txs = [make_tx(nonce) for nonce in range(3)]
    for tx in txs:
        assert mempool.admit(tx)
    error = refused(mempool, make_tx(99))
    assert error.code == RpcErrorCode.BUSY and error.status == 503
    assert "retry" in error.message
    assert mempool.admit(txs[0]) is False
    assert len(chain.dry_runs) == 3, "busy is decided before the dry run"


def test_a_dry_run_refusal_carries_the_reason_code_and_its_description(
    mempool: Mempool, chain: FakeChain
) -> None:
    tx = make_tx()
    chain.refuse[tx.tx_id] = votingcontract.ReasonCode.DUPLICATE.value
    error = refused(mempool, tx)
    assert error.code == RpcErrorCode.REFUSED and error.status == 422
    assert error.reason == "duplicate"
    assert votingcontract.describe("duplicate") in error.message
    assert error.to_dict() == {
        "error": "refused",
        "message": error.message,
        "reason": "duplicate",
    }
    assert tx.tx_id not in mempool


@pytest.mark.parametrize(
    ("tx", "setup", "expected"),
    [
        # wrong chain (and so a signature over another chain id) -> wrong_chain first
        (make_tx(chain_id="elsewhere"), "commit", RpcErrorCode.WRONG_CHAIN),
        # a forged tx whose id happens to be committed -> bad_signature first
        (dataclasses.replace(make_tx(), nonce=7), "commit", RpcErrorCode.BAD_SIGNATURE),
        # committed and the state machine would refuse it -> already_committed first
        (make_tx(), "commit+refuse", RpcErrorCode.ALREADY_COMMITTED),
        # mempool full and the state machine would refuse it -> busy first
        (make_tx(), "fill+refuse", RpcErrorCode.BUSY),
    ],
    ids=[
        "chain-before-committed",
        "signature-before-committed",
        "committed-before-dry-run",
        "busy-before-dry-run",
    ],
)
def test_the_first_failing_check_in_admission_order_names_the_error(
    mempool: Mempool, chain: FakeChain, tx: Transaction, setup: str, expected: RpcErrorCode
) -> None:
    if "commit" in setup:
        chain.committed.add(tx.tx_id)
    if "refuse" in setup:
        chain.refuse[tx.tx_id] = "closed"
    if "fill" in setup:
        for nonce in range(100, 103):
            mempool.admit(make_tx(nonce))
    assert refused(mempool, tx).code == expected


def test_remove_forgets_committed_txs_and_ignores_unknown_ids(mempool: Mempool) -> None:
    txs = [make_tx(nonce) for nonce in range(3)]
    for tx in txs:
        mempool.admit(tx)
    mempool.remove([txs[0].tx_id, b"\x00" * 32])
    assert len(mempool) == 2 and txs[0].tx_id not in mempool
    assert mempool.pending() == txs[1:]
    assert mempool.admit(make_tx(99)), "removal made room"
    mempool.remove([])
    assert len(mempool) == 3


def test_every_error_code_has_a_documented_status() -> None:
    assert set(HTTP_STATUS) == set(RpcErrorCode)
    assert all(400 <= status < 600 for status in HTTP_STATUS.values())


def big_tx(nonce: int, key: PrivateKey = KEY, body_bytes: int = 60_000) -> Transaction:
    """A transaction of about 60 KB, like the extend_roll flood of issue 9."""
    return Transaction.create(key, CHAIN_ID, "extend_roll", b"\x00" * body_bytes, nonce)


def test_one_key_cannot_fill_the_mempool_with_large_transactions(chain: FakeChain) -> None:
    """Issue 9, finding 1: 300 transactions of 64 KB from one voter were all admitted."""
    mempool = Mempool(CHAIN_ID, 20_000, chain.is_committed, chain.dry_run)
    admitted = 0
    for nonce in range(300):
        try:
            mempool.admit(big_tx(nonce))
            admitted += 1
        except RpcError as error:
            assert error.code == RpcErrorCode.SIGNER_BUSY and error.status == 429
            assert "per key" in error.message
    assert admitted == mempool.max_bytes_per_signer // len(big_tx(0).encode())
    assert mempool.pending_bytes <= mempool.max_bytes_per_signer
    # Another voter is not affected by the first one's quota.
    assert mempool.admit(big_tx(0, key=OTHER_KEY))
    # Once the first voter's transactions commit, it may send again.
    mempool.remove([tx.tx_id for tx in mempool.pending() if tx.signer == KEY.public_key])
    assert mempool.admit(big_tx(1_000))


def test_the_signer_quota_also_counts_small_transactions(chain: FakeChain) -> None:
    mempool = Mempool(CHAIN_ID, 20_000, chain.is_committed, chain.dry_run, max_txs_per_signer=5)
    for nonce in range(5):
        mempool.admit(make_tx(nonce))
    assert refused(mempool, make_tx(5)).code == RpcErrorCode.SIGNER_BUSY
    assert len(chain.dry_runs) == 5, "the quota is decided before the dry run"


def test_an_attester_key_is_exempt_from_the_signer_quota(chain: FakeChain) -> None:
    mempool = Mempool(
        CHAIN_ID,
        20_000,
        chain.is_committed,
        chain.dry_run,
        max_txs_per_signer=5,
        unlimited_signers=frozenset({KEY.public_key}),
    )
    for nonce in range(50):
        assert mempool.admit(make_tx(nonce))


def test_the_mempool_is_busy_when_its_bytes_are_used_up(chain: FakeChain) -> None:
    keys = [PrivateKey.from_seed(bytes([i]) * 32) for i in range(1, 6)]
    size = len(big_tx(0).encode())
    mempool = Mempool(CHAIN_ID, 20_000, chain.is_committed, chain.dry_run, max_bytes=3 * size)
    for key in keys[:3]:
        mempool.admit(big_tx(0, key=key))
    error = refused(mempool, big_tx(0, key=keys[3]))
    assert error.code == RpcErrorCode.BUSY and "bytes" in error.message
    mempool.remove([mempool.pending()[0].tx_id])
    assert mempool.pending_bytes == 2 * size
    assert mempool.admit(big_tx(0, key=keys[3]))
