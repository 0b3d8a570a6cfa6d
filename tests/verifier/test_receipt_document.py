"""A receipt document built from a node's GET /v1/tx answer, and the check that the node
still holds the receipt's header (PROTOCOL.md 14.3 check 9), in this process against the
real cluster's saved receipt (issue 12: mutation testing found both reached by no test
that runs them here; `votechain receipt save` and `check` run them in a subprocess).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chain.genesis import Genesis
from tests.verifier.cluster_chain import ClusterChain
from verifier.errors import VerificationFailure
from verifier.receipts import check_header_on_chain, receipt_from_committed_tx, verify_receipt
from verifier.sources import DataDirSource


def _saved(cluster_chain: ClusterChain) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(cluster_chain.receipt_file).read_text())
    return document


def _answer(saved: dict[str, Any]) -> dict[str, Any]:
    """The node's answer that `votechain receipt save` turned into `saved`."""
    summary, following = saved["summary"], saved["receipt_proof"]
    return {
        "tx": {
            "tx_id": saved["tx_id"],
            "encoded": saved["tx"],
            "kind": summary["kind"],
            "body": summary["body"],
        },
        "height": saved["height"],
        "position": saved["position"],
        "header": {"encoded": saved["header"], "hash": summary["block_hash"]},
        "certificate": {"encoded": saved["certificate"]},
        "tx_proof": saved["tx_proof"],
        "receipt": {"encoded": saved["receipt"], "code": summary["code"]},
        "receipt_proof": None
        if following is None
        else {
            "proof": following["proof"],
            "next_header": {"encoded": following["next_header"]},
            "next_certificate": {"encoded": following["next_certificate"]},
        },
    }


def test_the_document_is_the_one_receipt_save_wrote(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    genesis = Genesis.from_json(cluster_chain.genesis_json)
    built = receipt_from_committed_tx(_answer(saved), genesis)
    assert built == saved
    assert saved["receipt_proof"] is not None and saved["summary"]["code"] == "accepted"
    verify_receipt(built, genesis)
    bare = receipt_from_committed_tx(_answer(saved), genesis, include_genesis=False)
    assert bare == {k: v for k, v in saved.items() if k != "genesis"}


def test_an_answer_without_the_next_block_gives_no_receipt_proof(
    cluster_chain: ClusterChain,
) -> None:
    answer = _answer(_saved(cluster_chain))
    answer["receipt_proof"] = None
    genesis = Genesis.from_json(cluster_chain.genesis_json)
    assert receipt_from_committed_tx(answer, genesis)["receipt_proof"] is None


@pytest.mark.parametrize("field", ["tx", "height", "header", "certificate", "tx_proof", "receipt"])
def test_an_answer_that_lacks_a_field_is_refused(cluster_chain: ClusterChain, field: str) -> None:
    answer = _answer(_saved(cluster_chain))
    del answer[field]
    genesis = Genesis.from_json(cluster_chain.genesis_json)
    with pytest.raises(VerificationFailure) as caught:
        receipt_from_committed_tx(answer, genesis)
    assert (caught.value.subject, caught.value.reason) == (
        "the node's answer",
        f"lacks a field: '{field}'",
    )


def test_the_node_still_holding_the_header_passes_check_9(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    check_header_on_chain(saved, bytes.fromhex(saved["header"]))


def test_another_header_at_that_height_fails_check_9(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    other = bytes.fromhex(saved["receipt_proof"]["next_header"])
    with pytest.raises(VerificationFailure) as caught:
        check_header_on_chain(saved, other)
    failure = caught.value
    assert (failure.height, failure.rule) == (saved["height"], 9)
    assert failure.subject == f"block {saved['height']} on the node"
    assert failure.reason.endswith(": the chain was rewritten, or the node is on another")
    assert saved["summary"]["block_hash"][:16] in failure.reason


def test_an_undecodable_header_from_the_node_fails_check_9(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    with pytest.raises(VerificationFailure) as caught:
        check_header_on_chain(saved, b"\x00garbage")
    failure = caught.value
    assert (failure.height, failure.rule) == (saved["height"], 9)
    assert failure.subject == f"the node's header of block {saved['height']}"
    assert failure.reason.startswith("does not decode: ")


def test_proof_siblings_are_copied_in_order(cluster_chain: ClusterChain) -> None:
    answer = _answer(_saved(cluster_chain))
    answer["tx_proof"] = {"index": "1", "leaf_count": 3, "siblings": ["ab", "cd"]}
    genesis = Genesis.from_json(cluster_chain.genesis_json)
    document = receipt_from_committed_tx(answer, genesis)
    assert document["tx_proof"] == {"index": 1, "leaf_count": 3, "siblings": ["ab", "cd"]}


def test_a_saved_header_that_does_not_decode_fails_check_3(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    broken = {**saved, "header": "00ff"}
    with pytest.raises(VerificationFailure) as caught:
        check_header_on_chain(broken, bytes.fromhex(saved["header"]))
    failure = caught.value
    assert (failure.height, failure.rule, failure.subject) == (
        saved["height"],
        3,
        "the receipt's header",
    )


def test_a_failure_as_json_names_its_fields() -> None:
    failure = VerificationFailure(12, "block 12", "does not link", 6)
    assert failure.to_dict() == {
        "height": 12,
        "object": "block 12",
        "reason": "does not link",
        "rule": 6,
        "message": "block 12 does not link",
    }


def test_a_folder_that_is_not_a_chain_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(VerificationFailure) as caught:
        DataDirSource(tmp_path)
    assert (caught.value.subject, caught.value.reason) == (
        str(tmp_path),
        "is not a votechain LevelDB chain directory",
    )
    assert caught.value.height is None


def test_a_checked_receipt_as_json(cluster_chain: ClusterChain) -> None:
    """What `votechain receipt verify --json` prints for the saved ballot's receipt."""
    saved = _saved(cluster_chain)
    genesis = Genesis.from_json(cluster_chain.genesis_json)
    shown = verify_receipt(saved, genesis).to_dict()
    assert shown == {
        "ok": True,
        "tx_id": saved["tx_id"],
        "height": saved["height"],
        "position": saved["position"],
        "block_hash": saved["summary"]["block_hash"],
        "genesis_hash": cluster_chain.genesis_hash,
        "kind": "cast_ballot",
        "code": "accepted",
        "accepted": True,
        "poll_id": shown["poll_id"],
        "certificate_signers": shown["certificate_signers"],
        "receipt_certified": True,
    }
    assert shown["poll_id"] in cluster_chain.poll_ids
    assert 3 <= shown["certificate_signers"] <= 4  # a quorum of the 4 validators
    unproven = verify_receipt({**saved, "receipt_proof": None}, genesis).to_dict()
    assert (unproven["ok"], unproven["accepted"], unproven["receipt_certified"]) == (
        False,
        True,
        False,
    )


def _receipt_failure(document: dict[str, Any], genesis_json: str) -> VerificationFailure:
    with pytest.raises(VerificationFailure) as caught:
        verify_receipt(document, Genesis.from_json(genesis_json))
    return caught.value


def test_an_undecodable_certificate_fails_check_5(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    failure = _receipt_failure({**saved, "certificate": "zz"}, cluster_chain.genesis_json)
    assert (failure.height, failure.rule) == (saved["height"], 5)
    assert (failure.subject, failure.reason) == ("receipt file", "has no valid certificate")


@pytest.mark.parametrize("field", ["next_header", "next_certificate"])
def test_an_undecodable_part_of_the_receipt_proof_fails_check_7(
    cluster_chain: ClusterChain, field: str
) -> None:
    saved = _saved(cluster_chain)
    proof = {**saved["receipt_proof"], field: "zz"}
    failure = _receipt_failure({**saved, "receipt_proof": proof}, cluster_chain.genesis_json)
    assert (failure.height, failure.rule) == (saved["height"] + 1, 7)
    assert failure.reason.startswith(f"has no valid {field}")


def test_a_next_header_that_does_not_link_fails_check_7(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    proof = {**saved["receipt_proof"], "next_header": saved["header"]}
    failure = _receipt_failure({**saved, "receipt_proof": proof}, cluster_chain.genesis_json)
    assert (failure.height, failure.rule) == (saved["height"] + 1, 7)


def test_a_transaction_that_is_not_hex_fails_check_2(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    failure = _receipt_failure({**saved, "tx": "zz"}, cluster_chain.genesis_json)
    assert (failure.height, failure.rule, failure.subject) == (
        saved["height"],
        2,
        "the receipt's tx",
    )


def test_a_malformed_inclusion_proof_fails_check_4(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    failure = _receipt_failure({**saved, "tx_proof": {"index": 0}}, cluster_chain.genesis_json)
    assert (failure.height, failure.rule) == (saved["height"], 4)
    assert (failure.subject, failure.reason) == ("receipt file", "has a malformed tx_proof")


def test_a_malformed_receipt_proof_fails_check_7(cluster_chain: ClusterChain) -> None:
    saved = _saved(cluster_chain)
    proof = {**saved["receipt_proof"], "proof": {"index": 0}}
    failure = _receipt_failure({**saved, "receipt_proof": proof}, cluster_chain.genesis_json)
    assert failure.rule == 7 and failure.height is not None
    assert (failure.subject, failure.reason) == (
        "receipt file",
        "has a malformed receipt_proof.proof",
    )
