"""The checks of docs/PROTOCOL.md section 10, one function per rule or small group,
in the order the section lists them. Each raises VerificationFailure naming the height,
the object and the reason; none has side effects, so the replay (replay.py) and the
receipt checks (receipts.py) share them.

Signature checks are split in two: the Ed25519 verifications themselves run wherever
the caller likes (a process pool, signatures.py) and arrive here as one bool per
signature, so the messages and the order of the rules stay in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chain.block import HEADER_VERSION, MAX_BLOCK_BYTES, Block, BlockHeader
from chain.certificate import CommitCertificate
from chain.errors import DecodeError, VotechainError
from chain.genesis import Genesis
from chain.merkle import merkle_root
from chain.tx import MAX_TX_BYTES, TX_VERSION
from verifier.errors import VerificationFailure

SignatureItem = tuple[bytes, bytes, bytes]
"""(public key, signature, the 32 bytes signed): one Ed25519 verification."""


def short(value: bytes) -> str:
    return value.hex()[:16] + "…"


def decode_block(height: int, data: bytes, value: Any = None) -> Block:
    """Rule 1: the block decodes canonically and its header version is 1.

    `value`, if given, is what `data` decodes to, already checked canonical by the
    source (RawBlock.block_value): the block is built from it without decoding again."""
    try:
        if value is not None:
            if len(data) > MAX_BLOCK_BYTES:
                raise DecodeError(f"block is {len(data)} bytes, the limit is {MAX_BLOCK_BYTES}")
            return Block.from_value(value, raw=data)
        return Block.decode(data)
    except VotechainError as exc:
        raise VerificationFailure(height, f"block {height}", f"does not decode: {exc}", 1) from exc


def validate_header(
    genesis: Genesis,
    height: int,
    header: BlockHeader,
    prev_hash: bytes,
    prev_timestamp_ms: int,
) -> None:
    """Rules 1 (version), 2 (chain id), 3 (height, link), 4 (time), 5 (proposer)."""
    subject = f"header of block {height}"
    if header.version != HEADER_VERSION:
        raise VerificationFailure(height, subject, f"has version {header.version}", 1)
    if header.chain_id != genesis.chain_id:
        raise VerificationFailure(
            height, subject, f"is for chain {header.chain_id!r}, not {genesis.chain_id!r}", 2
        )
    if header.height != height:
        raise VerificationFailure(height, subject, f"says height {header.height}", 3)
    if header.prev_hash != prev_hash:
        parent = "genesis" if height == 1 else f"block {height - 1}"
        raise VerificationFailure(
            height,
            subject,
            f"has prev_hash {short(header.prev_hash)}, but {parent} hashes to {short(prev_hash)}",
            3,
        )
    if header.timestamp_ms <= prev_timestamp_ms:
        raise VerificationFailure(
            height,
            subject,
            f"has timestamp {header.timestamp_ms}, not after its parent's {prev_timestamp_ms}",
            4,
        )
    if not genesis.validator_set.contains(header.proposer):
        raise VerificationFailure(
            height, subject, f"names proposer {short(header.proposer)}, not a validator", 5
        )


def validate_transactions(
    genesis: Genesis, height: int, block: Block, seen_tx_ids: set[bytes]
) -> list[bytes]:
    """Rules 2 (tx chain ids), 6 (tx_root) and 7 (no tx_id twice); returns the tx_ids.

    `seen_tx_ids` holds every earlier block's tx_ids; it is not changed here.
    """
    for position, tx in enumerate(block.transactions):
        if len(tx.encode()) > MAX_TX_BYTES:
            raise VerificationFailure(
                height, f"transaction {position} of block {height}", "is too large", 1
            )
        if tx.chain_id != genesis.chain_id or tx.version != TX_VERSION:
            raise VerificationFailure(
                height,
                f"transaction {position} of block {height}",
                f"is for chain {tx.chain_id!r} (version {tx.version}), not {genesis.chain_id!r}",
                2,
            )
    tx_ids = [tx.tx_id for tx in block.transactions]
    root = merkle_root(tx_ids)
    if root != block.header.tx_root:
        raise VerificationFailure(
            height,
            f"block {height}",
            f"has tx_root {short(block.header.tx_root)}, its {len(tx_ids)} transactions "
            f"give {short(root)}",
            6,
        )
    in_block: set[bytes] = set()
    for position, tx_id in enumerate(tx_ids):
        if tx_id in in_block or tx_id in seen_tx_ids:
            where = "earlier in this block" if tx_id in in_block else "in an earlier block"
            raise VerificationFailure(
                height,
                f"transaction {position} of block {height}",
                f"({short(tx_id)}) was already committed {where}",
                7,
            )
        in_block.add(tx_id)
    return tx_ids


def signature_items(block: Block, certificate: CommitCertificate | None) -> list[SignatureItem]:
    """Every Ed25519 verification rules 8 and 9 need: transactions first, then the
    certificate's signatures, in their order."""
    items = [(tx.signer, tx.signature, tx.sign_bytes) for tx in block.transactions]
    if certificate is not None:
        message = certificate.sign_bytes
        items.extend((s.validator, s.signature, message) for s in certificate.signatures)
    return items


def validate_tx_signatures(height: int, block: Block, valid: Sequence[bool]) -> None:
    """Rule 8: every transaction's signature verified (`valid`, in block order)."""
    for position, ok in enumerate(valid[: len(block.transactions)]):
        if not ok:
            tx = block.transactions[position]
            raise VerificationFailure(
                height,
                f"transaction {position} of block {height}",
                f"({short(tx.tx_id)}, {tx.kind}) has a bad signature by {short(tx.signer)}",
                8,
            )


def decode_certificate(height: int, data: bytes) -> CommitCertificate:
    try:
        return CommitCertificate.decode(data)
    except VotechainError as exc:
        raise VerificationFailure(
            height, f"certificate for height {height}", f"does not decode: {exc}", 9
        ) from exc


def validate_certificate(
    genesis: Genesis,
    height: int,
    block_hash: bytes,
    certificate: CommitCertificate,
    valid: Sequence[bool],
) -> None:
    """Rule 9 (PROTOCOL.md section 7): the certificate proves block `block_hash` at
    `height`. `valid` says, for each listed signature in order, whether it verified."""
    subject = f"certificate for height {height}"
    validators = genesis.validator_set
    if certificate.chain_id != genesis.chain_id:
        raise VerificationFailure(
            height, subject, f"is for chain {certificate.chain_id!r}, not {genesis.chain_id!r}", 9
        )
    if certificate.height != height:
        raise VerificationFailure(height, subject, f"says height {certificate.height}", 9)
    if certificate.block_hash != block_hash:
        raise VerificationFailure(
            height,
            subject,
            f"certifies block {short(certificate.block_hash)}, but the block at this height "
            f"hashes to {short(block_hash)}",
            9,
        )
    seen: set[bytes] = set()
    bad: list[str] = []
    for entry, ok in zip(certificate.signatures, valid, strict=True):
        name = validator_name(genesis, entry.validator)
        if entry.validator in seen:
            raise VerificationFailure(height, subject, f"lists validator {name} twice", 9)
        seen.add(entry.validator)
        if not validators.contains(entry.validator):
            raise VerificationFailure(height, subject, f"is signed by {name}, not a validator", 9)
        if not ok:
            bad.append(name)
    count = len(seen) - len(bad)
    if bad:
        raise VerificationFailure(
            height,
            subject,
            f"has a bad signature from {', '.join(bad)}: {count} valid "
            f"signature{'' if count == 1 else 's'}, needs {validators.quorum}",
            9,
        )
    if count < validators.quorum:
        raise VerificationFailure(
            height,
            subject,
            f"has {count} valid signature{'' if count == 1 else 's'}, needs {validators.quorum}",
            9,
        )


def validator_name(genesis: Genesis, key: bytes) -> str:
    """`n2 (ab12…)` for a genesis validator, the short key otherwise."""
    for named in genesis.validators:
        if named.public_key == key:
            return f"{named.name} ({short(key)})"
    return short(key)
