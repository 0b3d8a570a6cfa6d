"""The CLI without traps (issue 14), rules that need no cluster: answers in the numbers
people type, one wording for every id error, tables that line up with Korean text,
--json failures, a closed pipe, and where the cluster file is found."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from cli import common
from cli.ballot import parse_answers, read_location, read_qr_seed, read_ticket
from cli.client import RpcFailure
from cli.errors import CliError
from cli.ids import fetch_poll, resolve_poll_id, resolve_tx_id
from cli.main import main
from cli.output import display_width, print_table
from cli.voter_keys import explain_key_refusal
from node.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def poll(*questions: dict[str, Any]) -> dict[str, Any]:
    return {"poll_id": "ab" * 32, "questions": list(questions)}


def question(options: int, low: int = 1, high: int = 1, cap: int | None = None) -> dict[str, Any]:
    return {
        "text": "q",
        "options": [{"text": f"o{i}", "cost": 40} for i in range(options)],
        "min_selections": low,
        "max_selections": high,
        "budget_cap": cap,
    }


# --- answers ---------------------------------------------------------------------------


def test_answers_are_numbered_from_one_and_sent_from_zero() -> None:
    two = poll(question(3), question(4, 1, 2))
    assert parse_answers(["1:3", "2:4,1"], two) == [[2], [0, 3]]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            ["3:1"],
            "--answer '3:1': there is no question 3; this poll has 2 questions (Q1 "
            "options 1..3, Q2 options 1..4)",
        ),
        (["0:1"], "there is no question 0"),
        (["1:4", "2:1"], "--answer '1:4': question 1 has no option 4; its options are 1..3"),
        (["1:0", "2:1"], "question 1 has no option 0; its options are 1..3"),
        (["1:1", "2:1,2,3"], "question 2 takes 1 to 2 options of 1..4; you chose 3"),
        (["1:1"], "question 2 takes 1 to 2 options of 1..4; you chose 0"),
        (["1:1", "1:2"], "question 1 is answered twice (--answer '1:1' and --answer '1:2')"),
        (["1-2"], "--answer '1-2' is not Q:OPT[,OPT] (question number, a colon, option numbers"),
        (["1:"], "--answer '1:' is not Q:OPT[,OPT]"),
        (["a:1"], "--answer 'a:1' is not Q:OPT[,OPT]"),
        (
            [],
            "no --answer given: give one per question as --answer Q:OPT[,OPT], e.g. --answer "
            "1:2 (question 1, option 2)",
        ),
    ],
)
def test_a_wrong_answer_names_the_numbers_typed_and_the_valid_range(
    answers: list[str], message: str
) -> None:
    with pytest.raises(CliError) as refused:
        parse_answers(answers, poll(question(3), question(4, 1, 2)))
    assert message in str(refused.value)


def test_a_budget_question_over_its_cap_is_refused_before_signing() -> None:
    budget = poll(question(3, 0, 3, cap=100))
    assert parse_answers(["1:1,2"], budget) == [[0, 1]]
    with pytest.raises(
        CliError, match="question 1: the chosen projects cost 120, over the budget of 100"
    ):
        parse_answers(["1:1,2,3"], budget)


def test_no_answer_is_a_blank_ballot_only_where_every_question_allows_none() -> None:
    assert parse_answers([], poll(question(2, 0, 1))) == [[]]


def test_lat_and_lon_come_together_and_in_range() -> None:
    assert read_location(None, None) is None
    assert read_location(37.5665, 126.978) == {"lat_micro": 37566500, "lon_micro": 126978000}
    for lat, lon in [(37.5, None), (None, 126.9)]:
        with pytest.raises(CliError, match="give --lat and --lon together"):
            read_location(lat, lon)
    with pytest.raises(CliError, match=r"latitude is -90\.\.90"):
        read_location(91.0, 0.0)


def test_a_bad_ticket_or_qr_seed_is_not_a_python_error() -> None:
    with pytest.raises(CliError) as refused:
        read_ticket("zz-not-hex")
    assert str(refused.value).startswith("not a ticket: expected 64 hex characters")
    assert "fromhex" not in str(refused.value)
    with pytest.raises(CliError, match=r"^not a QR seed: expected 64 hex characters"):
        read_qr_seed("ab" * 31)
    assert read_ticket("AB" * 32).seed() == bytes.fromhex("ab" * 32)


# --- ids -------------------------------------------------------------------------------


class FakeNode:
    """GET answers of a node holding `poll_ids` and `tx_ids` (GET /v1/polls filters by
    `prefix` and pages by `from` and `limit`, as the node does)."""

    def __init__(self, poll_ids: list[str], tx_ids: list[str] = ()) -> None:  # type: ignore[assignment]
        self.poll_ids, self.tx_ids = poll_ids, list(tx_ids)
        self.base_url = "http://fake"

    def get(self, path: str) -> Any:
        if path.startswith("/v1/polls?"):
            query = urllib.parse.parse_qs(path.partition("?")[2])
            matching = [p for p in self.poll_ids if p.startswith(query.get("prefix", [""])[0])]
            start = int(query.get("from", ["0"])[0])
            stop = min(start + int(query.get("limit", ["20"])[0]), len(matching))
            return {
                "polls": [{"poll_id": p} for p in matching[start:stop]],
                "next_from": stop if stop < len(matching) else None,
            }
        if path.startswith("/v1/txs?prefix="):
            prefix = path.split("=")[1]
            return {"tx_ids": [t for t in self.tx_ids if t.startswith(prefix)]}
        if path.startswith("/v1/polls/"):
            poll_id = path.split("/")[3]
            if poll_id in self.poll_ids:
                return {"poll_id": poll_id}
            raise RpcFailure(f"no poll {poll_id}", "not_found")
        raise AssertionError(path)


POLLS = [
    "ab12" + "0" * 60,
    "ab34" + "1" * 60,
    "cd56" + "2" * 60,
    "ef78" + "3" * 60,
    "ef79" + "4" * 60,
]


def test_any_unique_prefix_names_its_poll() -> None:
    node: Any = FakeNode(POLLS)
    assert resolve_poll_id(node, "ef79") == POLLS[4]
    assert resolve_poll_id(node, " AB1 ") == POLLS[0]
    assert fetch_poll(node, "cd")["poll_id"] == POLLS[2]


@pytest.mark.parametrize(
    ("typed", "code", "problem"),
    [
        ("ab", "ambiguous_id", "matches 2 (ab12000000000000, ab34111111111111): type more of it"),
        ("99", "unknown_id", "matches no poll"),
        ("9" * 64, "unknown_id", "matches no poll"),
        ("xyz", "bad_id", "is not hex (0-9, a-f)"),
        ("", "bad_id", "is not hex (0-9, a-f)"),
        ("a" * 65, "bad_id", "is not hex (0-9, a-f)"),
    ],
)
def test_every_poll_id_error_has_one_wording(typed: str, code: str, problem: str) -> None:
    node: Any = FakeNode(POLLS)
    with pytest.raises(CliError) as refused:
        fetch_poll(node, typed)
    assert refused.value.code == code
    assert str(refused.value) == (
        f"poll id {typed!r} {problem}; a poll id is 64 hex characters or a unique prefix of "
        "one (`votechain poll list` shows them)"
    )


def test_tx_ids_resolve_the_same_way() -> None:
    node: Any = FakeNode([], ["aa" * 32, "ab" * 32])
    assert resolve_tx_id(node, "aaa") == "aa" * 32
    with pytest.raises(CliError) as refused:
        resolve_tx_id(node, "a")
    assert refused.value.code == "ambiguous_id"
    assert str(refused.value).startswith("tx id 'a' matches 2 (")
    with pytest.raises(CliError, match=r"^tx id .c. matches no committed transaction; a tx id"):
        resolve_tx_id(node, "c")


# --- tables ----------------------------------------------------------------------------


def test_tables_line_up_with_korean_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert display_width("따릉이") == 6 and display_width("bike") == 4
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    print_table(
        ["poll", "title", "votes"],
        [["ab12", "따릉이 자전거 대여", 3], ["cd34", "Bike sharing", 12]],
    )
    lines = capsys.readouterr().out.splitlines()
    columns = {
        display_width(line[: line.rindex(value)])
        for line, value in zip(lines, ["votes", "-----", "3", "12"], strict=True)
    }
    assert len(columns) == 1, lines


# --- --json failures, usage, broken pipes ----------------------------------------------


def test_a_json_failure_is_an_error_object_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["vote", "ab12", "--key", "k.pem", "--lat", "37.5", "--json"])
    out, err = capsys.readouterr()
    assert status == 1 and err == ""
    assert json.loads(out) == {
        "error": "bad_input",
        "message": "give --lat and --lon together: your position in decimal degrees, e.g. "
        "--lat 37.5665 --lon 126.9780",
    }
    status = main(["poll", "show", "--json"])
    out, err = capsys.readouterr()
    assert status == 2 and json.loads(out)["error"] == "usage"
    assert "the following arguments are required: poll_id" in json.loads(out)["message"]


def test_without_json_a_failure_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["vote", "ab12", "--key", "k.pem", "--ticket", "12"])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert err.startswith("error: not a ticket: expected 64 hex characters")


def test_a_reader_that_goes_away_does_not_turn_success_into_failure(tmp_path: Path) -> None:
    """The reader of stdout is gone before the command prints (as `| head -c1` that has
    read enough): the command still exits 0, with nothing on stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "keygen", str(tmp_path / "k.pem"), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    status = process.wait(timeout=60)
    assert (status, process.stderr.read()) == (0, b"")
    assert (tmp_path / "k.pem").exists()


# --- the cluster file ------------------------------------------------------------------


def test_the_cluster_file_is_c_then_the_environment_then_the_nearest_above(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cluster.toml").write_text("")
    deeper = tmp_path / "a" / "b"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    monkeypatch.delenv(common.CONFIG_ENV, raising=False)
    none = argparse.Namespace(config=None)
    assert common.config_path(none) == tmp_path / "cluster.toml"
    monkeypatch.setenv(common.CONFIG_ENV, "/elsewhere/prod.toml")
    assert common.config_path(none) == Path("/elsewhere/prod.toml")
    given = argparse.Namespace(config=Path("mine.toml"))
    assert common.config_path(given) == Path("mine.toml")


def test_no_cluster_file_anywhere_says_what_to_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(common.CONFIG_ENV, raising=False)
    if common.find_config(tmp_path) is not None:
        pytest.skip("a cluster.toml above the temporary folder")
    with pytest.raises(
        ConfigError, match=r"no cluster\.toml in .* give -c FILE, set VOTECHAIN_CONFIG"
    ):
        common.config_path(argparse.Namespace(config=None))


# --- a key that cannot vote --------------------------------------------------------------


class KeyNode:
    def __init__(self, status: dict[str, Any] | None) -> None:
        self.status = status

    def get(self, path: str) -> Any:
        if self.status is None:
            raise RpcFailure("this key is not an enrolled voter's key", "not_found")
        return self.status


def test_a_refused_key_is_told_the_real_cause() -> None:
    from chain.keys import PrivateKey

    key = PrivateKey.generate()
    refused = RpcFailure("would refuse it (key_revoked): ...", "refused", "key_revoked")
    replaced: Any = KeyNode({"status": "revoked"})
    told = explain_key_refusal(replaced, key, refused)
    assert (told.code, told.reason) == ("refused", "key_revoked")
    assert str(told).startswith(
        "key_revoked: this key was replaced by a newer enrolment of its phone (or its own "
    )
    pending: Any = KeyNode({"status": "pending", "effective_at_ms": 1_780_000_000_000})
    assert "key_pending: this key replaces its phone's earlier key at 2026-05-28" in str(
        explain_key_refusal(pending, key, RpcFailure("x", "refused", "key_pending"))
    )
    history = RpcFailure("not an enrolled voter's active key", "not_permitted")
    unknown: Any = KeyNode(None)
    assert str(explain_key_refusal(unknown, key, history)).startswith(
        "not_enrolled: this key was never enrolled"
    )
    other = RpcFailure("no poll", "refused", "closed")
    assert explain_key_refusal(replaced, key, other) is other
