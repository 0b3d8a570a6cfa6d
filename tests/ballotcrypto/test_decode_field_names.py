"""Every refusal of a ballotcrypto decoder names the field that is wrong, word for word.

A trustee reading why their dealing or partial decryption was refused, and an auditor
reading why a ballot was, see these texts. For every position inside an honest encoding
of each message, the value there is replaced by text, an empty array, zero, 32 zero bytes
(the identity point) and 32 bytes that are neither a point nor a scalar, and the refusal
is compared with
testdata/decode_refusals.json (`VOTECHAIN_REWRITE=1` writes it again; read the diff).
"accepted" there is a value the decoder takes as it is: an empty list, a zero scalar, the
identity where a share or beta may be it; the proofs and counts are judged later.
Issue 12's mutation sample of ballotcrypto/ found labels no test read (a bit
ciphertext's name dropped, `complaint.recipient` misspelt, a ciphertext's refusal
without words) and a bound no test crossed (a partial decryption's shares).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ballotcrypto import decryption, dkg, elgamal, question
from ballotcrypto.decryption import MAX_CIPHERTEXTS, PartialDecryption
from ballotcrypto.dkg import MAX_TRUSTEES, Complaint, Dealing, TransportKey
from ballotcrypto.question import QuestionRule
from chain.encoding import Value
from chain.errors import DecodeError
from tests.ballotcrypto.fixtures import CHAIN_ID, POLL_ID, Scalars, ballot_context, keypair
from tests.ballotcrypto.trustees import run_ceremony

GOLDEN = Path(__file__).parent / "testdata" / "decode_refusals.json"
BUDGET = QuestionRule(3, 0, 3, costs=(3, 2, 5), cap=7, floor=2)
PICK_ONE = QuestionRule(3, 1, 1)

DECODERS: dict[str, Callable[[Any], object]] = {
    "transport key": TransportKey.from_value,
    "dealing": Dealing.from_value,
    "complaint": Complaint.from_value,
    "partial decryption": PartialDecryption.from_value,
    "pick-one question": lambda value: question.decode(value, PICK_ONE, "q"),
    "budget question": lambda value: question.decode(value, BUDGET, "q"),
}
REPLACEMENTS: dict[str, Value] = {
    "text": "x",
    "empty array": [],
    "zero": 0,
    "32 bytes 0x00": bytes(32),
    "32 bytes 0xff": b"\xff" * 32,
}


def _honest_values() -> dict[str, Value]:
    ceremony = run_ceremony(2, 3, seed=40)
    scalars = Scalars(41)
    key = keypair(scalars)
    ciphertexts = [elgamal.encrypt(key.public, 1, r) for r in scalars.many(2)]
    values: dict[str, Value] = {
        "transport key": ceremony.transport_keys[0].to_value(),
        "dealing": ceremony.dealings[0].to_value(),
        "complaint": dkg.complain(
            CHAIN_ID, POLL_ID, ceremony.dealings[0], 2, ceremony.transport_secrets[1], 5
        ).to_value(),
        "partial decryption": decryption.partial_decrypt(
            CHAIN_ID, POLL_ID, 1, ceremony.secret_shares[1], ciphertexts, scalars.many(2)
        ).to_value(),
    }
    for name, rule, selections in (
        ("pick-one question", PICK_ONE, [0, 1, 0]),
        ("budget question", BUDGET, [1, 1, 0]),
    ):
        values[name] = question.encrypt(
            ballot_context(),
            key.public,
            rule,
            selections,
            scalars.many(3),
            scalars.many(question.nonce_count(rule)),
        ).to_value()
    return values


def _positions(value: Value, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    found = [prefix]
    if isinstance(value, list):
        for i, item in enumerate(value):
            found += _positions(item, (*prefix, i))
    return found


def _replaced(value: Value, path: tuple[int, ...], new: Value) -> Value:
    if not path:
        return new
    assert isinstance(value, list)
    copy = list(value)
    copy[path[0]] = _replaced(copy[path[0]], path[1:], new)
    return copy


def _refusals() -> dict[str, dict[str, str]]:
    """decoder -> "position, replacement" -> the refusal's text."""
    found: dict[str, dict[str, str]] = {}
    for name, honest in _honest_values().items():
        DECODERS[name](honest)  # the honest value itself decodes
        found[name] = {}
        for path in _positions(honest):
            for label, new in REPLACEMENTS.items():
                where = f"[{', '.join(map(str, path))}] {label}"
                try:
                    DECODERS[name](_replaced(honest, path, new))
                except DecodeError as exc:
                    found[name][where] = str(exc)
                else:
                    found[name][where] = "accepted"
    return found


def test_every_refusal_names_the_field_as_the_golden_file_says() -> None:
    refusals = _refusals()
    if os.environ.get("VOTECHAIN_REWRITE"):
        GOLDEN.write_text(json.dumps(refusals, indent=1, ensure_ascii=False) + "\n")
    assert refusals == json.loads(GOLDEN.read_text())


@pytest.mark.parametrize(
    ("field", "limit", "name"),
    [
        (1, MAX_CIPHERTEXTS, "partial decryption.shares"),
        (2, MAX_CIPHERTEXTS, "partial decryption.proofs"),
    ],
)
def test_a_partial_decryption_with_one_ciphertext_too_many_is_refused_by_name(
    field: int, limit: int, name: str
) -> None:
    honest = _honest_values()["partial decryption"]
    assert isinstance(honest, list)
    value = list(honest)
    value[field] = [honest[field][0]] * (limit + 1)  # type: ignore[index]
    with pytest.raises(DecodeError, match=f"^{name}: at most {limit} items, got {limit + 1}$"):
        PartialDecryption.from_value(value)


@pytest.mark.parametrize(("field", "name"), [(1, "dealing.commitments"), (3, "dealing.shares")])
def test_a_dealing_for_more_than_max_trustees_is_refused_by_name(field: int, name: str) -> None:
    honest = _honest_values()["dealing"]
    assert isinstance(honest, list)
    value = list(honest)
    value[field] = [honest[field][0]] * (MAX_TRUSTEES + 1)  # type: ignore[index]
    with pytest.raises(
        DecodeError, match=rf"^{name}: at most {MAX_TRUSTEES} items, got {MAX_TRUSTEES + 1}$"
    ):
        Dealing.from_value(value)
