"""What `votechain verify` tells an auditor about each forged chain: the height, the rule,
the object and the reason, word for word (testdata/forged_chain_failures.json), with one
signature worker and with two; and the whole report of the unforged chain.

test_forged_rules.py checks the height, the rule and a phrase of each failure. Issue 12's
mutation testing found the rest of what the auditor reads (which block, which hash, which
numbers) free to change. After a deliberate change of wording, regenerate the expected
file and review its diff:

    python -m tests.verifier.test_forged_chain_failures --write
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chain.tx import MAX_TX_BYTES, Transaction
from tests.verifier import forge
from tests.verifier.forge import ChainCase, Draft, ForgedChain, Past
from verifier.errors import VerificationFailure
from verifier.replay import Progress, Report, verify_chain

EXPECTED = Path(__file__).parent / "testdata" / "forged_chain_failures.json"
TIMING = ("elapsed_s", "ballots_per_s", "workers")


def _undecodable_receipt(draft: Draft, past: Past) -> None:
    draft.receipts_edit = lambda receipts: [b"\xc1" + bytes(range(1, 12)), *receipts[1:]]


def _prev_app_hash_zero(draft: Draft, past: Past) -> None:
    draft.with_header(prev_app_hash=bytes(32))


def _prev_receipts_root_zero(draft: Draft, past: Past) -> None:
    draft.with_header(prev_receipts_root=bytes([1]) * 32)


EXTRA_CASES = (
    ChainCase(
        "rule-10-prev-app-hash-of-genesis",
        "block 1's header claims another app hash after genesis",
        1,
        10,
        _prev_app_hash_zero,
    ),
    ChainCase(
        "rule-10-prev-receipts-root-of-genesis",
        "block 1's header claims receipts for genesis",
        1,
        10,
        _prev_receipts_root_zero,
    ),
    ChainCase(
        "rule-11-receipt-undecodable",
        "block 4's first stored receipt is not a receipt",
        4,
        11,
        _undecodable_receipt,
    ),
)


def _stored_app_hash_wrong(height: int) -> ForgedChain:
    chain = forge.valid_chain()
    assert chain.app_hashes is not None
    hashes = list(chain.app_hashes)
    hashes[height] = bytes(32)
    return dataclasses.replace(chain, app_hashes=hashes)


def _certificate_cut(height: int) -> ForgedChain:
    chain = forge.valid_chain()
    raw = list(chain.raw)
    raw[height - 1] = dataclasses.replace(
        raw[height - 1], certificate=raw[height - 1].certificate[:-1]
    )
    return dataclasses.replace(chain, raw=raw)


def _ends_early() -> ForgedChain:
    chain = forge.valid_chain()

    class EndsEarly(ForgedChain):
        def head_height(self) -> int:
            return len(self.raw) + 2

    return EndsEarly(chain.genesis_doc, chain.raw, chain.app_hashes, chain.state)


def _forged(case: ChainCase) -> Callable[[], ForgedChain]:
    return lambda: forge.forge_chain(case)


SOURCES: dict[str, Callable[[], ForgedChain]] = {
    **{c.name: _forged(c) for c in forge.CHAIN_CASES if c.rule},
    **{c.name: _forged(c) for c in EXTRA_CASES},
    "stored-app-hash-of-genesis": lambda: _stored_app_hash_wrong(0),
    "stored-app-hash-of-block-5": lambda: _stored_app_hash_wrong(5),
    "source-ends-before-its-head": _ends_early,
    "rule-09-certificate-undecodable": lambda: _certificate_cut(4),
}


def failure_of(name: str, workers: int = 1) -> dict[str, Any]:
    with pytest.raises(VerificationFailure) as caught:
        verify_chain(SOURCES[name](), workers=workers)
    return caught.value.to_dict()


def valid_report() -> dict[str, Any]:
    """The report without its timing; each poll as its id and its counts (the poll's
    own fields are votingcontract's to define, tests/votingcontract pins them)."""
    report = verify_chain(forge.valid_chain(), workers=1).to_dict()
    shown = {k: v for k, v in report.items() if k not in (*TIMING, "polls")}
    shown["polls"] = [
        {
            "poll_id": p["poll"]["poll_id"],
            "counts": [[o["count"] for o in q["options"]] for q in p["results"]["questions"]],
        }
        for p in report["polls"]
    ]
    return shown


def expected() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXPECTED.read_text())
    return loaded


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_forged_chain_fails_saying_exactly_where_and_why(name: str, workers: int) -> None:
    assert failure_of(name, workers) == expected()["failures"][name]


def test_the_unforged_chains_report_is_the_expected_one() -> None:
    got, want = valid_report(), expected()["valid_report"]
    assert want["stats"].items() <= got.pop("stats").items()
    assert got == {k: v for k, v in want.items() if k != "stats"}


def _tx_of_exactly_the_largest_size(draft: Draft, past: Past) -> None:
    """A ballot of block 4 re-signed with its body padded so that the whole transaction
    is MAX_TX_BYTES long: the largest a block may hold (rule 1 refuses one byte more)."""
    tx = draft.transactions[0]
    voter = forge.voter_of(tx.signer)
    padding = MAX_TX_BYTES - 10 - len(tx.body)
    for _ in range(3):  # the length of the body's own header depends on its size
        body = tx.body + b"\0" * padding
        forged = Transaction.create(voter, tx.chain_id, tx.kind, body, tx.nonce + 1000)
        padding += MAX_TX_BYTES - len(forged.encode())
    assert len(forged.encode()) == MAX_TX_BYTES
    draft.with_transactions([forged, *draft.transactions[1:]])


def test_a_transaction_of_exactly_the_largest_size_passes_rule_1() -> None:
    case = ChainCase("tx-at-the-limit", "", 4, None, _tx_of_exactly_the_largest_size)
    report = verify_chain(forge.forge_chain(case), workers=1)
    assert report.blocks == 7


def test_a_pinned_genesis_hash_that_differs_fails_rule_0() -> None:
    chain = forge.valid_chain()
    pinned = bytes(range(32))
    with pytest.raises(VerificationFailure) as caught:
        verify_chain(chain, expected_genesis_hash=pinned)
    assert caught.value.to_dict() == {
        "height": None,
        "object": "genesis",
        "reason": f"hashes to {chain.genesis_doc.genesis_hash.hex()}, not the pinned "
        f"{pinned.hex()}",
        "rule": 0,
        "message": f"genesis hashes to {chain.genesis_doc.genesis_hash.hex()}, not the pinned "
        f"{pinned.hex()}",
    }
    verify_chain(chain, expected_genesis_hash=chain.genesis_doc.genesis_hash)


def test_progress_is_reported_after_every_block() -> None:
    chain = forge.valid_chain()
    seen: list[Progress] = []
    report = verify_chain(chain, workers=2, on_progress=seen.append)
    assert [(p.height, p.head) for p in seen] == [(h, 7) for h in range(1, 8)]
    assert (seen[-1].transactions, seen[-1].ballots) == (report.transactions, report.ballots)
    assert [p.ballots for p in seen] == [0, 0, 0, 4, 8, 9, 9]
    assert all(a.elapsed_s <= b.elapsed_s for a, b in itertools.pairwise(seen))
    assert report.workers == 2


def test_a_replay_uses_one_worker_unless_asked_and_times_itself_by_the_clock() -> None:
    """The report says how many workers checked signatures (1 by default: no process pool
    an auditor did not ask for) and how long the replay took, as the clock measured it."""
    chain = forge.valid_chain()
    seen: list[Progress] = []
    before = time.monotonic()
    report = verify_chain(chain, on_progress=seen.append)
    took = time.monotonic() - before
    assert report.workers == 1 and report.to_dict()["workers"] == 1
    assert 0 <= report.elapsed_s <= took
    assert all(0 <= p.elapsed_s <= report.elapsed_s for p in seen)


def test_a_failing_replay_leaves_its_partial_report_at_the_last_good_block() -> None:
    partial = Report("", "")
    with pytest.raises(VerificationFailure):
        verify_chain(forge.forge_chain(forge.case_named("rule-10-prev-app-hash")), partial=partial)
    assert (partial.chain_id, partial.blocks, partial.ballots) == ("votechain-vectors", 4, 4)
    assert partial.genesis_hash == forge.base().genesis.genesis_hash.hex()


def test_the_report_rounds_its_timing_for_people() -> None:
    report = Report("c", "g", ballots=10, elapsed_s=0.1237)
    shown = report.to_dict()
    assert (shown["elapsed_s"], shown["ballots_per_s"]) == (0.124, 80.8)
    assert Report("c", "g", ballots=10).to_dict()["ballots_per_s"] == 0.0


def write() -> None:
    document = {
        "note": "python -m tests.verifier.test_forged_chain_failures --write; review the diff",
        "failures": {name: failure_of(name) for name in sorted(SOURCES)},
        "valid_report": valid_report(),
    }
    EXPECTED.parent.mkdir(exist_ok=True)
    EXPECTED.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.verifier.test_forged_chain_failures --write")
    write()
