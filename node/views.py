"""JSON views of chain objects for the RPC, CLI and web UI (one place for the shapes)."""

from __future__ import annotations

from typing import Any

import votingcontract
from chain.block import Block
from chain.errors import VotechainError
from chain.merkle import MerkleProof, merkle_proof
from chain.store import ChainStore
from chain.tx import Transaction


def proof_dict(proof: MerkleProof) -> dict[str, Any]:
    return {
        "index": proof.index,
        "leaf_count": proof.leaf_count,
        "siblings": [s.hex() for s in proof.siblings],
    }


def tx_dict(tx: Transaction) -> dict[str, Any]:
    try:
        body: Any = votingcontract.decode_body(tx.kind, tx.body).to_dict()
    except (ValueError, KeyError, VotechainError):
        body = {"undecodable": tx.body.hex()}
    return {
        "tx_id": tx.tx_id.hex(),
        "chain_id": tx.chain_id,
        "kind": tx.kind,
        "signer": tx.signer.hex(),
        "nonce": tx.nonce,
        "body": body,
        "encoded": tx.encode().hex(),
    }


def header_dict(block: Block) -> dict[str, Any]:
    h = block.header
    return {
        "height": h.height,
        "hash": block.block_hash.hex(),
        "chain_id": h.chain_id,
        "timestamp_ms": h.timestamp_ms,
        "prev_hash": h.prev_hash.hex(),
        "tx_root": h.tx_root.hex(),
        "prev_app_hash": h.prev_app_hash.hex(),
        "prev_receipts_root": h.prev_receipts_root.hex(),
        "proposer": h.proposer.hex(),
        "encoded": h.encode().hex(),
    }


def certificate_dict(store: ChainStore, height: int) -> dict[str, Any]:
    certificate = store.get_certificate(height)
    return {
        "view": certificate.view,
        "height": certificate.height,
        "block_hash": certificate.block_hash.hex(),
        "signers": [s.validator.hex() for s in certificate.signatures],
        "encoded": certificate.encode().hex(),
    }


def receipt_dict(encoded: bytes) -> dict[str, Any]:
    receipt = votingcontract.Receipt.decode(encoded)
    document: dict[str, Any] = receipt.to_dict()
    document["description"] = votingcontract.describe(receipt.code)
    document["encoded"] = encoded.hex()
    return document


def block_summary(store: ChainStore, height: int) -> dict[str, Any]:
    block = store.get_block(height)
    document = header_dict(block)
    document["tx_count"] = len(block.transactions)
    document["app_hash"] = store.app_hash(height).hex()
    return document


def block_detail(store: ChainStore, height: int) -> dict[str, Any]:
    block = store.get_block(height)
    receipts = store.get_receipts(height)
    return {
        "header": header_dict(block),
        "certificate": certificate_dict(store, height),
        "app_hash": store.app_hash(height).hex(),
        "transactions": [
            {**tx_dict(tx), "receipt": receipt_dict(r)}
            for tx, r in zip(block.transactions, receipts, strict=True)
        ],
    }


def committed_tx(store: ChainStore, height: int, position: int) -> dict[str, Any]:
    """A committed tx with everything a citizen needs to prove it counted.

    tx_proof shows the tx is in block `height` (tx_root, certified by `certificate`);
    when block height+1 exists, receipt_proof shows the receipt is in its
    prev_receipts_root, certified by `next_certificate`.
    """
    block = store.get_block(height)
    receipts = store.get_receipts(height)
    tx_ids = [tx.tx_id for tx in block.transactions]
    document: dict[str, Any] = {
        "height": height,
        "position": position,
        "tx": tx_dict(block.transactions[position]),
        "receipt": receipt_dict(receipts[position]),
        "header": header_dict(block),
        "certificate": certificate_dict(store, height),
        "tx_proof": proof_dict(merkle_proof(tx_ids, position)),
        "receipt_proof": None,
    }
    if store.head_height > height:
        following = store.get_block(height + 1)
        document["receipt_proof"] = {
            "proof": proof_dict(merkle_proof(receipts, position)),
            "next_header": header_dict(following),
            "next_certificate": certificate_dict(store, height + 1),
        }
    return document


def history_with_proofs(store: ChainStore, records: list[Any]) -> list[dict[str, Any]]:
    entries = []
    for record in records:
        entry = dict(record.to_dict())
        location = store.locate_tx(record.tx_id)
        if location is not None:
            block = store.get_block(location[0])
            tx_ids = [tx.tx_id for tx in block.transactions]
            entry["block_hash"] = block.block_hash.hex()
            entry["tx_proof"] = proof_dict(merkle_proof(tx_ids, location[1]))
        entries.append(entry)
    return entries


def reason_table() -> dict[str, str]:
    codes = [votingcontract.ACCEPTED, *(code.value for code in votingcontract.ReasonCode)]
    return {code: votingcontract.describe(code) for code in codes}
