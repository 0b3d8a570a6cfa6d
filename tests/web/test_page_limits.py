"""A client that floods the heavy pages (the poll list, statistics) is refused as the
RPC refuses it (429 rate_limited, Retry-After), with a page in its own language, while
another client is still served."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.node.live_node import Reply
from tests.web.web_node import WebNode

READ_BURST = 3
SLOW_REFILL_PER_S = 0.01
"""One token per 100 s: no bucket refills while the test runs."""
PROXY = "127.0.0.1"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebNode]:
    node = WebNode(tmp_path_factory.mktemp("web-limits-node"))
    node.config = replace(
        node.config,
        rpc=replace(
            node.config.rpc,
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


def from_client(live: WebNode, client: str, path: str, language: str) -> Reply:
    return live.request(
        "GET",
        path,
        headers={"X-Forwarded-For": client, "Accept-Language": language},
        content_type="",
    )


def test_a_flooding_client_gets_a_rate_limited_page_in_its_language(live: WebNode) -> None:
    for _ in range(READ_BURST):
        assert from_client(live, "198.51.100.7", "/", "ko").status == 200
    refused = from_client(live, "198.51.100.7", "/stats", "ko")
    assert refused.status == 429
    assert refused.content_type.startswith("text/html")
    assert "요청이 너무 많습니다" in refused.body.decode()
    assert from_client(live, "198.51.100.8", "/", "en").status == 200


def test_the_refusal_says_when_to_retry(live: WebNode) -> None:
    import http.client

    connection = http.client.HTTPConnection(live.address.host, live.address.rpc_port, 30)
    try:
        for _ in range(READ_BURST + 1):
            connection.request(
                "GET", "/", headers={"X-Forwarded-For": "198.51.100.9", "Accept-Language": "en"}
            )
            response = connection.getresponse()
            body = response.read().decode()
        assert response.status == 429
        assert int(response.getheader("Retry-After", "0")) >= 1
        assert "Too many requests from your connection" in body
    finally:
        connection.close()


def test_a_prefix_shorter_than_a_short_link_is_a_heavy_read_and_a_short_link_is_not(
    live: WebNode,
) -> None:
    client = "198.51.100.10"
    for _ in range(READ_BURST):
        assert from_client(live, client, "/p/abc", "en").status == 404  # no such poll
    assert from_client(live, client, "/p/abc", "en").status == 429
    # Short links and full ids are what a shared link holds: never limited.
    for _ in range(READ_BURST + 1):
        assert from_client(live, client, "/p/abcdef012345", "en").status == 404
        assert from_client(live, client, "/p/" + "ab" * 32, "en").status == 404
