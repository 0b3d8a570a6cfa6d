"""Build a genesis, keys and signed voting transactions, and run them block by block.

Reusable by the node and verifier tests:

    h = Harness.create()
    voter = h.enroll("alice")                      # attester enrolls a phone for her key
    org = h.register_org("seoul-city")             # admin registers an org, returns its key
    poll_id = h.create_poll(org, policy_poll("seoul-city", h.now_ms))
    receipt = h.submit(voter, CastBallot(poll_id, ((0,),)))
    assert receipt.code == "accepted"

Everything is deterministic: keys come from labels, nonces count per signer, and each
block's timestamp is `now_ms`, which advances BLOCK_INTERVAL_MS per block.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chain.genesis import Genesis, NamedKey
from chain.keys import PrivateKey
from chain.state import ZERO_HASH, MemoryState, WriteSet, next_app_hash
from chain.tx import Transaction
from votingcontract import (
    Access,
    BlockContext,
    Body,
    CreatePoll,
    EnrollVoter,
    Option,
    Question,
    Receipt,
    RegisterOrg,
    execute_block,
    genesis_writes,
    normalise_e164,
    phone_id,
)

CHAIN_ID = "votechain-test"
GENESIS_TIME_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""
BLOCK_INTERVAL_MS = 1_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
PEPPER = b"test attester pepper, never used outside tests"


def seeded_key(label: str) -> PrivateKey:
    """The same key for the same label, in every run."""
    return PrivateKey.from_seed(hashlib.sha256(b"votechain-test-key:" + label.encode()).digest())


def phone_number(label: str) -> str:
    """A distinct Korean mobile number per label (+82 10 xxxx xxxx)."""
    digits = int.from_bytes(hashlib.sha256(label.encode()).digest()[:4], "big") % 10**8
    return f"+8210{digits:08d}"


def phone_id_of(label: str) -> bytes:
    return phone_id(PEPPER, normalise_e164(phone_number(label)))


def make_genesis(chain_id: str = CHAIN_ID) -> Genesis:
    return Genesis(
        chain_id=chain_id,
        genesis_time_ms=GENESIS_TIME_MS,
        validators=tuple(
            NamedKey(f"n{i}", seeded_key(f"validator-{i}").public_key) for i in range(4)
        ),
        admins=(seeded_key("admin").public_key,),
        attesters=(NamedKey("phone-verification", seeded_key("attester").public_key),),
    )


def question(
    text: str = "Do you agree?",
    options: Sequence[str] = ("Yes", "No"),
    min_selections: int = 1,
    max_selections: int = 1,
) -> Question:
    return Question(text, tuple(Option(o) for o in options), min_selections, max_selections)


def budget_question(costs: Sequence[int], cap: int, max_selections: int | None = None) -> Question:
    options = tuple(Option(f"Project {i}", cost) for i, cost in enumerate(costs))
    return Question("Which projects?", options, 1, max_selections or len(costs), cap)


def policy_poll(
    org_id: str,
    now_ms: int,
    questions: Sequence[Question] = (),
    access: Access | None = None,
    opens_in_ms: int = 0,
    lasts_ms: int = DAY_MS,
    visibility: str = "live",
    revote: bool = False,
    title: str = "A policy poll",
    kind: str = "policy",
) -> CreatePoll:
    return CreatePoll(
        kind=kind,
        org_id=org_id,
        title=title,
        purpose="Tests",
        reference_url="https://example.org/poll",
        opens_at_ms=now_ms + opens_in_ms,
        closes_at_ms=now_ms + opens_in_ms + lasts_ms,
        visibility=visibility,
        revote=revote,
        questions=tuple(questions) or (question(),),
        access=access or Access(),
    )


def citizen_poll(now_ms: int, **kwargs: Any) -> CreatePoll:
    """A citizen poll ("among ourselves"): like policy_poll, without an organisation."""
    return policy_poll("", now_ms, kind="citizen", title="A citizen poll", **kwargs)


@dataclass
class Harness:
    """A chain's state machine without the chain: genesis, then one block per execute()."""

    genesis: Genesis
    state: MemoryState
    app_hash: bytes
    height: int = 0
    now_ms: int = GENESIS_TIME_MS + BLOCK_INTERVAL_MS
    nonces: dict[bytes, int] = field(default_factory=lambda: defaultdict(int))
    receipts: list[tuple[Transaction, Receipt, int]] = field(default_factory=list)
    """Every (tx, receipt, height) executed so far, in order."""

    admin: PrivateKey = field(default_factory=lambda: seeded_key("admin"))
    attester: PrivateKey = field(default_factory=lambda: seeded_key("attester"))

    @classmethod
    def create(cls, chain_id: str = CHAIN_ID) -> Harness:
        genesis = make_genesis(chain_id)
        writes = genesis_writes(genesis)
        state = MemoryState()
        state.apply(writes)
        return cls(genesis, state, next_app_hash(ZERO_HASH, writes))

    @property
    def chain_id(self) -> str:
        return self.genesis.chain_id

    def sign(self, key: PrivateKey, body: Body, kind: str | None = None) -> Transaction:
        """A signed transaction carrying `body` (or raw bytes under `kind`)."""
        nonce = self.nonces[key.public_key]
        self.nonces[key.public_key] += 1
        return Transaction.create(key, self.chain_id, kind or body.KIND, body.encode(), nonce)

    def sign_raw(self, key: PrivateKey, kind: str, body: bytes) -> Transaction:
        nonce = self.nonces[key.public_key]
        self.nonces[key.public_key] += 1
        return Transaction.create(key, self.chain_id, kind, body, nonce)

    def execute(self, txs: Sequence[Transaction]) -> list[Receipt]:
        """Run `txs` as the next block at `now_ms`, apply its writes, advance the clock."""
        self.height += 1
        context = BlockContext(self.chain_id, self.height, self.now_ms)
        receipts, writes = execute_block(self.state, context, txs)
        self.apply(writes)
        self.receipts.extend((tx, r, self.height) for tx, r in zip(txs, receipts, strict=True))
        self.now_ms += BLOCK_INTERVAL_MS
        return receipts

    def apply(self, writes: WriteSet) -> None:
        self.state.apply(writes)
        self.app_hash = next_app_hash(self.app_hash, writes)

    def submit(self, key: PrivateKey, body: Body) -> Receipt:
        """Sign `body` with `key` and run it alone in a block."""
        return self.execute([self.sign(key, body)])[0]

    def advance(self, ms: int) -> None:
        self.now_ms += ms

    # Conveniences that assert success: set-up steps of a test, not what it checks.

    def enroll(self, label: str) -> PrivateKey:
        """Enroll the phone of `label` for the key of `label`; returns the voter key."""
        key = seeded_key(f"voter-{label}")
        receipt = self.submit(self.attester, EnrollVoter(phone_id_of(label), key.public_key))
        assert receipt.code == "accepted", receipt
        return key

    def register_org(
        self, org_id: str, category: str = "city_department", keys: int = 1
    ) -> PrivateKey:
        """Register `org_id` with `keys` keys; returns the first."""
        org_keys = [seeded_key(f"org-{org_id}-{i}") for i in range(keys)]
        body = RegisterOrg(org_id, org_id.title(), category, tuple(k.public_key for k in org_keys))
        receipt = self.submit(self.admin, body)
        assert receipt.code == "accepted", receipt
        return org_keys[0]

    def create_poll(self, creator: PrivateKey, body: CreatePoll) -> bytes:
        receipt = self.submit(creator, body)
        assert receipt.code == "accepted", receipt
        assert receipt.poll_id is not None
        return receipt.poll_id
