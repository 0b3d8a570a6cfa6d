"""The transaction envelope.

A transaction is (version, chain_id, kind, signer, nonce, body) plus an Ed25519
signature by `signer` over tagged_hash(TRANSACTION, encode(envelope)). `body` is the
canonical encoding of a kind-specific structure that votingcontract defines; the chain
layer treats it as opaque bytes. tx_id = tagged_hash(TRANSACTION_ID, encode(envelope +
signature)): Ed25519 signatures from `cryptography` are not malleable, so a tx_id names
exactly one signed transaction. The nonce lets a signer send two otherwise equal
transactions (a revote with the same choice). A tx_id may appear only once in a chain
(PROTOCOL.md section 10, rule 7): the node refuses a replay at admission and in proposals,
and the verifier checks it; neither this module nor the state machine keeps that index.

A transaction decoded from bytes keeps them (`decode`, or `from_value` given `raw`):
encode(), tx_id, encoded_size and sign_bytes then hash or measure those bytes instead of
encoding the fields again. They are the same bytes, since decoding accepts only the
canonical encoding; only decoders set them, and dataclasses.replace() drops them. A
transaction built from fields (or decoded without its bytes, as inside a consensus
message) is encoded once, on first use, and that encoding is kept: its tx_id, size,
block size budget and the block's own encoding all reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from chain import encoding
from chain.errors import DecodeError, InvalidTransaction
from chain.hashing import Domain, tagged_hash
from chain.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, PrivateKey, verify_signature

TX_VERSION = 1
MAX_TX_BYTES = 64 * 1024
"""Largest encoded transaction accepted anywhere (RPC, mempool, blocks)."""
MAX_KIND_LENGTH = 32
MAX_CHAIN_ID_LENGTH = 64
_SIGNATURE_TAIL_BYTES = 2 + SIGNATURE_SIZE
"""The encoded signature at the end of an encoded transaction: bin 8 header, then 64 bytes."""
_ENVELOPE_ARRAY_HEADER = b"\x96"
"""msgpack fixarray header of the 6-field envelope (a transaction is the 7-field 0x97)."""


@dataclass(frozen=True)
class Transaction:
    version: int
    chain_id: str
    kind: str
    signer: bytes
    nonce: int
    body: bytes
    signature: bytes
    _raw: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """The canonical bytes this transaction was decoded from, or None (built in code)."""

    @classmethod
    def create(
        cls, key: PrivateKey, chain_id: str, kind: str, body: bytes, nonce: int
    ) -> Transaction:
        """Build and sign a transaction with `key`."""
        unsigned = cls(TX_VERSION, chain_id, kind, key.public_key, nonce, body, b"\0" * 64)
        return cls(
            TX_VERSION, chain_id, kind, key.public_key, nonce, body, key.sign(unsigned.sign_bytes)
        )

    def envelope(self) -> list[Any]:
        return [self.version, self.chain_id, self.kind, self.signer, self.nonce, self.body]

    @cached_property
    def sign_bytes(self) -> bytes:
        """The 32 bytes the signer signs."""
        if isinstance(self.signature, bytes) and len(self.signature) == SIGNATURE_SIZE:
            # The encoded transaction (kept, or encoded once for the tx_id too) is the
            # envelope's fields, then the 64-byte signature, under a 7-item array header;
            # the envelope is the same fields under a 6-item one. Both headers are one
            # byte (fixarray), both canonical.
            envelope = _ENVELOPE_ARRAY_HEADER + self.encode()[1:-_SIGNATURE_TAIL_BYTES]
            return tagged_hash(Domain.TRANSACTION, envelope)
        return tagged_hash(Domain.TRANSACTION, encoding.encode(self.envelope()))

    def to_value(self) -> list[Any]:
        return [*self.envelope(), self.signature]

    def encode(self) -> bytes:
        return self._encoded

    @cached_property
    def _encoded(self) -> bytes:
        """The canonical bytes: those decoded, or the fields encoded once (the fields
        never change: the dataclass is frozen)."""
        if self._raw is not None:
            return self._raw
        return encoding.encode(self.to_value())

    @cached_property
    def tx_id(self) -> bytes:
        return tagged_hash(Domain.TRANSACTION_ID, self.encode())

    @cached_property
    def encoded_size(self) -> int:
        """len(self.encode()), remembered: block budgets and quotas add these up often."""
        return len(self.encode())

    @classmethod
    def from_value(cls, value: Any, raw: bytes | None = None) -> Transaction:
        """The transaction whose decoded value is `value`. `raw`, if given, must be the
        canonical bytes `value` was decoded from (a decoder's slice of checked bytes)."""
        fields = encoding.expect_list(value, 7, "transaction")
        tx = cls(
            version=encoding.expect_int(fields[0], "transaction.version"),
            chain_id=encoding.expect_str(fields[1], "transaction.chain_id", MAX_CHAIN_ID_LENGTH),
            kind=encoding.expect_str(fields[2], "transaction.kind", MAX_KIND_LENGTH),
            signer=encoding.expect_bytes(fields[3], "transaction.signer", PUBLIC_KEY_SIZE),
            nonce=encoding.expect_int(fields[4], "transaction.nonce"),
            body=encoding.expect_bytes(fields[5], "transaction.body", max_length=MAX_TX_BYTES),
            signature=encoding.expect_bytes(fields[6], "transaction.signature", SIGNATURE_SIZE),
        )
        if tx.version != TX_VERSION:
            raise DecodeError(f"transaction.version: unknown version {tx.version}")
        if not tx.kind or not tx.kind.isascii():
            # Part of decoding, so every reader (mempool, proposal check, verifier) refuses
            # the same envelopes; PROTOCOL.md sections 4 and 10 (rule 1).
            raise DecodeError(f"transaction.kind: {tx.kind!r} is not a non-empty ASCII name")
        if raw is not None:
            object.__setattr__(tx, "_raw", bytes(raw))
        return tx

    @classmethod
    def decode(cls, data: bytes) -> Transaction:
        if len(data) > MAX_TX_BYTES:
            raise DecodeError(f"transaction is {len(data)} bytes, the limit is {MAX_TX_BYTES}")
        return cls.from_value(encoding.decode(data), raw=data)

    def validate_basic(self) -> None:
        """Stateless checks that need no chain id or key material."""
        if self.version != TX_VERSION:
            raise InvalidTransaction(f"unknown transaction version {self.version}")
        if not self.kind or not self.kind.isascii():
            raise InvalidTransaction(
                f"transaction kind {self.kind!r} is not a non-empty ASCII name"
            )
        if len(self.signer) != PUBLIC_KEY_SIZE or len(self.signature) != SIGNATURE_SIZE:
            raise InvalidTransaction("signer or signature has the wrong length")

    def verify(self, chain_id: str) -> None:
        """Raise InvalidTransaction unless this is well-formed, for `chain_id`, and signed."""
        self.validate_basic()
        if self.chain_id != chain_id:
            raise InvalidTransaction(
                f"wrong chain id: expected {chain_id!r}, got {self.chain_id!r}"
            )
        if not verify_signature(self.signer, self.signature, self.sign_bytes):
            raise InvalidTransaction(f"bad signature on transaction {self.tx_id.hex()}")


def tx_id_of(data: bytes) -> bytes:
    """tx_id of an encoded transaction, without decoding it."""
    return tagged_hash(Domain.TRANSACTION_ID, data)
