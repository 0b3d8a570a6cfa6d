"""`votechain verify --rpc` in this process: the RPC source reading the cluster's chain
from a stand-in node that answers as node/rpc.py does (node/views.py builds the raw
blocks and committed transactions from a copy of the cluster's data directory).

Issue 12: mutation testing found every RPC read (status, genesis, raw blocks, committed
transactions, closing) reached only by `votechain` processes, which run the unmutated
code. Here a replay over RPC must give the report a replay of the data directory gives,
and the node's error answers reach the auditor as the node wrote them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest

from chain import encoding
from chain.genesis import Genesis
from chain.store import ChainStore
from node import views
from tests.verifier.cluster_chain import ClusterChain
from tests.verifier.stand_in_node import serve
from verifier.errors import VerificationFailure
from verifier.receipts import receipt_from_committed_tx, verify_receipt
from verifier.replay import verify_chain
from verifier.sources import DataDirSource, RpcSource

TIMING = ("elapsed_s", "ballots_per_s", "workers")


class _Node(BaseHTTPRequestHandler):
    """GET /v1/status, /v1/genesis, /v1/raw/blocks/{h}, /v1/tx/{id} from `store`;
    `overrides` answers a path with (status, body) instead."""

    store: ClassVar[ChainStore]
    status: ClassVar[dict[str, Any]]
    overrides: ClassVar[dict[str, tuple[int, bytes]]] = {}
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        store = type(self).store
        if self.path in type(self).overrides:
            self._answer(*type(self).overrides[self.path])
        elif self.path == "/v1/status":
            self._answer(200, json.dumps(type(self).status).encode())
        elif self.path == "/v1/genesis":
            document = json.loads(store.genesis.to_json())
            document["genesis_hash"] = store.genesis.genesis_hash.hex()
            self._answer(200, json.dumps(document).encode())
        elif self.path.startswith("/v1/raw/blocks/"):
            height = int(self.path.rsplit("/", 1)[1])
            if not 1 <= height <= store.head_height:
                self._answer(404, b'{"error": "not_found", "message": "no such block"}')
            else:
                self._answer(200, views.raw_block(store, height))
        elif self.path.startswith("/v1/tx/"):
            location = store.locate_tx(bytes.fromhex(self.path.rsplit("/", 1)[1]))
            assert location is not None
            self._answer(200, json.dumps(views.committed_tx(store, *location, None)).encode())
        else:
            self._answer(404, b'{"error": "not_found", "message": "unknown path"}')

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def chain_copy(
    cluster_chain: ClusterChain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChainStore]:
    copy = tmp_path_factory.mktemp("rpc-chain") / "chain"
    shutil.copytree(cluster_chain.chain_dir, copy, ignore=shutil.ignore_patterns("LOCK"))
    store = ChainStore(copy, create=False)
    yield store
    store.close()


@pytest.fixture
def node(chain_copy: ChainStore) -> Iterator[str]:
    head = chain_copy.head_height
    _Node.store = chain_copy
    _Node.status = {"height": head, "app_hash": chain_copy.app_hash(head).hex()}
    _Node.overrides, _Node.paths = {}, []
    with serve(_Node) as url:
        yield url


def _without_timing(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in TIMING}


def test_a_replay_over_rpc_reports_what_a_replay_of_the_data_directory_reports(
    node: str, cluster_chain: ClusterChain
) -> None:
    source = RpcSource(node)
    try:
        over_rpc = verify_chain(source).to_dict()
    finally:
        source.close()
    data = DataDirSource(Path(cluster_chain.chain_dir))
    try:
        from_disk = verify_chain(data).to_dict()
    finally:
        data.close()
    assert _without_timing(over_rpc) == _without_timing(from_disk)
    assert over_rpc["blocks"] == cluster_chain.head
    assert over_rpc["genesis_hash"] == cluster_chain.genesis_hash
    raw_paths = [p for p in _Node.paths if p.startswith("/v1/raw/blocks/")]
    assert raw_paths == [f"/v1/raw/blocks/{h}" for h in range(1, cluster_chain.head + 1)]


def test_the_blocks_over_rpc_are_the_stored_bytes(node: str, chain_copy: ChainStore) -> None:
    source = RpcSource(node)
    head = chain_copy.head_height
    assert source.head_height() == head
    assert next(iter(source.blocks())).height == 1
    blocks = list(source.blocks(head - 1))
    assert [b.height for b in blocks] == [head - 1, head]
    for raw in blocks:
        assert raw.block == chain_copy.get_block_bytes(raw.height)
        assert raw.certificate == chain_copy.get_certificate_bytes(raw.height)
        assert raw.receipts == chain_copy.get_receipts(raw.height)
        assert raw.block_value == encoding.decode(raw.block)
    source.close()


def test_the_genesis_over_rpc_is_the_chains_and_is_asked_once(
    node: str, cluster_chain: ClusterChain
) -> None:
    source = RpcSource(node)
    genesis = source.genesis()
    assert genesis == Genesis.from_json(cluster_chain.genesis_json)
    assert genesis.genesis_hash.hex() == cluster_chain.genesis_hash
    assert source.genesis() is genesis
    assert _Node.paths == ["/v1/status", "/v1/genesis"]
    source.close()


def test_a_malformed_genesis_from_the_node_is_refused(node: str) -> None:
    _Node.overrides["/v1/genesis"] = (200, b'{"chain_id": "x"}')
    source = RpcSource(node)
    with pytest.raises(VerificationFailure) as caught:
        source.genesis()
    failure = caught.value
    assert (failure.height, failure.subject, failure.rule) == (None, "genesis from RPC", None)
    assert failure.reason.startswith("is malformed: ")
    source.close()


def test_the_app_hash_is_the_nodes_for_its_head_only(node: str, chain_copy: ChainStore) -> None:
    head = chain_copy.head_height
    source = RpcSource(node)
    assert source.stored_app_hash(head) == chain_copy.app_hash(head)
    assert source.stored_app_hash(head - 1) is None
    assert source.stored_state() is None
    source.close()
    _Node.status = {"height": str(head)}  # a node that does not say its app hash
    quiet = RpcSource(node)
    assert quiet.head_height() == head
    assert quiet.stored_app_hash(head) is None
    quiet.close()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ([b"block", b"certificate"], "raw block: expected 3 fields, got 2"),
        ([b"block", b"certificate", b"receipts"], "receipts: expected an array, got bytes"),
        ([b"block", b"certificate", [b"r", 7]], "receipt: expected bytes, got int"),
    ],
    ids=["two-fields", "receipts-not-a-list", "receipt-not-bytes"],
)
def test_a_raw_block_that_does_not_decode_fails_rule_1_at_its_height(
    node: str, answer: list[object], reason: str
) -> None:
    _Node.overrides["/v1/raw/blocks/2"] = (200, encoding.encode(answer))  # type: ignore[arg-type]
    source = RpcSource(node)
    with pytest.raises(VerificationFailure) as caught:
        source.raw_block(2)
    failure = caught.value
    assert (failure.height, failure.subject, failure.reason, failure.rule) == (
        2,
        "block 2 from the RPC",
        f"does not decode: {reason}",
        1,
    )
    source.close()


def test_a_committed_transaction_over_rpc_makes_the_saved_receipt(
    node: str, cluster_chain: ClusterChain
) -> None:
    """`votechain receipt save` over this source writes the receipt the cluster's CLI
    saved (the summary aside: the node hid the ballot's choice from the CLI)."""
    source = RpcSource(node)
    genesis = source.genesis()
    committed = source.committed_tx(cluster_chain.receipt_tx_id)
    assert _Node.paths[-1] == f"/v1/tx/{cluster_chain.receipt_tx_id}"
    document = receipt_from_committed_tx(committed, genesis)
    saved = json.loads(Path(cluster_chain.receipt_file).read_text())
    assert {k: v for k, v in document.items() if k != "summary"} == {
        k: v for k, v in saved.items() if k != "summary"
    }
    assert verify_receipt(document, genesis).receipt_certified
    source.close()


def test_closing_drops_the_connection_and_a_later_request_opens_another(node: str) -> None:
    source = RpcSource(node)
    first = source._connect()
    source.close()
    assert source._connection is None
    source.close()  # closing twice is harmless
    assert source.head_height() >= 1
    assert source.get_bytes("/v1/raw/blocks/1")
    assert source._connection is not None and source._connection is not first
    source.close()


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (json.dumps({"error": "x", "message": "m" * 250}).encode(), "m" * 200),
        (b'{"error": "internal"}', ""),
        (b'["not", "an", "object"]', '["not", "an", "object"]'),
        (b"\xff" + b"t" * 250, "\ufffd" + "t" * 199),
    ],
    ids=["long-message", "no-message", "json-list", "not-utf8"],
)
def test_an_error_answer_shows_the_nodes_message_or_its_first_200_bytes(
    node: str, body: bytes, shown: str
) -> None:
    _Node.overrides["/v1/raw/blocks/1"] = (500, body)
    source = RpcSource(node)
    with pytest.raises(VerificationFailure) as caught:
        source.get_bytes("/v1/raw/blocks/1")
    assert caught.value.reason == f"answered HTTP 500: {shown}"
    source.close()
