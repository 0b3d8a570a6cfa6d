"""Keyboard basics on the main pages: a skip link first, Tab through every control in
reading order with a visible focus ring, nothing that jumps the order or hides the focus
off screen."""

from __future__ import annotations

import pytest

from tests.web.browser import (
    DESKTOP,
    VIEWPORTS,
    Viewport,
    focusable_in_dom_order,
    positive_tabindex,
    press_tab,
)
from tests.web.conftest import OpenPage, WebApp

PAGES = {"polls": "/", "poll": "/p/{survey}", "stats": "/stats"}


@pytest.mark.parametrize("name", list(PAGES))
def test_tab_visits_every_control_in_reading_order_with_a_visible_focus_ring(
    webapp: WebApp, open_page: OpenPage, name: str
) -> None:
    page = open_page(webapp.url + PAGES[name].format(survey=webapp.survey_id[:8]), DESKTOP)
    # An open poll's voting form shows its enrolment step once it has looked for a key.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-vote]')].every(s => s.dataset.ready)"
    )
    assert positive_tabindex(page) == []
    expected = focusable_in_dom_order(page)
    assert len(expected) >= 5, expected  # skip link, brand, two sections, a language
    stops = [press_tab(page) for _ in expected]
    assert [stop.element for stop in stops] == expected
    assert [stop.element for stop in stops if not stop.in_view] == []
    assert [stop.element for stop in stops if not stop.ring] == []


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_the_first_tab_shows_a_skip_link_that_jumps_to_the_content(
    webapp: WebApp, open_page: OpenPage, viewport: Viewport
) -> None:
    page = open_page(webapp.url + "/", viewport, locale="en-US")
    first = press_tab(page)
    assert first.element == 'a #main "Skip to the content"'
    assert first.in_view and first.ring
    page.keyboard.press("Enter")
    page.wait_for_url("**/#main")
    # The next Tab lands in the content (the search field), past the site's header.
    assert press_tab(page).element.startswith("input#q")
