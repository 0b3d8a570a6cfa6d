"""Forged receipt files (docs/PROTOCOL.md section 14.3), one per way to break a check.

Each case builds a receipt document for a ballot of forge.py's valid chain (block 4,
position 1, accepted; or block 5, position 1, refused as `duplicate`) and changes one
thing. Where an honest checker needs more than one check to fail to be fooled, the
forgery supplies the rest the way a colluding quorum could: a next header that commits
to a forged receipt is itself certified by a quorum, so only the named check stands in
the way.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import votingcontract
from bench.chaingen import seeded_key
from chain.block import Block, BlockHeader
from chain.certificate import CommitCertificate
from chain.genesis import Genesis, NamedKey
from chain.keys import PrivateKey
from chain.merkle import merkle_proof, merkle_root
from chain.tx import Transaction
from tests.verifier.forge import (
    ForgedChain,
    base,
    certify,
    quorum_signers,
    sign_ballot,
    valid_chain,
    voter_of,
    with_code,
)

RECEIPT_HEIGHT, RECEIPT_POSITION = 4, 1
"""The accepted ballot whose receipt the receipt cases start from."""
REFUSED_HEIGHT, REFUSED_POSITION = 5, 1
"""The ballot refused as `duplicate`."""


@dataclass(frozen=True)
class ReceiptCase:
    """One receipt document; `check` is the failing check of 14.3, None for a good one.
    `pin_genesis`: the checker is given the published genesis.json (else the receipt's)."""

    name: str
    description: str
    check: int | None
    build: Callable[[], dict[str, Any]]
    pin_genesis: bool = True
    file: str = ""
    """The vector's file name without .json when it is another case's (default: name)."""

    @property
    def file_name(self) -> str:
        return f"{self.file or self.name}.json"


def receipt_document(
    height: int, position: int, chain: ForgedChain | None = None
) -> dict[str, Any]:
    """The receipt file of transaction `position` of block `height`, with its proofs."""
    chain = chain or valid_chain()
    g = chain.genesis_doc
    raw = chain.raw[height - 1]
    block = Block.decode(raw.block)
    tx = block.transactions[position]
    tx_proof = merkle_proof([t.tx_id for t in block.transactions], position)
    receipt = raw.receipts[position]
    document: dict[str, Any] = {
        "format": "votechain-receipt",
        "version": 1,
        "chain_id": g.chain_id,
        "genesis_hash": g.genesis_hash.hex(),
        "tx_id": tx.tx_id.hex(),
        "height": height,
        "position": position,
        "tx": tx.encode().hex(),
        "header": block.header.encode().hex(),
        "certificate": raw.certificate.hex(),
        "tx_proof": _proof_json(tx_proof.index, tx_proof.leaf_count, tx_proof.siblings),
        "receipt": receipt.hex(),
        "receipt_proof": None,
    }
    if height < len(chain.raw):
        following = chain.raw[height]
        proof = merkle_proof(raw.receipts, position)
        document["receipt_proof"] = {
            "proof": _proof_json(proof.index, proof.leaf_count, proof.siblings),
            "next_header": Block.decode(following.block).header.encode().hex(),
            "next_certificate": following.certificate.hex(),
        }
    decoded = votingcontract.Receipt.decode(receipt)
    document["summary"] = {"kind": tx.kind, "code": decoded.code}
    document["genesis"] = json.loads(g.to_json())
    return document


def _good() -> dict[str, Any]:
    return receipt_document(RECEIPT_HEIGHT, RECEIPT_POSITION)


def _refused() -> dict[str, Any]:
    return receipt_document(REFUSED_HEIGHT, REFUSED_POSITION)


def _header_of(height: int) -> BlockHeader:
    return Block.decode(valid_chain().raw[height - 1].block).header


def _forged_next_header(
    height: int, receipts: list[bytes], prev_hash: bytes | None = None
) -> tuple[BlockHeader, CommitCertificate]:
    """Block height + 1's header committing to `receipts`, certified by a quorum."""
    honest = _header_of(height + 1)
    header = dataclasses.replace(
        honest,
        prev_receipts_root=merkle_root(receipts),
        prev_hash=honest.prev_hash if prev_hash is None else prev_hash,
    )
    return header, certify(header)


def _receipt_proof(
    receipts: list[bytes], position: int, header: BlockHeader, cert: CommitCertificate
) -> dict[str, Any]:
    proof = merkle_proof(receipts, position)
    return {
        "proof": _proof_json(proof.index, proof.leaf_count, proof.siblings),
        "next_header": header.encode().hex(),
        "next_certificate": cert.encode().hex(),
    }


def _attackers_genesis() -> tuple[Genesis, list[PrivateKey]]:
    """A genesis like the real one but with the attacker's own four validators."""
    keys = [seeded_key("attacker", f"validator-{i}") for i in range(4)]
    g = dataclasses.replace(
        base().genesis,
        validators=tuple(NamedKey(f"n{i + 1}", k.public_key) for i, k in enumerate(keys)),
    )
    return g, keys


def _fake_chain_receipt() -> dict[str, Any]:
    """The ballot's block re-certified by the attacker's validators under their genesis;
    everything in the file agrees with that genesis."""
    g, keys = _attackers_genesis()
    document = _good()
    header = _header_of(RECEIPT_HEIGHT)
    forged = dataclasses.replace(header, prev_hash=g.genesis_hash)  # any header they like
    cert = CommitCertificate.sign(keys[:3], g.chain_id, 0, RECEIPT_HEIGHT, forged.block_hash)
    following = dataclasses.replace(_header_of(RECEIPT_HEIGHT + 1), prev_hash=forged.block_hash)
    next_cert = CommitCertificate.sign(
        keys[:3], g.chain_id, 0, RECEIPT_HEIGHT + 1, following.block_hash
    )
    document["genesis_hash"] = g.genesis_hash.hex()
    document["genesis"] = json.loads(g.to_json())
    document["header"] = forged.encode().hex()
    document["certificate"] = cert.encode().hex()
    document["receipt_proof"]["next_header"] = following.encode().hex()
    document["receipt_proof"]["next_certificate"] = next_cert.encode().hex()
    return document


def _genesis_swapped() -> dict[str, Any]:
    document = _fake_chain_receipt()
    document["genesis_hash"] = base().genesis.genesis_hash.hex()
    return document


def _tx_id_of_neighbour() -> dict[str, Any]:
    document = _good()
    document["tx_id"] = _other_position(RECEIPT_POSITION + 1)["tx_id"]
    return document


def _tx_choice_changed() -> dict[str, Any]:
    document = _good()
    tx = Transaction.decode(bytes.fromhex(document["tx"]))
    ballot = votingcontract.CastBallot.decode(tx.body)
    changed = votingcontract.CastBallot(ballot.poll_id, ((3,),))
    forged = dataclasses.replace(tx, body=changed.encode())
    document["tx"], document["tx_id"] = forged.encode().hex(), forged.tx_id.hex()
    return document


def _header_of_next_block() -> dict[str, Any]:
    document = _good()
    document["header"] = _header_of(RECEIPT_HEIGHT + 1).encode().hex()
    return document


def _header_truncated() -> dict[str, Any]:
    document = _good()
    document["header"] = document["header"][:-2]
    return document


def _tx_never_committed() -> dict[str, Any]:
    """A ballot the voter signed but no block holds, placed at the receipt's position
    with the real proof; the next header (certified) commits to a receipt for it."""
    document = _good()
    real = Transaction.decode(bytes.fromhex(document["tx"]))
    ballot = votingcontract.CastBallot.decode(real.body)
    extra = sign_ballot(voter_of(real.signer), ballot.poll_id, (3,), 77)
    receipts = list(valid_chain().raw[RECEIPT_HEIGHT - 1].receipts)
    receipt = votingcontract.Receipt(extra.tx_id, RECEIPT_POSITION, "accepted", ballot.poll_id)
    receipts[RECEIPT_POSITION] = receipt.encode()
    header, cert = _forged_next_header(RECEIPT_HEIGHT, receipts)
    document.update(
        tx=extra.encode().hex(),
        tx_id=extra.tx_id.hex(),
        receipt=receipt.encode().hex(),
        receipt_proof=_receipt_proof(receipts, RECEIPT_POSITION, header, cert),
    )
    return document


def _position_not_proof_index() -> dict[str, Any]:
    document = _good()
    document["position"] = RECEIPT_POSITION + 2
    return document


def _certificate_short() -> dict[str, Any]:
    document = _good()
    header = _header_of(RECEIPT_HEIGHT)
    document["certificate"] = (
        certify(header, signers=quorum_signers(RECEIPT_HEIGHT, 2)).encode().hex()
    )
    return document


def _certificate_truncated() -> dict[str, Any]:
    document = _good()
    document["certificate"] = document["certificate"][:-2]
    return document


def _next_certificate_truncated() -> dict[str, Any]:
    document = _good()
    following = document["receipt_proof"]
    following["next_certificate"] = following["next_certificate"][:-2]
    return document


def _certificate_of_parent() -> dict[str, Any]:
    document = _good()
    document["certificate"] = valid_chain().raw[RECEIPT_HEIGHT - 2].certificate.hex()
    return document


def _certificate_by_outsiders() -> dict[str, Any]:
    _, keys = _attackers_genesis()
    document = _good()
    document["certificate"] = certify(_header_of(RECEIPT_HEIGHT), signers=keys[:3]).encode().hex()
    return document


def _receipt_of_neighbour() -> dict[str, Any]:
    document = _good()
    document["receipt"] = _other_position(RECEIPT_POSITION + 1)["receipt"]
    return document


def _receipt_undecodable() -> dict[str, Any]:
    document = _good()
    document["receipt"] = document["receipt"][:-2]
    return document


def _refused_shown_accepted() -> dict[str, Any]:
    document = _refused()
    document["receipt"] = with_code(bytes.fromhex(document["receipt"]), "accepted").hex()
    return document


def _refused_accepted_next_header_unlinked() -> dict[str, Any]:
    """`accepted` for the refused ballot, committed by a certified block 6 header that
    does not link to block 5 (its prev_hash is block 4's)."""
    document = _refused_shown_accepted()
    receipts = list(valid_chain().raw[REFUSED_HEIGHT - 1].receipts)
    receipts[REFUSED_POSITION] = bytes.fromhex(document["receipt"])
    header, cert = _forged_next_header(
        REFUSED_HEIGHT, receipts, prev_hash=_header_of(REFUSED_HEIGHT - 1).block_hash
    )
    document["receipt_proof"] = _receipt_proof(receipts, REFUSED_POSITION, header, cert)
    return document


def _next_certificate_short() -> dict[str, Any]:
    document = _good()
    following = _header_of(RECEIPT_HEIGHT + 1)
    short = certify(following, signers=quorum_signers(RECEIPT_HEIGHT + 1, 2))
    document["receipt_proof"]["next_certificate"] = short.encode().hex()
    return document


def _next_header_two_ahead() -> dict[str, Any]:
    document = _good()
    document["receipt_proof"]["next_header"] = _header_of(RECEIPT_HEIGHT + 2).encode().hex()
    document["receipt_proof"]["next_certificate"] = (
        valid_chain().raw[RECEIPT_HEIGHT + 1].certificate.hex()
    )
    return document


def _receipt_proof_index_moved() -> dict[str, Any]:
    """The receipt proof of the neighbour's receipt slot: index ≠ position."""
    document = _good()
    receipts = valid_chain().raw[RECEIPT_HEIGHT - 1].receipts
    proof = merkle_proof(receipts, RECEIPT_POSITION + 1)
    document["receipt_proof"]["proof"] = _proof_json(proof.index, proof.leaf_count, proof.siblings)
    return document


def _other_position(position: int) -> dict[str, Any]:
    return receipt_document(RECEIPT_HEIGHT, position)


def _proof_json(index: int, leaf_count: int, siblings: tuple[bytes, ...]) -> dict[str, Any]:
    return {"index": index, "leaf_count": leaf_count, "siblings": [s.hex() for s in siblings]}


RECEIPT_CASES: tuple[ReceiptCase, ...] = (
    ReceiptCase("valid", "an accepted ballot (block 4, position 1) with both proofs", None, _good),
    ReceiptCase(
        "check-1-fake-chain",
        "the same ballot in a chain certified by the attacker's own validators (their "
        "genesis, consistently); checked against the published genesis",
        1,
        _fake_chain_receipt,
    ),
    ReceiptCase(
        "check-1-fake-chain-unpinned",
        "the same file checked against its own genesis copy: it verifies, which is why a "
        "checker pins the published genesis",
        None,
        _fake_chain_receipt,
        pin_genesis=False,
        file="check-1-fake-chain",
    ),
    ReceiptCase(
        "check-1-genesis-swapped",
        "the attacker's receipt claiming the real genesis_hash while carrying their "
        "genesis (checked against its own copy)",
        1,
        _genesis_swapped,
        pin_genesis=False,
    ),
    ReceiptCase("check-2-tx-id", "tx_id is the next ballot's", 2, _tx_id_of_neighbour),
    ReceiptCase(
        "check-2-signature",
        "the ballot's choice changed (tx_id recomputed), the signature kept",
        2,
        _tx_choice_changed,
    ),
    ReceiptCase("check-3-header-height", "header is block 5's", 3, _header_of_next_block),
    ReceiptCase("check-3-header-undecodable", "header lacks its last byte", 3, _header_truncated),
    ReceiptCase(
        "check-4-not-in-block",
        "a ballot no block holds, with the real ballot's Merkle proof; a quorum-certified "
        "next header commits to an `accepted` receipt for it",
        4,
        _tx_never_committed,
    ),
    ReceiptCase(
        "check-4-position",
        "position says 3, the proof is for index 1",
        4,
        _position_not_proof_index,
    ),
    ReceiptCase("check-5-short-of-quorum", "certificate with 2 signatures", 5, _certificate_short),
    ReceiptCase("check-5-other-block", "certificate of block 3", 5, _certificate_of_parent),
    ReceiptCase(
        "check-5-certificate-undecodable",
        "certificate lacks its last byte",
        5,
        _certificate_truncated,
    ),
    ReceiptCase(
        "check-5-non-validators",
        "certificate signed by three keys outside the genesis",
        5,
        _certificate_by_outsiders,
    ),
    ReceiptCase("check-6-other-receipt", "receipt of the next ballot", 6, _receipt_of_neighbour),
    ReceiptCase(
        "check-6-receipt-undecodable", "receipt lacks its last byte", 6, _receipt_undecodable
    ),
    ReceiptCase(
        "check-7-receipt-altered",
        "the refused ballot (block 5, position 1) shown `accepted`; the real next header",
        7,
        _refused_shown_accepted,
    ),
    ReceiptCase(
        "check-7-next-header-unlinked",
        "the refused ballot shown `accepted`, committed by a quorum-certified block 6 header "
        "that links to block 4, not 5",
        7,
        _refused_accepted_next_header_unlinked,
    ),
    ReceiptCase(
        "check-7-next-certificate-short",
        "next_certificate with 2 signatures",
        7,
        _next_certificate_short,
    ),
    ReceiptCase(
        "check-7-next-certificate-undecodable",
        "next_certificate lacks its last byte",
        7,
        _next_certificate_truncated,
    ),
    ReceiptCase(
        "check-7-next-header-height",
        "next_header (and its certificate) are block 6's, two ahead",
        7,
        _next_header_two_ahead,
    ),
    ReceiptCase(
        "check-7-proof-index",
        "receipt_proof is the proof of position 2",
        7,
        _receipt_proof_index_moved,
    ),
    ReceiptCase("check-8-refused", "the genuine receipt of the refused duplicate", 8, _refused),
)


def receipt_case_named(name: str) -> ReceiptCase:
    return next(c for c in RECEIPT_CASES if c.name == name)
