"""Domain-separated hashing: the one table of hash domains.

Every hash votechain computes is SHA-256 over one domain byte followed by the data, so
that bytes valid as one kind of object can never be passed off as another (a Merkle
leaf as an inner node, a prepare as a commit vote, a transaction as a header).
"""

from __future__ import annotations

import hashlib
from enum import IntEnum

HASH_SIZE = 32


class Domain(IntEnum):
    """The first byte hashed for each kind of object. Values are part of the protocol."""

    TRANSACTION = 0x01
    """Sign bytes of a transaction envelope (without its signature)."""
    TRANSACTION_ID = 0x02
    """tx_id: the envelope together with its signature."""
    BLOCK_HEADER = 0x03
    """block hash: the canonical header."""
    MERKLE_LEAF = 0x04
    MERKLE_NODE = 0x05
    COMMIT_VOTE = 0x06
    """What a validator signs to commit a block: (chain_id, view, height, block_hash)."""
    CONSENSUS_MESSAGE = 0x07
    """Sign bytes of every other consensus message (pre-prepare, prepare, checkpoint, ...)."""
    WRITE_SET = 0x08
    """The sorted state writes of one block."""
    APP_HASH = 0x09
    """One link of the app hash chain."""
    GENESIS = 0x0A
    """The genesis document."""
    RECEIPT = 0x0B
    """One transaction receipt (a leaf item of the receipts Merkle tree is its encoding)."""
    GATE = 0x0C
    """Statements signed by a poll's gate key or an on-site ticket key."""
    ENROLLMENT = 0x0D
    """Reserved for attester statements outside transactions."""
    MERKLE_ROOT = 0x0E
    """A Merkle tree's root: its leaf count and top node, so a proof's position is bound."""
    CLIENT_REQUEST = 0x0F
    """Requests a client signs to the RPC with a voter key (reading one's own history);
    never valid as a transaction, a gate statement or a consensus message."""
    # Ballot cryptography (ballotcrypto/, issue 16): one domain per kind of proof, so a
    # proof of one kind is never accepted as another even where the equations agree.
    BALLOT_ZERO_ONE = 0x10
    """Challenge of a proof that an option's ciphertext encrypts 0 or 1."""
    BALLOT_SELECTION_COUNT = 0x11
    """Challenge of a proof that a question's summed ciphertext encrypts min..max."""
    BALLOT_BUDGET_BIT = 0x12
    """Challenge of a proof that one bit of a budget's slack (cap - cost) is 0 or 1."""
    DECRYPTION_SHARE = 0x13
    """Challenge of a trustee's proof that its partial decryption is correct."""
    KEY_KNOWLEDGE = 0x14
    """Challenge of a Schnorr proof that a trustee knows the secret of a public key."""
    SHARE_PAD = 0x15
    """The one-time pad that hides a key-generation share from all but its recipient."""
    SHARE_KEY_REVEAL = 0x16
    """Challenge of a recipient's proof that it reveals the right pad key of a share."""
    BALLOT_TRACKING = 0x17
    """An encrypted ballot's tracking code: the hash of its encrypted questions."""


_STARTED = {domain: hashlib.sha256(bytes((domain,))) for domain in Domain}
"""A hash of each domain byte alone, copied for each tagged hash: no concatenation of
`data` (which may be a whole block) with its domain byte."""


def tagged_hash(domain: Domain, data: bytes) -> bytes:
    """SHA-256 of the domain byte followed by `data`."""
    hashed = _STARTED[domain].copy()
    hashed.update(data)
    return hashed.digest()
