"""A refused prepared certificate says which rule it broke, with the numbers (PROTOCOL.md
12.6; Castro & Liskov section 4.4).

A replica logs why it dropped a view change; an operator reading "has 1 prepares, needs 2"
or "pre-prepare by r1, view 0 is led by r0" can tell a faulty peer from a bug.
test_quorum_boundaries.py holds the counts; these hold the words.
"""

from __future__ import annotations

import pytest

from chain.block import Block, make_header
from chain.certificate import ValidatorSet
from chain.state import ZERO_HASH
from consensus.errors import InvalidMessage
from consensus.messages import Prepare, PreparedCertificate, PrePrepare, sign
from consensus.signatures import SignatureVerifier
from consensus.types import Height, ReplicaConfig, ReplicaId, View
from consensus.viewchange import check_prepared_certificate
from tests.simulation.cluster import CHAIN_ID, GENESIS_HASH, validator_key


def _config(n: int) -> ReplicaConfig:
    validators = ValidatorSet(tuple(validator_key(i).public_key for i in range(n)))
    return ReplicaConfig(CHAIN_ID, validators, ReplicaId(0))


def _check(certificate: PreparedCertificate, config: ReplicaConfig) -> None:
    check_prepared_certificate(
        certificate, config, SignatureVerifier(config.validators, CHAIN_ID, 64)
    )


def _block(timestamp_ms: int = 1_000) -> Block:
    proposer = validator_key(0).public_key
    header = make_header(
        CHAIN_ID, 1, timestamp_ms, GENESIS_HASH, (), ZERO_HASH, ZERO_HASH, proposer
    )
    return Block(header, ())


def _pre_prepare(block: Block, replica: int = 0, signer: int = 0) -> PrePrepare:
    message = PrePrepare(View(0), Height(1), block, ReplicaId(replica))
    return sign(message, validator_key(signer), CHAIN_ID)


def _prepare(block_hash: bytes, replica: int) -> Prepare:
    message = Prepare(View(0), Height(1), block_hash, ReplicaId(replica))
    return sign(message, validator_key(replica), CHAIN_ID)


@pytest.mark.parametrize(("n", "preparers"), [(4, 1), (7, 3)])
def test_a_short_certificate_is_refused_naming_its_count_and_the_2f_needed(
    n: int, preparers: int
) -> None:
    block = _block()
    prepares = tuple(_prepare(block.block_hash, i) for i in range(1, preparers + 1))
    certificate = PreparedCertificate(_pre_prepare(block), prepares)
    needed = 2 * ((n - 1) // 3)
    with pytest.raises(
        InvalidMessage,
        match=rf"^prepared certificate h=1 has {preparers} prepares, needs {needed}$",
    ):
        _check(certificate, _config(n))


def test_a_pre_prepare_by_a_backup_is_refused_naming_the_views_primary() -> None:
    block = _block()
    prepares = (_prepare(block.block_hash, 2), _prepare(block.block_hash, 3))
    certificate = PreparedCertificate(_pre_prepare(block, replica=1, signer=1), prepares)
    with pytest.raises(
        InvalidMessage, match=r"^prepared certificate h=1: pre-prepare by r1, view 0 is led by r0$"
    ):
        _check(certificate, _config(4))


def test_a_pre_prepare_signed_by_another_key_is_refused_as_bad() -> None:
    block = _block()
    prepares = (_prepare(block.block_hash, 1), _prepare(block.block_hash, 2))
    certificate = PreparedCertificate(_pre_prepare(block, replica=0, signer=1), prepares)
    with pytest.raises(InvalidMessage, match=r"^prepared certificate h=1: bad pre-prepare$"):
        _check(certificate, _config(4))


def test_a_prepare_for_another_block_is_refused_naming_its_height_view_and_block() -> None:
    block, other = _block(), _block(timestamp_ms=2_000)
    prepares = (_prepare(block.block_hash, 1), _prepare(other.block_hash, 2))
    certificate = PreparedCertificate(_pre_prepare(block), prepares)
    expected = (
        rf"^prepared certificate for h=1 v=0 holds a prepare for h=1 v=0 "
        rf"block={other.block_hash.hex()[:8]}$"
    )
    with pytest.raises(InvalidMessage, match=expected):
        certificate.validate_basic()


def test_a_prepare_by_the_primary_is_refused_as_counted_twice_or_the_primary() -> None:
    block = _block()
    prepares = (_prepare(block.block_hash, 0), _prepare(block.block_hash, 1))
    certificate = PreparedCertificate(_pre_prepare(block), prepares)
    with pytest.raises(
        InvalidMessage,
        match=r"^prepared certificate for h=1: replica 0 counted twice or is the primary$",
    ):
        certificate.validate_basic()
