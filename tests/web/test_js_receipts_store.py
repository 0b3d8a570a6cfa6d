"""static/js/receipts_store.js in Chromium: the receipts a citizen's browser keeps never
get poorer when saved again, and what is not a receipt is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.web.js_modules import module_server, run, wait_ready

TX_ID = "ab" * 32


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with module_server() as url:
        yield url


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context()  # a fresh IndexedDB for each test
    opened = context.new_page()
    opened.goto(server + "/modules.html")
    wait_ready(opened)
    yield opened
    context.close()


def store(page: Page, script: str, *args: Any) -> Any:
    return run(page, 'const store = await import("/js/receipts_store.js");\n' + script, *args)


def test_a_later_copy_without_the_ballots_bytes_keeps_them_and_adds_the_next_blocks_proof(
    page: Page,
) -> None:
    kept = store(
        page,
        """
        const [txId] = args;
        // The vote page's copy: the full ballot, no next block yet.
        await store.saveReceipt({status: "committed", height: 5, position: 0,
            tx: {tx_id: txId, kind: "cast_ballot", encoded: "00ff"}, receipt_proof: null});
        // The node's answer later, while the poll hides its results.
        await store.saveReceipt({height: 5, position: 0,
            tx: {tx_id: txId, kind: "cast_ballot", encoded: null, choices_hidden: true},
            receipt_proof: {proof: "p"}});
        const record = await store.loadReceipt(txId);
        return {encoded: record.committed.tx.encoded, proof: record.committed.receipt_proof,
                status: "status" in record.committed, count: (await store.listReceipts()).length};
        """,
        TX_ID,
    )
    assert kept == {"encoded": "00ff", "proof": {"proof": "p"}, "status": False, "count": 1}


def test_a_receipt_file_is_kept_beside_the_committed_copy(page: Page) -> None:
    kept = store(
        page,
        """
        const [txId] = args;
        await store.saveReceipt({height: 1, position: 0, tx: {tx_id: txId, encoded: "01"}});
        await store.saveReceipt({format: "votechain-receipt", version: 1, tx_id: txId});
        const record = await store.loadReceipt(txId);
        return [record.file.format, record.committed.tx.encoded, await store.loadReceipt("00")];
        """,
        TX_ID,
    )
    assert kept == ["votechain-receipt", "01", None]


@pytest.mark.parametrize(
    "document",
    [None, {}, {"tx": {"tx_id": "AB" * 32}}, {"tx": {"tx_id": "ab"}}, {"format": "x", "tx_id": 1}],
)
def test_what_is_not_a_receipt_is_refused_and_nothing_is_kept(page: Page, document: Any) -> None:
    outcome = store(
        page,
        """
        try { await store.saveReceipt(args[0]); return "saved"; }
        catch (error) { return [error.name, (await store.listReceipts()).length]; }
        """,
        document,
    )
    assert outcome == ["TypeError", 0]
