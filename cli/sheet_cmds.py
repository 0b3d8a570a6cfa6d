"""`votechain poll ticket-sheet`: a printable HTML sheet of on-site tickets, each with its
code and a QR code of the poll's link carrying it (webapp/ticket_sheet.py).

The sheet is made here, on the organiser's machine, from the seeds file `poll create` or
`poll tickets` wrote: the node is asked only for the poll's title and times, and never
sees a seed.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cli import common
from cli.errors import FILE_ERROR, CliError
from cli.ids import POLL_ID_HELP, fetch_poll
from cli.output import print_json
from webapp import qr
from webapp.i18n import LANGUAGES
from webapp.ticket_sheet import render_sheet

_SEED = re.compile(r"[0-9a-f]{64}")


def register_ticket_sheet(poll: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = poll.add_parser(
        "ticket-sheet",
        help="write a printable sheet (HTML) of a ticket poll's on-site tickets with QR codes",
    )
    p.add_argument("poll_id", help=POLL_ID_HELP)
    p.add_argument(
        "--seeds",
        required=True,
        type=Path,
        help="the ticket seeds file `poll create` or `poll tickets` wrote",
    )
    p.add_argument(
        "--out", type=Path, help="where the sheet goes (default: the seeds file, ending .html)"
    )
    p.add_argument(
        "--site",
        help="the web app's public address the QR codes link to, e.g. "
        "https://vote.example.go.kr (default: rpc.public_url of the cluster file, else the "
        "node this command talks to)",
    )
    p.add_argument("--lang", choices=LANGUAGES, default=LANGUAGES[0], help="the sheet's language")
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=poll_ticket_sheet)


def read_seeds(path: Path) -> list[str]:
    """The seeds of a tickets file, one per line; a bad line is named by its number only
    (the error must not print a ticket's secret)."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the seeds file {path}: {exc}", FILE_ERROR) from exc
    seeds = []
    for number, line in enumerate(lines, start=1):
        seed = line.strip().lower()
        if not seed:
            continue
        if not _SEED.fullmatch(seed):
            raise CliError(f"{path} line {number}: not a ticket seed (64 hex characters)")
        seeds.append(seed)
    if not seeds:
        raise CliError(f"{path} holds no ticket seed")
    return seeds


def default_site(args: argparse.Namespace, node_url: str) -> str:
    """--site, else the cluster file's rpc.public_url, else the node the command talks to."""
    if getattr(args, "site", None):
        return str(args.site)
    if not getattr(args, "rpc", None):
        public = common.config_of(args).rpc.public_url
        if public:
            return public
    return node_url


def site_of(text: str) -> str:
    """An http(s) address with a plain host and no path, query or user."""
    parts = urlsplit(text.strip())
    try:
        host = qr.checked_host(parts.netloc)
    except qr.BadHost:
        host = ""
    if (
        parts.scheme not in ("http", "https")
        or not host
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise CliError(
            f"--site {text!r}: give the web app's address, e.g. https://vote.example.go.kr"
        )
    return f"{parts.scheme}://{host}"


def poll_ticket_sheet(args: argparse.Namespace) -> int:
    seeds = read_seeds(args.seeds)
    out: Path = args.out or args.seeds.with_suffix(".html")
    refuse_existing(out)
    client = common.client_of(args)
    site = site_of(default_site(args, client.base_url))
    poll = fetch_poll(client, args.poll_id)
    if "tickets" not in poll["access"]["methods"]:
        raise CliError(f"poll {poll['poll_id']} takes no on-site tickets")
    write_sheet(out, poll, seeds, site, args.lang)
    if args.json:
        print_json({"poll_id": poll["poll_id"], "tickets": len(seeds), "sheet": str(out)})
    else:
        print(sheet_line(len(seeds), out))
    return 0


def refuse_existing(out: Path) -> None:
    if out.exists():
        raise CliError(f"{out} exists; a ticket sheet is never overwritten: give another path")


def write_sheet(out: Path, poll: dict[str, Any], seeds: list[str], site: str, lang: str) -> None:
    """The sheet of `seeds` for `poll` (GET /v1/polls/{id}'s answer) at `out`, mode 0600."""
    html = render_sheet(
        lang,
        site,
        poll["poll_id"],
        poll["title"],
        seeds,
        poll["opens_at_ms"],
        poll["closes_at_ms"],
    )
    # The sheet holds the tickets' secrets, as the seeds file does: only its owner reads it.
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as sheet:
        sheet.write(html)


def sheet_line(count: int, out: Path) -> str:
    return (
        f"{count} tickets on {out}: print it, then delete it (it holds the ticket codes, as "
        "the seeds file does)"
    )
