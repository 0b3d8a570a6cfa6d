"""The verifier catches each tamper of an encrypted poll (issue 16).

tests/verifier/forge_secret.py builds a chain with a secret poll (key generation with
an upheld complaint, encrypted ballots, refused malformed and bad-proof ballots, a
refused wrong partial decryption, the counts) and forges it the way a colluding quorum
would: each forged block certified by a quorum, the chain continued from what the
colluders stored. Where their own state machine differs from the honest one (a proof
skipped, a complaint ignored, a count changed) they also store its state, so the
receipts or the next header's prev_app_hash carry their results.

The verdicts are those of an export file or a node's RPC (the chain alone); a copy of
the colluders' data directory also holds their app hashes, which the replay finds
wrong at the forged height itself. The same chains are docs/test-vectors/secret-*.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import votingcontract
from ballotcrypto import budget, elgamal, nonnegative, question, transport, vss
from ballotcrypto.context import BallotContext
from ballotcrypto.errors import InvalidBallotProof
from bench.chaingen import BLOCK_INTERVAL_MS, GENESIS_TIME_MS
from chain import encoding
from chain.certificate import CommitCertificate
from chain.state import MemoryState
from tests.verifier import forge, forge_secret, vectors
from tests.verifier.test_forged_rules import first_failure, stored_header_hash
from verifier.export import ExportSource
from verifier.replay import Report, verify_chain
from votingcontract import secret_polls, state_keys
from votingcontract.records import read_poll

BAD = [c for c in forge_secret.SECRET_CASES if c.rule is not None]
COLLUDERS_STATE = [c for c in BAD if c.forged_at is not None]


def chain_only(chain: forge.ForgedChain) -> forge.ForgedChain:
    """The chain as an export file or a node's RPC gives it: no stored app hashes or
    state to compare."""
    return dataclasses.replace(chain, app_hashes=None, state=None)


def poll_entry(report: Report, poll_id: bytes | None = None) -> dict[str, Any]:
    """The report's entry for `poll_id` (default: the secret chain's main poll)."""
    wanted = (forge_secret.secret_chain().poll_id if poll_id is None else poll_id).hex()
    (entry,) = [e for e in report.polls if e["poll"]["poll_id"] == wanted]
    return entry


def poll_results(report: Report, poll_id: bytes | None = None) -> dict[str, object]:
    results = poll_entry(report, poll_id)["results"]
    assert isinstance(results, dict)
    return results


def test_the_secret_poll_chain_verifies_with_the_counts_its_ballots_chose() -> None:
    report = verify_chain(forge.forge_chain(forge_secret.SECRET_VALID), workers=1)
    assert report.blocks == 12
    assert (report.ballots, report.accepted_ballots) == (12, 6)
    assert len(report.polls) == 3
    results = poll_results(report)
    assert results["choices"] == "secret" and "awaiting_trustees" not in results
    questions = results["questions"]
    assert isinstance(questions, list)
    counts = [[o["count"] for o in q["options"]] for q in questions]
    assert counts == forge_secret.SECRET_COUNTS
    assert results["participants"] == 4
    single = poll_results(report, forge_secret.secret_chain().no_revote_poll)
    questions = single["questions"]
    assert isinstance(questions, list)
    assert [[o["count"] for o in q["options"]] for q in questions] == (
        forge_secret.NO_REVOTE_COUNTS
    )
    assert single["participants"] == 1  # the second ballot, refused duplicate, counts nothing


def test_the_secret_poll_chain_holds_every_step_it_claims() -> None:
    """What makes the forgeries cover section 15: each refusal and step is on chain."""
    chain = forge.forge_chain(forge_secret.SECRET_VALID)
    codes = [[votingcontract.Receipt.decode(r).code for r in raw.receipts] for raw in chain.raw]
    ok = "accepted"
    assert codes[1] == [ok, ok, ok]  # the main poll, the one without revote, the cancelled
    # trustee 1's second transport key; the cancelled poll's key after it closed
    assert codes[3] == [ok, "wrong_phase", ok, ok, "awaiting_key", ok, ok, "closed"]
    # trustee 2's false complaint voids its check; its honest check is then accepted
    assert codes[5] == ["not_trustee", "bad_trustee_proof", ok, ok, ok, ok]
    # a forged count proof, a forged budget sum; the poll without revote's first ballot
    bad = "bad_ballot_proof"
    assert codes[6] == [ok, ok, ok, "malformed_ballot", bad, bad, ok]
    assert codes[7] == [ok, ok, bad, "duplicate"]
    assert codes[9:] == [["bad_trustee_proof", ok], [ok, ok], [ok]]
    state = votingcontract_state(chain)
    poll = read_poll(state, forge_secret.secret_chain().poll_id)
    assert poll is not None
    status = secret_polls.secret_status(state, poll)
    assert status is not None
    assert status["qualified"] == [1, 2]  # dealer 3 caught by trustee 1's complaint
    assert status["partials"] == [2, 3, 1] and status["decrypted"]


def state_after(base: forge.Base, height: int) -> MemoryState:
    """The honest state after block `height` of `base` (blocks 1..height executed)."""
    state = MemoryState()
    state.apply(votingcontract.genesis_writes(base.genesis))
    for h, txs in enumerate(base.transactions[:height], 1):
        context = votingcontract.BlockContext(
            base.genesis.chain_id, h, GENESIS_TIME_MS + h * BLOCK_INTERVAL_MS
        )
        _, writes = votingcontract.execute_block(state, context, txs)
        state.apply(writes)
    return state


def test_each_refused_secret_step_fails_at_the_check_it_is_there_for() -> None:
    """The receipt code alone would not show a verifier skipping a check if an earlier
    one already failed: block 7's two ballots fail only at the count proof and only at
    the upper N2 sum, and block 6's refused check holds an honest reveal of a share that
    matches its dealer's commitments (so only the comparison of T2's share refuses it)."""
    chain = forge_secret.secret_chain()
    base, chain_id, poll_id = chain.base, chain.base.genesis.chain_id, chain.poll_id
    state = state_after(base, 6)
    key = secret_polls.read_public_key(state, poll_id)
    assert key is not None
    rules = [secret_polls.question_rule(q) for q in forge_secret.POLL.questions]

    def proofs_of(tx: Any) -> list[question.EncryptedQuestion]:
        body = votingcontract.CastBallot.decode(tx.body)
        assert body.encrypted is not None
        return [question.decode(v, r, "q") for v, r in zip(body.encrypted, rules, strict=True)]

    def failure(tx: Any, q: int, encrypted: question.EncryptedQuestion) -> str:
        context = BallotContext(chain_id, poll_id, tx.signer, 0).at(q)
        try:
            question.validate(context, key, rules[q], encrypted)
        except InvalidBallotProof as e:
            return str(e)
        return "valid"

    count_tx, budget_tx = base.transactions[6][4:6]
    counted = proofs_of(count_tx)
    assert failure(count_tx, 0, counted[0]).startswith("question 0: selection count")
    assert failure(count_tx, 1, counted[1]) == "valid"

    budgeted = proofs_of(budget_tx)
    assert failure(budget_tx, 0, budgeted[0]) == "valid"
    assert failure(budget_tx, 1, budgeted[1]).startswith("question 1: budget")
    proof = budgeted[1].budget_proof
    assert proof is not None and proof.lower is not None
    context = BallotContext(chain_id, poll_id, budget_tx.signer, 0).at(1)
    rule = rules[1]
    assert rule.costs is not None
    weighted = budget.weighted_total(budgeted[1].ciphertexts, rule.costs)
    for offset, bits, target in (
        (budget.UPPER_OFFSET, proof.upper, elgamal.sub(elgamal.trivial(rule.cap), weighted)),
        (budget.LOWER_OFFSET, proof.lower, elgamal.sub(weighted, elgamal.trivial(rule.floor))),
    ):
        total = elgamal.ZERO
        for k, bit in enumerate(bits.bits):
            total = elgamal.add(total, elgamal.scale(2**k, bit))
        # every bit proof holds (checked against the bits' own sum), ...
        assert nonnegative.verify(context, offset, key, total, len(bits.bits), bits)
        # ... and only the upper sum is not U (N2)
        assert (total == target) == (offset == budget.LOWER_OFFSET)

    before_checks = state_after(base, 5)
    setup = secret_polls.read_setup(before_checks, poll_id)
    assert setup is not None
    false_check = base.transactions[5][1]
    assert false_check.signer == chain.keys[1].public_key
    (complaint,) = votingcontract.TrusteeCheck.decode(false_check.body).complaints
    assert (complaint.dealer, complaint.recipient) == (1, 2)
    dealing, transport_key = setup.dealings[0], setup.transport_keys[1]
    assert dealing is not None and transport_key is not None
    sent = dealing.shares[1]
    share = transport.open_revealed_share(
        chain_id, poll_id, 1, 2, transport_key.public, sent.ephemeral, sent.masked, complaint.reveal
    )
    assert share is not None and vss.share_matches(dealing.commitments, 2, share)


def votingcontract_state(chain: forge.ForgedChain) -> MemoryState:
    state = MemoryState()
    assert chain.state is not None
    state.apply(chain.state.items())
    return state


def test_the_chain_is_the_same_on_every_build() -> None:
    """Every secret comes from a label: a second build gives the same bytes."""
    first = forge.forge_chain(forge_secret.SECRET_VALID)
    forge_secret.secret_chain.cache_clear()
    try:
        again = forge.forge_chain(forge_secret.SECRET_VALID)
    finally:
        forge_secret.secret_chain.cache_clear()
    assert [r.block for r in again.raw] == [r.block for r in first.raw]


def test_a_closed_poll_with_one_partial_of_two_awaits_its_trustees() -> None:
    chain = chain_only(forge.forge_chain(forge_secret.SECRET_AWAITING))
    report = verify_chain(chain, workers=1)
    assert report.blocks == 10
    single = poll_results(report, forge_secret.secret_chain().no_revote_poll)
    assert single["awaiting_trustees"] == {"partials": 0, "threshold": 1}
    results = poll_results(report)
    assert results["choices"] == "secret" and results["status"] == "closed"
    assert results["awaiting_trustees"] == {"partials": 1, "threshold": 2}
    assert results["questions"] == []


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_a_forged_secret_poll_fails_at_its_rule(case: forge.ChainCase) -> None:
    failure = first_failure(chain_only(forge.forge_chain(case)))
    assert (failure.height, failure.rule) == (case.height, case.rule), str(failure)
    assert case.says in str(failure)


@pytest.mark.parametrize("case", COLLUDERS_STATE, ids=lambda c: c.name)
def test_the_colluders_data_directory_fails_at_the_forged_block(case: forge.ChainCase) -> None:
    """Their stored app hash after the forged block is not what honest execution gives."""
    failure = first_failure(forge.forge_chain(case))
    assert (failure.height, failure.rule) == (case.forged_at, 11), str(failure)
    assert failure.subject == f"stored app hash after block {case.forged_at}"


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_every_forged_secret_block_carries_a_quorum_certificate(case: forge.ChainCase) -> None:
    validators = forge.base().genesis.validator_set
    for raw in forge.forge_chain(case).raw:
        CommitCertificate.decode(raw.certificate).verify(
            validators, "votechain-vectors", raw.height, stored_header_hash(raw.block)
        )


def test_an_export_of_a_forged_secret_poll_fails_alike(tmp_path: Path) -> None:
    case = next(c for c in BAD if c.name == "secret-rule-10-counts-changed")
    path = tmp_path / "counts.export"
    forge.write_export_raw(forge.forge_chain(case), path)
    source = ExportSource(path)
    try:
        failure = first_failure(source)
    finally:
        source.close()
    assert (failure.height, failure.rule) == (12, 10)


def test_a_stored_encrypted_tally_edited_outside_the_chain_fails_at_the_head() -> None:
    chain = forge.forge_chain(forge_secret.SECRET_VALID)
    assert chain.state is not None
    state = dict(chain.state)
    key = state_keys.encrypted_tally(forge_secret.secret_chain().poll_id)
    tally = secret_polls.blob_to_ciphertexts(encoding.decode(state[key]))
    tally[0], tally[1] = tally[1], tally[0]
    state[key] = encoding.encode(secret_polls.ciphertexts_to_blob(tally))
    failure = first_failure(dataclasses.replace(chain, state=state))
    assert (failure.height, failure.rule) == (12, 11)
    assert failure.subject == "stored state after block 12"
    assert "has etally/" in failure.reason


def test_the_decrypted_counts_are_in_the_state_as_a_public_polls() -> None:
    """Counted apart from results(): the tally/ counters the decryption wrote."""
    chain = forge.forge_chain(forge_secret.SECRET_VALID)
    assert chain.state is not None
    poll_id = forge_secret.secret_chain().poll_id
    counts = [
        [
            encoding.decode(chain.state.get(state_keys.tally(poll_id, q, o), encoding.encode(0)))
            for o in range(len(question))
        ]
        for q, question in enumerate(forge_secret.SECRET_COUNTS)
    ]
    assert counts == forge_secret.SECRET_COUNTS


def verify_text(chain: forge.ForgedChain, path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """What `votechain verify --file` prints for the chain (the CLI's own entry point)."""
    from cli.main import main

    forge.write_export_raw(chain, path)
    capsys.readouterr()
    assert main(["verify", "--file", str(path), "--workers", "1"]) == 0
    return capsys.readouterr().out


def test_votechain_verify_says_the_choices_are_secret_and_shows_the_decrypted_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = verify_text(
        forge.forge_chain(forge_secret.SECRET_VALID), tmp_path / "secret.export", capsys
    )
    assert "choices: secret; these totals were decrypted by the poll's trustees" in out
    assert "trustees: results decrypted by trustee(s) 2, 3, 1" in out
    assert "participants: 4" in out
    rows = [line.split()[:2] for line in out.splitlines() if "%" in line]
    assert rows == [
        ["Kim", "0"],  # the poll without revote: voter 0's first ballot
        ["Lee", "1"],
        ["Park", "0"],
        ["Kim", "1"],
        ["Lee", "2"],
        ["Park", "1"],
        ["Path", "2"],
        ["Library", "1"],
        ["Park", "3"],
    ]


def test_votechain_verify_says_a_closed_secret_poll_awaits_its_trustees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = verify_text(
        forge.forge_chain(forge_secret.SECRET_AWAITING), tmp_path / "awaiting.export", capsys
    )
    assert "choices: secret; awaiting trustees (1 of 2)" in out
    assert "results are shown after the poll closes" not in out
    assert "Kim" not in out


def test_votechain_verify_says_a_public_polls_choices_are_public(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = verify_text(forge.valid_chain(), tmp_path / "valid.export", capsys)
    assert out.count("choices: public") == 2
    assert "choices: secret" not in out


def test_the_vector_check_reports_a_wrong_tracking_code(tmp_path: Path) -> None:
    """The secret ballot's receipt vector pins its tracking code: a manifest that gives
    another one is reported, so the published code is votechain's."""
    copy = tmp_path / "test-vectors"
    shutil.copytree(vectors.VECTORS_DIR, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (entry,) = [e for e in manifest["receipts"] if "tracking_code" in e]
    entry["tracking_code"]["shown"] = "AAAA-" + entry["tracking_code"]["shown"][5:]
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    problems = vectors.check_vectors(copy)
    assert any(
        "secret-ballot.json: votechain receipt verify shows tracking code" in p for p in problems
    )


def test_the_report_gives_each_secret_polls_key_set_up_and_partials() -> None:
    """verify --json's poll carries the RPC's `secret` view, rebuilt by the replay."""
    report = verify_chain(chain_only(forge.forge_chain(forge_secret.SECRET_VALID)), workers=1)
    secret = poll_entry(report)["poll"]["secret"]
    assert (secret["phase"], secret["qualified"], secret["partials"]) == (
        "ready",
        [1, 2],
        [2, 3, 1],
    )
    assert secret["decrypted"] and secret["threshold"] == 2


def test_a_failed_key_set_up_is_shown_as_failed_not_as_awaiting_trustees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = forge.forge_chain(forge_secret.SECRET_FAILED_SETUP)
    report = verify_chain(chain, workers=1)
    (entry,) = report.polls
    assert entry["poll"]["secret"]["phase"] == "failed"
    codes = [votingcontract.Receipt.decode(r).code for r in chain.raw[6].receipts]
    assert codes == ["awaiting_key", "accepted"]  # a ballot after the failed set-up
    assert entry["poll"]["secret"]["qualified"] == [1, 2]
    assert entry["results"]["questions"] == []
    out = verify_text(chain, tmp_path / "failed.export", capsys)
    assert "choices: secret\n" in out
    assert "key set-up FAILED: fewer than 3 trustees' dealings qualified" in out
    assert "awaiting trustees" not in out
