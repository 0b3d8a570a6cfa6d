"""Secret polls: encrypted ballots, their trustees' key generation and the decryption.

A poll whose spec has `secret` takes only encrypted ballots (PROTOCOL.md section 15).
Its trustees first make the poll's key on chain, in three steps each trustee takes once,
all of one step before any of the next (15.7): trustee_key, trustee_dealing,
trustee_check. When every check is in, the qualified dealers fix the joint key Y and each
trustee's verification key S_j; with fewer than `threshold` qualified dealers the setup
has failed and the poll never takes a ballot.

An accepted ballot's option ciphertexts are added to the poll's encrypted tally; a
revote first subtracts the voter's previous ciphertexts, so only the last ballot is in
it. After close each trustee posts a partial decryption of the whole tally (15.8); the
`threshold`-th valid one makes the state machine combine them, take each count's bounded
discrete logarithm (bound: the participants) and write the counts as the poll's ordinary
tally/ counters, so its results read as a public poll's do.

Stored (state_keys.py): secret/ the setup record, pollkey/ the joint key once ready,
etally/ the encrypted tally, decryption/ the valid partials, tracking/ the tracking codes.
Ciphertext blobs are 64 bytes per ciphertext (alpha || beta), questions and options in
order; the state machine wrote them, so they are read without validating again.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ballotcrypto import dkg, elgamal, question
from ballotcrypto.context import BallotContext
from ballotcrypto.decryption import PartialDecryption, combine, validate_partial
from ballotcrypto.dkg import Complaint, Dealing, TransportKey
from ballotcrypto.dlog import BoundedLog
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.errors import (
    BallotCryptoError,
    InvalidBallotProof,
    InvalidDecryptionShare,
    MalformedCrypto,
    OutOfRange,
)
from ballotcrypto.group import Point, point_from_bytes
from ballotcrypto.question import QuestionRule
from chain import encoding
from chain.errors import DecodeError
from chain.hashing import Domain, tagged_hash
from chain.state import OverlayState, StateView
from chain.tx import Transaction
from votingcontract import limits, state_keys
from votingcontract.bodies import CastBallot
from votingcontract.context import BlockContext
from votingcontract.poll_spec import CreatePoll, Question
from votingcontract.reasons import ReasonCode, Refused
from votingcontract.records import PollRecord, add_to_count, read_count, read_poll
from votingcontract.trustee_bodies import TrusteeCheck, TrusteeDealing, TrusteeDecrypt, TrusteeKey

CIPHERTEXT_BYTES = 64


# The public terms of a question and the size of its ballots.


def question_rule(q: Question) -> QuestionRule:
    """The terms a question's encrypted answer is proven against (PROTOCOL.md 15.9)."""
    if q.budget_cap is None:
        return QuestionRule(len(q.options), q.min_selections, q.max_selections)
    floor = (q.budget_cap * q.min_spend_percent + 99) // 100
    return QuestionRule(
        len(q.options),
        q.min_selections,
        q.max_selections,
        tuple(o.cost for o in q.options),
        q.budget_cap,
        floor,
    )


def encrypted_ballot_bound(questions: Sequence[Question]) -> int:
    """An upper bound of an encrypted ballot's bytes for these questions (15.9).

    Counts 34 bytes per point or scalar and 3 per array header, whatever the real
    header is: the rule is this arithmetic, so an outside verifier computes the same.
    """
    item, header = 34, 3
    ciphertext = header + 2 * item
    branch = header + 2 * item

    def proof(branches: int) -> int:
        return header + branches * branch

    def bits(n: int) -> int:
        return header + header + n * ciphertext + header + n * proof(2)

    total = header
    for q in questions:
        rule = question_rule(q)
        size = header + header + rule.options * ciphertext + header + rule.options * proof(2)
        size += 1
        if rule.counts_selections:
            size += proof(min(rule.maximum, rule.options) - rule.minimum + 1)
        size += 1
        if rule.costs is not None:
            upper = bits(max(1, rule.cap.bit_length()))
            lower = (
                1 if rule.floor == 0 else bits(max(1, (sum(rule.costs) - rule.floor).bit_length()))
            )
            size += header + upper + lower
        total += size
    return total


def validate_secret_spec(body: CreatePoll) -> None:
    """invalid_poll unless the trustees are distinct, the roll carries no weights and an
    encrypted ballot fits a transaction."""
    secret = body.secret
    if secret is None:
        return
    if len(set(secret.trustees)) != len(secret.trustees):
        raise Refused(ReasonCode.INVALID_POLL, "secret.trustees: a trustee is listed twice")
    if body.access.roll_weights is not None:
        raise Refused(
            ReasonCode.INVALID_POLL, "secret: a poll with secret choices cannot weight its roll"
        )
    size = encrypted_ballot_bound(body.questions)
    if size > limits.MAX_ENCRYPTED_BALLOT_BYTES:
        raise Refused(
            ReasonCode.INVALID_POLL,
            f"secret: an encrypted ballot could take {size:,} bytes, more than the "
            f"{limits.MAX_ENCRYPTED_BALLOT_BYTES:,} a transaction leaves for it; "
            "use fewer options or questions, or a smaller budget",
        )


# The setup record.


@dataclass(frozen=True)
class KeyOutcome:
    """What the checks decided: the qualified dealers and, if enough, the keys."""

    qualified: tuple[int, ...]
    public_key: Point | None
    """None: fewer qualified dealers than the threshold; the setup failed."""
    verification_keys: tuple[Point, ...]


@dataclass(frozen=True)
class SecretSetup:
    """A secret poll's key generation so far; lists are indexed by trustee - 1."""

    transport_keys: tuple[TransportKey | None, ...]
    dealings: tuple[Dealing | None, ...]
    checks: tuple[tuple[int, ...] | None, ...]
    """Per trustee that posted its check: the dealers its upheld complaints named."""
    outcome: KeyOutcome | None

    @classmethod
    def empty(cls, trustees: int) -> SecretSetup:
        return cls((None,) * trustees, (None,) * trustees, (None,) * trustees, None)

    @property
    def phase(self) -> str:
        if self.outcome is not None:
            return "ready" if self.outcome.public_key is not None else "failed"
        if None in self.transport_keys:
            return "keys"
        if None in self.dealings:
            return "dealings"
        return "checks"

    def encode(self) -> bytes:
        outcome: Any = None
        if self.outcome is not None:
            o = self.outcome
            outcome = [
                list(o.qualified),
                None if o.public_key is None else o.public_key.encoding,
                [key.encoding for key in o.verification_keys],
            ]
        return encoding.encode(
            [
                [None if k is None else k.to_value() for k in self.transport_keys],
                [None if d is None else d.to_value() for d in self.dealings],
                [None if c is None else list(c) for c in self.checks],
                outcome,
            ]
        )

    @classmethod
    def decode(cls, data: bytes) -> SecretSetup:
        f = encoding.expect_list(encoding.decode(data), 4, "secret setup record")
        outcome = None
        if f[3] is not None:
            qualified, public_key, keys = f[3]
            outcome = KeyOutcome(
                tuple(qualified),
                None if public_key is None else Point(public_key),
                tuple(Point(k) for k in keys),
            )
        return cls(
            tuple(None if k is None else TransportKey.from_value(k) for k in f[0]),
            tuple(None if d is None else Dealing.from_value(d) for d in f[1]),
            tuple(None if c is None else tuple(c) for c in f[2]),
            outcome,
        )

    def posted(self) -> list[int]:
        """The trustees (1-based) who have taken the current step."""
        step = {"keys": self.transport_keys, "dealings": self.dealings, "checks": self.checks}
        done = step.get(self.phase, self.checks)
        return [j for j, item in enumerate(done, start=1) if item is not None]


def read_setup(state: StateView, poll_id: bytes) -> SecretSetup | None:
    data = state.get(state_keys.secret_setup(poll_id))
    return None if data is None else SecretSetup.decode(data)


def read_public_key(state: StateView, poll_id: bytes) -> Point | None:
    """The poll's joint key once ready (stored as an encoded bin of 32 bytes)."""
    data = state.get(state_keys.poll_key(poll_id))
    return None if data is None else Point(encoding.decode(data))


def read_encrypted_tally(state: StateView, poll_id: bytes) -> list[Ciphertext]:
    """A secret poll's encrypted tally (an encoded bin of 64 bytes per option)."""
    data = state.get(state_keys.encrypted_tally(poll_id))
    if data is None:
        raise AssertionError("a secret poll's tally is made with the poll")
    return blob_to_ciphertexts(encoding.decode(data))


def write_encrypted_tally(state: OverlayState, poll_id: bytes, tally: Sequence[Ciphertext]) -> None:
    state.set(state_keys.encrypted_tally(poll_id), encoding.encode(ciphertexts_to_blob(tally)))


def process_secret_poll_created(state: OverlayState, poll_id: bytes, body: CreatePoll) -> None:
    """The empty setup and the tally of encryptions of 0 (the identity, 64 zero bytes)."""
    if body.secret is None:
        return
    state.set(
        state_keys.secret_setup(poll_id), SecretSetup.empty(len(body.secret.trustees)).encode()
    )
    options = sum(len(q.options) for q in body.questions)
    write_encrypted_tally(state, poll_id, [elgamal.ZERO] * options)


# Trustee transactions, in the order of the key generation.


def check_trustee_poll(
    state: StateView, poll_id: bytes, signer: bytes, named: int
) -> tuple[PollRecord, SecretSetup, int]:
    """unknown_poll, not_applicable for a public poll, not_trustee unless the signer is
    trustee `named` of the poll; returns the poll, its setup and the trustee index."""
    poll = read_poll(state, poll_id)
    if poll is None:
        raise Refused(ReasonCode.UNKNOWN_POLL)
    secret = poll.spec.secret
    setup = read_setup(state, poll_id)
    if secret is None or setup is None:
        raise Refused(ReasonCode.NOT_APPLICABLE)
    if not 1 <= named <= len(secret.trustees) or secret.trustees[named - 1] != signer:
        raise Refused(ReasonCode.NOT_TRUSTEE)
    return poll, setup, named


def validate_setup_step(poll: PollRecord, setup: SecretSetup, phase: str, now_ms: int) -> None:
    """closed once the poll has closed (a key made then would serve no ballot);
    wrong_phase unless the key generation is at `phase`."""
    if poll.status(now_ms) == "closed":
        raise Refused(ReasonCode.CLOSED)
    if setup.phase != phase:
        raise Refused(ReasonCode.WRONG_PHASE)


def process_trustee_key(
    state: OverlayState, context: BlockContext, tx: Transaction, body: TrusteeKey
) -> None:
    poll, setup, j = check_trustee_poll(state, body.poll_id, tx.signer, body.transport_key.trustee)
    validate_setup_step(poll, setup, "keys", context.timestamp_ms)
    if setup.transport_keys[j - 1] is not None:
        raise Refused(ReasonCode.WRONG_PHASE)
    try:
        dkg.validate_transport_key(context.chain_id, poll.poll_id, body.transport_key)
    except BallotCryptoError:
        raise Refused(ReasonCode.BAD_TRUSTEE_PROOF) from None
    keys = _replaced(setup.transport_keys, j, body.transport_key)
    _store_setup(state, poll.poll_id, SecretSetup(keys, setup.dealings, setup.checks, None))


def process_trustee_dealing(
    state: OverlayState, context: BlockContext, tx: Transaction, body: TrusteeDealing
) -> None:
    poll, setup, j = check_trustee_poll(state, body.poll_id, tx.signer, body.dealing.dealer)
    validate_setup_step(poll, setup, "dealings", context.timestamp_ms)
    if setup.dealings[j - 1] is not None:
        raise Refused(ReasonCode.WRONG_PHASE)
    secret = poll.spec.secret
    if secret is None:
        raise AssertionError("check_trustee_poll lets only secret polls through")
    try:
        dkg.validate_dealing(
            context.chain_id, poll.poll_id, body.dealing, secret.threshold, len(secret.trustees)
        )
    except (BallotCryptoError, DecodeError):
        raise Refused(ReasonCode.BAD_TRUSTEE_PROOF) from None
    dealings = _replaced(setup.dealings, j, body.dealing)
    _store_setup(
        state, poll.poll_id, SecretSetup(setup.transport_keys, dealings, setup.checks, None)
    )


def process_trustee_check(
    state: OverlayState, context: BlockContext, tx: Transaction, body: TrusteeCheck
) -> None:
    """Every complaint must be the signer's own and upheld, at most one per dealer;
    otherwise bad_trustee_proof and nothing changes. The last check fixes the keys."""
    secret = _secret_of(state, body.poll_id)
    j = _trustee_index(secret.trustees, tx.signer)
    poll, setup, j = check_trustee_poll(state, body.poll_id, tx.signer, j)
    validate_setup_step(poll, setup, "checks", context.timestamp_ms)
    if setup.checks[j - 1] is not None:
        raise Refused(ReasonCode.WRONG_PHASE)
    upheld = validate_complaints(context.chain_id, poll.poll_id, setup, j, body.complaints)
    checks = _replaced(setup.checks, j, upheld)
    outcome = None
    if None not in checks:
        outcome = calculate_key_outcome(setup.dealings, checks, secret.threshold)
    _store_setup(
        state, poll.poll_id, SecretSetup(setup.transport_keys, setup.dealings, checks, outcome)
    )
    if outcome is not None and outcome.public_key is not None:
        state.set(state_keys.poll_key(poll.poll_id), encoding.encode(outcome.public_key.encoding))


def validate_complaints(
    chain_id: str,
    poll_id: bytes,
    setup: SecretSetup,
    recipient: int,
    complaints: Sequence[Complaint],
) -> tuple[int, ...]:
    """The dealers the complaints disqualify, in order; bad_trustee_proof for a
    complaint by another trustee, a second one about a dealer, or one not upheld."""
    dealers: list[int] = []
    recipient_key = setup.transport_keys[recipient - 1]
    for complaint in complaints:
        if complaint.recipient != recipient or complaint.dealer in dealers:
            raise Refused(ReasonCode.BAD_TRUSTEE_PROOF)
        if not 1 <= complaint.dealer <= len(setup.dealings) or recipient_key is None:
            raise Refused(ReasonCode.BAD_TRUSTEE_PROOF)
        dealing = setup.dealings[complaint.dealer - 1]
        if dealing is None:
            raise AssertionError("checks start only once every dealing is in")
        try:
            upheld = dkg.complaint_upheld(
                chain_id, poll_id, dealing, complaint, recipient_key.public
            )
        except (BallotCryptoError, DecodeError):
            upheld = False
        if not upheld:
            raise Refused(ReasonCode.BAD_TRUSTEE_PROOF)
        dealers.append(complaint.dealer)
    return tuple(sorted(dealers))


def calculate_key_outcome(
    dealings: Sequence[Dealing | None], checks: Sequence[tuple[int, ...] | None], threshold: int
) -> KeyOutcome:
    """Qualified: every dealer no upheld complaint named (K1-K3)."""
    disqualified = {dealer for named in checks if named is not None for dealer in named}
    qualified = [d for d in dealings if d is not None and d.dealer not in disqualified]
    indices = tuple(d.dealer for d in qualified)
    if len(qualified) < threshold:
        return KeyOutcome(indices, None, ())
    try:
        public_key = dkg.joint_public_key(qualified)
    except ValueError:
        return KeyOutcome(indices, None, ())
    keys = tuple(dkg.verification_key(qualified, j) for j in range(1, len(dealings) + 1))
    return KeyOutcome(indices, public_key, keys)


# Ballots.


def tracking_code(body: CastBallot) -> bytes:
    """H(BALLOT_TRACKING, the encrypted questions' canonical bytes)."""
    data = body.encrypted_bytes()
    if data is None:
        raise ValueError("a ballot without encrypted questions has no tracking code")
    return tagged_hash(Domain.BALLOT_TRACKING, data)


def check_encrypted_ballot(
    state: StateView, context: BlockContext, poll: PollRecord, body: CastBallot, signer: bytes
) -> list[Ciphertext]:
    """The ballot's option ciphertexts, questions in order, once every proof verifies.

    malformed_ballot: plain selections, a missing or misshapen encryption, a point or
    scalar that is not canonical; bad_ballot_proof: a proof that fails (15.4-15.5).
    Proofs the caller checked ahead (context.proven_ballots) are not checked again."""
    if body.selections or body.encrypted is None:
        raise Refused(ReasonCode.MALFORMED_BALLOT)
    public_key = read_public_key(state, poll.poll_id)
    if public_key is None:
        raise AssertionError("ballots are checked only once the key is ready")
    questions = poll.spec.questions
    if len(body.encrypted) != len(questions):
        raise Refused(ReasonCode.MALFORMED_BALLOT)
    rules = tuple(question_rule(spec_q) for spec_q in questions)
    decoded = _decode_questions(rules, body.encrypted)
    if decoded is None:
        raise Refused(ReasonCode.MALFORMED_BALLOT)
    key = ballot_proof_key(poll.poll_id, signer, public_key.encoding, rules, body)
    if key not in context.proven_ballots and not _proofs_hold(
        context.chain_id, poll.poll_id, signer, public_key, rules, decoded
    ):
        raise Refused(ReasonCode.BAD_BALLOT_PROOF)
    return [c for answer in decoded for c in answer.ciphertexts]


BallotProofKey = tuple[bytes, bytes, bytes, tuple[QuestionRule, ...], bytes]


def ballot_proof_key(
    poll_id: bytes,
    signer: bytes,
    public_key: bytes,
    rules: tuple[QuestionRule, ...],
    body: CastBallot,
) -> BallotProofKey:
    """Everything a ballot's proofs are checked against, the encrypted questions by their
    tracking code: an entry of BlockContext.proven_ballots (the chain id is the block's)."""
    return (poll_id, signer, public_key, rules, tracking_code(body))


def check_ballot_proofs(
    chain_id: str,
    poll_id: bytes,
    signer: bytes,
    public_key: bytes,
    rules: tuple[QuestionRule, ...],
    encrypted: Sequence[Any],
) -> bool:
    """True if the encrypted questions decode and every proof holds: what
    check_encrypted_ballot checks, for a caller that checks a block's ballots ahead, in
    parallel (a function of plain values, so a process pool can run it)."""
    if len(encrypted) != len(rules):
        return False
    decoded = _decode_questions(rules, encrypted)
    if decoded is None:
        return False
    key = _poll_key_point(public_key)
    return key is not None and _proofs_hold(chain_id, poll_id, signer, key, rules, decoded)


def _poll_key_point(data: bytes) -> Point | None:
    try:
        return point_from_bytes(data, "poll key")
    except MalformedCrypto:
        return None


def _decode_questions(
    rules: tuple[QuestionRule, ...], encrypted: Sequence[Any]
) -> list[question.EncryptedQuestion] | None:
    try:
        return [
            question.decode(raw, rule, f"encrypted[{q}]")
            for q, (rule, raw) in enumerate(zip(rules, encrypted, strict=True))
        ]
    except MalformedCrypto:
        return None


def _proofs_hold(
    chain_id: str,
    poll_id: bytes,
    signer: bytes,
    public_key: Point,
    rules: tuple[QuestionRule, ...],
    decoded: Sequence[question.EncryptedQuestion],
) -> bool:
    context = BallotContext(chain_id, poll_id, signer, 0)
    try:
        for q, (rule, answer) in enumerate(zip(rules, decoded, strict=True)):
            question.validate(context.at(q), public_key, rule, answer)
    except InvalidBallotProof:
        return False
    return True


def validate_key_ready(state: StateView, poll: PollRecord) -> None:
    """awaiting_key until the poll's trustees have made its key."""
    if poll.spec.secret is not None and state.get(state_keys.poll_key(poll.poll_id)) is None:
        raise Refused(ReasonCode.AWAITING_KEY)


def validate_ballot_kind(poll: PollRecord, body: CastBallot) -> None:
    """malformed_ballot for an encrypted ballot in a public poll."""
    if poll.spec.secret is None and body.encrypted is not None:
        raise Refused(ReasonCode.MALFORMED_BALLOT)


def process_encrypted_count(
    state: OverlayState,
    poll_id: bytes,
    ciphertexts: Sequence[Ciphertext],
    previous: bytes | None,
    tracking: bytes,
    tx_id: bytes,
) -> bytes:
    """Add the ballot to the encrypted tally, taking `previous` (the voter's earlier
    ballot's blob) out first; index the tracking code. Returns the ballot's blob."""
    tally = read_encrypted_tally(state, poll_id)
    if previous is not None:
        tally = [
            elgamal.sub(t, c) for t, c in zip(tally, blob_to_ciphertexts(previous), strict=True)
        ]
    tally = [elgamal.add(t, c) for t, c in zip(tally, ciphertexts, strict=True)]
    write_encrypted_tally(state, poll_id, tally)
    state.set(state_keys.tracking(tracking), encoding.encode(tx_id))
    return ciphertexts_to_blob(ciphertexts)


def ciphertexts_to_blob(ciphertexts: Sequence[Ciphertext]) -> bytes:
    return b"".join(c.alpha.encoding + c.beta.encoding for c in ciphertexts)


def blob_to_ciphertexts(blob: bytes) -> list[Ciphertext]:
    return [
        Ciphertext(Point(blob[i : i + 32]), Point(blob[i + 32 : i + 64]))
        for i in range(0, len(blob), CIPHERTEXT_BYTES)
    ]


# Decryption.


@dataclass(frozen=True)
class DecryptionRecord:
    """The valid partial decryptions posted so far (trustee, D per ciphertext), and
    whether the counts were written (they are, at the threshold-th)."""

    partials: tuple[tuple[int, tuple[Point, ...]], ...]
    counted: bool

    def encode(self) -> bytes:
        return encoding.encode(
            [[[j, [d.encoding for d in shares]] for j, shares in self.partials], self.counted]
        )

    @classmethod
    def decode(cls, data: bytes) -> DecryptionRecord:
        f = encoding.expect_list(encoding.decode(data), 2, "decryption record")
        return cls(tuple((j, tuple(Point(d) for d in shares)) for j, shares in f[0]), f[1])


EMPTY_DECRYPTION = DecryptionRecord((), False)


def read_decryption(state: StateView, poll_id: bytes) -> DecryptionRecord:
    data = state.get(state_keys.decryption(poll_id))
    return EMPTY_DECRYPTION if data is None else DecryptionRecord.decode(data)


def process_trustee_decrypt(
    state: OverlayState, context: BlockContext, tx: Transaction, body: TrusteeDecrypt
) -> None:
    """wrong_phase before close, without a ready key, or a second partial of the same
    trustee; bad_trustee_proof for a partial that does not verify against the trustee's
    verification key. The threshold-th valid partial writes the counts."""
    poll, setup, j = check_trustee_poll(state, body.poll_id, tx.signer, body.partial.trustee)
    secret = poll.spec.secret
    outcome = setup.outcome
    if secret is None or outcome is None or outcome.public_key is None:
        raise Refused(ReasonCode.WRONG_PHASE)
    if poll.status(context.timestamp_ms) != "closed":
        raise Refused(ReasonCode.WRONG_PHASE)
    record = read_decryption(state, poll.poll_id)
    if any(trustee == j for trustee, _ in record.partials):
        raise Refused(ReasonCode.WRONG_PHASE)
    tally = read_encrypted_tally(state, poll.poll_id)
    try:
        validate_partial(
            context.chain_id, poll.poll_id, outcome.verification_keys[j - 1], tally, body.partial
        )
    except InvalidDecryptionShare:
        raise Refused(ReasonCode.BAD_TRUSTEE_PROOF) from None
    partials = (*record.partials, (j, body.partial.shares))
    counted = record.counted
    if not counted and len(partials) >= secret.threshold:
        process_decrypted_counts(state, poll, tally, partials, secret.threshold)
        counted = True
    state.set(state_keys.decryption(poll.poll_id), DecryptionRecord(partials, counted).encode())


def process_decrypted_counts(
    state: OverlayState,
    poll: PollRecord,
    tally: Sequence[Ciphertext],
    partials: Sequence[tuple[int, tuple[Point, ...]]],
    threshold: int,
) -> None:
    """Combine the `threshold` lowest-numbered valid partials (P1-P2), take each count's
    logarithm in [0, participants] and write it to the tally/ counters."""
    shares = [PartialDecryption(j, d, ()) for j, d in partials]
    points = combine(tally, shares, threshold)
    table = BoundedLog(read_count(state, state_keys.participants(poll.poll_id)))
    place = [
        (q, o) for q, spec_q in enumerate(poll.spec.questions) for o in range(len(spec_q.options))
    ]
    for (q, o), point in zip(place, points, strict=True):
        try:
            count = table.log(point)
        except OutOfRange:
            raise AssertionError("valid ballots and valid partials decrypt within bounds") from None
        if count:
            add_to_count(state, state_keys.tally(poll.poll_id, q, o), count)


# Views.


def secret_status(state: StateView, poll: PollRecord) -> dict[str, Any] | None:
    """What a poll's readers see of its secrecy: None for a public poll."""
    secret = poll.spec.secret
    setup = read_setup(state, poll.poll_id)
    if secret is None or setup is None:
        return None
    outcome = setup.outcome
    decryption = read_decryption(state, poll.poll_id)
    return {
        "trustees": [t.hex() for t in secret.trustees],
        "threshold": secret.threshold,
        "phase": setup.phase,
        "posted": setup.posted(),
        "qualified": None if outcome is None else list(outcome.qualified),
        "public_key": None
        if outcome is None or outcome.public_key is None
        else outcome.public_key.encoding.hex(),
        "verification_keys": []
        if outcome is None
        else [k.encoding.hex() for k in outcome.verification_keys],
        "partials": [j for j, _ in decryption.partials],
        "decrypted": decryption.counted,
    }


def crypto_document(state: StateView, poll: PollRecord) -> dict[str, Any] | None:
    """Everything a trustee's tool or a booth needs, messages as hex of their canonical
    encodings: the transport keys, dealings, upheld complaints' dealers, the encrypted
    tally and the partial decryptions' trustees."""
    status = secret_status(state, poll)
    setup = read_setup(state, poll.poll_id)
    if status is None or setup is None:
        return None
    tally = read_encrypted_tally(state, poll.poll_id)
    return {
        **status,
        "transport_keys": [
            None if k is None else encoding.encode(k.to_value()).hex() for k in setup.transport_keys
        ],
        "dealings": [
            None if d is None else encoding.encode(d.to_value()).hex() for d in setup.dealings
        ],
        "checks": [None if c is None else list(c) for c in setup.checks],
        "encrypted_tally": encoding.encode([c.to_value() for c in tally]).hex(),
    }


def find_tracking(state: StateView, code: bytes) -> bytes | None:
    """The tx id of the ballot with this tracking code, if one was accepted."""
    data = state.get(state_keys.tracking(code))
    return None if data is None else bytes(encoding.decode(data))


def find_tracking_prefix(state: StateView, prefix: bytes) -> list[tuple[bytes, bytes]]:
    """(code, tx id) of the accepted ballots whose tracking code starts with `prefix`
    (the 16 bytes people are shown), at most two: one answers, two say it is ambiguous."""
    found = []
    for key, tx_id in state.items(state_keys.tracking(prefix)):
        found.append((key[len(state_keys.TRACKING) :], bytes(encoding.decode(tx_id))))
        if len(found) == 2:
            break
    return found


TRACKING_SHOWN_BYTES = 16
"""People see the first 16 bytes of a tracking code (15.11): 128 bits, 26 characters."""


def format_tracking_code(code: bytes) -> str:
    """The first 16 bytes in base32 without padding, in groups of four (15.11)."""
    text = base64.b32encode(code[:TRACKING_SHOWN_BYTES]).decode("ascii").rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_tracking_code(text: str) -> bytes:
    """The bytes a shown code stands for (16), or a whole code in hex (32 bytes); a
    ValueError says what is wrong. Spaces, dashes and case are ignored."""
    compact = "".join(ch for ch in text if ch not in " -").upper()
    if len(compact) == 64 and all(ch in "0123456789ABCDEF" for ch in compact):
        return bytes.fromhex(compact)
    if len(compact) != 26:
        raise ValueError(
            "a tracking code is 26 letters and digits (as shown, in groups of four) "
            "or 64 hex digits"
        )
    try:
        return base64.b32decode(compact + "======")
    except ValueError:
        raise ValueError("a tracking code holds only the letters A-Z and digits 2-7") from None


# Helpers.


def _secret_of(state: StateView, poll_id: bytes) -> Any:
    poll = read_poll(state, poll_id)
    if poll is None:
        raise Refused(ReasonCode.UNKNOWN_POLL)
    if poll.spec.secret is None:
        raise Refused(ReasonCode.NOT_APPLICABLE)
    return poll.spec.secret


def _trustee_index(trustees: Sequence[bytes], signer: bytes) -> int:
    """The signer's 1-based index, or not_trustee."""
    try:
        return trustees.index(signer) + 1
    except ValueError:
        raise Refused(ReasonCode.NOT_TRUSTEE) from None


def _replaced(items: tuple[Any, ...], j: int, value: Any) -> tuple[Any, ...]:
    return (*items[: j - 1], value, *items[j:])


def _store_setup(state: OverlayState, poll_id: bytes, setup: SecretSetup) -> None:
    state.set(state_keys.secret_setup(poll_id), setup.encode())
