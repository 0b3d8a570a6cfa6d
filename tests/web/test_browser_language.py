"""Korean and English: the browser's language chooses, the switch in the header changes
it, and the choice stays as the citizen moves between pages."""

from __future__ import annotations

import re

from tests.web.browser import PHONE
from tests.web.conftest import OpenPage, WebApp


def test_a_korean_phone_gets_korean_and_the_switch_keeps_english_across_pages(
    webapp: WebApp, open_page: OpenPage
) -> None:
    page = open_page(webapp.url + "/", PHONE, locale="ko-KR")
    assert page.locator("html").get_attribute("lang") == "ko"
    current = page.locator("nav.languages [aria-current]")
    assert current.inner_text() == "한국어"

    page.get_by_role("link", name="English").tap()
    page.wait_for_url(re.compile(r"\?lang=en$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("nav.languages [aria-current]").inner_text() == "English"

    # The choice is remembered: a plain link to a poll opens it in English.
    page.get_by_role("link", name="How satisfied are you with the city's bike-sharing").tap()
    page.wait_for_url("**/p/*")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "3 votes (42.86%)" in page.locator(".tally").all_inner_texts()

    page.get_by_role("link", name="한국어").tap()
    page.wait_for_url(re.compile(r"/p/[0-9a-f]+\?lang=ko$"))
    assert page.locator("html").get_attribute("lang") == "ko"
    assert "3표 (42.86%)" in page.locator(".tally").all_inner_texts()
    page.get_by_role("link", name="통계", exact=True).tap()
    page.wait_for_url("**/stats")
    assert page.locator("html").get_attribute("lang") == "ko"


def test_an_english_browser_gets_english_without_switching(
    webapp: WebApp, open_page: OpenPage
) -> None:
    page = open_page(webapp.url + "/stats", PHONE, locale="en-GB")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Operating statistics"
    assert page.get_by_role("link", name="한국어").get_attribute("hreflang") == "ko"
