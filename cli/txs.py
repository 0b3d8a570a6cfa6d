"""Signing and submitting transactions from the CLI."""

from __future__ import annotations

import secrets
from typing import Any

from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.client import RpcClient, RpcFailure
from node.errors import RpcErrorCode


def chain_id_of(client: RpcClient) -> str:
    chain_id: str = client.get("/v1/status")["chain_id"]
    return chain_id


def sign(key: PrivateKey, chain_id: str, body: Any) -> Transaction:
    """Sign a votingcontract body with a fresh random nonce."""
    return Transaction.create(key, chain_id, body.KIND, body.encode(), secrets.randbits(63))


def submit(client: RpcClient, tx: Transaction, wait: bool = True) -> dict[str, Any]:
    """Submit; with `wait`, return once committed (height, receipt, proofs).

    A node that is behind, cannot commit, is stopping or is unreachable hands the
    transaction on to the next node of the cluster (RpcClient.post_retrying). A node
    that answers `already_committed` (an earlier node took it, and it committed) gives
    the committed transaction instead.
    """
    path = "/v1/tx?wait=commit" if wait else "/v1/tx"
    try:
        result: dict[str, Any] = client.post_retrying(path, {"tx": tx.encode().hex()})
    except RpcFailure as exc:
        if exc.code != RpcErrorCode.ALREADY_COMMITTED.value:
            raise
        committed: dict[str, Any] = client.get_retrying(f"/v1/tx/{tx.tx_id.hex()}")
        return {"status": "committed", **committed}
    return result


def describe_receipt(result: dict[str, Any]) -> str:
    receipt = result.get("receipt")
    if receipt is None:
        return f"submitted {result.get('tx_id')} (pending)"
    verdict = "accepted" if receipt["accepted"] else f"refused: {receipt['code']}"
    return f"{verdict} at height {result['height']} (tx {result['tx']['tx_id']})" + (
        "" if receipt["accepted"] else f" - {receipt['description']}"
    )
