"""What trustees and voters read from the CLI on a secret poll (issue 16), without a
cluster: `trustee init`, the status lines from a node's JSON, `poll show`'s choices
lines, `poll results` awaiting trustees, a ballot encrypted for `vote` that verifies,
its Benaloh audit, and its tracking code in the web app's form."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from ballotcrypto import dkg, group, question
from ballotcrypto.context import BallotContext
from ballotcrypto.elgamal import Ciphertext
from chain.encoding import encode
from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.errors import CliError
from cli.main import main
from cli.poll_view import describe_poll
from cli.results_text import choices_line
from cli.secret_ballot import audit, encrypt_ballot, tracking_of_tx
from cli.trustee_state import draw_scalar
from cli.trustee_view import crypto_of, read_crypto, status_document, summary_line
from votingcontract.bodies import CastBallot
from votingcontract.poll_spec import Question
from votingcontract.secret_polls import format_tracking_code, question_rule, tracking_code

CHAIN = "test-chain"
POLL_ID = "cd" * 32


def test_trustee_init_writes_a_key_and_a_secrets_file_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trustee1.pem"
    assert main(["trustee", "init", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    secrets_file = tmp_path / "trustee1.secrets.json"
    assert printed["secrets_file"] == str(secrets_file) and len(printed["public_key"]) == 64
    for path in (out, secrets_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(secrets_file.read_text())["public_key"] == printed["public_key"]
    before = out.read_bytes()
    assert main(["trustee", "init", "--out", str(out)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before


def dealt(size: int, threshold: int) -> tuple[list[dkg.TransportKey], list[dkg.Dealing]]:
    poll = bytes.fromhex(POLL_ID)
    secrets = [draw_scalar() for _ in range(size)]
    keys = [
        dkg.make_transport_key(CHAIN, poll, j, t, draw_scalar())
        for j, t in enumerate(secrets, start=1)
    ]
    dealings = [
        dkg.deal(
            CHAIN,
            poll,
            j,
            [draw_scalar() for _ in range(threshold)],
            [k.public for k in keys],
            draw_scalar(),
            [draw_scalar() for _ in range(size)],
        )
        for j in range(1, size + 1)
    ]
    return keys, dealings


def secret_poll(
    phase: str, posted: list[int], status: str = "open", **secret: Any
) -> dict[str, Any]:
    return {
        "poll_id": POLL_ID,
        "status": status,
        "choices": "secret",
        "questions": [
            {
                "text": "Chair",
                "options": [{"text": "Kim", "cost": 0}, {"text": "Lee", "cost": 0}],
                "min_selections": 1,
                "max_selections": 1,
            },
            {
                "text": "Projects",
                "options": [{"text": f"p{i}", "cost": 40} for i in range(3)],
                "min_selections": 0,
                "max_selections": 3,
                "budget_cap": 100,
                "min_spend_percent": 30,
            },
        ],
        "secret": {
            "trustees": [PrivateKey.generate().public_key.hex() for _ in range(3)],
            "threshold": 2,
            "phase": phase,
            "posted": posted,
            "qualified": None,
            "public_key": None,
            "verification_keys": [],
            "partials": [],
            "decrypted": False,
            **secret,
        },
    }


def test_status_names_the_trustees_a_phase_awaits(tmp_path: Path) -> None:
    keys, dealings = dealt(3, 2)
    poll = secret_poll("dealings", [1, 3])
    document = {
        "transport_keys": [encode(k.to_value()).hex() for k in keys],
        "dealings": [
            encode(dealings[0].to_value()).hex(),
            None,
            encode(dealings[2].to_value()).hex(),
        ],
        "checks": [None, None, None],
        "encrypted_tally": encode([]).hex(),
    }
    crypto = crypto_of(poll, document, CHAIN)
    status = status_document(crypto)
    assert status["summary"]["awaiting"] == [2]
    assert "awaiting trustee(s) 2" in status["lines"][1]
    assert [t["dealing"] for t in status["trustees"]] == [True, False, True]
    shown = "\n".join(describe_poll({**poll, **basics()}))
    assert "choices: secret" in shown and "trustee 3: " in shown
    assert "results: counted once the poll has closed and its trustees have decrypted" in shown
    assert "dealings phase, 2 of 3 trustees posted" in shown


def test_a_node_serving_a_malformed_dealing_is_refused_naming_it() -> None:
    keys, _dealings = dealt(2, 1)
    document = {
        "transport_keys": [encode(k.to_value()).hex() for k in keys],
        "dealings": [encode([1, [], [], []]).hex(), None],
        "checks": [None, None],
        "encrypted_tally": encode([]).hex(),
    }
    poll = secret_poll("dealings", [1])
    poll["secret"]["trustees"] = poll["secret"]["trustees"][:2]

    class Node:
        def get(self, path: str) -> dict[str, Any]:
            return document if path.endswith("/crypto") else poll

    with pytest.raises(CliError, match=r"malformed: dealing\.proof: expected \[c, v\]"):
        read_crypto(Node(), POLL_ID, CHAIN)  # type: ignore[arg-type]


def basics() -> dict[str, Any]:
    return {
        "title": "Student council",
        "kind": "citizen",
        "org_id": "",
        "opens_at_ms": 0,
        "closes_at_ms": 3_600_000,
        "access": {"methods": []},
        "visibility": "after_close",
        "revote": True,
    }


def test_a_public_poll_says_its_choices_are_public() -> None:
    lines = describe_poll({**basics(), "questions": []})
    assert any(line.startswith("choices: public") for line in lines)


def test_results_say_public_or_secret_and_awaiting_trustees() -> None:
    results = {
        "status": "closed",
        "choices": "secret",
        "awaiting_trustees": {"partials": 1, "threshold": 2},
    }
    assert "awaiting trustees (1 of 2)" in choices_line(results)
    assert "decrypted" in choices_line({"status": "closed", "choices": "secret"})
    assert choices_line({"status": "closed", "choices": "public"}).startswith("choices: public")


def test_results_of_a_secret_poll_that_will_never_have_totals_say_why() -> None:
    failed = {"status": "closed", "choices": "secret", "key_phase": "failed"}
    assert "key set-up failed" in choices_line(failed)
    unfinished = {"status": "closed", "choices": "secret", "key_phase": "dealings"}
    assert "closed before its trustees had made its key" in choices_line(unfinished)
    line = summary_line("dealings", 3, 2, [1, 2], True, [], False)
    assert "never finished: the poll closed in the dealings phase" in line
    assert "trustee setup" not in line


def ready_poll() -> dict[str, Any]:
    _keys, dealings = dealt(3, 2)
    joint = dkg.joint_public_key(dealings)
    return secret_poll("ready", [1, 2, 3], public_key=joint.encoding.hex())


def test_a_ballot_encrypted_for_vote_verifies_and_passes_its_audit() -> None:
    poll = ready_poll()
    voter = PrivateKey.generate()
    ballot = encrypt_ballot(CHAIN, poll, voter.public_key, [[1], [0, 1]], draw_scalar)
    assert ballot.choices == ((0, 1), (1, 1, 0))
    key = group.point_from_bytes(bytes.fromhex(poll["secret"]["public_key"]), "key")
    for q, (spec, encrypted) in enumerate(zip(poll["questions"], ballot.questions, strict=True)):
        rule = question_rule(Question.parse_dict(spec, "q"))
        context = BallotContext(CHAIN, bytes.fromhex(POLL_ID), voter.public_key, q)
        question.validate(context, key, rule, encrypted)
    assert audit(poll, ballot) == []
    # A booth that encrypted another choice than it shows is caught.
    first = ballot.questions[0]
    swapped = type(first)(
        (first.ciphertexts[1], first.ciphertexts[0]),
        first.option_proofs,
        first.count_proof,
        first.budget_proof,
    )
    cheating = type(ballot)((swapped, *ballot.questions[1:]), ballot.choices, ballot.randomness)
    assert audit(poll, cheating) == ["question 1: option(s) 1, 2 do not encrypt what was chosen"]


def test_an_audited_vote_prints_the_randomness_and_casts_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cli.secret_ballot import report_audit

    poll = ready_poll()
    ballot = encrypt_ballot(CHAIN, poll, PrivateKey.generate().public_key, [[0], [1]], draw_scalar)
    assert report_audit(False, poll, ballot, "AAAA BBBB") == 0
    out = capsys.readouterr().out
    assert "will NOT be cast" in out and "audit passed" in out
    assert out.count("randomness") == 5
    r = ballot.randomness[0][0].to_bytes(32, "little").hex()
    assert f"option 1 randomness {r}" in out


def test_the_tracking_code_is_the_chains_and_comes_from_the_transactions_bytes() -> None:
    poll = ready_poll()
    voter = PrivateKey.generate()
    ballot = encrypt_ballot(CHAIN, poll, voter.public_key, [[0], [2]], draw_scalar)
    body = CastBallot.from_dict(
        {"poll_id": POLL_ID, "selections": [], "encrypted": ballot.encoded().hex()}
    )
    code = tracking_code(body)
    text = format_tracking_code(code)
    tx = Transaction.create(voter, CHAIN, body.KIND, body.encode(), 1)
    assert tracking_of_tx(tx.encode().hex()) == text
    plain = CastBallot.from_dict({"poll_id": POLL_ID, "selections": [[0]]})
    assert (
        tracking_of_tx(
            Transaction.create(voter, CHAIN, plain.KIND, plain.encode(), 1).encode().hex()
        )
        is None
    )


def test_a_ballot_needs_the_polls_key(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CliError, match="keys phase, 1 of 3 trustees posted"):
        encrypt_ballot(CHAIN, secret_poll("keys", [2]), bytes(32), [[0], []], draw_scalar)


def test_ciphertexts_are_the_ones_decoded_from_the_tally() -> None:
    keys, dealings = dealt(2, 1)
    tally = [Ciphertext(group.base_mul(3), group.base_mul(4))]
    document = {
        "transport_keys": [encode(k.to_value()).hex() for k in keys],
        "dealings": [encode(d.to_value()).hex() for d in dealings],
        "checks": [[], []],
        "encrypted_tally": encode([c.to_value() for c in tally]).hex(),
    }
    poll = secret_poll("ready", [1, 2], status="closed", qualified=[1, 2])
    poll["secret"]["trustees"] = poll["secret"]["trustees"][:2]
    crypto = crypto_of(poll, document, CHAIN)
    assert crypto.tally == tuple(tally) and crypto.closed and crypto.qualified == (1, 2)
    assert "awaiting trustees (0 of 2)" in status_document(crypto)["lines"][1]


def test_a_poll_file_names_its_trustees_in_a_secret_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trustees = [PrivateKey.generate().public_key.hex() for _ in range(3)]
    text = (
        'kind = "citizen"\ntitle = "Council"\nopens_in_minutes = 0\nduration_minutes = 60\n'
        '[[questions]]\ntext = "Chair"\noptions = ["Kim", "Lee"]\n'
        f"[secret]\ntrustees = {json.dumps(trustees)}\nthreshold = 2\n"
    )
    (tmp_path / "council.toml").write_text(text)
    assert main(["poll", "create", str(tmp_path / "council.toml"), "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert "choices: secret" in shown and "2 of these 3 trustees" in shown
    assert f"trustee 3: {trustees[2]}" in shown
    (tmp_path / "typo.toml").write_text(text.replace("threshold", "treshold"))
    assert main(["poll", "create", str(tmp_path / "typo.toml"), "--dry-run"]) == 1
    assert 'unknown key "secret.treshold"; did you mean "threshold"?' in capsys.readouterr().err
