"""Weighted rolls from an office's list (issue 14): a roll file with a weight column
(weight, 가중치, 의결권, ...) gives each number its weight; the poll file's body then holds
the phone ids with their weights, extend_roll carries the weights of what did not fit,
and `poll extend-roll` asks for weights exactly when the poll is weighted."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import openpyxl
import pytest

from cli.poll_file import prepare_poll
from cli.roll_cmds import _check_weights
from cli.roll_numbers import RollNumbers, RollNumbersError, read_roll_file
from tests.cli.test_roll_numbers import NOW_MS, FakeAttester, poll_document, write_csv
from votingcontract import limits


def phone_id(number: str) -> bytes:
    return hashlib.sha256(number.encode()).digest()  # what FakeAttester answers


def test_a_weight_column_gives_each_number_its_weight(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "owners.csv",
        "이름,전화번호,의결권\n김민수,010-1111-2222,3\n이지은,010-3333-4444,1\n"
        "김민수,010 1111 2222,3\n",
    )
    roll = read_roll_file(path)
    assert roll == RollNumbers(("+821011112222", "+821033334444"), 1, (3, 1))


def test_every_bad_weight_is_listed_and_no_number_is_shown(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "owners.csv",
        "phone,weight\n010-1111-2222,3\n010-3333-4444,0\n010-5555-6666,\n"
        f"010-7777-8888,{limits.MAX_WEIGHT + 1}\n010-1111-2222,2\n010-9999-0000,two\n",
    )
    with pytest.raises(RollNumbersError) as refused:
        read_roll_file(path)
    rows = dict(refused.value.bad_rows)
    assert set(rows) == {"row 3", "row 4", "row 5", "row 6", "row 7"}
    assert "from 1 to 1,000,000" in rows["row 3"] and "has no weight" in rows["row 4"]
    assert "the same number as row 2 with another weight (2; there 3)" in rows["row 6"]
    message = str(refused.value)
    for digits in ("1111", "3333", "5555", "7777", "9999"):
        assert digits not in message


def test_an_xlsx_weight_column_of_number_cells(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["휴대폰", "가중치"])
    sheet.append([1011112222, 5.0])
    sheet.append(["010-3333-4444", 2])
    book.save(tmp_path / "owners.xlsx")
    assert read_roll_file(tmp_path / "owners.xlsx").weights == (5, 2)


def test_a_file_without_a_weight_column_is_unweighted(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "voters.csv", "phone,dong\n010-1111-2222,101\n")
    assert read_roll_file(path).weights is None


def test_a_weighted_roll_file_makes_a_weighted_poll_with_its_keys(tmp_path: Path) -> None:
    write_csv(tmp_path / "owners.csv", "phone,weight\n010-1111-2222,3\n010-3333-4444,1\n")
    proxy = "cd" * 32
    access = {"roll_file": "owners.csv", "roll_voter_keys": [proxy], "roll_weights": {proxy: 7}}
    prepared = prepare_poll(
        poll_document(access), NOW_MS, base_dir=tmp_path, phone_ids=FakeAttester()
    )
    roll = prepared.body.access
    assert roll.roll == (
        (phone_id("+821011112222"), phone_id("+821033334444")),
        (bytes.fromhex(proxy),),
    )
    assert roll.roll_weights == ((3, 1), (7,))
    assert prepared.extra_weights == {}


def test_weighted_numbers_need_a_weight_each(tmp_path: Path) -> None:
    write_csv(tmp_path / "owners.csv", "phone,weight\n010-1111-2222,3\n")
    attester = FakeAttester()
    both = {"roll_file": "owners.csv", "roll_phones": ["010-5555-6666"]}
    with pytest.raises(ValueError, match="roll_phones carry no weights"):
        prepare_poll(poll_document(both), NOW_MS, base_dir=tmp_path, phone_ids=attester)
    write_csv(tmp_path / "voters.csv", "phone\n010-1111-2222\n")
    unweighted = {"roll_file": "voters.csv", "roll_weights": {}}
    with pytest.raises(ValueError, match="needs a weight for every phone number"):
        prepare_poll(poll_document(unweighted), NOW_MS, base_dir=tmp_path, phone_ids=attester)
    assert attester.asked == []
    clash = {"roll_file": "owners.csv", "roll_phone_ids": [phone_id("+821011112222").hex()]}
    clash["roll_weights"] = {phone_id("+821011112222").hex(): 4}
    with pytest.raises(ValueError, match="also in roll_phone_ids with another weight"):
        prepare_poll(poll_document(clash), NOW_MS, base_dir=tmp_path, phone_ids=attester)


def test_a_large_weighted_roll_sends_the_rest_with_their_weights(tmp_path: Path) -> None:
    lines = [
        f"010-{i // 10_000:04d}-{i % 10_000:04d},{limits.MAX_WEIGHT - i}" for i in range(1, 1_501)
    ]
    write_csv(tmp_path / "owners.csv", "phone,weight\n" + "\n".join(lines) + "\n")
    prepared = prepare_poll(
        poll_document({"roll_file": "owners.csv"}, opens_in_minutes=10),
        NOW_MS,
        base_dir=tmp_path,
        phone_ids=FakeAttester(),
    )
    in_body = prepared.body.access.roll[0]
    weights = prepared.body.access.roll_weights[0]
    assert prepared.extra_weights is not None
    assert len(in_body) + len(prepared.extra_weights) == 1_500
    assert list(prepared.extra_weights) == prepared.extra_phone_ids
    expected = {
        phone_id(f"+8210{i // 10_000:04d}{i % 10_000:04d}"): limits.MAX_WEIGHT - i
        for i in range(1, 1_501)
    }
    assert dict(zip(in_body, weights, strict=True)) | prepared.extra_weights == expected
    assert len(prepared.body.encode()) < 64 * 1024 - 1024


def _args(**kwargs: object) -> argparse.Namespace:
    return argparse.Namespace(**{"weight": None, "file": None, **kwargs})


def test_extend_roll_asks_for_weights_exactly_when_the_poll_is_weighted() -> None:
    weighted_file = RollNumbers(("+821011112222",), 0, (3,))
    plain_file = RollNumbers(("+821011112222",), 0)
    _check_weights(_args(file=Path("f.csv")), True, weighted_file, named=False)
    _check_weights(_args(weight=2), True, plain_file, named=True)
    _check_weights(_args(), False, plain_file, named=True)
    with pytest.raises(ValueError, match="the roll file needs a weight column"):
        _check_weights(_args(file=Path("f.csv")), True, plain_file, named=False)
    with pytest.raises(ValueError, match="give --weight N"):
        _check_weights(_args(file=Path("f.csv")), True, weighted_file, named=True)
    with pytest.raises(ValueError, match="not weighted"):
        _check_weights(_args(file=Path("f.csv")), False, weighted_file, named=False)
    with pytest.raises(ValueError, match="not weighted"):
        _check_weights(_args(weight=2), False, plain_file, named=True)
    with pytest.raises(ValueError, match="--weight must be a whole number"):
        _check_weights(_args(weight=0), True, plain_file, named=True)
