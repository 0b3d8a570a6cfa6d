"""The attester's two enrolment endpoints, relayed at the web app's own origin.

A browser may connect only to the origin that served the page (the CSP's connect-src
'self'), and a city puts one domain in front of a node; the attester is its own process
on its own port. So every node and observer that serves the web app answers

    POST /v1/enroll/start   and   POST /v1/enroll/finish

with exactly the attester's bodies and answers (status, JSON, Retry-After): the CLI's
client code and the browser speak one API. A start goes to the cluster's attester
instances in turn, moving on as the CLI does (docs/adr/008); a finish goes to the
instance its session token names, and nowhere else.

The relay sends the citizen's address as X-Forwarded-For (the client as this node sees
it, behind its own rpc.trusted_proxies), replacing whatever the browser sent. The
attester counts its per-client limits by that address only if it lists this node's
address in [attester] trusted_proxies (docs/OPERATIONS.md "Enrolling from the web app");
otherwise every citizen of this node shares the node's one allowance.

Nothing of a body is logged or kept: a start's body carries a phone number.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from node.attester import session_attester
from node.attester_service import MAX_BODY_BYTES, VALIDATOR_GRACE_S
from node.config import AttesterAddress, ClusterConfig
from node.errors import RpcError, RpcErrorCode
from node.jsonbody import json_object, str_field
from node.ratelimit import client_address
from node.rpc import AppHook, NodeService, client_limits
from webapp.routes import add_routes

log = logging.getLogger("votechain.webapp.enroll")

START_PATH = "/v1/enroll/start"
FINISH_PATH = "/v1/enroll/finish"
START_NEXT_CODES = frozenset(
    {
        RpcErrorCode.BUSY.value,
        RpcErrorCode.SEND_FAILED.value,
        RpcErrorCode.INTERNAL.value,
        RpcErrorCode.LOCKED_OUT.value,
    }
)
"""A start refused with one of these (or any 5xx) goes to the next instance, as the CLI's
(cli/enrolment.py): never one about the number itself (bad_phone, too_many_attempts)."""
MAX_ANSWER_BYTES = 262_144
"""An attester's answer: a finish carries the committed enroll_voter, a few KiB."""
CONNECT_TIMEOUT_S = 3.0
"""A dead instance is passed over quickly; a live one may take its time to answer."""
UNAVAILABLE_RETRY_S = 30
"""Retry-After when no attester can be reached: long enough for a restart."""


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    retry_after: str | None
    code: str | None


class EnrollRelay:
    def __init__(
        self,
        attesters: Sequence[AttesterAddress],
        start_timeout_s: float,
        finish_timeout_s: float,
    ) -> None:
        if not attesters:
            raise ValueError("an enrolment relay needs at least one attester")
        self.attesters = tuple(attesters)
        self.start_timeout_s, self.finish_timeout_s = start_timeout_s, finish_timeout_s
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_config(cls, config: ClusterConfig) -> EnrollRelay:
        settings = config.attester
        # The attester answers a start once its sender has (every gateway attempt), and a
        # finish once the validators committed (their commit wait plus its grace).
        return cls(
            config.attester_addresses,
            settings.gateway_timeout_s * settings.gateway_attempts + 10.0,
            config.rpc.commit_wait_timeout_s + VALIDATOR_GRACE_S + 10.0,
        )

    def add_to(self, app: web.Application) -> None:
        app.add_routes([web.post(START_PATH, self.start), web.post(FINISH_PATH, self.finish)])
        app.on_cleanup.append(self._close)

    # --- routes ----------------------------------------------------------------------

    async def start(self, request: web.Request) -> web.Response:
        body = await _capped_body(request)
        last: _Answer | None = None
        for attester in self.attesters:
            answer = await self._forward(request, attester, START_PATH, body, self.start_timeout_s)
            if answer is not None and not _try_next(answer):
                return _response(answer)
            last = answer or last
        if last is not None:
            return _response(last)
        raise _unavailable("no attester can be reached")

    async def finish(self, request: web.Request) -> web.Response:
        body = await _capped_body(request)
        session = str_field(json_object(body), "session")
        attester = self._holder(session)
        answer = await self._forward(request, attester, FINISH_PATH, body, self.finish_timeout_s)
        if answer is None:
            raise _unavailable(
                f"attester {attester.attester_id}, which holds this session, cannot be "
                "reached; send the code again shortly, or start again (another attester "
                "sends a new code)"
            )
        return _response(answer)

    # --- helpers ---------------------------------------------------------------------

    def _holder(self, session: str) -> AttesterAddress:
        named = session_attester(session)
        if named is None:
            return self.attesters[0]
        for attester in self.attesters:
            if attester.attester_id == named:
                return attester
        raise RpcError(
            RpcErrorCode.CODE_EXPIRED,
            f"this session was started at attester {named}, which this node does not know; "
            "start again",
        )

    async def _forward(
        self,
        request: web.Request,
        attester: AttesterAddress,
        path: str,
        body: bytes,
        timeout_s: float,
    ) -> _Answer | None:
        """The attester's answer, or None when it cannot be reached or answers nonsense."""
        client = client_address(request, client_limits(request.app).trusted_proxies)
        headers = {"Content-Type": "application/json", "X-Forwarded-For": client}
        timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=CONNECT_TIMEOUT_S)
        try:
            async with self._client().post(
                attester.url + path, data=body, headers=headers, timeout=timeout
            ) as reply:
                data = await _read_at_most(reply.content, MAX_ANSWER_BYTES)
                if data is None:
                    raise ValueError(f"an answer over {MAX_ANSWER_BYTES} bytes")
                document = json.loads(data)
                if not isinstance(document, dict):
                    raise ValueError("an answer that is not a JSON object")
                retry = reply.headers.get("Retry-After")
                return _Answer(
                    reply.status,
                    data,
                    retry if retry is not None and retry.isascii() and retry.isdigit() else None,
                    document.get("error") if isinstance(document.get("error"), str) else None,
                )
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            # The exception's kind only: its text could quote a body.
            log.warning(
                "enrolment relay: attester %s %s failed: %s",
                attester.attester_id,
                path,
                type(exc).__name__,
            )
            return None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _close(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _try_next(answer: _Answer) -> bool:
    return answer.status >= 500 or answer.code in START_NEXT_CODES


def _response(answer: _Answer) -> web.Response:
    headers = {} if answer.retry_after is None else {"Retry-After": answer.retry_after}
    return web.Response(
        status=answer.status,
        body=answer.body,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def _unavailable(message: str) -> RpcError:
    return RpcError(RpcErrorCode.BUSY, message, retry_after_s=UNAVAILABLE_RETRY_S)


async def _capped_body(request: web.Request) -> bytes:
    """The body, refused past the attester's own limit before more of it is read."""
    too_large = RpcError(
        RpcErrorCode.BODY_TOO_LARGE, f"enrolment bodies are at most {MAX_BODY_BYTES} bytes"
    )
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large
    try:
        data = await _read_at_most(request.content, MAX_BODY_BYTES)
    except (TimeoutError, aiohttp.ClientPayloadError) as exc:
        raise RpcError(RpcErrorCode.BAD_REQUEST, "the body did not arrive whole") from exc
    if data is None:
        raise too_large
    return data


async def _read_at_most(stream: aiohttp.StreamReader, limit: int) -> bytes | None:
    """The stream to its end, or None as soon as it runs past `limit` bytes."""
    chunks, size = [], 0
    async for chunk in stream.iter_chunked(16_384):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def web_app_hook(config: ClusterConfig) -> AppHook:
    """The AppHook that `votechain node` and `observer` pass: the web app's pages
    (routes.add_routes) and the attester's enrolment endpoints of `config`, relayed."""
    relay = EnrollRelay.from_config(config)

    def hook(app: web.Application, node: NodeService) -> None:
        add_routes(app, node)
        relay.add_to(app)

    return hook
