"""`votechain attester`: the phone-verification service, its own process apart from validators.

It alone reads the attester's key and pepper (data/attester/, mode 0700). It serves

    POST /v1/enroll/start   {"phone"}                       -> {"session", "sent", "expires_in_s"}
    POST /v1/enroll/finish  {"session", "code", "voter_key"} -> the committed enroll_voter tx,
                                                               "voter_status", "effective_at_ms",
                                                               "replaces_old_key",
                                                               "old_key_revoked_at_ms"
    GET  /v1/status, GET /metrics

Several instances may run ([[attesters]], docs/adr/008), each with this one's key and
pepper; a session token names the instance that holds it ("<id>.<random>").

signs enroll_voter with its key and submits it to the validators' RPC (POST
/v1/tx?wait=commit), trying the next validator when one fails or does not commit. Errors
are JSON {"error", "message"} with the statuses of node/errors.py, plus Retry-After on
every refusal that a later retry can pass. Per-client token buckets (the client is the
remote address, or X-Forwarded-For from a trusted reverse proxy) come before any work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from chain.keyfile import load_key
from chain.tx import Transaction
from node.attester import Attester, AttesterLimits, Verified
from node.config import ClusterConfig, ConfigError, NodeAddress
from node.errors import RpcError, RpcErrorCode
from node.jsonbody import json_object, str_field
from node.ratelimit import TokenBuckets, client_address
from node.roll_ids import (
    MAX_ROLL_BODY_BYTES,
    RollIdIssuer,
    RollRequest,
    confirmations_needed,
    org_key_is_active,
)
from node.senders import CodeSender, make_sender
from node.setup import load_genesis, load_pepper
from node.tls import client_context

log = logging.getLogger("votechain.attester")

MAX_BODY_BYTES = 4096
"""Enrollment bodies are a few short strings; anything larger is not a citizen's phone."""
SWEEP_INTERVAL_S = 10.0
VALIDATOR_GRACE_S = 5.0
"""Added to the validators' commit wait, so their own `timeout` answer arrives first."""
DEFINITIVE_CODES = frozenset(
    {
        RpcErrorCode.REFUSED,
        RpcErrorCode.WRONG_CHAIN,
        RpcErrorCode.BAD_SIGNATURE,
        RpcErrorCode.MALFORMED_TX,
    }
)
"""Validator answers that every honest validator would give alike: not worth a retry."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AttesterService:
    def __init__(
        self,
        config: ClusterConfig,
        clock_s: Callable[[], float] = time.monotonic,
        sender: CodeSender | None = None,
        attester_id: str | None = None,
    ) -> None:
        self.config = config
        self.address = config.attester_address(attester_id)
        """This instance of [[attesters]] (the only one without that list)."""
        settings = config.attester
        genesis = load_genesis(config)
        try:
            key = load_key(config.attester_key_path)
        except OSError as exc:
            raise ConfigError(
                f"cannot read the attester key at {config.attester_key_path}: {exc}"
            ) from exc
        if key.public_key not in {a.public_key for a in genesis.attesters}:
            raise ConfigError(
                f"the attester key {config.attester_key_path} is not an attester of genesis "
                f"{config.genesis_path}; enrollments it signs would be refused"
            )
        self.sender = sender if sender is not None else make_sender(config)
        limits = AttesterLimits(
            code_ttl_s=settings.code_ttl_s,
            max_attempts=settings.max_attempts,
            wrong_guess_budget=settings.wrong_guess_budget,
            wrong_guess_window_s=settings.wrong_guess_window_s,
            resend_interval_s=settings.resend_interval_s,
            max_codes_per_minute=settings.max_codes_per_minute,
            allowed_country_codes=settings.allowed_country_codes,
        ).shared_by(len(config.attester_addresses))
        self.attester = Attester(
            key,
            load_pepper(config),
            genesis.chain_id,
            self.sender,
            clock_s,
            limits,
            self.address.attester_id,
        )
        self.start_buckets = TokenBuckets(
            settings.client_start_burst, settings.client_starts_per_hour, clock_s
        )
        self.finish_buckets = TokenBuckets(
            settings.client_finish_burst, settings.client_finishes_per_hour, clock_s
        )
        self.trusted_proxies = frozenset(settings.trusted_proxies)
        self.validators = ValidatorPool(
            config.nodes,
            config.rpc.commit_wait_timeout_s + VALIDATOR_GRACE_S,
            client_context(config),
        )
        self.registry = CollectorRegistry()
        self.registry.register(_AttesterCollector(self))
        self._init_roll_ids(clock_s)
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_errors_as_json])
        app.add_routes(
            [
                web.post("/v1/enroll/start", self.enroll_start),
                web.post("/v1/enroll/finish", self.enroll_finish),
                web.post("/v1/roll/phone-ids", self.roll_phone_ids),
                web.get("/v1/status", self.status),
                web.get("/metrics", self.metrics),
            ]
        )
        return app

    async def start(self) -> None:
        """Serve; on failure (its port taken) what was opened is closed again."""
        try:
            await self._serve()
        except BaseException:
            await self.stop()
            raise

    async def _serve(self) -> None:
        await self.validators.open()
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        settings, address = self.config.attester, self.address
        await web.TCPSite(self._runner, address.host, address.port).start()
        self._sweeper = asyncio.create_task(self._sweep_forever())
        log.info(
            "attester %s serving on %s (sender %s, country codes %s; %d of %d wrong guesses "
            "per number, %d of %d codes a minute: this instance's share)",
            address.attester_id,
            address.url,
            settings.sender,
            ", ".join(settings.allowed_country_codes),
            self.attester.limits.wrong_guess_budget,
            settings.wrong_guess_budget,
            self.attester.limits.max_codes_per_minute,
            settings.max_codes_per_minute,
        )

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        await self.validators.close()
        await self.sender.close()

    async def _sweep_forever(self) -> None:
        """Expired sessions go (and their outbox files) even when nobody calls."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            self.attester.sweep()

    # --- routes --------------------------------------------------------------------------

    async def enroll_start(self, request: web.Request) -> web.Response:
        self._take(self.start_buckets, request, "client_start")
        document = json_object(await request.read())
        started = await self.attester.start(str_field(document, "phone"))
        return web.json_response(
            {"session": started.session, "sent": True, "expires_in_s": started.expires_in_s}
        )

    async def enroll_finish(self, request: web.Request) -> web.Response:
        self._take(self.finish_buckets, request, "client_finish")
        document = json_object(await request.read())
        session = str_field(document, "session")
        code = str_field(document, "code")
        voter_key = _voter_key(str_field(document, "voter_key"))
        verified = self.attester.verify(session, code, voter_key)
        try:
            result = await self.validators.submit(
                self.attester.enroll_tx(verified, nonce=secrets.randbits(63))
            )
        except BaseException:
            self.attester.release(verified)
            raise
        receipt = result.get("receipt")
        if not (isinstance(receipt, dict) and receipt.get("accepted")):
            # Committed but refused (e.g. the key belongs to another phone): nothing was
            # registered, so no notice; the session stays for a finish with another key.
            self.attester.release(verified)
            return web.json_response(
                {**result, "voter_status": None, "effective_at_ms": None, "notice_sent": False}
            )
        self.attester.complete(verified)
        return web.json_response({**result, **await self._after_enrollment(verified)})

    async def status(self, request: web.Request) -> web.Response:
        settings = self.config.attester
        return web.json_response(
            {
                "service": "attester",
                "attester_id": self.address.attester_id,
                "attesters": [a.attester_id for a in self.config.attester_addresses],
                "wrong_guess_budget": self.attester.limits.wrong_guess_budget,
                "chain_id": self.attester.chain_id,
                "attester_key": self.attester.key.public_key.hex(),
                "sender": settings.sender,
                "allowed_country_codes": list(settings.allowed_country_codes),
                "sessions": self.attester.session_count,
                "validators": [n.rpc_url for n in self.config.nodes],
            }
        )

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    # --- helpers -------------------------------------------------------------------------

    async def _after_enrollment(self, verified: Verified) -> dict[str, Any]:
        """Ask a validator whether the new key is active or pending; unless it is active at
        once, tell the number: its old key's holder may not have asked for this.

        A pending key means the phone had a key (votingcontract/voterkeys.py): that old key
        is revoked at effective_at_ms unless its holder cancels, and any key that was still
        waiting to replace it is revoked now (docs/adr/004); the answer says so."""
        voter = await self.validators.voter_status(verified.voter_key)
        status = str(voter.get("status", "unknown"))
        effective_at_ms = voter.get("effective_at_ms")
        if not isinstance(effective_at_ms, int):
            effective_at_ms = None
        notice_sent = False
        if status != "active":
            notice_sent = await self.attester.send_notice(verified.e164, effective_at_ms)
        return {
            "voter_status": status,
            "effective_at_ms": effective_at_ms,
            "notice_sent": notice_sent,
            **_key_change(status, effective_at_ms),
        }

    def _take(self, buckets: TokenBuckets, request: web.Request, kind: str) -> None:
        client = client_address(request, self.trusted_proxies)
        wait_s = buckets.take(client)
        if wait_s is not None:
            self.attester.trip(kind, client=client)
            raise RpcError(
                RpcErrorCode.TOO_MANY_ATTEMPTS,
                f"too many requests from your address; retry in {wait_s} s",
                retry_after_s=wait_s,
            )

    # --- roll phone ids for organisations (docs/adr/007, node/roll_ids.py) -----------------

    def _init_roll_ids(self, clock_s: Callable[[], float]) -> None:
        settings = self.config.attester
        # Each instance keeps its own quota in memory: its share of the configured one.
        instances = len(self.config.attester_addresses)
        self.roll_ids = RollIdIssuer(
            self.attester.pepper,
            self.attester.chain_id,
            max(1, settings.roll_phones_per_org_per_day // instances),
            clock_s,
            lambda: int(time.time() * 1000),
        )
        self.roll_buckets = TokenBuckets(
            settings.client_roll_burst, settings.client_rolls_per_hour, clock_s
        )
        self.registry.register(_RollCollector(self.roll_ids))

    async def roll_phone_ids(self, request: web.Request) -> web.Response:
        """POST /v1/roll/phone-ids: an organisation's numbers as phone ids, in order."""
        signed: RollRequest | None = None
        try:
            self._take(self.roll_buckets, request, "client_roll")
            document = json_object(await _body_at_most(request, MAX_ROLL_BODY_BYTES))
            signed = self.roll_ids.check(document, self.config.attester.allowed_country_codes)
            await self._confirm_org_key(signed)
            phone_ids = self.roll_ids.issue(signed)
        except RpcError as exc:
            self.roll_ids.refused(exc, signed)
            raise
        return web.json_response({"phone_ids": [p.hex() for p in phone_ids]})

    async def _confirm_org_key(self, signed: RollRequest) -> None:
        """f + 1 validators must say the key is an active key of the organisation, so one
        lying or stale validator cannot open the pepper to a stranger."""
        answers = await self.validators.get_each(f"/v1/orgs/{signed.org_id}")
        needed = confirmations_needed(len(self.config.nodes))
        confirmed = sum(org_key_is_active(a, signed.org_id, signed.key) for a in answers)
        if confirmed >= needed:
            return
        if sum(a is not None for a in answers) < needed:
            raise RpcError(
                RpcErrorCode.BUSY,
                f"too few validators answered to confirm the organisation's key (need {needed}); "
                "retry shortly",
                retry_after_s=5,
            )
        raise RpcError(
            RpcErrorCode.NOT_PERMITTED,
            f"the key {signed.key.hex()[:16]}... is not an active key of organisation "
            f"{signed.org_id} on this chain (only registered organisations' keys may turn "
            "numbers into phone ids)",
        )


class ValidatorPool:
    """Submits to the validators' RPC, moving on from any that fails or does not commit."""

    def __init__(
        self,
        nodes: tuple[NodeAddress, ...],
        timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.nodes, self.timeout_s = nodes, timeout_s
        self.ssl_context = ssl_context
        """With [tls]: the validators' RPC is https, checked against the cluster's CA."""
        self._preferred = 0
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            connector=aiohttp.TCPConnector(ssl=self.ssl_context or True),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _rotation(self) -> list[NodeAddress]:
        return [self.nodes[(self._preferred + i) % len(self.nodes)] for i in range(len(self.nodes))]

    async def submit(self, tx: Transaction) -> dict[str, Any]:
        """The committed tx as the validator reports it, or RpcError."""
        failures = []
        for index, address in enumerate(self._rotation()):
            try:
                status, document = await self._request(
                    "POST", f"{address.rpc_url}/v1/tx?wait=commit", {"tx": tx.encode().hex()}
                )
                if status == 200 and document.get("height"):
                    self._preferred = (self._preferred + index) % len(self.nodes)
                    return document
                code = document.get("error")
                if code == RpcErrorCode.ALREADY_COMMITTED:
                    status, document = await self._request(
                        "GET", f"{address.rpc_url}/v1/tx/{tx.tx_id.hex()}", None
                    )
                    if status == 200:
                        return {"status": "committed", **document}
                if code in DEFINITIVE_CODES:
                    raise RpcError(
                        RpcErrorCode(code),
                        str(document.get("message", code)),
                        document.get("reason"),
                    )
                failures.append(f"{address.node_id}: HTTP {status} {code or 'pending'}")
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                failures.append(f"{address.node_id}: {type(exc).__name__}")
        log.warning("no validator committed an enrollment: %s", "; ".join(failures))
        raise RpcError(
            RpcErrorCode.BUSY,
            "no validator committed the enrollment right now; your session and code stay "
            "valid until they expire: send finish again",
            retry_after_s=5,
        )

    async def voter_status(self, voter_key: bytes) -> dict[str, Any]:
        """GET /v1/voters/{key} of the first validator that answers; {} if none does."""
        for address in self._rotation():
            try:
                status, document = await self._request(
                    "GET", f"{address.rpc_url}/v1/voters/{voter_key.hex()}", None
                )
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
                continue
            if status == 200:
                return document
        return {}

    async def get_each(self, path: str) -> list[dict[str, Any] | None]:
        """GET `path` from every validator at once: each one's 200 answer, {} for any
        other answer (it spoke, and said no), None where it could not be reached."""

        async def one(address: NodeAddress) -> dict[str, Any] | None:
            try:
                status, document = await self._request("GET", f"{address.rpc_url}{path}", None)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
                return None
            return document if status == 200 else {}

        return list(await asyncio.gather(*(one(address) for address in self.nodes)))

    async def _request(
        self, method: str, url: str, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        assert self._session is not None, "open() first"
        async with self._session.request(method, url, json=body) as response:
            document = json.loads(await response.read())
            if not isinstance(document, dict):
                raise ValueError(f"{url} answered {type(document).__name__}, not an object")
            return response.status, document


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RpcError as exc:
        error = exc
    except web.HTTPRequestEntityTooLarge:
        error = RpcError(RpcErrorCode.BODY_TOO_LARGE, f"bodies are at most {MAX_BODY_BYTES} bytes")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = RpcErrorCode.NOT_FOUND if exc.status == 404 else RpcErrorCode.BAD_REQUEST
        return web.json_response(RpcError(code, exc.reason).to_dict(), status=exc.status)
    except Exception:
        log.exception("attester %s %s failed", request.method, request.path)
        error = RpcError(RpcErrorCode.INTERNAL, "the attester failed on this request; see its log")
    headers = {}
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(error.retry_after_s)
    return web.json_response(error.to_dict(), status=error.status, headers=headers)


def _key_change(status: str, effective_at_ms: int | None) -> dict[str, Any]:
    """What the enrollment did to the phone's earlier keys, for the finish answer."""
    if status != "pending":
        return {"replaces_old_key": False, "old_key_revoked_at_ms": None}
    return {"replaces_old_key": True, "old_key_revoked_at_ms": effective_at_ms}


def _voter_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise RpcError(RpcErrorCode.BAD_REQUEST, "voter_key must be hex") from exc
    if len(key) != 32:
        raise RpcError(RpcErrorCode.BAD_REQUEST, "voter_key must be 32 bytes of hex")
    return key


class _AttesterCollector(Collector):
    """The attester's own counts, read at scrape time (the attester is their one owner)."""

    def __init__(self, service: AttesterService) -> None:
        self.service = service

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        attester = self.service.attester
        for name, documentation in [
            ("codes_sent", "One-time codes handed to the sender"),
            ("send_failures", "Codes the sender failed to send (not counted as sent)"),
            ("wrong_guesses", "Wrong codes tried in any session"),
            ("lockouts", "Numbers locked out after using their wrong-guess budget"),
            ("enrollments", "Enrollments committed"),
            ("notices_sent", "New-device notices sent to a number"),
            ("notice_failures", "New-device notices the sender failed to send"),
        ]:
            family = CounterMetricFamily(f"votechain_attester_{name}", documentation)
            family.add_metric([], attester.counts[name])
            yield family
        trips = CounterMetricFamily(
            "votechain_attester_limit_trips",
            "Requests refused by a limit, by kind",
            labels=["kind"],
        )
        for kind, count in sorted(attester.limit_trips.items()):
            trips.add_metric([kind], count)
        yield trips
        sessions = GaugeMetricFamily("votechain_attester_sessions", "Sessions waiting for a code")
        sessions.add_metric([], attester.session_count)
        yield sessions


class _RollCollector(Collector):
    """Roll phone ids by organisation, and refused roll requests by error (never a number)."""

    def __init__(self, roll_ids: RollIdIssuer) -> None:
        self.roll_ids = roll_ids

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, documentation, counts, label in [
            (
                "roll_phone_ids",
                "Numbers turned into roll phone ids, by organisation",
                self.roll_ids.issued,
                "org",
            ),
            (
                "roll_requests",
                "Roll requests answered, by organisation",
                self.roll_ids.requests,
                "org",
            ),
            (
                "roll_refusals",
                "Roll requests refused, by error",
                self.roll_ids.refusals,
                "error",
            ),
        ]:
            family = CounterMetricFamily(
                f"votechain_attester_{name}", documentation, labels=[label]
            )
            for value, count in sorted(counts.items()):
                family.add_metric([value], count)
            yield family


async def _body_at_most(request: web.Request, limit: int) -> bytes:
    """The body, read past the app's small enrollment limit up to `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise RpcError(RpcErrorCode.BODY_TOO_LARGE, f"roll requests are at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(16_384):
        size += len(chunk)
        if size > limit:
            raise RpcError(RpcErrorCode.BODY_TOO_LARGE, f"roll requests are at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def run_attester(
    config: ClusterConfig, stop: asyncio.Event, attester_id: str | None = None
) -> None:
    service = AttesterService(config, attester_id=attester_id)
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()
