"""Rule 9's counting, as the auditor reads it (PROTOCOL.md 7 and 10): one valid signature
is "1 valid signature", several bad signers are all named, and a key outside the genesis
is shown by its short key alone (issue 12: mutation testing found the singular, the list
of bad signers and the names free to change).
"""

from __future__ import annotations

import pytest

from chain.block import Block, BlockHeader
from chain.certificate import CommitCertificate
from tests.verifier.forge import base, certify, quorum_signers, valid_chain
from verifier.errors import VerificationFailure
from verifier.rules import short, validate_certificate, validator_name

HEIGHT = 4


def _header() -> BlockHeader:
    return Block.decode(valid_chain().raw[HEIGHT - 1].block).header


def _refusal(certificate: CommitCertificate, valid: list[bool]) -> str:
    with pytest.raises(VerificationFailure) as caught:
        validate_certificate(base().genesis, HEIGHT, _header().block_hash, certificate, valid)
    failure = caught.value
    assert (failure.height, failure.subject, failure.rule) == (
        HEIGHT,
        f"certificate for height {HEIGHT}",
        9,
    )
    return failure.reason


def _names(certificate: CommitCertificate) -> list[str]:
    return [validator_name(base().genesis, s.validator) for s in certificate.signatures]


@pytest.mark.parametrize(
    ("count", "reason"),
    [
        (0, "has 0 valid signatures, needs 3"),
        (1, "has 1 valid signature, needs 3"),
        (2, "has 2 valid signatures, needs 3"),
    ],
)
def test_too_few_signatures_are_counted_in_words(count: int, reason: str) -> None:
    certificate = certify(_header(), signers=quorum_signers(HEIGHT, count))
    assert _refusal(certificate, [True] * count) == reason


def test_every_bad_signer_is_named_and_the_valid_ones_counted() -> None:
    certificate = certify(_header(), signers=quorum_signers(HEIGHT, 4))
    names = _names(certificate)
    assert _refusal(certificate, [False, True, False, True]) == (
        f"has a bad signature from {names[0]}, {names[2]}: 2 valid signatures, needs 3"
    )
    assert _refusal(certificate, [False, False, False, True]) == (
        f"has a bad signature from {names[0]}, {names[1]}, {names[2]}: 1 valid signature, needs 3"
    )


def test_a_quorum_of_valid_signatures_passes() -> None:
    certificate = certify(_header(), signers=quorum_signers(HEIGHT, 3))
    validate_certificate(base().genesis, HEIGHT, _header().block_hash, certificate, [True] * 3)


def test_a_validator_is_named_with_its_short_key_and_a_stranger_by_the_key_alone() -> None:
    genesis = base().genesis
    first = genesis.validators[0]
    assert validator_name(genesis, first.public_key) == f"{first.name} ({short(first.public_key)})"
    assert validator_name(genesis, bytes(32)) == "0000000000000000…"
    assert short(bytes(range(32))) == "0001020304050607…"
