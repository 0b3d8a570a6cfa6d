"""docs/ballotcrypto-vectors.json is what the code generates, and every verdict in it is
what the code's checks give, read back from the file's bytes alone."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from ballotcrypto import decryption, dkg, elgamal, group, question
from ballotcrypto.context import BallotContext
from ballotcrypto.decryption import PartialDecryption
from ballotcrypto.dkg import Dealing, TransportKey
from ballotcrypto.dlog import BoundedLog
from ballotcrypto.errors import InvalidBallotProof, InvalidDecryptionShare
from ballotcrypto.question import QuestionRule
from chain.encoding import decode
from tests.ballotcrypto import vectors

DOCUMENT: dict[str, Any] = json.loads(vectors.PATH.read_text())


def test_the_committed_vectors_are_a_fresh_generation() -> None:
    assert vectors.main(["--check"]) == 0


def public_key() -> group.Point:
    return group.point_from_bytes(bytes.fromhex(DOCUMENT["keys"]["joint_public_key"]), "Y")


def test_the_keys_check_and_combine_to_the_published_joint_key() -> None:
    keys = DOCUMENT["keys"]
    chain_id, poll_id = keys["chain_id"], bytes.fromhex(keys["poll_id"])
    for raw in keys["transport_keys"]:
        dkg.validate_transport_key(
            chain_id, poll_id, TransportKey.from_value(decode(bytes.fromhex(raw)))
        )
    dealings = [Dealing.from_value(decode(bytes.fromhex(raw))) for raw in keys["dealings"]]
    for dealing in dealings:
        dkg.validate_dealing(chain_id, poll_id, dealing, keys["threshold"], keys["trustees"])
    assert dkg.joint_public_key(dealings) == public_key()
    assert [dkg.verification_key(dealings, j).encoding.hex() for j in (1, 2, 3)] == keys[
        "verification_keys"
    ]


@pytest.mark.parametrize(
    "entry",
    DOCUMENT["questions"],
    ids=[f"{q['name']}: {q['expected']}" for q in DOCUMENT["questions"]],
)
def test_each_question_gets_its_verdict(entry: dict[str, Any]) -> None:
    rule_fields = entry["rule"]
    rule = QuestionRule(
        rule_fields["options"],
        rule_fields["min"],
        rule_fields["max"],
        None if rule_fields["costs"] is None else tuple(rule_fields["costs"]),
        rule_fields["cap"],
        rule_fields["floor"],
    )
    context_fields = entry["context"]
    context = BallotContext(
        context_fields["chain_id"],
        bytes.fromhex(context_fields["poll_id"]),
        bytes.fromhex(context_fields["voter_key"]),
        context_fields["question"],
    )
    encrypted = question.decode(decode(bytes.fromhex(entry["question"])), rule, "question")
    if entry["expected"] == "valid":
        question.validate(context, public_key(), rule, encrypted)
        randomness = [int.from_bytes(bytes.fromhex(r), "little") for r in entry["randomness"]]
        for ciphertext, s, r in zip(
            encrypted.ciphertexts, entry["selections"], randomness, strict=True
        ):
            assert elgamal.encrypt(public_key(), s, r) == ciphertext
        return
    expected = entry["expected"].split(" (")[0]
    with pytest.raises(InvalidBallotProof, match=expected):
        question.validate(context, public_key(), rule, encrypted)


def test_the_worked_challenge_is_sha256_of_its_domain_and_bytes() -> None:
    worked = DOCUMENT["challenge_worked"]
    digest = hashlib.sha256(bytes.fromhex(worked["domain"][2:]) + bytes.fromhex(worked["hashed"]))
    assert digest.hexdigest() == worked["digest"]
    c = int.from_bytes(digest.digest(), "little") % group.L
    assert c.to_bytes(32, "little").hex() == worked["c"]


def test_the_tally_decrypts_to_the_published_counts_and_the_wrong_partial_is_named() -> None:
    keys = DOCUMENT["keys"]
    tally = DOCUMENT["tally"]
    chain_id, poll_id = keys["chain_id"], bytes.fromhex(keys["poll_id"])
    ciphertexts = [
        elgamal.decode_ciphertext(decode(bytes.fromhex(raw)), "tally")
        for raw in tally["ciphertexts"]
    ]
    verification_keys = {
        j: group.point_from_bytes(bytes.fromhex(raw), "S")
        for j, raw in enumerate(keys["verification_keys"], start=1)
    }
    partials = [
        PartialDecryption.from_value(decode(bytes.fromhex(p["partial"]))) for p in tally["partials"]
    ]
    for partial, entry in zip(partials, tally["partials"], strict=True):
        if entry["expected"] == "valid":
            decryption.validate_partial(
                chain_id, poll_id, verification_keys[partial.trustee], ciphertexts, partial
            )
        else:
            with pytest.raises(InvalidDecryptionShare, match=f"trustee {partial.trustee}"):
                decryption.validate_partial(
                    chain_id, poll_id, verification_keys[partial.trustee], ciphertexts, partial
                )
    outcome = decryption.tally(
        chain_id,
        poll_id,
        ciphertexts,
        partials,
        verification_keys,
        keys["threshold"],
        BoundedLog(10),
    )
    assert outcome.counts == tuple(tally["counts"])
    assert [trustee for trustee, _ in outcome.rejected] == [2]
