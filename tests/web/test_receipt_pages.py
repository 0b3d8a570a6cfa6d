"""The server side of live results, the history page and the receipt check page, as a
browser receives them (webapp/receipt_pages.py); their scripts are driven in Chromium by
test_flow_results.py and test_flow_receipt.py.

One real in-process node (one validator) with test_pages.py's chain: a live policy poll
(votes 1, 1, 0), a poll whose results come after close, and a participatory budget.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

import votingcontract
from tests.web.test_pages import Chain, fresh_key, page, text_of
from tests.web.web_node import WebNode


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    live = WebNode(tmp_path_factory.mktemp("web-node-receipts"))
    live.start()
    try:
        yield Chain(live)
    finally:
        live.stop()


def live_json(chain: Chain, poll_id: str, language: str) -> dict[str, Any]:
    reply = page(chain, f"/p/{poll_id}/live.json", language)
    assert reply.status == 200, reply.body
    assert reply.content_type.startswith("application/json")
    document: dict[str, Any] = reply.json()
    return document


def script_texts(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="texts">(.*?)</script>', html, re.S)
    assert found, "the page has no texts block for its script"
    texts: dict[str, Any] = json.loads(found.group(1))
    return texts


# --- live results -------------------------------------------------------------------


def test_live_results_are_worded_as_the_page_words_them_in_each_language(chain: Chain) -> None:
    for language, words in (
        ("ko", ("1표 (33.33%)", "2표 (66.67%)", "참여자 3명")),
        ("en", ("1 vote (33.33%)", "2 votes (66.67%)", "3 participants")),
    ):
        live = live_json(chain, chain.live_poll, language)
        tallies = [o["tally"] for o in live["questions"][0]["options"]]
        assert tallies == [words[0], words[1]]
        assert [o["pct"] for o in live["questions"][0]["options"]] == [33, 67]
        assert live["participants"] == words[2]
        assert live["people"] == ("3명" if language == "ko" else "3 people")
        assert live["live"] is True and live["visible"] is True
        # Word for word what the page itself shows (and a reload would).
        text = text_of(page(chain, f"/p/{chain.live_poll}", language))
        for shown in (*tallies, live["participants"]):
            assert shown in text
    assert "Updated at" in live["updated"] and "Seoul time" in live["updated"]


def test_live_results_follow_a_new_ballot(chain: Chain) -> None:
    poll = chain.create_poll(
        chain.org_key,
        kind="policy",
        org_id="seoul-city",
        title="Bus stop benches",
        purpose="",
        reference_url="",
        visibility="live",
        questions=chain_questions(),
    )
    before = live_json(chain, poll, "en")
    assert [o["tally"] for o in before["questions"][0]["options"]] == [
        "0 votes (0.00%)",
        "0 votes (0.00%)",
    ]
    assert before["participants"] == ""
    voter = fresh_key()
    chain.commit(chain.live.enroll_tx(voter, "+821055529999"))
    chain.vote(voter, poll, ((1,),))
    after = live_json(chain, poll, "en")
    assert [o["tally"] for o in after["questions"][0]["options"]] == [
        "0 votes (0.00%)",
        "1 vote (100.00%)",
    ]
    assert after["participants"] == "1 participant"
    assert after["announce"] == "Results updated: 1 participant."


def chain_questions() -> Any:
    return (
        votingcontract.Question(
            "Where", (votingcontract.Option("Here"), votingcontract.Option("There"))
        ),
    )


def test_a_budgets_live_results_carry_the_funded_set_and_its_total(chain: Chain) -> None:
    live = live_json(chain, chain.budget_poll, "en")
    question = live["questions"][0]
    assert [o["funded"] for o in question["options"]] == [True, False, True]
    assert question["funded_total"] == "Funded: 2 projects, costing 5,000 of 10,000."
    assert live["funded_label"] == "Funded"
    ko = live_json(chain, chain.budget_poll, "ko")
    assert ko["questions"][0]["funded_total"] in text_of(
        page(chain, f"/p/{chain.budget_poll}", "ko")
    )


def test_hidden_results_give_no_count_live(chain: Chain) -> None:
    live = live_json(chain, chain.hidden_poll, "en")
    assert live["visible"] is False and live["live"] is False
    assert live["questions"] == [] and live["participants"] == ""


def test_live_results_of_no_poll_are_404(chain: Chain) -> None:
    assert page(chain, "/p/abc/live.json").status == 404  # a short link is not enough
    assert page(chain, "/p/" + "0" * 64 + "/live.json").status == 404
    assert page(chain, "/p/" + "z" * 64 + "/live.json").status == 404


def test_only_a_live_polls_page_loads_the_live_script(chain: Chain) -> None:
    html = page(chain, f"/p/{chain.live_poll}").body.decode()
    assert f'data-live="/p/{chain.live_poll}/live.json"' in html
    assert 'src="/static/js/live.js"' in html
    hidden = page(chain, f"/p/{chain.hidden_poll}").body.decode()
    assert "data-live" not in hidden and "live.js" not in hidden


# --- the receipt check page ---------------------------------------------------------


def test_a_receipt_page_says_where_the_ballot_is_without_javascript(chain: Chain) -> None:
    voter = fresh_key()
    chain.commit(chain.live.enroll_tx(voter, "+821055528888"))
    body = votingcontract.CastBallot(poll_id=bytes.fromhex(chain.live_poll), selections=((0,),))
    committed = chain.send(voter, body)
    tx_id, height = committed["tx"]["tx_id"], committed["height"]
    reply = page(chain, f"/r/{tx_id.upper()}", "en")
    assert reply.status == 200
    text = text_of(reply)
    assert tx_id in text
    assert f"On this node Block {height}," in text
    assert "Outcome Accepted: it is recorded on the chain." in text
    html = reply.body.decode()
    assert f'href="/p/{chain.live_poll[:12]}"' in html
    genesis_hash = chain.live.get("/v1/genesis").json()["genesis_hash"]
    assert genesis_hash in text  # shown for the reader to compare with the published one
    assert "What it does not prove" in text
    assert "needs JavaScript" in text  # the noscript note
    texts = script_texts(html)
    assert texts["fail_inclusion"].startswith("The Merkle proof does not lead")
    assert "%(height)s" in texts["fail_inclusion"]  # left for the script to fill
    ko = script_texts(page(chain, f"/r/{tx_id}", "ko").body.decode())
    assert ko["name_commit"] == "확정 인증서"


def test_a_receipt_link_that_is_no_tx_id_is_a_404_page_and_an_unknown_one_says_so(
    chain: Chain,
) -> None:
    reply = page(chain, "/r/12345", "en")
    assert reply.status == 404
    assert "64 characters 0-9 and a-f" in text_of(reply)
    reply = page(chain, "/r/" + "0" * 64, "ko")
    assert reply.status == 200
    assert "이 노드에는 이 ID로 확정된 거래가 없습니다." in text_of(reply)
    reply = page(chain, "/r", "en")
    assert reply.status == 200
    assert "Check a receipt file" in text_of(reply)


# --- my votes -----------------------------------------------------------------------


def test_the_history_page_is_in_the_nav_and_tells_how_to_get_a_key(chain: Chain) -> None:
    reply = page(chain, "/me", "en")
    assert reply.status == 200
    html = reply.body.decode()
    assert f'data-chain-id="{chain.live.cluster.chain_id}"' in html
    assert 'href="/enroll"' in html
    assert '<a href="/me" aria-current="page">My votes</a>' in html
    assert 'src="/static/js/history.js"' in html
    assert script_texts(html)["check"] == "Check the receipt"
    assert "나의 투표" in text_of(page(chain, "/", "ko"))
