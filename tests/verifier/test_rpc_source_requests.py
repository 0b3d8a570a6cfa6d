"""What the verifier's RPC source asks a node, and how it reports a node it cannot use
(PROTOCOL.md 14.2; issue 12: mutation testing found these unchecked). A stand-in node on
a free port records every request path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tests.verifier.stand_in_node import serve
from verifier.errors import VerificationFailure
from verifier.sources import MAX_RETRY_AFTER_S, RpcSource, _retry_after_s


class _Node(BaseHTTPRequestHandler):
    paths: list[str] = []
    drops_left = 0
    """Requests to answer by closing the connection without a word."""

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        if type(self).drops_left > 0:
            type(self).drops_left -= 1
            self.close_connection = True
            return
        if self.path.endswith("/v1/status"):
            self._answer(200, json.dumps({"height": 1}).encode())
        elif self.path.endswith("/v1/text"):
            self._answer(200, b"not json")
        elif self.path.endswith("/v1/missing"):
            self._answer(404, b'{"error": "not_found", "message": "no such thing"}')
        else:
            self._answer(200, b"raw")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def node() -> Iterator[str]:
    _Node.paths, _Node.drops_left = [], 0
    with serve(_Node) as url:
        yield url


def test_a_node_behind_a_path_prefix_is_asked_under_that_prefix(node: str) -> None:
    source = RpcSource(node + "/votechain/")
    assert source.url == node + "/votechain"
    assert source.get_bytes("/v1/raw/blocks/1") == b"raw"
    assert _Node.paths == ["/votechain/v1/status", "/votechain/v1/raw/blocks/1"]


def test_a_trailing_slash_is_not_doubled(node: str) -> None:
    RpcSource(node + "/")
    assert _Node.paths == ["/v1/status"]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "http://", "127.0.0.1:8545"])
def test_a_url_that_is_not_http_is_refused_naming_it(url: str) -> None:
    with pytest.raises(VerificationFailure) as caught:
        RpcSource(url)
    assert (caught.value.subject, caught.value.reason) == (url, "is not an http:// or https:// URL")
    assert caught.value.height is None


def test_a_dropped_connection_is_asked_again_once(node: str) -> None:
    source = RpcSource(node)
    _Node.drops_left = 1
    assert source.get_bytes("/v1/raw/blocks/1") == b"raw"
    _Node.drops_left = 5
    with pytest.raises(VerificationFailure) as caught:
        source.get_bytes("/v1/raw/blocks/2")
    assert caught.value.subject == node + "/v1/raw/blocks/2"
    assert caught.value.reason.startswith("cannot be fetched: ")
    assert _Node.paths.count("/v1/raw/blocks/2") == 2  # asked twice, then given up
    assert _Node.drops_left == 3


def test_an_error_answer_names_the_url_and_the_status(node: str) -> None:
    source = RpcSource(node)
    with pytest.raises(VerificationFailure) as caught:
        source.get_bytes("/v1/missing")
    assert caught.value.subject == node + "/v1/missing"
    assert caught.value.reason == "answered HTTP 404: no such thing"


def test_an_answer_that_is_not_json_is_refused_naming_the_url(node: str) -> None:
    source = RpcSource(node)
    with pytest.raises(VerificationFailure) as caught:
        source.get_json("/v1/text")
    assert (caught.value.subject, caught.value.reason) == (
        node + "/v1/text",
        "answered something not JSON",
    )


def test_the_connection_keeps_the_timeout_and_is_reused(node: str) -> None:
    source = RpcSource(node, timeout_s=7.5)
    connection = source._connect()
    assert connection.timeout == 7.5 and connection.port == int(node.rsplit(":", 1)[1])
    assert connection.host == "127.0.0.1" and source._connect() is connection


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, 1.0), ("3", 3.0), ("0.5", 0.5), ("soon", 1.0), ("0", 0.1), ("600", MAX_RETRY_AFTER_S)],
)
def test_retry_after_is_read_in_seconds_within_bounds(header: str | None, seconds: float) -> None:
    assert _retry_after_s(header) == seconds
