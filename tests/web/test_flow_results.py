"""A live poll's bar chart updates in the open page when another ballot is committed, with
no reload, against a real cluster of processes: the bars, "N표 (xx.xx%)" and the
participants line change to exactly what a reload shows, the page says when it was
updated, and a screen reader is told politely. The page passes axe-core and is
photographed at phone and desktop sizes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count

import pytest
from playwright.sync_api import Browser, Page, Route, expect

import votingcontract
from chain.keys import PrivateKey
from cli import demo
from tests.cluster.harness import LocalCluster
from tests.web.browser import VIEWPORTS, Viewport, assert_accessible, screenshot, sideways_overflow
from tests.web.conftest import OpenPage

LIVE_UPDATE_TIMEOUT_MS = 30_000
"""live.js asks every 5 s; a loaded machine may be slow to answer."""


@dataclass(frozen=True)
class Survey:
    cluster: LocalCluster
    url: str
    poll_id: str
    """The demo satisfaction survey: live results, four options, one choice."""


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Survey]:
    cluster = LocalCluster(tmp_path_factory.mktemp("web-results"), node_count=1)
    cluster.start()
    try:
        poll_id, _budget = demo.seed_if_fresh(cluster.config)
        yield Survey(cluster, cluster.config.node("n1").rpc_url, poll_id)
    finally:
        cluster.stop()


_voters = count()


def vote(survey: Survey, option: int) -> None:
    """A new voter enrolled and voting for `option`, committed."""
    n = next(_voters)
    voter = PrivateKey.from_seed(hashlib.sha256(f"live voter {n}".encode()).digest())
    survey.cluster.enroll_directly(f"+8210888{n:05d}", voter)
    body = votingcontract.CastBallot(bytes.fromhex(survey.poll_id), ((option,),))
    committed = survey.cluster.submit(survey.cluster.sign(voter, body))
    assert committed["receipt"]["accepted"], committed


def shown(page: Page) -> tuple[list[str], list[str], str]:
    """The tallies, the bars' width classes and the participants line, as on the page."""
    tallies = [" ".join(t.split()) for t in page.locator(".tally").all_inner_texts()]
    bars: list[str] = page.evaluate(
        "() => [...document.querySelectorAll('.fill')].map(f => f.className)"
    )
    participants = page.locator("#participants")
    return tallies, bars, participants.inner_text() if participants.count() else ""


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_the_bar_chart_updates_live_when_a_ballot_is_committed(
    survey: Survey, open_page: OpenPage, viewport: Viewport
) -> None:
    vote(survey, 0)  # so that the page opens with a participants line and bars
    page = open_page(f"{survey.url}/p/{survey.poll_id[:12]}", viewport)
    before = shown(page)
    before_people = page.locator(".facts .people").inner_text()
    page.evaluate("() => { window.notReloaded = true; }")

    vote(survey, 1)
    vote(survey, 1)
    fresh = open_page(f"{survey.url}/p/{survey.poll_id[:12]}", viewport)
    after = shown(fresh)
    assert after != before
    assert after[2].startswith("참여자") and after[2] != before[2]

    # The open page catches up by itself, word for word as the reload shows it.
    tallies = page.locator(".tally")
    for i, text in enumerate(after[0]):
        expect(tallies.nth(i)).to_have_text(text, timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(page.locator("#participants")).to_have_text(after[2])
    # The participants fact at the top too ("6명"), as the reload says it.
    expect(page.locator(".facts .people")).to_have_text(
        fresh.locator(".facts .people").inner_text()
    )
    assert page.locator(".facts .people").inner_text() != before_people
    assert shown(page) == after
    assert page.evaluate("() => window.notReloaded === true")
    updated = page.locator(".live-updated")
    expect(updated).to_be_visible()
    assert "갱신됨" in updated.inner_text()
    # Screen readers hear a short polite summary, not each bar.
    announcer = page.locator("[role=status][aria-live=polite].visually-hidden")
    expect(announcer).to_have_text(f"결과가 갱신되었습니다: {after[2]}.")

    assert sideways_overflow(page) == []
    assert_accessible(page, f"a live poll's page ({viewport.name})")
    screenshot(page, "poll-live", viewport)


def set_hidden(page: Page, hidden: bool) -> None:
    """The tab hidden or shown again, as the browser tells a page (visibilitychange)."""
    page.evaluate(
        """hidden => {
            Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def test_live_updates_pause_on_a_hidden_tab_and_wait_out_retry_after(
    survey: Survey, browser: Browser
) -> None:
    # A context of its own, not open_page's: the 503s the test forges are logged by
    # Chromium as failed loads, which open_page's watch rightly counts as problems.
    context = browser.new_context(locale="ko-KR", service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{survey.url}/p/{survey.poll_id[:12]}")
    asked: list[str] = []
    busy = {"on": False}

    # Counted as the browser sends them (the event expect_request waits for), not when
    # the route answers, which may come after.
    page.on(
        "request", lambda request: asked.append(request.url) if "live.json" in request.url else None
    )

    def answer(route: Route) -> None:
        if busy["on"]:
            route.fulfill(status=503, headers={"Retry-After": "30"}, body="busy")
        else:
            route.continue_()

    page.route("**/live.json", answer)
    page.clock.install()  # the page's timers run only when the test says
    page.reload()

    with page.expect_request("**/live.json"):
        page.clock.run_for(5_100)  # the first update, 5 s after loading
    assert len(asked) == 1

    set_hidden(page, True)
    page.clock.run_for(60_000)  # a hidden tab asks nothing
    page.wait_for_timeout(300)
    assert len(asked) == 1
    with page.expect_request("**/live.json"):
        set_hidden(page, False)  # shown again: brought up to date at once
        page.clock.run_for(10)
    assert len(asked) == 2

    busy["on"] = True
    with page.expect_request("**/live.json"):
        page.clock.run_for(5_100)
    assert len(asked) == 3
    page.clock.run_for(25_000)  # Retry-After: 30 is waited out
    page.wait_for_timeout(300)
    assert len(asked) == 3
    busy["on"] = False
    with page.expect_request("**/live.json"):
        page.clock.run_for(6_000)
    assert len(asked) == 4
    context.close()
    assert errors == []


def test_a_closed_polls_page_does_not_update(survey: Survey, open_page: OpenPage) -> None:
    page = open_page(f"{survey.url}/p/{survey.poll_id[:12]}")
    assert page.locator("script[src='/static/js/live.js']").count() == 1
    closed = survey.cluster.submit(
        survey.cluster.sign(
            survey.cluster.key("demo-org"),
            votingcontract.ClosePoll(bytes.fromhex(survey.poll_id)),
        )
    )
    assert closed["receipt"]["accepted"], closed
    # The open page learns that the poll closed and says its results are final.
    expect(page.locator(".live-updated")).to_contain_text(
        "투표가 마감되었습니다", timeout=LIVE_UPDATE_TIMEOUT_MS
    )
    reloaded = open_page(f"{survey.url}/p/{survey.poll_id[:12]}")
    assert reloaded.locator("script[src='/static/js/live.js']").count() == 0
    assert reloaded.locator("[data-live]").count() == 0
