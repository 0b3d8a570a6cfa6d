"""A citizen votes in a secret poll from the browser's booth, against a real cluster of
processes (issue 16): three trustees set up a 2-of-3 key with `votechain trustee`; the
poll cards and page say the choices are secret; before the key is ready the booth says
so; the voter's choices are encrypted in the browser, audited once (the check passes,
that ballot is discarded), encrypted again and cast; the tracking code the booth shows
is the chain's, the receipt page finds the ballot by it and shows it, and so does "My
votes"; after close the page says it awaits the trustees, two of them decrypt, and the
counts are the voter's choices. Each page is scanned by axe-core and photographed at
phone and desktop sizes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import votingcontract
from cli import demo
from cli.secret_ballot import tracking_of_tx
from node.attester import CODE_DIGITS
from node.senders import read_outbox_code
from tests.cluster.harness import LocalCluster, wait_for
from tests.web.browser import PHONE, VIEWPORTS, assert_accessible, screenshot
from tests.web.conftest import OpenPage

ATTESTER = 'trusted_proxies = ["127.0.0.1"]\nclient_start_burst = 100\nclient_finish_burst = 100\n'
TRACKING = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}-[A-Z2-7]{2}$")
"""26 base32 letters of the code's first 16 bytes, in groups of 4 (PROTOCOL.md 15)."""


@dataclass(frozen=True)
class SecretPolls:
    cluster: LocalCluster
    url: str
    ready: str
    """A secret poll whose trustees made the key: a chair and a participatory budget."""
    waiting: str
    """A secret poll whose trustees have not started: it takes no ballot yet."""


def _create(cluster: LocalCluster, title: str, trustees: list[str]) -> str:
    spec = dict(demo.demo_polls(int(time.time() * 1000))[1])  # the participatory budget
    budget = dict(spec["questions"][0], min_spend_percent=50)  # a floor of 500 too
    chair = {"text": "Chair of the residents' council", "options": ["Kim", "Lee", "Park"]}
    spec.update(
        title=title,
        questions=[{**chair, "min_selections": 1, "max_selections": 1}, budget],
        secret={"trustees": trustees, "threshold": 2},
    )
    created = cluster.submit(
        cluster.sign(cluster.key("demo-org"), votingcontract.CreatePoll.from_dict(spec))
    )
    assert created["receipt"]["accepted"], created
    return str(created["tx"]["tx_id"])


@pytest.fixture(scope="module")
def polls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretPolls]:
    cluster = LocalCluster(tmp_path_factory.mktemp("web-secret"), node_count=1, attester=ATTESTER)
    cluster.start()
    try:
        demo.seed_if_fresh(cluster.config)
        trustees = [
            json.loads(cluster.cli("trustee", "init", "--out", f"t{j}.pem", "--json").stdout)[
                "public_key"
            ]
            for j in (1, 2, 3)
        ]
        ready = _create(cluster, "Secret ballot: council chair and projects", trustees)
        waiting = _create(cluster, "Secret ballot: its trustees have not met yet", trustees)
        for _phase in ("transport key", "dealing", "check"):
            for j in (1, 2, 3):
                cluster.cli("trustee", "setup", ready, "--key", f"t{j}.pem")
        assert cluster.client().get(f"/v1/polls/{ready}")["secret"]["phase"] == "ready"
        yield SecretPolls(cluster, cluster.config.node("n1").rpc_url, ready, waiting)
    finally:
        cluster.stop()


def texts(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        "() => JSON.parse(document.getElementById('texts').textContent)"
    )
    return found


def enrol(page: Page, polls: SecretPolls, phone: str) -> None:
    step = page.locator("[data-enrol]:visible")
    step.locator("input[type=tel]").fill(phone)
    step.locator("[data-enrol-phone] button[type=submit]").click()
    expect(step.locator("[data-enrol-code] input")).to_be_visible()
    e164 = votingcontract.normalise_e164(phone)
    found: list[str] = []

    def arrived() -> bool:
        code = read_outbox_code(polls.cluster.config.attester_outbox, e164, CODE_DIGITS)
        found[:] = [code] if code else []
        return bool(found)

    wait_for(arrived, 30, f"a code in the dev outbox for {phone}")
    step.locator("[data-enrol-code] input").fill(found[0])
    step.locator("[data-enrol-code] button[type=submit]").click()
    expect(page.locator("[data-vote-enrol]")).to_be_hidden(timeout=30_000)


def photograph(page: Page, name: str) -> None:
    for viewport in VIEWPORTS:
        page.set_viewport_size({"width": viewport.width, "height": viewport.height})
        screenshot(page, name, viewport)


def choose(page: Page, chair: str, projects: list[str]) -> None:
    page.get_by_label(chair, exact=True).check()
    for box in page.locator("[data-question='1'] input").all():
        box.set_checked(False)
    for project in projects:
        page.locator("[data-question='1'] label", has_text=project).click()


def encrypt(page: Page) -> str:
    page.locator("[data-vote-form] button[type=submit]").click()
    booth = page.locator("[data-booth]")
    expect(booth).to_be_visible(timeout=30_000)
    code = page.locator("[data-tracking]").inner_text()
    assert TRACKING.match(code), code
    return code


def test_a_citizen_encrypts_audits_and_casts_in_the_booth_and_the_trustees_count_it(
    polls: SecretPolls, open_page: OpenPage
) -> None:
    # Every poll card says whether its choices are public or secret.
    page = open_page(f"{polls.url}/", viewport=PHONE, locale="en-GB")
    cards = page.locator("li.poll-card")
    secret_card = cards.filter(has_text="Secret ballot: council chair and projects")
    expect(secret_card).to_contain_text("Secret: encrypted on the voter's device; 2 of 3")
    public_card = cards.filter(has_text="bike-sharing service")
    expect(public_card).to_contain_text("Public: each ballot's choices are on the chain")
    page.goto(f"{polls.url}/p/{polls.waiting[:12]}")
    words = texts(page)
    expect(page.locator(".poll .facts").first).to_contain_text(
        "Secret: encrypted on the voter's device; 2 of 3 trustees"
    )
    expect(page.locator("[data-vote-form] button[type=submit]")).to_have_text("Encrypt my ballot")
    expect(page.locator(".poll > p.note")).to_contain_text(
        "The choices are secret: after the poll closes"
    )
    enrol(page, polls, "+82 10-5555-7001")

    # The trustees have not made this poll's key: nothing is encrypted, and the page says why.
    choose(page, "Kim", ["Riverside walking path lighting", "Free public Wi-Fi in markets"])
    page.locator("[data-vote-form] button[type=submit]").click()
    expect(page.locator("[data-vote-error]")).to_have_text(words["booth_key_waiting"])
    expect(page.locator("[data-booth]")).to_be_hidden()

    page.goto(f"{polls.url}/p/{polls.ready[:12]}")
    expect(page.locator("[data-vote-form]")).to_be_visible()
    choose(page, "Lee", ["Riverside walking path lighting", "Free public Wi-Fi in markets"])
    first = encrypt(page)
    assert_accessible(page, "the booth with an encrypted ballot")
    photograph(page, "vote-secret-booth")

    # Audit: the browser re-encrypts the choices with the revealed randomness; that ballot
    # is discarded, and the next one has another tracking code.
    page.locator("[data-audit]").click()
    report = page.locator("[data-audit-result]")
    expect(report).to_be_visible()
    expect(report.locator("[data-audit-verdict]")).to_have_text(words["booth_audit_passed"])
    expect(report.locator("[data-audit-list]")).to_contain_text("Lee")
    expect(report.locator("[data-audit-list]")).to_contain_text("Free public Wi-Fi in markets")
    revealed = (report.locator("[data-audit-randomness]").text_content() or "").splitlines()
    assert len(revealed) == 3 + 4 and all(re.search(r": [0-9a-f]{64}$", r) for r in revealed)
    expect(page.locator("[data-booth]")).to_be_hidden()
    assert_accessible(page, "the booth after an audit")
    photograph(page, "vote-secret-audit")
    second = encrypt(page)
    assert second != first

    # A changed choice discards the encrypted ballot: it no longer says what the voter wants.
    page.get_by_label("Park", exact=True).check()
    expect(page.locator("[data-booth]")).to_be_hidden()
    expect(page.locator("[data-vote-status]")).to_have_text(words["booth_discarded"])
    page.get_by_label("Lee", exact=True).check()
    cast = encrypt(page)
    page.locator("[data-cast]").click()
    outcome = page.locator("[data-vote-outcome]")
    expect(outcome).to_have_class("vote-outcome accepted", timeout=30_000)
    expect(outcome).to_contain_text(words["booth_tracking"].replace("%(code)s", cast))
    expect(page.locator("[data-booth]")).to_be_hidden()
    tx_id = page.locator("[data-tx-id]").inner_text()
    committed = polls.cluster.client().get(f"/v1/tx/{tx_id}")
    assert committed["receipt"]["accepted"], committed
    body = committed["tx"]["body"]
    assert body["selections"] == [] and isinstance(body["encrypted"], str)
    assert tracking_of_tx(committed["tx"]["encoded"]) == cast  # the CLI's reading of it
    found = polls.cluster.client().get(f"/v1/tracking/{cast.replace('-', '')}")
    assert found["tx_id"] == tx_id  # anyone finds the ballot on the chain by the code

    # The receipt page and "My votes" show the tracking code, read from the signed bytes.
    # Found by its code on the receipt page (typed as a voter might), then checked there.
    page.goto(f"{polls.url}/r")
    page.locator("#tracking-code").fill("ZZZZ-" + cast[5:])  # a typo, or someone else's
    page.locator("#find-form button[type=submit]").click()
    expect(page.locator("#find-status")).to_have_text(texts(page)["tracking_not_found"])
    page.locator("#tracking-code").fill(cast.lower().replace("-", " "))
    page.locator("#find-form button[type=submit]").click()
    page.wait_for_url(f"**/r/{tx_id}")
    expect(page.locator("#recorded-secret")).to_be_visible(timeout=30_000)
    expect(page.locator("#recorded-tracking")).to_have_text(cast)
    expect(page.locator("#recorded-public")).to_be_hidden()
    assert_accessible(page, "the receipt of an encrypted ballot")
    page.goto(f"{polls.url}/me")
    expect(page.locator("li.ballot code.tracking")).to_have_text(cast, timeout=30_000)

    # Closed and decrypted by two of the three trustees: the counts are this ballot's.
    org_key = str(polls.cluster.config.keys_dir / "demo-org.pem")
    polls.cluster.cli("poll", "close", polls.ready, "--key", org_key)
    polls.cluster.cli("trustee", "decrypt", polls.ready, "--key", "t1.pem")
    page.goto(f"{polls.url}/p/{polls.ready[:12]}")
    note = page.locator(".poll > p.note")
    expect(note).to_contain_text(
        "once 2 of the poll's trustees have decrypted its tally (1 so far)"
    )
    expect(note).to_contain_text("1 participant so far.")
    expect(page.locator(".poll ul.results")).to_have_count(0)
    assert_accessible(page, "a closed secret poll awaiting its trustees")
    polls.cluster.cli("trustee", "decrypt", polls.ready, "--key", "t2.pem")
    page.reload()
    expect(page.locator(".poll ul.results")).to_have_count(2)
    expect(page.locator(".poll > p.note")).to_have_count(0)
    results = json.loads(polls.cluster.cli("poll", "results", polls.ready, "--json").stdout)
    counts = [[o["count"] for o in q["options"]] for q in results["questions"]]
    assert counts == [[0, 1, 0], [1, 0, 0, 1]]
