"""The citizen's enrolment page, /enroll (the voting form itself is part of the poll
page: templates/vote_form.html). The page only explains and hosts the step; the browser
talks to the attester through the node's relay (enroll_relay.py) and keeps its key
(static/js/enroll.js)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from webapp.polls import SHORT_ID_CHARS

if TYPE_CHECKING:  # routes.py imports this module to add its pages
    from webapp.routes import WebApp

QR_FRAGMENT = "qr="
"""A QR poll's link is its short link with #qr=<seed hex>: the fragment stays in the
phone's browser, which signs the gate proof with it (static/js/vote.js), and never reaches
a server (the site sends no Referer either)."""


def qr_poll_link(site: str, poll_id: str, seed: bytes) -> str:
    """The link a QR poll's code carries, at `site` ("https://vote.example.go.kr")."""
    return f"{site.rstrip('/')}/p/{poll_id[:SHORT_ID_CHARS]}#{QR_FRAGMENT}{seed.hex()}"


def add_vote_pages(app: web.Application, site: WebApp) -> None:
    async def enroll(request: web.Request) -> web.Response:
        return site._page(request, "enroll.html")

    app.add_routes([web.get("/enroll", enroll)])
