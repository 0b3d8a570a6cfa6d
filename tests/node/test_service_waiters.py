"""A client waiting for its transaction to commit leaves nothing behind when it gives up."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

import pytest

from chain.keys import PrivateKey
from node.errors import RpcError, RpcErrorCode
from tests.node.live_node import LiveNode


def test_a_wait_that_times_out_forgets_its_waiter(tmp_path: Path) -> None:
    live = LiveNode(tmp_path)
    live.start()
    try:
        node = live.node
        assert node is not None
        node.config = dataclasses.replace(
            node.config, rpc=dataclasses.replace(node.config.rpc, commit_wait_timeout_s=0.2)
        )
        node._step = lambda event: None  # type: ignore[method-assign]  # the core never sees it
        tx = live.enroll_tx(PrivateKey.from_seed(secrets.token_bytes(32)), "+821033330001")
        for _ in range(3):
            with pytest.raises(RpcError) as error:
                live.run(node.submit(tx, wait_commit=True))
            assert error.value.code == RpcErrorCode.TIMEOUT
            assert "may still commit" in error.value.message
        assert not node._waiters, "no entry is left behind"
        assert len(node.mempool) == 1, "the transaction itself stays pending"
    finally:
        live.stop()
