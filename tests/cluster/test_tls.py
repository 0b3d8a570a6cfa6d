"""Issue 11: TLS on the client RPC and the peer links, on four real validator processes.

With [tls] enabled, `votechain tls-init` makes a CA and a certificate per node; the
validators then talk over wss:// with mutual TLS and serve their RPC as https://. Blocks
commit (a quorum of peer links works), the attester enrolls a citizen through the
validators' https RPC, the CLI and the verifier read over https with the cluster's CA,
and whoever does not hold the right certificate is refused: a plain-HTTP client, a
client trusting another CA, a peer dialler without a certificate or with one from
another CA.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chain.keys import PrivateKey
from cli.client import RpcClient, RpcFailure
from node.config import ConfigError, load_config
from node.senders import read_outbox_code
from node.tls import make_cluster_certificates, server_context
from tests.cluster.harness import ROOT, LocalCluster

CITIZEN = "+821055500001"


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    cluster = LocalCluster(tmp_path_factory.mktemp("tls-cluster"))
    with cluster.config_path.open("a") as file:
        file.write("\n[tls]\nenabled = true\n")
    cluster.config = load_config(cluster.config_path)
    created = cluster.cli("tls-init").stdout
    assert "ca.crt" in created and "n4.key" in created, created
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_nodes_serve_https_and_commit_over_tls_peer_links(tls_cluster: LocalCluster) -> None:
    config = tls_cluster.config
    assert all(n.rpc_url.startswith("https://") for n in config.nodes)
    assert all(n.peer_url.startswith("wss://") for n in config.nodes)
    voter = PrivateKey.from_seed(secrets.token_bytes(32))
    result = tls_cluster.enroll_directly("+821055500099", voter)
    assert result["receipt"]["accepted"], result
    statuses = tls_cluster.wait_converged()
    assert statuses[0]["height"] >= 1
    assert all(sum(s["peers"].values()) == 3 for s in statuses), statuses


def test_the_attester_enrolls_through_the_validators_https_rpc(tls_cluster: LocalCluster) -> None:
    attester = tls_cluster.config.attester.url
    started = _post(f"{attester}/v1/enroll/start", {"phone": CITIZEN})
    deadline = time.monotonic() + 10
    code = None
    while code is None and time.monotonic() < deadline:
        code = read_outbox_code(tls_cluster.config.attester_outbox, CITIZEN)
        time.sleep(0.1)
    assert code is not None
    voter = PrivateKey.from_seed(secrets.token_bytes(32))
    finished = _post(
        f"{attester}/v1/enroll/finish",
        {"session": started["session"], "code": code, "voter_key": voter.public_key.hex()},
    )
    assert finished["receipt"]["accepted"] and finished["height"] >= 1, finished


def test_the_cli_and_the_verifier_read_over_https(tls_cluster: LocalCluster) -> None:
    status = tls_cluster.cli("status").stdout
    assert "down" not in status, status
    url = tls_cluster.config.node("n2").rpc_url
    ca = str(tls_cluster.config.tls_ca_path)
    verified = subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", "--rpc", url, "--ca", ca],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    untrusted = subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", "--rpc", url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert untrusted.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in (
        untrusted.stdout + untrusted.stderr
    )


def test_plain_http_and_another_ca_are_refused(tls_cluster: LocalCluster, tmp_path: Path) -> None:
    address = tls_cluster.config.node("n1")
    plain = http.client.HTTPConnection(address.host, address.rpc_port, timeout=5)
    with pytest.raises((http.client.HTTPException, OSError)):
        plain.request("GET", "/v1/status")
        plain.getresponse().read()
    plain.close()
    other_ca = _other_cluster_ca(tls_cluster, tmp_path)
    with pytest.raises(RpcFailure, match="CERTIFICATE_VERIFY_FAILED"):
        RpcClient(address.rpc_url, timeout_s=5, ca_file=other_ca).get("/v1/status")
    # The system's CAs do not vouch for a cluster's own CA either.
    with pytest.raises(RpcFailure, match="CERTIFICATE_VERIFY_FAILED"):
        RpcClient(address.rpc_url, timeout_s=5).get("/v1/status")
    assert RpcClient(address.rpc_url, 5, ca_file=tls_cluster.config.tls_ca_path).get("/v1/status")


def test_the_peer_port_refuses_a_dialler_without_the_clusters_certificate(
    tls_cluster: LocalCluster, tmp_path: Path
) -> None:
    config = tls_cluster.config
    address = config.node("n1")
    # No client certificate at all: the handshake fails before any WebSocket frame.
    bare = ssl.create_default_context(cafile=config.tls_ca_path)
    assert not _peer_handshake_ok(bare, address.host, address.peer_port)
    # A certificate from another CA (a stranger's own "cluster").
    other_folder = tmp_path / "other"
    other_ca = _other_cluster_ca(tls_cluster, other_folder)
    stranger = ssl.create_default_context(cafile=config.tls_ca_path)
    stranger.load_cert_chain(other_ca.parent / "n2.crt", other_ca.parent / "n2.key")
    assert not _peer_handshake_ok(stranger, address.host, address.peer_port)
    # The cluster's own n2 certificate passes the handshake (the hello still decides).
    member = ssl.create_default_context(cafile=config.tls_ca_path)
    member.load_cert_chain(config.tls_cert_path("n2"), config.tls_key_path("n2"))
    assert _peer_handshake_ok(member, address.host, address.peer_port)


def _peer_handshake_ok(context: ssl.SSLContext, host: str, port: int) -> bool:
    """Whether a TLS connection to the peer port is accepted and answers HTTP. With TLS
    1.3 a refused client certificate is reported on the first read, not the handshake."""
    try:
        with (
            socket.create_connection((host, port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            tls.sendall(b"GET /nothing HTTP/1.1\r\nHost: peer\r\nConnection: close\r\n\r\n")
            return tls.recv(64).startswith(b"HTTP/1.1")
    except (ssl.SSLError, OSError):
        return False


def _other_cluster_ca(cluster: LocalCluster, folder: Path) -> Path:
    """The CA of another cluster with the same node names and hosts."""
    other = folder / "cluster.toml"
    folder.mkdir(parents=True, exist_ok=True)
    other.write_text(cluster.config_path.read_text())
    config = load_config(other)
    make_cluster_certificates(config)
    return config.tls_ca_path


def _post(url: str, document: dict[str, Any]) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(url)
    request = urllib.request.Request(
        url,
        data=json.dumps(document).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    assert parts.scheme == "http"  # the attester sits behind the operator's TLS proxy
    with urllib.request.urlopen(request, timeout=60) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def test_a_node_without_its_certificate_does_not_start(tmp_path: Path) -> None:
    """[tls] on but no certificates made: a clear refusal naming the file, before serving."""
    path = tmp_path / "cluster.toml"
    path.write_text('[tls]\nenabled = true\n[[nodes]]\nid = "n1"\npeer_port = 1\nrpc_port = 2\n')
    config = load_config(path)
    with pytest.raises(ConfigError, match=r"n1's certificate .*n1\.crt.*tls-init"):
        server_context(config, "n1", peers=False)
