"""Client RPC: JSON over HTTP (aiohttp).

Every error is JSON: {"error": code, "message": text, "reason": state machine code?}
with the HTTP status of node.errors. Bodies are capped (rpc.max_body_bytes); nothing is
written unless the whole request was valid. The routes are described for machines in
node/openapi.py (served at /openapi.json) and for people in docs/OPERATIONS.md.

Reads that decode blocks or walk state (transactions, blocks, raw blocks, polls,
histories) run in the ReadPool, off the consensus loop, and answer `busy` (503 with
Retry-After) when it is full; lists and block details are paged and their answers
capped at rpc.max_response_bytes. A history is read only by its owner: POST
/v1/history is signed by the voter's active key (node/client_auth.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from aiohttp import web

import votingcontract
from chain import encoding
from chain.block import MAX_BLOCK_BYTES, Block
from chain.certificate import CommitCertificate
from chain.errors import DecodeError
from chain.store import ChainStore
from node import views
from node.client_auth import check_history_request, parse_history_request
from node.config import RpcSettings
from node.errors import RETRYABLE, RpcError, RpcErrorCode
from node.images import ImageService, no_images_routes
from node.jsonbody import json_object, str_field
from node.metrics import NodeMetrics
from node.openapi import openapi_document
from node.ratelimit import ClientLimits, ClientRate
from node.readpool import ReadPool
from votingcontract import limits, secret_polls
from votingcontract.queries import is_voter_key_active, poll_document

log = logging.getLogger("votechain.rpc")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ErrorCounter = Callable[[str], None]

_ON_ERROR: web.AppKey[ErrorCounter] = web.AppKey("on_error")
_READS: web.AppKey[ReadPool] = web.AppKey("reads")
_LIMITS: web.AppKey[ClientLimits] = web.AppKey("limits")
_SETTINGS: web.AppKey[RpcSettings] = web.AppKey("settings")
TX = "tx"
READ = "read"
"""The two kinds of rate-limited request: POST /v1/tx, and the heavy reads."""
MAX_PAGE_TXS = 100
"""Transactions per page of GET /v1/blocks/{h} (tx_limit's default and maximum)."""
MAX_PAGE_BLOCKS = 100
MAX_PAGE_POLLS = 100
DEFAULT_PAGE_POLLS = 50
MAX_PAGE_RECORDS = 50
"""History records per page: each carries its ballot with headers, certificates, proofs."""
DEFAULT_PAGE_RECORDS = 20
MAX_PREFIX_MATCHES = 10
"""Tx ids GET /v1/txs names for one prefix: enough to say it is ambiguous."""
RETRY_AFTER_S = 1
ENROLL_PREFIX = "/v1/enroll/"
ENROLL_ELSEWHERE = (
    "validators do not verify phones: enrollment is served by the attester service "
    "(`votechain attester`; its address is [attester] host and port in cluster.toml)"
)
MAX_DECIMAL_DIGITS = 19
MAX_RAW_BLOCK_BYTES = 2 * MAX_BLOCK_BYTES
"""A raw block reply: a block at the limit, its certificate and its receipts fit easily."""
"""Heights and query numbers are at most this many ASCII digits (they fit in 63 bits)."""


class NodeService(Protocol):
    """What the RPC needs of a running node (node.service.Node)."""

    store: ChainStore
    chain_id: str

    async def submit(self, data: bytes, wait_commit: bool) -> dict[str, Any]: ...

    def status(self) -> dict[str, Any]: ...

    def metrics_text(self) -> tuple[bytes, str]: ...

    def now_ms(self) -> int: ...


AppHook = Callable[[web.Application, NodeService], None]
"""Adds routes (and middlewares) to a node's RPC app: how the command that starts a node
serves the web app beside the RPC without node/ importing it (cli wires webapp in)."""


def make_rpc_app(
    node: NodeService,
    max_body_bytes: int,
    on_error: ErrorCounter | None = None,
    settings: RpcSettings | None = None,
    unlimited_clients: Iterable[str] = (),
    clock_s: Callable[[], float] = time.monotonic,
    delivered: views.DeliveredBlocks | None = None,
    images: ImageService | None = None,
    extend: AppHook | None = None,
) -> web.Application:
    """The RPC app; `on_error(code)` is called once per error response (for metrics).

    Its ReadPool (sized by `settings`) is shut down when the app is cleaned up. Clients
    are rate-limited per address (settings.client_*), except `unlimited_clients` (the
    cluster's validators) and settings.unlimited_clients. GET /v1/tx/{id} answers from
    `delivered` (the node's latest delivered blocks) when it holds the block. `extend`
    adds its routes last (the web app)."""
    settings = settings or RpcSettings(max_body_bytes=max_body_bytes)
    app = web.Application(client_max_size=max_body_bytes, middlewares=[_errors_as_json])
    app[_ON_ERROR] = on_error or (lambda code: None)
    app[_SETTINGS] = settings
    reads = ReadPool(settings.read_threads, settings.max_pending_reads)
    app[_READS] = reads
    app.on_cleanup.append(lambda _: _close_pool(reads))
    limits = ClientLimits(
        {
            TX: ClientRate(settings.client_tx_burst, settings.client_txs_per_s),
            READ: ClientRate(settings.client_read_burst, settings.client_reads_per_s),
        },
        settings.trusted_proxies,
        {*settings.unlimited_clients, *unlimited_clients},
        clock_s,
    )
    app[_LIMITS] = limits
    app.add_routes(no_images_routes() if images is None else images.routes(limits))
    rpc = _Routes(node, reads, limits, settings.max_response_bytes, delivered)
    app.add_routes(
        [
            web.get("/v1/status", rpc.status),
            web.get("/v1/genesis", rpc.genesis),
            web.post("/v1/tx", rpc.submit),
            web.get("/v1/tx/{tx_id}", rpc.get_tx),
            web.get("/v1/txs", rpc.find_txs),
            web.get("/v1/blocks", rpc.list_blocks),
            web.get("/v1/blocks/{height}", rpc.get_block),
            web.get("/v1/raw/blocks/{height}", rpc.get_raw_block),
            web.get("/v1/polls", rpc.list_polls),
            web.get("/v1/polls/{poll_id}", rpc.get_poll),
            web.get("/v1/polls/{poll_id}/results", rpc.get_results),
            web.get("/v1/polls/{poll_id}/crypto", rpc.get_poll_crypto),
            web.get("/v1/tracking/{code}", rpc.find_tracking),
            web.post("/v1/history", rpc.history),
            web.get("/v1/voters/{voter_key}", rpc.voter),
            web.get("/v1/orgs/{org_id}", rpc.get_org),
            web.get("/v1/stats", rpc.stats),
            web.get("/v1/orgs", rpc.orgs),
            web.get("/v1/reasons", rpc.reasons),
            web.get("/metrics", rpc.metrics),
            web.get("/openapi.json", rpc.openapi),
        ]
    )
    if extend is not None:
        extend(app, node)
    return app


def read_pool(app: web.Application) -> ReadPool:
    """The app's pool of heavy reads (for metrics and tests)."""
    return app[_READS]


def client_limits(app: web.Application) -> ClientLimits:
    """The app's per-client rate limits (for metrics and tests)."""
    return app[_LIMITS]


def rpc_settings(app: web.Application) -> RpcSettings:
    """The [rpc] settings the app was made with (for what an AppHook adds)."""
    return app[_SETTINGS]


def export_rpc_refusals(metrics: NodeMetrics, app: web.Application) -> None:
    """The read pool's and the rate limits' refusals, under the same names on validators
    and observers."""
    reads = read_pool(app)
    metrics.export_counts(
        "votechain_rpc_heavy_reads",
        "Heavy RPC reads refused busy because the read pool was full",
        "outcome",
        lambda: {"refused_busy": reads.refused},
    )
    limits = client_limits(app)
    metrics.export_counts(
        "votechain_rpc_rate_limited",
        "RPC requests refused rate_limited (429) by a client's token bucket, by kind",
        "kind",
        lambda: limits.refused,
    )


async def _close_pool(reads: ReadPool) -> None:
    reads.close()


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON {"error", "message"} and is counted by its code."""
    try:
        return await handler(request)
    except RpcError as exc:
        error, status = exc, exc.status
    except web.HTTPRequestEntityTooLarge:
        error = RpcError(RpcErrorCode.BODY_TOO_LARGE, "request body is over the node's limit")
        status = error.status
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = RpcErrorCode.NOT_FOUND if exc.status == 404 else RpcErrorCode.BAD_REQUEST
        error, status = RpcError(code, exc.reason), exc.status  # 404, 405, ...
        if request.path.startswith(ENROLL_PREFIX):
            error = RpcError(code, ENROLL_ELSEWHERE)
    except Exception:
        # A bug, not the client's fault; still JSON, and the traceback is in the log.
        log.exception("RPC %s %s failed", request.method, request.path)
        error = RpcError(RpcErrorCode.INTERNAL, "the node failed on this request; see its log")
        status = error.status
    request.app[_ON_ERROR](error.code.value)
    headers = None
    if error.code in RETRYABLE or error.retry_after_s is not None:
        headers = {"Retry-After": str(error.retry_after_s or RETRY_AFTER_S)}
    return web.json_response(error.to_dict(), status=status, headers=headers)


class _Routes:
    def __init__(
        self,
        node: NodeService,
        reads: ReadPool,
        limits: ClientLimits,
        max_response_bytes: int,
        delivered: views.DeliveredBlocks | None,
    ) -> None:
        self.node, self.reads, self.limits = node, reads, limits
        self.max_response_bytes = max_response_bytes
        self.delivered = delivered

    @property
    def store(self) -> ChainStore:
        return self.node.store

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response(self.node.status())

    async def genesis(self, request: web.Request) -> web.Response:
        genesis = self.store.genesis
        document = json.loads(genesis.to_json())
        document["genesis_hash"] = genesis.genesis_hash.hex()
        return web.json_response(document)

    async def submit(self, request: web.Request) -> web.Response:
        """POST /v1/tx: body {"tx": hex} (JSON) or the raw encoded tx (application/msgpack)."""
        self.limits.take(request, TX)
        body = await request.read()
        if request.content_type == "application/msgpack":
            data = body
        else:
            document = json_object(body)
            data = _hex_field(document, "tx")
        wait_commit = request.query.get("wait", "") == "commit"
        result = await self.node.submit(data, wait_commit)
        return web.json_response(result, status=200 if result.get("height") else 202)

    async def get_tx(self, request: web.Request) -> web.Response:
        self.limits.take(request, READ)
        tx_id = _hex_param(request, "tx_id", 32)
        location = self.store.locate_tx(tx_id)
        if location is None:
            raise RpcError(RpcErrorCode.NOT_FOUND, f"no committed transaction {tx_id.hex()}")
        now_ms, store, delivered = self.node.now_ms(), self.store, self.delivered
        return _json_body(
            await self.reads.run(
                lambda: json.dumps(views.committed_tx(store, *location, now_ms, delivered)).encode()
            )
        )

    async def find_txs(self, request: web.Request) -> web.Response:
        """GET /v1/txs?prefix=HEX: committed tx ids starting with it (at most
        MAX_PREFIX_MATCHES): the CLI resolves an id typed shortened, as tables print them."""
        self.limits.take(request, READ)
        prefix = _id_prefix(request.query.get("prefix", ""))
        store = self.store
        found = await self.reads.run(lambda: store.tx_ids_with_prefix(prefix, MAX_PREFIX_MATCHES))
        return web.json_response({"prefix": prefix, "tx_ids": [t.hex() for t in found]})

    async def list_blocks(self, request: web.Request) -> web.Response:
        self.limits.take(request, READ)
        head = self.store.head_height
        start = _int_query(request, "from", max(1, head - 19), 1)
        limit = min(_int_query(request, "limit", 20, 1), MAX_PAGE_BLOCKS)
        store = self.store

        def read() -> bytes:
            heights = range(start, min(head, start + limit - 1) + 1)
            blocks = [views.block_summary(store, h) for h in heights]
            return json.dumps({"head": head, "blocks": blocks}).encode()

        return _json_body(await self.reads.run(read))

    async def get_block(self, request: web.Request) -> web.Response:
        """The block with transactions tx_from.. (tx_limit, at most MAX_PAGE_TXS and
        max_response_bytes); next_tx_from says where the next page starts."""
        self.limits.take(request, READ)
        height = self._height(request)
        tx_from = _int_query(request, "tx_from", 0, 0)
        tx_limit = min(_int_query(request, "tx_limit", MAX_PAGE_TXS, 1), MAX_PAGE_TXS)
        now_ms, store, cap = self.node.now_ms(), self.store, self.max_response_bytes
        return _json_body(
            await self.reads.run(
                lambda: views.block_detail(store, height, now_ms, tx_from, tx_limit, cap)
            )
        )

    async def get_raw_block(self, request: web.Request) -> web.Response:
        """msgpack [block, certificate, [receipt, ...]] for verifiers and state transfer:
        always whole, from the stored bytes (never decoded and re-encoded)."""
        self.limits.take(request, READ)
        height = self._height(request)
        store = self.store
        raw = await self.reads.run(lambda: views.raw_block(store, height))
        return web.Response(body=raw, content_type="application/msgpack")

    async def list_polls(self, request: web.Request) -> web.Response:
        self.limits.take(request, READ)
        status = request.query.get("status")
        if status not in (None, "open", "closed", "upcoming"):
            raise RpcError(RpcErrorCode.BAD_REQUEST, "status must be open, closed or upcoming")
        creator = _optional_hex(request.query.get("creator"), "creator", 32)
        org = request.query.get("org")
        prefix = request.query.get("prefix")
        if prefix is not None:
            prefix = _id_prefix(prefix)
        start = _int_query(request, "from", 0, 0)
        limit = min(_int_query(request, "limit", DEFAULT_PAGE_POLLS, 1), MAX_PAGE_POLLS)
        now_ms, store, cap = self.node.now_ms(), self.store, self.max_response_bytes

        def read() -> bytes:
            polls = votingcontract.list_polls(
                store, now_ms=now_ms, status=status, creator=creator, org_id=org, id_prefix=prefix
            )
            return views.poll_page(store, polls, now_ms, start, limit, cap)

        return _json_body(await self.reads.run(read))

    async def get_poll(self, request: web.Request) -> web.Response:
        poll = votingcontract.get_poll(self.store, _hex_param(request, "poll_id", 32))
        if poll is None:
            raise RpcError(RpcErrorCode.NOT_FOUND, f"no poll {request.match_info['poll_id']}")
        return web.json_response(poll_document(self.store, poll, self.node.now_ms()))

    async def get_results(self, request: web.Request) -> web.Response:
        poll_id = _hex_param(request, "poll_id", 32)
        results = votingcontract.results(self.store, poll_id, now_ms=self.node.now_ms())
        if results is None:
            raise RpcError(RpcErrorCode.NOT_FOUND, f"no poll {poll_id.hex()}")
        return web.json_response(results.to_dict())

    async def get_poll_crypto(self, request: web.Request) -> web.Response:
        """GET /v1/polls/{id}/crypto: a secret poll's key generation and encrypted tally,
        what a trustee's tool and an auditor read (votingcontract.secret_polls)."""
        poll = votingcontract.get_poll(self.store, _hex_param(request, "poll_id", 32))
        if poll is None:
            raise RpcError(RpcErrorCode.NOT_FOUND, f"no poll {request.match_info['poll_id']}")
        document = secret_polls.crypto_document(self.store, poll)
        if document is None:
            raise RpcError(
                RpcErrorCode.NOT_FOUND,
                f"poll {poll.poll_id.hex()} has public choices: it has no trustees or key",
            )
        return web.json_response(document)

    async def find_tracking(self, request: web.Request) -> web.Response:
        """GET /v1/tracking/{code}: the ballot with this tracking code, by the 26
        characters a voter is shown or the whole code in hex (PROTOCOL.md 15.11)."""
        text = request.match_info["code"]
        try:
            code = secret_polls.parse_tracking_code(text)
        except ValueError as exc:
            raise RpcError(RpcErrorCode.BAD_REQUEST, f"tracking code {text!r}: {exc}") from None
        found = secret_polls.find_tracking_prefix(self.store, code)
        if not found:
            raise RpcError(
                RpcErrorCode.NOT_FOUND,
                f"no accepted ballot has the tracking code {text}; a ballot is findable once "
                "it is committed, and an audited ballot is never cast",
            )
        if len(found) > 1:
            raise RpcError(
                RpcErrorCode.BAD_REQUEST, f"tracking code {text} is ambiguous: give it in hex"
            )
        [(full, tx_id)] = found
        return web.json_response(
            {
                "tracking_code": full.hex(),
                "shown": secret_polls.format_tracking_code(full),
                "tx_id": tx_id.hex(),
            }
        )

    async def history(self, request: web.Request) -> web.Response:
        """POST /v1/history: the participation records of the signing voter's phone, for
        its owner only (PROTOCOL.md section 14.4), paged by "from" and "limit"."""
        self.limits.take(request, READ)
        document = json_object(await request.read())
        signed = parse_history_request(document)
        start = _int_field(document, "from", 0, 0)
        limit = min(_int_field(document, "limit", DEFAULT_PAGE_RECORDS, 1), MAX_PAGE_RECORDS)
        check_history_request(signed, self.node.chain_id, self.node.now_ms())
        owner = votingcontract.phone_id_of_key(self.store, signed.voter_key)
        if owner is None or not is_voter_key_active(
            self.store, signed.voter_key, self.node.now_ms()
        ):
            raise RpcError(
                RpcErrorCode.NOT_PERMITTED,
                "this key is not an enrolled voter's active key; only the key a phone is "
                "enrolled with now can read its history",
            )
        phone_id: bytes = owner
        store, cap = self.store, self.max_response_bytes
        return _json_body(
            await self.reads.run(
                lambda: views.history_page(store, signed.voter_key, phone_id, start, limit, cap)
            )
        )

    async def voter(self, request: web.Request) -> web.Response:
        """A voter key's status now (the node's clock, which the next block's time follows
        within the drift bound) with the notice of a pending replacement; never the
        phone_id (a key must not lead to its phone)."""
        voter_key = _hex_param(request, "voter_key", 32)
        status = votingcontract.key_status(self.store, voter_key, self.node.now_ms())
        if status.status == "unknown":
            raise RpcError(RpcErrorCode.NOT_FOUND, "this key is not an enrolled voter's key")
        return web.json_response(status.to_dict())

    async def get_org(self, request: web.Request) -> web.Response:
        """One organisation with its keys: the attester checks an org's signed roll request
        against these (docs/adr/007)."""
        org_id = request.match_info["org_id"]
        if not (
            0 < len(org_id) <= limits.MAX_ORG_ID_LENGTH and set(org_id) <= limits.ORG_ID_ALPHABET
        ):
            raise RpcError(
                RpcErrorCode.BAD_REQUEST,
                f"org_id must be 1 to {limits.MAX_ORG_ID_LENGTH} characters of a-z 0-9 - _ .",
            )
        org = votingcontract.get_org(self.store, org_id)
        if org is None:
            raise RpcError(RpcErrorCode.NOT_FOUND, f"no organisation {org_id}")
        return web.json_response(org.to_dict())

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(votingcontract.stats(self.store).to_dict())

    async def orgs(self, request: web.Request) -> web.Response:
        """GET /v1/orgs: every registered organisation with its keys (active or revoked)."""
        self.limits.take(request, READ)
        store = self.store
        orgs = await self.reads.run(lambda: votingcontract.list_orgs(store))
        return web.json_response({"orgs": [org.to_dict() for org in orgs]})

    async def reasons(self, request: web.Request) -> web.Response:
        return web.json_response(views.reason_table())

    async def metrics(self, request: web.Request) -> web.Response:
        body, content_type = self.node.metrics_text()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi_document())

    def _height(self, request: web.Request) -> int:
        height = _decimal(request.match_info["height"], "height")
        if not 1 <= height <= self.store.head_height:
            raise RpcError(
                RpcErrorCode.NOT_FOUND, f"no block {height}; the head is {self.store.head_height}"
            )
        return height


def _json_body(data: bytes) -> web.Response:
    """JSON already encoded (in the read pool)."""
    return web.Response(body=data, content_type="application/json", charset="utf-8")


def _int_field(document: dict[str, Any], name: str, default: int, minimum: int) -> int:
    value = document.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value < 2**63:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"field {name!r} must be an integer >= {minimum}")
    return value


def _hex_field(document: dict[str, Any], name: str) -> bytes:
    try:
        return bytes.fromhex(str_field(document, name))
    except ValueError as exc:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"field {name!r} is not hex") from exc


def _hex_param(request: web.Request, name: str, length: int) -> bytes:
    value = _optional_hex(request.match_info.get(name), name, length)
    if value is None:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"{name} is required")
    return value


def _id_prefix(text: str) -> str:
    """A shortened id as people type it (?prefix=): 1 to 64 lower-case hex digits."""
    if not (0 < len(text) <= 64 and all(c in "0123456789abcdef" for c in text)):
        raise RpcError(RpcErrorCode.BAD_REQUEST, "prefix must be 1 to 64 lower-case hex digits")
    return text


def _optional_hex(text: str | None, name: str, length: int) -> bytes | None:
    if text is None:
        return None
    try:
        value = bytes.fromhex(text)
    except ValueError as exc:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"{name} must be hex") from exc
    if len(value) != length:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"{name} must be {length} bytes of hex")
    return value


def _int_query(request: web.Request, name: str, default: int, minimum: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    value = _decimal(text, name)
    if value < minimum:
        raise RpcError(RpcErrorCode.BAD_REQUEST, f"{name} must be at least {minimum}")
    return value


def _decimal(text: str, name: str) -> int:
    """A non-negative decimal integer in plain ASCII digits (Python's int() would also
    take "1_0", " 7", "+3" and other scripts' digits)."""
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_DECIMAL_DIGITS):
        raise RpcError(
            RpcErrorCode.BAD_REQUEST,
            f"{name} must be a non-negative integer of at most {MAX_DECIMAL_DIGITS} digits",
        )
    return int(text)


def decode_raw_block(data: bytes) -> tuple[Block, CommitCertificate, list[bytes]]:
    """Inverse of GET /v1/raw/blocks/{h}; raises DecodeError on anything else.

    A reply larger than a block at the limit plus its certificate and receipts is refused
    unread; Block.from_value refuses an oversized block before building its transactions.
    """
    if len(data) > MAX_RAW_BLOCK_BYTES:
        raise DecodeError(f"raw block is {len(data)} bytes, the limit is {MAX_RAW_BLOCK_BYTES}")
    data = bytes(data)
    # The one canonical check of what a peer sent; the block's transactions then keep
    # their slices of these bytes, so their tx_ids are hashed, never re-encoded.
    fields = encoding.expect_list(encoding.decode(data), 3, "raw block")
    receipts = [
        encoding.expect_bytes(r, "receipt") for r in encoding.expect_array(fields[2], "receipts")
    ]
    block_start, block_end = encoding.array_spans(data)[0]
    block = Block.from_value(fields[0], raw=data[block_start:block_end])
    return block, CommitCertificate.from_value(fields[1]), receipts
