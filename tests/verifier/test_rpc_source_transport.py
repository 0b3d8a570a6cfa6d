"""How the verifier's RPC source reaches a node: https:// checked against the cluster's own
CA (`votechain verify --rpc URL --ca-file`, PROTOCOL.md 14.2), the default timeout, a
path prefix kept as written, and a node that answers 429 or 503 waited out for as long as
its Retry-After says (issue 12: mutation testing found none of this held by a test that
runs in this process; tests/cluster/test_tls.py runs `votechain verify` as a process).
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from node import tls
from tests.verifier.stand_in_node import serve
from verifier import sources
from verifier.errors import VerificationFailure
from verifier.sources import BUSY_RETRIES, RpcSource


class _Node(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []
    refusals: ClassVar[list[tuple[int, str | None]]] = []
    """(status, Retry-After) answered to the next requests for a block, in order."""

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        if self.path.endswith("/v1/status"):
            self._answer(200, json.dumps({"height": 1}).encode(), None)
        elif type(self).refusals:
            status, retry_after = type(self).refusals.pop(0)
            self._answer(status, b'{"error": "busy", "message": "full"}', retry_after)
        else:
            self._answer(200, b"raw", None)

    def _answer(self, status: int, body: bytes, retry_after: str | None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def node() -> Iterator[str]:
    _Node.paths, _Node.refusals = [], []
    with serve(_Node) as url:
        yield url


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the source takes, recorded instead of slept."""
    taken: list[float] = []
    monkeypatch.setattr(sources, "time", SimpleNamespace(sleep=taken.append))
    return taken


@pytest.fixture(scope="module")
def cluster_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A cluster CA and a node certificate for 127.0.0.1 signed by it, as `votechain
    tls-init` makes them: (ca.crt, node.crt, node.key)."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = tls._ca_certificate(ca_key, "votechain-test")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = tls._node_certificate(key, ca_key, ca_cert, "n1", "127.0.0.1")
    paths = folder / "ca.crt", folder / "n1.crt", folder / "n1.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def https_node(cluster_ca: tuple[Path, Path, Path]) -> Iterator[str]:
    _Node.paths, _Node.refusals = [], []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cluster_ca[1], cluster_ca[2])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Node)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_https_node_is_read_trusting_the_clusters_ca(
    https_node: str, cluster_ca: tuple[Path, Path, Path]
) -> None:
    source = RpcSource(https_node + "/", timeout_s=4.5, ca_file=cluster_ca[0])
    assert source.head_height() == 1
    assert source.get_bytes("/v1/raw/blocks/1") == b"raw"
    connection = source._connect()
    assert isinstance(connection, http.client.HTTPSConnection)
    assert (connection.host, connection.port) == ("127.0.0.1", int(https_node.rsplit(":", 1)[1]))
    assert connection.timeout == 4.5
    assert _Node.paths == ["/v1/status", "/v1/raw/blocks/1"]
    source.close()


def test_an_https_node_whose_certificate_the_system_does_not_trust_is_refused(
    https_node: str,
) -> None:
    """Without the cluster's CA the node's certificate is unknown: nothing is read."""
    with pytest.raises(VerificationFailure) as caught:
        RpcSource(https_node)
    failure = caught.value
    assert failure.subject == https_node + "/v1/status"
    assert failure.reason.startswith("cannot be fetched: ")
    assert "CERTIFICATE_VERIFY_FAILED" in failure.reason
    assert _Node.paths == []


def test_the_default_timeout_is_30_seconds(node: str) -> None:
    source = RpcSource(node)
    assert source.timeout_s == 30.0 and source._connect().timeout == 30.0
    source.close()


def test_a_path_prefix_is_kept_as_written(node: str) -> None:
    source = RpcSource(node + "/rpcX/")
    assert source.url == node + "/rpcX"
    assert source.get_bytes("/v1/raw/blocks/1") == b"raw"
    assert _Node.paths == ["/rpcX/v1/status", "/rpcX/v1/raw/blocks/1"]
    source.close()


@pytest.mark.parametrize("status", [429, 503])
def test_a_rate_limited_or_busy_node_is_asked_again_after_its_retry_after(
    node: str, sleeps: list[float], status: int
) -> None:
    source = RpcSource(node)
    _Node.refusals = [(status, "2"), (status, "3")]
    assert source.get_bytes("/v1/raw/blocks/1") == b"raw"
    assert sleeps == [2.0, 3.0]
    assert _Node.paths.count("/v1/raw/blocks/1") == 3
    source.close()


def test_a_node_that_stays_busy_is_reported_with_the_url_after_every_retry(
    node: str, sleeps: list[float]
) -> None:
    source = RpcSource(node)
    _Node.refusals = [(503, "1")] * (BUSY_RETRIES + 1)
    with pytest.raises(VerificationFailure) as caught:
        source.get_bytes("/v1/raw/blocks/1")
    failure = caught.value
    assert (failure.height, failure.subject, failure.reason, failure.rule) == (
        None,
        node + "/v1/raw/blocks/1",
        "the node stayed busy; try later",
        None,
    )
    assert sleeps == [1.0] * BUSY_RETRIES
    assert _Node.paths.count("/v1/raw/blocks/1") == BUSY_RETRIES
    source.close()
