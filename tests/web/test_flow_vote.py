"""A citizen enrols and votes in the browser, against a real cluster of processes: the
enrolment step (through the node's relay to the attester, the code from the dev
outbox), a single-choice ballot and the refusal of a second one, a participatory budget
within its cap and over it (refused in the page), a password poll, a QR-link poll, and a
voter-roll poll that says who is not on the roll. Each page is scanned by axe-core and
photographed at phone and desktop sizes."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import votingcontract
from chain.keys import PrivateKey
from cli import demo
from node.attester import CODE_DIGITS
from node.senders import read_outbox_code
from tests.cluster.harness import LocalCluster, wait_for
from tests.web.browser import DESKTOP, PHONE, VIEWPORTS, assert_accessible, screenshot
from tests.web.conftest import OpenPage

WRONG_GUESS_BUDGET = 3
"""Wrong codes a number may get before it is locked out (a day): the lockout test's."""
# The nodes relay enrolment with the citizen's address; the attester counts its limits by
# it only from the addresses it trusts (docs/OPERATIONS.md, "Enrolling from the web app").
ATTESTER = (
    'trusted_proxies = ["127.0.0.1"]\nclient_start_burst = 100\nclient_finish_burst = 100\n'
    f"wrong_guess_budget = {WRONG_GUESS_BUDGET}\n"
)
PASSWORD = "봄꽃 2027"
CITY_HALL = {"lat_micro": 37_566_500, "lon_micro": 126_978_000, "radius_m": 1000}


@dataclass(frozen=True)
class Polls:
    cluster: LocalCluster
    url: str
    survey: str
    """The demo satisfaction survey: one choice, no revote."""
    budget: str
    """The demo participatory budget: costs 400, 300, 500, 200 against 1,000."""
    password: str
    qr: str
    qr_link: str
    """The link `poll create` prints for the poll's QR code: /p/<short id>#qr=<seed>."""
    roll: str
    tickets: str
    ticket_seed: str
    area: str


def _create(cluster: LocalCluster, title: str, access: dict[str, Any]) -> str:
    spec = dict(demo.demo_polls(int(time.time() * 1000))[0])
    spec["title"] = title
    spec["access"] = access
    created = cluster.submit(
        cluster.sign(cluster.key("demo-org"), votingcontract.CreatePoll.from_dict(spec))
    )
    assert created["receipt"]["accepted"], created
    return str(created["tx"]["tx_id"])


def _create_qr_poll_with_the_cli(cluster: LocalCluster) -> tuple[str, str]:
    """As an organiser does: a poll file with `qr = true`, and the link it prints."""
    path = cluster.folder / "qr-poll.toml"
    path.write_text(
        f'kind = "policy"\norg_id = "{demo.DEMO_ORG_ID}"\n'
        'title = "QR poll: the market square"\nduration_minutes = 600\n'
        '[[questions]]\ntext = "Overall satisfaction"\n'
        'options = ["Very satisfied", "Satisfied", "Dissatisfied", "No opinion"]\n'
        "[access]\nqr = true\n"
    )
    org_key = str(cluster.config.keys_dir / "demo-org.pem")
    created = json.loads(
        cluster.cli("poll", "create", str(path), "--key", org_key, "--json").stdout
    )
    return str(created["tx"]["tx_id"]), str(created["qr_link"])


@pytest.fixture(scope="module")
def polls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Polls]:
    cluster = LocalCluster(tmp_path_factory.mktemp("web-vote"), node_count=1, attester=ATTESTER)
    cluster.start()
    try:
        survey, budget = demo.seed_if_fresh(cluster.config)
        salt = bytes(range(16))
        gate = votingcontract.password_gate_key(PASSWORD, salt)
        password = _create(
            cluster,
            "Password poll: the library's opening hours",
            {"password_gate_key": gate.public_key.hex(), "password_salt": salt.hex()},
        )
        qr, qr_link = _create_qr_poll_with_the_cli(cluster)
        someone = PrivateKey.from_seed(hashlib.sha256(b"on the roll").digest())
        roll = _create(
            cluster, "Roll poll: residents only", {"roll_voter_keys": [someone.public_key.hex()]}
        )
        ticket = PrivateKey.from_seed(secrets.token_bytes(32))
        tickets = _create(
            cluster,
            "Ticket poll: the town hall meeting",
            {"ticket_keys": [ticket.public_key.hex()]},
        )
        area = _create(cluster, "Area poll: around City Hall", {"geofence": CITY_HALL})
        url = cluster.config.node("n1").rpc_url
        yield Polls(
            cluster,
            url,
            survey,
            budget,
            password,
            qr,
            qr_link,
            roll,
            tickets,
            ticket.seed().hex(),
            area,
        )
    finally:
        cluster.stop()


_numbers = iter(range(10_000))


def new_phone() -> str:
    """A number no test used: each gets its own code (the resend interval is per number)."""
    return f"+82 10-5555-{next(_numbers):04d}"


def code_for(polls: Polls, phone: str) -> str:
    e164 = votingcontract.normalise_e164(phone)
    found: list[str] = []

    def arrived() -> bool:
        code = read_outbox_code(polls.cluster.config.attester_outbox, e164, CODE_DIGITS)
        found[:] = [code] if code else []
        return bool(found)

    wait_for(arrived, 30, f"a code in the dev outbox for {phone}")
    return found[0]


def enrol(page: Page, polls: Polls, phone: str, wrong_code_first: bool = False) -> None:
    """The enrolment step on the page, from the number to the key the chain knows."""
    step = page.locator("[data-enrol]:visible")
    step.locator("input[type=tel]").fill(phone)
    step.locator("[data-enrol-phone] button[type=submit]").click()
    code_input = step.locator("[data-enrol-code] input")
    expect(code_input).to_be_visible()
    code = code_for(polls, phone)
    if wrong_code_first:
        code_input.fill("1" * CODE_DIGITS if code != "1" * CODE_DIGITS else "2" * CODE_DIGITS)
        step.locator("[data-enrol-code] button[type=submit]").click()
        expect(step.locator("[data-enrol-message]")).to_contain_text(
            page.evaluate("() => JSON.parse(document.getElementById('texts').textContent)")[
                "rpc_error"
            ]["bad_code"]
        )
    code_input.fill(code)
    step.locator("[data-enrol-code] button[type=submit]").click()


def texts(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        "() => JSON.parse(document.getElementById('texts').textContent)"
    )
    return found


def photograph(page: Page, name: str) -> None:
    for viewport in VIEWPORTS:
        page.set_viewport_size({"width": viewport.width, "height": viewport.height})
        screenshot(page, name, viewport)


# --- enrolment -------------------------------------------------------------------------


def test_a_citizen_enrols_from_the_enrol_page_and_the_number_leaves_no_trace(
    polls: Polls, open_page: OpenPage
) -> None:
    page = open_page(polls.url + "/enroll", viewport=PHONE, locale="ko-KR")
    expect(page.locator("[data-enrol-phone]")).to_be_visible()
    assert_accessible(page, "the enrol page")
    photograph(page, "enroll")
    phone = new_phone()
    enrol(page, polls, phone, wrong_code_first=True)
    expect(page.locator("[data-enrol-state]")).to_have_text(texts(page)["enrol_done"])
    assert "5555" not in page.content() and "5555" not in page.url
    e164 = votingcontract.normalise_e164(phone)
    node_log = polls.cluster.config.node_log_path("n1").read_text()
    assert e164 not in node_log and e164[3:] not in node_log  # the relay logs no body
    key = page.evaluate(
        """async () => {
            const { loadKey } = await import('/static/js/keystore.js');
            const { toHex } = await import('/static/js/bytes.js');
            const key = await loadKey('voter');
            return { kind: key.kind, hex: toHex(key.publicKey) };
        }"""
    )
    assert key["kind"] == "webcrypto"  # made in the browser, non-extractable
    assert polls.cluster.client().get(f"/v1/voters/{key['hex']}")["status"] == "active"
    page.reload()
    expect(page.locator("[data-enrol-state]")).to_have_text(texts(page)["enrol_active"])
    expect(page.locator("[data-enrol-phone]")).to_be_hidden()


def test_a_phone_that_already_has_a_key_is_told_it_waits_for_the_replacement(
    polls: Polls, open_page: OpenPage
) -> None:
    phone = new_phone()
    polls.cluster.enroll_directly(phone, PrivateKey.from_seed(secrets.token_bytes(32)))
    page = open_page(polls.url + "/enroll", viewport=DESKTOP, locale="en-GB")
    enrol(page, polls, phone)
    state = page.locator("[data-enrol-state]")
    expect(state).to_contain_text("This phone already had a key")
    expect(state).to_contain_text("Until then the old key keeps voting")


def seoul_date_in_a_day() -> str:
    """The date in Seoul a day from now, as the page's English says it ("Dec 2, 2026")."""
    return time.strftime("%b %-d, %Y", time.gmtime(time.time() + 9 * 3600 + 86_400))


def test_wrong_codes_lock_the_number_out_and_the_page_says_until_when(
    polls: Polls, open_page: OpenPage
) -> None:
    page = open_page(polls.url + "/enroll", viewport=DESKTOP, locale="en-GB")
    phone = new_phone()
    step = page.locator("[data-enrol]")
    step.locator("input[type=tel]").fill(phone)
    step.locator("[data-enrol-phone] button[type=submit]").click()
    code = code_for(polls, phone)
    wrong = "1" * CODE_DIGITS if code != "1" * CODE_DIGITS else "2" * CODE_DIGITS
    message = step.locator("[data-enrol-message]")
    words = texts(page)["rpc_error"]
    for _ in range(WRONG_GUESS_BUDGET - 1):
        step.locator("[data-enrol-code] input").fill(wrong)
        step.locator("[data-enrol-code] button[type=submit]").click()
        expect(message).to_have_text(words["bad_code"])
    step.locator("[data-enrol-code] input").fill(wrong)
    before = seoul_date_in_a_day()
    step.locator("[data-enrol-code] button[type=submit]").click()
    # Locked for a day: said with the date and time to try again, and the step starts over.
    expect(message).to_contain_text(words["locked_out"])
    after = seoul_date_in_a_day()
    dates = "|".join(re.escape(d) for d in {before, after})
    expect(message).to_contain_text(re.compile(f"Try again after ({dates})"))
    expect(step.locator("[data-enrol-phone]")).to_be_visible()
    assert_accessible(page, "the enrol page with a lockout")


# --- voting ----------------------------------------------------------------------------


def open_poll(open_page: OpenPage, polls: Polls, poll_id: str, **kwargs: Any) -> Page:
    page = open_page(f"{polls.url}/p/{poll_id[:12]}", **kwargs)
    expect(page.locator("[data-vote-form]")).to_be_visible()
    return page


def submit(page: Page) -> None:
    page.locator("[data-vote-form] button[type=submit]").click()


def accepted(page: Page, polls: Polls) -> str:
    outcome = page.locator("[data-vote-outcome]")
    expect(outcome).to_be_visible(timeout=30_000)
    expect(outcome).to_have_class("vote-outcome accepted", timeout=30_000)
    tx_id = page.locator("[data-tx-id]").inner_text()
    assert page.locator("[data-receipt-link]").get_attribute("href") == f"/r/{tx_id}"
    committed = polls.cluster.client().get(f"/v1/tx/{tx_id}")
    assert committed["receipt"]["accepted"] and committed["tx"]["kind"] == "cast_ballot"
    return tx_id


def test_vote_in_a_single_choice_poll_then_a_second_ballot_is_refused(
    polls: Polls, open_page: OpenPage
) -> None:
    page = open_poll(open_page, polls, polls.survey, viewport=PHONE, locale="ko-KR")
    expect(page.locator("[data-vote-enrol]")).to_be_visible()
    assert_accessible(page, "the voting form with the enrolment step")
    enrol(page, polls, new_phone())
    expect(page.locator("[data-vote-enrol]")).to_be_hidden(timeout=30_000)
    page.get_by_label("Satisfied", exact=True).check()
    submit(page)
    tx_id = accepted(page, polls)
    assert_accessible(page, "the voting form after a ballot")
    photograph(page, "vote")
    ballot = polls.cluster.client().get(f"/v1/tx/{tx_id}")["tx"]["body"]
    assert ballot["selections"] == [[1]]
    saved = page.evaluate(
        "async (id) => (await import('/static/js/receipts_store.js')).loadReceipt(id)", tx_id
    )
    assert saved is not None and saved["txId"] == tx_id

    page.get_by_label("Very satisfied", exact=True).check()
    submit(page)
    outcome = page.locator("[data-outcome-text]")
    expect(outcome).to_contain_text(texts(page)["reason"]["duplicate"], timeout=30_000)
    expect(page.get_by_label("Very satisfied", exact=True)).to_be_checked()


def test_a_budget_within_the_cap_is_sent_and_over_the_cap_is_refused_in_the_page(
    polls: Polls, open_page: OpenPage
) -> None:
    page = open_poll(open_page, polls, polls.budget, viewport=DESKTOP, locale="en-GB")
    enrol(page, polls, new_phone())
    expect(page.locator("[data-vote-enrol]")).to_be_hidden(timeout=30_000)
    question = page.locator("[data-question='0']")
    options = question.locator("input")
    error = question.locator("[data-question-error]")
    submit(page)  # nothing chosen: at least 1 of this question's 1 to 3
    expect(error).to_have_text("Choose from 1 to 3 here; you chose 0.")
    for index in (0, 1, 2):  # 400 + 300 + 500 = 1,200 over a cap of 1,000
        options.nth(index).check()
    expect(question.locator("[data-budget-total]")).to_have_text("Chosen: 1,200 of 1,000.")
    expect(error).to_have_text("Over the budget by 200: remove a project to stay within 1,000.")
    assert_accessible(page, "the budget form over its cap")
    photograph(page, "vote-budget")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/v1/tx" in r.url else None)
    submit(page)
    expect(page.locator("[data-vote-error]")).to_have_text(texts(page)["vote_fix_errors"])
    assert sent == []  # refused in the page: nothing went to the chain

    options.nth(0).uncheck()  # 300 + 500 = 800
    expect(error).to_have_text("")
    submit(page)
    tx_id = accepted(page, polls)
    expect(page.locator("[data-outcome-more]")).to_contain_text("only your last ballot counts")
    body = polls.cluster.client().get(f"/v1/tx/{tx_id}")["tx"]["body"]
    assert body["selections"] == [[1, 2]]


def test_a_password_poll_takes_the_password_and_refuses_a_wrong_one_in_the_page(
    polls: Polls, open_page: OpenPage
) -> None:
    page = open_poll(open_page, polls, polls.password, viewport=DESKTOP, locale="en-GB")
    enrol(page, polls, new_phone())
    expect(page.locator("[data-vote-enrol]")).to_be_hidden(timeout=30_000)
    page.get_by_label("Satisfied", exact=True).check()
    page.get_by_label("Poll password").fill("not the password")
    submit(page)
    expect(page.locator("[data-vote-error]")).to_have_text(
        texts(page)["vote_password_wrong"], timeout=30_000
    )
    page.get_by_label("Poll password").fill(PASSWORD)
    submit(page)
    accepted(page, polls)


def test_a_qr_link_poll_reads_its_secret_from_the_fragment(
    polls: Polls, open_page: OpenPage
) -> None:
    bare = open_poll(open_page, polls, polls.qr, viewport=DESKTOP, locale="en-GB")
    expect(bare.locator("[data-qr-state]")).to_have_text(texts(bare)["vote_qr_missing"])
    requested: list[str] = []
    assert polls.qr_link.startswith(f"{polls.url}/p/{polls.qr[:12]}#qr=")
    seed = polls.qr_link.partition("#qr=")[2]
    page = open_page(polls.qr_link, viewport=PHONE, locale="en-GB")
    page.on("request", lambda r: requested.append(r.url))
    expect(page.locator("[data-qr-state]")).to_have_text(texts(page)["vote_qr_read"])
    enrol(page, polls, new_phone())
    expect(page.locator("[data-vote-enrol]")).to_be_hidden(timeout=30_000)
    page.get_by_label("Satisfied", exact=True).check()
    submit(page)
    accepted(page, polls)
    assert not any(seed in url for url in requested)


def test_a_voter_not_on_the_roll_is_told_so(polls: Polls, open_page: OpenPage) -> None:
    page = open_poll(open_page, polls, polls.roll, viewport=DESKTOP, locale="ko-KR")
    enrol(page, polls, new_phone())
    expect(page.locator("[data-vote-enrol]")).to_be_hidden(timeout=30_000)
    page.locator("[data-question='0'] input").nth(0).check()
    submit(page)
    expect(page.locator("[data-outcome-text]")).to_contain_text(
        texts(page)["reason"]["not_eligible"], timeout=30_000
    )


def test_an_on_site_ticket_votes_without_enrolment(polls: Polls, open_page: OpenPage) -> None:
    page = open_poll(open_page, polls, polls.tickets, viewport=PHONE, locale="en-GB")
    expect(page.locator("[data-vote-enrol]")).to_be_hidden()
    page.get_by_label("Satisfied", exact=True).check()
    page.get_by_label("Ticket code").fill("not a ticket")
    submit(page)
    expect(page.locator("[data-vote-error]")).to_have_text(texts(page)["vote_ticket_bad"])
    page.get_by_label("Ticket code").fill(polls.ticket_seed.upper())
    submit(page)
    tx_id = accepted(page, polls)
    body = polls.cluster.client().get(f"/v1/tx/{tx_id}")["tx"]["body"]
    assert (
        body["ticket_key"]
        == PrivateKey.from_seed(bytes.fromhex(polls.ticket_seed)).public_key.hex()
    )


def test_an_area_poll_sends_the_browsers_location_and_says_when_it_is_outside(
    polls: Polls, open_page: OpenPage
) -> None:
    page = open_poll(open_page, polls, polls.area, viewport=DESKTOP, locale="ko-KR")
    enrol(page, polls, new_phone())
    expect(page.locator("[data-vote-enrol]")).to_be_hidden(timeout=30_000)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 35.1796, "longitude": 129.0756})  # Busan
    page.get_by_label("Satisfied", exact=True).check()
    submit(page)
    expect(page.locator("[data-outcome-text]")).to_contain_text(
        texts(page)["reason"]["outside_area"], timeout=30_000
    )
    page.context.set_geolocation({"latitude": 37.5668, "longitude": 126.9785})
    expect(page.get_by_label("Satisfied", exact=True)).to_be_checked()
    submit(page)
    tx_id = accepted(page, polls)
    body = polls.cluster.client().get(f"/v1/tx/{tx_id}")["tx"]["body"]
    assert body["location"] == {"lat_micro": 37_566_800, "lon_micro": 126_978_500}


def test_without_javascript_the_pages_say_voting_needs_it_and_offer_no_form(
    polls: Polls, open_page: OpenPage
) -> None:
    """A number typed into a form that JavaScript does not handle would go into a URL.
    (Playwright only stops the page's scripts, so Chromium still treats <noscript> as
    script-enabled browsers do: its words are checked in the markup.)"""
    page = open_page(polls.url + "/enroll", viewport=PHONE, locale="en-GB", javascript=False)
    expect(page.locator("input[type=tel]")).to_be_hidden()
    assert "creates a voting key kept in this browser; it needs JavaScript" in page.content()
    page = open_page(
        f"{polls.url}/p/{polls.survey[:12]}", viewport=PHONE, locale="en-GB", javascript=False
    )
    expect(page.locator("[data-vote-form]")).to_be_hidden()
    assert "Voting signs your ballot with a key kept in this browser" in page.content()
    expect(page.locator("main")).to_contain_text("Overall satisfaction")  # still readable


def test_offline_the_form_sends_nothing_and_says_so_keeping_the_choice(
    polls: Polls, open_page: OpenPage
) -> None:
    page = open_poll(open_page, polls, polls.survey, viewport=PHONE, locale="en-GB")
    page.get_by_label("No opinion", exact=True).check()
    page.context.set_offline(True)
    expect(page.locator("html")).to_have_attribute("data-offline", "")
    submit(page)
    expect(page.locator("[data-vote-error]")).to_have_text(texts(page)["vote_offline"])
    expect(page.get_by_label("No opinion", exact=True)).to_be_checked()
    page.context.set_offline(False)
