"""The printable sheet of a poll's on-site tickets (templates/tickets.html), one HTML file
with each ticket's code and QR code, for `votechain poll ticket-sheet`.

It is made on the organiser's machine from the seeds file the CLI wrote: a ticket's seed
is what lets its holder vote, so it never passes through a node (nor its logs). The file
stands alone: its styles are inside it and it loads nothing, so it prints the same from a
USB stick as from the organiser's disk.
"""

from __future__ import annotations

from webapp import qr
from webapp.i18n import LANGUAGES, load_languages
from webapp.routes import STATIC_DIR, _environment

SHEET_STYLESHEET = STATIC_DIR / "tickets.css"
TICKETS_PER_PAGE = 8
"""Two columns of four on A4: each QR code large enough for a phone at arm's length."""


def render_sheet(
    language: str, site: str, poll_id: str, title: str, seeds: list[str], opens: int, closes: int
) -> str:
    """The sheet for `seeds` (64 hex characters each) of the poll `poll_id` at `site`
    ("https://vote.example.go.kr"), in `language` (ko or en)."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: choose {' or '.join(LANGUAGES)}")
    lang = load_languages()[language]
    made = qr.tickets(site, poll_id, seeds, lang.gettext("On-site ticket QR code"))
    pages = [made[i : i + TICKETS_PER_PAGE] for i in range(0, len(made), TICKETS_PER_PAGE)]
    return (
        _environment(lang)
        .get_template("tickets.html")
        .render(
            lang=lang,
            title=title,
            link=qr.poll_link(site, poll_id),
            pages=pages,
            opens=opens,
            closes=closes,
            style=SHEET_STYLESHEET.read_text(encoding="utf-8"),
        )
    )
