"""Tampering with a real cluster's chain is found, at the right height, for the right
reason (issue 6). Each test copies node n1's stopped chain directory, changes LevelDB
directly with the key layout of chain/store.py, and replays the copy. Receipts are
stored without what the block holds (chain/storelayout.py): a test writes the receipts
it wants for the block as it left it, and the store keeps any that are not that block's
whole, so the verifier reads back exactly the receipts written."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import plyvel
import pytest

import votingcontract
from chain import encoding, storelayout
from chain.block import Block
from chain.certificate import CommitCertificate, commit_vote_sign_bytes
from chain.store import ChainStore
from chain.tx import Transaction
from tests.verifier.cluster_chain import ClusterChain
from verifier.errors import VerificationFailure
from verifier.replay import verify_chain
from verifier.sources import DataDirSource


def key(prefix: bytes, height: int) -> bytes:
    return prefix + struct.pack(">Q", height)


@pytest.fixture
def chain_copy(cluster_chain: ClusterChain, tmp_path: Path) -> Path:
    copy = tmp_path / "chain"
    shutil.copytree(cluster_chain.chain_dir, copy, ignore=shutil.ignore_patterns("LOCK"))
    return copy


def replay_failure(chain_dir: Path) -> VerificationFailure:
    source = DataDirSource(chain_dir)
    try:
        with pytest.raises(VerificationFailure) as caught:
            verify_chain(source, workers=2)
    finally:
        source.close()
    return caught.value


def read_block(db: plyvel.DB, height: int) -> list:  # type: ignore[type-arg]
    value = encoding.decode(db.get(key(b"block/", height)))
    assert isinstance(value, list)
    return value


def read_receipts(db: plyvel.DB, height: int) -> list[bytes]:
    tx_ids = storelayout.block_tx_ids(db.get(key(b"block/", height)))
    return storelayout.unpack_receipts(tx_ids, db.get(key(b"rcpt/", height)))


def write_receipts(db: plyvel.DB, height: int, receipts: list[bytes]) -> None:
    """Store `receipts` for block `height` as it is now in `db` (write the block first)."""
    tx_ids = storelayout.block_tx_ids(db.get(key(b"block/", height)))
    db.put(key(b"rcpt/", height), storelayout.pack_receipts(tx_ids, receipts))


def test_untampered_copy_verifies(chain_copy: Path, cluster_chain: ClusterChain) -> None:
    source = DataDirSource(chain_copy)
    report = verify_chain(source, workers=2)
    source.close()
    assert report.blocks == cluster_chain.head
    assert report.accepted_ballots == len(cluster_chain.ballots)


def test_one_byte_flipped_in_a_stored_tx(chain_copy: Path, cluster_chain: ClusterChain) -> None:
    ballot = cluster_chain.ballots[2]
    db = plyvel.DB(str(chain_copy))
    raw = bytearray(db.get(key(b"block/", ballot["height"])))
    tx = Transaction.from_value(read_block(db, ballot["height"])[1][ballot["position"]])
    offset = bytes(raw).index(tx.signature) + 7
    raw[offset] ^= 0x01
    db.put(key(b"block/", ballot["height"]), bytes(raw))
    db.close()
    failure = replay_failure(chain_copy)
    assert (failure.height, failure.rule) == (ballot["height"], 6)
    assert f"block {ballot['height']} has tx_root" in str(failure)


def test_a_ballot_removed(chain_copy: Path, cluster_chain: ClusterChain) -> None:
    ballot = cluster_chain.ballots[5]
    h, p = ballot["height"], ballot["position"]
    db = plyvel.DB(str(chain_copy))
    block = read_block(db, h)
    del block[1][p]
    receipts = read_receipts(db, h)
    del receipts[p]
    db.put(key(b"block/", h), encoding.encode(block))
    write_receipts(db, h, receipts)
    db.close()
    failure = replay_failure(chain_copy)
    assert (failure.height, failure.rule) == (h, 6)
    assert "has tx_root" in failure.reason


def test_a_ballot_removed_with_the_tx_root_recomputed(
    chain_copy: Path, cluster_chain: ClusterChain
) -> None:
    """Hiding the removal in the header changes the block hash: the certificate no
    longer certifies this block."""
    ballot = cluster_chain.ballots[5]
    h, p = ballot["height"], ballot["position"]
    db = plyvel.DB(str(chain_copy))
    block = Block.from_value(read_block(db, h))
    txs = tuple(t for i, t in enumerate(block.transactions) if i != p)
    from chain.merkle import merkle_root

    header = block.header.__class__(
        **{**block.header.__dict__, "tx_root": merkle_root([t.tx_id for t in txs])}
    )
    db.put(key(b"block/", h), Block(header, txs).encode())
    db.close()
    failure = replay_failure(chain_copy)
    assert (failure.height, failure.rule) == (h, 9)
    assert str(failure).startswith(f"certificate for height {h} certifies block")


def test_two_ballots_swapped_across_blocks(chain_copy: Path, cluster_chain: ClusterChain) -> None:
    first = cluster_chain.ballots[0]
    second = next(b for b in cluster_chain.ballots if b["height"] > first["height"])
    db = plyvel.DB(str(chain_copy))
    a, b = read_block(db, first["height"]), read_block(db, second["height"])
    ra, rb = read_receipts(db, first["height"]), read_receipts(db, second["height"])
    pa, pb = first["position"], second["position"]
    a[1][pa], b[1][pb] = b[1][pb], a[1][pa]
    ra[pa], rb[pb] = rb[pb], ra[pa]
    db.put(key(b"block/", first["height"]), encoding.encode(a))
    db.put(key(b"block/", second["height"]), encoding.encode(b))
    write_receipts(db, first["height"], ra)
    write_receipts(db, second["height"], rb)
    db.close()
    failure = replay_failure(chain_copy)
    assert (failure.height, failure.rule) == (first["height"], 6)


def test_a_certificate_with_a_signature_replaced(
    chain_copy: Path, cluster_chain: ClusterChain
) -> None:
    """n-th validator's signature swapped for its own signature of another commit."""
    h = cluster_chain.ballots[3]["height"]
    db = plyvel.DB(str(chain_copy))
    certificate = CommitCertificate.decode(db.get(key(b"cert/", h)))
    victim = certificate.signatures[0]
    validator = next(
        cluster_chain.validator_key(f"n{i}")
        for i in range(1, 5)
        if cluster_chain.validator_key(f"n{i}").public_key == victim.validator
    )
    other = validator.sign(commit_vote_sign_bytes(certificate.chain_id, 0, h + 1, b"\0" * 32))
    value = certificate.to_value()
    value[4][0][1] = other
    db.put(key(b"cert/", h), encoding.encode(value))
    db.close()
    failure = replay_failure(chain_copy)
    valid = len(certificate.signatures) - 1
    assert (failure.height, failure.rule) == (h, 9)
    assert f"certificate for height {h} has a bad signature from" in str(failure)
    assert f"{valid} valid signature" in str(failure)


def test_a_block_re_signed_by_fewer_than_a_quorum(
    chain_copy: Path, cluster_chain: ClusterChain
) -> None:
    h = cluster_chain.ballots[4]["height"]
    db = plyvel.DB(str(chain_copy))
    block = Block.from_value(read_block(db, h))
    header = block.header.__class__(
        **{**block.header.__dict__, "timestamp_ms": block.header.timestamp_ms + 1}
    )
    forged = Block(header, block.transactions)
    signers = [cluster_chain.validator_key("n1"), cluster_chain.validator_key("n2")]
    certificate = CommitCertificate.sign(signers, header.chain_id, 0, h, forged.block_hash)
    db.put(key(b"block/", h), forged.encode())
    db.put(key(b"cert/", h), certificate.encode())
    db.close()
    failure = replay_failure(chain_copy)
    assert (failure.height, failure.rule) == (h, 9)
    assert str(failure) == f"certificate for height {h} has 2 valid signatures, needs 3"


def test_a_receipt_altered(chain_copy: Path, cluster_chain: ClusterChain) -> None:
    ballot = cluster_chain.ballots[6]
    h, p = ballot["height"], ballot["position"]
    db = plyvel.DB(str(chain_copy))
    receipts = read_receipts(db, h)
    original = votingcontract.Receipt.decode(receipts[p])
    receipts[p] = votingcontract.Receipt(original.tx_id, p, "duplicate", original.poll_id).encode()
    write_receipts(db, h, receipts)
    db.close()
    failure = replay_failure(chain_copy)
    assert (failure.height, failure.rule) == (h, 11)
    assert failure.subject == f"receipt {p} of block {h}"
    assert failure.reason.startswith("says duplicate")
    assert "re-execution gives accepted" in failure.reason


def test_a_tally_altered_in_stored_state(chain_copy: Path, cluster_chain: ClusterChain) -> None:
    poll_id = bytes.fromhex(cluster_chain.poll_ids[0])
    tally = b"state/tally/" + poll_id + struct.pack(">HH", 0, 1)
    db = plyvel.DB(str(chain_copy))
    count = encoding.decode(db.get(tally))
    db.put(tally, encoding.encode(count + 1))
    db.close()
    failure = replay_failure(chain_copy)
    assert failure.height == cluster_chain.head
    assert failure.subject == f"stored state after block {cluster_chain.head}"
    assert "tally/" in failure.reason and "question 0/option 1" in failure.reason
    assert f"= {count + 1}, the replay gives {count}" in failure.reason


def test_a_forged_block_appended_by_one_validator(
    chain_copy: Path, cluster_chain: ClusterChain
) -> None:
    """A valid-looking block on top, executed correctly, but signed by n1 alone."""
    store = ChainStore(chain_copy, create=False)
    head = store.head_height
    parent = store.get_block(head)
    voter = cluster_chain.voter_key(7)
    ballot = votingcontract.CastBallot(bytes.fromhex(cluster_chain.poll_ids[1]), ((2,),))
    tx = Transaction.create(voter, parent.header.chain_id, ballot.KIND, ballot.encode(), 99)
    validator = cluster_chain.validator_key("n1")
    from chain.block import make_header

    header = make_header(
        parent.header.chain_id,
        head + 1,
        parent.header.timestamp_ms + 1000,
        parent.block_hash,
        (tx,),
        store.app_hash(head),
        store.receipts_root(head),
        validator.public_key,
    )
    block = Block(header, (tx,))
    context = votingcontract.BlockContext(header.chain_id, head + 1, header.timestamp_ms)
    receipts, writes = votingcontract.execute_block(store, context, block.transactions)
    assert receipts[0].accepted  # a revote in the budget poll: the forger's choice counts
    certificate = CommitCertificate.sign(
        [validator], header.chain_id, 0, head + 1, block.block_hash
    )
    store.append_block(block, certificate, [r.encode() for r in receipts], writes)
    store.close()
    failure = replay_failure(chain_copy)
    assert (failure.height, failure.rule) == (head + 1, 9)
    assert str(failure) == f"certificate for height {head + 1} has 1 valid signature, needs 3"
