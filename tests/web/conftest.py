"""Browser tests: the web app as a citizen sees it, in real headless Chromium.

Playwright's Python package drives Debian's /usr/bin/chromium (never a browser that
Playwright downloads). One browser per test process, so one per pytest-xdist worker;
every page opens in a new context of its own with a phone or desktop viewport, and is
checked when the test ends: no uncaught script error, and no request to any origin but
the node's.

The web app is served by a real cluster of OS processes (tests/cluster/harness.py) whose
node is started by `votechain node`, the command that wires the web app into the node's
HTTP server; it is seeded as `make up` seeds a fresh chain (cli/demo.py), plus ballots
and a closed poll.
"""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

import votingcontract
from chain.keys import PrivateKey
from cli import demo
from tests.cluster.harness import LocalCluster
from tests.web.browser import CHROMIUM_ARGS, PHONE, PageWatch, Viewport, chromium_path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module. Not one per session: while Playwright's sync API is
    running it holds an asyncio loop open on this thread, and the async tests that pytest
    may run next in the same process (pytest-asyncio) cannot start their own."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """open_page(url, viewport=PHONE, locale="ko-KR", javascript=True) -> a Page loaded at
    url, in a new context (no cookies or storage shared with other pages); Seoul's time
    zone. With javascript=False the page's own scripts do not run (the test's do)."""
    opened: list[tuple[BrowserContext, PageWatch]] = []

    def open_(
        url: str, viewport: Viewport = PHONE, locale: str = "ko-KR", javascript: bool = True
    ) -> Page:
        parts = urlsplit(url)
        watch = PageWatch(origin=f"{parts.scheme}://{parts.netloc}")
        context = browser.new_context(
            viewport={"width": viewport.width, "height": viewport.height},
            device_scale_factor=viewport.scale,
            is_mobile=viewport.is_mobile,
            has_touch=viewport.has_touch,
            locale=locale,
            timezone_id="Asia/Seoul",
            service_workers="block",  # a test reads what the node serves, not a cache
            java_script_enabled=javascript,
        )
        context.set_default_timeout(15_000)
        opened.append((context, watch))
        page = context.new_page()
        page.on("console", watch.on_console)
        page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
        page.on(
            "request",
            lambda request: watch.on_request(
                request.url, request.is_navigation_request() and request.frame.parent_frame is None
            ),
        )
        load_retrying_network_changes(page, watch, url)
        return page

    yield open_
    problems = [problem for _, watch in opened for problem in watch.problems()]
    for context, _ in opened:
        context.close()
    if problems:
        pytest.fail("the page misbehaved:\n" + "\n".join(problems), pytrace=False)


NETWORK_CHANGED = "ERR_NETWORK_CHANGED"
"""Chromium aborts its requests when the machine's network addresses change (it watches
netlink; chromium issue 41465264), which shared CI machines do now and then: the page
then loses some of its scripts. Nothing the node did, so the load is tried again."""
LOAD_ATTEMPTS = 3


def load_retrying_network_changes(page: Page, watch: PageWatch, url: str) -> None:
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        before = len(watch.console_errors)
        try:
            page.goto(url)
        except PlaywrightError as exc:
            if NETWORK_CHANGED not in str(exc) or attempt == LOAD_ATTEMPTS:
                raise
            continue
        aborted = [e for e in watch.console_errors[before:] if NETWORK_CHANGED in e[0]]
        if not aborted or attempt == LOAD_ATTEMPTS:
            return
        del watch.console_errors[before:]  # the reload loads all of them again


# --- the web app on a real cluster -----------------------------------------------------

VOTES = (3, 2, 1, 1)
"""Ballots for each option of the demo satisfaction survey: 7 in all, so each share has
two decimals to round (42.86%, 28.57%, 14.29%, 14.29%)."""

BUDGET_BALLOTS = ((0, 1), (0, 3), (2,))
"""The projects three of those voters chose in the demo participatory budget (costs 400,
300, 500, 200 against a cap of 1,000): every choice within the cap."""


@dataclass(frozen=True)
class WebApp:
    cluster: LocalCluster
    url: str
    """The node's address; it serves the web app at /."""
    survey_id: str
    """The demo satisfaction survey (live results), with the ballots of VOTES."""
    budget_id: str
    """The demo participatory budget, with the ballots of BUDGET_BALLOTS."""
    closed_id: str
    """A poll its organiser closed early, with no ballots."""


def _seed(cluster: LocalCluster) -> WebApp:
    survey_id, budget_id = demo.seed_if_fresh(cluster.config)
    org_key = cluster.key("demo-org")
    closed = dict(demo.demo_polls(int(time.time() * 1000))[0])
    closed["title"] = "Should the city plant more street trees?"
    closed["purpose"] = "A quick question on street trees; the city closed it early."
    closed["questions"] = [
        {
            "text": "More street trees in my neighbourhood",
            "options": ["Yes", "No"],
            "min_selections": 1,
            "max_selections": 1,
        }
    ]
    created = cluster.submit(cluster.sign(org_key, votingcontract.CreatePoll.from_dict(closed)))
    closed_id = created["tx"]["tx_id"]
    cluster.submit(cluster.sign(org_key, votingcontract.ClosePoll(bytes.fromhex(closed_id))))
    ballots = []
    for option, count in enumerate(VOTES):
        for n in range(count):
            seed = hashlib.sha256(f"web voter {option} {n}".encode()).digest()
            voter = PrivateKey.from_seed(seed)
            cluster.enroll_directly(f"+8210700{option:02d}{n:03d}", voter)
            choice = votingcontract.CastBallot(bytes.fromhex(survey_id), ((option,),))
            ballots.append(cluster.sign(voter, choice))
            if n == 0 and option < len(BUDGET_BALLOTS):
                chosen = (BUDGET_BALLOTS[option],)
                projects = votingcontract.CastBallot(bytes.fromhex(budget_id), chosen)
                ballots.append(cluster.sign(voter, projects))
    for ballot in ballots:
        assert cluster.submit(ballot)["receipt"]["accepted"]
    return WebApp(cluster, cluster.config.node("n1").rpc_url, survey_id, budget_id, closed_id)


def _require_web_app(url: str) -> None:
    """A node that answers / with anything but a page fails every web test at once, saying
    so, rather than each test with a puzzle of its own."""
    try:
        with urllib.request.urlopen(url + "/", timeout=30) as reply:
            kind = reply.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        kind = f"HTTP {exc.code}"
    if kind != "text/html":
        pytest.fail(
            f"the node at {url} serves no web app at / ({kind}): `votechain node` wires "
            "webapp.add_routes into the node (cli/cluster_cmds.py)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def webapp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """One seeded single-validator cluster per test process (OS processes, as `votechain
    up` starts them) serving the web app; stopped when the session ends."""
    cluster = LocalCluster(tmp_path_factory.mktemp("web-cluster"), node_count=1)
    cluster.start()
    try:
        _require_web_app(cluster.config.node("n1").rpc_url)
        yield _seed(cluster)
    finally:
        cluster.stop()
