"""Validator sets, commit votes and commit certificates.

A validator commits block `block_hash` at `height` in `view` by signing
commit_vote_sign_bytes(chain_id, view, height, block_hash). A commit certificate is a
quorum of such signatures from distinct validators. PBFT's commit messages carry exactly
this signature, so the commit messages a replica collects are the certificate.

Quorum: with n validators, f = (n - 1) // 3 faults are tolerated and a quorum is
(n + f) // 2 + 1 distinct validators, which is 2f + 1 when n = 3f + 1. Any two quorums
share at least f + 1 validators, so at least one honest validator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from chain import encoding
from chain.errors import InvalidCertificate
from chain.hashing import HASH_SIZE, Domain, tagged_hash
from chain.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, PrivateKey, verify_signature

MAX_VALIDATORS = 256


@dataclass(frozen=True)
class ValidatorSet:
    """The ordered validator public keys; a replica's id is its index here."""

    public_keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.public_keys:
            raise ValueError("a validator set needs at least one validator")
        if len(set(self.public_keys)) != len(self.public_keys):
            raise ValueError("a validator set lists a key twice")

    @property
    def size(self) -> int:
        return len(self.public_keys)

    @property
    def max_faulty(self) -> int:
        """f: how many Byzantine validators the set tolerates."""
        return (self.size - 1) // 3

    @property
    def quorum(self) -> int:
        """How many distinct validators make a quorum (2f + 1 when n = 3f + 1)."""
        return (self.size + self.max_faulty) // 2 + 1

    @cached_property
    def index_of(self) -> dict[bytes, int]:
        return {key: i for i, key in enumerate(self.public_keys)}

    def contains(self, public_key: bytes) -> bool:
        return public_key in self.index_of


def commit_vote_sign_bytes(chain_id: str, view: int, height: int, block_hash: bytes) -> bytes:
    """What a validator signs to say it committed `block_hash` at `height` in `view`."""
    return tagged_hash(Domain.COMMIT_VOTE, encoding.encode([chain_id, view, height, block_hash]))


@dataclass(frozen=True)
class CommitSignature:
    validator: bytes
    signature: bytes


@dataclass(frozen=True)
class CommitCertificate:
    chain_id: str
    view: int
    height: int
    block_hash: bytes
    signatures: tuple[CommitSignature, ...]

    @classmethod
    def sign(
        cls,
        keys: Sequence[PrivateKey],
        chain_id: str,
        view: int,
        height: int,
        block_hash: bytes,
    ) -> CommitCertificate:
        """A certificate signed by each of `keys` (tests, tools and single-node set-ups)."""
        message = commit_vote_sign_bytes(chain_id, view, height, block_hash)
        signatures = [CommitSignature(k.public_key, k.sign(message)) for k in keys]
        return cls.from_signatures(chain_id, view, height, block_hash, signatures)

    @classmethod
    def from_signatures(
        cls,
        chain_id: str,
        view: int,
        height: int,
        block_hash: bytes,
        signatures: Sequence[CommitSignature],
    ) -> CommitCertificate:
        """A certificate with its signatures in canonical order (ascending validator key)."""
        ordered = tuple(sorted(signatures, key=lambda s: s.validator))
        return cls(chain_id, view, height, block_hash, ordered)

    @property
    def sign_bytes(self) -> bytes:
        return commit_vote_sign_bytes(self.chain_id, self.view, self.height, self.block_hash)

    def to_value(self) -> list[Any]:
        return [
            self.chain_id,
            self.view,
            self.height,
            self.block_hash,
            [[s.validator, s.signature] for s in self.signatures],
        ]

    def encode(self) -> bytes:
        return encoding.encode(self.to_value())

    @classmethod
    def from_value(cls, value: Any) -> CommitCertificate:
        fields = encoding.expect_list(value, 5, "certificate")
        raw_signatures = encoding.expect_array(fields[4], "certificate.signatures", MAX_VALIDATORS)
        signatures = []
        for item in raw_signatures:
            pair = encoding.expect_list(item, 2, "certificate.signature")
            signatures.append(
                CommitSignature(
                    encoding.expect_bytes(pair[0], "certificate.validator", PUBLIC_KEY_SIZE),
                    encoding.expect_bytes(pair[1], "certificate.signature", SIGNATURE_SIZE),
                )
            )
        return cls(
            chain_id=encoding.expect_str(fields[0], "certificate.chain_id", 64),
            view=encoding.expect_int(fields[1], "certificate.view"),
            height=encoding.expect_int(fields[2], "certificate.height", minimum=1),
            block_hash=encoding.expect_bytes(fields[3], "certificate.block_hash", HASH_SIZE),
            signatures=tuple(signatures),
        )

    @classmethod
    def decode(cls, data: bytes) -> CommitCertificate:
        return cls.from_value(encoding.decode(data))

    def verify(
        self,
        validators: ValidatorSet,
        chain_id: str | None = None,
        height: int | None = None,
        block_hash: bytes | None = None,
    ) -> None:
        """Raise InvalidCertificate unless a quorum of `validators` signed this commit.

        When `chain_id`, `height` or `block_hash` are given, the certificate must be for
        exactly those, so a valid certificate of another block cannot be passed off.
        """
        where = f"certificate for height {self.height}"
        if chain_id is not None and self.chain_id != chain_id:
            raise InvalidCertificate(
                f"{where} is for chain {self.chain_id!r}, expected {chain_id!r}"
            )
        if height is not None and self.height != height:
            raise InvalidCertificate(f"{where}: expected a certificate for height {height}")
        if block_hash is not None and self.block_hash != block_hash:
            raise InvalidCertificate(
                f"{where} certifies block {self.block_hash.hex()[:16]}, "
                f"expected {block_hash.hex()[:16]}"
            )
        seen: set[bytes] = set()
        message = self.sign_bytes
        for entry in self.signatures:
            if entry.validator in seen:
                raise InvalidCertificate(
                    f"{where} lists validator {entry.validator.hex()[:16]} twice"
                )
            seen.add(entry.validator)
            if not validators.contains(entry.validator):
                raise InvalidCertificate(
                    f"{where} is signed by {entry.validator.hex()[:16]}, not a validator"
                )
            if not verify_signature(entry.validator, entry.signature, message):
                raise InvalidCertificate(
                    f"{where} has a bad signature from validator {entry.validator.hex()[:16]}"
                )
        if len(seen) < validators.quorum:
            raise InvalidCertificate(
                f"{where} has {len(seen)} valid signatures, needs {validators.quorum}"
            )
