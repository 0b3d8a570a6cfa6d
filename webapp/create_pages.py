"""Pages for making polls and sharing them: /new (a citizen poll, signed in the browser),
its preview, /o/<org id> (an organisation and its policy polls), and a poll link's QR code.

The preview is rendered here, not in the browser: it runs the very rules `votechain poll
create` runs before it submits (CreatePoll.from_dict, then votingcontract.poll_problem),
so the page refuses what the CLI refuses with the CLI's words for the field, and shows
the poll with the poll page's markup in the reader's language. It reads nothing and
changes nothing; the poll itself is signed by the citizen's key in the browser and sent
to the JSON RPC (POST /v1/tx), as every transaction is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

import votingcontract
from chain.tx import MAX_TX_BYTES
from node.errors import HTTP_STATUS, RpcErrorCode
from node.rpc import READ, rpc_settings
from votingcontract import limits
from votingcontract.queries import OrgInfo
from votingcontract.records import PollRecord
from webapp import polls, qr, routes
from webapp.i18n import TIME_ZONE

if TYPE_CHECKING:
    from webapp.routes import WebApp

MIN_PASSWORD_CHARACTERS = 16
MIN_PASSWORD_DISTINCT = 8
"""The CLI's rule for a poll password (cli/poll_file.py password_problem; a test keeps
them equal): the salt and gate key are public, so a short password falls offline."""
DEFAULT_DAYS_OPEN = 7
PREVIEW_ID = bytes(32)
"""A preview's stand-in poll id: the real one is the signed transaction's id."""
_QUESTION_NUMBER = re.compile(r"question (\d+)")
_QUESTION_INDEX = re.compile(r"questions\[(\d+)\]")
_FIELDS = (
    ("closes_at", "closes"),
    ("opens_at", "opens"),
    ("reference_url", "reference-url"),
    ("purpose", "purpose"),
    ("title", "title"),
    ("password", "password"),
)
"""Where a refusal's detail points on the form: its first matching field name."""


def add_create_routes(app: web.Application, site: WebApp) -> None:
    pages = CreatePages(site, rpc_settings(app).public_url.rstrip("/"))
    app.add_routes(
        [
            web.get("/new", pages.new),
            web.post("/new/preview", pages.preview),
            web.get("/o/{org}", pages.org),
            web.get("/p/{poll}/qr.svg", pages.poll_qr),
        ]
    )


@dataclass(frozen=True)
class Problem:
    """Why a poll would be refused: a reason code when the chain's rules say it, and the
    detail naming the field (the CLI's words)."""

    reason: str | None
    detail: str
    field: str | None
    """The form control's id the detail points at, if any."""
    question: int | None
    """The question (from 1) the detail points at, if any."""


def problem_of(d: Any, now_ms: int) -> tuple[votingcontract.CreatePoll | None, Problem | None]:
    """The body of a create_poll dict and what the chain's stateless rules refuse in it,
    as `votechain poll create` checks it before submitting."""
    try:
        body = votingcontract.CreatePoll.from_dict(d)
    except ValueError as exc:
        return None, _problem(None, str(exc))
    found = votingcontract.poll_problem(body, now_ms)
    if found is None:
        return body, None
    code, _, detail = found.partition(": ")
    return body, _problem(code, detail)


def _problem(reason: str | None, detail: str) -> Problem:
    number = _QUESTION_NUMBER.search(detail)
    index = _QUESTION_INDEX.search(detail)
    question = int(number.group(1)) if number else int(index.group(1)) + 1 if index else None
    field = None
    if question is None:
        field = next((control for name, control in _FIELDS if name in detail), None)
    return Problem(reason, detail, field, question)


def seoul_input(ms: int) -> str:
    """An instant as a datetime-local input's value in Seoul time ("2026-12-01T09:00")."""
    return (
        datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(TIME_ZONE).strftime("%Y-%m-%dT%H:%M")
    )


class CreatePages:
    def __init__(self, site: WebApp, public_url: str = "") -> None:
        self.site = site
        self.public_url = public_url
        """rpc.public_url: the address links are drawn with; "" for each request's own."""

    async def new(self, request: web.Request) -> web.Response:
        """The form for a citizen poll; the browser signs and submits it."""
        now_ms = self.site.node.now_ms()
        start = now_ms - now_ms % 60_000
        return self.site._page(
            request,
            "create.html",
            chain_id=self.site.node.chain_id,
            opens=seoul_input(start),
            closes=seoul_input(start + DEFAULT_DAYS_OPEN * 86_400_000),
            limits=limits,
            min_password=MIN_PASSWORD_CHARACTERS,
            min_distinct=MIN_PASSWORD_DISTINCT,
        )

    async def preview(self, request: web.Request) -> web.Response:
        """POST /new/preview with a create_poll dict (JSON): an HTML fragment for the
        form, the poll as its page will show it, or what refuses it (marked
        data-refused). Both are 200: the check itself succeeded."""
        self.site.limits.take(request, READ)
        data = await request.read()
        try:
            if len(data) > 2 * MAX_TX_BYTES:
                raise ValueError("too large")
            d = json.loads(data)
        except (ValueError, RecursionError):  # JSON nested deeper than Python recurses
            lang = request[routes._LANG]
            return self.site._error(
                request,
                HTTP_STATUS[RpcErrorCode.BAD_REQUEST],
                lang.rpc_error(RpcErrorCode.BAD_REQUEST),
            )
        body, problem = problem_of(d, self.site.node.now_ms())
        if body is None or problem is not None:
            return self.site._page(request, "create_problem.html", problem=problem)
        record = PollRecord(PREVIEW_ID, body, bytes(32), None, 0, body.closes_at_ms, None)
        summary = polls.PollSummary(record, record.status(self.site.node.now_ms()), None, None)
        return self.site._page(request, "create_preview.html", summary=summary)

    async def org(self, request: web.Request) -> web.Response:
        """An organisation: its name and its policy polls, open ones first."""
        self.site.limits.take(request, READ)
        lang = request[routes._LANG]
        org_id = request.match_info["org"]
        start_text = request.query.get("from", "0")
        try:
            chosen = polls.PollFilter.parse("", "", "policy", org_id)
        except polls.BadFilter:
            chosen = None
        if chosen is None or not org_id:
            return self.site._error(
                request, 404, lang.reason(votingcontract.ReasonCode.UNKNOWN_ORG)
            )
        if not (start_text.isascii() and start_text.isdigit() and len(start_text) <= 9):
            return self.site._bad_request(request, "from")
        store, now_ms, start = self.site.node.store, self.site.node.now_ms(), int(start_text)

        def read() -> tuple[OrgInfo | None, polls.PollList | None]:
            org = votingcontract.get_org(store, org_id)
            if org is None:
                return None, None
            return org, polls.list_polls(store, now_ms, chosen, start)

        org, found = await self.site.reads.run(read)
        if org is None or found is None:
            return self.site._error(
                request, 404, lang.reason(votingcontract.ReasonCode.UNKNOWN_ORG)
            )
        return self.site._page(
            request,
            "org.html",
            org=org,
            found=found,
            next_url=None
            if found.next_start is None
            else str(request.rel_url.update_query({"from": str(found.next_start)})),
        )

    async def poll_qr(self, request: web.Request) -> web.Response:
        """The poll's short link as a QR code (SVG), for its page and for posters."""
        self.site.limits.take(request, READ)
        lang = request[routes._LANG]
        typed = request.match_info["poll"].strip().lower()
        if not polls.is_poll_prefix(typed):
            return self.site._error(
                request, 404, lang.reason(votingcontract.ReasonCode.UNKNOWN_POLL)
            )
        store = self.site.node.store
        found = await self.site.reads.run(lambda: polls.find_poll(store, typed))
        if len(found) != 1:
            return self.site._error(
                request, 404, lang.reason(votingcontract.ReasonCode.UNKNOWN_POLL)
            )
        try:
            site = self.public_url or qr.site_url(request, self.site.limits.trusted_proxies)
        except qr.BadHost:
            return self.site._error(
                request,
                HTTP_STATUS[RpcErrorCode.BAD_REQUEST],
                lang.gettext("The Host header of this request is not a plain host name."),
            )
        link = qr.poll_link(site, found[0].poll_id.hex())
        image = qr.svg(link, lang.gettext("QR code of the poll's link: %(link)s") % {"link": link})
        return web.Response(body=image, content_type="image/svg+xml")
