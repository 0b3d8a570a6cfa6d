"""A poll's live results, the citizen's participation history, and the receipt check.

- GET /p/{poll id}/live.json: a live poll's results worded in the reader's language, for
  static/js/live.js to update the bars of /p/... without a reload. The words are made here,
  by the code and catalogue entries that word the page itself (Lang.votes, the same
  ngettext messages as poll.html), rather than in the script: a script would need
  gettext's plural rule and Babel's number forms of its own, and a live update could
  then read differently from a reload. The counts are GET /v1/polls/{id}/results's.
- GET /me: the history page; its script signs POST /v1/history with the browser's key.
- GET /r/{tx id} and GET /r: the receipt check, run in the browser (static/js/receipt.js);
  the server gives what a reader without JavaScript can read: whether this node has the
  transaction, in which block, and its outcome.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from babel.dates import format_skeleton

import votingcontract
from node import views
from node.rpc import READ
from votingcontract.results import PollResults
from webapp import polls
from webapp.i18n import TIME_ZONE, Lang
from webapp.receipt_texts import history_texts, receipt_texts

if TYPE_CHECKING:
    from webapp.routes import WebApp

TX_ID_CHARS = 64
LIVE_PATH = "/p/{poll}/live.json"


def add_receipt_routes(app: web.Application, site: WebApp) -> None:
    pages = ReceiptPages(site)
    app.add_routes(
        [
            web.get(LIVE_PATH, pages.live),
            web.get("/me", pages.history),
            web.get("/r", pages.receipt_file),
            web.get("/r/{tx_id}", pages.receipt),
        ]
    )


def is_full_id(text: str) -> bool:
    return len(text) == TX_ID_CHARS and polls.is_poll_prefix(text)


class ReceiptPages:
    def __init__(self, site: WebApp) -> None:
        self.site = site

    def _lang(self, request: web.Request) -> Lang:
        from webapp.routes import _LANG  # routes imports this module: no import at load

        return request[_LANG]

    async def live(self, request: web.Request) -> web.Response:
        """Not rate-limited, like GET /v1/polls/{id}/results whose reads it makes: a
        citizen's phone behind a carrier's shared address asks every few seconds. The
        read runs in the read pool, which answers `busy` (503, Retry-After) when full."""
        typed = request.match_info["poll"]
        lang = self._lang(request)
        if not is_full_id(typed):
            raise web.HTTPNotFound()
        store, now_ms = self.site.node.store, self.site.node.now_ms()
        poll_id = bytes.fromhex(typed)
        results = await self.site.reads.run(
            lambda: votingcontract.results(store, poll_id, now_ms=now_ms)
        )
        if results is None:
            raise web.HTTPNotFound()
        return web.json_response(live_document(lang, results, now_ms))

    async def history(self, request: web.Request) -> web.Response:
        return self.site._page(
            request,
            "history.html",
            chain_id=self.site.node.chain_id,
            page_texts=history_texts(self._lang(request)),
        )

    async def receipt_file(self, request: web.Request) -> web.Response:
        return self._receipt_page(request, None, None)

    async def receipt(self, request: web.Request) -> web.Response:
        typed = request.match_info["tx_id"].strip().lower()
        lang = self._lang(request)
        if not is_full_id(typed):
            return self.site._error(
                request,
                404,
                lang.gettext(
                    "A receipt link is /r/ and the 64 characters 0-9 and a-f of a "
                    "transaction id; this one is not."
                ),
            )
        self.site.limits.take(request, READ)  # a block read, as GET /v1/tx/{id} is
        store, now_ms = self.site.node.store, self.site.node.now_ms()
        tx_id = bytes.fromhex(typed)

        def read() -> dict[str, Any] | None:
            location = store.locate_tx(tx_id)
            if location is None:
                return None
            return views.committed_tx(store, *location, now_ms)

        committed = await self.site.reads.run(read)
        return self._receipt_page(request, typed, committed)

    def _receipt_page(
        self, request: web.Request, tx_id: str | None, committed: dict[str, Any] | None
    ) -> web.Response:
        genesis = self.site.node.store.genesis
        found = None
        if committed is not None:
            body = committed["tx"]["body"]
            poll_id = body.get("poll_id") if isinstance(body, dict) else None
            found = {
                "height": committed["height"],
                "when_ms": committed["header"]["timestamp_ms"],
                "kind": committed["tx"]["kind"],
                "code": committed["receipt"]["code"],
                "poll_id": poll_id if isinstance(poll_id, str) and is_full_id(poll_id) else None,
            }
        return self.site._page(
            request,
            "receipt.html",
            tx_id=tx_id,
            found=found,
            genesis_hash=genesis.genesis_hash.hex(),
            validators=genesis.validator_set.size,
            quorum=genesis.validator_set.quorum,
            page_texts=receipt_texts(self._lang(request)),
        )


def live_document(lang: Lang, results: PollResults, now_ms: int) -> dict[str, Any]:
    """What live.js writes into the page: per option the bar's width class and its words,
    the participants line, the funded totals; `live` false once nothing will change."""
    questions = []
    for question in results.questions:
        options = []
        for option in question.options:
            tally = lang.votes(option.count, option.share_bps)
            if results.weighted:
                tally += " · " + lang.ngettext(
                    "%(num)s ballot", "%(num)s ballots", option.ballots
                ) % {"num": lang.number(option.ballots)}
            options.append(
                {"pct": (option.share_bps + 50) // 100, "tally": tally, "funded": option.funded}
            )
        funded_total = None
        if question.budget_cap is not None:
            funded_total = lang.ngettext(
                "Funded: %(num)s project, costing %(spent)s of %(cap)s.",
                "Funded: %(num)s projects, costing %(spent)s of %(cap)s.",
                len(question.funded),
            ) % {
                "num": len(question.funded),
                "spent": lang.number(question.funded_cost),
                "cap": lang.number(question.budget_cap),
            }
        questions.append({"options": options, "funded_total": funded_total})
    participants = ""
    if results.visible and results.participants:
        participants = participants_text(lang, results)
    people = ""
    if results.visible:  # macros.html's participants fact, word for word
        people = lang.ngettext("%(num)s person", "%(num)s people", results.participants) % {
            "num": lang.number(results.participants)
        }
    moment = datetime.fromtimestamp(now_ms / 1000, tz=UTC).astimezone(TIME_ZONE)
    return {
        "status": results.status,
        "visible": results.visible,
        "live": results.visible and results.status != "closed",
        "participants": participants,
        "people": people,
        "questions": questions,
        "funded_label": lang.gettext("Funded"),
        "updated": lang.gettext("Updated at %(time)s (Seoul time).")
        % {"time": format_skeleton("hms", moment, locale=lang.code)},
        "announce": lang.gettext("Results updated: %(participants)s.")
        % {"participants": participants or participants_text(lang, results)},
        "closed": lang.gettext("The poll has closed: these are its final results.")
        if results.status == "closed"
        else "",
    }


def participants_text(lang: Lang, results: PollResults) -> str:
    """poll.html's participants line, word for word."""
    if results.weighted:
        return lang.ngettext(
            "%(num)s participant, total weight %(weight)s",
            "%(num)s participants, total weight %(weight)s",
            results.participants,
        ) % {
            "num": lang.number(results.participants),
            "weight": lang.number(results.participant_weight),
        }
    return lang.ngettext("%(num)s participant", "%(num)s participants", results.participants) % {
        "num": lang.number(results.participants)
    }
