"""The OpenAPI 3.1 description of the client RPC, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from node.errors import RpcErrorCode

_ERROR = {"$ref": "#/components/schemas/Error"}
_HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _voter_status(operation: dict[str, Any]) -> dict[str, Any]:
    """The GET /v1/voters/{voter_key} operation with its 200 answer's schema."""
    schema = {
        "type": "object",
        "required": ["voter_key", "status"],
        "properties": {
            "voter_key": _HEX32,
            "status": {"type": "string", "enum": ["active", "pending", "revoked"]},
            "effective_at_ms": {"type": "integer", "minimum": 0},
            "replacement_pending_until_ms": {"type": "integer", "minimum": 0},
        },
    }
    operation["get"]["responses"]["200"]["content"]["application/json"] = {"schema": schema}
    return operation


def _get(summary: str, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params or [],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {}}},
                "400": {
                    "description": "bad request",
                    "content": {"application/json": {"schema": _ERROR}},
                },
                "404": {
                    "description": "not found",
                    "content": {"application/json": {"schema": _ERROR}},
                },
                "500": {
                    "description": "the node failed (internal)",
                    "content": {"application/json": {"schema": _ERROR}},
                },
            },
        }
    }


def _heavy(operation: dict[str, Any]) -> dict[str, Any]:
    """A read served by the node's read pool: 503 busy (with Retry-After) when it is full,
    and 429 rate_limited (with Retry-After) past the client's read allowance."""
    for method in operation.values():
        method["responses"]["429"] = {
            "description": "rate_limited: this client's reads are over rpc.client_read_burst "
            "and rpc.client_reads_per_s; retry after Retry-After",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": _ERROR}},
        }
        method["responses"]["503"] = {
            "description": "busy: the node's heavy-read pool is full; retry after Retry-After",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": _ERROR}},
        }
    return operation


def _path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _post(
    summary: str, schema: dict[str, Any], params: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": params or [],
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {}}},
                "202": {
                    "description": "accepted, not yet committed",
                    "content": {"application/json": {}},
                },
                "4XX": {
                    "description": "refused; 429 rate_limited (with Retry-After): this client "
                    "sent more than its allowance (rpc.client_* settings)",
                    "content": {"application/json": {"schema": _ERROR}},
                },
                "500": {
                    "description": "the node failed (internal)",
                    "content": {"application/json": {"schema": _ERROR}},
                },
                "503": {
                    "description": "retryable (Retry-After): busy (admission control: more "
                    "is offered than the cluster commits, or the mempool is full; the "
                    "transaction was not admitted); behind (the node trails the "
                    "cluster, so a refusal from it may be stale); cannot_commit (wait=commit on "
                    "a node without a quorum of peers or stuck in a view change); stopping "
                    "(the node is shutting down). Retry on another node of the cluster",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": _ERROR}},
                },
            },
        }
    }


def _image_operations() -> dict[str, Any]:
    """GET and PUT /v1/images/{sha256} (node/images.py)."""
    sha256 = [_path_param("sha256", _HEX32)]
    operations = _get(
        "An image a committed poll names: its bytes with the poll's Content-Type "
        "(image/png, image/jpeg or image/webp) and Cache-Control immutable; 404 if no poll "
        "names it or it was not uploaded yet. Check it against the hash before showing it",
        sha256,
    )
    operations["get"]["responses"]["200"]["content"] = {
        kind: {"schema": {"type": "string", "contentEncoding": "binary"}}
        for kind in ("image/png", "image/jpeg", "image/webp")
    }
    operations["put"] = {
        "summary": "Upload an image a committed poll names: taken only if the bytes hash "
        "to sha256, have the size and start like the type the poll names; at the "
        "client's transaction rate",
        "parameters": sha256,
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        "responses": {
            "200": {"description": "already stored", "content": {"application/json": {}}},
            "201": {"description": "stored", "content": {"application/json": {}}},
            "4XX": {
                "description": "not_found (no committed poll names it), bad_image (wrong "
                "hash, size or type), body_too_large, rate_limited",
                "content": {"application/json": {"schema": _ERROR}},
            },
        },
    }
    return operations


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


def openapi_document() -> dict[str, Any]:
    height = _path_param("height", {"type": "integer", "minimum": 1})
    poll_id = _path_param("poll_id", _HEX32)
    return {
        "openapi": "3.1.0",
        "info": {"title": "votechain node RPC", "version": "1"},
        "paths": {
            "/v1/status": _get(
                "Node status: role (validator or observer), height, head and app hash; a "
                "validator adds view, primary, peers, mempool; an observer adds "
                "validators_height, behind_blocks and its sources"
            ),
            "/v1/genesis": _get("The genesis document and its hash"),
            "/v1/tx": _post(
                "Submit a signed transaction (hex of its canonical encoding)",
                _object(tx={"type": "string", "pattern": "^[0-9a-f]+$"}),
                [_query_param("wait", {"type": "string", "enum": ["commit"]})],
            ),
            "/v1/tx/{tx_id}": _heavy(
                _get(
                    "A committed transaction with receipt, header, certificate and proofs; a "
                    "ballot's choices are hidden (choices_hidden) while its poll hides results",
                    [_path_param("tx_id", _HEX32)],
                )
            ),
            "/v1/txs": _heavy(
                _get(
                    "Committed tx ids starting with a hex prefix (at most 10, ascending): "
                    '{"prefix", "tx_ids"}',
                    [_query_param("prefix", {"type": "string", "pattern": "^[0-9a-f]{1,64}$"})],
                )
            ),
            "/v1/blocks": _heavy(
                _get(
                    "Block summaries",
                    [
                        _query_param("from", {"type": "integer", "minimum": 1}),
                        _query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                    ],
                )
            ),
            "/v1/blocks/{height}": _heavy(
                _get(
                    "A block with its certificate and one page of transactions with receipts "
                    "(next_tx_from: where the next page starts, null at the end); ballots as "
                    "in /v1/tx/{tx_id}",
                    [
                        height,
                        _query_param("tx_from", {"type": "integer", "minimum": 0}),
                        _query_param("tx_limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                    ],
                )
            ),
            "/v1/raw/blocks/{height}": _heavy(
                _get("msgpack [block, certificate, receipts], always whole", [height])
            ),
            "/v1/polls": _heavy(
                _get(
                    "Polls, newest first, one page (next_from: the next page, null at the end)",
                    [
                        _query_param(
                            "status", {"type": "string", "enum": ["open", "closed", "upcoming"]}
                        ),
                        _query_param("creator", _HEX32),
                        _query_param("org", {"type": "string"}),
                        _query_param(
                            "prefix",
                            {"type": "string", "pattern": "^[0-9a-f]{1,64}$"},
                        ),
                        _query_param("from", {"type": "integer", "minimum": 0}),
                        _query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                    ],
                )
            ),
            "/v1/polls/{poll_id}": _get("One poll", [poll_id]),
            "/v1/polls/{poll_id}/results": _get(
                "Counts and percentages per option; in a weighted poll (weighted: true) counts "
                "are sums of the voters' weights, with each option's ballots and the "
                "participants' participant_weight beside them",
                [poll_id],
            ),
            "/v1/polls/{poll_id}/crypto": _get(
                "A secret poll's trustees, key generation (transport keys, dealings, checks, "
                "qualified dealers, joint and verification keys), encrypted tally and partial "
                "decryptions so far; messages as hex of their canonical encodings "
                "(PROTOCOL.md section 15); not_found for a poll with public choices",
                [poll_id],
            ),
            "/v1/tracking/{code}": _get(
                "The accepted encrypted ballot with this tracking code: "
                '{"tracking_code", "shown", "tx_id"}; the code as shown to the voter (26 '
                "base32 characters, dashes and spaces ignored) or 64 hex digits (15.11)",
                [_path_param("code", {"type": "string", "maxLength": 80})],
            ),
            "/v1/images/{sha256}": _image_operations(),
            "/v1/history": _heavy(
                _post(
                    "Your participation records with your ballots and their proofs, one page; "
                    "signed by your active voter key (PROTOCOL.md section 14.4)",
                    {
                        "type": "object",
                        "required": ["voter_key", "timestamp_ms", "signature"],
                        "properties": {
                            "voter_key": _HEX32,
                            "timestamp_ms": {"type": "integer", "minimum": 0},
                            "signature": {"type": "string", "pattern": "^[0-9a-f]{128}$"},
                            "from": {"type": "integer", "minimum": 0},
                            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                        },
                    },
                )
            ),
            "/v1/voters/{voter_key}": _voter_status(
                _get(
                    "A voter key's status now: active (with the notice "
                    "replacement_pending_until_ms if a new key waits to replace it), pending "
                    "(active from effective_at_ms) or revoked; 404 if never enrolled. Never "
                    "the phone id",
                    [_path_param("voter_key", _HEX32)],
                )
            ),
            "/v1/orgs/{org_id}": _get(
                "One organisation with its keys (active and revoked); 404 if not registered",
                [_path_param("org_id", {"type": "string", "pattern": "^[a-z0-9._-]{1,64}$"})],
            ),
            "/v1/stats": _get("Operating report: polls by kind, ballots, voters"),
            "/v1/orgs": _heavy(
                _get("Every registered organisation: id, name, category, height, keys")
            ),
            "/v1/reasons": _get("Every receipt reason code with its description"),
            "/metrics": _get("Prometheus metrics (text format)"),
            "/openapi.json": _get("This document"),
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string", "enum": [c.value for c in RpcErrorCode]},
                        "message": {"type": "string"},
                        "reason": {
                            "type": "string",
                            "description": "the receipt reason code, when error is refused",
                        },
                    },
                },
            }
        },
    }
