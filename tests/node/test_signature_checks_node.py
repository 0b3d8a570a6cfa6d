"""A real node checks a transaction's signature once: at admission, not again in its
consensus core, and not again when the same bytes are submitted twice (issue 13)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from chain.keys import PrivateKey
from tests.node.live_node import LiveNode


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path_factory.mktemp("signature-checks"))
    node.start()
    try:
        yield node
    finally:
        node.stop()


def signature_checks(live: LiveNode) -> dict[str, float]:
    text = live.get("/metrics").body.decode()
    pattern = r'votechain_signature_checks_total\{where="([^"]+)"\} ([0-9.e+]+)'
    return {where: float(count) for where, count in re.findall(pattern, text)}


def test_an_admitted_transaction_is_checked_once_by_the_node(live: LiveNode) -> None:
    tx = live.enroll_tx(PrivateKey.from_seed(bytes([7]) * 32), "+821055500007")
    reply = live.post_json("/v1/tx?wait=commit", {"tx": tx.hex()})
    assert reply.status == 200 and reply.json()["status"] == "committed", reply
    # The mempool checked it; the consensus core took it without checking it again.
    assert signature_checks(live) == {"mempool": 1.0}
    again = live.post_json("/v1/tx", {"tx": tx.hex()})
    assert again.json()["error"] == "already_committed", again
    assert signature_checks(live) == {"mempool": 1.0}
