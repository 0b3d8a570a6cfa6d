"""The browser-test layer itself, on small pages of its own: Chromium starts, viewports
are what a phone and a PC show, and the axe-core check fails on what it must, naming the
rule and the element, also under a strict Content-Security-Policy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.web.browser import (
    DESKTOP,
    PHONE,
    PageWatch,
    assert_accessible,
    chromium_path,
    focusable_in_dom_order,
    positive_tabindex,
    press_tab,
)
from tests.web.conftest import OpenPage, load_retrying_network_changes

CSP = "default-src 'self'; script-src 'self'; style-src 'self'"
PAGES = {
    "/good": """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Good</title></head>
<body><main><h1>Polls</h1><p>Nothing to see.</p>
<button type="button">Vote</button></main></body></html>""",
    "/bad": """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bad</title>
</head><body><main><h1>Polls</h1><img id="logo" src="/logo.png">
<button type="button" class="icon-only"></button></main></body></html>""",
    "/keyboard": """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Keys</title>
<link rel="stylesheet" href="/keys.css"></head><body><main><h1>Keys</h1>
<a href="#one">One</a> <button type="button" tabindex="2">Jump</button>
<a class="no-ring" href="#two">Two</a> <a hidden href="#gone">Gone</a></main></body></html>""",
}
KEYS_CSS = ".no-ring:focus { outline: none; }"


# The smallest valid PNG: one transparent pixel.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/keys.css":
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(KEYS_CSS.encode())
            return
        if self.path == "/logo.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PIXEL)
            return
        page = PAGES.get(self.path)
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        self.wfile.write((page or "").encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_phone_and_a_desktop_viewport_are_what_their_screens_show(
    open_page: OpenPage, site: str
) -> None:
    phone = open_page(f"{site}/good", PHONE)
    shown = phone.evaluate(
        "() => [innerWidth, matchMedia('(pointer: coarse)').matches, navigator.maxTouchPoints > 0,"
        " navigator.language, Intl.DateTimeFormat().resolvedOptions().timeZone]"
    )
    assert shown == [390, True, True, "ko-KR", "Asia/Seoul"]
    desktop = open_page(f"{site}/good", DESKTOP, locale="en-US")
    shown = desktop.evaluate(
        "() => [innerWidth, matchMedia('(pointer: coarse)').matches, navigator.language]"
    )
    assert shown == [1280, False, "en-US"]


def test_axe_passes_a_clean_page_under_a_strict_content_security_policy(
    open_page: OpenPage, site: str
) -> None:
    page = open_page(f"{site}/good")
    assert_accessible(page, "the clean page")
    assert page.evaluate("() => typeof axe.run") == "function"  # it did run in the page


def test_axe_fails_on_critical_violations_naming_the_rule_and_the_element(
    open_page: OpenPage, site: str
) -> None:
    page = open_page(f"{site}/bad", DESKTOP)
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page, "the bad page")
    message = str(failed.value)
    assert "on the bad page" in message
    assert "image-alt (critical)" in message and "at #logo" in message
    assert "button-name (critical)" in message and 'class="icon-only"' in message


def test_the_keyboard_helpers_see_a_jumping_tab_order_and_a_hidden_focus_ring(
    open_page: OpenPage, site: str
) -> None:
    page = open_page(f"{site}/keyboard", DESKTOP)
    assert focusable_in_dom_order(page) == ['a #one "One"', 'button "Jump"', 'a #two "Two"']
    assert positive_tabindex(page) == ['button "Jump"']
    stops = [press_tab(page) for _ in range(3)]
    assert [stop.element for stop in stops] == ['button "Jump"', 'a #one "One"', 'a #two "Two"']
    assert [stop.ring for stop in stops] == [True, True, False]
    assert all(stop.in_view for stop in stops)


def test_a_machine_without_chromium_fails_saying_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        chromium_path(tmp_path / "chromium")
    assert "apt-get install -y --no-install-recommends chromium" in str(failed.value)
    assert str(tmp_path / "chromium") in str(failed.value)


def test_the_page_watch_flags_script_errors_failed_loads_and_other_origins() -> None:
    watch = PageWatch(origin="http://127.0.0.1:8101")
    watch.on_request("http://127.0.0.1:8101/p/ffff", navigation=True)
    for url in [
        "http://127.0.0.1:8101/static/app.js",
        "data:image/png;base64,AAAA",
        "https://cdn.example.org/lib.js",
        "http://127.0.0.1:8102/v1/polls",
    ]:
        watch.on_request(url)
    watch.errors.append("uncaught: TypeError")
    failed = "Failed to load resource: the server responded with a status of 404 (Not Found)"
    watch.console_errors += [
        (failed, "http://127.0.0.1:8101/p/ffff"),  # the page itself: the test judges it
        (failed, "http://127.0.0.1:8101/favicon.ico"),
        (failed, "http://127.0.0.1:8101/static/gone.js"),
        ("Refused to load the script", "http://127.0.0.1:8101/p/ffff"),
    ]
    assert watch.problems() == [
        "uncaught: TypeError",
        f"console error: {failed} at http://127.0.0.1:8101/static/gone.js",
        "console error: Refused to load the script at http://127.0.0.1:8101/p/ffff",
        "request outside http://127.0.0.1:8101: https://cdn.example.org/lib.js",
        "request outside http://127.0.0.1:8101: http://127.0.0.1:8102/v1/polls",
    ]


class _PageLosingItsScripts:
    """A stand-in page whose first `losses` loads lose scripts to a network change."""

    def __init__(self, watch: PageWatch, losses: int) -> None:
        self.watch, self.losses, self.loads = watch, losses, 0

    def goto(self, url: str) -> None:
        self.loads += 1
        if self.loads <= self.losses:
            message = "Failed to load resource: net::ERR_NETWORK_CHANGED"
            self.watch.console_errors.append((message, url + "/js/tx.js"))


@pytest.mark.parametrize(("losses", "loads", "left"), [(0, 1, 0), (1, 2, 0), (5, 3, 1)])
def test_a_load_cut_by_a_network_change_is_tried_again_a_few_times(
    losses: int, loads: int, left: int
) -> None:
    watch = PageWatch(origin="http://127.0.0.1:1")
    page = _PageLosingItsScripts(watch, losses)
    load_retrying_network_changes(page, watch, "http://127.0.0.1:1")  # type: ignore[arg-type]
    assert page.loads == loads
    assert len(watch.console_errors) == left, "a load that never recovers is still reported"
