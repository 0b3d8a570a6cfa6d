"""`votechain recover` and `votechain resubmit` on the aftermath of issue 9.

A node's store is made to hold what the attack left: a committed block over
MAX_BLOCK_BYTES at the head, nothing above it, written past every check (as the
validators wrote it before the limit was enforced). Recovery must rebuild the store below
it by re-execution, keep the damaged store aside, write the removed transactions to a
file, and the node must then run and take those transactions again.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from pathlib import Path

import pytest

import votingcontract
from chain.block import MAX_BLOCK_BYTES, Block, make_header
from chain.certificate import CommitCertificate
from chain.errors import DecodeError
from chain.keyfile import load_key
from chain.keys import PrivateKey
from chain.store import ChainStore
from chain.tx import Transaction
from cli.main import main
from cli.recover_cmds import read_removed
from tests.cluster.harness import LocalCluster
from tests.node.live_node import LiveNode

JUNK_TXS = 136
JUNK_BODY_BYTES = 64_700


class RestartedNode(LiveNode):
    """The same node (same folder, cluster file and ports) started again."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.config = cluster.config
        self.address = self.config.node("n1")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.node = None


def enroll(live: LiveNode, count: int) -> list[bytes]:
    """Commit `count` enrollments through the RPC; returns the encoded transactions."""
    txs = []
    for _ in range(count):
        voter = PrivateKey.generate()
        tx = live.enroll_tx(voter, f"+8210{secrets.randbelow(10**8):08d}")
        reply = live.post_json("/v1/tx?wait=commit", {"tx": tx.hex()})
        assert reply.status == 200, reply
        txs.append(tx)
    return txs


def append_oversized_block(live: LiveNode) -> tuple[Block, list[Transaction]]:
    """Write, past every check, a committed block over the limit on n1's stopped store:
    three valid enrollments and 136 large transactions, 9 MB in all (block 14 of issue 9
    was 9,005,319 bytes)."""
    node_dir = live.config.node_dir("n1")
    validator = load_key(node_dir / "validator.pem")
    enrollments = [
        Transaction.decode(live.enroll_tx(PrivateKey.generate(), f"+8210{n:08d}")) for n in range(3)
    ]
    junk_key = PrivateKey.generate()
    junk = [
        Transaction.create(junk_key, live.cluster.chain_id, "test", bytes(JUNK_BODY_BYTES), n)
        for n in range(JUNK_TXS)
    ]
    txs = (*enrollments, *junk)
    with ChainStore(node_dir / "chain", create=False) as store:
        height = store.head_height + 1
        timestamp_ms = store.get_header(height - 1).timestamp_ms + 1
        header = make_header(
            store.genesis.chain_id,
            height,
            timestamp_ms,
            store.block_hash(height - 1),
            txs,
            store.app_hash(height - 1),
            store.receipts_root(height - 1),
            validator.public_key,
        )
        block = Block(header, txs)
        context = votingcontract.BlockContext(store.genesis.chain_id, height, timestamp_ms)
        receipts, writes = votingcontract.execute_block(store, context, txs)
        certificate = CommitCertificate.sign(
            [validator], store.genesis.chain_id, 0, height, block.block_hash
        )
        store.append_block(block, certificate, [r.encode() for r in receipts], writes)
    assert block.encoded_size > MAX_BLOCK_BYTES
    return block, list(txs)


def test_recover_rebuilds_below_an_oversized_block_and_resubmit_brings_its_txs_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = LiveNode(tmp_path)
    live.start()
    try:
        enroll(live, 2)
    finally:
        live.stop()
    node_dir = live.config.node_dir("n1")
    config_path = str(live.cluster.config_path)
    bad_block, bad_txs = append_oversized_block(live)
    bad = bad_block.height
    with ChainStore(node_dir / "chain", create=False) as store:
        kept = [(store.block_hash(h), store.app_hash(h)) for h in range(bad)]
        with pytest.raises(DecodeError):  # the harm: the node's own store cannot read it
            store.get_block(bad)
        # While the store is held (a running node) recover refuses and changes nothing.
        assert main(["recover", "--node", "n1", "--below", str(bad), "-c", config_path]) == 1
        assert "stop the node before recovering it" in capsys.readouterr().err
    assert not (node_dir / "chain.recovering").exists()
    # The verifier's verdict on the damaged store: the validators' own block breaks rule 1.
    assert main(["verify", "--data", str(node_dir), "--workers", "1", "--json"]) == 1
    verdict = capsys.readouterr()
    assert f'"height": {bad}' in verdict.out + verdict.err, verdict
    assert '"rule": 1' in verdict.out + verdict.err, verdict

    assert main(["recover", "--node", "n1", "--below", str(bad), "-c", config_path, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kept_head"] == bad - 1 and summary["removed_heights"] == [bad]
    assert summary["transactions"] == len(bad_txs)
    with ChainStore(node_dir / "chain", create=False) as store:
        assert store.head_height == bad - 1
        assert [(store.block_hash(h), store.app_hash(h)) for h in range(bad)] == kept
        assert list(store.local_items(b"")) == []  # no consensus records of removed heights
    aside = Path(summary["damaged_store"])
    assert aside == node_dir / f"chain.damaged-at-{bad}"
    with ChainStore(aside, create=False) as damaged:  # kept, never deleted
        assert damaged.head_height == bad and damaged.block_hash(bad) == bad_block.block_hash
    assert main(["verify", "--data", str(node_dir), "--workers", "1", "--json"]) == 0
    capsys.readouterr()
    removed = Path(summary["removed_file"])
    assert [tx.tx_id for tx in read_removed(removed)] == [tx.tx_id for tx in bad_txs]

    restarted = RestartedNode(live.cluster)
    restarted.start()
    try:
        assert restarted.status()["height"] == bad - 1
        url = live.config.node("n1").rpc_url
        code = main(["resubmit", str(removed), "--rpc", url, "--wait", "--json"])
        report = json.loads(capsys.readouterr().out)
        assert code == 1  # some were refused, and each one is reported
        admitted = [r for r in report["results"] if r["admitted"]]
        assert [r["tx_id"] for r in admitted] == [tx.tx_id.hex() for tx in bad_txs[:3]]
        assert all(r["code"] == "accepted" for r in admitted)
        assert len(report["refused"]) == JUNK_TXS
        assert all(r["code"] and r["message"] for r in report["refused"])
        assert restarted.status()["height"] >= bad
    finally:
        restarted.stop()


def test_recover_refuses_a_height_outside_the_store(tmp_path: Path) -> None:
    live = LiveNode(tmp_path)
    live.start()
    try:
        enroll(live, 1)
    finally:
        live.stop()
    config_path = str(live.cluster.config_path)
    assert main(["recover", "--node", "n1", "--below", "5", "-c", config_path]) == 1
    assert main(["recover", "--node", "n1", "--below", "0", "-c", config_path]) == 1
    with ChainStore(live.config.node_dir("n1") / "chain", create=False) as store:
        assert store.head_height == 1  # nothing changed
