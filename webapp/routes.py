"""The web app's routes on a node's (or an observer's) RPC app: pages and static files.

`add_routes(app, node)` is the node's AppHook (node/rpc.py): the command that starts a
node or an observer passes it (cli/cluster_cmds.py), and node/ never imports webapp.
The pages read state as the JSON RPC does (votingcontract's queries, in the node's read
pool, under its per-client read limit) and need no JavaScript.

Every answer that is not the RPC's (/v1/..., /metrics, /openapi.json) goes through
`WebApp.middleware`: it picks the reader's language, turns errors into a page in that
language (the RPC's JSON errors stay for the RPC paths), and adds the security and
caching headers.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

import votingcontract
from node.errors import HTTP_STATUS, RETRYABLE, RpcError, RpcErrorCode
from node.ratelimit import ClientLimits
from node.readpool import ReadPool
from node.rpc import READ, RETRY_AFTER_S, NodeService, client_limits, read_pool
from webapp import polls, receipt_pages, security
from webapp.create_pages import add_create_routes
from webapp.i18n import (
    LANGUAGE_NAMES,
    LANGUAGES,
    Lang,
    choose_language,
    load_languages,
    seoul_month,
)
from webapp.shell import add_shell_routes
from webapp.vote_pages import add_vote_pages

log = logging.getLogger("votechain.webapp")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PACKAGE_DIR = Path(__file__).parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STYLESHEET = "app.css"
API_PREFIXES = ("/v1/", "/metrics", "/openapi.json")
"""Paths of the JSON RPC and the node's own endpoints: left to the RPC's handling."""
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600
MAX_DECIMAL_DIGITS = 9
"""A page offset (?from=) is at most this many digits."""
_LANG = web.RequestKey("webapp_lang", Lang)
"""Where the middleware leaves the request's Lang for the handlers."""


def add_routes(app: web.Application, node: NodeService) -> None:
    """Serve the web app from `app` (a node's RPC app) for `node`: the AppHook."""
    site = WebApp(node, read_pool(app), client_limits(app))
    app.middlewares.append(site.middleware)
    receipt_pages.add_receipt_routes(app, site)  # live results, history, receipts
    app.add_routes(
        [
            web.get("/", site.index),
            web.get("/p/{poll}", site.poll),
            web.get("/stats", site.stats),
            web.static("/static", STATIC_DIR),
        ]
    )
    add_create_routes(app, site)  # /new, /o/<org>, /p/<poll>/qr.svg
    add_shell_routes(app, site)  # /sw.js, /offline
    add_vote_pages(app, site)  # /enroll


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    url: str
    current: bool


class WebApp:
    def __init__(self, node: NodeService, reads: ReadPool, limits: ClientLimits) -> None:
        self.node, self.reads, self.limits = node, reads, limits
        self.languages = load_languages()
        self.templates = {code: _environment(lang) for code, lang in self.languages.items()}
        digest = hashlib.sha256((STATIC_DIR / STYLESHEET).read_bytes()).hexdigest()
        self.stylesheet_url = f"/static/{STYLESHEET}?v={digest[:12]}"

    # --- pages -----------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        """Polls open, upcoming and closed; filtered by status, kind and organisation;
        searched by title; PAGE_POLLS a page."""
        self.limits.take(request, READ)
        query = request.query
        try:
            chosen = polls.PollFilter.parse(
                query.get("q", ""),
                query.get("status", ""),
                query.get("kind", ""),
                query.get("org", ""),
            )
        except polls.BadFilter as exc:
            return self._bad_request(request, exc.field)
        start_text = query.get("from", "0")
        if not (
            start_text.isascii() and start_text.isdigit() and len(start_text) <= MAX_DECIMAL_DIGITS
        ):
            return self._bad_request(request, "from")
        store, now_ms, start = self.node.store, self.node.now_ms(), int(start_text)

        def read() -> tuple[polls.PollList, dict[str, str]]:
            return polls.list_polls(store, now_ms, chosen, start), polls.org_names(store)

        found, orgs = await self.reads.run(read)
        return self._page(
            request,
            "index.html",
            found=found,
            chosen=chosen,
            orgs=sorted(orgs.items(), key=lambda item: item[1]),
            next_url=None
            if found.next_start is None
            else str(request.rel_url.update_query({"from": str(found.next_start)})),
        )

    async def poll(self, request: web.Request) -> web.Response:
        """One poll by its id or any unique prefix of it (its short link)."""
        typed = request.match_info["poll"].strip().lower()
        lang = request[_LANG]
        if not polls.is_poll_prefix(typed):
            return self._error(
                request,
                404,
                lang.gettext(
                    "A poll link is the letters 0-9 and a-f after /p/; this one has others."
                ),
            )
        if len(typed) < polls.SHORT_ID_CHARS:
            # A prefix shorter than a short link may match many polls, all of them read:
            # a heavy read, as GET /v1/polls?prefix= is. Short links and ids are not.
            self.limits.take(request, READ)
        store, now_ms = self.node.store, self.node.now_ms()

        def read() -> tuple[polls.PollPage | None, list[polls.PollSummary]]:
            found = polls.find_poll(store, typed)
            if len(found) != 1:
                names = polls.org_names(store)
                return None, [polls.summarise(store, p, now_ms, names) for p in found]
            return polls.poll_page(store, found[0], now_ms), []

        page, matches = await self.reads.run(read)
        if page is None and not matches:
            return self._error(request, 404, lang.reason(votingcontract.ReasonCode.UNKNOWN_POLL))
        if page is None:
            return self._page(request, "ambiguous.html", status=300, typed=typed, matches=matches)
        return self._page(request, "poll.html", page=page, summary=page.summary)

    async def stats(self, request: web.Request) -> web.Response:
        """The chain's operating counters, and polls by organisation and by the month
        they open (Seoul time), counted from the poll records. Ballots by organisation
        or month are not kept by the chain: the page says so rather than estimate."""
        self.limits.take(request, READ)
        store = self.node.store

        def read() -> tuple[dict[str, Any], list[tuple[str, int]], int, list[tuple[int, int, int]]]:
            counts = votingcontract.stats(store).to_dict()
            names = polls.org_names(store)
            by_org: Counter[str] = Counter()
            by_month: Counter[tuple[int, int]] = Counter()
            citizen = 0
            for poll in votingcontract.list_polls(store, now_ms=0):  # no status filter
                by_month[seoul_month(poll.spec.opens_at_ms)] += 1
                if poll.spec.kind == "policy":
                    by_org[names.get(poll.spec.org_id, poll.spec.org_id)] += 1
                else:
                    citizen += 1
            orgs = sorted(by_org.items(), key=lambda item: (-item[1], item[0]))
            months = [(year, month, n) for (year, month), n in sorted(by_month.items())]
            return counts, orgs, citizen, months

        counts, by_org, citizen, by_month = await self.reads.run(read)
        return self._page(
            request,
            "stats.html",
            counts=counts,
            by_org=by_org,
            citizen_polls=citizen,
            by_month=by_month,
        )

    # --- the middleware --------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(API_PREFIXES):
            return await handler(request)
        asked = request.query.get("lang")
        code = choose_language(
            asked, request.cookies.get(LANG_COOKIE), request.headers.get("Accept-Language")
        )
        request[_LANG] = self.languages[code]
        try:
            response = await handler(request)
        except RpcError as exc:  # busy, rate_limited: the RPC's refusals, worded here
            response = self._error(request, exc.status, request[_LANG].rpc_error(exc.code))
            if exc.retry_after_s is not None or exc.code in RETRYABLE:
                response.headers["Retry-After"] = str(exc.retry_after_s or RETRY_AFTER_S)
        except web.HTTPException as exc:
            if exc.status < 400:
                _secure(request, exc, static=False)
                raise
            response = self._http_error(request, exc.status)
        except Exception:
            log.exception("web page %s %s failed", request.method, request.path)
            response = self._http_error(request, 500)
        static = request.path.startswith("/static/") and response.status < 400
        _secure(request, response, static)
        if asked == code:
            response.set_cookie(
                LANG_COOKIE,
                code,
                max_age=LANG_COOKIE_MAX_AGE_S,
                path="/",
                samesite="Lax",
                httponly=True,
                secure=request.secure,
            )
        return response

    # --- rendering -------------------------------------------------------------------

    def _page(
        self, request: web.Request, template: str, status: int = 200, **context: Any
    ) -> web.Response:
        lang: Lang = request[_LANG]
        switch = [
            LanguageLink(
                code,
                LANGUAGE_NAMES[code],
                str(request.rel_url.update_query({"lang": code})),
                code == lang.code,
            )
            for code in LANGUAGES
        ]
        html = (
            self.templates[lang.code]
            .get_template(template)
            .render(
                lang=lang,
                switch=switch,
                stylesheet=self.stylesheet_url,
                path=request.path,
                **context,
            )
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def _error(self, request: web.Request, status: int, message: str) -> web.Response:
        return self._page(request, "error.html", status=status, code=status, message=message)

    def _http_error(self, request: web.Request, status: int) -> web.Response:
        """aiohttp's own errors (no route, wrong method, a bug) worded as the RPC's
        codes for them (node/rpc.py's _errors_as_json maps them the same way)."""
        lang: Lang = request[_LANG]
        if status == 404:
            code = RpcErrorCode.NOT_FOUND
        elif status == 413:
            code = RpcErrorCode.BODY_TOO_LARGE
        elif status >= 500:
            code = RpcErrorCode.INTERNAL
        else:
            code = RpcErrorCode.BAD_REQUEST
        return self._error(request, status, lang.rpc_error(code))

    def _bad_request(self, request: web.Request, field: str) -> web.Response:
        """The list page's answer to a filter it does not offer (typed into the URL)."""
        lang: Lang = request[_LANG]
        messages = {
            "q": lang.gettext("The search is longer than %(n)s characters.")
            % {"n": polls.MAX_SEARCH_CHARS},
            "status": lang.gettext("Choose the status from the list: open, upcoming or closed."),
            "kind": lang.gettext("Choose the kind of poll from the list: policy or citizen."),
            "org": lang.gettext("Choose the organisation from the list."),
            "from": lang.gettext("The page position is not a whole number."),
        }
        return self._error(request, HTTP_STATUS[RpcErrorCode.BAD_REQUEST], messages[field])


def _secure(request: web.Request, response: web.StreamResponse, static: bool) -> None:
    response.headers.update(security.SECURITY_HEADERS)
    if request.secure:
        response.headers["Strict-Transport-Security"] = security.HSTS
    if static:
        response.headers["Cache-Control"] = security.STATIC_CACHE
    else:
        response.headers["Cache-Control"] = security.PAGE_CACHE
        response.headers["Vary"] = "Accept-Language, Cookie"


def _environment(lang: Lang) -> jinja2.Environment:
    """One template environment per language, with that language's catalogue installed
    for Jinja's i18n extension (`_`, `gettext`, `ngettext`, `pgettext` in templates)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(lang.translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals["script_texts"] = lambda own: script_texts(lang, own)
    return env


def script_texts(lang: Lang, own: dict[str, str]) -> dict[str, Any]:
    """What a page's scripts may show (static/js/page.js reads it): the page's own texts,
    and every reason code's and RPC error code's message, all in the reader's language."""
    return {
        **own,
        "reason": {
            code: lang.reason(code)
            for code in (votingcontract.ACCEPTED, *(c.value for c in votingcontract.ReasonCode))
        },
        "rpc_error": {
            **{code.value: lang.rpc_error(code.value) for code in RpcErrorCode},
            # page.js's code for a node it could not reach (offline, or the node down).
            "network": lang.gettext(
                "No connection to the node: nothing was sent. Try again once you are online."
            ),
        },
    }
