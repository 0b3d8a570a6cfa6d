"""Voter rolls from the phone numbers an office has: typed, a CSV export or an Excel sheet
(issue 14). Numbers are normalised and de-duplicated; every bad row is reported by its
row number and reason, naming no digits, and nothing goes to the attester or the chain;
only phone ids reach the create_poll body, split over extend_roll when they do not fit."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import votingcontract
from cli.poll_file import prepare_poll
from cli.roll_numbers import (
    RollNumbersError,
    normalise_roll_number,
    numbers_from_list,
    read_roll_file,
)
from votingcontract import limits

NOW_MS = 1_800_000_000_000


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("010-1234-5678", "+821012345678"),
        ("010 1234 5678", "+821012345678"),
        ("01012345678", "+821012345678"),
        ("(010) 1234.5678", "+821012345678"),
        ("+82 10-1234-5678", "+821012345678"),
        ("0082 10 1234 5678", "+821012345678"),
        ("1012345678", "+821012345678"),  # a spreadsheet number cell dropped the 0
        ("  +14155550123 ", "+14155550123"),
        ("02-2133-0000", "+82221330000"),  # a landline: still a number, E.164-valid
    ],
)
def test_korean_local_and_international_forms_are_normalised(typed: str, e164: str) -> None:
    assert normalise_roll_number(typed) == e164


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("010-1234-567", "has 11 digits; this one has 10"),
        ("010-1234-56789", "has 11 digits; this one has 12"),
        ("010-1234-567O", "characters other than digits"),
        ("1234-5678", "neither international"),
        ("+0101234", "is not a phone number"),
        ("   ", "empty"),
    ],
)
def test_a_bad_number_gets_a_reason_that_names_no_digits(typed: str, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        normalise_roll_number(typed)
    assert reason in str(refused.value)
    assert "1234" not in str(refused.value) and "5678" not in str(refused.value)


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_a_csv_with_a_korean_header_and_other_columns_reads_the_phone_column(
    tmp_path: Path,
) -> None:
    csv = write_csv(
        tmp_path / "voters.csv",
        "이름,전화번호,동\n김민수,010-1111-2222,101\n이지은,010 3333 4444,102\n\n"
        "박서준,+82 10-1111-2222,103\n",
        "cp949",  # as Korean Excel saves a CSV
    )
    roll = read_roll_file(csv)
    assert roll.numbers == ("+821011112222", "+821033334444")
    assert roll.duplicates == 1


def test_a_one_column_csv_without_a_header_and_a_bom(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "v.csv", "\ufeff01011112222\r\n010-3333-4444\r\n", "utf-8")
    assert read_roll_file(csv).numbers == ("+821011112222", "+821033334444")


def test_a_semicolon_csv_without_a_header_finds_the_number_column(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "v.csv", "Kim;010-1111-2222\nLee;010-3333-4444\n")
    assert read_roll_file(csv).numbers == ("+821011112222", "+821033334444")


def test_every_bad_row_is_listed_by_row_number_and_no_number_is_shown(tmp_path: Path) -> None:
    csv = write_csv(
        tmp_path / "v.csv",
        "name,phone\nKim,010-1111-2222\nLee,010-3333-444\nPark,\nChoi,O10-5555-6666\n"
        "Jung,010-7777-8888\n",
    )
    with pytest.raises(RollNumbersError) as refused:
        read_roll_file(csv)
    assert [row for row, _ in refused.value.bad_rows] == ["row 3", "row 4", "row 5"]
    message = str(refused.value)
    assert "3 entries are not a usable phone number; nothing was submitted" in message
    assert "row 3: a Korean mobile number (010-XXXX-XXXX) has 11 digits; this one has 10" in (
        message
    )
    assert "row 4: empty" in message and "row 5: holds characters other" in message
    for digits in ("3333", "444", "5555", "6666", "1111", "7777"):
        assert digits not in message


def test_several_columns_without_a_phone_header_are_refused(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "v.csv", "name,note\nKim,010-1111-2222\n")
    with pytest.raises(ValueError, match="names no phone column"):
        read_roll_file(csv)
    csv = write_csv(tmp_path / "w.csv", "010-1111-2222,010-3333-4444\n")
    with pytest.raises(ValueError, match="cannot tell which column"):
        read_roll_file(csv)


def test_an_xlsx_first_sheet_with_number_cells_and_a_header(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["No.", "성명", "휴대폰"])
    sheet.append([1, "김민수", "010-1111-2222"])
    sheet.append([2, "이지은", 1033334444])  # typed into a number cell: the 0 is gone
    sheet.append([None, None, None])
    sheet.append([3, "박서준", 10555566.0])
    other = workbook.create_sheet("ignored")
    other.append(["phone"])
    other.append(["010-9999-9999"])
    path = tmp_path / "voters.xlsx"
    workbook.save(path)
    with pytest.raises(RollNumbersError) as refused:
        read_roll_file(path)
    assert refused.value.bad_rows == [
        ("row 5", "is neither international (+ and the country code) nor local (a leading 0)")
    ]
    sheet.delete_rows(5)
    workbook.save(path)
    assert read_roll_file(path).numbers == ("+821011112222", "+821033334444")


def test_other_files_and_empty_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
        read_roll_file(write_csv(tmp_path / "v.xls", "x"))
    with pytest.raises(ValueError, match=r"not an \.xlsx workbook"):
        read_roll_file(write_csv(tmp_path / "v.xlsx", "not a zip"))
    with pytest.raises(ValueError, match="holds no phone numbers"):
        read_roll_file(write_csv(tmp_path / "v.csv", "\n\n"))


def test_typed_numbers_name_the_entry_by_its_position() -> None:
    assert numbers_from_list(["010-1111-2222", "+821011112222"]).numbers == ("+821011112222",)
    with pytest.raises(RollNumbersError) as refused:
        numbers_from_list(["010-1111-2222", 1011112222, "x"], what="access.roll_phones")
    assert refused.value.bad_rows[0] == (
        "access.roll_phones[2]",
        'must be text in quotes, e.g. "010-1234-5678"',
    )
    assert refused.value.bad_rows[1][0] == "access.roll_phones[3]"


# --- the poll file: roll_phones / roll_file -----------------------------------------------


class FakeAttester:
    """Stands in for the attester: a phone id per number, and what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[str]]] = []

    def __call__(self, org_id: str, numbers: Sequence[str]) -> list[bytes]:
        self.asked.append((org_id, list(numbers)))
        return [hashlib.sha256(n.encode()).digest() for n in numbers]


def poll_document(access: dict[str, Any], opens_in_minutes: int = 0) -> dict[str, Any]:
    return {
        "kind": "policy",
        "org_id": "gangnam-office",
        "title": "Apartment repairs",
        "opens_in_minutes": opens_in_minutes,
        "duration_minutes": 60,
        "questions": [{"text": "Repaint?", "options": ["Yes", "No"]}],
        "access": access,
    }


def test_a_roll_from_a_file_and_typed_numbers_puts_only_phone_ids_in_the_body(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path / "voters.csv", "phone\n010-1111-2222\n010-3333-4444\n")
    attester = FakeAttester()
    known = "ab" * 32
    prepared = prepare_poll(
        poll_document(
            {
                "roll_file": "voters.csv",
                "roll_phones": ["+82 10 5555 6666", "010-1111-2222"],
                "roll_phone_ids": [known],
            }
        ),
        NOW_MS,
        base_dir=tmp_path,
        phone_ids=attester,
    )
    numbers = ["+821055556666", "+821011112222", "+821033334444"]
    assert attester.asked == [("gangnam-office", numbers)]
    roll = prepared.body.access.roll
    assert roll[0] == (
        bytes.fromhex(known),
        *(hashlib.sha256(n.encode()).digest() for n in numbers),
    )
    assert prepared.roll_numbers == 3 and prepared.duplicate_numbers == 1
    assert prepared.extra_phone_ids == []
    encoded = prepared.body.encode()
    for number in numbers:
        assert number.encode() not in encoded and number[3:].encode() not in encoded


def test_a_bad_row_or_a_bad_poll_sends_nothing_to_the_attester(tmp_path: Path) -> None:
    write_csv(tmp_path / "voters.csv", "phone\n010-1111-2222\n010-3333\n")
    attester = FakeAttester()
    with pytest.raises(RollNumbersError, match="row 3"):
        prepare_poll(
            poll_document({"roll_file": "voters.csv"}), NOW_MS, tmp_path, phone_ids=attester
        )
    bad_poll = poll_document({"roll_phones": ["010-1111-2222"]})
    bad_poll["questions"] = [{"text": "Only one option", "options": ["Yes"]}]
    with pytest.raises(ValueError):
        prepare_poll(bad_poll, NOW_MS, tmp_path, phone_ids=attester)
    assert attester.asked == []


def test_a_citizen_poll_cannot_take_phone_numbers() -> None:
    document = poll_document({"roll_phones": ["010-1111-2222"]})
    document.update(kind="citizen", org_id="")
    with pytest.raises(ValueError, match="registered organisations only"):
        prepare_poll(document, NOW_MS, phone_ids=FakeAttester())


def test_a_large_roll_fills_create_poll_and_the_rest_waits_for_extend_roll() -> None:
    numbers = [f"010-{i // 10_000:04d}-{i % 10_000:04d}" for i in range(1, 2_501)]
    prepared = prepare_poll(
        poll_document({"roll_phones": numbers}, opens_in_minutes=10),
        NOW_MS,
        phone_ids=FakeAttester(),
    )
    in_body = prepared.body.access.roll[0]
    assert len(in_body) == limits.MAX_LIST_KEYS
    assert len(in_body) + len(prepared.extra_phone_ids) == 2_500
    assert len(set(in_body) | set(prepared.extra_phone_ids)) == 2_500
    # the create_poll fits one transaction, with room for the envelope
    assert len(prepared.body.encode()) < 64 * 1024 - 1024


def test_a_large_roll_for_a_poll_that_opens_now_is_refused_before_the_attester() -> None:
    numbers = [f"010-0000-{i:04d}" for i in range(1, 1_201)]
    with pytest.raises(ValueError, match="at least 6 minutes from now") as refused:
        prepare_poll(poll_document({"roll_phones": numbers}), NOW_MS, phone_ids=FakeAttester())
    assert "needs 1 extend_roll" in str(refused.value)


def test_a_roll_of_numbers_cannot_be_built_without_the_attester() -> None:
    with pytest.raises(ValueError, match="need the attester"):
        prepare_poll(poll_document({"roll_phones": ["010-1111-2222"]}), NOW_MS)


def test_hex_phone_ids_still_work_alone() -> None:
    phone_id = votingcontract.phone_id(b"pepper", "+821011112222")
    prepared = prepare_poll(poll_document({"roll_phone_ids": [phone_id.hex()]}), NOW_MS)
    assert prepared.body.access.roll[0] == (phone_id,)


def test_a_weighted_roll_of_phone_numbers_is_refused_before_the_attester() -> None:
    attester = FakeAttester()
    document = poll_document(
        {"roll_phones": ["010-1111-2222"], "roll_phone_ids": ["ab" * 32], "roll_weights": {}}
    )
    with pytest.raises(ValueError, match="weighted roll"):
        prepare_poll(document, NOW_MS, phone_ids=attester)
    assert attester.asked == []
