"""Every error votechain raises descends from VotechainError.

The hierarchy follows the objects a user or auditor hands us: bytes that do not decode,
transactions, blocks, certificates, proofs. Each error carries a message that says what
was expected and what came, so that the person reading it can act.
"""


class VotechainError(Exception):
    """Root of every votechain error."""


class DecodeError(VotechainError):
    """Bytes that are not the canonical encoding of the expected structure."""


class InvalidTransaction(VotechainError):
    """A transaction envelope that is malformed, for another chain, or badly signed."""


class InvalidBlock(VotechainError):
    """A block or header that breaks a structural or chain-linkage rule."""


class InvalidCertificate(VotechainError):
    """A commit certificate that does not prove a quorum of validators committed a block."""


class InvalidProof(VotechainError):
    """A Merkle inclusion proof that is malformed."""


class InvalidGenesis(VotechainError):
    """A genesis document that is malformed or inconsistent."""


class StoreError(VotechainError):
    """The block store refused an operation that would break its invariants."""


class StoreWriteError(StoreError):
    """The disk refused a durable write (ENOSPC, EIO, a LevelDB background error).

    Nothing that depends on the write may follow it: the node stops (fail-stop), and
    LevelDB keeps refusing every later write once one failed, so retrying is no cure.
    """


class KeyFileError(VotechainError):
    """A key file that is missing, unreadable or not an Ed25519 private key."""
