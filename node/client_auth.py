"""Signed read requests: a voter proves to the RPC that it holds its voter key.

A participation history links a phone to the polls it voted in, so only its owner may
read it (issue 9, finding 2). The request is signed by the voter's active key:

    signature = Ed25519(voter key,
                        tagged_hash(CLIENT_REQUEST, encode(["history-request", chain_id,
                                                            voter_key, timestamp_ms])))

and accepted within HISTORY_REQUEST_WINDOW_MS of the node's clock, either way. The
chain id keeps a request for one chain from being used on another; the tag keeps it
from being any other signed statement. docs/PROTOCOL.md section 14.4 is the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chain import encoding
from chain.hashing import Domain, tagged_hash
from chain.keys import PrivateKey, verify_signature
from node.errors import RpcError, RpcErrorCode
from node.jsonbody import hex_field

HISTORY_REQUEST_TAG = "history-request"
HISTORY_REQUEST_WINDOW_MS = 5 * 60 * 1000
"""A request's timestamp_ms may be this far before or after the node's clock. Within it a
captured request could be replayed, but only to read what its capturer already saw."""
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


@dataclass(frozen=True)
class HistoryRequest:
    voter_key: bytes
    timestamp_ms: int
    signature: bytes


def history_request_hash(chain_id: str, voter_key: bytes, timestamp_ms: int) -> bytes:
    """What the voter key signs (PROTOCOL.md section 14.4)."""
    statement = encoding.encode([HISTORY_REQUEST_TAG, chain_id, voter_key, timestamp_ms])
    return tagged_hash(Domain.CLIENT_REQUEST, statement)


def sign_history_request(key: PrivateKey, chain_id: str, timestamp_ms: int) -> dict[str, Any]:
    """The JSON fields of POST /v1/history (the client adds paging)."""
    digest = history_request_hash(chain_id, key.public_key, timestamp_ms)
    return {
        "voter_key": key.public_key.hex(),
        "timestamp_ms": timestamp_ms,
        "signature": key.sign(digest).hex(),
    }


def parse_history_request(document: dict[str, Any]) -> HistoryRequest:
    """The request's fields, or RpcError(BAD_REQUEST) naming the one that is wrong."""
    timestamp_ms = document.get("timestamp_ms")
    if not isinstance(timestamp_ms, int) or isinstance(timestamp_ms, bool) or timestamp_ms < 0:
        raise RpcError(RpcErrorCode.BAD_REQUEST, "timestamp_ms must be a non-negative integer")
    if timestamp_ms >= 2**63:
        raise RpcError(RpcErrorCode.BAD_REQUEST, "timestamp_ms must be below 2**63")
    return HistoryRequest(
        hex_field(document, "voter_key", PUBLIC_KEY_BYTES),
        timestamp_ms,
        hex_field(document, "signature", SIGNATURE_BYTES),
    )


def check_history_request(request: HistoryRequest, chain_id: str, now_ms: int) -> None:
    """Raise STALE_REQUEST outside the window, BAD_REQUEST_SIGNATURE if the signature does
    not verify. (Whether the key is an enrolled voter's is the caller's check.)"""
    skew_ms = request.timestamp_ms - now_ms
    if abs(skew_ms) > HISTORY_REQUEST_WINDOW_MS:
        raise RpcError(
            RpcErrorCode.STALE_REQUEST,
            f"timestamp_ms is {skew_ms / 1000:+.0f} s from the node's clock; a request must be "
            f"signed within {HISTORY_REQUEST_WINDOW_MS // 1000} s of it (check your clock)",
        )
    digest = history_request_hash(chain_id, request.voter_key, request.timestamp_ms)
    if not verify_signature(request.voter_key, request.signature, digest):
        raise RpcError(
            RpcErrorCode.BAD_REQUEST_SIGNATURE,
            "the signature is not the voter key's over this history request "
            "(docs/PROTOCOL.md section 14.4)",
        )
