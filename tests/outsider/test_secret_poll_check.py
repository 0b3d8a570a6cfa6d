"""The outsider's checker (secret_poll_check.py, written from PROTOCOL.md alone) on the
published vectors: it must reach every receipt, app hash, count and tracking code that
docs/test-vectors/manifest.json and docs/ballotcrypto-vectors.json give, and find each
forgery of the encrypted poll at the height and rule the manifest names, for the reason
its description gives.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.outsider import secret_poll_check as spc

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS = DOCS / "test-vectors"
MANIFEST: dict[str, Any] = json.loads((VECTORS / "manifest.json").read_text())
ENTRIES = {entry["file"]: entry for entry in MANIFEST["chains"]}
GENESIS_HASH = bytes.fromhex(MANIFEST["genesis_hash"])
CRYPTO: dict[str, Any] = json.loads((DOCS / "ballotcrypto-vectors.json").read_text())


def check(name: str) -> spc.Report:
    return spc.check_export(VECTORS / "chains" / name, GENESIS_HASH)


def secret_results(report: spc.Report) -> list[spc.TxResult]:
    return [r for r in report.results if r.computed is not None]


SECRET = ENTRIES["chains/secret-poll.export"]
# The honest chain's three secret polls, told apart by what the manifest gives them.
MAIN = next(p for p, q in SECRET["questions"].items() if len(q) == 2)
NO_REVOTE = next(p for p, q in SECRET["questions"].items() if len(q) == 1)
CLOSED_EARLY = next(p for p, phase in SECRET["key_phase"].items() if phase == "keys")


def poll(report: spc.Report, poll_id_hex: str) -> spc.SecretPoll:
    return report.polls[bytes.fromhex(poll_id_hex)]


def only_poll(report: spc.Report) -> tuple[str, spc.SecretPoll]:
    ((poll_id, one),) = report.polls.items()
    return poll_id.hex(), one


def tx_at(name: str, height: int, position: int) -> list[Any]:
    frames = spc.read_frames((VECTORS / "chains" / name).read_bytes())
    transaction: list[Any] = spc.dec(frames[height])[2][1][position]
    return transaction


def expected_results(entry: dict[str, Any], poll_id_hex: str) -> dict[str, Any]:
    """A secret poll's results as the manifest gives them (11.7)."""
    expected: dict[str, Any] = {"key_phase": entry["key_phase"][poll_id_hex]}
    if poll_id_hex in entry.get("questions", {}):
        expected["questions"] = entry["questions"][poll_id_hex]
    if poll_id_hex in entry["awaiting_trustees"]:
        expected["awaiting_trustees"] = entry["awaiting_trustees"][poll_id_hex]
    return expected


def results_agree(entry: dict[str, Any], report: spc.Report) -> None:
    assert {p.hex() for p in report.polls} == {
        p for p, choices in entry["choices"].items() if choices == "secret"
    }
    for poll_id, one in report.polls.items():
        assert spc.results_view(one) == expected_results(entry, poll_id.hex()), poll_id.hex()


# ---------------------------------------------------------------- the valid chains


def test_secret_poll_every_receipt_app_hash_and_count_agree() -> None:
    entry = SECRET
    report = check("secret-poll.export")
    assert report.verdict == "ok", report.finding
    assert report.blocks == entry["blocks"]
    assert report.app_hash is not None and report.app_hash.hex() == entry["app_hash"]

    # Every trustee step, ballot and close of the three secret polls had its code
    # computed (not taken from the file), and each equals the stored one.
    steps = [
        r
        for r in report.results
        if r.kind.startswith("trustee_") or r.kind in ("cast_ballot", "close_poll")
    ]
    assert len(steps) == 36
    assert [r.kind for r in report.results if r not in steps] == (
        ["register_org", "create_poll", "create_poll", "create_poll"] + ["enroll_voter"] * 4
    )
    assert secret_results(report) == steps
    assert all(r.computed == r.stored for r in steps)
    codes = {(r.height, r.position): r.computed for r in steps}
    refused = {k: c for k, c in codes.items() if c != "accepted"}
    assert refused == {
        (4, 1): "wrong_phase",  # trustee 1's transport key posted twice
        (4, 4): "awaiting_key",
        (4, 7): "closed",  # a key step after the closed-early poll closed
        (6, 0): "not_trustee",
        (6, 1): "bad_trustee_proof",  # trustee 2's false complaint against dealer 1
        (7, 3): "malformed_ballot",
        (7, 4): "bad_ballot_proof",  # fails first at its count proof
        (7, 5): "bad_ballot_proof",  # fails first at the budget's N2 sum
        (8, 2): "bad_ballot_proof",  # a doubled ciphertext: its 0/1 proof
        (8, 3): "duplicate",  # a second ballot in the poll without revote
        (10, 0): "bad_trustee_proof",
    }
    assert [codes[(h, p)] for h, p in [(10, 1), (11, 0), (11, 1), (12, 0)]] == ["accepted"] * 4
    why = {(r.height, r.position): r.why for r in steps if r.why is not None}
    assert why == {
        (7, 4): "question 0: selection count",
        (7, 5): "question 1: budget cap: bits do not add up to the target (N2)",
        (8, 2): "question 0: option 0: 0/1",
    }

    results_agree(entry, report)
    for poll_id, counts in entry["counts"].items():
        counted = poll(report, poll_id).counts
        assert counted is not None and counted[0] == counts
    main = poll(report, MAIN)
    # Trustee 2's complaint against dealer 1 is refused; trustee 1's against dealer 3 is
    # upheld: dealers 1 and 2 make the key.
    assert main.complaints == [(1, 2, False), (3, 1, True)]
    assert main.qualified == [1, 2]
    # Trustees 2 and 3 were combined (the first two valid partials); trustee 1's late
    # partial is checked and stored.
    assert [p.trustee for p in main.partials] == [2, 3, 1]
    no_revote = poll(report, NO_REVOTE)
    assert no_revote.qualified == [1] and [p.trustee for p in no_revote.partials] == [1]
    closed_early = poll(report, CLOSED_EARLY)
    assert closed_early.closed and closed_early.transport_raw == [None]


def test_tracking_code_of_the_published_ballot() -> None:
    (receipt_entry,) = [e for e in MANIFEST["receipts"] if "tracking_code" in e]
    report = check("secret-poll.export")
    code = report.tracking[(7, 0)]
    assert code.hex() == receipt_entry["tracking_code"]["hex"]
    assert spc.shown_code(code) == receipt_entry["tracking_code"]["shown"]
    # The receipt file holds the same ballot: its code, computed from its own bytes.
    receipt = json.loads((VECTORS / receipt_entry["file"]).read_text())
    tx = spc.dec(bytes.fromhex(receipt["tx"]))
    assert spc.tracking_code(spc.dec(tx[5])[6]) == code


def test_awaiting_trustees_chain() -> None:
    entry = ENTRIES["chains/secret-poll-awaiting-trustees.export"]
    report = check("secret-poll-awaiting-trustees.export")
    assert report.verdict == "ok", report.finding
    assert report.app_hash is not None and report.app_hash.hex() == entry["app_hash"]
    assert all(r.computed == r.stored for r in secret_results(report))
    results_agree(entry, report)
    assert spc.results_view(poll(report, MAIN))["awaiting_trustees"] == {
        "partials": 1,
        "threshold": 2,
    }
    # The closed-early poll awaits no one (11.7), though its phase is still "keys".
    assert spc.results_view(poll(report, CLOSED_EARLY)) == {"key_phase": "keys"}


def test_failed_setup_chain() -> None:
    entry = ENTRIES["chains/secret-poll-setup-failed.export"]
    report = check("secret-poll-setup-failed.export")
    assert report.verdict == "ok", report.finding
    assert report.app_hash is not None and report.app_hash.hex() == entry["app_hash"]
    assert all(r.computed == r.stored for r in secret_results(report))
    results_agree(entry, report)
    _, one = only_poll(report)
    assert spc.results_view(one) == {"key_phase": "failed"}
    assert one.qualified == [1, 2] and one.threshold == 3 and one.Y is None
    assert one.closed and one.counts is None
    assert entry["counts"] == {} and entry["awaiting_trustees"] == {}
    # The ballot to the failed poll: refused awaiting_key, computed, not read.
    (ballot,) = [r for r in report.results if r.kind == "cast_ballot"]
    assert (ballot.height, ballot.computed) == (7, "awaiting_key")


def test_the_complaints_pad_is_computed_as_the_dealer_did() -> None:
    """T2 is only pinned by the vectors through this: any wrong pad would also make the
    complaint 'upheld', but with the right pad the revealed share is the committed
    value plus one (how the vectors spoil dealer 3's share), not a random scalar."""
    report = check("secret-poll.export")
    main = poll(report, MAIN)
    dealer = main.dealings[2]
    transport = main.transport[0]
    assert dealer is not None and transport is not None
    check_tx = tx_at("secret-poll.export", 6, 2)  # trustee 1's check
    complaint = spc.decode_complaint(spc.dec(check_tx[5])[1][0])
    assert (complaint.dealer, complaint.recipient) == (3, 1)
    E, z = dealer.shares[0]
    poll_id = bytes.fromhex(MAIN)
    pad = spc.share_pad(MANIFEST["chain_id"], poll_id, 3, 1, E, transport.T, complaint.K)
    assert spc.base(z - pad - 1) == spc.feldman(dealer.commitments, 1)


# ---------------------------------------------------------------- the forgeries

WHY = {
    # file: (position, what the checker must say)
    "secret-rule-08-ciphertexts-swapped": (0, "signature does not verify"),
    "secret-rule-11-bad-proof-accepted": (2, "gives 'bad_ballot_proof'"),
    "secret-rule-11-wrong-partial-accepted": (0, "gives 'bad_trustee_proof'"),
    "secret-rule-11-not-trustee-accepted": (2, "gives 'not_trustee'"),
    "secret-rule-10-complaint-ignored": (None, "prev_app_hash"),
    "secret-rule-10-bad-proof-counted": (None, "prev_app_hash"),
    "secret-rule-10-counts-changed": (None, "prev_app_hash"),
}


@pytest.mark.parametrize("name", sorted(WHY))
def test_forgery_found_where_the_manifest_says(name: str) -> None:
    entry = ENTRIES[f"chains/{name}.export"]
    report = check(f"{name}.export")
    assert report.verdict == entry["expected"]
    assert report.finding is not None
    position, what = WHY[name]
    assert report.finding.position == position
    assert what in report.finding.what


def test_before_a_forgery_every_computed_receipt_agreed() -> None:
    """The rule 10 forgeries keep receipts honest: every code computed before the
    failing height equals the stored one, so only the state tells them apart."""
    for name in ("secret-rule-10-complaint-ignored", "secret-rule-10-counts-changed"):
        report = check(f"{name}.export")
        assert all(r.computed == r.stored for r in secret_results(report))


# ---------------------------------------------------------------- ballotcrypto-vectors.json


def test_group_vectors() -> None:
    multiples = CRYPTO["group"]["multiples_of_G"]
    assert [spc.base(k).hex() for k in range(4)] == multiples
    assert int(CRYPTO["group"]["order"]) == spc.L
    for refused in (
        "ff" * 31 + "7f",
        "01" + "00" * 31,
        "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
    ):
        assert not spc.is_point(bytes.fromhex(refused))


def crypto_keys() -> tuple[str, bytes, list[spc.TransportKey], list[spc.Dealing]]:
    keys = CRYPTO["keys"]
    transport = [
        spc.decode_transport_key(spc.dec(bytes.fromhex(t))) for t in keys["transport_keys"]
    ]
    dealings = [spc.decode_dealing(spc.dec(bytes.fromhex(d))) for d in keys["dealings"]]
    return keys["chain_id"], bytes.fromhex(keys["poll_id"]), transport, dealings


def test_key_generation_vectors() -> None:
    chain_id, poll_id, transport, dealings = crypto_keys()
    keys = CRYPTO["keys"]
    for t in transport:
        context = spc.trustee_context(chain_id, poll_id, t.trustee, "transport-key")
        assert spc.schnorr_ok(context, t.T, t.proof)
    for d in dealings:
        assert len(d.commitments) == keys["threshold"] and len(d.shares) == keys["trustees"]
        context = spc.trustee_context(chain_id, poll_id, d.dealer, "coefficient")
        assert spc.schnorr_ok(context, d.commitments[0], d.proof)
    Y = spc.ID
    for d in dealings:
        Y = spc.add(Y, d.commitments[0])
    assert Y.hex() == keys["joint_public_key"]
    for j, expected in enumerate(keys["verification_keys"], start=1):
        S_j = spc.ID
        for d in dealings:
            S_j = spc.add(S_j, spc.feldman(d.commitments, j))
        assert S_j.hex() == expected


@pytest.mark.parametrize("index", range(len(CRYPTO["questions"])))
def test_encrypted_question_vectors(index: int) -> None:
    vector = CRYPTO["questions"][index]
    r = vector["rule"]
    rule = spc.Rule(
        r["options"],
        r["min"],
        r["max"],
        None if r["costs"] is None else tuple(r["costs"]),
        r["cap"],
        r["floor"],
    )
    ctx = vector["context"]
    poll_id, voter = bytes.fromhex(ctx["poll_id"]), bytes.fromhex(ctx["voter_key"])

    def context(option: int) -> list[Any]:
        return [ctx["chain_id"], poll_id, voter, ctx["question"], option]

    question = spc.decode_question(spc.dec(bytes.fromhex(vector["question"])), rule)
    Y = bytes.fromhex(CRYPTO["keys"]["joint_public_key"])
    failure = spc.question_failure(context, Y, question, rule)
    if vector["expected"] == "valid":
        assert failure is None
        # The randomness opens each ciphertext to its selection (E1).
        for m, rnd, (alpha, beta) in zip(
            vector["selections"], vector["randomness"], question.ciphertexts, strict=True
        ):
            r_ = spc.int_le(bytes.fromhex(rnd))
            assert alpha == spc.base(r_)
            assert beta == spc.add(spc.base(m), spc.mul(r_, Y))
    else:
        assert failure == vector["expected"].split(" (")[0]


def test_challenge_worked_byte_by_byte() -> None:
    worked = CRYPTO["challenge_worked"]
    vector = CRYPTO["questions"][0]
    ctx = vector["context"]
    context = [
        ctx["chain_id"],
        bytes.fromhex(ctx["poll_id"]),
        bytes.fromhex(ctx["voter_key"]),
        0,
        0,
    ]
    rule = spc.Rule(4, 1, 1, None, 0, 0)
    question = spc.decode_question(spc.dec(bytes.fromhex(vector["question"])), rule)
    Y = bytes.fromhex(CRYPTO["keys"]["joint_public_key"])
    alpha, beta = question.ciphertexts[0]
    commits = []
    for m, (c, v) in zip([0, 1], question.zero_one[0], strict=True):
        commits.append(spc.sub(spc.base(v), spc.mul(c, alpha)))
        commits.append(spc.sub(spc.mul(v, Y), spc.mul(c, spc.sub(beta, spc.base(m)))))
    hashed = spc.enc([context, [Y, alpha, beta, [0, 1]], commits])
    assert hashed.hex() == worked["hashed"]
    assert spc.H(int(worked["domain"], 16), hashed).hex() == worked["digest"]
    assert spc.challenge(spc.BALLOT_ZERO_ONE, context, [Y, alpha, beta, [0, 1]], commits) == (
        spc.int_le(bytes.fromhex(worked["c"]))
    )
    assert [c.hex() for c in commits] == worked["commitments"]


def test_tally_vectors() -> None:
    chain_id, poll_id, _, _ = crypto_keys()
    tally = CRYPTO["tally"]
    S = [bytes.fromhex(s) for s in CRYPTO["keys"]["verification_keys"]]
    cts = [spc.want_ciphertext(spc.dec(bytes.fromhex(c))) for c in tally["ciphertexts"]]
    valid: dict[int, spc.Partial] = {}
    for item in tally["partials"]:
        partial = spc.decode_partial(spc.dec(bytes.fromhex(item["partial"])))
        context = spc.trustee_context(chain_id, poll_id, partial.trustee, "decryption")
        ok = all(
            spc.chaum_pedersen_ok(spc.DECRYPTION_SHARE, context, S[partial.trustee - 1], a, D, p)
            for (a, _), D, p in zip(cts, partial.shares, partial.proofs, strict=True)
        )
        assert ok == (item["expected"] == "valid"), item["expected"]
        if ok:
            valid[partial.trustee] = partial
    J = sorted(valid)[: CRYPTO["keys"]["threshold"]]
    counts = []
    for index, (_, beta) in enumerate(cts):
        combined = spc.ID
        for j in J:
            combined = spc.add(combined, spc.mul(spc.lagrange(j, J), valid[j].shares[index]))
        counts.append(spc.bounded_log(spc.sub(beta, combined), 1000))
    assert counts == tally["counts"]


def test_a_complaint_whose_reveal_proof_fails_is_not_upheld() -> None:
    """Every published complaint has a valid reveal proof (the false one too), so no
    vector has a complaint refused for its proof: this pins the proof check on the
    upheld complaint with its response changed."""
    report = check("secret-poll.export")
    main = poll(report, MAIN)
    dealer, transport = main.dealings[2], main.transport[0]
    assert dealer is not None and transport is not None
    check_tx = tx_at("secret-poll.export", 6, 2)  # trustee 1's check
    complaint = spc.decode_complaint(spc.dec(check_tx[5])[1][0])
    poll_id = bytes.fromhex(MAIN)
    assert spc.complaint_upheld(MANIFEST["chain_id"], poll_id, complaint, dealer, transport.T)
    c, v = complaint.proof
    forged = spc.Complaint(complaint.dealer, complaint.recipient, complaint.K, (c, (v + 1) % spc.L))
    assert not spc.complaint_upheld(MANIFEST["chain_id"], poll_id, forged, dealer, transport.T)
    # Revealing another point as K (here the recipient's own transport key) fails too.
    other = spc.Complaint(complaint.dealer, complaint.recipient, transport.T, complaint.proof)
    assert not spc.complaint_upheld(MANIFEST["chain_id"], poll_id, other, dealer, transport.T)


def test_proofs_moved_between_one_voters_two_ballots() -> None:
    """Block 7's ballots fail first at a count proof and at the cap's N2, but none fails
    first at the floor's N2 or at a budget bit's proof. Voter 2's first ballot (block 7)
    and revote (block 8) share the proof context, so moving the revote's count or budget
    proof onto the first ballot leaves every 0/1 proof valid and must fail exactly the
    check moved."""
    report = check("secret-poll.export")
    main = poll(report, MAIN)
    poll_id = bytes.fromhex(MAIN)
    first_tx = tx_at("secret-poll.export", 7, 2)
    revote_tx = tx_at("secret-poll.export", 8, 0)
    assert first_tx[3] == revote_tx[3]
    voter = first_tx[3]
    first = [
        spc.decode_question(q, r) for q, r in zip(spc.dec(first_tx[5])[6], main.rules, strict=True)
    ]
    revote = [
        spc.decode_question(q, r) for q, r in zip(spc.dec(revote_tx[5])[6], main.rules, strict=True)
    ]
    assert main.Y is not None

    def failure(index: int, question: spc.EncryptedQuestion) -> str | None:
        def context(option: int) -> list[Any]:
            return [MANIFEST["chain_id"], poll_id, voter, index, option]

        assert main.Y is not None
        return spc.question_failure(context, main.Y, question, main.rules[index])

    assert [failure(i, q) for i, q in enumerate(first)] == [None, None]
    assert [failure(i, q) for i, q in enumerate(revote)] == [None, None]
    budget = first[1]
    assert budget.ciphertexts != revote[1].ciphertexts
    moved_count = spc.EncryptedQuestion(
        budget.ciphertexts, budget.zero_one, revote[1].count, budget.upper, budget.lower
    )
    assert failure(1, moved_count) == "selection count"
    moved_cap = spc.EncryptedQuestion(
        budget.ciphertexts, budget.zero_one, budget.count, revote[1].upper, budget.lower
    )
    assert failure(1, moved_cap) == "budget cap: bits do not add up to the target (N2)"
    moved_floor = spc.EncryptedQuestion(
        budget.ciphertexts, budget.zero_one, budget.count, budget.upper, revote[1].lower
    )
    assert failure(1, moved_floor) == "budget floor: bits do not add up to the target (N2)"


def test_complaint_ignored_is_exactly_another_key_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker finds secret-rule-10-complaint-ignored because of the key outcome
    and nothing else: replayed with the colluders' rule (trustee 1's check in the main
    poll stored with no dealer named, so dealer 3 qualifies), the same forged chain
    passes whole."""
    honest = spc.Replay._outcome

    def colluders(self: spc.Replay, poll_id: bytes, sp: spc.SecretPoll) -> None:
        if poll_id.hex() == MAIN:
            assert sp.checks[0] == [3]
            sp.checks[0] = []
        honest(self, poll_id, sp)

    monkeypatch.setattr(spc.Replay, "_outcome", colluders)
    report = check("secret-rule-10-complaint-ignored.export")
    assert report.verdict == "ok", report.finding
    assert poll(report, MAIN).qualified == [1, 2, 3]
    assert poll(report, NO_REVOTE).qualified == [1]


def test_counts_changed_is_exactly_one_more_vote_for_kim(monkeypatch: pytest.MonkeyPatch) -> None:
    """secret-rule-10-counts-changed differs from the honest replay only in Kim's
    decrypted count: add one to it in the replay and the forged chain passes whole."""
    honest = spc.Replay._count_votes

    def colluders(self: spc.Replay, poll_id: bytes, sp: spc.SecretPoll) -> None:
        honest(self, poll_id, sp)
        if poll_id.hex() != MAIN:
            return
        assert sp.counts is not None
        sp.counts[0][0] += 1
        key = b"tally/" + poll_id + (0).to_bytes(2, "big") * 2
        self._put(key, spc.enc(sp.counts[0][0]))

    monkeypatch.setattr(spc.Replay, "_count_votes", colluders)
    report = check("secret-rule-10-counts-changed.export")
    assert report.verdict == "ok", report.finding
    assert poll(report, MAIN).counts == [[2, 2, 1], [2, 1, 3]]
    assert poll(report, NO_REVOTE).counts == [[0, 1, 0]]


def test_bad_proof_counted_is_exactly_the_refused_ballot_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """secret-rule-10-bad-proof-counted differs from the honest replay only in block 8's
    refused ballot: replayed with its writes applied as if accepted (its receipt kept
    bad_ballot_proof), the forged chain passes whole. Block 7's two refused ballots stay
    refused."""
    honest = spc.Replay._cast_ballot
    checks_proofs = spc.question_failure

    def colluders(
        self: spc.Replay,
        ctx: tuple[str, int, int],
        kind: str,
        signer: bytes,
        body: list[Any],
        tx_id: bytes,
    ) -> tuple[str, bytes | None]:
        if (ctx[1], self._pos) != (8, 2):
            return honest(self, ctx, kind, signer, body, tx_id)
        assert honest(self, ctx, kind, signer, body, tx_id)[0] == "bad_ballot_proof"
        monkeypatch.setattr(spc, "question_failure", lambda *_: None)
        code, poll_id = honest(self, ctx, kind, signer, body, tx_id)
        monkeypatch.setattr(spc, "question_failure", checks_proofs)
        assert code == "accepted"
        return "bad_ballot_proof", poll_id

    monkeypatch.setattr(spc.Replay, "_cast_ballot", colluders)
    report = check("secret-rule-10-bad-proof-counted.export")
    assert report.verdict == "ok", report.finding
    # Stored as voter 0's revote: its tracking code is written, no new participant.
    assert (8, 2) in report.tracking
    assert poll(report, MAIN).participants == 4


# ---------------------------------------------------------------- the new refusals


def finding_when_replayed(monkeypatch: pytest.MonkeyPatch, name: str, attr: str, fake: Any) -> Any:
    monkeypatch.setattr(spc, attr, fake)
    return check(name).finding


def test_a_checker_skipping_the_count_proof_fails_the_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Block 7's ballot for Kim and Lee has every 0/1 proof valid and the count proof of
    a ballot for Kim alone: only the count proof refuses it."""
    honest = spc.question_failure

    def without_count(
        ctx: Any, Y: spc.Point, q: spc.EncryptedQuestion, rule: spc.Rule
    ) -> str | None:
        return honest(
            ctx, Y, spc.EncryptedQuestion(q.ciphertexts, q.zero_one, None, q.upper, q.lower), rule
        )

    finding = finding_when_replayed(
        monkeypatch, "secret-poll.export", "question_failure", without_count
    )
    assert finding is not None
    assert (finding.height, finding.rule, finding.position) == (7, 11, 4)
    assert "gives 'accepted'" in finding.what


def test_a_checker_skipping_the_budget_sum_fails_the_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Block 7's ballot for Path and Park carries the upper bits of a ballot for Library:
    every 0/1, count and bit proof verifies, and only N2 (the bits' sum is not U)
    refuses it."""
    honest = spc.bits_failure

    def without_sum(
        ctx: Any, Y: spc.Point, bits: spc.Bits, offset: int, target: spc.Ciphertext
    ) -> str | None:
        total: spc.Ciphertext = (spc.ID, spc.ID)
        for k, B in enumerate(bits.bits):
            total = spc.ct_add(total, spc.ct_mul(2**k, B))
        return honest(ctx, Y, bits, offset, total)

    finding = finding_when_replayed(monkeypatch, "secret-poll.export", "bits_failure", without_sum)
    assert finding is not None
    assert (finding.height, finding.rule, finding.position) == (7, 11, 5)
    assert "gives 'accepted'" in finding.what


def false_complaint() -> tuple[spc.Complaint, spc.Dealing, spc.TransportKey]:
    report = check("secret-poll.export")
    main = poll(report, MAIN)
    check_tx = tx_at("secret-poll.export", 6, 1)  # trustee 2's check
    (complaint,) = [spc.decode_complaint(c) for c in spc.dec(check_tx[5])[1]]
    dealing, transport = main.dealings[0], main.transport[1]
    assert dealing is not None and transport is not None
    return complaint, dealing, transport


def test_the_false_complaint_opens_a_share_that_matches_the_commitments() -> None:
    """Trustee 2 complains against dealer 1 with a valid reveal: its proof verifies, and
    the share it unpads (with T2's pad) satisfies V2, so the complaint is not upheld."""
    complaint, dealing, transport = false_complaint()
    assert (complaint.dealer, complaint.recipient) == (1, 2)
    poll_id, chain_id = bytes.fromhex(MAIN), MANIFEST["chain_id"]
    E, z = dealing.shares[1]
    context = spc.trustee_context(chain_id, poll_id, 2, "reveal")
    assert spc.chaum_pedersen_ok(
        spc.SHARE_KEY_REVEAL, context, transport.T, E, complaint.K, complaint.proof
    )
    pad = spc.share_pad(chain_id, poll_id, 1, 2, E, transport.T, complaint.K)
    assert spc.base(z - pad) == spc.feldman(dealing.commitments, 2)
    assert not spc.complaint_upheld(chain_id, poll_id, complaint, dealing, transport.T)


def test_upholding_every_complaint_with_a_valid_reveal_fails_the_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def proof_only(
        chain_id: str, poll_id: bytes, c: spc.Complaint, dealing: spc.Dealing, T_j: spc.Point
    ) -> bool:
        E_j, _ = dealing.shares[c.recipient - 1]
        context = spc.trustee_context(chain_id, poll_id, c.recipient, "reveal")
        return spc.chaum_pedersen_ok(spc.SHARE_KEY_REVEAL, context, T_j, E_j, c.K, c.proof)

    finding = finding_when_replayed(
        monkeypatch, "secret-poll.export", "complaint_upheld", proof_only
    )
    assert finding is not None
    assert (finding.height, finding.rule, finding.position) == (6, 11, 1)
    assert "gives 'accepted'" in finding.what


HONEST_PAD: Callable[..., int] = spc.share_pad
WRONG_PADS: dict[str, Callable[..., int]] = {
    # T2 misread: dealer and recipient swapped; one hash, not two; K left out.
    "i and j swapped": lambda c, p, i, j, E, T, K: HONEST_PAD(c, p, j, i, E, T, K),
    "one hash": lambda c, p, i, j, E, T, K: (
        spc.int_le(spc.H(spc.SHARE_PAD, spc.enc([c, p, i, j, E, T, K, 0]))) % spc.L
    ),
    "without K": lambda c, p, i, j, E, T, K: HONEST_PAD(c, p, i, j, E, T, spc.ID),
}


@pytest.mark.parametrize("misread", sorted(WRONG_PADS))
def test_a_wrong_pad_fails_the_vectors(monkeypatch: pytest.MonkeyPatch, misread: str) -> None:
    """With a wrong pad the false complaint's share looks spoiled, so it would be upheld:
    the vectors pin T2 through it."""
    finding = finding_when_replayed(
        monkeypatch, "secret-poll.export", "share_pad", WRONG_PADS[misread]
    )
    assert finding is not None
    assert (finding.height, finding.rule, finding.position) == (6, 11, 1)


def test_a_transport_key_posted_twice_keeps_the_first() -> None:
    """Trustee 1's second transport key is valid (its Schnorr proof verifies) and is
    refused wrong_phase only because trustee 1 took the step: secret/ keeps the first."""
    report = check("secret-poll.export")
    main = poll(report, MAIN)
    first, second = (spc.dec(tx_at("secret-poll.export", 4, p)[5])[1] for p in (0, 1))
    assert first != second
    key = spc.decode_transport_key(second)
    context = spc.trustee_context(MANIFEST["chain_id"], bytes.fromhex(MAIN), 1, "transport-key")
    assert key.trustee == 1 and spc.schnorr_ok(context, key.T, key.proof)
    assert main.transport_raw[0] == first


def test_a_key_step_after_close_is_refused_closed() -> None:
    """The closed-early poll's transport key is valid, refused only because the poll
    closed; the poll never gets a key and awaits no trustee (11.7)."""
    report = check("secret-poll.export")
    body = spc.dec(tx_at("secret-poll.export", 4, 7)[5])
    assert body[0].hex() == CLOSED_EARLY
    key = spc.decode_transport_key(body[1])
    context = spc.trustee_context(MANIFEST["chain_id"], body[0], 1, "transport-key")
    assert spc.schnorr_ok(context, key.T, key.proof)
    closed_early = poll(report, CLOSED_EARLY)
    assert closed_early.Y is None and closed_early.participants == 0
    assert spc.results_view(closed_early) == {"key_phase": "keys"}


def test_a_second_valid_ballot_without_revote_is_a_duplicate() -> None:
    """Voter 0's second ballot in the poll without revote has every proof valid; it is
    refused duplicate and the poll counts only the first (Lee)."""
    report = check("secret-poll.export")
    no_revote = poll(report, NO_REVOTE)
    first, second = tx_at("secret-poll.export", 7, 6), tx_at("secret-poll.export", 8, 3)
    assert first[3] == second[3]
    body = spc.dec(second[5])
    assert body[0].hex() == NO_REVOTE and no_revote.Y is not None
    for q, (item, rule) in enumerate(zip(body[6], no_revote.rules, strict=True)):

        def context(option: int, q: int = q) -> list[Any]:
            return [MANIFEST["chain_id"], body[0], second[3], q, option]

        assert (
            spc.question_failure(context, no_revote.Y, spc.decode_question(item, rule), rule)
            is None
        )
    assert (8, 3) not in report.tracking
    assert no_revote.participants == 1 and no_revote.counts == [[0, 1, 0]]
