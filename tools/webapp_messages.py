"""Bring the web app's message catalogues up to date: `python tools/webapp_messages.py`.

Extracts every text the templates and webapp's Python use (webapp/babel.cfg), adds every
reason code (votingcontract/reasons.py, context "reason") and RPC error code
(node/errors.py, context "rpc_error"), and updates webapp/locale/{ko,en}: new entries
come in empty, translations already there are kept, entries nothing uses any more are
dropped. Then it lists what is left to translate; tests/web/test_catalogue.py fails until
none is. (`pybabel update` alone would drop the codes: no source text names them.)
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import votingcontract  # noqa: E402
from node.errors import RpcErrorCode  # noqa: E402
from webapp.i18n import LANGUAGES, REASON, RPC_ERROR, catalogue_path, read_catalogue  # noqa: E402

WEBAPP = ROOT / "webapp"
NO_TRANSLATION_NEEDED = {"en"}
"""Languages whose msgids are their texts: an empty msgstr there shows the msgid."""


def template() -> Catalog:
    """Every message the web app needs, untranslated."""
    catalog = Catalog(fuzzy=False)
    for code in (votingcontract.ACCEPTED, *(c.value for c in votingcontract.ReasonCode)):
        catalog.add(code, context=REASON)
    for rpc_code in RpcErrorCode:
        catalog.add(rpc_code.value, context=RPC_ERROR)
    with (WEBAPP / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    for path, line, message, _, context in extract_from_dir(
        WEBAPP, method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        catalog.add(message, context=context, locations=[(f"webapp/{path}", line)])
    return catalog


def main() -> int:
    wanted = template()
    untranslated = 0
    for language in LANGUAGES:
        catalog = read_catalogue(language)
        catalog.update(wanted, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with catalogue_path(language).open("wb") as po:
            # No source locations: they move with every edit and only make the diffs noisy.
            write_po(po, catalog, width=100, no_location=True, include_previous=False)
        if language in NO_TRANSLATION_NEEDED:
            continue
        for message in catalog:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and not all(strings):
                untranslated += 1
                print(f"{language}: to translate: {message.context or ''} {message.id!r}")
    print(f"{untranslated} to translate" if untranslated else "every message is translated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
