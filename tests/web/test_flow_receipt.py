"""A citizen checks a ballot's receipt and reads their history in the browser, against a
real cluster of processes: the check of a real ballot passes every step of PROTOCOL.md
14.3 in plain words; a receipt file with one byte changed (in the commit certificate, in
the ballot) fails, naming the check; a pinned genesis hash that is not the node's fails
the genesis check; "My votes" lists the ballots of the browser's key, and keeps their
receipts so a ballot whose poll hides its choices can still be checked. The receipt and
history pages pass axe-core and are photographed at phone and desktop sizes.

The browser's voter key is put into IndexedDB by the test (a test-only shortcut for the
enrolment page, which test_flow_vote.py drives): a key from a known seed, stored as
keystore.js stores it, so that Python can enroll it and sign ballots with it.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

import votingcontract
from chain.keys import PrivateKey
from cli import demo
from tests.cluster.harness import LocalCluster
from tests.web.browser import (
    DESKTOP,
    PHONE,
    VIEWPORTS,
    Viewport,
    assert_accessible,
    screenshot,
    sideways_overflow,
)
from tests.web.conftest import OpenPage

SURVEY_TITLE = "How satisfied are you with the city's bike-sharing service?"


@dataclass(frozen=True)
class Ballots:
    cluster: LocalCluster
    url: str
    seed: bytes
    """The seed of the voter key the tests put into the browser."""
    survey: str
    ballot: str
    """The voter's ballot in the live survey, with the next block after it."""
    hidden_poll: str
    hidden_ballot: str
    """The voter's ballot in a poll that shows results only after close."""
    receipt: dict[str, Any]
    """`votechain receipt save` of `ballot`."""


def _vote(cluster: LocalCluster, voter: PrivateKey, poll_id: str, option: int) -> str:
    body = votingcontract.CastBallot(bytes.fromhex(poll_id), ((option,),))
    committed = cluster.submit(cluster.sign(voter, body))
    assert committed["receipt"]["accepted"], committed
    return str(committed["tx"]["tx_id"])


@pytest.fixture(scope="module")
def ballots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ballots]:
    folder = tmp_path_factory.mktemp("web-receipt")
    cluster = LocalCluster(folder, node_count=1)
    cluster.start()
    try:
        survey, _budget = demo.seed_if_fresh(cluster.config)
        spec = dict(demo.demo_polls(int(time.time() * 1000))[0])
        spec["title"] = "Night buses: which route first?"
        spec["visibility"] = "after_close"
        created = cluster.submit(
            cluster.sign(cluster.key("demo-org"), votingcontract.CreatePoll.from_dict(spec))
        )
        hidden_poll = str(created["tx"]["tx_id"])
        seed = hashlib.sha256(b"the receipt tests' voter").digest()
        voter = PrivateKey.from_seed(seed)
        cluster.enroll_directly("+821077770001", voter)
        ballot = _vote(cluster, voter, survey, 1)
        hidden_ballot = _vote(cluster, voter, hidden_poll, 0)
        # Another block after both, so each receipt is certified by the block after it.
        cluster.enroll_directly("+821077770002", PrivateKey.from_seed(bytes(32)))
        saved = folder / "receipt.json"
        cluster.cli("receipt", "save", ballot, str(saved))
        receipt = json.loads(saved.read_text())
        url = cluster.config.node("n1").rpc_url
        yield Ballots(cluster, url, seed, survey, ballot, hidden_poll, hidden_ballot, receipt)
    finally:
        cluster.stop()


def put_key(page: Page, seed: bytes) -> str:
    """Keep the voter key of `seed` in this browser as keystore.js keeps one (database
    "votechain", store "keys", name "voter"): a WebCrypto key imported non-extractable.
    Returns its public key in hex."""
    public: str = page.evaluate(
        """async seedHex => {
            const { signerFromSeed } = await import("/static/js/ed25519.js");
            const { fromHex, toHex } = await import("/static/js/bytes.js");
            const signer = await signerFromSeed(fromHex(seedHex));
            await new Promise((resolve, reject) => {
                const opened = indexedDB.open("votechain", 1);
                opened.onupgradeneeded = () => opened.result.createObjectStore("keys");
                opened.onerror = () => reject(opened.error);
                opened.onsuccess = () => {
                    const db = opened.result;
                    const tx = db.transaction("keys", "readwrite");
                    tx.objectStore("keys").put(
                        { kind: signer.kind, publicKey: signer.publicKey, secret: signer.secret },
                        "voter",
                    );
                    tx.oncomplete = () => { db.close(); resolve(); };
                    tx.onerror = () => reject(tx.error);
                };
            });
            return toHex(signer.publicKey);
        }""",
        seed.hex(),
    )
    return public


def texts(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        "() => JSON.parse(document.getElementById('texts').textContent)"
    )
    return found


def check_verdict(page: Page) -> str:
    verdict = page.locator("#check-verdict")
    expect(verdict).to_have_class(re.compile(r"verdict-(ok|failed|pending)"), timeout=30_000)
    return str(verdict.get_attribute("class"))


def checks(page: Page) -> list[tuple[str, str]]:
    """(check id, passed/failed/pending) of each check shown, in order."""
    found: list[list[str]] = page.evaluate(
        """() => [...document.querySelectorAll('#check-list li')]
            .map(li => [li.dataset.check, li.className.replace('check ', '')])"""
    )
    return [(check, state) for check, state in found]


ALL_PASSED = [
    (check, "passed")
    for check in (
        "genesis",
        "transaction",
        "header",
        "inclusion",
        "commit",
        "receipt",
        "receipt_commitment",
        "outcome",
    )
]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_a_real_ballots_receipt_passes_every_check_in_plain_words(
    ballots: Ballots, open_page: OpenPage, viewport: Viewport
) -> None:
    page = open_page(f"{ballots.url}/r/{ballots.ballot}", viewport)
    assert "verdict-ok" in check_verdict(page)
    assert checks(page) == ALL_PASSED
    words = texts(page)
    assert page.locator("#check-verdict").inner_text() == words["verdict_ok"]
    commit = page.locator("#check-list li[data-check=commit]").inner_text()
    # One validator in this cluster: the count of signers against the quorum.
    assert "제네시스에 지정된 검증 노드 1개 중 1개가" in commit and "필요한 수: 1개" in commit
    genesis_hash = ballots.cluster.client().get("/v1/genesis")["genesis_hash"]
    assert genesis_hash in page.locator("#check-list li[data-check=genesis]").inner_text()
    assert page.locator("#node-genesis-hash").inner_text() == genesis_hash
    expect(page.locator("#check-download")).to_be_visible()
    # The choices read from the ballot's signed bytes, for the voter to compare.
    expect(page.locator("#recorded")).to_be_visible()
    expect(page.locator("#recorded-poll")).to_have_text(SURVEY_TITLE)
    assert page.locator("#recorded-list").inner_text().split("\n") == [
        "Overall satisfaction",
        "Satisfied",
    ]
    assert sideways_overflow(page) == []
    assert_accessible(page, f"the receipt check ({viewport.name})")
    screenshot(page, "receipt", viewport)


def paste_and_check(page: Page, document: dict[str, Any]) -> str:
    page.locator("#receipt-text").fill(json.dumps(document))
    page.locator("#file-form button[type=submit]").click()
    page.wait_for_function("() => document.getElementById('check-source').textContent.length > 0")
    return check_verdict(page)


def flip_last_hex_digit(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def test_a_receipt_file_with_a_byte_changed_fails_naming_the_check(
    ballots: Ballots, open_page: OpenPage
) -> None:
    page = open_page(f"{ballots.url}/r?lang=en", DESKTOP)
    assert "verdict-ok" in paste_and_check(page, ballots.receipt)
    assert checks(page) == ALL_PASSED
    assert page.locator("#check-source").inner_text() == "Checked the receipt file you gave."

    # One byte of the commit certificate's signature changed.
    forged = dict(ballots.receipt, certificate=flip_last_hex_digit(ballots.receipt["certificate"]))
    assert "verdict-failed" in paste_and_check(page, forged)
    assert checks(page)[-1] == ("commit", "failed")
    assert page.locator("#check-verdict").inner_text() == "The check failed: Commit certificate."
    failed = page.locator("#check-list li.failed").inner_text()
    assert "nothing shows that the validators committed this block" in failed
    assert "Valid signatures: 0; needed: 1." in failed

    # One byte of the ballot itself changed.
    forged = dict(ballots.receipt, tx=flip_last_hex_digit(ballots.receipt["tx"]))
    assert "verdict-failed" in paste_and_check(page, forged)
    assert checks(page) == [("genesis", "passed"), ("transaction", "failed")]
    expect(page.locator("#recorded")).to_be_hidden()  # no choices from altered bytes
    assert page.locator("#check-verdict").inner_text() == "The check failed: Ballot transaction."

    # A Merkle proof that leads elsewhere: the position changed.
    proof = dict(ballots.receipt["tx_proof"], index=ballots.receipt["tx_proof"]["index"] + 1)
    forged = dict(ballots.receipt, tx_proof=proof)
    assert "verdict-failed" in paste_and_check(page, forged)
    assert checks(page)[-1] == ("inclusion", "failed")

    page.locator("#receipt-text").fill("{not json")
    page.locator("#file-form button[type=submit]").click()
    expect(page.locator("#file-status")).to_have_text(
        "The text is not a receipt file: it is not JSON."
    )


def test_a_receipt_file_is_loaded_from_disk(
    ballots: Ballots, open_page: OpenPage, tmp_path: Path
) -> None:
    saved = tmp_path / "ballot.json"
    saved.write_text(json.dumps(ballots.receipt))
    page = open_page(f"{ballots.url}/r", PHONE)
    page.locator("#receipt-file").set_input_files(str(saved))
    page.locator("#file-form button[type=submit]").click()
    assert "verdict-ok" in check_verdict(page)


def test_a_pinned_genesis_hash_that_is_not_the_nodes_fails_the_genesis_check(
    ballots: Ballots, open_page: OpenPage
) -> None:
    page = open_page(f"{ballots.url}/r/{ballots.ballot}?lang=en", DESKTOP)
    assert "verdict-ok" in check_verdict(page)
    page.locator("#pinned-hash").fill("ab" * 32)
    page.locator("#pin-form button[type=submit]").click()
    expect(page.locator("#check-verdict")).to_have_text("The check failed: Chain (genesis).")
    assert checks(page) == [("genesis", "failed")]
    assert "ab" * 32 in page.locator("#check-list").inner_text()
    # The published hash pinned: the check passes and says it used the pin.
    genesis_hash = page.locator("#node-genesis-hash").inner_text()
    page.locator("#pinned-hash").fill(genesis_hash)
    page.locator("#pin-form button[type=submit]").click()
    expect(page.locator("#check-verdict")).to_have_class("verdict verdict-ok")
    assert "you pinned" in page.locator("#check-list li[data-check=genesis]").inner_text()


def test_my_votes_without_a_key_says_how_to_enroll(ballots: Ballots, open_page: OpenPage) -> None:
    page = open_page(f"{ballots.url}/me", PHONE)
    expect(page.locator("#history-no-key")).to_be_visible()
    expect(page.locator("#history-no-key a[href='/enroll']")).to_be_visible()
    assert page.locator("#history-list li").count() == 0


def test_my_votes_with_a_key_the_chain_does_not_know_says_to_verify_the_phone(
    ballots: Ballots, open_page: OpenPage
) -> None:
    page = open_page(f"{ballots.url}/me?lang=en", DESKTOP)
    put_key(page, hashlib.sha256(b"a key never enrolled").digest())
    page.reload()
    expect(page.locator("#history-status")).to_have_text(texts(page)["not_enrolled"])
    expect(page.locator("#history-enroll a[href='/enroll']")).to_be_visible()
    assert page.locator("#history-list li").count() == 0


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_my_votes_lists_the_ballots_and_keeps_receipts_for_a_hidden_ballots_check(
    ballots: Ballots, open_page: OpenPage, viewport: Viewport
) -> None:
    page = open_page(f"{ballots.url}/r/{ballots.hidden_ballot}", viewport)
    # The node gives no contents of a ballot whose poll hides its results.
    expect(page.locator("#check-verdict")).to_have_text(texts(page)["hidden_no_copy"])

    page.goto(f"{ballots.url}/me")
    put_key(page, ballots.seed)
    page.reload()
    polls = page.locator("#history-list > li")
    expect(polls).to_have_count(2)
    expect(polls.first.locator("h2")).to_have_text(SURVEY_TITLE)
    expect(polls.nth(1).locator("h2")).to_have_text("Night buses: which route first?")
    first = polls.first.locator(".ballot")
    expect(first).to_have_count(1)
    assert ballots.ballot in first.inner_text()
    assert "번 블록" in first.inner_text()
    assert first.locator("a").get_attribute("href") == f"/r/{ballots.ballot}"
    expect(page.locator("#history-status")).to_have_text(
        texts(page)["count"].replace("%(total)s", "2")
    )
    assert sideways_overflow(page) == []
    assert_accessible(page, f"my votes ({viewport.name})")
    screenshot(page, "history", viewport)

    # The history kept the hidden ballot's receipt: its check runs now.
    polls.nth(1).locator(".ballot a").click()
    page.wait_for_url(f"{ballots.url}/r/{ballots.hidden_ballot}")
    assert "verdict-ok" in check_verdict(page)
    assert checks(page) == ALL_PASSED


def test_my_votes_without_the_node_lists_the_receipts_kept_in_the_browser(
    ballots: Ballots, browser: Browser
) -> None:
    # A context of its own, not open_page's: the history request the test cuts off is
    # logged by Chromium as a failed load, which open_page's watch counts as a problem.
    context = browser.new_context(locale="ko-KR", service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{ballots.url}/me")
    put_key(page, ballots.seed)
    page.reload()
    polls = page.locator("#history-list > li")
    expect(polls).to_have_count(2)
    expect(polls.first.locator("h2")).to_have_text(SURVEY_TITLE)

    page.route("**/v1/history", lambda route: route.abort("internetdisconnected"))
    page.reload()
    expect(page.locator("#history-status")).to_have_text(texts(page)["offline"])
    expect(polls).to_have_count(2)
    expect(polls.first.locator("h2")).to_have_text(SURVEY_TITLE)  # remembered
    assert ballots.ballot in polls.first.inner_text()
    assert ballots.hidden_ballot in polls.nth(1).inner_text()
    context.close()
    assert errors == []


def test_a_receipt_file_is_checked_against_its_own_genesis_when_the_node_gives_none(
    ballots: Ballots, browser: Browser
) -> None:
    # A context of its own: the genesis request the test cuts off is logged as a failed
    # load, which open_page's watch counts as a problem.
    context = browser.new_context(locale="en-GB", service_workers="block")
    page = context.new_page()
    page.route("**/v1/genesis", lambda route: route.abort("internetdisconnected"))
    page.goto(f"{ballots.url}/r")
    assert "verdict-ok" in paste_and_check(page, ballots.receipt)
    genesis = page.locator("#check-list li[data-check=genesis]").inner_text()
    assert "carried in the receipt itself" in genesis
    assert ballots.receipt["genesis_hash"] in genesis
    context.close()
