"""A chain with a secret poll on the vectors' genesis, and its forgeries (issue 16).

The same genesis, validators, admin, organisation and voters as forge.py's base chain
(its blocks 1 and 3 are reused byte for byte), then one encrypted poll taken through
everything PROTOCOL.md section 15 and 11.6's secret-poll rules define:

     1 register_org (forge.py's block 1)
     2 create_poll: two questions (single choice of 3; a participatory budget of 3
       projects, cap 1000, at least 30% spent), revote allowed, trustees 1-3, threshold 2;
       two small secret polls (one question, trustee 1 alone, threshold 1): one without
       revote, one the org closes before its key is made
     3 four enroll_voter (forge.py's block 3)
     4 three trustee_key, trustee 1's second refused wrong_phase (taken already); a
       plain ballot refused awaiting_key; the no-revote poll's trustee_key; the other
       small poll closed, then its trustee_key refused closed
     5 three trustee_dealing, dealer 3's share for trustee 1 wrong; the no-revote poll's
     6 the org's trustee_check refused not_trustee; trustee 2's with a false complaint
       against honest dealer 1 refused bad_trustee_proof; three trustee_check, trustee
       1's with an upheld complaint against dealer 3: qualified 1 and 2, the key is
       ready; the no-revote poll's check (its key is ready)
     7 three encrypted ballots; voter 3's with one question refused malformed_ballot,
       with a forged count proof and with a forged budget sum (N2) both refused
       bad_ballot_proof; voter 0's ballot in the no-revote poll
     8 voter 2's revote, voter 3's ballot, voter 0's second ballot with option 0 of
       question 0 doubled (its proofs fail) refused bad_ballot_proof; voter 0's second
       (valid) ballot in the no-revote poll refused duplicate
     9 close_poll of the main and the no-revote poll
    10 trustee 1's partial decryption with a wrong share refused bad_trustee_proof
       (named by its receipt's signer), trustee 2's valid one
    11 trustee 3's valid partial: the second, so the counts are written; trustee 1's of
       the no-revote poll (threshold 1: its counts)
    12 trustee 1's valid partial, after the counts (accepted, changes no count)

Each refused step fails at the check it is there for and no earlier one (the forged
ballots' other proofs, the false complaint's reveal are valid), so a verifier that
skipped that check would store another receipt.

Every secret (transport keys, polynomial coefficients, encryption randomness, proof
nonces) is a scalar hashed from a label, so the chain is the same on every run, and
SECRET_COUNTS (NO_REVOTE_COUNTS) is what the ballots chose, counted apart from the
state machine.

Also here: failed_setup_base(), the same poll with threshold 3, whose key set-up fails
(a ballot after it refused awaiting_key);
SECRET_RECEIPT_CASES, the receipt file of an encrypted ballot (forge_receipts.py's
format). All of it is published in docs/test-vectors (tests/verifier/vectors.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from functools import cache
from typing import Any
from unittest import mock

import votingcontract
from ballotcrypto import dkg, elgamal, question
from ballotcrypto.context import BallotContext
from ballotcrypto.decryption import partial_decrypt
from ballotcrypto.dkg import Dealing
from ballotcrypto.errors import InvalidShare
from ballotcrypto.group import L
from bench.chaingen import BLOCK_INTERVAL_MS, DAY_MS, GENESIS_TIME_MS, ORG_ID, seeded_key
from chain import encoding
from chain.keys import PrivateKey
from chain.state import MemoryState, StateView, WriteSet
from chain.tx import Transaction
from tests.verifier import forge
from tests.verifier.forge import Base, ChainCase, Draft, ForgedChain, Past
from tests.verifier.forge_receipts import ReceiptCase, receipt_document
from votingcontract import secret_polls, state_keys
from votingcontract.reasons import ACCEPTED

SEED = "votechain secret-poll vectors"
TRUSTEES = 3
THRESHOLD = 2
CORRUPT_DEALER, CHEATED_TRUSTEE = 3, 1
"""Dealer 3 sends trustee 1 a share that does not match its commitments."""

POLL = votingcontract.CreatePoll(
    kind="policy",
    org_id=ORG_ID,
    title="Neighbourhood council and budget (secret ballot)",
    purpose="test vectors: an encrypted poll (PROTOCOL.md section 15)",
    reference_url="https://example.org/vectors",
    opens_at_ms=GENESIS_TIME_MS + 2 * BLOCK_INTERVAL_MS,
    closes_at_ms=GENESIS_TIME_MS + 30 * DAY_MS,
    visibility="live",
    revote=True,
    questions=(
        votingcontract.Question(
            "Council chair",
            tuple(votingcontract.Option(t) for t in ("Kim", "Lee", "Park")),
        ),
        votingcontract.Question(
            "Projects",
            (
                votingcontract.Option("Path", 400),
                votingcontract.Option("Library", 300),
                votingcontract.Option("Park", 500),
            ),
            1,
            2,
            1000,
            min_spend_percent=30,
        ),
    ),
    access=votingcontract.Access(),
)

BALLOTS: dict[int, tuple[tuple[int, ...], ...]] = {
    0: ((0,), (0,)),
    1: ((1,), (2,)),
    2: ((0,), (1,)),
    3: ((1,), (1, 2)),
}
"""Each voter's first valid ballot (chosen indices per question)."""
REVOTE = 2, ((2,), (0, 2))
"""Voter 2 votes again; only this ballot counts."""
SECRET_COUNTS = [[1, 2, 1], [2, 1, 3]]
"""Votes per option of each question: voters 0, 1, 3's ballots and voter 2's revote."""


def scalar(label: str) -> int:
    """A nonzero scalar from a label (64 hashed bytes reduced mod L)."""
    value = int.from_bytes(hashlib.sha512(f"{SEED}:{label}".encode()).digest(), "little") % L
    return value or 1


def scalars(label: str, count: int) -> list[int]:
    return [scalar(f"{label}/{i}") for i in range(count)]


def trustee_key(j: int) -> PrivateKey:
    return seeded_key(SEED, f"trustee-{j}")


SPEC = votingcontract.SecretSpec(
    tuple(trustee_key(j).public_key for j in range(1, TRUSTEES + 1)), THRESHOLD
)

POLL_WITH_TRUSTEES = dataclasses.replace(POLL, secret=SPEC)

SMALL_SPEC = votingcontract.SecretSpec((trustee_key(1).public_key,), 1)
"""The small polls' one trustee (trustee 1, threshold 1)."""
POLL_NO_REVOTE = dataclasses.replace(
    POLL,
    title="Council chair (secret ballot, one ballot each)",
    revote=False,
    questions=POLL.questions[:1],
    secret=SMALL_SPEC,
)
"""A second secret poll without revote: a voter's second ballot is refused duplicate."""
NO_REVOTE_BALLOT = ((1,),)
NO_REVOTE_COUNTS = [[0, 1, 0]]
"""Voter 0's one counted ballot in POLL_NO_REVOTE (Lee)."""
POLL_CANCELLED = dataclasses.replace(
    POLL_NO_REVOTE, title="Council chair (secret ballot, closed before its key)", revote=True
)
"""A third secret poll the org closes before its trustee posts a transport key."""
NO_REVOTE_TAG, CANCELLED_TAG, AGAIN_TAG = "no-revote/", "cancelled/", "again/"


# building the honest chain


class _Builder:
    """Executes each block as forge_chain will (same heights and times), so bodies that
    depend on the chain so far (dealings, shares, partials) can be made from its state."""

    def __init__(self) -> None:
        b = forge.base()
        self.genesis = b.genesis
        self.chain_id = b.genesis.chain_id
        self.state = MemoryState()
        self.state.apply(votingcontract.genesis_writes(b.genesis))
        self.blocks: list[tuple[Transaction, ...]] = []
        self.nonces: dict[bytes, int] = {}

    def sign(self, key: PrivateKey, body: votingcontract.Body) -> Transaction:
        nonce = self.nonces.get(key.public_key, 0)
        self.nonces[key.public_key] = nonce + 1
        return Transaction.create(key, self.chain_id, body.KIND, body.encode(), nonce)

    def block(self, txs: Sequence[Transaction], codes: Sequence[str]) -> list[Any]:
        height = len(self.blocks) + 1
        context = votingcontract.BlockContext(
            self.chain_id, height, GENESIS_TIME_MS + height * BLOCK_INTERVAL_MS
        )
        receipts, writes = votingcontract.execute_block(self.state, context, tuple(txs))
        got = [r.code for r in receipts]
        if got != list(codes):
            raise AssertionError(f"block {height}: receipts {got}, meant {list(codes)}")
        self.state.apply(writes)
        self.blocks.append(tuple(txs))
        return receipts

    def setup(self, poll_id: bytes) -> secret_polls.SecretSetup:
        setup = secret_polls.read_setup(self.state, poll_id)
        assert setup is not None
        return setup


def _key(chain: _Builder, poll_id: bytes, j: int, tag: str = "") -> votingcontract.TrusteeKey:
    """Trustee j's transport key; `tag` labels another poll's secrets (never reused)."""
    transport = dkg.make_transport_key(
        chain.chain_id,
        poll_id,
        j,
        scalar(f"{tag}transport/{j}"),
        scalar(f"{tag}transport-proof/{j}"),
    )
    return votingcontract.TrusteeKey(poll_id, transport)


def _dealing(
    chain: _Builder, poll_id: bytes, j: int, threshold: int = THRESHOLD, tag: str = ""
) -> Dealing:
    keys = [k.public for k in chain.setup(poll_id).transport_keys if k is not None]
    dealing = dkg.deal(
        chain.chain_id,
        poll_id,
        j,
        scalars(f"{tag}coefficients/{j}", threshold),
        keys,
        scalar(f"{tag}deal-proof/{j}"),
        scalars(f"{tag}ephemerals/{j}", len(keys)),
    )
    if j != CORRUPT_DEALER or tag:
        return dealing
    shares = list(dealing.shares)
    wrong = shares[CHEATED_TRUSTEE - 1]
    shares[CHEATED_TRUSTEE - 1] = dataclasses.replace(wrong, masked=(wrong.masked + 1) % L)
    return dataclasses.replace(dealing, shares=tuple(shares))


def _check(chain: _Builder, poll_id: bytes, j: int, tag: str = "") -> votingcontract.TrusteeCheck:
    complaints = []
    for dealing in chain.setup(poll_id).dealings:
        assert dealing is not None
        try:
            dkg.receive_share(chain.chain_id, poll_id, dealing, j, scalar(f"{tag}transport/{j}"))
        except InvalidShare:
            complaints.append(
                dkg.complain(
                    chain.chain_id,
                    poll_id,
                    dealing,
                    j,
                    scalar(f"transport/{j}"),
                    scalar(f"complaint/{j}/{dealing.dealer}"),
                )
            )
    return votingcontract.TrusteeCheck(poll_id, tuple(complaints))


def _false_check(
    chain: _Builder, poll_id: bytes, j: int, dealer: int
) -> votingcontract.TrusteeCheck:
    """Trustee j complains about dealer `dealer`, whose share for j is right: the reveal
    of K and its proof are honest, but z - pad matches the commitments (T2, V2), so the
    complaint is not upheld and the whole check is refused."""
    (dealing,) = [d for d in chain.setup(poll_id).dealings if d is not None and d.dealer == dealer]
    dkg.receive_share(chain.chain_id, poll_id, dealing, j, scalar(f"transport/{j}"))
    complaint = dkg.complain(
        chain.chain_id,
        poll_id,
        dealing,
        j,
        scalar(f"transport/{j}"),
        scalar(f"false-complaint/{j}/{dealer}"),
    )
    return votingcontract.TrusteeCheck(poll_id, (complaint,))


def _secret_share(chain: _Builder, poll_id: bytes, j: int, tag: str = "") -> int:
    setup = chain.setup(poll_id)
    assert setup.outcome is not None
    return dkg.secret_share(
        dkg.receive_share(chain.chain_id, poll_id, d, j, scalar(f"{tag}transport/{j}"))
        for d in setup.dealings
        if d is not None and d.dealer in setup.outcome.qualified
    )


def _partial(
    chain: _Builder, poll_id: bytes, j: int, wrong: bool = False, tag: str = ""
) -> votingcontract.TrusteeDecrypt:
    tally = secret_polls.read_encrypted_tally(chain.state, poll_id)
    share = (_secret_share(chain, poll_id, j, tag) + (1 if wrong else 0)) % L
    label = f"{tag}decrypt{'-wrong' if wrong else ''}/{j}"
    partial = partial_decrypt(chain.chain_id, poll_id, j, share, tally, scalars(label, len(tally)))
    return votingcontract.TrusteeDecrypt(poll_id, partial)


def encrypted_questions(
    state: StateView,
    chain_id: str,
    poll_id: bytes,
    voter: bytes,
    chosen: Sequence[Sequence[int]],
    label: str,
    questions: Sequence[votingcontract.Question] = POLL.questions,
) -> list[question.EncryptedQuestion]:
    """The ballot's questions, encrypted and proven as a voter's device does."""
    key = secret_polls.read_public_key(state, poll_id)
    assert key is not None, "the poll's key is not ready"
    context = BallotContext(chain_id, poll_id, voter, 0)
    out = []
    for q, (spec_q, picks) in enumerate(zip(questions, chosen, strict=True)):
        rule = secret_polls.question_rule(spec_q)
        out.append(
            question.encrypt(
                context.at(q),
                key,
                rule,
                [1 if i in picks else 0 for i in range(rule.options)],
                scalars(f"{label}/randomness/{q}", rule.options),
                scalars(f"{label}/nonces/{q}", question.nonce_count(rule)),
            )
        )
    return out


def as_ballot(poll_id: bytes, questions: Sequence[question.EncryptedQuestion]) -> Any:
    values = tuple(encoding.decode(encoding.encode(q.to_value())) for q in questions)
    return votingcontract.CastBallot(poll_id, (), encrypted=values)


def stuffed(q: question.EncryptedQuestion, option: int) -> question.EncryptedQuestion:
    """The question with option `option`'s ciphertext added to itself: it counts 2 (or
    0 twice), so its 0/1 and count proofs fail."""
    ciphertexts = list(q.ciphertexts)
    ciphertexts[option] = elgamal.add(ciphertexts[option], ciphertexts[option])
    return dataclasses.replace(q, ciphertexts=tuple(ciphertexts))


def count_forged(
    state: StateView, chain_id: str, poll_id: bytes, voter: bytes
) -> list[question.EncryptedQuestion]:
    """Question 0 (choose 1) encrypts Kim and Lee: each option's 0/1 proof is an honest
    one, but the count proof is that of a ballot for Kim alone, so the count proof is the
    first to fail (C3)."""
    kim = encrypted_questions(state, chain_id, poll_id, voter, ((0,), (0,)), "count/kim")
    lee = encrypted_questions(state, chain_id, poll_id, voter, ((1,), (0,)), "count/lee")
    q = kim[0]
    kim[0] = dataclasses.replace(
        q,
        ciphertexts=(q.ciphertexts[0], lee[0].ciphertexts[1], *q.ciphertexts[2:]),
        option_proofs=(q.option_proofs[0], lee[0].option_proofs[1], *q.option_proofs[2:]),
    )
    return kim


def budget_forged(
    state: StateView, chain_id: str, poll_id: bytes, voter: bytes
) -> list[question.EncryptedQuestion]:
    """Question 1 encrypts Path and Park (900 of the cap 1000, so U encrypts 100) with
    the upper bits, and their proofs, of a ballot for Library alone (U encrypts 700):
    every 0/1, count and bit proof holds, but the bits do not sum to U (N2)."""
    chosen = encrypted_questions(state, chain_id, poll_id, voter, ((0,), (0, 2)), "budget/900")
    other = encrypted_questions(state, chain_id, poll_id, voter, ((0,), (1,)), "budget/300")
    proof, theirs = chosen[1].budget_proof, other[1].budget_proof
    assert proof is not None and theirs is not None
    upper = dataclasses.replace(proof, upper=theirs.upper)
    chosen[1] = dataclasses.replace(chosen[1], budget_proof=upper)
    return chosen


@dataclasses.dataclass(frozen=True)
class SecretChain:
    base: Base
    poll_id: bytes
    keys: tuple[PrivateKey, ...]
    """Trustees 1..3 (index j - 1)."""
    no_revote_poll: bytes
    cancelled_poll: bytes


@cache
def secret_chain() -> SecretChain:
    b = forge.base()
    org, voters = b.org, b.voters
    chain = _Builder()
    ok = ACCEPTED
    chain.block(b.transactions[0], [ok])
    receipts = chain.block(
        [chain.sign(org, p) for p in (POLL_WITH_TRUSTEES, POLL_NO_REVOTE, POLL_CANCELLED)],
        [ok] * 3,
    )
    poll_id, single, cancelled = (r.poll_id for r in receipts)
    assert poll_id is not None and single is not None and cancelled is not None
    chain.block(b.transactions[2], [ok] * 4)
    trustees = tuple(trustee_key(j) for j in range(1, TRUSTEES + 1))
    first = trustees[0]

    too_early = votingcontract.CastBallot(poll_id, ((0,), (0,)))
    keys = [chain.sign(trustees[j - 1], _key(chain, poll_id, j)) for j in range(1, TRUSTEES + 1)]
    chain.block(
        [
            keys[0],
            chain.sign(first, _key(chain, poll_id, 1, AGAIN_TAG)),
            *keys[1:],
            chain.sign(voters[0], too_early),
            chain.sign(first, _key(chain, single, 1, NO_REVOTE_TAG)),
            chain.sign(org, votingcontract.ClosePoll(cancelled)),
            chain.sign(first, _key(chain, cancelled, 1, CANCELLED_TAG)),
        ],
        [ok, "wrong_phase", ok, ok, "awaiting_key", ok, ok, "closed"],
    )
    chain.block(
        [
            *(
                chain.sign(
                    trustees[j - 1],
                    votingcontract.TrusteeDealing(poll_id, _dealing(chain, poll_id, j)),
                )
                for j in range(1, TRUSTEES + 1)
            ),
            chain.sign(
                first,
                votingcontract.TrusteeDealing(single, _dealing(chain, single, 1, 1, NO_REVOTE_TAG)),
            ),
        ],
        [ok] * (TRUSTEES + 1),
    )
    checks = [
        chain.sign(trustees[j - 1], _check(chain, poll_id, j)) for j in range(1, TRUSTEES + 1)
    ]
    outsider = chain.sign(org, votingcontract.TrusteeCheck(poll_id, ()))
    false_check = chain.sign(trustees[1], _false_check(chain, poll_id, 2, 1))
    chain.block(
        [
            outsider,
            false_check,
            *checks,
            chain.sign(first, _check(chain, single, 1, NO_REVOTE_TAG)),
        ],
        ["not_trustee", "bad_trustee_proof", ok, ok, ok, ok],
    )
    setup = chain.setup(poll_id)
    assert setup.outcome is not None and setup.outcome.qualified == (1, 2)

    def ballot(
        v: int, chosen: Sequence[Sequence[int]], label: str, poll: bytes = poll_id
    ) -> Transaction:
        questions = encrypted_questions(
            chain.state,
            chain.chain_id,
            poll,
            voters[v].public_key,
            chosen,
            label,
            POLL.questions if poll == poll_id else POLL_NO_REVOTE.questions,
        )
        return chain.sign(voters[v], as_ballot(poll, questions))

    firsts = [ballot(v, BALLOTS[v], f"ballot/{v}") for v in (0, 1, 2)]
    voter3 = voters[3].public_key
    one_question = encrypted_questions(
        chain.state, chain.chain_id, poll_id, voter3, BALLOTS[3], "malformed/3"
    )[:1]
    forged = [
        chain.sign(
            voters[3], as_ballot(poll_id, make(chain.state, chain.chain_id, poll_id, voter3))
        )
        for make in (count_forged, budget_forged)
    ]
    chain.block(
        [
            *firsts,
            chain.sign(voters[3], as_ballot(poll_id, one_question)),
            *forged,
            ballot(0, NO_REVOTE_BALLOT, "no-revote/0", single),
        ],
        [ok, ok, ok, "malformed_ballot", "bad_ballot_proof", "bad_ballot_proof", ok],
    )

    revoter, revote = REVOTE
    bad = encrypted_questions(
        chain.state, chain.chain_id, poll_id, voters[0].public_key, BALLOTS[0], "stuffed/0"
    )
    bad[0] = stuffed(bad[0], 0)
    chain.block(
        [
            ballot(revoter, revote, f"revote/{revoter}"),
            ballot(3, BALLOTS[3], "ballot/3"),
            chain.sign(voters[0], as_ballot(poll_id, bad)),
            ballot(0, ((2,),), "no-revote/0/again", single),
        ],
        [ok, ok, "bad_ballot_proof", "duplicate"],
    )
    chain.block([chain.sign(org, votingcontract.ClosePoll(p)) for p in (poll_id, single)], [ok, ok])
    chain.block(
        [
            chain.sign(trustees[0], _partial(chain, poll_id, 1, wrong=True)),
            chain.sign(trustees[1], _partial(chain, poll_id, 2)),
        ],
        ["bad_trustee_proof", ok],
    )
    chain.block(
        [
            chain.sign(trustees[2], _partial(chain, poll_id, 3)),
            chain.sign(first, _partial(chain, single, 1, tag=NO_REVOTE_TAG)),
        ],
        [ok, ok],
    )
    chain.block([chain.sign(trustees[0], _partial(chain, poll_id, 1))], [ok])
    return SecretChain(
        Base(
            b.genesis,
            b.validators,
            b.admin,
            org,
            voters,
            tuple(chain.blocks),
            (poll_id, single, cancelled),
        ),
        poll_id,
        trustees,
        single,
        cancelled,
    )


def secret_base() -> Base:
    return secret_chain().base


@cache
def failed_setup_base() -> Base:
    """The poll with threshold 3 of the same trustees: dealer 3 caught again, only 2
    dealers qualify, so the key set-up fails (blocks 4-6); in block 7 a ballot is refused
    awaiting_key and the poll closes."""
    b = forge.base()
    chain = _Builder()
    ok = ACCEPTED
    chain.block(b.transactions[0], [ok])
    spec = dataclasses.replace(SPEC, threshold=TRUSTEES)
    receipts = chain.block([chain.sign(b.org, dataclasses.replace(POLL, secret=spec))], [ok])
    poll_id = receipts[0].poll_id
    assert poll_id is not None
    chain.block(b.transactions[2], [ok] * 4)
    trustees = [trustee_key(j) for j in range(1, TRUSTEES + 1)]
    every = range(1, TRUSTEES + 1)
    chain.block([chain.sign(trustees[j - 1], _key(chain, poll_id, j)) for j in every], [ok] * 3)
    dealings = [
        votingcontract.TrusteeDealing(poll_id, _dealing(chain, poll_id, j, TRUSTEES)) for j in every
    ]
    chain.block([chain.sign(trustees[j - 1], dealings[j - 1]) for j in every], [ok] * 3)
    chain.block([chain.sign(trustees[j - 1], _check(chain, poll_id, j)) for j in every], [ok] * 3)
    assert chain.setup(poll_id).phase == "failed"
    chain.block(
        [
            chain.sign(b.voters[0], votingcontract.CastBallot(poll_id, ((0,), (0,)))),
            chain.sign(b.org, votingcontract.ClosePoll(poll_id)),
        ],
        ["awaiting_key", ok],
    )
    return Base(b.genesis, b.validators, b.admin, b.org, b.voters, tuple(chain.blocks), (poll_id,))


# the colluders' state machines


def _lenient(module: Any, name: str, replacement: Any) -> forge.Executor:
    """votingcontract.execute_block with one check of the state machine replaced."""

    def execute(
        state: StateView, context: votingcontract.BlockContext, txs: Sequence[Transaction]
    ) -> tuple[list[votingcontract.Receipt], WriteSet]:
        with mock.patch.object(module, name, replacement):
            return votingcontract.execute_block(state, context, txs)

    return execute


def _skip_ballot_proofs(*args: Any) -> None:
    return None


_upheld_complaints = secret_polls.validate_complaints


def _ignore_complaints(*args: Any) -> tuple[int, ...]:
    """Upheld complaints disqualify no one; a false one is still refused (so block 6's
    receipts stay the honest ones)."""
    _upheld_complaints(*args)
    return ()


# the forgeries


def _ciphertexts_swapped(draft: Draft, past: Past) -> None:
    """Voter 0 signed Kim; the block carries Lee under the same signature (question 0's
    first two option ciphertexts swapped, proofs and all)."""
    tx = draft.transactions[0]
    ballot = votingcontract.CastBallot.decode(tx.body)
    assert ballot.encrypted is not None
    q0 = list(ballot.encrypted[0])
    q0[0] = [q0[0][1], q0[0][0], *q0[0][2:]]
    q0[1] = [q0[1][1], q0[1][0], *q0[1][2:]]
    changed = dataclasses.replace(ballot, encrypted=(q0, *ballot.encrypted[1:]))
    draft.with_transactions(
        [dataclasses.replace(tx, body=changed.encode()), *draft.transactions[1:]]
    )


def _stuffed_ballot_accepted(draft: Draft, past: Past) -> None:
    """The colluders' state machine skips ballot proofs: the stuffed ballot is stored
    `accepted` and its ciphertexts replace voter 0's in the encrypted tally."""
    draft.execute = _lenient(question, "validate", _skip_ballot_proofs)


def _stuffed_ballot_counted(draft: Draft, past: Past) -> None:
    """The stored receipt is the honest `bad_ballot_proof`, but the colluders' state
    (and so the next block's prev_app_hash) has the ballot in the encrypted tally."""
    lenient = _lenient(question, "validate", _skip_ballot_proofs)

    def execute(
        state: StateView, context: votingcontract.BlockContext, txs: Sequence[Transaction]
    ) -> tuple[list[votingcontract.Receipt], WriteSet]:
        honest, _ = votingcontract.execute_block(state, context, txs)
        _, writes = lenient(state, context, txs)
        return honest, writes

    draft.execute = execute


def _complaint_ignored(draft: Draft, past: Past) -> None:
    """The colluders' state machine upholds no complaint: dealer 3, caught sending a
    bad share, stays qualified and the poll key is made from all three dealings."""
    draft.execute = _lenient(secret_polls, "validate_complaints", _ignore_complaints)


def _wrong_partial_accepted(draft: Draft, past: Past) -> None:
    draft.receipts_edit = lambda receipts: [
        forge.with_code(receipts[0], ACCEPTED),
        *receipts[1:],
    ]


def _outsider_partial_accepted(draft: Draft, past: Past) -> None:
    """The org posts trustee 2's partial decryption as its own; stored `accepted`."""
    partial = votingcontract.TrusteeDecrypt.decode(draft.transactions[1].body)
    org = secret_base().org
    forged = Transaction.create(org, draft.header.chain_id, partial.KIND, partial.encode(), 1000)
    draft.with_transactions([*draft.transactions, forged])
    draft.receipts_edit = lambda receipts: [
        *receipts[:-1],
        forge.with_code(receipts[-1], ACCEPTED),
    ]


def _counts_changed(draft: Draft, past: Past) -> None:
    """The counts written with the second valid partial give Kim 2 votes, not 1; every
    receipt is the honest one, so only the app hash tells."""
    poll_id = secret_chain().poll_id
    key = state_keys.tally(poll_id, 0, 0)

    def execute(
        state: StateView, context: votingcontract.BlockContext, txs: Sequence[Transaction]
    ) -> tuple[list[votingcontract.Receipt], WriteSet]:
        receipts, writes = votingcontract.execute_block(state, context, txs)
        changed = [
            (k, encoding.encode(encoding.decode(v) + 1) if k == key and v is not None else v)
            for k, v in writes
        ]
        assert changed != writes, "block 11 writes Kim's count"
        return receipts, changed

    draft.execute = execute


SECRET_VALID = ChainCase(
    "secret-poll",
    "an encrypted poll (section 15): trustees' key generation with an upheld complaint, "
    "a false complaint and a repeated step refused, encrypted ballots with a revote, a "
    "malformed ballot and three with bad proofs (a doubled ciphertext, a count proof, a "
    "budget sum) refused, a wrong partial decryption refused, the counts decrypted; a "
    "small secret poll without revote (a second ballot refused duplicate, its counts "
    "decrypted) and one closed before its key (a key step refused closed)",
    0,
    None,
    chain_base=secret_base,
)
SECRET_AWAITING = ChainCase(
    "secret-poll-awaiting-trustees",
    "the encrypted poll up to block 10: closed, one valid partial decryption of the 2 "
    "needed, so no counts (awaiting trustees, 1 of 2); the poll without revote closed "
    "with none of its 1 (0 of 1)",
    0,
    None,
    omit=(11, 12),
    chain_base=secret_base,
)

SECRET_FAILED_SETUP = ChainCase(
    "secret-poll-setup-failed",
    "the same poll with threshold 3: dealer 3 caught by trustee 1's complaint leaves 2 "
    "qualified dealers of the 3 needed, so the key set-up fails: a ballot is refused "
    "awaiting_key and the poll, closed, has no key and no counts",
    0,
    None,
    chain_base=failed_setup_base,
)

SECRET_CASES: tuple[ChainCase, ...] = (
    SECRET_VALID,
    SECRET_AWAITING,
    SECRET_FAILED_SETUP,
    ChainCase(
        "secret-rule-08-ciphertexts-swapped",
        "block 7's first encrypted ballot has question 0's first two option ciphertexts "
        "(and their proofs) swapped under the voter's signature of the original",
        7,
        8,
        _ciphertexts_swapped,
        chain_base=secret_base,
    ),
    ChainCase(
        "secret-rule-10-complaint-ignored",
        "block 6 stored as if trustee 1's complaint were not upheld: dealer 3 qualified, "
        "another poll key (receipts unchanged, block 7's prev_app_hash the colluders')",
        7,
        10,
        _complaint_ignored,
        says="prev_app_hash",
        forged_at=6,
        chain_base=secret_base,
    ),
    ChainCase(
        "secret-rule-11-bad-proof-accepted",
        "block 8's ballot with a doubled ciphertext (proofs failing) stored accepted, its "
        "ciphertexts in the colluders' encrypted tally",
        8,
        11,
        _stuffed_ballot_accepted,
        says="re-execution gives bad_ballot_proof",
        chain_base=secret_base,
    ),
    ChainCase(
        "secret-rule-10-bad-proof-counted",
        "block 8's ballot with failing proofs keeps its bad_ballot_proof receipt, but the "
        "colluders count it as if accepted: its ballot record, tracking code, participant "
        "and encrypted tally (block 9's prev_app_hash)",
        9,
        10,
        _stuffed_ballot_counted,
        says="prev_app_hash",
        forged_at=8,
        chain_base=secret_base,
    ),
    ChainCase(
        "secret-rule-11-wrong-partial-accepted",
        "block 10's partial decryption with a wrong share (trustee 1) stored accepted",
        10,
        11,
        _wrong_partial_accepted,
        says="re-execution gives bad_trustee_proof",
        chain_base=secret_base,
    ),
    ChainCase(
        "secret-rule-11-not-trustee-accepted",
        "block 10 also holds trustee 2's partial decryption signed by the organisation, "
        "stored accepted",
        10,
        11,
        _outsider_partial_accepted,
        says="re-execution gives not_trustee",
        chain_base=secret_base,
    ),
    ChainCase(
        "secret-rule-10-counts-changed",
        "block 11 writes Kim's decrypted count as 2, not 1 (receipts unchanged; block 12's "
        "prev_app_hash the colluders')",
        12,
        10,
        _counts_changed,
        says="prev_app_hash",
        forged_at=11,
        chain_base=secret_base,
    ),
)


@cache
def secret_valid_chain() -> ForgedChain:
    return forge.forge_chain(SECRET_VALID)


def tracking_code_of(document: dict[str, Any]) -> bytes | None:
    """The tracking code (15.11) of a receipt file's transaction, if an encrypted ballot."""
    tx = Transaction.decode(bytes.fromhex(document["tx"]))
    if tx.kind != votingcontract.CastBallot.KIND:
        return None
    body = votingcontract.CastBallot.decode(tx.body)
    return None if body.encrypted is None else secret_polls.tracking_code(body)


SECRET_RECEIPT_CASES: tuple[ReceiptCase, ...] = (
    ReceiptCase(
        "secret-ballot",
        "voter 0's encrypted ballot (secret-poll chain, block 7, position 0) with both "
        "proofs; its manifest entry gives the ballot's tracking code (15.11)",
        None,
        lambda: receipt_document(7, 0, secret_valid_chain()),
    ),
)
