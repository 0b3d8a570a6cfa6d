"""Forged chains: blocks certified by a quorum of validators that break one rule each.

An outside verifier exists for the day the validators themselves misbehave, so the
blocks here are what a colluding quorum could publish: every forged block carries a
valid commit certificate (unless the forgery *is* the certificate), and the chain goes
on after it the way the colluders would continue it (next headers link to the forged
block and commit to what they stored). The first failure a verifier meets is therefore
the rule the case names, at the height it names (docs/PROTOCOL.md section 10).

    chain = forge_chain(case)          # a ChainSource (verifier/sources.py)
    write_export_raw(chain, path)      # an export file, byte for byte as forged

The base chain is bench/chaingen.py's with a fixed seed and a small spec (7 blocks:
organisation, two polls, enrolments, three blocks of ballots with one refused duplicate,
closing), so everything is deterministic: Ed25519 signatures are, and no clock or
randomness is read. forge_chain(VALID) gives exactly GeneratedChain's bytes.

Receipt forgeries (section 14.3) are in forge_receipts.py; a chain with a secret poll
on the same genesis, and its forgeries, in forge_secret.py (a case's `chain_base`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import votingcontract
from bench.chaingen import (
    BLOCK_INTERVAL_MS,
    GENESIS_TIME_MS,
    ChainSpec,
    GeneratedChain,
    seeded_key,
)
from chain import encoding
from chain.block import Block, BlockHeader, make_header
from chain.certificate import CommitCertificate, CommitSignature, commit_vote_sign_bytes
from chain.genesis import Genesis
from chain.keys import PrivateKey
from chain.merkle import EMPTY_ROOT, merkle_root
from chain.state import ZERO_HASH, MemoryState, StateView, WriteSet, next_app_hash
from chain.tx import MAX_TX_BYTES, Transaction
from verifier.export import EXPORT_VERSION, MAGIC
from verifier.sources import RawBlock

BASE_SPEC = ChainSpec(
    ballots=8,
    polls=2,
    block_txs=4,
    duplicate_every=5,
    chain_id="votechain-vectors",
    seed="votechain test vectors",
)
"""Heights: 1 register_org, 2 two create_poll, 3 four enroll_voter, 4 and 5 four ballots
each (5/1 is refused `duplicate`), 6 one ballot, 7 two close_poll."""
OTHER_CHAIN_ID = "votechain-elsewhere"
ED25519_L = 2**252 + 27742317777372353535851937790883648493
"""The group order: a signature's S must be below it (PROTOCOL.md section 3)."""


# the base chain


@dataclass(frozen=True)
class Base:
    """The valid chain's ingredients: genesis, every key, each height's transactions."""

    genesis: Genesis
    validators: tuple[PrivateKey, ...]
    admin: PrivateKey
    org: PrivateKey
    voters: tuple[PrivateKey, ...]
    transactions: tuple[tuple[Transaction, ...], ...]
    """transactions[h - 1] are block h's."""
    poll_ids: tuple[bytes, ...]


@cache
def base() -> Base:
    generated = GeneratedChain(BASE_SPEC)
    blocks = tuple(Block.decode(raw.block).transactions for raw in generated.blocks())
    return Base(
        generated.genesis_doc,
        tuple(generated.validator_keys),
        generated.admin,
        generated.org_key,
        tuple(seeded_key(BASE_SPEC.seed, f"voter-{i}") for i in range(generated.voters)),
        blocks,
        tuple(generated.poll_ids),
    )


def quorum_signers(height: int, count: int | None = None) -> list[PrivateKey]:
    """The validators chaingen lets sign height `height` (a quorum unless `count`)."""
    keys = base().validators
    count = base().genesis.validator_set.quorum if count is None else count
    return [keys[(height + i) % len(keys)] for i in range(count)]


def certify(
    header: BlockHeader, height: int | None = None, signers: list[PrivateKey] | None = None
) -> CommitCertificate:
    """A certificate for `header` at `height` (its own by default), as chaingen signs."""
    height = header.height if height is None else height
    keys = quorum_signers(height) if signers is None else signers
    return CommitCertificate.sign(
        keys, base().genesis.chain_id, height % 3, height, header.block_hash
    )


def sign_ballot(
    voter: PrivateKey, poll_id: bytes, choice: tuple[int, ...], nonce: int
) -> Transaction:
    body = votingcontract.CastBallot(poll_id, (choice,))
    return Transaction.create(voter, base().genesis.chain_id, body.KIND, body.encode(), nonce)


# forging one block

Executor = Callable[
    [StateView, votingcontract.BlockContext, Sequence[Transaction]],
    tuple[list[votingcontract.Receipt], WriteSet],
]
"""A state machine run on one block: votingcontract.execute_block's signature."""


@dataclass
class Draft:
    """The block at one height while a forgery edits it (mutable on purpose).

    `certificate` None means a quorum's certificate of the final header; `receipts_edit`
    changes the receipts execution gave before they are stored; `block_bytes_edit`
    changes the stored encoding itself (rule 1); `execute` is the colluders' own state
    machine for this block, whose receipts and writes they store and build on.
    """

    header: BlockHeader
    transactions: list[Transaction]
    certificate: CommitCertificate | None = None
    receipts_edit: Callable[[list[bytes]], list[bytes]] | None = None
    block_bytes_edit: Callable[[bytes], bytes] | None = None
    execute: Executor | None = None

    def with_header(self, **changes: Any) -> None:
        self.header = dataclasses.replace(self.header, **changes)

    def with_transactions(self, transactions: list[Transaction]) -> None:
        """New transactions, the header's tx_root recomputed (so rule 6 holds)."""
        self.transactions = transactions
        self.with_header(tx_root=merkle_root([tx.tx_id for tx in transactions]))


@dataclass
class Past:
    """What the forger's chain holds below the height being forged."""

    blocks: list[Block] = field(default_factory=list)
    app_hashes: list[bytes] = field(default_factory=list)
    """app_hashes[h] is the app hash after block h (index 0: genesis)."""
    receipts: list[list[bytes]] = field(default_factory=list)
    """receipts[h - 1] are block h's stored receipts."""


Forgery = Callable[[Draft, Past], None]


@dataclass(frozen=True)
class ChainCase:
    """One chain: `forge` edits block `height`; the verdict is (height, rule), or ok."""

    name: str
    description: str
    height: int
    rule: int | None
    forge: Forgery | None = None
    vector: bool = True
    """Published under docs/test-vectors (False: too large for them)."""
    omit: tuple[int, ...] = ()
    """Heights left out of the chain (and of its export file) after forging."""
    says: str = ""
    """A phrase votechain's failure message holds: tells apart the checks of one rule."""
    chain_base: Callable[[], Base] = base
    """The valid chain the case forges (forge_secret.py's has a secret poll)."""
    forged_at: int | None = None
    """The height `forge` edits when the failure shows later (default: `height`)."""


@dataclass
class ForgedChain:
    """A ChainSource (verifier/sources.py) over forged blocks, held in memory.

    `app_hashes` and `state`, when given, play a data directory's stored app hashes and
    state (what DataDirSource compares with the replay).
    """

    genesis_doc: Genesis
    raw: list[RawBlock]
    app_hashes: list[bytes] | None = None
    state: dict[bytes, bytes] | None = None

    def genesis(self) -> Genesis:
        return self.genesis_doc

    def head_height(self) -> int:
        return len(self.raw)

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        yield from (raw for raw in self.raw if raw.height >= start)

    def stored_state(self) -> dict[bytes, bytes] | None:
        return self.state

    def stored_app_hash(self, height: int) -> bytes | None:
        return None if self.app_hashes is None else self.app_hashes[height]

    def close(self) -> None:
        pass


def forge_chain(case: ChainCase) -> ForgedChain:
    """The base chain with `case.forge` applied at `case.height`, then continued by the
    forgers: later headers link to what they stored and commit to its results."""
    b = case.chain_base()
    g = b.genesis
    state = MemoryState()
    writes = votingcontract.genesis_writes(g)
    state.apply(writes)
    past = Past(app_hashes=[next_app_hash(ZERO_HASH, writes)])
    prev_hash, receipts_root = g.genesis_hash, EMPTY_ROOT
    raw_blocks: list[RawBlock] = []
    for height, txs in enumerate(b.transactions, start=1):
        header = make_header(
            g.chain_id,
            height,
            GENESIS_TIME_MS + height * BLOCK_INTERVAL_MS,
            prev_hash,
            txs,
            past.app_hashes[-1],
            receipts_root,
            b.validators[height % len(b.validators)].public_key,
        )
        draft = Draft(header, list(txs))
        if case.forge is not None and (case.forged_at or case.height) == height:
            case.forge(draft, past)
        block = Block(draft.header, tuple(draft.transactions))
        context = votingcontract.BlockContext(g.chain_id, height, block.header.timestamp_ms)
        execute = draft.execute or votingcontract.execute_block
        receipts, block_writes = execute(state, context, block.transactions)
        stored = [r.encode() for r in receipts]
        if draft.receipts_edit is not None:
            stored = draft.receipts_edit(stored)
        certificate = draft.certificate or certify(block.header, height)
        encoded = block.encode()
        if draft.block_bytes_edit is not None:
            encoded = draft.block_bytes_edit(encoded)
        raw_blocks.append(RawBlock(height, encoded, certificate.encode(), stored))
        state.apply(block_writes)
        past.blocks.append(block)
        past.app_hashes.append(next_app_hash(past.app_hashes[-1], block_writes))
        past.receipts.append(stored)
        prev_hash, receipts_root = block.block_hash, merkle_root(stored)
    kept = [raw for raw in raw_blocks if raw.height not in case.omit]
    return ForgedChain(g, kept, past.app_hashes, dict(state.items(b"")))


def write_export_raw(chain: ForgedChain, path: Path) -> None:
    """An export file (PROTOCOL.md 14.2) with each block's bytes exactly as forged.

    verifier/export.py's writer decodes and re-encodes blocks, which would repair a
    non-canonical encoding; this one splices the stored bytes into the frame. For
    canonical blocks both give the same file.
    """
    out = bytearray()
    digest = hashlib.sha256()

    def frame(data: bytes) -> None:
        chunk = struct.pack(">I", len(data)) + data
        digest.update(chunk)
        out.extend(chunk)

    frame(encoding.encode([MAGIC, EXPORT_VERSION, chain.genesis_doc.to_value()]))
    count = 0
    for raw in chain.raw:
        frame(
            b"\x95"  # an array of 5: "block", h, block, certificate, receipts
            + encoding.encode("block")
            + encoding.encode(raw.height)
            + raw.block
            + raw.certificate
            + encoding.encode(list[encoding.Value](raw.receipts))
        )
        count += 1
    end = encoding.encode(["end", count, digest.digest()])
    out.extend(struct.pack(">I", len(end)) + end)
    path.write_bytes(bytes(out))


# the chain cases, rule by rule


def _header_version_2(draft: Draft, past: Past) -> None:
    draft.with_header(version=2)


def _non_canonical_height(draft: Draft, past: Past) -> None:
    """The header's height as a uint8 (0xcc 0x04) instead of the fixint 0x04."""
    height = draft.header.height

    def edit(data: bytes) -> bytes:
        chain_id = encoding.encode(draft.header.chain_id)
        canonical = b"\x99\x01" + chain_id + encoding.encode(height)
        assert data[1:].startswith(canonical)
        return (
            data[:1] + b"\x99\x01" + chain_id + bytes([0xCC, height]) + data[1 + len(canonical) :]
        )

    draft.block_bytes_edit = edit


def _tx_version_2(draft: Draft, past: Past) -> None:
    tx = draft.transactions[0]
    forged = Transaction(2, tx.chain_id, tx.kind, tx.signer, tx.nonce, tx.body, b"\0" * 64)
    voter = voter_of(tx.signer)
    forged = dataclasses.replace(forged, signature=voter.sign(forged.sign_bytes))
    draft.with_transactions([forged, *draft.transactions[1:]])


def _tx_too_large(draft: Draft, past: Past) -> None:
    """A ballot whose body is within the body limit but whose encoding is over 65,536
    bytes (rules.py's size check, not the decoder's body limit)."""
    tx = draft.transactions[0]
    padded = tx.body + b"\0" * (MAX_TX_BYTES - 10 - len(tx.body))
    forged = Transaction.create(voter_of(tx.signer), tx.chain_id, tx.kind, padded, tx.nonce + 1000)
    draft.with_transactions([forged, *draft.transactions[1:]])


def _header_other_chain(draft: Draft, past: Past) -> None:
    draft.with_header(chain_id=OTHER_CHAIN_ID)


def _tx_other_chain(draft: Draft, past: Past) -> None:
    tx = draft.transactions[1]
    forged = Transaction.create(voter_of(tx.signer), OTHER_CHAIN_ID, tx.kind, tx.body, tx.nonce)
    draft.with_transactions([draft.transactions[0], forged, *draft.transactions[2:]])


def _header_says_next_height(draft: Draft, past: Past) -> None:
    draft.with_header(height=draft.header.height + 1)


def _prev_hash_skips_parent(draft: Draft, past: Past) -> None:
    """A fork: block h links to block h - 2, as if h - 1 had never been committed."""
    draft.with_header(prev_hash=past.blocks[-2].block_hash)


def _prev_hash_other_genesis(draft: Draft, past: Past) -> None:
    other = dataclasses.replace(base().genesis, chain_id=OTHER_CHAIN_ID)
    draft.with_header(prev_hash=other.genesis_hash)


def _timestamp_equals_parent(draft: Draft, past: Past) -> None:
    draft.with_header(timestamp_ms=past.blocks[-1].header.timestamp_ms)


def _timestamp_equals_genesis(draft: Draft, past: Past) -> None:
    draft.with_header(timestamp_ms=base().genesis.genesis_time_ms)


def _proposer_is_admin(draft: Draft, past: Past) -> None:
    draft.with_header(proposer=base().admin.public_key)


def _ballot_dropped_root_kept(draft: Draft, past: Past) -> None:
    draft.transactions = draft.transactions[:-1]


def _ballot_twice_in_block(draft: Draft, past: Past) -> None:
    draft.with_transactions([*draft.transactions, draft.transactions[0]])


def _ballot_replayed_from_earlier_block(draft: Draft, past: Past) -> None:
    draft.with_transactions([*draft.transactions, past.blocks[-1].transactions[0]])


def _ballot_choice_changed(draft: Draft, past: Past) -> None:
    """The voter signed option 0; the block says option 1 under the same signature."""
    tx = draft.transactions[0]
    ballot = votingcontract.CastBallot.decode(tx.body)
    changed = votingcontract.CastBallot(ballot.poll_id, ((1,),))
    assert changed.encode() != tx.body
    draft.with_transactions(
        [dataclasses.replace(tx, body=changed.encode()), *draft.transactions[1:]]
    )


def _signature_s_plus_l(draft: Draft, past: Past) -> None:
    """The same signature with S + L for S: a second tx_id for one ballot (section 3)."""
    tx = draft.transactions[0]
    s = int.from_bytes(tx.signature[32:], "little") + ED25519_L
    forged = dataclasses.replace(tx, signature=tx.signature[:32] + s.to_bytes(32, "little"))
    draft.with_transactions([forged, *draft.transactions[1:]])


def _certificate_short_of_quorum(draft: Draft, past: Past) -> None:
    draft.certificate = certify(draft.header, signers=quorum_signers(draft.header.height, 2))


def _certificate_of_honest_block(draft: Draft, past: Past) -> None:
    """A quorum certified the honest block; the stored one lacks its last ballot."""
    honest = draft.header
    draft.with_transactions(draft.transactions[:-1])
    draft.certificate = certify(honest)


def _certificate_padded_with_outsider(draft: Draft, past: Past) -> None:
    signers = [*quorum_signers(draft.header.height, 2), base().admin]
    draft.certificate = certify(draft.header, signers=signers)


def _certificate_signer_twice(draft: Draft, past: Past) -> None:
    two = certify(draft.header, signers=quorum_signers(draft.header.height, 2))
    signatures = [*two.signatures, two.signatures[0]]
    draft.certificate = dataclasses.replace(two, signatures=tuple(signatures))


def _certificate_one_bad_signature(draft: Draft, past: Past) -> None:
    """Every validator listed, one of them with its signature of another height."""
    header, keys = draft.header, list(base().validators)
    good = certify(header, signers=keys)
    other = commit_vote_sign_bytes(header.chain_id, good.view, header.height + 1, header.block_hash)
    victim = good.signatures[0]
    key = next(k for k in keys if k.public_key == victim.validator)
    bad = CommitSignature(victim.validator, key.sign(other))
    draft.certificate = dataclasses.replace(good, signatures=(bad, *good.signatures[1:]))


def _certificate_for_other_chain(draft: Draft, past: Past) -> None:
    header, height = draft.header, draft.header.height
    draft.certificate = CommitCertificate.sign(
        quorum_signers(height), OTHER_CHAIN_ID, height % 3, height, header.block_hash
    )


def _certificate_for_next_height(draft: Draft, past: Past) -> None:
    draft.certificate = certify(draft.header, height=draft.header.height + 1)


def _prev_app_hash_skips_parent(draft: Draft, past: Past) -> None:
    """The header claims block h - 1 changed nothing (its ballots erased from state)."""
    draft.with_header(prev_app_hash=past.app_hashes[-2])


def _prev_receipts_root_one_refused(draft: Draft, past: Past) -> None:
    """The header commits to block h - 1's receipts with one ballot turned `duplicate`."""
    receipts = list(past.receipts[-1])
    receipts[2] = with_code(receipts[2], "duplicate")
    draft.with_header(prev_receipts_root=merkle_root(receipts))


def _receipt_refused_stored_accepted(draft: Draft, past: Past) -> None:
    def edit(receipts: list[bytes]) -> list[bytes]:
        assert votingcontract.Receipt.decode(receipts[1]).code == "duplicate"
        return [receipts[0], with_code(receipts[1], votingcontract.ACCEPTED), *receipts[2:]]

    draft.receipts_edit = edit


def _receipt_dropped(draft: Draft, past: Past) -> None:
    draft.receipts_edit = lambda receipts: receipts[:-1]


def _head_receipt_refused(draft: Draft, past: Past) -> None:
    draft.receipts_edit = lambda receipts: [
        with_code(receipts[0], "not_authorized"),
        *receipts[1:],
    ]


VALID = ChainCase("valid", "the base chain, unchanged: every rule holds", 0, None)

CHAIN_CASES: tuple[ChainCase, ...] = (
    VALID,
    ChainCase("rule-01-header-version", "block 4's header has version 2", 4, 1, _header_version_2),
    ChainCase(
        "rule-01-non-canonical",
        "block 4's header writes its height as uint8 0xcc 0x04, not the fixint 0x04",
        4,
        1,
        _non_canonical_height,
    ),
    ChainCase(
        "rule-01-tx-version",
        "the first ballot of block 5 has transaction version 2 (signed as such)",
        5,
        1,
        _tx_version_2,
    ),
    ChainCase(
        "rule-01-tx-too-large",
        "a ballot of block 4 is over 65,536 bytes",
        4,
        1,
        _tx_too_large,
        vector=False,
    ),
    ChainCase(
        "rule-01-missing-block",
        "block 4 is left out: the chain goes from block 3 to block 5",
        4,
        1,
        omit=(4,),
    ),
    ChainCase(
        "rule-02-header-chain-id",
        f"block 3's header names chain {OTHER_CHAIN_ID!r}",
        3,
        2,
        _header_other_chain,
    ),
    ChainCase(
        "rule-02-tx-chain-id",
        f"the second ballot of block 4 is signed for chain {OTHER_CHAIN_ID!r}",
        4,
        2,
        _tx_other_chain,
    ),
    ChainCase(
        "rule-03-height",
        "block 5's header says height 6",
        5,
        3,
        _header_says_next_height,
        says="says height 6",
    ),
    ChainCase(
        "rule-03-prev-hash",
        "block 4 links to block 2 (a fork that drops block 3)",
        4,
        3,
        _prev_hash_skips_parent,
        says="has prev_hash",
    ),
    ChainCase(
        "rule-03-prev-hash-genesis",
        "block 1 links to another genesis (same keys, another chain id)",
        1,
        3,
        _prev_hash_other_genesis,
        says="but genesis hashes to",
    ),
    ChainCase(
        "rule-04-timestamp",
        "block 4's timestamp equals block 3's",
        4,
        4,
        _timestamp_equals_parent,
    ),
    ChainCase(
        "rule-04-timestamp-genesis",
        "block 1's timestamp equals genesis_time_ms",
        1,
        4,
        _timestamp_equals_genesis,
    ),
    ChainCase(
        "rule-05-proposer",
        "block 4 names the admin as proposer",
        4,
        5,
        _proposer_is_admin,
    ),
    ChainCase(
        "rule-06-tx-root",
        "block 4's last ballot removed, its header's tx_root kept",
        4,
        6,
        _ballot_dropped_root_kept,
    ),
    ChainCase(
        "rule-07-repeat-in-block",
        "block 4 holds its first ballot twice (tx_root over both)",
        4,
        7,
        _ballot_twice_in_block,
        says="earlier in this block",
    ),
    ChainCase(
        "rule-07-repeat-across-blocks",
        "block 5 replays block 4's first ballot",
        5,
        7,
        _ballot_replayed_from_earlier_block,
        says="in an earlier block",
    ),
    ChainCase(
        "rule-08-signature",
        "block 4's first ballot chooses option 1 under a signature of option 0",
        4,
        8,
        _ballot_choice_changed,
    ),
    ChainCase(
        "rule-08-signature-s-not-below-l",
        "block 4's first ballot carries its own signature with S + L in place of S",
        4,
        8,
        _signature_s_plus_l,
    ),
    ChainCase(
        "rule-09-short-of-quorum",
        "block 4's certificate has 2 signatures, the quorum is 3",
        4,
        9,
        _certificate_short_of_quorum,
        says="has 2 valid signatures, needs 3",
    ),
    ChainCase(
        "rule-09-wrong-block-hash",
        "block 4 lost its last ballot (tx_root recomputed); its certificate is the honest block's",
        4,
        9,
        _certificate_of_honest_block,
        says="certifies block",
    ),
    ChainCase(
        "rule-09-non-validator",
        "block 4's certificate: 2 validators and the admin",
        4,
        9,
        _certificate_padded_with_outsider,
        says="not a validator",
    ),
    ChainCase(
        "rule-09-duplicate-signer",
        "block 4's certificate: 2 validators, one of them listed twice",
        4,
        9,
        _certificate_signer_twice,
        says="twice",
    ),
    ChainCase(
        "rule-09-bad-signature",
        "block 4's certificate: all 4 validators, one signature made for height 5",
        4,
        9,
        _certificate_one_bad_signature,
        says="has a bad signature from",
    ),
    ChainCase(
        "rule-09-other-chain",
        f"block 4's certificate is a quorum's for chain {OTHER_CHAIN_ID!r}",
        4,
        9,
        _certificate_for_other_chain,
        says="is for chain",
    ),
    ChainCase(
        "rule-09-wrong-height",
        "block 4's certificate is a quorum's for height 5",
        4,
        9,
        _certificate_for_next_height,
        says="says height 5",
    ),
    ChainCase(
        "rule-10-prev-app-hash",
        "block 5's prev_app_hash is the app hash after block 3 (block 4's ballots erased)",
        5,
        10,
        _prev_app_hash_skips_parent,
        says="prev_app_hash",
    ),
    ChainCase(
        "rule-10-prev-receipts-root",
        "block 5's prev_receipts_root commits to block 4's receipts with ballot 2 refused",
        5,
        10,
        _prev_receipts_root_one_refused,
        says="prev_receipts_root",
    ),
    ChainCase(
        "rule-11-receipt",
        "block 5 stores `accepted` for its refused duplicate ballot (and block 6 commits to it)",
        5,
        11,
        _receipt_refused_stored_accepted,
    ),
    ChainCase(
        "rule-11-receipt-missing",
        "block 4 stores 3 receipts for 4 transactions",
        4,
        11,
        _receipt_dropped,
        says="are 3 for 4 transactions",
    ),
    ChainCase(
        "rule-11-head-receipt",
        "the head block's first receipt says not_authorized (no later header commits to it)",
        7,
        11,
        _head_receipt_refused,
    ),
)


@cache
def valid_chain() -> ForgedChain:
    return forge_chain(VALID)


def case_named(name: str) -> ChainCase:
    return next(c for c in CHAIN_CASES if c.name == name)


def voter_of(public_key: bytes) -> PrivateKey:
    return next(k for k in base().voters if k.public_key == public_key)


def with_code(encoded: bytes, code: str) -> bytes:
    receipt = votingcontract.Receipt.decode(encoded)
    return dataclasses.replace(receipt, code=code).encode()
