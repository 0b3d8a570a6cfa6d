"""The citizen's enrolment page, /enroll (the voting form itself is part of the poll
page: templates/vote_form.html). The page only explains and hosts the step; the browser
talks to the attester through the node's relay (enroll_relay.py) and keeps its key
(static/js/enroll.js)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:  # routes.py imports this module to add its pages
    from webapp.routes import WebApp


def add_vote_pages(app: web.Application, site: WebApp) -> None:
    async def enroll(request: web.Request) -> web.Response:
        return site._page(request, "enroll.html")

    app.add_routes([web.get("/enroll", enroll)])
