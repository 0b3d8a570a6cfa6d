"""QR codes: a poll's short link as an SVG a phone can read, for any host the node is
reached by but only a plain one; and the printable ticket sheet, whose QR codes carry
each ticket in the link's fragment, made without the node ever seeing a seed.

The SVGs are decoded back with zxing-cpp, a barcode reader independent of segno, after
drawing segno's path as pixels, as a phone's camera would see them."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pytest
import zxingcpp
from aiohttp.test_utils import make_mocked_request

import votingcontract
from chain.keys import PrivateKey
from cli.errors import CliError
from cli.sheet_cmds import read_seeds, site_of
from node.config import ConfigError, load_config
from tests.node.test_config import MINIMAL, write
from tests.web.web_node import WebNode
from webapp import qr
from webapp.ticket_sheet import render_sheet

HOUR_MS = 3_600_000


def decode_svg(svg: str) -> list[str]:
    """The texts of the QR codes in segno's SVG, read by zxing-cpp from its pixels."""
    box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    path = re.search(r' d="([^"]+)"', svg)
    assert box and path, svg[:200]
    width, height = int(box.group(1)), int(box.group(2))
    dark = [[False] * width for _ in range(height)]
    x = y = 0.0
    for command, a, b in re.findall(r"([MmHh])\s*(-?[\d.]+)(?:[\s,]+(-?[\d.]+))?", path.group(1)):
        if command in "Mm":
            x, y = (float(a), float(b)) if command == "M" else (x + float(a), y + float(b))
        else:
            end = float(a) if command == "H" else x + float(a)
            for column in range(int(x), int(end)):
                dark[int(y)][column] = True
            x = end
    scale = 4
    pixels = bytes(
        0 if dark[row // scale][column // scale] else 255
        for row in range(height * scale)
        for column in range(width * scale)
    )
    image = memoryview(pixels).cast("B", (height * scale, width * scale))
    return [found.text for found in zxingcpp.read_barcodes(image)]


PUBLIC_URL = "https://vote.example.go.kr"


class PublicWebNode(WebNode):
    """A node whose cluster file sets rpc.public_url."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.config = replace(self.config, rpc=replace(self.config.rpc, public_url=PUBLIC_URL))


def create_poll(live: WebNode, voter: PrivateKey) -> str:
    start = int(time.time() * 1000)
    body = votingcontract.CreatePoll(
        kind="citizen",
        org_id="",
        title="Where should the market go?",
        purpose="",
        reference_url="",
        opens_at_ms=start - 1_000,
        closes_at_ms=start + HOUR_MS,
        visibility="live",
        revote=False,
        questions=(
            votingcontract.Question(
                "Place", (votingcontract.Option("Square"), votingcontract.Option("Park"))
            ),
        ),
        access=votingcontract.Access(),
    )
    reply = live.post_json(
        "/v1/tx?wait=commit", {"tx": live.sign(voter, body.KIND, body.encode()).hex()}
    )
    document = reply.json()
    assert document["receipt"]["accepted"], document
    tx_id: str = document["tx"]["tx_id"]
    return tx_id


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebNode, str]]:
    live = WebNode(tmp_path_factory.mktemp("qr-node"))
    live.start()
    try:
        voter = PrivateKey.from_seed(secrets.token_bytes(32))
        assert live.post_json(
            "/v1/tx?wait=commit", {"tx": live.enroll_tx(voter, "+821055501234").hex()}
        ).json()["receipt"]["accepted"]
        yield live, create_poll(live, voter)
    finally:
        live.stop()


def test_a_polls_qr_code_reads_as_its_short_link_on_the_host_it_was_asked_from(
    node: tuple[WebNode, str],
) -> None:
    live, poll_id = node
    for host in ("vote.example.go.kr", "127.0.0.1:8101", "[::1]:8101"):
        reply = live.request("GET", f"/p/{poll_id[:8]}/qr.svg", headers={"Host": host})
        assert reply.status == 200, reply.body[:300]
        assert reply.content_type.startswith("image/svg+xml")
        assert decode_svg(reply.body.decode()) == [f"http://{host}/p/{poll_id[:12]}"]


def test_a_qr_code_is_refused_for_a_host_header_that_is_not_a_plain_host(
    node: tuple[WebNode, str],
) -> None:
    live, poll_id = node
    for host in ("evil.example/phish?x=", "user@vote.example", "vote example", "a:99999"):
        reply = live.request("GET", f"/p/{poll_id[:12]}/qr.svg", headers={"Host": host})
        assert reply.status == 400, host
        assert b"<svg" not in reply.body


def test_the_qr_code_of_an_unknown_poll_is_not_found(node: tuple[WebNode, str]) -> None:
    live, _ = node
    assert live.request("GET", "/p/ffffffffffff0000/qr.svg").status == 404
    assert live.request("GET", "/p/not-hex/qr.svg").status == 404


def test_the_poll_page_shows_its_qr_code_to_share(node: tuple[WebNode, str]) -> None:
    live, poll_id = node
    html = live.request("GET", f"/p/{poll_id[:12]}", headers={"Accept-Language": "en"}).body
    assert b"Share this poll" in html
    assert f'src="/p/{poll_id[:12]}/qr.svg"'.encode() in html


def test_hosts_are_checked_strictly() -> None:
    assert qr.checked_host("Vote.Example.go.kr:443") == "vote.example.go.kr:443"
    for bad in ("", "a/b", "a b", "[::1", "[zz]:1", "a:0", "a:", "-a.example", "한국.kr"):
        with pytest.raises(qr.BadHost):
            qr.checked_host(bad)


def test_only_a_trusted_proxy_makes_the_link_https() -> None:
    """A reverse proxy terminating TLS says so in X-Forwarded-Proto; anyone else saying it
    is ignored, as the rate limits ignore their X-Forwarded-For."""
    proxy = mock.Mock()
    proxy.get_extra_info.side_effect = lambda name, default=None: (
        ("10.0.0.5", 40_000) if name == "peername" else default
    )
    request = make_mocked_request(
        "GET",
        "/p/0123/qr.svg",
        headers={"Host": "vote.example.go.kr", "X-Forwarded-Proto": "https"},
        transport=proxy,
    )
    assert qr.site_url(request, ["10.0.0.5"]) == "https://vote.example.go.kr"
    assert qr.site_url(request, ["10.0.0.9"]) == "http://vote.example.go.kr"


def test_a_configured_public_url_is_the_qr_codes_address_whatever_the_host(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """rpc.public_url (a city's domain in front of its observers) wins over the request's
    Host, which then is not even read."""
    live = PublicWebNode(tmp_path_factory.mktemp("public-url-node"))
    live.start()
    try:
        voter = PrivateKey.from_seed(secrets.token_bytes(32))
        enrolled = live.post_json(
            "/v1/tx?wait=commit", {"tx": live.enroll_tx(voter, "+821055505678").hex()}
        )
        assert enrolled.json()["receipt"]["accepted"]
        poll_id = create_poll(live, voter)
        for host in ("127.0.0.1:1", "not a host"):
            reply = live.request("GET", f"/p/{poll_id[:12]}/qr.svg", headers={"Host": host})
            assert reply.status == 200
            assert decode_svg(reply.body.decode()) == [f"{PUBLIC_URL}/p/{poll_id[:12]}"]
    finally:
        live.stop()


@pytest.mark.parametrize(
    "url",
    ["vote.example.go.kr", "ftp://vote.example.go.kr", "https://a@vote.example", "https://v.kr/x"],
)
def test_a_public_url_that_is_not_an_http_origin_is_refused_at_start(
    tmp_path: Path, url: str
) -> None:
    with pytest.raises(ConfigError, match=r"rpc\.public_url"):
        load_config(write(tmp_path, MINIMAL + f"[rpc]\npublic_url = {url!r}\n"))
    config = load_config(write(tmp_path, MINIMAL + f"[rpc]\npublic_url = {PUBLIC_URL!r}\n"))
    assert config.rpc.public_url == PUBLIC_URL


# --- the ticket sheet --------------------------------------------------------------------


def test_the_ticket_sheet_prints_each_tickets_code_and_a_qr_code_carrying_it() -> None:
    seeds = [secrets.token_hex(32) for _ in range(10)]
    html = render_sheet(
        "ko", "https://vote.example.go.kr", "ab" * 32, "시장 위치", seeds, 0, HOUR_MS
    )
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == len(seeds)
    for seed, svg in zip(seeds, svgs, strict=True):
        link = f"https://vote.example.go.kr/p/{'ab' * 6}#ticket={seed}"
        assert decode_svg(svg) == [link]
        assert qr.ticket_code(seed) in html  # typed from paper when there is no camera
    assert html.count('class="sheet-page"') == 2  # 8 tickets a printed page
    assert "@media print" in html and "현장 투표권" in html
    assert "<script" not in html and not re.search(r"(?:src|href)\s*=|url\(|@import", html)


def test_the_ticket_sheet_command_reads_only_seeds_and_names_a_bad_line_not_its_text(
    tmp_path: Path,
) -> None:
    good, bad = secrets.token_hex(32), "secret-looking-line"
    seeds = tmp_path / "p.tickets.txt"
    seeds.write_text(f"{good}\n\n{bad}\n")
    with pytest.raises(CliError) as refused:
        read_seeds(seeds)
    assert "line 3" in str(refused.value) and bad not in str(refused.value)
    seeds.write_text(f"{good.upper()}\n")
    assert read_seeds(seeds) == [good]
    assert site_of("https://Vote.example.go.kr/") == "https://vote.example.go.kr"
    for wrong in ("ftp://x", "https://x/path", "https://u@x", "vote.example.go.kr"):
        with pytest.raises(CliError):
            site_of(wrong)
