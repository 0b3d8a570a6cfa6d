"""The web app's pages as a citizen sees them on a phone and on a PC: the poll list, a
poll's results as a bar chart in mVoting's wording, the statistics; each main page passes
axe-core with no serious or critical violation, fits the screen's width, and leaves a screenshot in
build/screenshots/ for people to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.web.browser import (
    DESKTOP,
    PHONE,
    VIEWPORTS,
    Viewport,
    assert_accessible,
    screenshot,
    sideways_overflow,
)
from tests.web.conftest import OpenPage, WebApp

KOREAN_TALLIES = ["3표 (42.86%)", "2표 (28.57%)", "1표 (14.29%)", "1표 (14.29%)"]
ENGLISH_TALLIES = ["3 votes (42.86%)", "2 votes (28.57%)", "1 vote (14.29%)", "1 vote (14.29%)"]
SHARES = [0.4286, 0.2857, 0.1429, 0.1429]


def bar_fractions(page: Page, question: int = 0) -> list[float]:
    """How much of each option's bar is filled, as drawn (widths in CSS pixels, inside the
    bar's border)."""
    fractions: list[float] = page.evaluate(
        """q => [...document.querySelectorAll('section.question')[q].querySelectorAll('.bar')]
            .map(bar => bar.firstElementChild.getBoundingClientRect().width / bar.clientWidth)""",
        question,
    )
    return fractions


def tallies(page: Page, question: int = 0) -> list[str]:
    texts: list[str] = (
        page.locator("section.question").nth(question).locator(".tally").all_inner_texts()
    )
    return [" ".join(t.split()) for t in texts]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_the_poll_list_groups_open_and_closed_polls_with_short_links(
    webapp: WebApp, open_page: OpenPage, viewport: Viewport
) -> None:
    page = open_page(webapp.url + "/", viewport)
    assert page.locator("html").get_attribute("lang") == "ko"
    open_titles = page.locator("#group-open ~ ul h3 a").all_inner_texts()
    assert sorted(open_titles) == [
        "How satisfied are you with the city's bike-sharing service?",
        "Participatory budget 2027: neighbourhood projects",
    ]
    assert page.locator("#group-closed ~ ul h3 a").all_inner_texts() == [
        "Should the city plant more street trees?"
    ]
    link = page.get_by_role("link", name="How satisfied are you with the city's bike-sharing")
    href = link.get_attribute("href") or ""
    assert href.startswith("/p/") and webapp.survey_id.startswith(href[3:]), href
    assert 4 <= len(href[3:]) < 64  # short enough to share, and still the poll's id
    if viewport is PHONE:
        link.tap()
    else:
        link.click()
    page.wait_for_url(webapp.url + href)
    assert page.locator("h1").inner_text() == (
        "How satisfied are you with the city's bike-sharing service?"
    )


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_results_are_a_bar_chart_with_count_and_percentage_like_mvoting(
    webapp: WebApp, open_page: OpenPage, viewport: Viewport
) -> None:
    page = open_page(f"{webapp.url}/p/{webapp.survey_id[:8]}", viewport)
    assert tallies(page) == KOREAN_TALLIES
    for drawn, share in zip(bar_fractions(page), SHARES, strict=True):
        assert abs(drawn - share) <= 0.006, (drawn, share)  # drawn to a whole percent

    english = open_page(f"{webapp.url}/p/{webapp.survey_id[:8]}", viewport, locale="en-US")
    assert english.locator("html").get_attribute("lang") == "en"
    assert tallies(english) == ENGLISH_TALLIES


def test_without_javascript_a_citizen_still_searches_and_reads_the_results(
    webapp: WebApp, open_page: OpenPage
) -> None:
    page = open_page(webapp.url + "/", PHONE, locale="en-US", javascript=False)
    page.get_by_label("Search by title").fill("budget")
    page.get_by_role("button", name="Show").tap()
    page.wait_for_url("**/?q=budget*")
    titles = page.locator("ul.polls h3 a").all_inner_texts()
    assert titles == ["Participatory budget 2027: neighbourhood projects"]
    page.goto(f"{webapp.url}/p/{webapp.survey_id[:8]}")
    assert tallies(page) == ENGLISH_TALLIES
    assert bar_fractions(page)[0] == pytest.approx(SHARES[0], abs=0.006)


def test_a_participatory_budget_shows_costs_and_the_funded_projects(
    webapp: WebApp, open_page: OpenPage
) -> None:
    expected = webapp.cluster.client().get(f"/v1/polls/{webapp.budget_id}/results")
    question = expected["questions"][0]
    page = open_page(f"{webapp.url}/p/{webapp.budget_id}", DESKTOP, locale="en-US")
    options = page.locator("section.question").nth(0).locator("li.option")
    assert options.count() == 4
    funded_shown = [i for i in range(4) if options.nth(i).locator(".badge").count() == 1]
    assert funded_shown == [o["index"] for o in question["options"] if o["funded"]]
    assert funded_shown, "the seeded ballots fund at least one project"
    assert "cost 400" in options.nth(0).inner_text()
    spent = sum(o["cost"] for o in question["options"] if o["funded"])
    assert f"costing {spent:,} of 1,000" in page.locator(".funded-total").inner_text()


def test_the_statistics_page_counts_what_the_chain_holds(
    webapp: WebApp, open_page: OpenPage
) -> None:
    page = open_page(webapp.url + "/stats", PHONE, locale="en-US")
    counts = dict(
        zip(
            page.locator("dl.stats dt").all_inner_texts(),
            page.locator("dl.stats dd").all_inner_texts(),
            strict=True,
        )
    )
    stats = webapp.cluster.client().get("/v1/stats")
    assert counts["Polls"] == str(stats["polls"]) == "3"
    assert counts["Enrolled voters"] == str(stats["voters"]) == "7"
    assert counts["Organisations"] == "1"


MAIN_PAGES = {
    "polls": "/",
    "poll": "/p/{survey}",
    "budget": "/p/{budget}",
    "closed-poll": "/p/{closed}",
    "stats": "/stats",
}


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("name", list(MAIN_PAGES))
def test_each_main_page_passes_axe_and_is_photographed(
    webapp: WebApp, open_page: OpenPage, viewport: Viewport, name: str
) -> None:
    path = MAIN_PAGES[name].format(
        survey=webapp.survey_id[:8], budget=webapp.budget_id[:8], closed=webapp.closed_id[:8]
    )
    page = open_page(webapp.url + path, viewport)
    screenshot(page, name, viewport)
    assert_accessible(page, f"{path} on a {viewport.name}")
    overflow = sideways_overflow(page)
    assert not overflow, f"{path} is wider than a {viewport.name}'s screen:\n" + "\n".join(overflow)
    if viewport is DESKTOP:  # the words change with the language, not the layout's rules
        english = open_page(webapp.url + path, viewport, locale="en-US")
        assert_accessible(english, f"{path} in English on a {viewport.name}")


def test_an_unknown_poll_link_gets_a_page_in_the_readers_language(
    webapp: WebApp, open_page: OpenPage
) -> None:
    unknown = "f" * 12 if not webapp.survey_id.startswith("f") else "0" * 12
    page = open_page(f"{webapp.url}/p/{unknown}", PHONE, locale="en-US")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main h1").count() == 1
    assert_accessible(page, "the unknown poll's page")
    # A way on for the citizen: back to the list of polls.
    page.locator("main").get_by_role("link").first.tap()
    page.wait_for_url(webapp.url + "/")
