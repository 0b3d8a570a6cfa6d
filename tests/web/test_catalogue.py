"""The ko and en message catalogues: complete, and consistent with what uses them.

A new reason code (votingcontract/reasons.py) or RPC error code (node/errors.py), or a
new text in a template or in webapp's Python, fails here until both catalogues have its
message, so a citizen never reads a bare code or an untranslated sentence.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

import votingcontract
from node.errors import RpcErrorCode
from webapp.i18n import LANGUAGES, LOCALE_DIR, REASON, RPC_ERROR, load_languages, read_catalogue

WEBAPP_DIR = LOCALE_DIR.parent
REASON_CODES = [votingcontract.ACCEPTED, *(code.value for code in votingcontract.ReasonCode)]
RPC_CODES = [code.value for code in RpcErrorCode]


def extracted() -> set[tuple[str | None, str | tuple[str, ...]]]:
    """(context, msgid) of every text the templates and webapp's Python ask for."""
    with (WEBAPP_DIR / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    return {
        (context, message)
        for _, _, message, _, context in extract_from_dir(
            WEBAPP_DIR, method_map, options_map, keywords=DEFAULT_KEYWORDS
        )
    }


def translated(catalog: Catalog, context: str | None, msgid: str | tuple[str, ...]) -> bool:
    key = msgid[0] if isinstance(msgid, tuple) else msgid
    message = catalog.get(key, context=context)
    if message is None:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reason_code_has_a_message(language: str) -> None:
    catalog = read_catalogue(language)
    missing = [code for code in REASON_CODES if not translated(catalog, REASON, code)]
    assert not missing, f"{language}: no message for reason codes {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_rpc_error_code_has_a_message(language: str) -> None:
    catalog = read_catalogue(language)
    missing = [code for code in RPC_CODES if not translated(catalog, RPC_ERROR, code)]
    assert not missing, f"{language}: no message for RPC error codes {missing}"


def test_korean_translates_every_text_the_pages_use() -> None:
    catalog = read_catalogue("ko")
    missing = [m for context, m in extracted() if not translated(catalog, context, m)]
    assert not missing, f"ko: untranslated {missing}"


def test_english_lists_every_text_the_pages_use() -> None:
    """English msgids are the English texts, so an entry may leave msgstr empty; it
    must still be listed, so translators see every text in one file."""
    catalog = read_catalogue("en")
    missing = [
        m
        for context, m in extracted()
        if catalog.get(m[0] if isinstance(m, tuple) else m, context=context) is None
    ]
    assert not missing, f"en: not listed {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalogue_keeps_a_text_nothing_uses(language: str) -> None:
    used = {(c, m[0] if isinstance(m, tuple) else m) for c, m in extracted()}
    stale = [
        (message.context, message.id)
        for message in read_catalogue(language)
        if message.id
        and message.context not in (REASON, RPC_ERROR)
        and (message.context, message.id if isinstance(message.id, str) else message.id[0])
        not in used
    ]
    assert not stale, f"{language}: no longer used {stale}"
    codes = {m.id for m in read_catalogue(language) if m.context in (REASON, RPC_ERROR)}
    assert codes <= {*REASON_CODES, *RPC_CODES}, codes - {*REASON_CODES, *RPC_CODES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_texts(language: str) -> None:
    """Every text is %-formatted when shown, so a translation must use exactly its
    text's %(name)s placeholders (one misspelt or added fails the page) and write a
    percent sign as %%."""
    problems = []
    for message in read_catalogue(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(placeholders(str(i)) for i in ids))
        for string in map(str, strings):
            if string and not placeholders(string) <= wanted:
                problems.append((message.id, string))
            if string and "%" in PLACEHOLDER.sub("", string).replace("%%", ""):
                problems.append((message.id, string))
    assert not problems, problems
    assert not list(read_catalogue(language).check())  # Babel's own checks too


PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_korean_and_english_differ_where_a_code_is_explained() -> None:
    languages = load_languages()
    for code in ("duplicate", "closed", "not_eligible"):
        assert languages["ko"].reason(code) != languages["en"].reason(code)
        assert languages["ko"].reason(code) != code
