"""Trustees and encrypted ballots for the state machine's tests, deterministically.

    trustees = Trustees.make(3, threshold=2)
    poll_id = h.create_poll(org, policy_poll(..., secret=trustees.spec))   # via secret_poll()
    trustees.setup(h, poll_id)                          # keys, dealings, checks: key ready
    h.submit(voter, encrypted_ballot(h, poll_id, voter, [(0,)]))
    ...close...
    trustees.decrypt(h, poll_id, 1); trustees.decrypt(h, poll_id, 2)   # counts written

Every secret scalar comes from a label through SHA-512, so a test run is repeatable.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ballotcrypto import dkg, question
from ballotcrypto.context import BallotContext
from ballotcrypto.decryption import partial_decrypt
from ballotcrypto.dkg import Dealing
from ballotcrypto.group import L
from chain import encoding
from chain.keys import PrivateKey
from votingcontract import CastBallot, CreatePoll, Receipt
from votingcontract.poll_spec import SecretSpec
from votingcontract.records import read_poll
from votingcontract.secret_polls import (
    question_rule,
    read_encrypted_tally,
    read_public_key,
    read_setup,
)
from votingcontract.trustee_bodies import TrusteeCheck, TrusteeDealing, TrusteeDecrypt, TrusteeKey

from .helpers import Harness, seeded_key

_counter = itertools.count()


def scalar(label: str) -> int:
    """A nonzero scalar from a label (64 hashed bytes reduced mod L)."""
    value = int.from_bytes(hashlib.sha512(label.encode()).digest(), "little") % L
    return value or 1


def fresh_scalars(label: str, count: int) -> list[int]:
    run = next(_counter)
    return [scalar(f"{label}/{run}/{i}") for i in range(count)]


@dataclass
class Trustees:
    """n trustees with keys and secrets from labels; `corrupt` dealers send a wrong share."""

    keys: list[PrivateKey]
    threshold: int
    label: str
    corrupt_shares: dict[int, set[int]] = field(default_factory=dict)
    """dealer -> recipients whose share from that dealer is off by one."""

    @classmethod
    def make(cls, count: int, threshold: int, label: str = "t") -> Trustees:
        keys = [seeded_key(f"trustee-{label}-{j}") for j in range(1, count + 1)]
        return cls(keys, threshold, label)

    @property
    def count(self) -> int:
        return len(self.keys)

    @property
    def spec(self) -> SecretSpec:
        return SecretSpec(tuple(k.public_key for k in self.keys), self.threshold)

    def key(self, j: int) -> PrivateKey:
        return self.keys[j - 1]

    def transport_secret(self, j: int) -> int:
        return scalar(f"{self.label}/transport/{j}")

    def coefficients(self, j: int) -> list[int]:
        return [scalar(f"{self.label}/coefficient/{j}/{m}") for m in range(self.threshold)]

    def key_body(self, h: Harness, poll_id: bytes, j: int) -> TrusteeKey:
        tk = dkg.make_transport_key(
            h.chain_id, poll_id, j, self.transport_secret(j), scalar(f"{self.label}/w/{j}")
        )
        return TrusteeKey(poll_id, tk)

    def dealing_body(self, h: Harness, poll_id: bytes, j: int) -> TrusteeDealing:
        setup = read_setup(h.state, poll_id)
        assert setup is not None
        keys = [k.public for k in setup.transport_keys if k is not None]
        dealing = dkg.deal(
            h.chain_id,
            poll_id,
            j,
            self.coefficients(j),
            keys,
            scalar(f"{self.label}/dealw/{j}"),
            [scalar(f"{self.label}/ephemeral/{j}/{r}") for r in range(1, self.count + 1)],
        )
        wrong = self.corrupt_shares.get(j, set())
        if wrong:
            shares = tuple(
                replace(s, masked=(s.masked + 1) % L) if r in wrong else s
                for r, s in enumerate(dealing.shares, start=1)
            )
            dealing = replace(dealing, shares=shares)
        return TrusteeDealing(poll_id, dealing)

    def dealings(self, h: Harness, poll_id: bytes) -> list[Dealing]:
        setup = read_setup(h.state, poll_id)
        assert setup is not None
        return [d for d in setup.dealings if d is not None]

    def check_body(self, h: Harness, poll_id: bytes, j: int) -> TrusteeCheck:
        complaints = []
        for dealing in self.dealings(h, poll_id):
            try:
                dkg.receive_share(h.chain_id, poll_id, dealing, j, self.transport_secret(j))
            except Exception:
                complaints.append(
                    dkg.complain(
                        h.chain_id,
                        poll_id,
                        dealing,
                        j,
                        self.transport_secret(j),
                        scalar(f"{self.label}/complain/{j}/{dealing.dealer}"),
                    )
                )
        return TrusteeCheck(poll_id, tuple(complaints))

    def secret_share(self, h: Harness, poll_id: bytes, j: int) -> int:
        setup = read_setup(h.state, poll_id)
        assert setup is not None and setup.outcome is not None
        qualified = [d for d in self.dealings(h, poll_id) if d.dealer in setup.outcome.qualified]
        return dkg.secret_share(
            dkg.receive_share(h.chain_id, poll_id, d, j, self.transport_secret(j))
            for d in qualified
        )

    def setup(self, h: Harness, poll_id: bytes) -> None:
        """All three steps for every trustee, each in its own block; asserts acceptance."""
        for make in (self.key_body, self.dealing_body, self.check_body):
            for j in range(1, self.count + 1):
                receipt = h.submit(self.key(j), make(h, poll_id, j))
                assert receipt.code == "accepted", (make.__name__, j, receipt)

    def decrypt_body(
        self, h: Harness, poll_id: bytes, j: int, wrong: bool = False
    ) -> TrusteeDecrypt:
        tally = read_encrypted_tally(h.state, poll_id)
        share = self.secret_share(h, poll_id, j) + (1 if wrong else 0)
        partial = partial_decrypt(
            h.chain_id, poll_id, j, share % L, tally, fresh_scalars(f"{self.label}/dec", len(tally))
        )
        return TrusteeDecrypt(poll_id, partial)

    def decrypt(self, h: Harness, poll_id: bytes, j: int, wrong: bool = False) -> Receipt:
        return h.submit(self.key(j), self.decrypt_body(h, poll_id, j, wrong))


def encrypted_questions(
    h: Harness,
    poll_id: bytes,
    voter_key: bytes,
    selections: Sequence[Sequence[int]],
    chain_id: str | None = None,
) -> list[Any]:
    """The encoded `encrypted` field for these chosen indices per question."""
    poll = read_poll(h.state, poll_id)
    assert poll is not None
    public_key = read_public_key(h.state, poll_id)
    assert public_key is not None, "the poll's key is not ready"
    context = BallotContext(chain_id or h.chain_id, poll_id, voter_key, 0)
    questions = []
    for q, (spec_q, chosen) in enumerate(zip(poll.spec.questions, selections, strict=True)):
        rule = question_rule(spec_q)
        flags = [1 if i in chosen else 0 for i in range(rule.options)]
        encrypted = question.encrypt(
            context.at(q),
            public_key,
            rule,
            flags,
            fresh_scalars("r", rule.options),
            fresh_scalars("nonce", question.nonce_count(rule)),
        )
        questions.append(encoding.decode(encoding.encode(encrypted.to_value())))
    return questions


def encrypted_ballot(
    h: Harness, poll_id: bytes, voter: PrivateKey, selections: Sequence[Sequence[int]]
) -> CastBallot:
    return CastBallot(
        poll_id,
        (),
        encrypted=tuple(encrypted_questions(h, poll_id, voter.public_key, selections)),
    )


def secret_poll(body: CreatePoll, trustees: Trustees) -> CreatePoll:
    return replace(body, secret=trustees.spec)
