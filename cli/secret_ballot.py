"""A secret poll's ballot made on the voter's side (`votechain vote`), its tracking code,
and the Benaloh audit (`vote --audit`).

Each question's 0/1 selections are encrypted under the poll's joint key with fresh
randomness and proven well formed (ballotcrypto.question.encrypt against
secret_polls.question_rule, PROTOCOL.md 15.9). The randomness stays in this process's
memory: it is printed only by an audit, and an audited ballot is never cast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ballotcrypto import benaloh, question
from ballotcrypto.context import BallotContext
from ballotcrypto.group import point_from_bytes, scalar_to_bytes
from ballotcrypto.question import EncryptedQuestion
from chain.encoding import Value, encode
from chain.errors import DecodeError
from chain.keys import PrivateKey
from chain.tx import Transaction
from cli import common
from cli.errors import CliError
from cli.output import print_json
from cli.trustee_state import Draw, draw_scalar
from votingcontract.bodies import CastBallot
from votingcontract.poll_spec import Question
from votingcontract.secret_polls import (
    format_tracking_code,
    parse_tracking_code,
    question_rule,
    tracking_code,
)

AWAITING_KEY = "awaiting_key"


@dataclass(frozen=True)
class EncryptedBallot:
    """The ballot's questions and, per question and option, the randomness (secret)."""

    questions: tuple[EncryptedQuestion, ...]
    choices: tuple[tuple[int, ...], ...]
    """0/1 per option, per question: what was encrypted."""
    randomness: tuple[tuple[int, ...], ...]

    def value(self) -> list[Value]:
        """The cast_ballot's `encrypted` field."""
        return [q.to_value() for q in self.questions]

    def encoded(self) -> bytes:
        """The hex of these bytes is the `encrypted` of the ballot's dict form."""
        return encode(self.value())


def public_key_of(poll: dict[str, Any]) -> bytes:
    """The poll's joint key, or CliError saying what the poll still waits for."""
    secret = poll.get("secret") or {}
    key = secret.get("public_key")
    if key is None:
        from cli.trustee_view import poll_secret_line

        raise CliError(
            f"this poll's choices are secret and its key is not ready, so it takes no ballot "
            f"yet ({poll_secret_line(poll)})",
            AWAITING_KEY,
        )
    return bytes.fromhex(str(key))


def encrypt_ballot(
    chain_id: str,
    poll: dict[str, Any],
    voter_key: bytes,
    selections: Sequence[Sequence[int]],
    draw: Draw,
) -> EncryptedBallot:
    """Encrypt the chosen option indices (per question, 0-based, as parse_answers gives
    them) for the voter `voter_key` (the transaction's signer: the proofs are bound to it)."""
    public_key = point_from_bytes(public_key_of(poll), "the poll's public key")
    poll_id = bytes.fromhex(poll["poll_id"])
    encrypted, choices, randomness = [], [], []
    for q, (spec, chosen) in enumerate(zip(poll["questions"], selections, strict=True)):
        rule = question_rule(Question.parse_dict(spec, f"questions[{q}]"))
        ones = tuple(1 if i in chosen else 0 for i in range(rule.options))
        r = tuple(draw() for _ in range(rule.options))
        nonces = [draw() for _ in range(question.nonce_count(rule))]
        context = BallotContext(chain_id, poll_id, voter_key, q)
        encrypted.append(question.encrypt(context, public_key, rule, ones, r, nonces))
        choices.append(ones)
        randomness.append(r)
    return EncryptedBallot(tuple(encrypted), tuple(choices), tuple(randomness))


def audit(poll: dict[str, Any], ballot: EncryptedBallot) -> list[str]:
    """The Benaloh check of every question: [] when each ciphertext is Enc(choice; r),
    else one line per question naming the options that are not."""
    public_key = point_from_bytes(public_key_of(poll), "the poll's public key")
    problems = []
    for q, (encrypted, ones, r) in enumerate(
        zip(ballot.questions, ballot.choices, ballot.randomness, strict=True), start=1
    ):
        wrong = benaloh.mismatched_options(public_key, encrypted.ciphertexts, ones, r)
        if wrong:
            problems.append(
                f"question {q}: option(s) {', '.join(str(i + 1) for i in wrong)} do not "
                "encrypt what was chosen"
            )
    return problems


def audit_document(ballot: EncryptedBallot) -> list[dict[str, Any]]:
    """What an audit reveals, per question: the options encrypted (0/1), each one's
    randomness (32-byte little-endian hex) and ciphertext [alpha, beta] (hex), for a
    second device to check."""
    return [
        {
            "choices": list(ones),
            "randomness": [scalar_to_bytes(r).hex() for r in rs],
            "ciphertexts": [[c.alpha.encoding.hex(), c.beta.encoding.hex()] for c in q.ciphertexts],
        }
        for q, ones, rs in zip(ballot.questions, ballot.choices, ballot.randomness, strict=True)
    ]


def encrypt_for_vote(
    args: Any, chain_id: str, poll: dict[str, Any], key: PrivateKey, body: dict[str, Any]
) -> EncryptedBallot | None:
    """`vote`: on a secret poll, replace the body's plain selections by the encrypted
    ballot (selections [] and `encrypted`, the interface of issue 16); None on a public
    poll, where --audit has nothing to reveal."""
    if poll.get("choices") != "secret":
        if args.audit:
            raise CliError(
                "--audit checks an encrypted ballot; this poll's choices are public, so its "
                "ballot is not encrypted"
            )
        return None
    ballot = encrypt_ballot(chain_id, poll, key.public_key, body["selections"], draw_scalar)
    body["selections"] = []
    body["encrypted"] = ballot.encoded().hex()
    return ballot


def report_audit(as_json: bool, poll: dict[str, Any], ballot: EncryptedBallot, code: str) -> int:
    """`vote --audit`: print the randomness and the check; nothing is cast."""
    problems = audit(poll, ballot)
    if as_json:
        print_json(
            {
                "audited": True,
                "cast": False,
                "tracking_code": code,
                "ok": not problems,
                "problems": problems,
                "questions": audit_document(ballot),
            }
        )
        return 1 if problems else 0
    print(f"tracking code: {code}")
    print("AUDIT: this ballot is opened and will NOT be cast")
    for q, item in enumerate(audit_document(ballot), start=1):
        chosen = [str(i + 1) for i, one in enumerate(item["choices"]) if one] or ["none"]
        print(f"Q{q}: encrypted options {', '.join(chosen)}")
        for o, r in enumerate(item["randomness"], start=1):
            print(f"  option {o} randomness {r}")
    if problems:
        for line in problems:
            print(f"AUDIT FAILED: {line}")
        return 1
    print("audit passed: every ciphertext encrypts exactly the answers given; vote again to cast")
    return 0


def tracking_of_tx(encoded_tx_hex: str) -> str | None:
    """The tracking code of a receipt's transaction when it is an encrypted ballot,
    computed from the transaction's own bytes (not taken from a node); else None."""
    try:
        tx = Transaction.decode(bytes.fromhex(encoded_tx_hex))
        if tx.kind != CastBallot.KIND:
            return None
        body = CastBallot.decode(tx.body)
    except (DecodeError, ValueError):
        return None  # the receipt's own check reports a damaged transaction
    if body.encrypted is None:
        return None
    return format_tracking_code(tracking_code(body))


def find_ballot(args: Any) -> int:
    """`receipt find CODE`: the committed ballot with this tracking code (GET
    /v1/tracking/{code}), and how to save its receipt."""
    parse_tracking_code(args.code)  # a typo is said here, before a node is asked
    compact = "".join(ch for ch in args.code if ch not in " -")
    client = common.client_of(args)
    found = client.get(f"/v1/tracking/{compact}")
    committed = client.get(f"/v1/tx/{found['tx_id']}")
    document = {
        **found,
        "height": committed["height"],
        "poll_id": (committed["tx"].get("body") or {}).get("poll_id"),
        "code": committed["receipt"]["code"],
    }
    if args.json:
        print_json(document)
        return 0
    print(
        f"tracking code {found['shown']}: ballot {found['tx_id']} in poll "
        f"{document['poll_id']}, block {document['height']}, receipt {document['code']}"
    )
    print(f"save its receipt: votechain receipt save {found['tx_id']} FILE")
    return 0
