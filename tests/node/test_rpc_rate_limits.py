"""Issue 11: per-client rate limits on the validator RPC, against a real in-process node.

One client that floods POST /v1/tx or the heavy reads is answered 429 `rate_limited`
with Retry-After once its token bucket is empty, while another client is still served.
The node sits behind a "reverse proxy" on 127.0.0.1 (trusted_proxies), so clients are
told apart by X-Forwarded-For; a client that is not behind a trusted proxy cannot pick
its own bucket by writing that header.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from node.config import ConfigError, load_config
from node.errors import HTTP_STATUS, RpcErrorCode
from tests.node.live_node import LiveNode, Reply

TX_BURST = 5
READ_BURST = 8
SLOW_REFILL_PER_S = 0.01
"""One token per 100 s: no bucket refills while a test runs."""
PROXY = "127.0.0.1"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path_factory.mktemp("rate-limits-node"))
    config = node.config
    node.config = replace(
        config,
        rpc=replace(
            config.rpc,
            client_tx_burst=TX_BURST,
            client_txs_per_s=SLOW_REFILL_PER_S,
            client_read_burst=READ_BURST,
            client_reads_per_s=SLOW_REFILL_PER_S,
            trusted_proxies=(PROXY,),
            unlimited_clients=(),
        ),
    )
    node.start()
    try:
        yield node
    finally:
        node.stop()


def from_client(live: LiveNode, client: str, method: str, path: str, body: bytes = b"") -> Reply:
    """A request relayed by the trusted proxy on 127.0.0.1 for `client`."""
    return live.request(method, path, body or None, headers={"X-Forwarded-For": client})


def from_address(live: LiveNode, source: str, path: str, forwarded_for: str) -> Reply:
    """A request sent from loopback address `source` (not a trusted proxy)."""
    connection = http.client.HTTPConnection(
        live.address.host, live.address.rpc_port, 10, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers={"X-Forwarded-For": forwarded_for})
        response = connection.getresponse()
        return Reply(response.status, response.getheader("Retry-After") or "", response.read())
    finally:
        connection.close()


def rate_limited(reply: Reply) -> bool:
    return reply.status == 429 and reply.json()["error"] == "rate_limited"


def metric(live: LiveNode, kind: str) -> float:
    text = live.get("/metrics").body.decode()
    match = re.search(rf'votechain_rpc_rate_limited_total\{{kind="{kind}"\}} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else 0.0


def test_a_flooding_client_is_throttled_and_another_is_still_served(live: LiveNode) -> None:
    path = "/v1/blocks?from=1&limit=1"
    served = [from_client(live, "203.0.113.10", "GET", path) for _ in range(READ_BURST)]
    assert [r.status for r in served] == [200] * READ_BURST
    before = metric(live, "read")
    refused = live.request("GET", path, headers={"X-Forwarded-For": "203.0.113.10"})
    assert rate_limited(refused), refused
    assert metric(live, "read") == before + 1
    # Another citizen behind the same proxy has a bucket of their own.
    assert from_client(live, "198.51.100.20", "GET", path).status == 200
    # Cheap reads are not limited: the flooder can still see the node's status.
    assert from_client(live, "203.0.113.10", "GET", "/v1/status").status == 200


def test_the_refusal_says_when_to_retry(live: LiveNode) -> None:
    connection = http.client.HTTPConnection(live.address.host, live.address.rpc_port, 10)
    try:
        for _ in range(READ_BURST + 1):
            connection.request("GET", "/v1/raw/blocks/1", headers={"X-Forwarded-For": "192.0.2.7"})
            response = connection.getresponse()
            body = response.read()
    finally:
        connection.close()
    assert response.status == HTTP_STATUS[RpcErrorCode.RATE_LIMITED] == 429
    assert response.getheader("Content-Type", "").startswith("application/json")
    retry_after = int(response.getheader("Retry-After") or "0")
    assert 1 <= retry_after <= 100, retry_after  # one token of a 0.01/s refill: <= 100 s
    assert b"rate_limited" in body


def test_transactions_have_their_own_bucket(live: LiveNode) -> None:
    """Garbage costs a token as well as a valid transaction: the limit comes before any
    work on the body, so a flood of either is cut off alike."""
    client = "203.0.113.30"
    answers = [
        from_client(live, client, "POST", "/v1/tx", b'{"tx": "00"}') for _ in range(TX_BURST)
    ]
    assert all(a.status == 400 for a in answers), [a.status for a in answers]
    assert rate_limited(from_client(live, client, "POST", "/v1/tx", b'{"tx": "00"}'))
    # Its reads still have their own allowance.
    assert from_client(live, client, "GET", "/v1/blocks").status == 200


def test_forwarded_for_from_an_untrusted_address_is_ignored(live: LiveNode) -> None:
    """127.0.0.2 is no trusted proxy: each request names a new X-Forwarded-For, and all
    of them still spend 127.0.0.2's one bucket."""
    replies = [
        from_address(live, "127.0.0.2", "/v1/blocks", f"198.51.100.{i}")
        for i in range(READ_BURST + 1)
    ]
    assert [r.status for r in replies[:READ_BURST]] == [200] * READ_BURST
    assert rate_limited(replies[-1])


def test_rate_limit_settings_are_read_from_cluster_toml(tmp_path: Path) -> None:
    path = tmp_path / "cluster.toml"
    nodes = '[[nodes]]\nid = "n1"\npeer_port = 1\nrpc_port = 2\n'
    path.write_text(
        "[rpc]\nclient_tx_burst = 7\nclient_txs_per_s = 0.5\n"
        'trusted_proxies = ["10.0.0.1"]\nunlimited_clients = []\n' + nodes
    )
    rpc = load_config(path).rpc
    assert (rpc.client_tx_burst, rpc.client_txs_per_s) == (7, 0.5)
    assert rpc.trusted_proxies == ("10.0.0.1",) and rpc.unlimited_clients == ()
    path.write_text('[rpc]\ntrusted_proxies = "10.0.0.1"\n' + nodes)
    with pytest.raises(ConfigError, match="trusted_proxies must be a list"):
        load_config(path)
    path.write_text("[rpc]\nclient_reads_per_s = 0\n" + nodes)
    with pytest.raises(ConfigError, match="positive"):
        load_config(path)
