"""The node's side of the block byte limit (issue 9): its proposer budget setting, the
state-transfer decoder, and build_block's trim."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from chain import encoding
from chain.block import MAX_BLOCK_BYTES, Block
from chain.errors import DecodeError
from chain.store import ChainStore
from node.app import ChainApplication
from node.config import ConfigError, load_config
from node.httpread import read_capped
from node.rpc import MAX_RAW_BLOCK_BYTES, decode_raw_block
from tests.chain.chain_fixtures import (
    ChainTip,
    genesis_writes,
    make_genesis,
    next_bundle,
    oversized_bundle,
)

NODES = """
[[nodes]]
id = "a"
peer_port = 7001
rpc_port = 8001
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cluster.toml"
    path.write_text(text)
    return path


def test_the_default_proposer_budget_is_a_margin_under_the_protocol_limit(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, NODES))
    assert 0 < config.consensus.max_block_bytes < MAX_BLOCK_BYTES


@pytest.mark.parametrize("value", [MAX_BLOCK_BYTES + 1, 1_000])
def test_a_proposer_budget_over_the_limit_or_under_one_transaction_is_refused(
    tmp_path: Path, value: int
) -> None:
    path = write(tmp_path, f"[consensus]\nmax_block_bytes = {value}\n{NODES}")
    with pytest.raises(ConfigError, match=r"consensus\.max_block_bytes must be between"):
        load_config(path)


def raw_reply(tmp_path: Path, oversized: bool) -> bytes:
    genesis = make_genesis(4)
    with ChainStore(tmp_path / "chain") as store:
        store.initialize(genesis, genesis_writes())
        bundle = (
            oversized_bundle(store)
            if oversized
            else next_bundle(ChainTip.from_genesis(genesis), genesis)
        )
        store.append_block(*bundle.append_args())
        return encoding.encode(
            [bundle.block.to_value(), bundle.certificate.to_value(), list(bundle.receipts)]
        )


def test_state_transfer_decodes_a_normal_block(tmp_path: Path) -> None:
    block, certificate, receipts = decode_raw_block(raw_reply(tmp_path, oversized=False))
    assert block.height == certificate.height == 1 and len(receipts) == 3


def test_state_transfer_refuses_an_oversized_block_from_a_peer(tmp_path: Path) -> None:
    """A node never takes a block over the limit from a peer, certified or not."""
    with pytest.raises(DecodeError, match=r"block is \d+ bytes, the limit is 8388608"):
        decode_raw_block(raw_reply(tmp_path, oversized=True))


def test_state_transfer_refuses_a_reply_over_its_size_cap_unread() -> None:
    with pytest.raises(DecodeError, match="raw block is"):
        decode_raw_block(b"\x00" * (MAX_RAW_BLOCK_BYTES + 1))


def test_build_block_leaves_out_the_suffix_that_would_break_the_limit(tmp_path: Path) -> None:
    """The Application contract lets the node trim a proposal; it never returns one over
    MAX_BLOCK_BYTES even if the core's budget were misconfigured."""
    genesis = make_genesis(4)
    with ChainStore(tmp_path / "chain") as store:
        store.initialize(genesis, genesis_writes())
        txs = oversized_bundle(store).block.transactions
        app = ChainApplication(store, proposer=bytes(32))
        block = app.build_block(1, genesis.genesis_time_ms + 1, genesis.genesis_hash, txs)
    assert block.encoded_size == len(block.encode()) <= MAX_BLOCK_BYTES
    assert block.transactions == txs[: len(block.transactions)]
    one_more = Block(block.header, txs[: len(block.transactions) + 1])
    assert one_more.encoded_size > MAX_BLOCK_BYTES  # only what had to go was left out


async def test_a_state_transfer_reply_is_cut_off_past_its_cap(tmp_path: Path) -> None:
    """A faulty peer answering a fetch with an endless body costs at most the cap."""

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"\\0" * 1_000_000
        for _ in range(40):
            await response.write(chunk)
        return response

    async def small(request: web.Request) -> web.Response:
        return web.Response(body=raw_reply(tmp_path, oversized=False))

    app = web.Application()
    app.router.add_get("/endless", endless)
    app.router.add_get("/small", small)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/small") as response:
                block, _, _ = decode_raw_block(await read_capped(response, MAX_RAW_BLOCK_BYTES))
                assert block.height == 1
            async with session.get(f"http://127.0.0.1:{port}/endless") as response:
                with pytest.raises(DecodeError, match="reply is over 5000000 bytes"):
                    await read_capped(response, 5_000_000)
    finally:
        await runner.cleanup()
