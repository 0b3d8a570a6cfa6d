"""docs/PROTOCOL.md stays true to ballotcrypto: the hash domains of section 2 and the
vectors and constants of section 15."""

from __future__ import annotations

import re
from pathlib import Path

from ballotcrypto import budget, context, group
from chain.hashing import Domain

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"


def section(title: str) -> str:
    text = PROTOCOL.read_text(encoding="utf-8")
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start : end if end != -1 else len(text)]


def test_the_domain_table_lists_every_domain_with_its_byte() -> None:
    rows = dict(
        re.findall(r"^\| ([A-Z_]+) \| (0x[0-9A-F]{2}) \|", section("## 2. Hash domains"), re.M)
    )
    assert rows == {domain.name: f"0x{domain.value:02X}" for domain in Domain}


def test_section_15_is_part_of_the_rules_and_names_where_secret_polls_use_it() -> None:
    text = section("## 15. Ballot cryptography")
    assert "draft" not in text.lower()
    assert "11.6 **Secret polls**" in text


def test_section_15_vectors_and_constants_match_the_code() -> None:
    text = section("## 15. Ballot cryptography")
    assert f"L = 2^252 + {group.L - 2**252}" in text
    for m in (1, 2, 3):
        assert group.base_mul(m).encoding.hex() in text
    assert f"`option` = {context.NO_OPTION} (0x{context.NO_OPTION:04X})" in text
    assert f"(offset {budget.LOWER_OFFSET}," in text
    for purpose in ("transport-key", "coefficient", "decryption", "reveal"):
        assert f'`"{purpose}"`' in text
