"""Which language a page is in: the switch, then the remembered choice, then the
browser's Accept-Language (quality values honoured), then Korean; hostile headers
change nothing."""

from __future__ import annotations

import pytest

from webapp.i18n import choose_language


@pytest.mark.parametrize(
    ("asked", "cookie", "header", "chosen"),
    [
        ("en", "ko", "ko", "en"),  # the switch wins
        (None, "en", "ko-KR,ko", "en"),  # then the remembered choice
        (None, None, "en-GB,en;q=0.8,ko;q=0.5", "en"),
        (None, None, "ko;q=0.3,en;q=0.9", "en"),  # by quality, not by order
        (None, None, "fr-FR,fr;q=0.9,ko-KR;q=0.8", "ko"),
        (None, None, "en;q=0,ko", "ko"),  # q=0 means "not this one"
        (None, None, "fr", "ko"),  # nothing we have: the city's language
        (None, None, None, "ko"),
        ("xx", "zz", "", "ko"),  # unknown choices are ignored
        (None, None, "en;q=abc", "en"),  # a malformed q ranks last but still counts
        (None, None, ",,;;==," * 500 + "en", "ko"),  # read up to a cap, no crash
    ],
)
def test_the_language_of_a_page(
    asked: str | None, cookie: str | None, header: str | None, chosen: str
) -> None:
    assert choose_language(asked, cookie, header) == chosen
