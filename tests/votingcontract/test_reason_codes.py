"""Every reason code is asserted by at least one test of this directory.

A new ReasonCode without a test that produces it fails here, naming the code.
"""

from __future__ import annotations

import re
from pathlib import Path

from votingcontract.reasons import ReasonCode

HERE = Path(__file__).parent


def test_every_reason_code_is_produced_by_some_test() -> None:
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for p in HERE.glob("test_*.py")
        if p.name != Path(__file__).name
    )
    asserted = set(re.findall(r"\bR\.([A-Z_]+)\b", sources))
    asserted |= set(re.findall(r"\bReasonCode\.([A-Z_]+)\b", sources))
    missing = [code.name for code in ReasonCode if code.name not in asserted]
    assert not missing, f"reason codes no test checks: {missing}"
