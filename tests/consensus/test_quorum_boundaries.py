"""Each quorum count in consensus/ at its boundary: exactly enough is accepted, one less
is refused, and a signer counted twice or from outside the validator set does not make up
the difference (issue 12; PROTOCOL.md 7 and 12; Castro & Liskov section 4.4).

n = 4 (f = 1, quorum 3) and n = 7 (f = 2, quorum 5).
"""

from __future__ import annotations

import hashlib

import pytest

from chain.block import Block, make_header
from chain.certificate import CommitCertificate, CommitSignature, ValidatorSet
from chain.keys import PrivateKey
from chain.state import ZERO_HASH
from consensus.errors import InvalidMessage
from consensus.messages import NewView, Prepare, PreparedCertificate, PrePrepare, ViewChange, sign
from consensus.signatures import SignatureVerifier
from consensus.types import Height, ReplicaConfig, ReplicaId, View
from consensus.viewchange import check_new_view, check_prepared_certificate, plan_new_view
from tests.simulation.cluster import CHAIN_ID, GENESIS_HASH, validator_key

OUTSIDER = PrivateKey.from_seed(hashlib.sha256(b"not a validator").digest())
SIZES = (4, 7)


def _config(n: int) -> ReplicaConfig:
    validators = ValidatorSet(tuple(validator_key(i).public_key for i in range(n)))
    return ReplicaConfig(CHAIN_ID, validators, ReplicaId(0))


def _verifier(config: ReplicaConfig) -> SignatureVerifier:
    return SignatureVerifier(config.validators, CHAIN_ID, 64)


def _block(height: int = 1) -> Block:
    header = make_header(
        CHAIN_ID, height, 1_000, GENESIS_HASH, (), ZERO_HASH, ZERO_HASH, validator_key(0).public_key
    )
    return Block(header, ())


def _certificate(keys: list[PrivateKey], block: Block, view: int = 0) -> CommitCertificate:
    message = CommitCertificate.sign([], CHAIN_ID, view, block.height, block.block_hash).sign_bytes
    signatures = [CommitSignature(k.public_key, k.sign(message)) for k in keys]
    return CommitCertificate.from_signatures(
        CHAIN_ID, view, block.height, block.block_hash, signatures
    )


# ---- commit certificates (state transfer, view change) ----------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_a_commit_certificate_of_exactly_a_quorum_is_accepted(n: int) -> None:
    config = _config(n)
    block = _block()
    keys = [validator_key(i) for i in range(config.quorum)]
    assert (
        _verifier(config).check_certificate(_certificate(keys, block), 1, block.block_hash) is None
    )


@pytest.mark.parametrize("n", SIZES)
def test_a_commit_certificate_one_short_is_refused(n: int) -> None:
    config = _config(n)
    block = _block()
    keys = [validator_key(i) for i in range(config.quorum - 1)]
    reason = _verifier(config).check_certificate(_certificate(keys, block))
    assert (
        reason == f"certificate for h=1 has {config.quorum - 1} signatures, needs {config.quorum}"
    )


@pytest.mark.parametrize("n", SIZES)
def test_a_signer_listed_twice_does_not_complete_a_certificate(n: int) -> None:
    config = _config(n)
    keys = [validator_key(i) for i in range(config.quorum - 1)]
    reason = _verifier(config).check_certificate(_certificate([*keys, keys[0]], _block()))
    assert reason == "certificate for h=1 lists a validator twice"


@pytest.mark.parametrize("n", SIZES)
def test_a_non_validator_signature_does_not_complete_a_certificate(n: int) -> None:
    config = _config(n)
    keys = [validator_key(i) for i in range(config.quorum - 1)]
    reason = _verifier(config).check_certificate(_certificate([*keys, OUTSIDER], _block()))
    assert reason == "certificate for h=1 is signed by a key outside the validator set"


# ---- prepared certificates (view change) -----------------------------------------------


def _prepared(config: ReplicaConfig, preparers: list[int], block: Block) -> PreparedCertificate:
    view = View(0)
    pre_prepare = sign(PrePrepare(view, Height(1), block, ReplicaId(0)), validator_key(0), CHAIN_ID)
    prepares = tuple(
        sign(Prepare(view, Height(1), block.block_hash, ReplicaId(i)), validator_key(i), CHAIN_ID)
        for i in preparers
    )
    return PreparedCertificate(pre_prepare, prepares)


@pytest.mark.parametrize("n", SIZES)
def test_a_prepared_certificate_with_2f_prepares_is_accepted(n: int) -> None:
    config = _config(n)
    certificate = _prepared(config, list(range(1, config.quorum)), _block())
    check_prepared_certificate(certificate, config, _verifier(config))


@pytest.mark.parametrize("n", SIZES)
def test_a_prepared_certificate_with_2f_minus_1_prepares_is_refused(n: int) -> None:
    config = _config(n)
    certificate = _prepared(config, list(range(1, config.quorum - 1)), _block())
    with pytest.raises(InvalidMessage, match=f"has {config.quorum - 2} prepares, needs"):
        check_prepared_certificate(certificate, config, _verifier(config))


@pytest.mark.parametrize("n", SIZES)
def test_a_prepare_counted_twice_does_not_complete_a_prepared_certificate(n: int) -> None:
    config = _config(n)
    preparers = list(range(1, config.quorum - 1))
    certificate = _prepared(config, [*preparers, preparers[0]], _block())
    with pytest.raises(InvalidMessage, match="counted twice"):
        check_prepared_certificate(certificate, config, _verifier(config))


@pytest.mark.parametrize("n", SIZES)
def test_a_prepare_signed_by_a_non_validator_does_not_count(n: int) -> None:
    config = _config(n)
    block = _block()
    certificate = _prepared(config, list(range(1, config.quorum - 1)), block)
    forged = sign(
        Prepare(View(0), Height(1), block.block_hash, ReplicaId(config.quorum - 1)),
        OUTSIDER,
        CHAIN_ID,
    )
    certificate = PreparedCertificate(certificate.pre_prepare, (*certificate.prepares, forged))
    with pytest.raises(InvalidMessage, match="bad prepare"):
        check_prepared_certificate(certificate, config, _verifier(config))


# ---- NewView ---------------------------------------------------------------------------


def _new_view(senders: list[int], signer_of: dict[int, PrivateKey] | None = None) -> NewView:
    view = View(1)
    signer_of = signer_of or {}
    view_changes = tuple(
        sign(ViewChange(view, ReplicaId(i), None, ()), signer_of.get(i, validator_key(i)), CHAIN_ID)
        for i in senders
    )
    plan = plan_new_view(view, view_changes)
    assert plan.reproposals == ()
    return sign(NewView(view, ReplicaId(1), view_changes, ()), validator_key(1), CHAIN_ID)


@pytest.mark.parametrize("n", SIZES)
def test_a_new_view_of_exactly_a_quorum_of_view_changes_is_accepted(n: int) -> None:
    config = _config(n)
    plan = check_new_view(_new_view(list(range(config.quorum))), config, _verifier(config))
    assert plan.view == 1


@pytest.mark.parametrize("n", SIZES)
def test_a_new_view_one_view_change_short_is_refused(n: int) -> None:
    config = _config(n)
    new_view = _new_view(list(range(config.quorum - 1)))
    with pytest.raises(InvalidMessage, match=f"holds {config.quorum - 1} view-changes"):
        check_new_view(new_view, config, _verifier(config))


@pytest.mark.parametrize("n", SIZES)
def test_a_view_change_counted_twice_does_not_complete_a_new_view(n: int) -> None:
    config = _config(n)
    senders = list(range(config.quorum - 1))
    with pytest.raises(InvalidMessage, match="two view-changes from r0"):
        check_new_view(_new_view([*senders, senders[0]]), config, _verifier(config))


@pytest.mark.parametrize("n", SIZES)
def test_a_view_change_signed_by_a_non_validator_does_not_count(n: int) -> None:
    config = _config(n)
    last = config.quorum - 1
    new_view = _new_view(list(range(config.quorum)), {last: OUTSIDER})
    with pytest.raises(InvalidMessage, match=f"view-change from r{last}: bad signature"):
        check_new_view(new_view, config, _verifier(config))
