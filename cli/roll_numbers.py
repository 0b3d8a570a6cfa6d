"""Phone numbers for a voter roll, as an office has them: typed, or a CSV or Excel export.

Numbers are normalised to E.164 (Korean local forms such as 010-1234-5678 become
+821012345678), de-duplicated in file order, and checked row by row: every bad row is
reported with its row number and why, and then nothing is submitted. A reason never
repeats the cell, so an error pasted into a ticket or a log carries no number.

A file is a CSV (UTF-8, or CP949 as Korean Excel saves it; comma, semicolon or tab) or
an .xlsx workbook (its first sheet). The phone column is the one whose header says so
(phone, mobile, 전화번호, 휴대폰, ...), the only column, or the only column whose first
row is a number; a header row is optional. A column headed weight (가중치, 의결권, ...)
makes a weighted roll: every row then needs a whole-number weight, and a number listed
twice must have the same weight both times.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import votingcontract
from votingcontract import identity, limits

DEFAULT_COUNTRY_CODE = "82"
MAX_ROLL_NUMBERS = limits.MAX_ROLL_ENTRIES_POLICY
PHONE_HEADERS = frozenset(
    {
        "phone",
        "phones",
        "phone number",
        "phone_number",
        "mobile",
        "mobile number",
        "cell",
        "tel",
        "telephone",
        "number",
        "e164",
        "전화",
        "전화번호",
        "휴대폰",
        "휴대폰번호",
        "휴대폰 번호",
        "휴대전화",
        "휴대전화번호",
        "핸드폰",
        "핸드폰번호",
        "연락처",
        "번호",
    }
)
"""Header cells (compared lower-case, trimmed) that name the phone column."""
WEIGHT_HEADERS = frozenset({"weight", "weights", "가중치", "의결권", "의결권수", "표수"})
"""Header cells that name the weight column of a weighted roll (docs/POLL_FILES.md)."""
_SEPARATORS = " -.()/\t"
KOREAN_MOBILE_PREFIX = "+8210"
KOREAN_MOBILE_LENGTH = len("+821012345678")


PhoneIdSource = Callable[[str, Sequence[str]], list[bytes]]
"""(org_id, E.164 numbers) -> their phone ids in order: the attester, asked with the
organisation's key (cli/roll_cmds.py)."""


class RollNumbersError(ValueError):
    """One or more rows are bad; the message lists every one."""

    def __init__(self, source: str, bad_rows: Sequence[tuple[str, str]]) -> None:
        lines = [f"  {where}: {reason}" for where, reason in bad_rows]
        noun = "entry is" if len(bad_rows) == 1 else "entries are"
        super().__init__(
            f"{source}: {len(bad_rows)} {noun} not a usable phone number; nothing was "
            "submitted:\n" + "\n".join(lines)
        )
        self.bad_rows = list(bad_rows)


@dataclass(frozen=True)
class RollNumbers:
    numbers: tuple[str, ...]
    """Normalised E.164, each once, in the order first seen."""
    duplicates: int
    """Entries dropped because an earlier entry was the same number."""
    weights: tuple[int, ...] | None = None
    """A weighted roll's weight of each number, in the same order; None: unweighted."""


def normalise_roll_number(text: str, country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """The E.164 form of one roll entry, or ValueError with a reason that names no digits."""
    compact = "".join(ch for ch in text.strip() if ch not in _SEPARATORS)
    if not compact:
        raise ValueError("empty")
    # A spreadsheet that stored 010-1234-5678 as a number shows 1012345678: the trunk 0
    # is gone. No international number is written that way, so it is read back as local.
    if country_code == "82" and compact.isdigit() and len(compact) == 10 and compact[:2] == "10":
        compact = "0" + compact
    digits = compact[1:] if compact.startswith("+") else compact
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(
            "holds characters other than digits (a number may have spaces, - . ( ) / and a "
            "leading +)"
        )
    if not compact.startswith(("+", "0")):
        raise ValueError(
            "is neither international (+ and the country code) nor local (a leading 0)"
        )
    try:
        e164 = votingcontract.normalise_e164(compact, country_code)
    except ValueError:
        raise ValueError(
            f"is not a phone number ({len(digits)} digits; E.164 numbers have "
            f"{identity.E164_MIN_DIGITS} to {identity.E164_MAX_DIGITS} with "
            "the country code, which never starts with 0)"
        ) from None
    if e164.startswith(KOREAN_MOBILE_PREFIX) and len(e164) != KOREAN_MOBILE_LENGTH:
        national = len(e164) - len("+82") + 1
        raise ValueError(
            f"a Korean mobile number (010-XXXX-XXXX) has 11 digits; this one has {national}"
        )
    return e164


def numbers_from_list(
    values: Any, country_code: str = DEFAULT_COUNTRY_CODE, what: str = "roll_phones"
) -> RollNumbers:
    """Typed numbers (the poll file's roll_phones, or --phone options)."""
    if not isinstance(values, list):
        raise ValueError(f"{what} must be a list of phone numbers in quotes")
    entries: list[tuple[str, str | None, str]] = []
    for index, value in enumerate(values):
        where = f"{what}[{index + 1}]"
        if not isinstance(value, str):
            entries.append((where, None, 'must be text in quotes, e.g. "010-1234-5678"'))
        else:
            entries.append((where, value, ""))
    return _checked(what, entries, country_code)


def read_roll_file(path: Path, country_code: str = DEFAULT_COUNTRY_CODE) -> RollNumbers:
    """The numbers of a .csv/.txt or .xlsx file."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        rows = _csv_rows(path)
    else:
        raise ValueError(
            f"{path}: a roll file is .csv or .xlsx (an older .xls: save it as .xlsx first)"
        )
    column, first = _phone_column(rows, path, country_code)
    weight_column = _weight_column(rows, first, path)
    entries: list[tuple[str, str | None, str]] = []
    weights: list[str | None] = []
    for number, row in rows[first:]:
        if not any(_text(cell) for cell in row):
            continue  # blank lines are not entries
        cell = row[column] if column < len(row) else None
        entries.append((f"row {number}", _text(cell), ""))
        if weight_column is not None:
            weights.append(_text(row[weight_column]) if weight_column < len(row) else None)
    return _checked(str(path), entries, country_code, None if weight_column is None else weights)


def _checked(
    source: str,
    entries: Iterable[tuple[str, str | None, str]],
    country_code: str,
    weight_cells: Sequence[str | None] | None = None,
) -> RollNumbers:
    """weight_cells: a weighted roll's weight cell of each entry, in the same order."""
    seen: dict[str, int | None] = {}
    first_seen: dict[str, str] = {}
    bad: list[tuple[str, str]] = []
    duplicates = 0
    for index, (where, value, problem) in enumerate(entries):
        if value is None:
            bad.append((where, problem or "empty"))
            continue
        try:
            e164 = normalise_roll_number(value, country_code)
            weight = None if weight_cells is None else _weight(weight_cells[index])
        except ValueError as exc:
            bad.append((where, str(exc)))
            continue
        if e164 in seen and seen[e164] != weight:
            bad.append(
                (
                    where,
                    f"the same number as {first_seen[e164]} with another weight "
                    f"({weight}; there {seen[e164]}): a voter has one weight",
                )
            )
        elif e164 in seen:
            duplicates += 1
        else:
            seen[e164] = weight
            first_seen[e164] = where
    if bad:
        raise RollNumbersError(source, bad)
    if not seen:
        raise ValueError(f"{source}: holds no phone numbers")
    if len(seen) > MAX_ROLL_NUMBERS:
        raise ValueError(
            f"{source}: {len(seen)} numbers; a poll's roll holds at most {MAX_ROLL_NUMBERS}"
        )
    weights = None if weight_cells is None else tuple(w for w in seen.values() if w is not None)
    return RollNumbers(tuple(seen), duplicates, weights)


def _weight(cell: str | None) -> int:
    """A weight cell: a whole number 1..MAX_WEIGHT (ValueError saying what is wrong)."""
    if cell is None:
        raise ValueError("has no weight (a weighted roll needs one on every row)")
    if not (cell.isascii() and cell.isdigit()) or not 1 <= int(cell) <= limits.MAX_WEIGHT:
        raise ValueError(f"weight {cell!r} is not a whole number from 1 to {limits.MAX_WEIGHT:,}")
    return int(cell)


Rows = list[tuple[int, list[Any]]]
"""(row number as a spreadsheet shows it, cells)."""


def _csv_rows(path: Path) -> Rows:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"{path}: not text in UTF-8 or CP949; save the CSV as UTF-8")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text), dialect), 1)]
    except csv.Error as exc:
        raise ValueError(f"{path}: not a CSV file: {exc}") from exc


def _xlsx_rows(path: Path) -> Rows:
    import openpyxl  # only for .xlsx files; the rest of the CLI starts without it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ValueError(f"{path}: not an .xlsx workbook ({type(exc).__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        return [(n, list(row)) for n, row in enumerate(sheet.iter_rows(values_only=True), 1)]
    finally:
        workbook.close()


def _phone_column(rows: Rows, path: Path, country_code: str) -> tuple[int, int]:
    """(column index, index into rows of the first data row)."""
    first = next((i for i, (_, row) in enumerate(rows) if any(_text(c) for c in row)), None)
    if first is None:
        raise ValueError(f"{path}: holds no phone numbers")
    header = [(_text(c) or "").strip().lower() for c in rows[first][1]]
    named = [i for i, cell in enumerate(header) if cell in PHONE_HEADERS]
    if len(named) == 1:
        return named[0], first + 1
    if len(named) > 1:
        raise ValueError(f"{path}: several columns are named like a phone column; keep one")
    is_header = not any(_is_number(cell, country_code) for cell in header) and any(
        any(ch.isalpha() for ch in cell) for cell in header
    )
    width = max(len(row) for _, row in rows)
    if width == 1:
        return 0, first + (1 if is_header else 0)
    if is_header:
        raise ValueError(
            f"{path}: the header row names no phone column; call it phone (or 전화번호)"
        )
    numeric = [i for i, cell in enumerate(header) if _is_number(cell, country_code)]
    if len(numeric) != 1:
        raise ValueError(
            f"{path}: cannot tell which column holds the phone numbers; add a header row "
            "naming it phone (or 전화번호)"
        )
    return numeric[0], first


def _weight_column(rows: Rows, first: int, path: Path) -> int | None:
    """The column headed weight (or 가중치, 의결권, ...), if the file has a header row."""
    header_at = next(i for i, (_, row) in enumerate(rows) if any(_text(c) for c in row))
    if header_at >= first:
        return None  # no header row: the file is a list of numbers alone
    header = [(_text(c) or "").strip().lower() for c in rows[header_at][1]]
    named = [i for i, cell in enumerate(header) if cell in WEIGHT_HEADERS]
    if len(named) > 1:
        raise ValueError(f"{path}: several columns are named like a weight column; keep one")
    return named[0] if named else None


def _is_number(text: str, country_code: str) -> bool:
    try:
        normalise_roll_number(text, country_code)
    except ValueError:
        return False
    return True


def _text(cell: Any) -> str | None:
    """A cell as text: Excel keeps 01012345678 typed into a number cell as 1012345678."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell).strip()
    return text or None
