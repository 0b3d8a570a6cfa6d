"""A citizen's receipt checked in real headless Chromium by webapp/static/js/receipt.js
(PROTOCOL.md section 14.3): a real one from a live node verifies, check by check in plain
words; tampered ones (the header, a certificate signature, a proof step, the receipt's
code, non-canonical bytes, another genesis) fail at the check that names what was
changed, the same check at which Python's verifier (`votechain receipt`) fails them."""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

import votingcontract
from bench.chaingen import ChainSpec, GeneratedChain
from chain import encoding
from chain.block import Block
from chain.certificate import CommitCertificate
from chain.genesis import Genesis
from chain.keys import PrivateKey
from chain.store import ChainStore
from chain.tx import Transaction
from node import views
from node.app import ChainApplication
from tests.node.live_node import LiveNode
from tests.web.conftest import OpenPage
from tests.web.js_modules import module_server, run, wait_ready
from tests.web.web_node import WebNode
from verifier.errors import VerificationFailure
from verifier.receipts import receipt_from_committed_tx, verify_receipt

CHECK = """
const [document, trusted] = args;
return await vc.receipt.checkReceipt(document, trusted);
"""
FROM_COMMITTED = "return await vc.receipt.receiptFromCommitted(args[0], args[1]);"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    """A real node serving the web app too, as `votechain node` starts it."""
    node = WebNode(tmp_path_factory.mktemp("receipt-node"))
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def page(open_page: OpenPage) -> Iterator[Page]:
    with module_server() as url:
        yield wait_ready(open_page(url + "/modules.html"))


def commit(live: LiveNode, tx: bytes) -> dict[str, Any]:
    reply = live.post_json("/v1/tx?wait=commit", {"tx": tx.hex()})
    assert reply.status == 200, reply.body
    document: dict[str, Any] = reply.json()
    return document


def fetch(live: LiveNode, tx_id: str) -> dict[str, Any]:
    reply = live.get(f"/v1/tx/{tx_id}")
    assert reply.status == 200, reply.body
    document: dict[str, Any] = reply.json()
    return document


@pytest.fixture(scope="module")
def ballots(live: LiveNode) -> dict[str, str]:
    """The poll's id, and the tx ids of a voter's accepted ballot and of the same voter's
    second ballot, refused as a duplicate in the same block."""
    voter = PrivateKey.from_seed(hashlib.sha256(b"receipt voter").digest())
    assert commit(live, live.enroll_tx(voter, "+821055501234"))["receipt"]["accepted"]
    now = int(time.time() * 1000)
    poll = votingcontract.CreatePoll.from_dict(
        {
            "kind": "citizen",
            "title": "놀이터 새 그네",
            "opens_at_ms": now - 60_000,
            "closes_at_ms": now + 3_600_000,
            "questions": [{"text": "Which swing?", "options": ["Red", "Blue"]}],
        }
    )
    created = commit(live, live.sign(voter, poll.KIND, poll.encode()))
    assert created["receipt"]["accepted"], created
    poll_id = bytes.fromhex(created["tx"]["tx_id"])
    ballot = votingcontract.CastBallot(poll_id, ((1,),))
    # Admission refuses a ballot the state machine would refuse, so the second ballot
    # goes in before the first has executed: both reach a block, the second is refused.
    first_tx = live.sign(voter, ballot.KIND, ballot.encode())
    sent = live.post_json("/v1/tx", {"tx": first_tx.hex()})
    assert sent.status in (200, 202), sent.body
    again = commit(live, live.sign(voter, ballot.KIND, ballot.encode()))
    first = fetch(live, Transaction.decode(first_tx).tx_id.hex())
    assert first["receipt"]["accepted"] and again["receipt"]["code"] == "duplicate"
    # One more block, so that the ballots' block has a successor certifying its receipts.
    neighbour = PrivateKey.from_seed(hashlib.sha256(b"receipt neighbour").digest())
    assert commit(live, live.enroll_tx(neighbour, "+821055505678"))["receipt"]["accepted"]
    return {
        "poll": poll_id.hex(),
        "accepted": first["tx"]["tx_id"],
        "refused": again["tx"]["tx_id"],
    }


def genesis_doc(live: LiveNode) -> dict[str, Any]:
    reply = live.get("/v1/genesis")
    assert reply.status == 200
    document: dict[str, Any] = reply.json()
    return document


def receipt_document(page: Page, live: LiveNode, tx_id: str) -> dict[str, Any]:
    """The receipt file the browser builds from GET /v1/tx/{tx_id} and GET /v1/genesis."""
    document: dict[str, Any] = run(page, FROM_COMMITTED, fetch(live, tx_id), genesis_doc(live))
    return document


def python_verdict(document: dict[str, Any]) -> int | None:
    """The check at which Python's verifier fails the document, or None if it passes."""
    try:
        verify_receipt(document)
    except VerificationFailure as failure:
        return failure.rule
    return None


def test_a_real_receipt_verifies_check_by_check(page: Page, live: LiveNode, ballots: Any) -> None:
    document = receipt_document(page, live, ballots["accepted"])
    assert python_verdict(document) is None  # the browser's receipt file is a valid one
    result = run(page, CHECK, document, None)
    assert result["ok"] and result["accepted"] and result["certified"]
    assert [c["check"] for c in result["checks"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert all(c["ok"] for c in result["checks"])
    words = {c["id"]: c["text"] for c in result["checks"]}
    assert "compare this with the hash the city publishes" in words["genesis"]
    assert "1 of the 1 validators named in genesis signed block" in words["commit"]
    assert "holds this receipt in its receipts root" in words["receipt_commitment"]
    assert words["outcome"] == "The chain accepted the transaction."
    summary = result["summary"]
    assert summary["txId"] == ballots["accepted"] and summary["kind"] == "cast_ballot"
    genesis = Genesis.from_json(json.dumps(genesis_doc(live)))
    assert summary["genesisHash"] == genesis.genesis_hash.hex()
    trusted = run(page, CHECK, document, genesis_doc(live))
    assert trusted["ok"] and "the chain whose genesis you trust" in trusted["checks"][0]["text"]


def test_a_refused_ballot_is_proved_refused(page: Page, live: LiveNode, ballots: Any) -> None:
    document = receipt_document(page, live, ballots["refused"])
    result = run(page, CHECK, document, None)
    assert not result["ok"] and result["failure"]["check"] == 8 == python_verdict(document)
    assert result["failure"]["text"] == "The chain refused the transaction: duplicate."
    assert [c["ok"] for c in result["checks"]] == [True] * 7 + [False]


def test_a_receipt_before_the_next_block_says_it_is_not_certified_yet(
    page: Page, live: LiveNode, ballots: Any
) -> None:
    document = receipt_document(page, live, ballots["accepted"])
    document["receipt_proof"] = None  # as saved when the ballot's block was the head
    result = run(page, CHECK, document, None)
    assert not result["ok"] and not result["certified"] and result["failure"] is None
    step = next(c for c in result["checks"] if c["id"] == "receipt_commitment")
    assert step["params"]["pending"] and "not certified yet" in step["text"]


def _reencode(hex_value: str, change: Any) -> str:
    value = encoding.decode(bytes.fromhex(hex_value))
    change(value)
    return encoding.encode(value).hex()


def _flip(hex_value: str, at: int) -> str:
    data = bytearray(bytes.fromhex(hex_value))
    data[at] ^= 0x01
    return data.hex()


def _later_timestamp(header: list[Any]) -> None:
    header[3] += 1


def _flip_signature(certificate: list[Any]) -> None:
    signature = bytearray(certificate[4][0][1])
    signature[10] ^= 0x01
    certificate[4][0][1] = bytes(signature)


def _accepted(receipt: list[Any]) -> None:
    receipt[2] = "accepted"


def _tamper_cases() -> list[tuple[str, Any, int, str]]:
    """(what, change to the document, failing check, words the failure must use)."""

    def header(d: dict[str, Any]) -> None:
        d["header"] = _reencode(d["header"], _later_timestamp)

    def certificate_signature(d: dict[str, Any]) -> None:
        d["certificate"] = _reencode(d["certificate"], _flip_signature)

    def next_certificate_signature(d: dict[str, Any]) -> None:
        proof = d["receipt_proof"]
        proof["next_certificate"] = _reencode(proof["next_certificate"], _flip_signature)

    def proof_step(d: dict[str, Any]) -> None:
        d["tx_proof"]["leaf_count"] += 1
        d["tx_proof"]["siblings"].append("00" * 32)

    def receipt_proof_step(d: dict[str, Any]) -> None:
        d["receipt_proof"]["proof"]["index"] += 1

    def receipt_code(d: dict[str, Any]) -> None:
        d["receipt"] = _reencode(d["receipt"], _accepted)

    def non_canonical_header(d: dict[str, Any]) -> None:
        d["header"] = d["header"][:2] + "cc" + d["header"][2:]  # version 1 as uint 8

    def other_genesis(d: dict[str, Any]) -> None:
        d["genesis"]["genesis_time_ms"] += 1

    def transaction_byte(d: dict[str, Any]) -> None:
        d["tx"] = _flip(d["tx"], len(d["tx"]) // 2 - 40)

    def tx_signature(d: dict[str, Any]) -> None:
        d["tx"] = _flip(d["tx"], len(d["tx"]) // 2 - 3)
        d["tx_id"] = hashlib.sha256(b"\x02" + bytes.fromhex(d["tx"])).hexdigest()

    return [
        ("the header", header, 5, "certifies block"),
        ("a certificate signature", certificate_signature, 5, "has a bad signature from"),
        ("the next certificate", next_certificate_signature, 7, "has a bad signature from"),
        ("a transaction proof step", proof_step, 4, "its Merkle proof does not lead"),
        ("a receipt proof step", receipt_proof_step, 7, "not in the receipts root"),
        ("the receipt's code", receipt_code, 7, "not in the receipts root"),
        ("non-canonical header bytes", non_canonical_header, 3, "non-canonical"),
        ("the genesis", other_genesis, 1, "but the receipt is for genesis"),
        ("a transaction byte", transaction_byte, 2, "transaction"),
        ("the transaction's signature", tx_signature, 2, "does not verify"),
    ]


@pytest.mark.parametrize(
    ("what", "change", "check", "words"),
    _tamper_cases(),
    ids=[case[0].replace(" ", "-").replace("'", "") for case in _tamper_cases()],
)
def test_a_tampered_receipt_fails_at_the_check_that_names_it(
    page: Page, live: LiveNode, ballots: Any, what: str, change: Any, check: int, words: str
) -> None:
    target = ballots["refused"] if what == "the receipt's code" else ballots["accepted"]
    document = receipt_document(page, live, target)
    tampered = copy.deepcopy(document)
    change(tampered)
    assert python_verdict(tampered) == check  # the premise: Python fails it there too
    result = run(page, CHECK, tampered, None)
    assert not result["ok"], what
    failure = result["failure"]
    assert failure["check"] == check, f"{what}: {failure}"
    assert words in failure["text"], f"{what}: {failure['text']}"
    assert [c["ok"] for c in result["checks"]] == [True] * (len(result["checks"]) - 1) + [False]


def test_a_hostile_document_fails_a_check_and_never_throws(page: Page) -> None:
    cases: list[Any] = [
        None,
        [],
        {"format": "votechain-receipt"},
        {"format": "votechain-receipt", "version": 1},
    ]
    results = run(
        page,
        "return Promise.all(args[0].map((d) => vc.receipt.checkReceipt(d)));",
        cases,
    )
    for case, result in zip(cases, results, strict=True):
        assert not result["ok"] and result["failure"]["id"] in ("file", "genesis"), case


def test_every_position_of_blocks_with_many_transactions_verifies(
    page: Page, tmp_path: Any
) -> None:
    """Blocks of 7: every proof has sibling steps, and promoted nodes at some level."""
    chain = GeneratedChain(ChainSpec(ballots=12, polls=2, block_txs=7))
    documents = []
    with ChainStore(tmp_path / "chain") as store:
        store.initialize(chain.genesis(), votingcontract.genesis_writes(chain.genesis()))
        app = ChainApplication(store, chain.validator_keys[0].public_key)
        for raw in chain.blocks():
            app.commit(Block.decode(raw.block), CommitCertificate.decode(raw.certificate))
        for height in range(1, store.head_height):
            for position in range(len(store.get_block(height).transactions)):
                answer = views.committed_tx(store, height, position, None)
                documents.append(receipt_from_committed_tx(answer, chain.genesis()))
    assert len(documents) >= 14
    results = run(
        page,
        "return Promise.all(args[0].map((d) => vc.receipt.checkReceipt(d)));",
        documents,
    )
    for document, result in zip(documents, results, strict=True):
        expected = python_verdict(document)
        where = (document["height"], document["position"])
        if expected is None:
            assert result["ok"], (where, result["failure"])
        else:
            assert result["failure"]["check"] == expected, (where, result["failure"])
        siblings = document["tx_proof"]["siblings"]
        if siblings:
            flipped = copy.deepcopy(document)
            flipped["tx_proof"]["siblings"][0] = _flip(siblings[0], 0)
            assert python_verdict(flipped) == 4
            again = run(page, CHECK, flipped, None)
            assert again["failure"]["check"] == 4, where


def test_check_9_asks_whether_the_node_still_has_the_block(
    page: Page, live: LiveNode, ballots: Any
) -> None:
    document = receipt_document(page, live, ballots["accepted"])
    height = document["height"]
    same = live.get(f"/v1/raw/blocks/{height}")
    other = live.get(f"/v1/raw/blocks/{height + 1}")
    assert same.status == other.status == 200
    script = "return await vc.receipt.checkOnChain(args[0], vc.bytes.fromHex(args[1]));"
    kept = run(page, script, document, same.body.hex())
    assert kept["ok"] and kept["check"] == 9
    assert kept["text"] == f"The node still has this block at height {height}."
    moved = run(page, script, document, other.body.hex())
    assert not moved["ok"] and "the chain was rewritten, or the node is on another" in moved["text"]
    broken = run(page, script, document, "93" + same.body.hex()[2:-2])
    assert not broken["ok"] and "does not decode" in broken["text"]


def test_a_page_of_the_node_loads_the_modules_and_checks_a_receipt_it_fetched(
    open_page: OpenPage, live: LiveNode, ballots: Any
) -> None:
    """The whole path a citizen's browser takes: the modules from the node's /static/
    under its security headers, the transaction and genesis from its RPC."""
    page = open_page(live.config.node("n1").rpc_url + "/", locale="en-US")
    result = page.evaluate(
        """async (txId) => {
          const receipt = await import("/static/js/receipt.js");
          const committed = await (await fetch(`/v1/tx/${txId}`)).json();
          const genesis = await (await fetch("/v1/genesis")).json();
          const document = await receipt.receiptFromCommitted(committed, genesis);
          const result = await receipt.checkReceipt(document, null);
          return {ok: result.ok, checks: result.checks.map((c) => [c.check, c.ok, c.text])};
        }""",
        ballots["accepted"],
    )
    assert result["ok"], result
    assert [check for check, _, _ in result["checks"]] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_a_key_made_in_the_page_votes_and_the_chain_accepts_the_ballot(
    open_page: OpenPage, live: LiveNode, ballots: Any
) -> None:
    """A non-extractable WebCrypto key made and kept by the page, enrolled for a phone,
    signs a ballot the node accepts; the page then checks its receipt."""
    page = open_page(live.config.node("n1").rpc_url + "/", locale="en-US")
    public_key = page.evaluate(
        """async () => {
          const keystore = await import("/static/js/keystore.js");
          const { toHex } = await import("/static/js/bytes.js");
          return toHex((await keystore.createKey("voter")).publicKey);
        }"""
    )
    enroll = votingcontract.EnrollVoter(
        votingcontract.phone_id(live.pepper, "+821055509876"), bytes.fromhex(public_key)
    )
    attester = live.cluster.key("attester")
    assert commit(live, live.sign(attester, enroll.KIND, enroll.encode()))["receipt"]["accepted"]
    result = page.evaluate(
        """async (pollId) => {
          const { loadKey } = await import("/static/js/keystore.js");
          const { buildBody } = await import("/static/js/bodies.js");
          const { randomNonce, signTransaction } = await import("/static/js/tx.js");
          const { toHex } = await import("/static/js/bytes.js");
          const receipt = await import("/static/js/receipt.js");
          const key = await loadKey("voter");
          const chainId = (await (await fetch("/v1/status")).json()).chain_id;
          const body = buildBody("cast_ballot", {poll_id: pollId, selections: [[0]]});
          const signed = await signTransaction(key, chainId, "cast_ballot", body, randomNonce());
          const answer = await fetch("/v1/tx?wait=commit", {method: "POST",
            headers: {"Content-Type": "application/msgpack"}, body: signed.bytes});
          const committed = await answer.json();
          const genesis = await (await fetch("/v1/genesis")).json();
          const document = await receipt.receiptFromCommitted(committed, genesis);
          const checked = await receipt.checkReceipt(document, null);
          return {status: answer.status, code: committed.receipt.code, txId: toHex(signed.txId),
                  signer: committed.tx.signer, kind: key.kind,
                  checks: checked.checks.map((c) => [c.check, c.ok])};
        }""",
        ballots["poll"],
    )
    assert result["status"] == 200 and result["code"] == "accepted", result
    assert result["kind"] == "webcrypto" and result["signer"] == public_key
    assert fetch(live, result["txId"])["receipt"]["code"] == "accepted"
    # The block has no successor yet: checks 1-6 pass and 7 says it is not certified yet.
    assert [check for check, _ in result["checks"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert all(ok for _, ok in result["checks"])


def test_an_answer_without_the_fields_of_a_committed_tx_is_refused_saying_so(
    page: Page, live: LiveNode
) -> None:
    got = run(
        page,
        """try { await vc.receipt.receiptFromCommitted(args[0], args[1]); return null; }
        catch (e) { return [e.name, e.message]; }""",
        {"height": 3, "tx": {"tx_id": "00"}},
        genesis_doc(live),
    )
    assert got is not None and got[0] == "DecodeError"
    assert got[1].startswith("the node's answer lacks a field")
