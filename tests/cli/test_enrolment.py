"""The CLI's side of several attesters (cli/enrolment.py; issue 14, docs/adr/008): a start
goes to the next attester when one is down or cannot send, a finish goes to the attester
its session token names, and an unreachable holder gets a clear "start again".

A stand-in RpcClient answers by URL, so each rule is seen without processes; the real
flow is tests/cluster/test_attester_instances.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from chain.keys import PrivateKey
from cli import enrolment
from cli.client import RpcFailure
from cli.enrolment import AttesterTarget, finish_session, key_change_lines, start_session

KEY = PrivateKey.from_seed(b"k" * 32)
A1 = AttesterTarget("a1", "http://a1")
A2 = AttesterTarget("a2", "http://a2")
A3 = AttesterTarget("a3", "http://a3")


class StandIns:
    """What each attester URL answers: a document, or an RpcFailure to raise."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, str]] = []

    def client(self, url: str, timeout_s: float = 30.0) -> StandIns.Client:
        return StandIns.Client(self, url)

    class Client:
        def __init__(self, stand_ins: StandIns, url: str) -> None:
            self.stand_ins, self.url = stand_ins, url

        def post(self, path: str, document: dict[str, Any]) -> Any:
            self.stand_ins.asked.append((self.url, path))
            answer = self.stand_ins.answers[self.url]
            if isinstance(answer, RpcFailure):
                raise answer
            return answer


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> StandIns:
    stand_ins = StandIns({})
    monkeypatch.setattr(enrolment, "RpcClient", stand_ins.client)
    return stand_ins


def test_a_start_goes_to_the_next_attester_when_one_is_down_or_cannot_send(
    stand_ins: StandIns, capsys: pytest.CaptureFixture[str]
) -> None:
    stand_ins.answers = {
        "http://a1": RpcFailure("cannot reach http://a1: connection refused"),
        "http://a2": RpcFailure("the SMS gateway did not take it", "send_failed"),
        "http://a3": {"session": "a3.xyz", "sent": True},
    }
    session, target = start_session([A1, A2, A3], "+821012345678")
    assert (session, target) == ("a3.xyz", A3)
    assert [url for url, _ in stand_ins.asked] == ["http://a1", "http://a2", "http://a3"]
    err = capsys.readouterr().err
    assert "attester a1: cannot reach" in err and "trying the next attester" in err


@pytest.mark.parametrize("code", ["bad_phone", "country_not_allowed", "too_many_attempts"])
def test_a_start_refused_for_the_number_is_not_sent_to_the_next_attester(
    stand_ins: StandIns, code: str
) -> None:
    stand_ins.answers = {"http://a1": RpcFailure("no", code), "http://a2": {"session": "a2.x"}}
    with pytest.raises(RpcFailure) as refused:
        start_session([A1, A2], "+821012345678")
    assert refused.value.code == code and len(stand_ins.asked) == 1


def test_when_every_attester_fails_the_error_says_so(stand_ins: StandIns) -> None:
    stand_ins.answers = {"http://a1": RpcFailure("down"), "http://a2": RpcFailure("down too")}
    with pytest.raises(RpcFailure, match="none of the 2 attesters could send a code"):
        start_session([A1, A2], "+821012345678")


def test_a_finish_goes_to_the_attester_its_session_names(stand_ins: StandIns) -> None:
    stand_ins.answers = {"http://a1": {"wrong": True}, "http://a2": {"receipt": {}}}
    assert finish_session([A1, A2], "a2.token", "12345678", KEY) == {"receipt": {}}
    assert stand_ins.asked == [("http://a2", "/v1/enroll/finish")]


def test_a_finish_whose_attester_is_down_says_start_again(stand_ins: StandIns) -> None:
    stand_ins.answers = {"http://a2": RpcFailure("cannot reach http://a2: refused")}
    with pytest.raises(RpcFailure) as down:
        finish_session([A1, A2], "a2.token", "12345678", KEY)
    message = str(down.value)
    assert "attester a2, which started this session, cannot be reached" in message
    assert "start again with --phone" in message
    assert [url for url, _ in stand_ins.asked] == ["http://a2"], "no other attester knows it"


def test_a_finish_for_an_attester_the_file_does_not_list_is_refused_before_sending(
    stand_ins: StandIns,
) -> None:
    with pytest.raises(ValueError, match="started at attester a9, which the cluster file"):
        finish_session([A1, A2], "a9.token", "12345678", KEY)
    assert stand_ins.asked == []
    # an --attester URL is used for any session (its id is not known to the CLI)
    stand_ins.answers = {"http://given": {"ok": True}}
    given = AttesterTarget(None, "http://given")
    assert finish_session([given], "a9.token", "1", KEY) == {"ok": True}


def test_a_re_enrolment_says_when_the_old_key_is_revoked() -> None:
    assert key_change_lines({"voter_status": "active", "replaces_old_key": False}) == []
    [line] = key_change_lines(
        {
            "voter_status": "pending",
            "replaces_old_key": True,
            "old_key_revoked_at_ms": 1_800_000_000_000,
        }
    )
    assert "old key is revoked at 2027-01-15 08:00 UTC" in line
    assert "enroll cancel" in line and "key_pending" in line
