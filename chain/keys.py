"""Ed25519 keys: generate, derive from a seed, sign, verify. Pure: no file I/O here
(chain/keyfile.py saves and loads key files), so the pure cores may import it.

Public keys travel as 32 raw bytes everywhere in the protocol; signatures are 64 bytes.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from chain.sodium import library

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
SEED_SIZE = 32


@dataclass(frozen=True)
class PrivateKey:
    """An Ed25519 signing key with its 32-byte public key."""

    _key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> PrivateKey:
        """Deterministic key from a 32-byte seed (gate keys, tests, simulations)."""
        if len(seed) != SEED_SIZE:
            raise ValueError(f"an Ed25519 seed is {SEED_SIZE} bytes, got {len(seed)}")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def seed(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def to_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True if `signature` is a valid Ed25519 signature of `message` by `public_key`, by
    the rule of PROTOCOL.md section 3 (OpenSSL's).

    libsodium checks first, at twice OpenSSL's speed (every node checks every ballot's
    signature, issue 13). What it accepts OpenSSL accepts too: the same cofactorless
    equation with R compared as bytes and S < L, plus refusals of its own (small-order A
    or R, a non-canonical A). So only what libsodium refuses is asked of OpenSSL, whose
    answer is the rule; tests/chain/test_ed25519_rules.py holds both to that.
    """
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    if sodium_accepts(public_key, signature, message):
        return True
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def sodium_accepts(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """libsodium's answer alone (stricter than the protocol's rule; see verify_signature)."""
    length = ctypes.c_ulonglong(len(message))
    status: int = library.crypto_sign_verify_detached(signature, message, length, public_key)
    return status == 0
