"""Printing for the CLI: --json for machines, plain aligned tables for people."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(pad(value, widths[i]) for i, value in enumerate(row)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def display_width(text: str) -> int:
    """Terminal columns `text` takes: East Asian wide and fullwidth characters (Hangul,
    Hanja, kana) take two, combining marks and zero-width characters none."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    """`text` filled with spaces to `width` terminal columns (str.ljust counts characters,
    which leaves every column after a Korean cell out of line)."""
    return text + " " * max(0, width - display_width(text))


def bar(percent_basis_points: int, width: int = 30) -> str:
    """A text bar for a share given in basis points (10000 = 100%)."""
    filled = (percent_basis_points * width + 5000) // 10000
    return "#" * filled + "." * (width - filled)


def short(hex_text: str, length: int = 16) -> str:
    return hex_text[:length]


def fail(
    message: str,
    code: int = 1,
    error: str = "error",
    as_json: bool = False,
    extra: dict[str, Any] | None = None,
) -> int:
    """Report a failure and return the exit status. With --json it is an object
    {"error": code, "message": text, ...} on stdout, where the command's answer would have
    been (a script reads one place); for people one line on stderr."""
    if as_json:
        print_json({"error": error, "message": message, **(extra or {})})
    else:
        print(f"error: {message}", file=sys.stderr)
    return code


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
