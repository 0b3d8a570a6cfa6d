"""The web app as an installed app on a phone: its manifest and icons, the service worker
that opens it offline (saying so, and never sending anything by itself), and the main
pages at the small phones' sizes: nothing wider than the screen, 44 px tap targets, a
focus ring that shows.

The pages come from the seeded cluster of conftest.py (`webapp`). The service worker
tests open contexts of their own: `open_page` blocks service workers so that the other
tests read what the node serves.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from cli import demo
from tests.web.browser import (
    DESKTOP,
    PHONE,
    Viewport,
    assert_accessible,
    screenshot,
    sideways_overflow,
)
from tests.web.conftest import OpenPage, WebApp
from webapp import shell

SMALL_PHONE = Viewport("small-phone", 360, 740, is_mobile=True, has_touch=True, scale=2)
PHONES = (SMALL_PHONE, PHONE)
TAP_TARGET_PX = 44
BANNER_KO = "오프라인: 저장된 화면을 보여 드리고 있습니다. 투표하려면 인터넷 연결이 필요합니다."
BANNER_EN = "Offline: showing a saved copy. Voting needs a connection."
NOTHING_SENT_KO = (
    "서버에 연결할 수 없어 아무것도 보내지 않았습니다. 인터넷에 연결된 뒤 다시 시도하세요."
)
ONLINE_AGAIN_KO = "인터넷에 다시 연결되었습니다. 이 화면은 아직 저장된 화면입니다."
SURVEY_TITLE = "How satisfied are you with the city's bike-sharing service?"

MAIN_PAGES = {
    "polls": "/",
    "poll": "/p/{survey}",
    "budget": "/p/{budget}",
    "closed-poll": "/p/{closed}",
    "stats": "/stats",
    "offline": "/offline",
    "enroll": "/enroll",
    "new-poll": "/new",
    "organisation": "/o/{org}",
    "my-votes": "/me",
    "receipt-check": "/r/{survey_tx}",
    "receipt-file": "/r",
}
"""Every page a citizen opens: the first layer's, this part's, and the others' of issue 15
that were there when this was written (a page added since belongs here too)."""


def main_path(webapp: WebApp, name: str) -> str:
    return MAIN_PAGES[name].format(
        survey=webapp.survey_id[:12],
        budget=webapp.budget_id[:12],
        closed=webapp.closed_id[:12],
        org=demo.DEMO_ORG_ID,
        survey_tx=webapp.survey_id,  # a poll's id is its create_poll's tx id
    )


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return reply.status, dict(reply.headers.items()), reply.read()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- the manifest and the icons ----------------------------------------------------------


def test_every_page_links_a_manifest_that_installs_the_korean_app_with_its_icons(
    webapp: WebApp,
) -> None:
    _, _, html = get(webapp.url + "/stats")
    link = re.search(rb'<link rel="manifest" href="([^"]+)">', html)
    assert link, "the page names no web app manifest"
    status, headers, body = get(webapp.url + link.group(1).decode())
    assert status == 200 and headers["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(body)
    assert manifest["name"] == "시민 투표" and manifest["lang"] == "ko"
    assert 0 < len(manifest["short_name"]) <= 12  # fits under a home-screen icon
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert f'<meta name="theme-color" content="{manifest["theme_color"]}">'.encode() in html
    pngs = {
        (icon["sizes"], icon["purpose"]): icon["src"]
        for icon in manifest["icons"]
        if icon["type"] == "image/png"
    }
    assert set(pngs) == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    }
    for (sizes, _), src in pngs.items():
        status, headers, image = get(webapp.url + src)
        assert status == 200 and headers["Content-Type"] == "image/png", src
        assert "x".join(map(str, png_size(image))) == sizes, src
    touch = re.search(rb'<link rel="apple-touch-icon" href="([^"]+)">', html)
    assert touch and png_size(get(webapp.url + touch.group(1).decode())[2]) == (180, 180)


def test_chromium_reads_the_manifest_without_an_error_and_can_install_the_app(
    webapp: WebApp, browser: Browser
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(webapp.url + "/")
        cdp = context.new_cdp_session(page)
        read = cdp.send("Page.getAppManifest")
        assert read["errors"] == [], read["errors"]
        assert read["url"] == webapp.url + "/static/manifest.webmanifest"
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        # A test's context is a private window, where Chromium never installs anything.
        assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors
    finally:
        context.close()


# --- the service worker ------------------------------------------------------------------


def test_the_service_worker_is_served_from_the_root_with_the_whole_shell_and_its_version(
    webapp: WebApp,
) -> None:
    status, headers, code = get(webapp.url + "/sw.js")
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["Cache-Control"] == "no-cache"  # the browser checks for a new release
    first, rest = code.decode().split("\n", 1)
    assert first.startswith("const SHELL = ") and first.endswith(";")
    kept = json.loads(first[len("const SHELL = ") : -1])
    assert re.fullmatch(r"[0-9a-f]{16}", kept["version"])
    assert kept["pages"] == ["/offline", "/me"]  # the history page reads saved receipts
    assert kept["rpc"] == ["/v1/genesis"]  # never changes for a chain
    files = set(kept["files"])
    static = Path(shell.STATIC_DIR)
    for module in [*static.glob("js/*.js"), *static.glob("vendor/**/*.mjs")]:
        assert "/static/" + module.relative_to(static).as_posix() in files, module
    _, _, html = get(webapp.url + "/")
    stylesheet = re.search(rb'<link rel="stylesheet" href="([^"]+)">', html)
    assert stylesheet and stylesheet.group(1).decode() in files  # as the pages name it
    assert "/static/sw.js" not in files
    assert 'addEventListener("fetch"' in rest


def test_a_change_to_any_file_of_the_shell_is_a_new_version(tmp_path: Path) -> None:
    for folder in shell.VERSIONED:
        (tmp_path / folder / "js").mkdir(parents=True)
        (tmp_path / folder / "js" / "a.js").write_text("export const a = 1;\n")
    before = shell.shell_version(tmp_path)
    assert shell.shell_version(tmp_path) == before
    for folder in shell.VERSIONED:
        changed = tmp_path / folder / "js" / "a.js"
        changed.write_text("export const a = 2;\n")
        assert shell.shell_version(tmp_path) != before, folder
        changed.write_text("export const a = 1;\n")
    (tmp_path / "static" / "js" / "b.js").write_text("")  # a new, even empty, file
    assert shell.shell_version(tmp_path) != before


@pytest.fixture
def installed(webapp: WebApp, browser: Browser) -> Iterator[tuple[BrowserContext, Page]]:
    """A phone's context that let the service worker install from the survey's page."""
    context = browser.new_context(
        viewport={"width": PHONE.width, "height": PHONE.height},
        is_mobile=True,
        has_touch=True,
        locale="ko-KR",
        timezone_id="Asia/Seoul",
        service_workers="allow",
    )
    context.set_default_timeout(30_000)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{webapp.url}/p/{webapp.survey_id[:12]}")
        state = page.evaluate(
            """async () => {
                await navigator.serviceWorker.ready;
                for (let i = 0; i < 600; i++) {  // 30 s
                    const worker = navigator.serviceWorker.controller;
                    if (worker !== null && worker.state === 'activated') return worker.state;
                    await new Promise(resolve => setTimeout(resolve, 50));
                }
                return String(navigator.serviceWorker.controller?.state);
            }"""
        )
        assert state == "activated", "the service worker did not take over the page"
        yield context, page
    finally:
        context.close()
    assert errors == []


def banner(page: Page) -> str | None:
    shown = page.locator("#offline-banner")
    return " ".join(shown.inner_text().split()) if shown.is_visible() else None


def test_offline_a_reload_shows_the_saved_page_from_the_cached_shell_with_the_banner(
    webapp: WebApp, installed: tuple[BrowserContext, Page]
) -> None:
    context, page = installed
    assert banner(page) is None  # live
    context.set_offline(True)
    assert banner(page) == BANNER_KO  # the page already open says so at once
    page.reload()
    assert page.locator("h1").inner_text() == SURVEY_TITLE
    assert page.locator("html").get_attribute("data-saved-copy") is not None
    assert banner(page) == BANNER_KO  # shown by install.js: the modules came from the cache
    header = page.locator("header.site").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(11, 79, 156)"  # the stylesheet too
    assert page.locator(".tally").count() == 4
    qr = page.locator("img.qr")  # loaded before the worker ran; kept when it took over
    qr.scroll_into_view_if_needed()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "offline-poll", PHONE)
    assert_accessible(page, "a saved poll page, offline")

    # A page never opened: the offline page, in the reader's language, with a way back.
    page.goto(webapp.url + "/stats")
    assert page.locator("h1").inner_text() == "인터넷에 연결되어 있지 않습니다"
    assert banner(page) == BANNER_KO
    assert page.locator("main a[href='/']").count() == 1

    # The history page was kept at install (it lists the receipts saved in the browser).
    with urllib.request.urlopen(webapp.url + "/me", timeout=30) as reply:
        history_title = re.search(r"<h1[^>]*>(.*?)</h1>", reply.read().decode(), re.S)
    assert history_title
    page.goto(webapp.url + "/me")
    assert page.locator("h1").inner_text() == history_title.group(1).strip()
    assert banner(page) == BANNER_KO

    # Back online on a saved copy: still said, with the way to the live page.
    page.goto(f"{webapp.url}/p/{webapp.survey_id[:12]}")
    assert page.locator("html").get_attribute("data-saved-copy") is not None
    context.set_offline(False)
    # Chromium tells a page loaded under Playwright's offline emulation that it is online
    # (navigator.onLine), so it sees no change: the browser's event, as a phone gets it.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    assert banner(page) == ONLINE_AGAIN_KO + " 최신 화면 불러오기"
    assert_accessible(page, "a saved poll page, back online")
    page.get_by_role("button", name="최신 화면 불러오기").tap()
    page.wait_for_load_state("load")
    expect(page.locator("html")).not_to_have_attribute("data-saved-copy", re.compile(".*"))
    assert banner(page) is None  # live again
    assert page.locator("h1").inner_text() == SURVEY_TITLE


def test_the_worker_never_answers_a_post_or_the_rpc_from_a_cache(
    webapp: WebApp, installed: tuple[BrowserContext, Page]
) -> None:
    context, page = installed
    send = """async path => {
        try {
            const reply = await fetch(path, {method: 'POST', body: '{}',
                headers: {'Content-Type': 'application/json'}});
            return 'answered ' + reply.status;
        } catch (error) { return 'failed ' + error.name; }
    }"""
    read = """async path => {
        try { return 'answered ' + (await fetch(path)).status; }
        catch (error) { return 'failed ' + error.name; }
    }"""
    assert page.evaluate(send, "/v1/tx") == "answered 400"  # the node's own refusal
    assert page.evaluate(read, "/v1/stats") == "answered 200"
    context.set_offline(True)
    assert page.evaluate(send, "/v1/tx") == "failed TypeError"  # not queued, not faked
    assert page.evaluate(read, "/v1/stats") == "failed TypeError"  # no stale count either
    context.set_offline(False)
    kept: list[str] = page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) {
                    urls.push(request.method + ' ' + new URL(request.url).pathname);
                }
            }
            return urls;
        }"""
    )
    assert kept and all(url.startswith("GET ") for url in kept), kept
    # Only what never changes: the genesis (a receipt is checked against it) and images
    # named by their hash.
    rpc = [url for url in kept if url.startswith("GET /v1/")]
    assert [url for url in rpc if not url.startswith("GET /v1/images/")] == ["GET /v1/genesis"]
    assert f"GET /p/{webapp.survey_id[:12]}" in kept and "GET /offline" in kept


def test_the_images_of_a_page_seen_before_show_offline(
    webapp: WebApp, installed: tuple[BrowserContext, Page]
) -> None:
    context, page = installed
    qr = page.locator("img.qr")
    drawn = "img => img.complete && img.naturalWidth > 0"
    page.reload()  # now through the worker, which keeps the images as they load
    qr.scroll_into_view_if_needed()
    assert qr.evaluate(drawn)
    context.set_offline(True)
    page.reload()
    qr.scroll_into_view_if_needed()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("data-saved-copy") is not None
    assert qr.evaluate(drawn), "the poll's QR code did not show offline"


def test_the_check_page_of_every_saved_receipt_opens_offline(
    webapp: WebApp, installed: tuple[BrowserContext, Page]
) -> None:
    """A receipt kept in the browser (receipts_store.js, as the vote page keeps one) has
    its check page kept after the next live page, never opened before; offline, the
    history page lists it and its check page opens."""
    context, page = installed
    tx_id = webapp.survey_id  # the survey's create_poll: a committed transaction
    page.evaluate(
        """async txId => {
            const {saveReceipt} = await import('/static/js/receipts_store.js');
            await saveReceipt(await (await fetch('/v1/tx/' + txId)).json());
        }""",
        tx_id,
    )
    page.goto(webapp.url + "/stats")  # any page loaded live
    kept = page.evaluate(
        """async url => {
            for (let i = 0; i < 600; i++) {  // 30 s
                for (const name of await caches.keys()) {
                    if (await (await caches.open(name)).match(url)) return name;
                }
                await new Promise(resolve => setTimeout(resolve, 50));
            }
            return null;
        }""",
        f"/r/{tx_id}",
    )
    assert kept is not None and kept.startswith("votechain-receipts-"), kept
    context.set_offline(True)
    page.goto(f"{webapp.url}/r/{tx_id}")
    assert page.locator("[data-tx-id]").get_attribute("data-tx-id") == tx_id
    assert page.locator("html").get_attribute("data-saved-copy") is not None
    assert banner(page) == BANNER_KO
    # Checked in the browser against the kept genesis: every check passed.
    expect(page.locator("#check-verdict")).to_have_class(re.compile(r"\bverdict-ok\b"))


def test_a_ballot_sent_from_a_saved_page_offline_fails_saying_nothing_was_sent(
    webapp: WebApp, installed: tuple[BrowserContext, Page]
) -> None:
    """What page.js tells every form (vote, enrolment, new poll) when the node cannot be
    reached: the catalogue's words, in the reader's language, not the browser's."""
    context, page = installed
    context.set_offline(True)
    page.reload()
    assert page.locator("html").get_attribute("data-offline") is not None
    said = page.evaluate(
        """async () => {
            const {errorText, submitAndWaitForCommit} = await import('/static/js/page.js');
            try {
                await submitAndWaitForCommit(new Uint8Array([1, 2, 3]));
                return 'sent';
            } catch (error) { return errorText(error); }
        }"""
    )
    assert said == NOTHING_SENT_KO


def test_a_new_release_replaces_the_old_releases_cache(webapp: WebApp, browser: Browser) -> None:
    """What a phone kept from an earlier release (another version's caches) is deleted
    when this release's worker takes over, and never served again."""
    context = browser.new_context(service_workers="allow")
    try:
        page = context.new_page()
        page.goto(webapp.url + "/static/manifest.webmanifest")  # same origin, no worker yet
        page.evaluate(
            """async () => {
                for (const name of ['votechain-shell-0123456789abcdef',
                                    'votechain-pages-0123456789abcdef', 'another-app']) {
                    const cache = await caches.open(name);
                    await cache.put('/static/js/page.js', new Response('// an old release'));
                }
            }"""
        )
        page.goto(webapp.url + "/")
        activated = page.evaluate(
            """async () => {
                await navigator.serviceWorker.ready;
                const active = () => navigator.serviceWorker.controller?.state === 'activated';
                for (let i = 0; i < 600 && !active(); i++) {
                    await new Promise(resolve => setTimeout(resolve, 50));
                }
                const names = (await caches.keys()).sort();
                const served = await (await fetch('/static/js/page.js')).text();
                return {names, served: served.slice(0, 40)};
            }"""
        )
        version = json.loads(get(webapp.url + "/sw.js")[2].split(b";\n", 1)[0][14:])["version"]
        assert activated["names"] == [
            "another-app",  # not the web app's: left alone
            f"votechain-pages-{version}",
            f"votechain-receipts-{version}",
            f"votechain-shell-{version}",
        ]
        assert activated["served"].startswith("// What every interactive page shares")
    finally:
        context.close()


def test_the_footer_offers_to_install_the_app_when_the_browser_can(
    webapp: WebApp, open_page: OpenPage
) -> None:
    """Chrome tells a page it may offer installing (beforeinstallprompt) only outside a
    private window, which a test's is: the test sends the browser's event itself."""
    page = open_page(webapp.url + "/", PHONE, locale="en-US")
    offer = page.get_by_role("button", name="Install the app on this device")
    assert not offer.is_visible()  # a browser that cannot install shows nothing
    page.evaluate(
        """() => {
            const event = new Event('beforeinstallprompt', {cancelable: true});
            event.prompt = async () => { window.promptShown = true; };
            window.dispatchEvent(event);
            window.defaultPrevented = event.defaultPrevented;
        }"""
    )
    assert offer.is_visible()
    assert page.evaluate("window.defaultPrevented")  # our button, not the browser's bar
    assert_accessible(page, "the footer with the install button")
    offer.tap()
    assert page.evaluate("window.promptShown === true")
    assert not offer.is_visible()  # a prompt is shown once


# --- phones: width, tap targets, focus ---------------------------------------------------


@pytest.mark.parametrize("viewport", PHONES, ids=lambda v: v.name)
@pytest.mark.parametrize("name", list(MAIN_PAGES))
def test_main_pages_fit_a_phone_with_44_px_targets_and_pass_axe(
    webapp: WebApp, open_page: OpenPage, viewport: Viewport, name: str
) -> None:
    path = main_path(webapp, name)
    page = open_page(webapp.url + path, viewport)
    width: dict[str, Any] = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: innerWidth})"
    )
    assert width["scroll"] <= width["inner"], (
        f"{path} scrolls sideways on a {viewport.width} px phone:\n"
        + "\n".join(sideways_overflow(page))
    )
    small: list[str] = page.evaluate(
        """min => [...document.querySelectorAll(
                'header a, header [aria-current], button, select, input, a.more')]
            .filter(e => e.getClientRects().length > 0)
            // A tick box or a radio button is tapped on its label as well.
            .map(e => [e, ['checkbox', 'radio'].includes(e.type) && e.labels.length
                ? e.labels[0].getBoundingClientRect() : e.getBoundingClientRect()])
            .filter(([e, box]) => box.width < min - 0.5 || box.height < min - 0.5)
            .map(([e, box]) => e.outerHTML.slice(0, 80) + ' is '
                + Math.round(box.width) + 'x' + Math.round(box.height))""",
        TAP_TARGET_PX,
    )
    assert small == [], f"tap targets under {TAP_TARGET_PX} px on {path}"
    if viewport is SMALL_PHONE:  # axe's rules do not change with 30 px; its time adds up
        assert_accessible(page, f"{path} on a {viewport.width} px phone")
        if name in ("polls", "offline"):
            screenshot(page, name, viewport)


def test_on_a_small_phone_the_list_filters_by_organisation_and_searches(
    webapp: WebApp, open_page: OpenPage
) -> None:
    page = open_page(webapp.url + "/", SMALL_PHONE, locale="en-US")
    organisation = page.get_by_label("Organisation")
    names = organisation.locator("option").all_inner_texts()
    assert len(names) == 2, names  # All, and the demo's organisation
    organisation.select_option(label=names[1])
    page.get_by_label("Search by title").fill("budget")
    page.get_by_role("button", name="Show").tap()
    page.wait_for_url("**/?q=budget*org=*")
    assert page.locator("ul.polls h3 a").all_inner_texts() == [
        "Participatory budget 2027: neighbourhood projects"
    ]
    assert page.get_by_label("Organisation").input_value() != ""  # the choice is kept
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def contrast(first: str, second: str) -> float:
    """WCAG's contrast ratio of two CSS rgb() colours."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("viewport", (SMALL_PHONE, DESKTOP), ids=lambda v: v.name)
def test_the_focus_ring_stands_out_on_the_header_and_on_the_page(
    webapp: WebApp, open_page: OpenPage, viewport: Viewport
) -> None:
    page = open_page(webapp.url + "/", viewport, locale="en-US")
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        ring: dict[str, str] = page.evaluate(
            """() => {
                const e = document.activeElement;
                let under = e.parentElement;
                while (under && getComputedStyle(under).backgroundColor === 'rgba(0, 0, 0, 0)') {
                    under = under.parentElement;
                }
                return {
                    what: e.outerHTML.slice(0, 60), style: getComputedStyle(e).outlineStyle,
                    colour: getComputedStyle(e).outlineColor,
                    background: under ? getComputedStyle(under).backgroundColor
                        : 'rgb(255, 255, 255)',
                };
            }"""
        )
        if ring["what"].startswith('<a class="skip"'):
            continue  # drawn on its own white box
        seen.append(ring["what"])
        assert ring["style"] != "none", ring
        assert contrast(ring["colour"], ring["background"]) >= 3, ring
    assert any("brand" in what for what in seen) and any("<input" in what for what in seen)


# --- the README's pictures -----------------------------------------------------------------


def test_the_committed_screenshots_name_the_commit_they_were_made_at() -> None:
    """docs/screenshots/ (made by `make screenshots`) says which commit it shows, a real
    one, and links exactly the pictures it holds: none left from an earlier run."""
    folder = Path(__file__).parents[2] / "docs" / "screenshots"
    index = (folder / "README.md").read_text(encoding="utf-8")
    made = re.search(r"at commit \*\*([0-9a-f]{12})", index)
    assert made, "docs/screenshots/README.md names no commit"
    found = subprocess.run(
        ["git", "cat-file", "-e", made.group(1) + "^{commit}"],
        cwd=folder,
        capture_output=True,
    )
    assert found.returncode == 0, f"{made.group(1)} is not a commit of this repository"
    linked = set(re.findall(r"\]\(([\w-]+\.png)\)", index))
    assert linked == {png.name for png in folder.glob("*.png")}
    assert {"polls-phone.png", "poll-phone.png", "stats-desktop.png"} <= linked
