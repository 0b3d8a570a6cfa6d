"""Observers in one process: [[observers]] in cluster.toml, and how an observer forwards
transactions to validators that answer busy, refuse, lie or are down (fake validator
RPCs on the ports the cluster file gives the validators)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import votingcontract
from chain.keys import PrivateKey
from node.config import ConfigError, load_config
from node.errors import RpcError, RpcErrorCode
from node.observer import Observer, PageCache
from node.tls import make_cluster_certificates
from tests.cluster.harness import LocalCluster, free_port

MINIMAL = """
[[nodes]]
id = "n1"
peer_port = 7001
rpc_port = 8001

[[nodes]]
id = "n2"
host = "10.0.0.2"
peer_port = 7002
rpc_port = 8002
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cluster.toml"
    path.write_text(text)
    return path


def test_observers_follow_the_validators_unless_given_sources(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            MINIMAL + '\n[[observers]]\nid = "o1"\nhost = "0.0.0.0"\nrpc_port = 9001\n'
            '\n[[observers]]\nid = "o2"\nrpc_port = 9002\nsources = ["http://o1.city:9001/"]\n'
            "\n[observer]\npoll_interval_ms = 100\n",
        )
    )
    assert [o.node_id for o in config.observers] == ["o1", "o2"]
    assert config.observer("o1").rpc_url == "http://0.0.0.0:9001"
    assert config.observer_sources("o1") == ("http://127.0.0.1:8001", "http://10.0.0.2:8002")
    assert config.observer_sources("o2") == ("http://o1.city:9001",)
    assert config.node_dir("o1") == config.data_dir / "o1"
    assert config.observer_settings.poll_interval_ms == 100
    assert [n.node_id for n in config.nodes] == ["n1", "n2"], "observers are not validators"


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ('id = "n1"\nrpc_port = 9001', "ids must be unique"),
        ('id = "o1"\nrpc_port = 9001\npeer_port = 7009', "no peer port"),
        ('id = "o1"\nrpc_port = 9001\nsources = ["o1.city:9001"]', "http(s)://"),
        ('id = "o1"', "lacks 'rpc_port'"),
    ],
)
def test_a_bad_observer_entry_is_refused_by_name(tmp_path: Path, entry: str, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_config(write(tmp_path, MINIMAL + f"\n[[observers]]\n{entry}\n"))
    with pytest.raises(ConfigError, match="no observer 'o9'"):
        load_config(write(tmp_path, MINIMAL)).observer("o9")


# --- forwarding -------------------------------------------------------------------------

Answer = Callable[[bytes], web.Response]


class FakeValidators:
    """Validator RPCs on the cluster file's ports: each answers POST /v1/tx as told, and
    GET /v1/raw/blocks/{h} with 404 (nothing new), so the observer stays at genesis."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.answers: dict[str, Answer] = {}
        self.raw_blocks: dict[str, bytes] = {}
        """A node's answer (200) to every raw block request; 404 if not given."""
        self.received: list[str] = []
        self.runners: list[web.AppRunner] = []

    async def start(self, node_ids: list[str]) -> None:
        for address in self.cluster.config.nodes:
            if address.node_id not in node_ids:
                continue
            app = web.Application()
            app.add_routes(
                [
                    web.post("/v1/tx", self._submit(address.node_id)),
                    web.get("/v1/raw/blocks/{height}", self._raw_block(address.node_id)),
                    web.get("/v1/status", _status),
                ]
            )
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, address.host, address.rpc_port).start()
            self.runners.append(runner)

    async def stop(self) -> None:
        for runner in self.runners:
            await runner.cleanup()

    def _raw_block(self, node_id: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            if node_id not in self.raw_blocks:
                return await _not_found(request)
            return web.Response(body=self.raw_blocks[node_id], content_type="application/msgpack")

        return handler

    def _submit(self, node_id: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            self.received.append(node_id)
            assert request.content_type == "application/msgpack"
            return self.answers[node_id](await request.read())

        return handler


async def _not_found(request: web.Request) -> web.Response:
    return web.json_response({"error": "not_found", "message": "no block"}, status=404)


async def _status(request: web.Request) -> web.Response:
    return web.json_response({"height": 0})


def error(code: str, status: int, reason: str | None = None) -> Answer:
    body: dict[str, Any] = {"error": code, "message": f"{code} from a validator"}
    if reason is not None:
        body["reason"] = reason
    headers = {"Retry-After": "3"} if status == 503 else None
    return lambda data: web.json_response(body, status=status, headers=headers)


def pending(data: bytes) -> web.Response:
    return web.json_response({"status": "pending", "tx_id": "ab", "height": None}, status=202)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Observer, FakeValidators, bytes]]:
    cluster = LocalCluster(tmp_path)
    with open(cluster.config_path, "a", encoding="utf-8") as toml:
        toml.write(f'\n[[observers]]\nid = "o1"\nrpc_port = {free_port()}\n')
    cluster.config = load_config(cluster.config_path)
    fakes = FakeValidators(cluster)
    observer = Observer(cluster.config, "o1")
    await observer.start()
    voter = PrivateKey.from_seed(b"\x07" * 32)
    tx = cluster.sign(voter, votingcontract.CastBallot(b"\x01" * 32, ((0,),))).encode()
    try:
        yield observer, fakes, tx
    finally:
        await observer.stop()
        await fakes.stop()


async def test_a_busy_validator_is_skipped_for_the_next(
    setup: tuple[Observer, FakeValidators, bytes],
) -> None:
    observer, fakes, tx = setup
    await fakes.start(["n1", "n2", "n3", "n4"])
    fakes.answers = {
        "n1": error("busy", 503),
        "n2": error("behind", 503),
        "n3": pending,
        "n4": pending,
    }
    answer = await observer.submit(tx, wait_commit=False)
    assert answer["status"] == "pending"
    assert fakes.received == ["n1", "n2", "n3"]
    # Round-robin: the next submission starts at the next validator.
    await observer.submit(tx, wait_commit=False)
    assert fakes.received[3:] == ["n2", "n3"]
    assert observer.forwards.outcomes == {"busy": 1, "behind": 2, "accepted": 2}


async def test_a_refusal_keeps_the_validators_code_and_reason(
    setup: tuple[Observer, FakeValidators, bytes],
) -> None:
    observer, fakes, tx = setup
    await fakes.start(["n1", "n2", "n3", "n4"])
    refused = error("refused", 422, reason="duplicate_ballot")
    fakes.answers = dict.fromkeys(["n1", "n2", "n3", "n4"], refused)
    with pytest.raises(RpcError) as caught:
        await observer.submit(tx, wait_commit=True)
    assert (caught.value.code, caught.value.reason) == (RpcErrorCode.REFUSED, "duplicate_ballot")
    assert fakes.received == ["n1"], "a final answer is not asked again elsewhere"
    assert not observer._waiters, "no waiter is left behind"


async def test_all_validators_busy_answers_busy_with_their_retry_after(
    setup: tuple[Observer, FakeValidators, bytes],
) -> None:
    observer, fakes, tx = setup
    await fakes.start(["n1", "n2", "n3", "n4"])
    fakes.answers = dict.fromkeys(["n1", "n2", "n3", "n4"], error("busy", 503))
    with pytest.raises(RpcError) as caught:
        await observer.submit(tx, wait_commit=False)
    assert caught.value.code == RpcErrorCode.BUSY
    assert caught.value.retry_after_s == 3
    assert len(fakes.received) == 4


async def test_garbage_and_unreachable_validators_are_skipped(
    setup: tuple[Observer, FakeValidators, bytes],
) -> None:
    observer, fakes, tx = setup
    await fakes.start(["n2", "n3"])  # n1 and n4 are down
    fakes.answers = {
        "n2": lambda data: web.Response(body=b"\xff not json", status=200),
        "n3": pending,
    }
    assert (await observer.submit(tx, wait_commit=False))["status"] == "pending"
    assert fakes.received == ["n2", "n3"]
    assert observer.forwards.outcomes == {"unreachable": 2, "accepted": 1}


async def test_no_validator_reachable_answers_cannot_commit(
    setup: tuple[Observer, FakeValidators, bytes],
) -> None:
    observer, _, tx = setup
    with pytest.raises(RpcError) as caught:
        await observer.submit(tx, wait_commit=True)
    assert caught.value.code == RpcErrorCode.CANNOT_COMMIT
    assert "nothing was submitted" in caught.value.message
    assert not observer._waiters


async def test_a_malformed_transaction_is_refused_without_asking_a_validator(
    setup: tuple[Observer, FakeValidators, bytes],
) -> None:
    observer, fakes, _ = setup
    await fakes.start(["n1", "n2", "n3", "n4"])
    with pytest.raises(RpcError) as caught:
        await observer.submit(b"\x93\x01", wait_commit=False)
    assert caught.value.code == RpcErrorCode.MALFORMED_TX
    with pytest.raises(RpcError) as caught:
        await observer.submit(b"\x00" * 70_000, wait_commit=False)
    assert caught.value.code == RpcErrorCode.BODY_TOO_LARGE
    assert fakes.received == []
    status = observer.status()
    assert (status["role"], status["height"], status["behind_blocks"]) == ("observer", 0, 0)
    assert json.dumps(status)  # the status is JSON


def test_a_cached_page_lives_until_the_next_block_or_its_time_is_up() -> None:
    """A refresh storm on one poll costs one build per interval; a new block or the end
    of the interval builds the page again (its counts or its open/closed state change)."""
    pages = PageCache(ttl_s=1.0)
    path = "/v1/polls/" + "ab" * 32 + "/results"
    pages.put(path, height=7, now_s=100.0, body=b"{}", content_type="application/json")
    assert pages.get(path, height=7, now_s=100.9) is not None
    assert pages.get(path, height=8, now_s=100.1) is None, "a new block"
    assert pages.get(path, height=7, now_s=101.0) is None, "the interval is over"
    assert pages.get("/v1/polls/" + "cd" * 32, height=7, now_s=100.1) is None
    assert (pages.hits, pages.misses) == (1, 3)


@pytest.mark.parametrize(
    "garbage",
    [b"\x93\x01\x02\x03", b"\xc1", b"\x93" + b"\x90" * 3, b"not msgpack at all"],
    ids=["ints", "reserved_byte", "empty_arrays", "text"],
)
async def test_a_source_serving_garbage_is_counted_and_the_observer_goes_on(
    setup: tuple[Observer, FakeValidators, bytes], garbage: bytes
) -> None:
    observer, fakes, tx = setup
    fakes.raw_blocks = dict.fromkeys(["n1", "n2", "n3", "n4"], garbage)
    fakes.answers = dict.fromkeys(["n1", "n2", "n3", "n4"], pending)
    await fakes.start(["n1", "n2", "n3", "n4"])
    for _ in range(100):
        if sum(s.errors for s in observer.source_stats.values()) >= 4:
            break
        await asyncio.sleep(0.05)
    assert all(s.errors >= 1 and s.blocks == 0 for s in observer.source_stats.values())
    assert observer.store.head_height == 0
    assert not any(task.done() for task in observer._tasks), "still following"
    assert (await observer.submit(tx, wait_commit=False))["status"] == "pending"


def test_tls_init_gives_observers_a_certificate_too(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            MINIMAL + '\n[tls]\nenabled = true\n\n[[observers]]\nid = "o1"\nrpc_port = 9001\n',
        )
    )
    created = make_cluster_certificates(config)
    assert config.tls_cert_path("o1") in created and config.tls_key_path("o1") in created
    assert config.observer("o1").rpc_url == "https://127.0.0.1:9001"
    assert make_cluster_certificates(config) == [], "never overwrites"
