"""The web app's pages as a citizen's browser receives them, without running JavaScript.

One real node (one validator) serves the module with the web app wired in, as
`votechain node` wires it. On its chain: Seoul's city hall runs a live policy poll
(three voters), a citizen runs a poll whose results come after close, and a district
runs a participatory budget. The tests read the HTML the node answers.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import votingcontract
from chain.keys import PrivateKey
from tests.node.live_node import Reply
from tests.web.web_node import WebNode
from webapp.security import CONTENT_SECURITY_POLICY

HOUR_MS = 3_600_000


def fresh_key() -> PrivateKey:
    return PrivateKey.from_seed(secrets.token_bytes(32))


def now_ms() -> int:
    return int(time.time() * 1000)


class Chain:
    """The module's polls and ballots."""

    def __init__(self, live: WebNode) -> None:
        self.live = live
        self.voters = [fresh_key() for _ in range(3)]
        for i, voter in enumerate(self.voters):
            self.commit(live.enroll_tx(voter, f"+8210555200{i:02d}"))
        self.org_key = fresh_key()
        self.send(
            live.cluster.key("admin"),
            votingcontract.RegisterOrg(
                "seoul-city",
                "Seoul Metropolitan Government",
                "city_department",
                (self.org_key.public_key,),
            ),
        )
        self.live_poll = self.create_poll(
            self.org_key,
            kind="policy",
            org_id="seoul-city",
            title="Which park opens first?",
            purpose="The city opens one park this year.",
            reference_url="https://seoul.example/parks",
            visibility="live",
            questions=(
                votingcontract.Question(
                    "Park",
                    (votingcontract.Option("North park"), votingcontract.Option("South park")),
                ),
            ),
        )
        for voter, option in zip(self.voters, (1, 1, 0), strict=True):
            self.vote(voter, self.live_poll, ((option,),))
        self.hidden_poll = self.create_poll(
            self.voters[0],
            kind="citizen",
            org_id="",
            title="Night bus route",
            purpose="",
            reference_url="javascript:alert(1)",
            visibility="after_close",
            questions=(
                votingcontract.Question(
                    "Route", (votingcontract.Option("A"), votingcontract.Option("B"))
                ),
            ),
        )
        self.vote(self.voters[1], self.hidden_poll, ((0,),))
        self.budget_poll = self.create_poll(
            self.org_key,
            kind="policy",
            org_id="seoul-city",
            title="Jongno budget 2027",
            purpose="",
            reference_url="",
            visibility="live",
            questions=(
                votingcontract.Question(
                    "Projects",
                    (
                        votingcontract.Option("Benches", 3_000),
                        votingcontract.Option("Library", 8_000),
                        votingcontract.Option("Lights", 2_000),
                    ),
                    min_selections=1,
                    max_selections=3,
                    budget_cap=10_000,
                ),
            ),
        )
        self.vote(self.voters[0], self.budget_poll, ((1, 2),))
        self.vote(self.voters[1], self.budget_poll, ((0, 2),))

    def commit(self, tx: bytes) -> dict[str, Any]:
        return self.live.commit(tx)

    def send(self, key: PrivateKey, body: Any) -> dict[str, Any]:
        return self.live.send(key, body)

    def create_poll(self, creator: PrivateKey, **fields: Any) -> str:
        start = now_ms()
        body = votingcontract.CreatePoll(
            opens_at_ms=start - 1_000,
            closes_at_ms=start + HOUR_MS,
            revote=False,
            access=votingcontract.Access(),
            **fields,
        )
        tx_id: str = self.send(creator, body)["tx"]["tx_id"]
        return tx_id

    def vote(self, voter: PrivateKey, poll_id: str, selections: Any) -> None:
        body = votingcontract.CastBallot(poll_id=bytes.fromhex(poll_id), selections=selections)
        self.send(voter, body)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    live = WebNode(tmp_path_factory.mktemp("web-node"))
    live.start()
    try:
        yield Chain(live)
    finally:
        live.stop()


def page(chain: Chain, path: str, language: str = "ko", **headers: str) -> Reply:
    reply = chain.live.request(
        "GET", path, headers={"Accept-Language": language, **headers}, content_type=""
    )
    return reply


def text_of(reply: Reply) -> str:
    """The page's visible text, tags dropped and spaces squeezed: what a reader sees."""
    html = reply.body.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the poll list ------------------------------------------------------------------


def test_the_list_shows_every_poll_with_organiser_participants_access_and_short_link(
    chain: Chain,
) -> None:
    reply = page(chain, "/", "en")
    assert reply.status == 200
    assert reply.content_type.startswith("text/html")
    text = text_of(reply)
    for title in ("Which park opens first?", "Night bus route", "Jongno budget 2027"):
        assert title in text
    assert "Seoul Metropolitan Government" in text
    assert "A citizen (citizen poll)" in text
    assert "3 people" in text  # the live poll's participants
    assert "shown with the results after closing" in text  # the hidden poll's
    assert "Anyone with a verified phone" in text
    html = reply.body.decode()
    assert f'href="/p/{chain.live_poll[:12]}"' in html


def test_the_list_is_searched_by_title_and_filtered_by_organisation_and_kind(
    chain: Chain,
) -> None:
    text = text_of(page(chain, "/?q=PARK", "en"))
    assert "Which park opens first?" in text
    assert "Night bus route" not in text
    text = text_of(page(chain, "/?org=seoul-city", "en"))
    assert "Jongno budget 2027" in text and "Night bus route" not in text
    text = text_of(page(chain, "/?kind=citizen", "en"))
    assert "Night bus route" in text and "Jongno budget 2027" not in text


def test_a_filter_the_page_does_not_offer_is_refused_in_the_readers_language(
    chain: Chain,
) -> None:
    reply = page(chain, "/?status=maybe", "ko")
    assert reply.status == 400
    assert "상태는 목록에서 고르세요" in text_of(reply)
    reply = page(chain, "/?from=-1", "en")
    assert reply.status == 400
    assert "The page position is not a whole number." in text_of(reply)


# --- a poll's page ------------------------------------------------------------------


def test_a_poll_page_shows_bars_with_count_and_percentage_in_korean(chain: Chain) -> None:
    reply = page(chain, f"/p/{chain.live_poll}", "ko")
    assert reply.status == 200
    text = text_of(reply)
    assert "Which park opens first?" in text
    assert "The city opens one park this year." in text
    assert "North park" in text and "South park" in text
    assert "1표 (33.33%)" in text
    assert "2표 (66.67%)" in text
    assert "참여자 3명" in text
    html = reply.body.decode()
    # The bars: a CSS width class per option, rounded share (no inline style: the CSP).
    assert html.count('class="fill pct-33"') == 1 and html.count('class="fill pct-67"') == 1
    assert 'href="https://seoul.example/parks"' in html


def test_a_poll_page_says_votes_in_english_singular_and_plural(chain: Chain) -> None:
    text = text_of(page(chain, f"/p/{chain.live_poll}", "en"))
    assert "1 vote (33.33%)" in text
    assert "2 votes (66.67%)" in text
    assert "3 participants" in text


def test_a_short_link_is_any_unique_prefix_of_the_poll_id(chain: Chain) -> None:
    for length in (12, 6):
        reply = page(chain, f"/p/{chain.live_poll[:length].upper()}", "en")
        assert reply.status == 200
        assert "Which park opens first?" in text_of(reply)


def test_an_unknown_poll_and_an_unknown_page_are_404_pages_in_the_readers_language(
    chain: Chain,
) -> None:
    unknown = "0" * 64 if not chain.live_poll.startswith("0") else "f" * 64
    reply = page(chain, f"/p/{unknown}", "ko")
    assert reply.status == 404
    assert reply.content_type.startswith("text/html")
    assert "이 아이디의 투표가 없습니다." in text_of(reply)
    reply = page(chain, "/p/not-hex", "en")
    assert reply.status == 404
    assert "0-9 and a-f" in text_of(reply)
    reply = page(chain, "/no/such/page", "en")
    assert reply.status == 404
    assert "Nothing is here" in text_of(reply)
    # The RPC keeps its JSON errors.
    reply = page(chain, "/v1/no/such/endpoint", "en")
    assert reply.status == 404 and reply.json()["error"] == "not_found"


def test_hidden_results_are_not_shown_and_the_page_says_when_they_will_be(chain: Chain) -> None:
    reply = page(chain, f"/p/{chain.hidden_poll}", "en")
    text = text_of(reply)
    assert "Results are hidden until the poll closes. They will show here from" in text
    assert "vote (" not in text and "votes (" not in text
    assert 'class="fill' not in reply.body.decode()
    assert "participant" not in text.replace("Participants", "")
    # A reference that is no web address is shown as text, never as a link.
    assert 'href="javascript:' not in reply.body.decode()


def test_a_participatory_budget_shows_costs_and_the_funded_set(chain: Chain) -> None:
    text = text_of(page(chain, f"/p/{chain.budget_poll}", "en"))
    # Lights (2 votes, 2,000) is funded first; Benches and Library tie at 1 vote and the
    # lower index goes first: Benches (3,000) fits, Library (8,000) no longer does.
    assert "Library cost 8,000 1 vote (25.00%)" in text
    assert "Benches cost 3,000 Funded 1 vote (25.00%)" in text
    assert "Funded: 2 projects, costing 5,000 of 10,000." in text
    assert "2 votes (50.00%)" in text
    assert text.count("Funded") == 3  # two badges and the total line
    text_ko = text_of(page(chain, f"/p/{chain.budget_poll}", "ko"))
    assert "선정: 사업 2개, 예산 10,000 중 5,000" in text_ko


# --- statistics ---------------------------------------------------------------------


def test_the_statistics_page_gives_the_chains_counters_and_says_what_is_missing(
    chain: Chain,
) -> None:
    text = text_of(page(chain, "/stats", "en"))
    stats = chain.live.get("/v1/stats").json()
    assert f"Ballots cast (changed votes included) {stats['ballots']}" in text
    assert f"Enrolled voters {stats['voters']}" in text
    assert "Seoul Metropolitan Government 2" in text
    assert "by organisation and by month are not kept by the chain yet" in text


# --- language -----------------------------------------------------------------------


def test_the_language_follows_the_browser_then_the_switch_which_is_remembered(
    chain: Chain,
) -> None:
    reply = page(chain, "/", "en-US,en;q=0.9")
    assert '<html lang="en">' in reply.body.decode()
    reply = page(chain, "/", "ko-KR,ko;q=0.9,en;q=0.5")
    assert '<html lang="ko">' in reply.body.decode()
    reply = page(chain, "/", "fr")  # not offered: the city's own language
    assert '<html lang="ko">' in reply.body.decode()
    # The switch: a link on every page, and a cookie that keeps the choice.
    assert 'href="/?lang=en"' in reply.body.decode()
    switched = page(chain, "/?lang=en", "ko")
    assert '<html lang="en">' in switched.body.decode()
    remembered = page(chain, "/stats", "ko", Cookie="lang=en")
    assert '<html lang="en">' in remembered.body.decode()


def test_the_switch_sets_the_lang_cookie(chain: Chain) -> None:
    import http.client

    address = chain.live.address
    connection = http.client.HTTPConnection(address.host, address.rpc_port, 30)
    try:
        connection.request("GET", "/?lang=en")
        response = connection.getresponse()
        response.read()
        cookie = response.getheader("Set-Cookie", "")
    finally:
        connection.close()
    assert cookie.startswith("lang=en;")
    assert "SameSite=Lax" in cookie


# --- headers and what the pages may load ---------------------------------------------


def test_pages_carry_a_strict_content_security_policy_and_the_usual_headers(
    chain: Chain,
) -> None:
    for path in ("/", f"/p/{chain.live_poll}", "/stats", "/no/such/page"):
        reply = chain.live.request("GET", path)
        assert reply.status in (200, 404)
        headers = _headers(chain, path)
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-cache"
    static = _headers(chain, "/static/app.css")
    # Revalidated each time (the ES modules' URLs carry no hash): cheap, as a 304.
    assert static["Cache-Control"] == "no-cache"
    assert "etag" in {name.lower() for name in static}
    assert static["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_no_page_has_an_inline_script_or_style(chain: Chain) -> None:
    for path in ("/", f"/p/{chain.live_poll}", f"/p/{chain.budget_poll}", "/stats", "/x"):
        html = page(chain, path, "en").body.decode()
        assert "<script>" not in html and "<style" not in html
        assert " style=" not in html and " onclick=" not in html


def test_no_page_or_static_file_names_another_origin(chain: Chain) -> None:
    """Nothing is fetched from outside at run time: every URL in the pages and static files
    is the node's own (the poll's reference link, which the organiser wrote, aside)."""
    external = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.I)
    for path in ("/", f"/p/{chain.hidden_poll}", "/stats"):
        assert not external.search(page(chain, path, "en").body.decode()), path
    static = Path(__file__).parents[2] / "webapp" / "static"
    for file in static.rglob("*"):
        if file.is_file() and file.suffix in (".css", ".js", ".mjs", ".html", ".json", ".svg"):
            text = file.read_text(encoding="utf-8", errors="replace")
            assert not external.search(text), file
            assert "@import url(http" not in text, file


def _headers(chain: Chain, path: str) -> dict[str, str]:
    import http.client

    address = chain.live.address
    connection = http.client.HTTPConnection(address.host, address.rpc_port, 30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return dict(response.getheaders())
    finally:
        connection.close()
