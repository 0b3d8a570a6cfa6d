"""The verifier's RPC source waits out a node's `503 busy` (its heavy-read pool is full)
and asks again after Retry-After, instead of failing the whole verification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tests.verifier.stand_in_node import serve
from verifier.errors import VerificationFailure
from verifier.sources import BUSY_RETRIES, RpcSource


class _Node(BaseHTTPRequestHandler):
    busy_left = 0

    def do_GET(self) -> None:
        if self.path == "/v1/raw/blocks/1" and type(self).busy_left > 0:
            type(self).busy_left -= 1
            self._answer(503, b'{"error": "busy", "message": "full"}', {"Retry-After": "0"})
        elif self.path == "/v1/status":
            self._answer(200, json.dumps({"height": 1}).encode(), {})
        else:
            self._answer(200, b"raw", {})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def node() -> Iterator[str]:
    with serve(_Node) as url:
        yield url


def test_a_busy_answer_is_retried_after_retry_after(node: str) -> None:
    _Node.busy_left = 3
    source = RpcSource(node)
    assert source.get_bytes("/v1/raw/blocks/1") == b"raw"
    assert _Node.busy_left == 0


def test_a_node_that_stays_busy_fails_clearly(node: str) -> None:
    _Node.busy_left = BUSY_RETRIES + 5
    source = RpcSource(node)
    with pytest.raises(VerificationFailure, match="stayed busy"):
        source.get_bytes("/v1/raw/blocks/1")
