"""Signature checks for consensus messages and commit certificates, with a small cache.

Verifying Ed25519 signatures is most of the core's CPU. The same signature reaches a
replica several times (a Commit alone, then inside a certificate in a ViewChange, then
inside a NewView), so verified (public key, signed bytes, signature) triples are kept in
a bounded, insertion-ordered cache. The cache only remembers successes, so it can never
turn a bad signature into a good one; it is pure (no clock, no I/O).
"""

from __future__ import annotations

from chain.certificate import CommitCertificate, ValidatorSet
from chain.keys import verify_signature
from consensus.messages import Message


class SignatureVerifier:
    """Checks signatures against the validator set of one chain."""

    def __init__(self, validators: ValidatorSet, chain_id: str, cache_size: int) -> None:
        self.validators = validators
        self.chain_id = chain_id
        self._cache_size = cache_size
        self._cache: dict[bytes, None] = {}
        self.verifications = 0
        """How many signatures were actually checked (not served from the cache)."""

    def verify(self, public_key: bytes, signed: bytes, signature: bytes) -> bool:
        """True if `signature` by `public_key` over `signed` is valid."""
        entry = public_key + signed + signature
        if entry in self._cache:
            return True
        self.verifications += 1
        if not verify_signature(public_key, signature, signed):
            return False
        if len(self._cache) >= self._cache_size:
            del self._cache[next(iter(self._cache))]
        self._cache[entry] = None
        return True

    def verify_message(self, message: Message) -> bool:
        """True if `message` is signed by the validator its `replica` field names."""
        if not 0 <= message.replica < self.validators.size:
            return False
        public_key = self.validators.public_keys[message.replica]
        return self.verify(public_key, message.sign_bytes(self.chain_id), message.signature)

    def check_certificate(
        self,
        certificate: CommitCertificate,
        height: int | None = None,
        block_hash: bytes | None = None,
    ) -> str | None:
        """None if a quorum of validators signed `certificate`, else the reason it fails.

        The same rules as CommitCertificate.verify (docs/PROTOCOL.md section 7), with the
        cache in front of each signature.
        """
        where = f"certificate for h={certificate.height}"
        if certificate.chain_id != self.chain_id:
            return f"{where} is for chain {certificate.chain_id!r}"
        if height is not None and certificate.height != height:
            return f"{where}: expected height {height}"
        if block_hash is not None and certificate.block_hash != block_hash:
            return f"{where} certifies another block"
        signed = certificate.sign_bytes
        seen: set[bytes] = set()
        for entry in certificate.signatures:
            if entry.validator in seen:
                return f"{where} lists a validator twice"
            seen.add(entry.validator)
            if not self.validators.contains(entry.validator):
                return f"{where} is signed by a key outside the validator set"
            if not self.verify(entry.validator, signed, entry.signature):
                return f"{where} has a bad signature"
        if len(seen) < self.validators.quorum:
            return f"{where} has {len(seen)} signatures, needs {self.validators.quorum}"
        return None
