"""Blocks certified by a quorum that break one rule each: the verifier must reach the
rule and name it (issue 12; PROTOCOL.md sections 10 and 14.3).

Tampering with a stored block breaks its certificate first (test_tamper.py only ever
fails at rules 6, 9 and 11). Here a colluding quorum re-signs every forged block
(tests/verifier/forge.py), so each rule is the first and only thing that can catch the
forgery: disabling that check in verifier/ makes its test here fail. The same cases are
published as docs/test-vectors/ (test_vectors_match_a_fresh_generation below).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import msgpack
import pytest

from bench.chaingen import GeneratedChain
from chain import encoding
from chain.block import Block
from chain.certificate import CommitCertificate
from chain.hashing import Domain, tagged_hash
from chain.merkle import merkle_root
from tests.verifier import forge, forge_receipts, vectors
from verifier.errors import VerificationFailure
from verifier.export import ExportSource
from verifier.receipts import verify_receipt
from verifier.replay import verify_chain
from verifier.sources import ChainSource

BAD_CHAINS = [c for c in forge.CHAIN_CASES if c.rule is not None]
BAD_RECEIPTS = [c for c in forge_receipts.RECEIPT_CASES if c.check is not None]


def first_failure(source: ChainSource) -> VerificationFailure:
    with pytest.raises(VerificationFailure) as caught:
        verify_chain(source, workers=1)
    return caught.value


def stored_header_hash(block_bytes: bytes) -> bytes:
    """The block hash of a stored block, read leniently (rule 1 cases do not decode)."""
    header = msgpack.unpackb(block_bytes, raw=False)[0]
    return tagged_hash(Domain.BLOCK_HEADER, encoding.encode(header))


def test_the_unforged_chain_is_chaingens_and_verifies() -> None:
    chain = forge.valid_chain()
    generated = list(GeneratedChain(forge.BASE_SPEC).blocks())
    assert [(r.block, r.certificate, r.receipts) for r in chain.raw] == [
        (r.block, r.certificate, r.receipts) for r in generated
    ]
    report = verify_chain(chain, workers=1)
    assert report.blocks == 7
    assert (report.ballots, report.accepted_ballots) == (9, 8)


def test_every_rule_and_every_receipt_check_has_a_forgery() -> None:
    assert {c.rule for c in BAD_CHAINS} == set(range(1, 12))
    assert {c.check for c in BAD_RECEIPTS} == set(range(1, 9))


@pytest.mark.parametrize("case", BAD_CHAINS, ids=lambda c: c.name)
def test_a_quorum_signed_forgery_fails_at_its_rule(case: forge.ChainCase) -> None:
    failure = first_failure(forge.forge_chain(case))
    assert (failure.height, failure.rule) == (case.height, case.rule), str(failure)
    assert case.says in str(failure)


@pytest.mark.parametrize("case", [c for c in BAD_CHAINS if c.rule != 9], ids=lambda c: c.name)
def test_forged_blocks_carry_valid_quorum_certificates(case: forge.ChainCase) -> None:
    """What makes these forgeries worth testing: outside rule 9, every block's
    certificate is a genuine quorum's, so no verifier can stop at the certificate."""
    validators = forge.base().genesis.validator_set
    for raw in forge.forge_chain(case).raw:
        certificate = CommitCertificate.decode(raw.certificate)
        certificate.verify(
            validators, "votechain-vectors", raw.height, stored_header_hash(raw.block)
        )


@pytest.mark.parametrize("case", [c for c in BAD_CHAINS if c.vector], ids=lambda c: c.name)
def test_the_same_forgery_in_an_export_file_fails_alike(
    case: forge.ChainCase, tmp_path: Path
) -> None:
    path = tmp_path / f"{case.name}.export"
    forge.write_export_raw(forge.forge_chain(case), path)
    source = ExportSource(path)
    try:
        failure = first_failure(source)
    finally:
        source.close()
    assert (failure.height, failure.rule) == (case.height, case.rule), str(failure)


def test_a_non_canonical_block_frame_in_an_export_is_rule_1_at_its_height(
    tmp_path: Path,
) -> None:
    """The same bytes from a node's /v1/raw/blocks/4 fail rule 1 at height 4; an export
    used to report only "the file has an undecodable frame", with no height or rule."""
    path = tmp_path / "non-canonical.export"
    forge.write_export_raw(forge.forge_chain(forge.case_named("rule-01-non-canonical")), path)
    source = ExportSource(path)
    try:
        failure = first_failure(source)
    finally:
        source.close()
    assert (failure.height, failure.rule) == (4, 1)
    assert failure.subject == "export frame of block 4"
    assert "non-canonical" in failure.reason


def test_the_forgers_continue_the_chain_from_their_forged_block() -> None:
    """After the forged block the chain links to it and commits to what it stored, so a
    verifier that skipped the rule would find nothing else wrong."""
    chain = forge.forge_chain(forge.case_named("rule-11-receipt"))
    block_5, block_6 = (Block.decode(chain.raw[h - 1].block) for h in (5, 6))
    assert block_6.header.prev_hash == block_5.block_hash
    assert block_6.header.prev_receipts_root == merkle_root(chain.raw[4].receipts)


def test_a_stored_app_hash_that_differs_from_the_replay_fails_at_its_height() -> None:
    """A data directory's app hash after block 3 edited: rule 11 at height 3."""
    chain = forge.forge_chain(forge.VALID)
    assert chain.app_hashes is not None
    verify_chain(chain, workers=1)  # the honest stored hashes pass
    app_hashes = list(chain.app_hashes)
    app_hashes[3] = bytes(32)
    failure = first_failure(dataclasses.replace(chain, app_hashes=app_hashes))
    assert (failure.height, failure.rule) == (3, 11)
    assert failure.subject == "stored app hash after block 3"


def test_a_stored_genesis_app_hash_that_differs_fails_before_block_1() -> None:
    chain = forge.forge_chain(forge.VALID)
    assert chain.app_hashes is not None
    app_hashes = [bytes(32), *chain.app_hashes[1:]]
    failure = first_failure(dataclasses.replace(chain, app_hashes=app_hashes))
    assert (failure.height, failure.rule) == (0, 11)


def test_stored_state_that_differs_from_the_replay_fails_at_the_head() -> None:
    chain = forge.forge_chain(forge.VALID)
    assert chain.state is not None
    state = dict(chain.state)
    key = next(k for k in state if k.startswith(b"tally/"))
    state[key] = encoding.encode(encoding.decode(state[key]) + 1)
    failure = first_failure(dataclasses.replace(chain, state=state))
    assert (failure.height, failure.rule) == (7, 11)
    assert failure.subject == "stored state after block 7"


@pytest.mark.parametrize("case", forge_receipts.RECEIPT_CASES, ids=lambda c: c.name)
def test_a_forged_receipt_fails_at_its_check(case: forge_receipts.ReceiptCase) -> None:
    genesis = forge.base().genesis if case.pin_genesis else None
    document = case.build()
    if case.check is None:
        check = verify_receipt(document, genesis)
        assert check.accepted and check.receipt_certified
        return
    with pytest.raises(VerificationFailure) as caught:
        verify_receipt(document, genesis)
    assert caught.value.rule == case.check, str(caught.value)


def test_a_receipt_saved_before_the_next_block_proves_inclusion_only() -> None:
    document = forge_receipts.receipt_case_named("valid").build()
    document["receipt_proof"] = None
    check = verify_receipt(document, forge.base().genesis)
    assert check.accepted and not check.receipt_certified


def test_vectors_match_a_fresh_generation_and_votechains_verdicts() -> None:
    """docs/test-vectors/ is what `python -m tests.verifier.vectors --write` makes, and
    `votechain verify` / `votechain receipt verify` give each file its manifest verdict."""
    assert vectors.check_vectors() == []


def test_the_vector_check_reports_a_changed_file_and_a_wrong_verdict(tmp_path: Path) -> None:
    """The check can fail: a copy with one export byte changed (checksum and all) and
    one manifest verdict moved is reported for both."""
    copy = tmp_path / "test-vectors"
    shutil.copytree(vectors.VECTORS_DIR, copy)
    forged = copy / "chains" / "valid.export"
    data = bytearray(forged.read_bytes())
    data[-1] ^= 0x01
    forged.write_bytes(bytes(data))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["chains"][1]["expected"]["rule"] = 2
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    problems = vectors.check_vectors(copy)
    assert any("valid.export differs from a fresh generation" in p for p in problems)
    assert any("valid.export: votechain verify says {'height': None" in p for p in problems)
    assert any("rule-01-header-version.export: votechain verify says" in p for p in problems)
    assert any("manifest.json differs" in p for p in problems)
