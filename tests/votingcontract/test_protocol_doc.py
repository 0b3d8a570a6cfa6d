"""docs/PROTOCOL.md section 11 stays true to the code: codes, kinds, limits, tables."""

from __future__ import annotations

import re
from pathlib import Path

from votingcontract import BODY_TYPES, ReasonCode, limits, state_keys
from votingcontract.geofence import COS_E6
from votingcontract.identity import SCRYPT_N, SCRYPT_P, SCRYPT_R
from votingcontract.limits import MAX_OPEN_CITIZEN_POLLS

PROTOCOL = Path(__file__).parents[2] / "docs" / "PROTOCOL.md"


def section_11() -> str:
    text = PROTOCOL.read_text(encoding="utf-8")
    start = text.index("## 11. Voting state machine")
    return text[start : text.index("\n## 12.", start)]


def test_every_reason_code_is_in_the_table() -> None:
    table = set(re.findall(r"^\| `([a-z_]+)` \|", section_11(), re.MULTILINE))
    assert table >= {code.value for code in ReasonCode}


def test_every_kind_has_a_body_and_rules() -> None:
    text = section_11()
    for kind in BODY_TYPES:
        assert re.search(rf"^    {kind} +=", text, re.MULTILINE), f"no body for {kind}"
        assert f"**{kind}**" in text, f"no rules for {kind}"


def test_every_key_space_is_listed() -> None:
    text = section_11()
    prefixes = [v for k, v in vars(state_keys).items() if k.isupper() and isinstance(v, bytes)]
    for prefix in prefixes:
        assert f"`{prefix.decode()}" in text, f"key space {prefix!r} missing"


def test_cos_table_and_constants_match() -> None:
    text = section_11()
    table = text[text.index("`COS_E6[k]`") :]
    block = table[table.index("\n\n") : table.index("Every intermediate")]
    numbers = [int(n) for n in block.split()]
    assert tuple(numbers) == COS_E6
    assert f"N = 2^{SCRYPT_N.bit_length() - 1}, r = {SCRYPT_R}, p = {SCRYPT_P}" in text
    assert f"{MAX_OPEN_CITIZEN_POLLS} citizen polls" in text


def test_poll_caps_table_matches_limits() -> None:
    text = section_11()
    assert (
        f"| citizen | {limits.MAX_ROLL_ENTRIES_CITIZEN:,} | {limits.MAX_TICKETS_CITIZEN:,} |"
        in text
    )
    assert (
        f"| policy | {limits.MAX_ROLL_ENTRIES_POLICY:,} | {limits.MAX_TICKETS_POLICY:,} |" in text
    )


def test_key_replacement_delay_matches_limits() -> None:
    assert f"KEY_REPLACEMENT_DELAY_MS = {limits.KEY_REPLACEMENT_DELAY_MS:,}" in section_11()


def test_weight_bound_matches_limits() -> None:
    assert f"u64 1..{limits.MAX_WEIGHT:,}]" in section_11()
    assert "`MAX_WEIGHT`" in section_11()
