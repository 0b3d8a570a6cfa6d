"""A citizen's receipt: proof that one transaction is in the chain and was accepted,
checked against the genesis validators without replaying the chain (a light client).

A receipt file is JSON (docs/PROTOCOL.md section 14.3); every hashed or signed object
in it is carried as the hex of its canonical encoding, so the checks below work on the
exact bytes the chain holds:

    {"format": "votechain-receipt", "version": 1,
     "chain_id": str, "genesis_hash": hex, "genesis": genesis.json document | absent,
     "tx_id": hex, "height": int, "position": int,
     "tx": hex(transaction), "header": hex(header of block height),
     "certificate": hex(commit certificate of block height),
     "tx_proof": {"index": int, "leaf_count": int, "siblings": [hex, ...]},
     "receipt": hex(receipt),
     "receipt_proof": null | {"proof": {...as tx_proof}, "next_header": hex(header of
                      block height+1), "next_certificate": hex(its certificate)},
     "summary": {...}}          (for people; never used by the checks)

verify_receipt applies the checks in the order of section 14.3. This module does no
I/O: the CLI reads files and asks nodes, and passes documents in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import votingcontract
from chain.block import BlockHeader
from chain.errors import VotechainError
from chain.genesis import Genesis
from chain.keys import verify_signature
from chain.merkle import MerkleProof, verify_merkle_proof
from chain.tx import Transaction
from verifier import rules
from verifier.errors import VerificationFailure
from verifier.rules import short

T = TypeVar("T")

FORMAT = "votechain-receipt"
VERSION = 1


@dataclass(frozen=True)
class ReceiptCheck:
    """What a receipt proved."""

    tx_id: bytes
    height: int
    position: int
    block_hash: bytes
    genesis_hash: bytes
    kind: str
    code: str
    poll_id: bytes | None
    signers: int
    """Validators whose signatures on the block's certificate verified."""
    receipt_certified: bool
    """True when the next block's header (certified too) commits to the receipt."""

    @property
    def accepted(self) -> bool:
        return self.code == votingcontract.ACCEPTED

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.accepted and self.receipt_certified,
            "tx_id": self.tx_id.hex(),
            "height": self.height,
            "position": self.position,
            "block_hash": self.block_hash.hex(),
            "genesis_hash": self.genesis_hash.hex(),
            "kind": self.kind,
            "code": self.code,
            "accepted": self.accepted,
            "poll_id": None if self.poll_id is None else self.poll_id.hex(),
            "certificate_signers": self.signers,
            "receipt_certified": self.receipt_certified,
        }


def receipt_from_committed_tx(
    committed: dict[str, Any], genesis: Genesis, include_genesis: bool = True
) -> dict[str, Any]:
    """Build a receipt document from a node's GET /v1/tx/{tx_id} answer.

    Nothing is checked here: run verify_receipt on the result.
    """
    try:
        document: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "chain_id": genesis.chain_id,
            "genesis_hash": genesis.genesis_hash.hex(),
            "tx_id": committed["tx"]["tx_id"],
            "height": int(committed["height"]),
            "position": int(committed["position"]),
            "tx": committed["tx"]["encoded"],
            "header": committed["header"]["encoded"],
            "certificate": committed["certificate"]["encoded"],
            "tx_proof": _proof_json(committed["tx_proof"]),
            "receipt": committed["receipt"]["encoded"],
            "receipt_proof": None,
        }
        following = committed.get("receipt_proof")
        if following:
            document["receipt_proof"] = {
                "proof": _proof_json(following["proof"]),
                "next_header": following["next_header"]["encoded"],
                "next_certificate": following["next_certificate"]["encoded"],
            }
        document["summary"] = {
            "kind": committed["tx"].get("kind"),
            "body": committed["tx"].get("body"),
            "code": committed["receipt"].get("code"),
            "block_hash": committed["header"].get("hash"),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationFailure(None, "the node's answer", f"lacks a field: {exc}") from exc
    if include_genesis:
        document["genesis"] = json.loads(genesis.to_json())
    return document


def verify_receipt(document: dict[str, Any], genesis: Genesis | None = None) -> ReceiptCheck:
    """Check a receipt document (section 14.3, checks 1-8); raise VerificationFailure
    at the first that fails. `genesis` is the one the caller trusts (a published
    genesis.json); without it the receipt's own copy is used, and only its hash ties it
    to a chain, so say which hash was used (ReceiptCheck.genesis_hash)."""
    if document.get("format") != FORMAT or document.get("version") != VERSION:
        raise VerificationFailure(None, "receipt file", f"is not a {FORMAT} version {VERSION}", 0)
    genesis = _check_genesis(document, genesis)
    height, position = _int(document, "height"), _int(document, "position")
    tx = _check_transaction(document, genesis, height)
    header = _decode(document, "header", BlockHeader.decode, height, 3)
    _check_header(header, genesis, height, "header of block", 3)
    proof = _proof(document.get("tx_proof"), height, "tx_proof", 4)
    if proof.index != position or not verify_merkle_proof(header.tx_root, tx.tx_id, proof):
        raise VerificationFailure(
            height,
            f"transaction {short(tx.tx_id)}",
            f"is not at position {position} of block {height}: its Merkle proof does not "
            f"lead to the header's tx_root",
            4,
        )
    signers = _check_certificate(document, "certificate", genesis, header, 5)
    receipt = _decode(document, "receipt", votingcontract.Receipt.decode, height, 6)
    if receipt.tx_id != tx.tx_id or receipt.position != position:
        raise VerificationFailure(
            height,
            "receipt",
            f"is for tx {short(receipt.tx_id)} at position {receipt.position}, not this one",
            6,
        )
    certified = _check_receipt_proof(document, genesis, header, receipt.encode(), position)
    if receipt.code != votingcontract.ACCEPTED:
        raise VerificationFailure(
            height,
            "receipt",
            f"says {receipt.code}: {votingcontract.describe(receipt.code)}",
            8,
        )
    return ReceiptCheck(
        tx.tx_id,
        height,
        position,
        header.block_hash,
        genesis.genesis_hash,
        tx.kind,
        receipt.code,
        receipt.poll_id,
        signers,
        certified,
    )


def check_header_on_chain(document: dict[str, Any], header_bytes: bytes) -> None:
    """The chain (as a node gives it now) still has the receipt's header at its height."""
    height = _int(document, "height")
    saved = _decode(document, "header", BlockHeader.decode, height, 3)
    try:
        current = BlockHeader.decode(header_bytes)
    except VotechainError as exc:
        raise VerificationFailure(
            height, f"the node's header of block {height}", f"does not decode: {exc}", 9
        ) from exc
    if current.block_hash != saved.block_hash:
        raise VerificationFailure(
            height,
            f"block {height} on the node",
            f"hashes to {short(current.block_hash)}, not the receipt's "
            f"{short(saved.block_hash)}: the chain was rewritten, or the node is on another",
            9,
        )


# helpers, in the order the checks use them


def _check_genesis(document: dict[str, Any], given: Genesis | None) -> Genesis:
    """Check 1: the genesis the receipt is judged against."""
    try:
        pinned = bytes.fromhex(str(document["genesis_hash"]))
    except (KeyError, ValueError) as exc:
        raise VerificationFailure(None, "receipt file", "has no genesis_hash", 1) from exc
    genesis = given
    if genesis is None:
        embedded = document.get("genesis")
        if embedded is None:
            raise VerificationFailure(
                None, "receipt file", "carries no genesis: give the chain's genesis.json", 1
            )
        try:
            genesis = Genesis.from_json(json.dumps(embedded))
        except VotechainError as exc:
            raise VerificationFailure(
                None, "the receipt's genesis", f"is malformed: {exc}", 1
            ) from exc
    if genesis.genesis_hash != pinned:
        what = "the given genesis" if given is not None else "the receipt's genesis"
        raise VerificationFailure(
            None,
            what,
            f"hashes to {genesis.genesis_hash.hex()}, but the receipt is for genesis "
            f"{pinned.hex()}",
            1,
        )
    if document.get("chain_id") not in (None, genesis.chain_id):
        raise VerificationFailure(
            None, "receipt file", f"names chain {document.get('chain_id')!r}", 1
        )
    return genesis


def _check_transaction(document: dict[str, Any], genesis: Genesis, height: int) -> Transaction:
    """Check 2: the transaction, its id and its signature."""
    tx = _decode(document, "tx", Transaction.decode, height, 2)
    if document.get("tx_id") != tx.tx_id.hex():
        raise VerificationFailure(
            height,
            "transaction",
            f"hashes to {tx.tx_id.hex()}, not the receipt's tx_id {document.get('tx_id')}",
            2,
        )
    try:
        tx.verify(genesis.chain_id)
    except VotechainError as exc:
        raise VerificationFailure(height, f"transaction {short(tx.tx_id)}", str(exc), 2) from exc
    return tx


def _check_header(
    header: BlockHeader, genesis: Genesis, height: int, what: str, check: int
) -> None:
    """Checks 3 and 7: a header of this chain at the expected height."""
    if header.chain_id != genesis.chain_id or header.height != height:
        raise VerificationFailure(
            height,
            f"{what} {height}",
            f"is for chain {header.chain_id!r} at height {header.height}",
            check,
        )


def _check_certificate(
    document: dict[str, Any], field: str, genesis: Genesis, header: BlockHeader, check: int
) -> int:
    """Checks 5 and 7: a certificate of the genesis validators for this header."""
    data = document if field == "certificate" else (document.get("receipt_proof") or {})
    height = header.height
    try:
        certificate = rules.decode_certificate(height, bytes.fromhex(str(data[field])))
    except (KeyError, ValueError) as exc:
        raise VerificationFailure(height, "receipt file", f"has no valid {field}", check) from exc
    except VerificationFailure as failure:
        failure.rule = check  # rule 9 of a chain; this receipt's check 5 or 7
        raise
    message = certificate.sign_bytes
    valid = [verify_signature(s.validator, s.signature, message) for s in certificate.signatures]
    try:
        rules.validate_certificate(genesis, height, header.block_hash, certificate, valid)
    except VerificationFailure as failure:
        failure.rule = check
        raise
    return sum(valid)


def _check_receipt_proof(
    document: dict[str, Any],
    genesis: Genesis,
    header: BlockHeader,
    encoded_receipt: bytes,
    position: int,
) -> bool:
    """Check 7: the next certified header commits to the receipt. False if absent."""
    following = document.get("receipt_proof")
    if not following:
        return False
    height = header.height + 1
    try:
        next_header = BlockHeader.decode(bytes.fromhex(str(following["next_header"])))
    except (KeyError, ValueError, VotechainError) as exc:
        raise VerificationFailure(
            height, "receipt_proof", f"has no valid next_header: {exc}", 7
        ) from exc
    _check_header(next_header, genesis, height, "next header, of block", 7)
    if next_header.prev_hash != header.block_hash:
        raise VerificationFailure(
            height, f"header of block {height}", "does not link to the receipt's block", 7
        )
    _check_certificate(document, "next_certificate", genesis, next_header, 7)
    proof = _proof(following.get("proof"), height, "receipt_proof.proof", 7)
    if proof.index != position or not verify_merkle_proof(
        next_header.prev_receipts_root, encoded_receipt, proof
    ):
        raise VerificationFailure(
            header.height,
            "receipt",
            f"is not in the receipts root that block {height} certifies (altered receipt?)",
            7,
        )
    return True


def _proof(value: Any, height: int, what: str, check: int) -> MerkleProof:
    try:
        return MerkleProof(
            int(value["index"]),
            int(value["leaf_count"]),
            tuple(bytes.fromhex(s) for s in value["siblings"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationFailure(height, "receipt file", f"has a malformed {what}", check) from exc


def _proof_json(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": int(value["index"]),
        "leaf_count": int(value["leaf_count"]),
        "siblings": [str(s) for s in value["siblings"]],
    }


def _decode(
    document: dict[str, Any],
    field: str,
    decoder: Callable[[bytes], T],
    height: int | None,
    check: int,
) -> T:
    """Decode a hex field; a missing or undecodable one fails `check`, the check of
    section 14.3 that names the field (2 tx, 3 header, 6 receipt)."""
    try:
        return decoder(bytes.fromhex(str(document[field])))
    except KeyError as exc:
        raise VerificationFailure(height, "receipt file", f"has no {field}", check) from exc
    except (ValueError, VotechainError) as exc:
        raise VerificationFailure(
            height, f"the receipt's {field}", f"does not decode: {exc}", check
        ) from exc


def _int(document: dict[str, Any], field: str) -> int:
    value = document.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise VerificationFailure(None, "receipt file", f"has no valid {field}", 0)
    return value
