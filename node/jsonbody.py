"""Reading JSON request bodies: one place for the errors every JSON endpoint gives."""

from __future__ import annotations

import json
from typing import Any

from node.errors import RpcError, RpcErrorCode


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or bad_request saying why not."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"body is not JSON: {exc}") from exc
    except RecursionError as exc:  # "[[[[..." deeper than the parser's stack
        raise RpcError(RpcErrorCode.BAD_REQUEST, "body is JSON nested too deeply") from exc
    if not isinstance(document, dict):
        raise RpcError(RpcErrorCode.BAD_REQUEST, "body must be a JSON object")
    return document


def str_field(document: dict[str, Any], name: str) -> str:
    """A non-empty string field, or bad_request naming it."""
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"field {name!r} must be a non-empty string")
    return value


def hex_field(document: dict[str, Any], name: str, length: int) -> bytes:
    """A field of exactly `length` bytes written as hex, or bad_request naming it."""
    value = document.get(name)
    try:
        if not isinstance(value, str):
            raise ValueError
        data = bytes.fromhex(value)
    except ValueError as exc:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"field {name!r} must be hex") from exc
    if len(data) != length:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"field {name!r} must be {length} bytes of hex")
    return data
