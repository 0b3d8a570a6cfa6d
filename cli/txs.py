"""Signing and submitting transactions from the CLI."""

from __future__ import annotations

import secrets
from typing import Any

from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.client import RpcClient


def chain_id_of(client: RpcClient) -> str:
    chain_id: str = client.get("/v1/status")["chain_id"]
    return chain_id


def sign(key: PrivateKey, chain_id: str, body: Any) -> Transaction:
    """Sign a votingcontract body with a fresh random nonce."""
    return Transaction.create(key, chain_id, body.KIND, body.encode(), secrets.randbits(63))


def submit(client: RpcClient, tx: Transaction, wait: bool = True) -> dict[str, Any]:
    """Submit; with `wait`, return once committed (height, receipt, proofs)."""
    path = "/v1/tx?wait=commit" if wait else "/v1/tx"
    result: dict[str, Any] = client.post(path, {"tx": tx.encode().hex()})
    return result


def describe_receipt(result: dict[str, Any]) -> str:
    receipt = result.get("receipt")
    if receipt is None:
        return f"submitted {result.get('tx_id')} (pending)"
    verdict = "accepted" if receipt["accepted"] else f"refused: {receipt['code']}"
    return f"{verdict} at height {result['height']} (tx {result['tx']['tx_id']})" + (
        "" if receipt["accepted"] else f" - {receipt['description']}"
    )
