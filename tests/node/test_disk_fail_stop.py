"""Issue 11: a durable write the disk refuses stops the node at once (fail-stop).

The node is the production Node in this process (tests/node/live_node.py); its store is
made to refuse writes as a full disk does (chain.errors.StoreWriteError, which the store
raises for ENOSPC/EIO and LevelDB's sticky background error, see
tests/chain/test_store_disk_full.py for the real thing). os._exit is replaced by a
recorder, so the test sees the exit status and what the node did before it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import node.service as service
from chain.errors import StoreWriteError
from chain.keys import PrivateKey
from consensus import Broadcast, Persist, ReplicaId, Send
from consensus.messages import Checkpoint, sign
from consensus.records import ViewRecord
from consensus.types import Height, View
from node.config import ConfigError
from node.service import EXIT_DISK_FAILED, Node
from tests.node.live_node import LiveNode


class Exited(Exception):
    """Raised instead of os._exit so the test can look afterwards (an Exception, so a
    task it ends on the node's loop stores it instead of stopping the loop)."""

    def __init__(self, status: int) -> None:
        self.status = status


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    live = LiveNode(tmp_path)
    live.start()

    def exit_(status: int) -> None:
        raise Exited(status)

    monkeypatch.setattr(service.os, "_exit", exit_)
    yield live
    monkeypatch.undo()
    live.stop()


def full_disk(*args: Any, **kwargs: Any) -> None:
    raise StoreWriteError("the disk of the chain store at /x refused a write: No space left")


def test_a_refused_record_write_stops_the_node_before_anything_is_sent(
    live: LiveNode, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    node = live.node
    assert node is not None
    sent: list[Any] = []
    monkeypatch.setattr(node.transport, "broadcast", lambda data: sent.append(data))
    monkeypatch.setattr(node.transport, "send", lambda to, data: sent.append(data))
    monkeypatch.setattr(node.store, "write_local", full_disk)
    checkpoint = sign(Checkpoint(Height(5), b"\1" * 32, ReplicaId(0)), node.key, node.chain_id)
    record = ViewRecord(View(3), False, Height(0), None, None)
    with pytest.raises(Exited) as exited:
        node._execute([Persist(record), Broadcast(checkpoint), Send(ReplicaId(0), checkpoint)])
    assert exited.value.status == EXIT_DISK_FAILED == 74
    assert sent == [], "nothing that depends on the lost write may leave"
    err = capfd.readouterr().err
    assert "FATAL" in err and "No space left" in err and "persisting 1 consensus records" in err


def test_a_refused_block_write_stops_the_node_and_wakes_no_client(
    live: LiveNode, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    node = live.node
    assert node is not None
    monkeypatch.setattr(node.store, "append_block", full_disk)
    exits: list[int] = []

    def exit_(status: int) -> None:
        exits.append(status)
        raise Exited(status)

    monkeypatch.setattr(service.os, "_exit", exit_)
    # The single validator commits on its own; its delivery writes the block.
    tx = live.enroll_tx(PrivateKey.generate(), "+821044440001")
    reply = live.request("POST", "/v1/tx", f'{{"tx": "{tx.hex()}"}}'.encode())
    assert reply.status == 202, reply
    deadline = 200
    while not exits and deadline:
        live.run(asyncio.sleep(0.05))
        deadline -= 1
    assert exits == [EXIT_DISK_FAILED]
    assert node.store.head_height == 0, "the refused block is not half-written"
    assert "storing block 1" in capfd.readouterr().err


def test_a_node_whose_disk_cannot_take_writes_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = LiveNode(tmp_path)
    monkeypatch.setattr(service.ChainStore, "probe_write", full_disk)
    with pytest.raises(ConfigError) as error:
        Node(live.config, "n1")
    message = str(error.value)
    assert "n1 cannot start" in message and "refused a write" in message
    assert "free space" in message


def test_an_idle_node_whose_disk_fills_stops_at_its_next_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No vote, no block: the periodic probe write finds the disk that takes no writes."""
    monkeypatch.setattr(service, "DISK_PROBE_INTERVAL_S", 0.2)
    exits: list[int] = []

    def exit_(status: int) -> None:
        exits.append(status)
        raise Exited(status)

    monkeypatch.setattr(service.os, "_exit", exit_)
    live = LiveNode(tmp_path)
    live.start()
    try:
        node = live.node
        assert node is not None
        monkeypatch.setattr(node.store, "put_local", full_disk)
        for _ in range(100):
            if exits:
                break
            live.run(asyncio.sleep(0.05))
        assert exits == [EXIT_DISK_FAILED]
    finally:
        monkeypatch.undo()
        live.stop()
