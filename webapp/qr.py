"""QR codes (segno) for a poll's short link, and the printable sheet of on-site tickets.

The poll page's QR code is an absolute URL, so it needs this site's public address. The
Host header is the client's to write: it is used only when it is a plain host name or
address with an optional port (no user, path or odd characters), so an SVG cannot be
made to carry a link to somewhere a QR reader would not expect from this page. The
scheme is https when the connection is TLS, or when a proxy the node trusts
(`rpc.trusted_proxies`) says so in X-Forwarded-Proto; a proxy that does not send it gets
http links.

Ticket sheets are written by the CLI (`votechain poll ticket-sheet`), never served by a
node: a ticket's seed is its secret, and the node must never learn it.
"""

from __future__ import annotations

import io
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

import segno
from aiohttp import web

from webapp.polls import SHORT_ID_CHARS

QR_ERROR_LEVEL = "m"
"""15% of the code may be smudged or folded and it still reads: a printed sheet, a poster."""
QR_BORDER = 4
"""The quiet zone the QR standard asks for, in modules."""
MAX_HOST_CHARS = 255
_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_PORT = re.compile(r"[0-9]{1,5}")
TICKET_FRAGMENT = "ticket="
"""A ticket's link is the poll's short link with #ticket=<seed hex>: the fragment stays in
the phone's browser and never reaches a server (the vote page reads it)."""


class BadHost(ValueError):
    """A Host header that is not a plain host name or address with an optional port."""


def svg(text: str, title: str) -> bytes:
    """`text` as a QR code in SVG, scaling to any size (a viewBox, no fixed size)."""
    out = io.BytesIO()
    segno.make(text, error=QR_ERROR_LEVEL, micro=False).save(
        out,
        kind="svg",
        border=QR_BORDER,
        xmldecl=False,
        omitsize=True,
        title=title,
        nl=False,
    )
    return out.getvalue()


def checked_host(host: str) -> str:
    """`host` ("vote.example.go.kr", "127.0.0.1:8101", "[::1]:8101") if it is a plain host
    with an optional port, lower-cased; BadHost otherwise."""
    if not host or len(host) > MAX_HOST_CHARS or not host.isascii():
        raise BadHost(host)
    if host.startswith("["):
        address, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise BadHost(host)
        try:
            ipaddress.IPv6Address(address)
        except ValueError as exc:
            raise BadHost(host) from exc
        name, with_port, port = f"[{address}]", bool(rest), rest[1:]
    else:
        name, with_port, port = host.partition(":")[0], ":" in host, host.partition(":")[2]
        labels = name.rstrip(".").split(".")
        if not all(_HOST_NAME.fullmatch(label) for label in labels):
            raise BadHost(host)
    if with_port and not (_PORT.fullmatch(port) and 0 < int(port) < 65536):
        raise BadHost(host)
    return (name + (f":{port}" if with_port else "")).lower()


def site_url(request: web.Request, trusted_proxies: Iterable[str]) -> str:
    """This site's address as the client reached it ("https://vote.example.go.kr");
    BadHost if the Host header is not a plain host."""
    scheme = "https" if request.secure else "http"
    remote = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-Proto", "").strip().lower()
    if remote in frozenset(trusted_proxies) and forwarded in ("http", "https"):
        scheme = forwarded
    return f"{scheme}://{checked_host(request.host)}"


def poll_link(site: str, poll_id: str) -> str:
    """A poll's short link: /p/ and the first SHORT_ID_CHARS hex characters of its id."""
    return f"{site.rstrip('/')}/p/{poll_id[:SHORT_ID_CHARS]}"


@dataclass(frozen=True)
class Ticket:
    """One on-site ticket as printed: its code (the seed, in groups a person can type)
    and the QR code of the poll's link carrying it."""

    code: str
    link: str
    svg: str


def ticket_code(seed_hex: str) -> str:
    """The seed in groups of 4 ("3f9a 0c1e ..."), as a person copies it from paper."""
    return " ".join(seed_hex[i : i + 4] for i in range(0, len(seed_hex), 4))


def tickets(site: str, poll_id: str, seeds: list[str], title: str) -> list[Ticket]:
    """Each seed (64 lower-case hex characters) as a printed ticket of the poll."""
    made = []
    for seed in seeds:
        link = f"{poll_link(site, poll_id)}#{TICKET_FRAGMENT}{seed}"
        made.append(Ticket(ticket_code(seed), link, svg(link, title).decode()))
    return made
