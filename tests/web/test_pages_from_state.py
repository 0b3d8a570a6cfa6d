"""Pages built from a state the test writes with the voting state machine alone (no
chain, no node process): the RPC app with the web app added, over aiohttp's test
client. Here the cases a live chain makes awkward: weighted polls, two polls sharing a
short link, the order of the list, and the clock moving a poll from open to closed.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from node.rpc import make_rpc_app
from tests.votingcontract.helpers import (
    DAY_MS,
    HOUR_MS,
    Harness,
    citizen_poll,
    phone_id_of,
    policy_poll,
    seeded_key,
)
from tests.votingcontract.secret_helpers import Trustees, encrypted_ballot, secret_poll
from votingcontract import Access, CastBallot, Option, Question, state_keys
from votingcontract.images import ImageRef
from webapp import add_routes
from webapp.polls import PAGE_POLLS

ORG = "seoul-city"
JAVASCRIPT_TYPES = ("text/javascript", "application/javascript")
"""What the system's MIME table may call .js and .mjs; browsers run modules of either."""


@dataclass
class StateNode:
    """What the RPC and the web app need of a node, over the harness's state."""

    harness: Harness
    chain_id: str = "votechain-test"
    store: Any = None

    def __post_init__(self) -> None:
        self.store = self.harness.state

    def now_ms(self) -> int:
        return self.harness.now_ms

    async def submit(self, data: bytes, wait_commit: bool) -> dict[str, Any]:
        raise AssertionError("the pages submit nothing")

    def status(self) -> dict[str, Any]:
        return {}

    def metrics_text(self) -> tuple[bytes, str]:
        return b"", "text/plain"


@pytest.fixture
def harness() -> Harness:
    h = Harness.create()
    h.register_org(ORG)
    return h


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = make_rpc_app(StateNode(harness), 1 << 20, extend=add_routes)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def text(client: TestClient[web.Request, web.Application], path: str, lang: str) -> str:
    response = await client.get(path, headers={"Accept-Language": lang})
    html = await response.text()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def org_key() -> Any:
    return seeded_key(f"org-{ORG}-0")


async def test_a_weighted_poll_says_so_and_gives_weights_and_ballots(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    alice, bob = harness.enroll("alice"), harness.enroll("bob")
    access = Access(
        roll=((phone_id_of("alice"), phone_id_of("bob")), ()), roll_weights=((3, 1), ())
    )
    poll_id = harness.create_poll(
        org_key(), policy_poll(ORG, harness.now_ms, access=access, title="Shareholders")
    )
    assert harness.submit(alice, CastBallot(poll_id, ((0,),))).accepted
    assert harness.submit(bob, CastBallot(poll_id, ((1,),))).accepted
    page = await text(client, f"/p/{poll_id.hex()}", "en")
    assert "This is a weighted poll" in page
    assert "3 votes (75.00%) · 1 ballot" in page
    assert "1 vote (25.00%) · 1 ballot" in page
    assert "2 participants, total weight 4" in page
    assert "Voter roll" in page
    page_ko = await text(client, f"/p/{poll_id.hex()}", "ko")
    assert "가중치 투표입니다" in page_ko and "3표 (75.00%) · 1표" in page_ko


async def test_a_short_link_two_polls_share_lists_both(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    poll_id = harness.create_poll(org_key(), policy_poll(ORG, harness.now_ms, title="Twin"))
    record = harness.state.get(state_keys.POLL + poll_id)
    assert record is not None
    # Two more polls whose ids share their first 12 hex characters (a rare collision,
    # written here directly): the short link lists both; a longer prefix finds one.
    first, second = (
        bytes.fromhex("abcdef012345" + "0" * 52),
        bytes.fromhex("abcdef012345" + "1" * 52),
    )
    harness.state.apply([(state_keys.POLL + first, record), (state_keys.POLL + second, record)])
    response = await client.get("/p/abcdef012345", headers={"Accept-Language": "en"})
    assert response.status == 300
    html = await response.text()
    assert f'href="/p/{first.hex()}"' in html and f'href="/p/{second.hex()}"' in html
    assert "fits more than one poll" in html
    response = await client.get("/p/abcdef0123451", headers={"Accept-Language": "en"})
    assert response.status == 200


async def test_the_list_shows_open_polls_first_then_upcoming_then_closed(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    now = harness.now_ms
    harness.create_poll(org_key(), policy_poll(ORG, now, title="Soon", opens_in_ms=DAY_MS))
    harness.create_poll(org_key(), policy_poll(ORG, now, title="Short one", lasts_ms=HOUR_MS))
    harness.create_poll(org_key(), policy_poll(ORG, now, title="Long one", lasts_ms=3 * DAY_MS))
    harness.advance(2 * HOUR_MS)  # the short one has closed
    page = await text(client, "/", "en")
    order = [page.index(title) for title in ("Long one", "Soon", "Short one")]
    assert order == sorted(order), page
    html = await (await client.get("/", headers={"Accept-Language": "en"})).text()
    groups = [html.index(f'id="group-{status}"') for status in ("open", "upcoming", "closed")]
    assert groups == sorted(groups)
    only_closed = await text(client, "/?status=closed", "en")
    assert "Short one" in only_closed and "Long one" not in only_closed


async def test_results_hidden_until_close_show_once_the_poll_has_closed(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    voter = harness.enroll("alice")
    creator = harness.enroll("bob")
    poll_id = harness.create_poll(
        creator, citizen_poll(harness.now_ms, visibility="after_close", lasts_ms=HOUR_MS)
    )
    assert harness.submit(voter, CastBallot(poll_id, ((0,),))).accepted
    before = await text(client, f"/p/{poll_id.hex()[:12]}", "ko")
    assert "결과는 투표가 마감될 때까지 공개되지 않습니다" in before
    assert "표 (" not in before
    harness.advance(2 * HOUR_MS)
    after = await text(client, f"/p/{poll_id.hex()[:12]}", "ko")
    assert "1표 (100.00%)" in after and "참여자 1명" in after


async def test_dates_are_in_seoul_time_in_the_readers_language(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    # 2026-12-01 07:30 UTC is 16:30 in Seoul.
    opens = 1_796_110_200_000
    harness.now_ms = opens - 1_000
    harness.create_poll(
        org_key(), policy_poll(ORG, harness.now_ms, title="Timed", opens_in_ms=1_000)
    )
    assert "2026년 12월 1일 (화) 오후 4:30" in await text(client, "/", "ko")
    assert "Tue, Dec 1, 2026 4:30 PM" in await text(client, "/", "en")


async def test_images_of_questions_and_options_are_shown_from_the_node_with_their_text(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    photo = ImageRef(bytes(range(32)), 1_000, "image/png")
    question = Question(
        "Which square?",
        (Option("Gwanghwamun", image=photo), Option("Seoul Plaza")),
        image=replace(photo, sha256=bytes(32)),
    )
    poll_id = harness.create_poll(
        org_key(), policy_poll(ORG, harness.now_ms, questions=(question,), title="Squares")
    )
    response = await client.get(f"/p/{poll_id.hex()}", headers={"Accept-Language": "en"})
    html = await response.text()
    assert f'src="/v1/images/{photo.sha256.hex()}" alt="Gwanghwamun"' in html
    assert f'src="/v1/images/{bytes(32).hex()}" alt="Which square?"' in html


async def test_the_list_pages_by_thirty_with_a_link_to_the_next(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    for i in range(PAGE_POLLS + 1):
        harness.create_poll(org_key(), policy_poll(ORG, harness.now_ms, title=f"Poll no. {i}"))
    html = await (await client.get("/?kind=policy", headers={"Accept-Language": "en"})).text()
    assert html.count('class="poll-card"') == PAGE_POLLS
    assert f'href="/?kind=policy&amp;from={PAGE_POLLS}"' in html
    second = await (await client.get(f"/?kind=policy&from={PAGE_POLLS}")).text()
    assert second.count('class="poll-card"') == 1 and "Poll no. 0" in second  # the oldest
    assert "More polls" not in second


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        ("/p/" + "a" * 65, 404, "0-9 and a-f"),
        ("/p/%00", 404, "0-9 and a-f"),
        ("/?q=" + "x" * 101, 400, "The search is longer than 100 characters."),
        ("/?from=" + "9" * 10, 400, "The page position is not a whole number."),
        ("/?from=%EF%BC%91", 400, "The page position is not a whole number."),  # a wide 1
        ("/?org=City%20Hall", 400, "Choose the organisation from the list."),
        ("/?kind=secret", 400, "Choose the kind of poll from the list"),
        ("/?lang=../../etc", 200, '<html lang="en">'),  # an unknown language is ignored
    ],
)
async def test_hostile_addresses_get_a_page_naming_what_is_wrong(
    client: TestClient[web.Request, web.Application], path: str, status: int, said: str
) -> None:
    response = await client.get(path, headers={"Accept-Language": "en"})
    assert response.status == status
    assert said in await response.text()
    assert "lang=../" not in response.headers.get("Set-Cookie", "")


async def test_a_wrong_method_on_a_page_is_a_page_too(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.post("/stats", data=b"x", headers={"Accept-Language": "ko"})
    assert response.status == 405
    assert response.content_type == "text/html"
    assert "요청이 올바르지 않습니다." in await response.text()


async def test_statistics_count_polls_by_the_month_they_open_in_seoul(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    # 2026-11-30 15:30 UTC is already 1 December in Seoul.
    harness.now_ms = 1_796_052_600_000 - 1_000
    harness.create_poll(org_key(), policy_poll(ORG, harness.now_ms, opens_in_ms=1_000))
    harness.create_poll(org_key(), policy_poll(ORG, harness.now_ms, opens_in_ms=DAY_MS * 40))
    assert "December 2026 1 January 2027 1" in await text(client, "/stats", "en")
    assert "2026년 12월 1 2027년 1월 1" in await text(client, "/stats", "ko")


async def test_every_script_is_served_as_javascript_with_the_headers_a_module_needs(
    client: TestClient[web.Request, web.Application],
) -> None:
    """Browsers run an ES module only with a JavaScript type (nosniff forbids guessing)."""
    static = Path(__file__).parents[2] / "webapp" / "static"
    scripts = [p for p in static.rglob("*") if p.suffix in (".js", ".mjs")]
    for script in scripts:
        response = await client.get("/static/" + script.relative_to(static).as_posix())
        assert response.status == 200, script
        assert response.content_type in JAVASCRIPT_TYPES, (script, response.content_type)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-cache"  # never an old module


@pytest.mark.parametrize(
    "path", ["/static/", "/static/../routes.py", "/static/%2e%2e/routes.py", "/static/nope.js"]
)
async def test_the_static_folder_lists_nothing_and_serves_nothing_outside_it(
    client: TestClient[web.Request, web.Application], path: str
) -> None:
    response = await client.get(path, headers={"Accept-Language": "en"})
    assert response.status in (403, 404)
    assert "import" not in await response.text()


async def test_a_korean_search_finds_a_title_typed_in_decomposed_hangul(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    harness.create_poll(org_key(), policy_poll(ORG, harness.now_ms, title="따릉이 만족도 조사"))
    decomposed = unicodedata.normalize("NFD", "따릉이")
    assert decomposed != "따릉이"
    found = await text(client, "/?q=" + urllib.parse.quote(decomposed), "ko")
    assert "따릉이 만족도 조사" in found and "투표 1건" in found


async def test_every_page_names_its_icon_which_the_node_serves(
    client: TestClient[web.Request, web.Application],
) -> None:
    """Browsers ask for an icon on every page; without one each load adds a 404."""
    html = await (await client.get("/")).text()
    assert '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">' in html
    icon = await client.get("/static/icon.svg")
    assert icon.status == 200 and icon.content_type == "image/svg+xml"


async def test_a_secret_poll_whose_key_set_up_failed_says_it_will_have_no_results(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    trustees = Trustees.make(3, 2, label="web-failed")
    trustees.corrupt_shares = {2: {1}, 3: {1}}
    poll_id = harness.create_poll(
        org_key(), secret_poll(policy_poll(ORG, harness.now_ms, title="Board"), trustees)
    )
    trustees.setup(harness, poll_id)
    page = await text(client, f"/p/{poll_id.hex()}", "en")
    assert "the trustees' key set-up failed: this poll takes no ballot" in page
    assert "have decrypted its tally" not in page
    assert "None: the poll's key was never made." in page
    page_ko = await text(client, f"/p/{poll_id.hex()}", "ko")
    assert "키 생성이 실패했습니다" in page_ko


async def test_a_secret_polls_facts_say_when_it_is_counted_and_how_many_took_part(
    harness: Harness, client: TestClient[web.Request, web.Application]
) -> None:
    trustees = Trustees.make(3, 2, label="web-facts")
    poll_id = harness.create_poll(
        org_key(), secret_poll(policy_poll(ORG, harness.now_ms, title="Council"), trustees)
    )
    trustees.setup(harness, poll_id)
    voter = harness.enroll("facts")
    assert harness.submit(voter, encrypted_ballot(harness, poll_id, voter, [(0,)])).accepted
    page = await text(client, f"/p/{poll_id.hex()}", "en")
    assert (
        "Counted after the poll closes, once 2 of its trustees have decrypted the totals." in page
    )
    assert "Shown live while the poll is open" not in page
    assert "Participants 1 person" in page
    page_ko = await text(client, f"/p/{poll_id.hex()}", "ko")
    assert "개표위원 2명이 합계를 복호화하면 집계됩니다" in page_ko
