"""Build a large, valid votechain chain quickly, without a cluster.

The generator plays every role itself: the genesis validators (it holds their keys and
signs each block's commit certificate with a quorum of them), the admin, the attester,
an organisation and thousands of citizens. Blocks go through the real state machine
(votingcontract.execute_block), so receipts, app hashes and receipts roots are exactly
what a cluster would have produced; the chain is written as an export file
(verifier/export.py) that `votechain verify --file` reads.

    python -m bench.chaingen --ballots 100000 chain.export      # about a minute

The chain: block 1 registers the organisation; block 2 creates `polls` policy polls
(a single-choice survey, a participatory budget with revote, a multiple-choice poll,
...); then enrolments, then ballots in blocks of `block_txs`. Each voter votes once in
every poll, so voters = ballots / polls; every `duplicate_every`-th ballot is cast a
second time and refused as `duplicate`. With `close_polls` the last block closes every
poll, so results are final. `expected_counts` holds what was cast, computed apart from
the state machine, for tests to compare with the verifier's results.

With `secret_ballots` N > 0 (issue 16) a secret poll follows: one single-choice question
of 4 options, 3 trustees and a threshold of 2 (their key generation in three blocks:
transport keys, dealings, checks), then N encrypted ballots of N distinct voters, each
made as a voter's device makes it (ballotcrypto.question.encrypt, its scalars from
labels so the chain is the same every run). With `close_polls` the poll closes with the
others and trustees 1 and 2 post their partial decryptions in one more block, so its
counts are written: `expected_counts` holds them too.

    python -m bench.chaingen --ballots 0 --secret-ballots 5000 secret.export
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import votingcontract
from ballotcrypto import dkg, question
from ballotcrypto.context import BallotContext
from ballotcrypto.decryption import partial_decrypt
from ballotcrypto.group import L
from chain import encoding
from chain.block import Block, make_header
from chain.certificate import CommitCertificate
from chain.genesis import Genesis, NamedKey
from chain.keys import PrivateKey
from chain.merkle import EMPTY_ROOT, merkle_root
from chain.state import ZERO_HASH, MemoryState, next_app_hash
from chain.tx import Transaction
from verifier.export import write_export
from verifier.sources import RawBlock
from votingcontract import Option as Opt
from votingcontract import Question as Q
from votingcontract import SecretSpec, TrusteeCheck, TrusteeDealing, TrusteeDecrypt, TrusteeKey
from votingcontract.secret_polls import (
    question_rule,
    read_encrypted_tally,
    read_public_key,
    read_setup,
)

BlockMaker = Callable[[list[Transaction]], tuple[RawBlock, list[votingcontract.Receipt]]]
Signer = Callable[[PrivateKey, votingcontract.Body], Transaction]

GENESIS_TIME_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""
BLOCK_INTERVAL_MS = 1_000
DAY_MS = 86_400_000
ORG_ID = "seoul-city"
PEPPER = b"chaingen pepper: not a real attester's"


@dataclass(frozen=True)
class ChainSpec:
    ballots: int = 2_000
    polls: int = 4
    block_txs: int = 500
    duplicate_every: int = 0
    """Every n-th ballot is cast again (refused `duplicate`); 0 for none."""
    close_polls: bool = True
    chain_id: str = "votechain-bench"
    seed: str = "chaingen"
    validators: int = 4
    secret_ballots: int = 0
    """Encrypted ballots in a secret poll after the public ones (see the module)."""


def seeded_key(seed: str, label: str) -> PrivateKey:
    return PrivateKey.from_seed(hashlib.sha256(f"{seed}:{label}".encode()).digest())


def poll_bodies(now_ms: int, count: int) -> list[votingcontract.CreatePoll]:
    """`count` policy polls cycling through three shapes."""
    shapes = [
        (
            "Bike-sharing satisfaction",
            False,
            Q("Overall", tuple(Opt(t) for t in ("Very", "Satisfied", "No", "No opinion"))),
        ),
        (
            "Participatory budget",
            True,
            Q(
                "Projects",
                (Opt("Path", 400), Opt("Library", 300), Opt("Park", 500), Opt("Wi-Fi", 200)),
                1,
                3,
                1000,
            ),
        ),
        (
            "Which days should markets open?",
            False,
            Q("Days", tuple(Opt(d) for d in ("Mon", "Tue", "Wed", "Thu", "Fri")), 1, 3),
        ),
    ]
    bodies = []
    for i in range(count):
        title, revote, question = shapes[i % len(shapes)]
        bodies.append(
            votingcontract.CreatePoll(
                kind="policy",
                org_id=ORG_ID,
                title=f"{title} #{i + 1}",
                purpose="generated by bench/chaingen.py",
                reference_url="https://example.org/chaingen",
                opens_at_ms=now_ms,
                closes_at_ms=now_ms + 30 * DAY_MS,
                visibility="live",
                revote=revote,
                questions=(question,),
                access=votingcontract.Access(),
            )
        )
    return bodies


SECRET_TRUSTEES = 3
SECRET_THRESHOLD = 2
SECRET_QUESTION = Q("Chair of the residents' council", tuple(Opt(n) for n in "ABCD"))


def secret_poll_body(now_ms: int, trustees: tuple[bytes, ...]) -> votingcontract.CreatePoll:
    return votingcontract.CreatePoll(
        kind="policy",
        org_id=ORG_ID,
        title="Residents' council election (secret)",
        purpose="generated by bench/chaingen.py",
        reference_url="https://example.org/chaingen",
        opens_at_ms=now_ms,
        closes_at_ms=now_ms + 30 * DAY_MS,
        visibility="live",
        revote=False,
        questions=(SECRET_QUESTION,),
        access=votingcontract.Access(),
        secret=SecretSpec(trustees, SECRET_THRESHOLD),
    )


def seeded_scalar(seed: str, label: str) -> int:
    """A nonzero scalar from a label (64 hashed bytes reduced mod L: no bias to speak of)."""
    return int.from_bytes(hashlib.sha512(f"{seed}:{label}".encode()).digest(), "little") % L or 1


CHOICES: dict[int, list[tuple[int, ...]]] = {
    0: [(0,), (1,), (2,), (3,), (1,)],
    1: [(0,), (1,), (0, 1), (1, 3), (0, 3), (2,), (1, 2), (0, 1, 3)],
    2: [(0,), (1, 2), (0, 4), (1, 2, 3), (4,), (2,)],
}
"""Selections cycled per poll shape; all valid (budget ones fit under the cap)."""


@dataclass
class GeneratedChain:
    """A ChainSource (verifier/sources.py) that builds its blocks as they are read.

    Read it once: `blocks()` executes and signs as it goes.
    """

    spec: ChainSpec
    validator_keys: list[PrivateKey] = field(init=False)
    genesis_doc: Genesis = field(init=False)
    expected_counts: dict[bytes, list[int]] = field(default_factory=dict)
    """poll_id -> votes per option (single question), from what was cast."""
    poll_ids: list[bytes] = field(default_factory=list)
    secret_poll_id: bytes | None = None
    transactions: int = 0
    ballots_cast: int = 0
    built: int = 0

    def __post_init__(self) -> None:
        s = self.spec
        self.validator_keys = [seeded_key(s.seed, f"validator-{i}") for i in range(s.validators)]
        self.admin = seeded_key(s.seed, "admin")
        self.attester = seeded_key(s.seed, "attester")
        self.org_key = seeded_key(s.seed, "org")
        self.genesis_doc = Genesis(
            chain_id=s.chain_id,
            genesis_time_ms=GENESIS_TIME_MS,
            validators=tuple(
                NamedKey(f"n{i + 1}", k.public_key) for i, k in enumerate(self.validator_keys)
            ),
            admins=(self.admin.public_key,),
            attesters=(NamedKey("phone-verification", self.attester.public_key),),
        )
        self.voters = max(-(-s.ballots // s.polls), s.secret_ballots)
        self.trustee_keys = [
            seeded_key(s.seed, f"trustee-{j}") for j in range(1, SECRET_TRUSTEES + 1)
        ]

    # ChainSource

    def genesis(self) -> Genesis:
        return self.genesis_doc

    def head_height(self) -> int:
        per_block = self.spec.block_txs
        duplicates = (
            self.spec.ballots // self.spec.duplicate_every if self.spec.duplicate_every else 0
        )
        return (
            2
            + -(-self.voters // per_block)
            + -(-(self.spec.ballots + duplicates) // per_block)
            + (1 if self.spec.close_polls else 0)
            + self._secret_blocks()
        )

    def _secret_blocks(self) -> int:
        """The secret poll's blocks: its creation, three key steps, its ballots and,
        after the close, the partial decryptions."""
        if not self.spec.secret_ballots:
            return 0
        ballots = -(-self.spec.secret_ballots // self.spec.block_txs)
        return 4 + ballots + (1 if self.spec.close_polls else 0)

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        for raw in self._build():
            if raw.height >= start:
                yield raw

    def stored_state(self) -> dict[bytes, bytes] | None:
        return None

    def stored_app_hash(self, height: int) -> bytes | None:
        return None

    def close(self) -> None:
        pass

    # building

    def _build(self) -> Iterator[RawBlock]:
        s, g = self.spec, self.genesis_doc
        state = MemoryState()
        writes = votingcontract.genesis_writes(g)
        state.apply(writes)
        app_hash, prev_hash, receipts_root = (
            next_app_hash(ZERO_HASH, writes),
            g.genesis_hash,
            EMPTY_ROOT,
        )
        height, now_ms = 0, GENESIS_TIME_MS
        nonces: dict[bytes, int] = {}

        def sign(key: PrivateKey, body: votingcontract.Body) -> Transaction:
            nonce = nonces.get(key.public_key, 0)
            nonces[key.public_key] = nonce + 1
            return Transaction.create(key, s.chain_id, body.KIND, body.encode(), nonce)

        def block(txs: list[Transaction]) -> tuple[RawBlock, list[votingcontract.Receipt]]:
            nonlocal app_hash, prev_hash, receipts_root, height, now_ms
            height += 1
            now_ms += BLOCK_INTERVAL_MS
            proposer = self.validator_keys[height % len(self.validator_keys)]
            header = make_header(
                s.chain_id,
                height,
                now_ms,
                prev_hash,
                tuple(txs),
                app_hash,
                receipts_root,
                proposer.public_key,
            )
            blk = Block(header, tuple(txs))
            context = votingcontract.BlockContext(s.chain_id, height, now_ms)
            receipts, block_writes = votingcontract.execute_block(state, context, blk.transactions)
            state.apply(block_writes)
            encoded = [r.encode() for r in receipts]
            quorum = g.validator_set.quorum
            signers = [
                self.validator_keys[(height + i) % len(self.validator_keys)] for i in range(quorum)
            ]
            certificate = CommitCertificate.sign(
                signers, s.chain_id, height % 3, height, blk.block_hash
            )
            app_hash = next_app_hash(app_hash, block_writes)
            prev_hash, receipts_root = blk.block_hash, merkle_root(encoded)
            self.transactions += len(txs)
            self.built = height
            return RawBlock(height, blk.encode(), certificate.encode(), encoded), receipts

        register = votingcontract.RegisterOrg(
            ORG_ID, "Seoul (generated)", "city_department", (self.org_key.public_key,)
        )
        raw, _ = block([sign(self.admin, register)])
        yield raw
        creates = [sign(self.org_key, b) for b in poll_bodies(now_ms + BLOCK_INTERVAL_MS, s.polls)]
        raw, receipts = block(creates)
        assert all(r.accepted for r in receipts), receipts
        self.poll_ids = [r.poll_id for r in receipts if r.poll_id is not None]
        shapes = {pid: i % 3 for i, pid in enumerate(self.poll_ids)}
        self.expected_counts = {pid: [0] * (4 if shapes[pid] < 2 else 5) for pid in self.poll_ids}
        yield raw

        voters = [seeded_key(s.seed, f"voter-{i}") for i in range(self.voters)]
        for first in range(0, len(voters), s.block_txs):
            txs = []
            for i in range(first, min(first + s.block_txs, len(voters))):
                e164 = f"+8210{i:08d}"
                body = votingcontract.EnrollVoter(
                    votingcontract.phone_id(PEPPER, e164), voters[i].public_key
                )
                txs.append(sign(self.attester, body))
            raw, _ = block(txs)
            yield raw

        pending: list[Transaction] = []
        for n in range(s.ballots):
            voter, poll_index = voters[n // s.polls], n % s.polls
            poll_id = self.poll_ids[poll_index]
            shape = shapes[poll_id]
            choice = CHOICES[shape][(n // s.polls) % len(CHOICES[shape])]
            tx = sign(voter, votingcontract.CastBallot(poll_id, (choice,)))
            pending.append(tx)
            for option in choice:
                self.expected_counts[poll_id][option] += 1
            self.ballots_cast += 1
            if s.duplicate_every and (n + 1) % s.duplicate_every == 0:
                # The same choice again: refused `duplicate`, or in the revote poll a
                # revote that replaces the first ballot; the counts stay as they are.
                pending.append(sign(voter, votingcontract.CastBallot(poll_id, (choice,))))
                self.ballots_cast += 1
            while len(pending) >= s.block_txs:
                raw, _ = block(pending[: s.block_txs])
                pending = pending[s.block_txs :]
                yield raw
        if pending:
            raw, _ = block(pending)
            yield raw
        if s.secret_ballots:
            yield from self._secret_poll(state, block, sign, voters, now_ms)
        if s.close_polls:
            closing = [*self.poll_ids]
            if self.secret_poll_id is not None:
                closing.append(self.secret_poll_id)
            raw, _ = block([sign(self.org_key, votingcontract.ClosePoll(p)) for p in closing])
            yield raw
            if self.secret_poll_id is not None:
                yield self._decryptions(state, block, sign)

    def _secret_poll(
        self,
        state: MemoryState,
        block: BlockMaker,
        sign: Signer,
        voters: list[PrivateKey],
        now_ms: int,
    ) -> Iterator[RawBlock]:
        """The secret poll's creation, key generation and encrypted ballots (see the
        module); every block's transactions must be accepted."""
        s = self.spec
        trustees = tuple(k.public_key for k in self.trustee_keys)
        raw, receipts = block([sign(self.org_key, secret_poll_body(now_ms, trustees))])
        assert receipts[0].accepted and receipts[0].poll_id is not None, receipts
        poll_id = self.secret_poll_id = receipts[0].poll_id
        self.expected_counts[poll_id] = [0] * len(SECRET_QUESTION.options)
        yield raw
        for step in (self._trustee_key, self._trustee_dealing, self._trustee_check):
            bodies = [step(state, poll_id, j) for j in range(1, SECRET_TRUSTEES + 1)]
            raw, receipts = block(
                [sign(k, b) for k, b in zip(self.trustee_keys, bodies, strict=True)]
            )
            assert all(r.accepted for r in receipts), receipts
            yield raw
        key = read_public_key(state, poll_id)
        assert key is not None, "the secret poll's key is not ready"
        public_key, rule = key, question_rule(SECRET_QUESTION)
        pending: list[Transaction] = []
        for n in range(s.secret_ballots):
            choice = CHOICES[0][n % len(CHOICES[0])][0]
            scalars = (seeded_scalar(s.seed, f"ballot/{n}/{i}") for i in itertools.count())
            encrypted = question.encrypt(
                BallotContext(s.chain_id, poll_id, voters[n].public_key, 0),
                public_key,
                rule,
                [1 if i == choice else 0 for i in range(rule.options)],
                [next(scalars) for _ in range(rule.options)],
                [next(scalars) for _ in range(question.nonce_count(rule))],
            )
            value = encoding.decode(encoding.encode(encrypted.to_value()))
            pending.append(
                sign(voters[n], votingcontract.CastBallot(poll_id, (), encrypted=(value,)))
            )
            self.expected_counts[poll_id][choice] += 1
            self.ballots_cast += 1
            if len(pending) == s.block_txs or n == s.secret_ballots - 1:
                raw, receipts = block(pending)
                assert all(r.accepted for r in receipts), receipts[0]
                pending = []
                yield raw

    def _trustee_key(self, state: MemoryState, poll_id: bytes, j: int) -> TrusteeKey:
        seed = self.spec.seed
        return TrusteeKey(
            poll_id,
            dkg.make_transport_key(
                self.spec.chain_id,
                poll_id,
                j,
                seeded_scalar(seed, f"transport/{j}"),
                seeded_scalar(seed, f"transport-proof/{j}"),
            ),
        )

    def _trustee_dealing(self, state: MemoryState, poll_id: bytes, j: int) -> TrusteeDealing:
        setup = read_setup(state, poll_id)
        assert setup is not None
        seed, count = self.spec.seed, SECRET_TRUSTEES
        dealing = dkg.deal(
            self.spec.chain_id,
            poll_id,
            j,
            [seeded_scalar(seed, f"coefficient/{j}/{m}") for m in range(SECRET_THRESHOLD)],
            [k.public for k in setup.transport_keys if k is not None],
            seeded_scalar(seed, f"dealing-proof/{j}"),
            [seeded_scalar(seed, f"ephemeral/{j}/{r}") for r in range(1, count + 1)],
        )
        return TrusteeDealing(poll_id, dealing)

    def _trustee_check(self, state: MemoryState, poll_id: bytes, j: int) -> TrusteeCheck:
        return TrusteeCheck(poll_id, ())  # every dealer here is honest

    def _decryptions(self, state: MemoryState, block: BlockMaker, sign: Signer) -> RawBlock:
        """Trustees 1 and 2's partial decryptions of the closed poll's tally."""
        poll_id, seed = self.secret_poll_id, self.spec.seed
        assert poll_id is not None
        setup = read_setup(state, poll_id)
        assert setup is not None
        dealings = [d for d in setup.dealings if d is not None]
        tally = read_encrypted_tally(state, poll_id)
        txs = []
        for j in range(1, SECRET_THRESHOLD + 1):
            share = dkg.secret_share(
                dkg.receive_share(
                    self.spec.chain_id, poll_id, d, j, seeded_scalar(seed, f"transport/{j}")
                )
                for d in dealings
            )
            nonces = [seeded_scalar(seed, f"decrypt/{j}/{i}") for i in range(len(tally))]
            partial = partial_decrypt(self.spec.chain_id, poll_id, j, share, tally, nonces)
            txs.append(sign(self.trustee_keys[j - 1], TrusteeDecrypt(poll_id, partial)))
        raw, receipts = block(txs)
        assert all(r.accepted for r in receipts), receipts
        return raw


def write_chain(spec: ChainSpec, path: Path) -> GeneratedChain:
    """Generate the chain of `spec` into the export file `path`; returns the generator
    (its counters and expected results)."""
    chain = GeneratedChain(spec)
    write_export(chain, path)
    return chain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--polls", type=int, default=4)
    parser.add_argument("--block-txs", type=int, default=500)
    parser.add_argument("--secret-ballots", type=int, default=0)
    args = parser.parse_args()
    started = time.monotonic()
    spec = ChainSpec(args.ballots, args.polls, args.block_txs, secret_ballots=args.secret_ballots)
    chain = write_chain(spec, args.file)
    print(
        f"{args.file}: {chain.built} blocks, {chain.transactions} transactions, "
        f"{chain.ballots_cast} ballots in {time.monotonic() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
