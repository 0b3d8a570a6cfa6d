"""Helpers for the browser tests: viewports, Debian's Chromium, the page watch, axe-core
and screenshots. The fixtures that use them are in conftest.py."""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.cluster.harness import ROOT

CHROMIUM = Path(os.environ.get("VOTECHAIN_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps dialling Google's hosts, which a
# closed network refuses many at a time; Playwright adds --headless and a new empty
# --user-data-dir of its own to every launch.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
MISSING_CHROMIUM = (
    "The browser tests need Debian's Chromium at {path}, which is not there. Install it "
    "(as root): apt-get update && apt-get install -y --no-install-recommends chromium "
    "(.ci/run does this on a clean machine), or point VOTECHAIN_CHROMIUM at a Chromium "
    "binary. Do not run `playwright install`: the tests never use its browsers."
)

SCREENSHOTS = ROOT / "build" / "screenshots"
"""Written by the tests for people to look at; build/ is never committed."""

AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_FILE = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    is_mobile: bool
    has_touch: bool
    scale: float


PHONE = Viewport("phone", 390, 844, is_mobile=True, has_touch=True, scale=3)
DESKTOP = Viewport("desktop", 1280, 800, is_mobile=False, has_touch=False, scale=1)
VIEWPORTS = (PHONE, DESKTOP)


def chromium_path(path: Path = CHROMIUM) -> Path:
    """Debian's Chromium, or a failed test saying how to install it (never a skip: a
    machine without it would otherwise pass without showing a page to a browser)."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(MISSING_CHROMIUM.format(path=path), pytrace=False)
    return path


@dataclass
class PageWatch:
    """What a page did that a citizen would suffer from: script errors, failed loads, and
    requests to anywhere but the node that served it (the app comes from the node, never
    a CDN). A page itself answered with an error status (a 404 page) is the test's to
    judge, not a failed load."""

    origin: str
    errors: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    """(text, url of the script or resource it is about)"""
    foreign_requests: list[str] = field(default_factory=list)
    documents: set[str] = field(default_factory=set)
    """Pages navigated to (main frame), whatever their status."""

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))

    def on_request(self, url: str, navigation: bool = False) -> None:
        if navigation:
            self.documents.add(url)
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign_requests.append(url)

    def problems(self) -> list[str]:
        console = [
            f"console error: {text} at {url}"
            for text, url in self.console_errors
            if not url.endswith("/favicon.ico")  # the browser asks for it by itself
            and not (text.startswith("Failed to load resource") and url in self.documents)
            and not refused_by_the_rpc(text, url)
        ]
        foreign = [f"request outside {self.origin}: {url}" for url in self.foreign_requests]
        return self.errors + console + foreign


def refused_by_the_rpc(text: str, url: str) -> bool:
    """A JSON RPC call the node refused (4xx: a wrong code, a second ballot): Chromium
    logs each as a failed load, but the page words the refusal for the citizen, and
    whether it does is the test's to check. A 5xx is still a problem."""
    return text.startswith(
        "Failed to load resource: the server responded with a status of 4"
    ) and urlsplit(url).path.startswith("/v1/")


@functools.cache
def warn_without_korean_font() -> None:
    """Once per test process: the tests read text from the page, not pixels, so only the
    pictures suffer, and the tests go on."""
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=ko", "family"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        listed = ""
    if not listed.strip():
        warnings.warn(
            "no Korean font: screenshots show Korean as boxes; install one with "
            "apt-get install -y --no-install-recommends fonts-nanum (.ci/run does)",
            stacklevel=3,
        )


def screenshot(page: Page, name: str, viewport: Viewport) -> Path:
    """Save the whole page as build/screenshots/<name>-<viewport>.png for people to see."""
    warn_without_korean_font()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{viewport.name}.png"
    # One image pixel per CSS pixel: the layout is what people check, and a phone's
    # three device pixels per CSS pixel would triple the time and the file's size.
    page.screenshot(path=str(path), full_page=True, scale="css")
    return path


# --- axe-core --------------------------------------------------------------------------


@functools.cache
def axe_source() -> str:
    data = AXE_FILE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != AXE_SHA256:
        raise AssertionError(f"{AXE_FILE} is not axe-core {AXE_VERSION} as released: {digest}")
    return data.decode()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core in the page as loaded and return its violations.

    The script goes in through the DevTools protocol (page.evaluate), which the page's
    Content-Security-Policy does not govern, so the page is tested as it is served."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"  at {target}: {node['html'][:200]}")
            summary = " ".join(node.get("failureSummary", "").split())
            if summary:
                lines.append(f"    {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    """Fail on any serious or critical axe-core violation, naming each rule and element."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        raise AssertionError(
            f"axe-core {AXE_VERSION} found {len(blocking)} serious or critical "
            f"accessibility violation(s) on {what}:\n{describe_violations(blocking)}"
        )


# --- the keyboard ----------------------------------------------------------------------

# Elements a keyboard reaches, and one line naming each: the same words for the DOM's
# order and for where Tab lands, so the two lists compare.
_DESCRIBE = """e => {
    const text = (e.getAttribute('aria-label') || e.innerText || e.value || '').trim();
    const href = e.getAttribute('href');
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (href ? ' ' + href : '')
        + (text ? ' "' + text.replace(/\\s+/g, ' ').slice(0, 40) + '"' : '');
}"""
_FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), "
    "select:not([disabled]), textarea:not([disabled]), summary, [tabindex]"
)


def focusable_in_dom_order(page: Page) -> list[str]:
    """What Tab should visit, in document order: the rendered, reachable elements."""
    described: list[str] = page.evaluate(
        f"""() => {{
            const describe = {_DESCRIBE};
            // A group of radio buttons is one Tab stop: its checked one, else its first.
            const radioStop = e => {{
                if (e.type !== 'radio' || !e.name) return true;
                const group = [...(e.form || document).querySelectorAll('input[type=radio]')]
                    .filter(r => r.name === e.name);
                const checked = group.find(r => r.checked);
                return checked ? checked === e : group[0] === e;
            }};
            return [...document.querySelectorAll({_FOCUSABLE!r})]
                .filter(e => e.tabIndex >= 0 && e.getClientRects().length > 0)
                .filter(radioStop)
                .map(describe);
        }}"""
    )
    return described


def positive_tabindex(page: Page) -> list[str]:
    """Elements that jump the Tab order (tabindex > 0), which keyboard users get lost by."""
    found: list[str] = page.evaluate(
        f"() => [...document.querySelectorAll('[tabindex]')].filter(e => e.tabIndex > 0)"
        f".map({_DESCRIBE})"
    )
    return found


@dataclass(frozen=True)
class TabStop:
    element: str
    in_view: bool
    """Wholly or partly inside the viewport once focused (the browser scrolled to it)."""
    ring: bool
    """Drawn with a visible focus indicator: an outline or a box shadow."""


def press_tab(page: Page) -> TabStop:
    page.keyboard.press("Tab")
    stop: dict[str, Any] = page.evaluate(
        f"""() => {{
            const e = document.activeElement;
            const style = getComputedStyle(e);
            const box = e.getBoundingClientRect();
            const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                || style.boxShadow !== 'none';
            const inView = box.width > 0 && box.height > 0 && box.bottom > 0
                && box.right > 0 && box.top < innerHeight && box.left < innerWidth;
            return {{element: ({_DESCRIBE})(e), inView, ring}};
        }}"""
    )
    return TabStop(stop["element"], stop["inView"], stop["ring"])


# --- layout ----------------------------------------------------------------------------


def sideways_overflow(page: Page) -> list[str]:
    """Elements that stick out past the right edge of the screen, so that a phone's page
    scrolls sideways; empty when the page fits its width."""
    found: list[str] = page.evaluate(
        f"""() => {{
            const root = document.documentElement;
            if (root.scrollWidth <= root.clientWidth) return [];
            const describe = {_DESCRIBE};
            return [...document.body.querySelectorAll('*')]
                .filter(e => e.getBoundingClientRect().right > root.clientWidth + 0.5)
                .slice(0, 8)
                .map(e => describe(e) + (e.className ? ' .' + e.className : '') + ' right edge '
                    + Math.round(e.getBoundingClientRect().right) + ' > ' + root.clientWidth);
        }}"""
    )
    return found
