"""The outsider's checker (secret_poll_check.py, written from PROTOCOL.md alone) on the
published vectors: it must reach every receipt, app hash, count and tracking code that
docs/test-vectors/manifest.json and docs/ballotcrypto-vectors.json give, and find each
forgery of the encrypted poll at the height and rule the manifest names, for the reason
its description gives.
"""

from __future__ import annotations

import json
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


def only_poll(report: spc.Report) -> tuple[str, spc.SecretPoll]:
    ((poll_id, poll),) = report.polls.items()
    return poll_id.hex(), poll


# ---------------------------------------------------------------- the valid chains


def test_secret_poll_every_receipt_app_hash_and_count_agree() -> None:
    entry = ENTRIES["chains/secret-poll.export"]
    report = check("secret-poll.export")
    assert report.verdict == "ok", report.finding
    assert report.blocks == entry["blocks"]
    assert report.app_hash is not None and report.app_hash.hex() == entry["app_hash"]

    computed = secret_results(report)
    # Every trustee step and every ballot of the secret poll had its code computed
    # (not taken from the file), and each equals the stored one.
    assert len(computed) == 22
    assert all(r.computed == r.stored for r in computed)
    codes = {(r.height, r.position): r.computed for r in computed}
    assert codes[(4, 3)] == "awaiting_key"
    assert codes[(6, 0)] == "not_trustee"
    assert codes[(7, 3)] == "malformed_ballot"
    assert codes[(8, 2)] == "bad_ballot_proof"
    assert codes[(10, 0)] == "bad_trustee_proof"
    assert [codes[(h, p)] for h, p in [(10, 1), (11, 0), (12, 0)]] == ["accepted"] * 3

    poll_id, poll = only_poll(report)
    assert spc.results_view(poll) == {
        "key_phase": entry["key_phase"][poll_id],
        "questions": entry["questions"][poll_id],
    }
    assert poll.counts is not None and poll.counts[0] == entry["counts"][poll_id]
    # Trustee 1's complaint against dealer 3 is upheld: dealers 1 and 2 make the key.
    assert poll.complaints == [(3, 1, True)]
    assert poll.qualified == [1, 2]
    # Trustees 2 and 3 were combined (the first two valid partials); trustee 1's late
    # partial is checked and stored.
    assert [p.trustee for p in poll.partials] == [2, 3, 1]


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
    poll_id, poll = only_poll(report)
    assert spc.results_view(poll) == {
        "key_phase": "ready",
        "awaiting_trustees": entry["awaiting_trustees"][poll_id],
    }


def test_failed_setup_chain() -> None:
    entry = ENTRIES["chains/secret-poll-setup-failed.export"]
    report = check("secret-poll-setup-failed.export")
    assert report.verdict == "ok", report.finding
    assert report.app_hash is not None and report.app_hash.hex() == entry["app_hash"]
    assert all(r.computed == r.stored for r in secret_results(report))
    poll_id, poll = only_poll(report)
    assert spc.results_view(poll) == {"key_phase": entry["key_phase"][poll_id]}
    assert poll.qualified == [1, 2] and poll.threshold == 3 and poll.Y is None
    assert entry["counts"] == {} and entry["awaiting_trustees"] == {}


def test_the_complaints_pad_is_computed_as_the_dealer_did() -> None:
    """T2 is only pinned by the vectors through this: any wrong pad would also make the
    complaint 'upheld', but with the right pad the revealed share is the committed
    value plus one (how the vectors spoil dealer 3's share), not a random scalar."""
    report = check("secret-poll.export")
    _, poll = only_poll(report)
    dealer = poll.dealings[2]
    transport = poll.transport[0]
    assert dealer is not None and transport is not None
    export = spc.read_frames((VECTORS / "chains" / "secret-poll.export").read_bytes())
    check_tx = spc.dec(export[6])[2][1][1]
    complaint = spc.decode_complaint(spc.dec(check_tx[5])[1][0])
    E, z = dealer.shares[0]
    poll_id = bytes.fromhex(next(iter(ENTRIES["chains/secret-poll.export"]["choices"])))
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
    """The vectors' only complaint is upheld, so they cannot tell a checker that rules
    every complaint upheld from one that checks the reveal proof (see the report on
    issue 16): this pins it on that complaint with one byte of its proof changed."""
    report = check("secret-poll.export")
    poll_id_hex, poll = only_poll(report)
    dealer, transport = poll.dealings[2], poll.transport[0]
    assert dealer is not None and transport is not None
    export = spc.read_frames((VECTORS / "chains" / "secret-poll.export").read_bytes())
    check_tx = spc.dec(export[6])[2][1][1]
    complaint = spc.decode_complaint(spc.dec(check_tx[5])[1][0])
    poll_id = bytes.fromhex(poll_id_hex)
    assert spc.complaint_upheld(MANIFEST["chain_id"], poll_id, complaint, dealer, transport.T)
    c, v = complaint.proof
    forged = spc.Complaint(complaint.dealer, complaint.recipient, complaint.K, (c, (v + 1) % spc.L))
    assert not spc.complaint_upheld(MANIFEST["chain_id"], poll_id, forged, dealer, transport.T)
    # Revealing another point as K (here the recipient's own transport key) fails too.
    other = spc.Complaint(complaint.dealer, complaint.recipient, transport.T, complaint.proof)
    assert not spc.complaint_upheld(MANIFEST["chain_id"], poll_id, other, dealer, transport.T)


def test_proofs_moved_between_one_voters_two_ballots() -> None:
    """No published ballot fails first at a count proof or at N2 (each forged one fails
    an option's 0/1 proof first), so a checker that skipped them would pass every vector.
    Voter 2's first ballot (block 7) and revote (block 8) share the proof context, so
    moving the revote's count or budget proof onto the first ballot leaves every 0/1
    proof valid and must fail exactly the check moved."""
    report = check("secret-poll.export")
    poll_id_hex, poll = only_poll(report)
    poll_id = bytes.fromhex(poll_id_hex)
    export = spc.read_frames((VECTORS / "chains" / "secret-poll.export").read_bytes())
    first_tx = spc.dec(export[7])[2][1][2]
    revote_tx = spc.dec(export[8])[2][1][0]
    assert first_tx[3] == revote_tx[3]
    voter = first_tx[3]
    first = [
        spc.decode_question(q, r) for q, r in zip(spc.dec(first_tx[5])[6], poll.rules, strict=True)
    ]
    revote = [
        spc.decode_question(q, r) for q, r in zip(spc.dec(revote_tx[5])[6], poll.rules, strict=True)
    ]
    assert poll.Y is not None

    def failure(index: int, question: spc.EncryptedQuestion) -> str | None:
        def context(option: int) -> list[Any]:
            return [MANIFEST["chain_id"], poll_id, voter, index, option]

        assert poll.Y is not None
        return spc.question_failure(context, poll.Y, question, poll.rules[index])

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
    and nothing else: replayed with the colluders' rule (every check stored with no
    dealer named, so dealer 3 qualifies), the same forged chain passes whole."""
    honest = spc.Replay._outcome

    def colluders(self: spc.Replay, poll_id: bytes, sp: spc.SecretPoll) -> None:
        sp.checks = [[] for _ in sp.checks]
        honest(self, poll_id, sp)

    monkeypatch.setattr(spc.Replay, "_outcome", colluders)
    report = check("secret-rule-10-complaint-ignored.export")
    assert report.verdict == "ok", report.finding
    _, poll = only_poll(report)
    assert poll.qualified == [1, 2, 3]


def test_counts_changed_is_exactly_one_more_vote_for_kim(monkeypatch: pytest.MonkeyPatch) -> None:
    """secret-rule-10-counts-changed differs from the honest replay only in Kim's
    decrypted count: add one to it in the replay and the forged chain passes whole."""
    honest = spc.Replay._count_votes

    def colluders(self: spc.Replay, poll_id: bytes, sp: spc.SecretPoll) -> None:
        honest(self, poll_id, sp)
        assert sp.counts is not None
        sp.counts[0][0] += 1
        key = b"tally/" + poll_id + (0).to_bytes(2, "big") * 2
        self._put(key, spc.enc(sp.counts[0][0]))

    monkeypatch.setattr(spc.Replay, "_count_votes", colluders)
    report = check("secret-rule-10-counts-changed.export")
    assert report.verdict == "ok", report.finding
    _, poll = only_poll(report)
    assert poll.counts == [[2, 2, 1], [2, 1, 3]]


def test_bad_proof_counted_is_exactly_the_refused_ballot_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """secret-rule-10-bad-proof-counted differs from the honest replay only in block 8's
    refused ballot: replayed with its writes applied as if accepted (its receipt kept
    bad_ballot_proof), the forged chain passes whole."""
    honest = spc.Replay._cast_ballot
    checks_proofs = spc.question_failure

    def colluders(
        self: spc.Replay,
        ctx: tuple[str, int, int],
        kind: str,
        signer: bytes,
        body: list[Any],
        tx_id: bytes,
        stored: str,
    ) -> tuple[str, bytes | None]:
        if stored != "bad_ballot_proof":
            return honest(self, ctx, kind, signer, body, tx_id, stored)
        monkeypatch.setattr(spc, "question_failure", lambda *_: None)
        code, poll_id = honest(self, ctx, kind, signer, body, tx_id, stored)
        monkeypatch.setattr(spc, "question_failure", checks_proofs)
        assert code == "accepted"
        return stored, poll_id

    monkeypatch.setattr(spc.Replay, "_cast_ballot", colluders)
    report = check("secret-rule-10-bad-proof-counted.export")
    assert report.verdict == "ok", report.finding
