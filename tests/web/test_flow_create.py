"""A citizen creates a poll in the browser against a real cluster (OS processes, as
`votechain up` starts them): two questions, the preview, the signed submission, and the
new poll's page; a poll the rules refuse shows why and keeps what was typed. Then an
organisation's page and a printed ticket sheet.

The voter key is enrolled with the harness (as the attester would after a right code)
and put into the browser's IndexedDB in the record form keystore.js keeps a fallback key
in ({kind: "noble", publicKey, secret: the 32-byte seed} under "voter"): a test-only
import, so this flow does not depend on the enrolment page, which has tests of its own.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

import votingcontract
from chain.keys import PrivateKey
from cli import demo
from tests.cluster.harness import LocalCluster
from tests.web.browser import DESKTOP, PHONE, VIEWPORTS, assert_accessible, screenshot
from tests.web.conftest import OpenPage
from tests.web.test_qr import decode_svg
from webapp.i18n import TIME_ZONE

IMPORT_KEY = """async ([publicKey, seed]) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("votechain", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("keys");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  await new Promise((resolve, reject) => {
    const transaction = db.transaction("keys", "readwrite");
    transaction.objectStore("keys").put(
      { kind: "noble", publicKey: new Uint8Array(publicKey), secret: new Uint8Array(seed) },
      "voter",
    );
    transaction.oncomplete = resolve;
    transaction.onerror = () => reject(transaction.error);
  });
  db.close();
}"""


class Site:
    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.url = cluster.config.node("n1").rpc_url
        demo.seed_if_fresh(cluster.config)

    def voter(self, name: str, phone: str) -> bytes:
        """A voter enrolled on the chain; returns its seed, for the browser."""
        seed = hashlib.sha256(f"create flow {name}".encode()).digest()
        self.cluster.enroll_directly(phone, PrivateKey.from_seed(seed))
        return seed

    def open_with_key(self, open_page: OpenPage, path: str, seed: bytes, **kwargs: object) -> Page:
        page = open_page(self.url + path, **kwargs)
        public = PrivateKey.from_seed(seed).public_key
        page.evaluate(IMPORT_KEY, [list(public), list(seed)])
        page.reload()
        return page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    cluster = LocalCluster(tmp_path_factory.mktemp("create-flow"), node_count=1)
    cluster.start()
    try:
        yield Site(cluster)
    finally:
        cluster.stop()


def seoul(offset: timedelta) -> str:
    """A datetime-local value in Seoul time, `offset` from now."""
    return (datetime.now(UTC) + offset).astimezone(TIME_ZONE).strftime("%Y-%m-%dT%H:%M")


def fill_poll(page: Page) -> None:
    page.get_by_label("Title").fill("Should our block have a shared garden?")
    page.get_by_label("Purpose (optional)").fill("Residents of block 12 decide together.")
    page.locator("#q0-text").fill("A shared garden on the roof?")
    page.locator("#q0-o0").fill("Yes")
    page.locator("#q0-o1").fill("No")
    page.get_by_role("button", name="Add a question").click()
    page.locator("#q1-text").fill("What should it grow?")
    page.locator("#q1-o0").fill("Vegetables")
    page.locator("#q1-o1").fill("Flowers")
    page.locator("[data-question]").nth(1).get_by_role("button", name="Add an option").click()
    page.locator("#q1-o2").fill("Herbs")
    page.locator("#q1-max").fill("2")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_a_citizen_creates_a_poll_with_two_questions_after_a_preview(
    site: Site, open_page: OpenPage, viewport: object
) -> None:
    seed = site.voter(f"creator {viewport}", "+821077700" + ("01" if viewport is PHONE else "02"))
    page = site.open_with_key(open_page, "/new", seed, viewport=viewport, locale="en-US")
    expect(page.locator("#no-key")).to_be_hidden()
    fill_poll(page)
    if viewport is DESKTOP:  # the same poll twice would be the same ballot box: differ
        page.get_by_label("Title").fill("Should our block have a shared garden? (block 14)")
    page.get_by_role("button", name="Preview the poll").click()
    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    expect(preview.locator("h4")).to_have_text(
        ["A shared garden on the roof?", "What should it grow?"]
    )
    expect(preview).to_contain_text("Choose 1 to 2 options.")
    expect(preview).to_contain_text("Herbs")
    assert_accessible(page, f"/new with its preview ({viewport})")
    screenshot(page, "create-poll", viewport)  # type: ignore[arg-type]

    page.get_by_role("button", name="Create this poll").click()
    page.wait_for_url(re.compile(r".*/p/[0-9a-f]{12}$"), timeout=60_000)
    expect(page.locator("h1")).to_contain_text("Should our block have a shared garden?")
    short = page.url.rsplit("/", 1)[1]
    created = site.cluster.client().get(f"/v1/polls?prefix={short}")["polls"]
    assert len(created) == 1
    poll = site.cluster.client().get(f"/v1/polls/{created[0]['poll_id']}")
    assert poll["kind"] == "citizen" and len(poll["questions"]) == 2
    assert [o["text"] for o in poll["questions"][1]["options"]] == [
        "Vegetables",
        "Flowers",
        "Herbs",
    ]
    assert poll["questions"][1]["max_selections"] == 2


def test_a_poll_closing_before_it_opens_is_refused_with_the_reason_and_keeps_the_form(
    site: Site, open_page: OpenPage
) -> None:
    seed = site.voter("schedule", "+821077700003")
    page = site.open_with_key(open_page, "/new", seed, viewport=PHONE)  # Korean
    page.locator("#title").fill("마감이 시작보다 빠른 투표")
    page.locator("#q0-text").fill("질문")
    page.locator("#q0-o0").fill("예")
    page.locator("#q0-o1").fill("아니요")
    page.locator("#opens").fill(seoul(timedelta(days=2)))
    page.locator("#closes").fill(seoul(timedelta(days=1)))
    page.locator("#preview-button").click()
    problem = page.locator("#problem")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("시작 시각과 마감 시각이 맞지 않거나 이미 지났습니다.")
    expect(problem).to_contain_text("closes_at: is not after opens_at")
    expect(page.locator("#closes")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#preview")).to_be_hidden()
    assert page.locator("#title").input_value() == "마감이 시작보다 빠른 투표"
    assert page.locator("#q0-o1").input_value() == "아니요"
    assert_accessible(page, "/new showing a refusal")


def test_the_chain_refusing_the_signed_poll_shows_its_reason_and_keeps_the_form(
    site: Site, open_page: OpenPage
) -> None:
    """A rule only the chain's state can judge: a citizen runs at most 3 open polls."""
    seed = site.voter("busy organiser", "+821077700004")
    key = PrivateKey.from_seed(seed)
    start = int(time.time() * 1000)
    for n in range(votingcontract.limits.MAX_OPEN_CITIZEN_POLLS):
        body = votingcontract.CreatePoll.from_dict(
            {
                "kind": "citizen",
                "title": f"Poll {n}",
                "opens_at_ms": start,
                "closes_at_ms": start + 3_600_000,
                "questions": [{"text": "?", "options": ["a", "b"]}],
            }
        )
        assert site.cluster.submit(site.cluster.sign(key, body))["receipt"]["accepted"]
    page = site.open_with_key(open_page, "/new", seed, viewport=DESKTOP, locale="en-US")
    fill_poll(page)
    page.get_by_role("button", name="Preview the poll").click()
    expect(page.locator("#preview")).to_be_visible()
    page.get_by_role("button", name="Create this poll").click()
    problem = page.locator("#problem")
    expect(problem).to_be_visible(timeout=30_000)
    expect(problem).to_contain_text("The chain refused this poll")
    assert page.url.endswith("/new")
    assert page.locator("#q1-o2").input_value() == "Herbs"


def test_without_a_voter_key_the_page_says_to_verify_a_phone_first(
    site: Site, open_page: OpenPage
) -> None:
    page = open_page(site.url + "/new", PHONE, locale="en-US")
    no_key = page.locator("#no-key")
    expect(no_key).to_be_visible()
    expect(no_key.get_by_role("link")).to_have_attribute("href", "/enroll")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_an_organisation_page_and_a_polls_qr_code(
    site: Site, open_page: OpenPage, viewport: object
) -> None:
    page = open_page(site.url + "/", viewport, locale="en-US")
    page.get_by_role("link", name="Seoul Metropolitan Government (demo)").first.click()
    page.wait_for_url(f"{site.url}/o/{demo.DEMO_ORG_ID}")
    expect(page.locator("h1")).to_have_text("Seoul Metropolitan Government (demo)")
    expect(page.locator("ul.polls h3")).to_have_count(len(demo.demo_polls(0)))
    assert_accessible(page, f"/o/{demo.DEMO_ORG_ID} ({viewport})")
    screenshot(page, "organisation", viewport)  # type: ignore[arg-type]

    page.locator("ul.polls h3 a").first.click()
    qr_image = page.get_by_role("img", name=re.compile("QR code of this poll"))
    expect(qr_image).to_be_visible()
    svg = page.request.get(site.url + (qr_image.get_attribute("src") or "")).text()
    assert decode_svg(svg) == [page.url]


def test_a_printed_ticket_sheet_links_each_ticket_to_its_poll(
    site: Site, open_page: OpenPage
) -> None:
    """A poll file's `tickets = true` makes a ticket poll, `poll tickets` issues tickets and
    writes their seeds, `poll ticket-sheet` the sheet (or `poll tickets --sheet` both);
    each ticket's QR code opens the poll with the ticket in the link's fragment, which the
    node never receives."""
    folder = site.cluster.folder
    (folder / "hall.toml").write_text(
        f'kind = "policy"\norg_id = "{demo.DEMO_ORG_ID}"\n'
        'title = "Community hall opening hours"\nopens_in_minutes = 0\nduration_minutes = 60\n'
        "[access]\ntickets = true\n"
        '[[questions]]\ntext = "Open on Sundays?"\noptions = ["Yes", "No"]\n'
    )
    org_key = str(site.cluster.config.keys_dir / "demo-org.pem")
    created = site.cluster.cli("poll", "create", "hall.toml", "--key", org_key, "--json")
    poll_id = json.loads(created.stdout)["tx"]["tx_id"]
    site.cluster.cli(
        "poll", "tickets", poll_id, "--key", org_key, "--count", "3", "--out", "hall.txt"
    )
    seeds = (folder / "hall.txt").read_text().split()
    made = site.cluster.cli(
        "poll", "ticket-sheet", poll_id[:10], "--seeds", "hall.txt", "--lang", "en"
    )
    assert "3 tickets on hall.html" in made.stdout
    sheet = folder / "hall.html"
    assert sheet.stat().st_mode & 0o077 == 0  # the sheet holds the tickets' secrets
    html = sheet.read_text()
    links = [decode_svg(svg)[0] for svg in re.findall(r"<svg.*?</svg>", html, re.S)]
    assert links == [f"{site.url}/p/{poll_id[:12]}#ticket={seed}" for seed in seeds]
    again = site.cluster.cli("poll", "ticket-sheet", poll_id, "--seeds", "hall.txt", check=False)
    assert again.returncode == 1 and "never overwritten" in again.stderr

    page = open_page(links[0], DESKTOP, locale="en-US")
    expect(page.locator("h1")).to_have_text("Community hall opening hours")

    # Or both at once: `poll tickets --sheet` issues more and prints the sheet of those.
    more = site.cluster.cli(
        "poll",
        "tickets",
        poll_id,
        "--key",
        org_key,
        "--count",
        "2",
        "--out",
        "more.txt",
        "--sheet",
        "more.html",
    )
    assert "2 tickets on more.html" in more.stdout
    more_seeds = (folder / "more.txt").read_text().split()
    more_html = (folder / "more.html").read_text()
    assert [decode_svg(svg)[0] for svg in re.findall(r"<svg.*?</svg>", more_html, re.S)] == [
        f"{site.url}/p/{poll_id[:12]}#ticket={seed}" for seed in more_seeds
    ]
    assert (folder / "more.html").stat().st_mode & 0o077 == 0

    printed = open_page(sheet.as_uri(), DESKTOP, locale="en-US")
    printed.emulate_media(media="print")
    expect(printed.locator("article.ticket")).to_have_count(3)
    assert_accessible(printed, "the printed ticket sheet")
    screenshot(printed, "ticket-sheet", DESKTOP)


def test_a_password_poll_carries_the_gate_key_of_the_typed_password(
    site: Site, open_page: OpenPage
) -> None:
    """The browser derives the gate key (scrypt, gatekeys.js) as the CLI would: the chain's
    gate key is the one Python derives from the same password and the poll's salt. A weak
    password is refused first, by the CLI's rule."""
    seed = site.voter("password", "+821077700005")
    page = site.open_with_key(open_page, "/new", seed, viewport=DESKTOP, locale="en-US")
    page.get_by_label("Title").fill("Members only: the next meeting's date")
    page.locator("#q0-text").fill("Which Saturday?")
    page.locator("#q0-o0").fill("The 5th")
    page.locator("#q0-o1").fill("The 12th")
    page.get_by_label("Only those who know a password").check()
    page.get_by_label("Poll password").fill("1234")
    page.get_by_role("button", name="Preview the poll").click()
    expect(page.locator("#problem")).to_contain_text("The poll password has 4 characters")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    password = "river lantern copper meadow"
    page.get_by_label("Poll password").fill(password)
    page.get_by_role("button", name="Preview the poll").click()
    expect(page.locator("#preview")).to_be_visible()
    page.get_by_role("button", name="Create this poll").click()
    page.wait_for_url(re.compile(r".*/p/[0-9a-f]{12}$"), timeout=60_000)
    short = page.url.rsplit("/", 1)[1]
    poll_id = site.cluster.client().get(f"/v1/polls?prefix={short}")["polls"][0]["poll_id"]
    access = site.cluster.client().get(f"/v1/polls/{poll_id}")["access"]
    assert access["methods"] == ["password"]
    gate = votingcontract.password_gate_key(password, bytes.fromhex(access["password_salt"]))
    assert gate.public_key.hex() == access["password_gate_key"]


def test_a_refusal_at_submission_shows_the_field_the_node_names(
    site: Site, open_page: OpenPage
) -> None:
    """The node refuses a create_poll before ordering it with the stateless rules' detail
    in its message (node/app.py refusal_detail); the page shows the reason's words and
    that detail. Forged here: the preview runs the same rules, so a real poll that passes
    it cannot be refused so (a node of another release could)."""
    seed = site.voter("forged refusal", "+821077700006")
    page = site.open_with_key(open_page, "/new", seed, viewport=PHONE, locale="en-US")
    fill_poll(page)
    page.get_by_role("button", name="Preview the poll").click()
    expect(page.locator("#preview")).to_be_visible()
    refusal = {
        "error": "refused",
        "reason": "invalid_poll",
        "message": "the voting state machine would refuse it (invalid_poll): question 2: "
        "max_selections 3 is more than its 2 options",
    }
    page.route(
        "**/v1/tx?wait=commit",
        lambda route: route.fulfill(status=422, json=refusal),
    )
    page.get_by_role("button", name="Create this poll").click()
    problem = page.locator("#problem")
    expect(problem).to_contain_text("The chain refused this poll")
    expect(problem).to_contain_text("question 2: max_selections 3 is more than its 2 options")
    assert page.locator("#title").input_value() == "Should our block have a shared garden?"
