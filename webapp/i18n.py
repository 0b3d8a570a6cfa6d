"""Korean and English: the message catalogues, the reader's language, dates and numbers.

The catalogues are gettext .po files under webapp/locale/<lang>/LC_MESSAGES/messages.po,
read once at start with Babel and compiled in memory (no build output is committed or
needed). Texts shown to people come from them only: templates through Jinja's i18n
extension, Python through `Lang`. Reason codes (votingcontract/reasons.py) and RPC error
codes (node/errors.py) are catalogued under the contexts REASON and RPC_ERROR with the
code as msgid, so a code's message is looked up by the code itself and a test can check
that each has one in every language.

Times are shown in Seoul time (Asia/Seoul): a poll records instants, not a time zone,
and the polls are a Seoul city's.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.core import negotiate_locale
from babel.dates import format_skeleton
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from votingcontract.results import format_bps

LANGUAGES = ("ko", "en")
"""Languages offered, the first the default (the city's own)."""
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}
"""Each language named in itself, for the switch."""
LOCALE_DIR = Path(__file__).parent / "locale"
TIME_ZONE = ZoneInfo("Asia/Seoul")
REASON = "reason"
"""Catalogue context of the state machine's reason codes (msgid: the code)."""
RPC_ERROR = "rpc_error"
"""Catalogue context of the RPC's error codes (msgid: the code)."""
MAX_ACCEPT_LANGUAGE_CHARS = 200
"""An Accept-Language header is read up to this many characters (it is hostile input)."""


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def read_catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language)


def compile_catalogue(catalog: Catalog) -> gettext.GNUTranslations:
    """The catalogue as gettext translations, compiled in memory (write_mo, then read)."""
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return gettext.GNUTranslations(mo)


@dataclass(frozen=True)
class Lang:
    """One language's texts and formats, for the Python side of a page."""

    code: str
    translations: gettext.GNUTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self.translations.pgettext(context, message)

    def reason(self, code: str) -> str:
        """A refusal reason code's message; the code itself if the catalogue lacks it
        (a test keeps that from happening)."""
        return self.pgettext(REASON, code)

    def rpc_error(self, code: str) -> str:
        return self.pgettext(RPC_ERROR, code)

    def number(self, n: int) -> str:
        return format_decimal(n, locale=self.code)

    def instant(self, ms: int) -> str:
        """An instant in Seoul time, the date and the time in this language's forms."""
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(TIME_ZONE)
        date = format_skeleton("yMMMEd", moment, locale=self.code)
        time = format_skeleton("hm", moment, locale=self.code)
        return self.gettext("%(date)s %(time)s") % {"date": date, "time": time}

    def month(self, year: int, month: int) -> str:
        """A calendar month: "2026년 12월", "December 2026"."""
        return format_skeleton("yMMMM", datetime(year, month, 1), locale=self.code)

    def votes(self, count: int, share_bps: int) -> str:
        """mVoting's wording: "119표 (41.75%)", "119 votes (41.75%)"; the share with two
        decimals as PROTOCOL.md 11.7 rounds it."""
        text = self.ngettext(
            "%(count)s vote (%(percent)s%%)", "%(count)s votes (%(percent)s%%)", count
        )
        return text % {"count": self.number(count), "percent": format_bps(share_bps)}


def seoul_month(ms: int) -> tuple[int, int]:
    """(year, month) of an instant in Seoul time."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(TIME_ZONE)
    return moment.year, moment.month


def load_languages() -> dict[str, Lang]:
    return {code: Lang(code, compile_catalogue(read_catalogue(code))) for code in LANGUAGES}


def choose_language(asked: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page's language: asked for by the switch (?lang=), else the one remembered in
    the `lang` cookie, else the browser's first offered one we have, else Korean."""
    for choice in (asked, cookie):
        if choice in LANGUAGES:
            return choice
    preferred = _accepted(accept_language or "")
    return negotiate_locale(preferred, LANGUAGES, sep="-") or LANGUAGES[0]


def _accepted(header: str) -> list[str]:
    """Accept-Language's tags, best first (q=0 dropped; a malformed q ranks last)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:MAX_ACCEPT_LANGUAGE_CHARS].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.001
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    ranked.sort()
    tags = [tag for _, _, tag in ranked]
    # "ko-KR" matches "ko": negotiate_locale compares whole tags, so offer the base too.
    return [t for tag in tags for t in (tag, tag.split("-")[0])]
