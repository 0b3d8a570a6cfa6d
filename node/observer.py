"""Observer: a read replica of the chain that serves the client RPC and holds no key.

A city-wide vote brings far more page loads and result refreshes than ballots; the
validators must spend their CPU on consensus, not on serving them. An observer keeps its
own copy of the chain and answers every read endpoint of node/rpc.py from it, behind the
city's load balancer, while the validators stay on a private network.

Following the chain is a replica's state transfer, done continuously:
1. every poll interval it asks one source (the validators in turn, or [[observers]]
   sources) for GET /v1/raw/blocks/{head + 1}, and the blocks after it while it gets them;
2. it checks each block exactly as a replica checks a fetched block
   (consensus.transfer.check_fetched_block: height, chain, link to its head, later
   timestamp, validate_basic, and a commit certificate signed by a quorum of the genesis
   validator set), then executes and stores it (ChainApplication.commit, which also
   refuses a block whose app hash or receipts root differs from what it computed);
3. a source that errs or serves a block that fails a check is dropped for this round and
   counted (by source); the next source is asked at once.
Nothing a source says is trusted without a certificate: a lying validator (or a
man-in-the-middle) can delay an observer, never make it serve a wrong block.

Transactions submitted to an observer are forwarded, as raw bytes, to a validator
(round-robin, the next one on a retryable error or no answer); the validator's error
codes are passed through unchanged. With wait=commit the observer waits until it has the
transaction committed in its own store, and answers the document a validator answers.

An observer never appears in genesis and never dials a validator's peer port.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import Gauge

import votingcontract
from chain.block import Block
from chain.certificate import CommitCertificate
from chain.errors import DecodeError, StoreWriteError, VotechainError
from chain.tx import MAX_TX_BYTES, Transaction
from consensus import ReplicaConfig, ReplicaId
from consensus.signatures import SignatureVerifier
from consensus.transfer import check_fetched_block
from node import views
from node.app import ChainApplication
from node.config import ClusterConfig
from node.connlimit import ConnectionLimits, connection_caps, raise_fd_limit
from node.errors import RETRYABLE, RpcError, RpcErrorCode
from node.httpread import read_capped
from node.images import ImageService, ImageStore
from node.metrics import NodeMetrics
from node.rpc import (
    MAX_RAW_BLOCK_BYTES,
    AppHook,
    decode_raw_block,
    export_rpc_refusals,
    make_rpc_app,
)
from node.service import (
    EXIT_CANNOT_FOLLOW,
    cannot_start,
    fail_stop,
    open_store,
    start_server,
)
from node.setup import load_genesis
from node.tls import client_context
from node.waiters import CommitWaiters

log = logging.getLogger("votechain.observer")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ROLE = "observer"
SIGNATURE_CACHE_SIZE = 4_096
"""Certificate signatures remembered as verified (a block's certificate is checked once)."""
MAX_ERROR_BODY_BYTES = 65_536
"""A validator's error answer to a forwarded transaction is read up to this many bytes."""
CACHEABLE_PATH = re.compile(r"/v1/polls/[0-9a-f]{64}(/results)?")
"""The pages every citizen's phone loads and refreshes during a vote: a poll and its
results. They take no per-client limit and no query, so one answer serves them all."""
MAX_CACHED_PAGES = 4_096
"""Cached pages at most (one per poll and page); the cache is emptied when it is full."""
FORWARD_RETRYABLE = RETRYABLE | {RpcErrorCode.RATE_LIMITED, RpcErrorCode.INTERNAL}
"""A validator answering one of these is skipped and the next one is asked: "not here,
not now" (RETRYABLE), its client limit (the observer should be in its unlimited_clients),
or its own bug."""


@dataclass
class SourceStats:
    """What one source did: counted for /v1/status and /metrics."""

    blocks: int = 0
    """Blocks fetched from it that passed every check and were stored."""
    refused_blocks: int = 0
    """Blocks it served that failed a check (a lying or broken source)."""
    errors: int = 0
    """Fetches that failed (no connection, timeout, a malformed answer)."""
    claimed_height: int | None = None
    """The height its /v1/status last claimed (unchecked; see Observer.validators_height)."""
    last_refusal: str = ""


@dataclass(frozen=True)
class CachedPage:
    height: int
    expires_s: float
    body: bytes
    content_type: str


@dataclass
class PageCache:
    """Answers of the hottest read pages, each valid for one head height and `ttl_s`."""

    ttl_s: float
    pages: dict[str, CachedPage] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def get(self, path: str, height: int, now_s: float) -> CachedPage | None:
        page = self.pages.get(path)
        if page is None or page.height != height or now_s >= page.expires_s:
            self.misses += 1
            return None
        self.hits += 1
        return page

    def put(
        self, path: str, height: int, now_s: float, body: bytes, content_type: str
    ) -> CachedPage:
        if len(self.pages) >= MAX_CACHED_PAGES:
            self.pages.clear()
        page = CachedPage(height, now_s + self.ttl_s, body, content_type)
        self.pages[path] = page
        return page


@dataclass
class ForwardStats:
    outcomes: dict[str, int] = field(default_factory=dict)
    """Forwarded transactions by outcome: accepted, or the error code answered."""

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


class Observer:
    """A running observer: the NodeService the RPC serves (node/rpc.py)."""

    def __init__(
        self, config: ClusterConfig, observer_id: str, extend: AppHook | None = None
    ) -> None:
        self.config, self.node_id = config, observer_id
        self._extend = extend
        """Adds the web app's routes to the RPC app (wired in by cli; None: RPC only)."""
        self.address = config.observer(observer_id)
        self.settings = config.observer_settings
        genesis = load_genesis(config)
        self.chain_id = genesis.chain_id
        self.store = open_store(config.node_dir(observer_id) / "chain", observer_id)
        try:
            self.store.initialize(genesis, votingcontract.genesis_writes(genesis))
        except StoreWriteError as exc:
            self.store.close()
            raise cannot_start(observer_id, exc) from exc
        # No key: an observer never proposes, so the proposer field is never written.
        self.app = ChainApplication(self.store, proposer=b"")
        validators = genesis.validator_set
        # check_fetched_block reads the chain id from a ReplicaConfig; an observer is no
        # replica, so replica_id is a placeholder that nothing here reads.
        self._check_config = ReplicaConfig(
            chain_id=self.chain_id,
            validators=validators,
            replica_id=ReplicaId(0),
            genesis_time_ms=genesis.genesis_time_ms,
        )
        self._verifier = SignatureVerifier(validators, self.chain_id, SIGNATURE_CACHE_SIZE)
        self.sources = config.observer_sources(observer_id)
        self.source_stats = {url: SourceStats() for url in self.sources}
        self.validator_urls = tuple(n.rpc_url for n in config.nodes)
        self.forwards = ForwardStats()
        self.delivered = views.DeliveredBlocks()
        """The latest blocks stored, ready for commit answers, as a validator keeps them."""
        self.metrics = NodeMetrics(observer_id)
        self._behind_gauge = Gauge(
            "votechain_observer_behind_blocks",
            "Blocks this observer trails the validators by (the (f+1)-th highest height "
            "its sources claimed)",
            registry=self.metrics.registry,
        )
        self._export_observer_metrics()
        self.pages = PageCache(self.settings.page_cache_ms / 1000)
        self._waiters = CommitWaiters()
        self._poll_turn = 0
        self._forward_turn = 0
        self._status_turn = 0
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=10),
            connector=aiohttp.TCPConnector(ssl=client_context(self.config) or True),
        )
        rpc = self.config.rpc
        rpc_app = make_rpc_app(
            self,
            rpc.max_body_bytes,
            lambda code: self.metrics.rpc_errors.labels(code=code).inc(),
            rpc,
            delivered=self.delivered,
            images=ImageService(
                ImageStore(self.config.node_dir(self.node_id) / "images"),
                self.store,
                self.sources,
                lambda: self._session,
            ),
            extend=self._extend,
        )
        rpc_app.middlewares.append(self._cached)
        export_rpc_refusals(self.metrics, rpc_app)
        fd_limit = raise_fd_limit()
        rpc_cap, _ = connection_caps(fd_limit, rpc.max_connections, rpc.peer_max_connections)
        self._runner, _ = await start_server(
            rpc_app,
            self.config,
            self.node_id,
            self.address.host,
            self.address.rpc_port,
            ConnectionLimits(rpc_cap, rpc.max_connections_per_client, rpc.header_timeout_s),
            peers=False,
        )
        self._tasks.append(asyncio.create_task(self._follow_forever()))
        self._tasks.append(asyncio.create_task(self._ask_heights_forever()))
        log.info(
            "observer %s serving RPC on %s, height %d, following %s",
            self.node_id,
            self.address.rpc_url,
            self.store.head_height,
            ", ".join(self.sources),
        )

    async def stop(self) -> None:
        """Answer waiting clients `stopping`, close the RPC server, the fetches and the store."""
        self._stopping = True
        stopping = RpcError(
            RpcErrorCode.STOPPING,
            f"observer {self.node_id} is shutting down before the transaction committed; "
            "it may still commit: ask another node (GET /v1/tx/{tx_id})",
            retry_after_s=1,
        )
        self._waiters.fail_all(stopping)
        await asyncio.sleep(0)
        if self._runner is not None:
            await self._runner.cleanup()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        self.store.close()

    # --- following the chain -----------------------------------------------------------

    async def _follow_forever(self) -> None:
        while True:
            try:
                progressed = await self._poll_round()
            except Exception:
                # A bug, not a source's fault (those are counted in _follow_from): keep
                # following, and let the log say what went wrong.
                log.exception("following the chain failed; trying again")
                progressed = False
            if progressed:
                continue  # more may be waiting: ask again at once
            fast = bool(self._waiters)
            interval_ms = (
                self.settings.fast_poll_interval_ms if fast else self.settings.poll_interval_ms
            )
            await asyncio.sleep(interval_ms / 1000)

    async def _poll_round(self) -> bool:
        """Ask the sources in turn, starting with the next one, until one gives a block;
        a source that errs, lies, or has nothing while the validators claim more is
        followed by the next. True if at least one block was stored."""
        count = len(self.sources)
        start = self._poll_turn
        self._poll_turn = (self._poll_turn + 1) % count
        for offset in range(count):
            url = self.sources[(start + offset) % count]
            stored, failed = await self._follow_from(url)
            if stored:
                return True
            if not failed and self.validators_height() <= self.store.head_height:
                return False  # it has nothing new, and nobody claims more
        return False

    async def _follow_from(self, url: str) -> tuple[int, bool]:
        """Fetch, check and store blocks after the head from `url`: (stored, failed)."""
        assert self._session is not None
        stats = self.source_stats[url]
        stored = 0
        while stored < self.settings.fetch_batch_blocks and not self._stopping:
            height = self.store.head_height + 1
            try:
                async with self._session.get(f"{url}/v1/raw/blocks/{height}") as response:
                    if response.status == 404:
                        return stored, False
                    if response.status != 200:
                        raise DecodeError(f"HTTP {response.status}")
                    data = await read_capped(response, MAX_RAW_BLOCK_BYTES)
                block, certificate, _ = decode_raw_block(data)
            except (aiohttp.ClientError, OSError, TimeoutError, VotechainError) as exc:
                # VotechainError: DecodeError and the block's and certificate's own
                # refusals of what they decode; nothing a source sends stops the observer.
                stats.errors += 1
                log.debug("fetching block %d from %s failed: %s", height, url, exc)
                return stored, True
            reason = self._check(block, certificate)
            if reason is not None:
                stats.refused_blocks += 1
                stats.last_refusal = f"block {height}: {reason}"
                log.warning("refused block %d from %s: %s", height, url, reason)
                return stored, True
            self._store(block, certificate)
            stats.blocks += 1
            stored += 1
        return stored, False

    def _check(self, block: Block, certificate: CommitCertificate) -> str | None:
        """Why `block` may not follow the head, as a replica's state transfer judges it."""
        head = self.store.head_height
        parent_time_ms = (
            self.store.genesis.genesis_time_ms
            if head == 0
            else self.store.get_header(head).timestamp_ms
        )
        return check_fetched_block(
            block,
            certificate,
            self._check_config,
            self._verifier,
            head,
            self.store.block_hash(head),
            parent_time_ms,
        )

    def _store(self, block: Block, certificate: CommitCertificate) -> None:
        try:
            receipts = self.app.commit(block, certificate)
        except StoreWriteError as exc:
            fail_stop(exc, f"storing block {block.height}")
        except Exception:
            # A certified block this observer cannot execute and store (its app hash
            # differs from the one computed here, or a bug): its copy cannot be trusted
            # to serve reads any more. Stop; the supervisor restarts it from its store.
            log.critical("cannot execute and store block %d; stopping", block.height, exc_info=True)
            os._exit(EXIT_CANNOT_FOLLOW)
        self.delivered.add(block, certificate, [r.encode() for r in receipts])
        self.metrics.blocks_committed.inc()
        self.metrics.state_transfers.inc()
        for receipt in receipts:
            self.metrics.txs_committed.labels(code=str(receipt.code)).inc()
        self._waiters.wake(tx.tx_id for tx in block.transactions)

    async def _ask_heights_forever(self) -> None:
        """Ask one source in turn for its height, to say how far behind this observer is."""
        assert self._session is not None
        while True:
            url = self.sources[self._status_turn % len(self.sources)]
            self._status_turn += 1
            try:
                async with self._session.get(f"{url}/v1/status") as response:
                    document = json.loads(await read_capped(response, MAX_ERROR_BODY_BYTES))
                height = document["height"]
                if isinstance(height, int) and not isinstance(height, bool):
                    self.source_stats[url].claimed_height = height
            except (aiohttp.ClientError, OSError, TimeoutError, DecodeError, ValueError):
                self.source_stats[url].claimed_height = None
            except (KeyError, TypeError):  # not a status document
                self.source_stats[url].claimed_height = None
            self._behind_gauge.set(self.behind_blocks())
            await asyncio.sleep(self.settings.status_interval_ms / 1000)

    def validators_height(self) -> int:
        """The height at least one correct source has reached, as far as the sources'
        claims show: the (f+1)-th highest claim, so f lying sources cannot inflate it
        (with fewer sources than f+1, the lowest of all their claims); this observer's
        head while fewer claims are known. Never below the head."""
        claims = sorted(
            (s.claimed_height for s in self.source_stats.values() if s.claimed_height is not None),
            reverse=True,
        )
        f = self.store.genesis.validator_set.max_faulty
        needed = min(f + 1, len(self.sources))
        if len(claims) < needed:
            return self.store.head_height  # too few claims to trust any of them yet
        return max(self.store.head_height, claims[needed - 1])

    def behind_blocks(self) -> int:
        return self.validators_height() - self.store.head_height

    # --- what the RPC calls -----------------------------------------------------------

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    async def submit(self, data: bytes, wait_commit: bool) -> dict[str, Any]:
        """Forward a transaction to a validator; with `wait_commit`, answer once it is
        committed in this observer's own store (the document a validator answers)."""
        if self._stopping:
            raise RpcError(
                RpcErrorCode.STOPPING,
                f"observer {self.node_id} is shutting down; send the transaction to another node",
                retry_after_s=1,
            )
        tx_id = _tx_id_of(data, self.config.mempool.max_tx_bytes)
        waiter: asyncio.Future[None] | None = None
        if wait_commit:
            # Registered before forwarding: the block may arrive before the answer does.
            waiter = self._waiters.add(tx_id)
        try:
            answer = await self._forward(data)
            if waiter is None:
                return answer
            await self._wait_commit(tx_id, waiter)
        finally:
            if waiter is not None:
                self._waiters.forget(tx_id, waiter)
        location = self.store.locate_tx(tx_id)
        assert location is not None  # the waiter is set only once the block is stored
        document = views.committed_tx(self.store, *location, None, self.delivered)
        return {"status": "committed", **document}

    async def _forward(self, data: bytes) -> dict[str, Any]:
        """POST the raw bytes to the validators in turn until one answers finally."""
        assert self._session is not None
        count = len(self.validator_urls)
        start = self._forward_turn
        self._forward_turn = (self._forward_turn + 1) % count
        last: RpcError | None = None
        timeout = aiohttp.ClientTimeout(total=self.settings.forward_timeout_s)
        for offset in range(count):
            url = self.validator_urls[(start + offset) % count]
            try:
                async with self._session.post(
                    f"{url}/v1/tx",
                    data=data,
                    headers={"Content-Type": "application/msgpack"},
                    timeout=timeout,
                ) as response:
                    body = await read_capped(response, MAX_ERROR_BODY_BYTES)
                    retry_after = response.headers.get("Retry-After", "")
                    status = response.status
                document = json.loads(body)
                if not isinstance(document, dict):
                    raise ValueError("not a JSON object")
            except (aiohttp.ClientError, OSError, TimeoutError, DecodeError, ValueError) as exc:
                self.forwards.count("unreachable")
                log.debug("forwarding a transaction to %s failed: %s", url, exc)
                continue
            if status in (200, 202):
                self.forwards.count("accepted")
                return document
            error = _error_of(document, retry_after)
            self.forwards.count(error.code.value if error is not None else "bad_answer")
            if error is None or error.code in FORWARD_RETRYABLE:
                last = error or last
                continue
            raise error
        if last is not None:
            raise last
        raise RpcError(
            RpcErrorCode.CANNOT_COMMIT,
            f"observer {self.node_id} reached no validator to forward the transaction to; "
            "nothing was submitted: retry later",
            retry_after_s=2,
        )

    async def _wait_commit(self, tx_id: bytes, waiter: asyncio.Future[None]) -> None:
        timeout_s = self.config.rpc.commit_wait_timeout_s
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout_s)
        except TimeoutError:
            behind = self.behind_blocks()
            lag = f" (this observer is {behind} blocks behind the validators)" if behind else ""
            raise RpcError(
                RpcErrorCode.TIMEOUT,
                f"transaction {tx_id.hex()} did not commit within {timeout_s} s{lag}; "
                "it may still commit",
            ) from None

    def status(self) -> dict[str, Any]:
        head = self.store.head_height
        validators_height = self.validators_height()
        return {
            "node": self.node_id,
            "role": ROLE,
            "chain_id": self.chain_id,
            "genesis_hash": self.store.genesis.genesis_hash.hex(),
            "height": head,
            "head_hash": self.store.block_hash(head).hex(),
            "app_hash": self.store.app_hash(head).hex(),
            "validators_height": validators_height,
            "behind_blocks": validators_height - head,
            "sources": {
                url: {
                    "blocks": s.blocks,
                    "refused_blocks": s.refused_blocks,
                    "errors": s.errors,
                    "claimed_height": s.claimed_height,
                    "last_refusal": s.last_refusal,
                }
                for url, s in self.source_stats.items()
            },
            "forwarded": dict(self.forwards.outcomes),
        }

    def metrics_text(self) -> tuple[bytes, str]:
        self.metrics.height.set(self.store.head_height)
        self._behind_gauge.set(self.behind_blocks())
        return self.metrics.render()

    @web.middleware
    async def _cached(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Answer a poll page or its results from the cache while the head is the same and
        the page is younger than page_cache_ms (the pages also depend on the clock: a poll
        opens, closes, shows its results; so they may lag it by that much)."""
        if (
            request.method != "GET"
            or request.query_string
            or not CACHEABLE_PATH.fullmatch(request.path)
        ):
            return await handler(request)
        head, now_s = self.store.head_height, time.monotonic()
        page = self.pages.get(request.path, head, now_s)
        if page is None:
            response = await handler(request)
            if not (isinstance(response, web.Response) and response.status == 200):
                return response
            body = response.body
            if not isinstance(body, bytes):
                return response
            page = self.pages.put(request.path, head, now_s, body, response.content_type)
        return web.Response(body=page.body, content_type=page.content_type, charset="utf-8")

    # --- helpers ----------------------------------------------------------------------

    def _export_observer_metrics(self) -> None:
        def per_source(name: str) -> dict[str, int]:
            return {url: getattr(s, name) for url, s in self.source_stats.items()}

        self.metrics.export_counts(
            "votechain_observer_blocks_refused",
            "Blocks a source served that failed a check (certificate, link, header), by source",
            "source",
            lambda: per_source("refused_blocks"),
        )
        self.metrics.export_counts(
            "votechain_observer_fetch_errors",
            "Block fetches that failed (no answer, timeout, malformed), by source",
            "source",
            lambda: per_source("errors"),
        )
        self.metrics.export_counts(
            "votechain_observer_page_cache",
            "Poll pages and results answered from the page cache (hit) or built (miss)",
            "outcome",
            lambda: {"hit": self.pages.hits, "miss": self.pages.misses},
        )
        self.metrics.export_counts(
            "votechain_observer_forwarded",
            "Transactions forwarded to validators, by outcome (accepted, unreachable, or the "
            "validator's error code)",
            "outcome",
            lambda: self.forwards.outcomes,
        )


async def run_observer(
    config: ClusterConfig, observer_id: str, stop: asyncio.Event, extend: AppHook | None = None
) -> None:
    observer = Observer(config, observer_id, extend)
    await observer.start()
    try:
        await stop.wait()
    finally:
        await observer.stop()


def _tx_id_of(data: bytes, max_tx_bytes: int) -> bytes:
    """The id of the transaction in `data`, refused as a validator's mempool would refuse
    it (too large, malformed); the signature and the state are the validator's to judge."""
    limit = min(max_tx_bytes, MAX_TX_BYTES)
    if len(data) > limit:
        raise RpcError(
            RpcErrorCode.BODY_TOO_LARGE, f"transaction is {len(data)} bytes; the limit is {limit}"
        )
    try:
        return Transaction.decode(data).tx_id
    except DecodeError as exc:
        raise RpcError(RpcErrorCode.MALFORMED_TX, str(exc)) from exc


def _error_of(document: dict[str, Any], retry_after: str) -> RpcError | None:
    """The validator's error answer as the same RpcError, or None if it is not one."""
    try:
        code = RpcErrorCode(str(document.get("error")))
    except ValueError:
        return None
    message = document.get("message")
    reason = document.get("reason")
    return RpcError(
        code,
        message if isinstance(message, str) else code.value,
        reason if isinstance(reason, str) else None,
        int(retry_after) if retry_after.isascii() and retry_after.isdigit() else None,
    )
