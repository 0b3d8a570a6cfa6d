"""Errors of the ballot cryptography, under votechain's one root.

Bytes that are not a valid point, scalar or message are a DecodeError (the same error
every other decoder raises), so a caller that already refuses undecodable bodies refuses
these too. A proof or share that decodes but does not verify has its own error, naming
what failed, so a receipt or a trustee report can say which part of a ballot or which
trustee was wrong.
"""

from __future__ import annotations

from chain.errors import DecodeError, VotechainError


class BallotCryptoError(VotechainError):
    """Root of the errors of ballotcrypto/ other than decoding."""


class MalformedCrypto(DecodeError):
    """Bytes that are not a canonical point, scalar or ballot-cryptography message."""


class InvalidBallotProof(BallotCryptoError):
    """A zero-knowledge proof that does not verify; `what` names the proof."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}: the proof does not verify")
        self.what = what


class InvalidShare(BallotCryptoError):
    """A key-generation share that does not match its dealer's commitments."""

    def __init__(self, dealer: int, recipient: int, why: str) -> None:
        super().__init__(f"share of dealer {dealer} for trustee {recipient}: {why}")
        self.dealer = dealer
        self.recipient = recipient


class InvalidDecryptionShare(BallotCryptoError):
    """A trustee's partial decryption whose proof of correctness fails."""

    def __init__(self, trustee: int, why: str) -> None:
        super().__init__(f"partial decryption of trustee {trustee}: {why}")
        self.trustee = trustee


class NotEnoughShares(BallotCryptoError):
    """Fewer valid partial decryptions than the threshold."""

    def __init__(self, have: int, threshold: int) -> None:
        super().__init__(f"{have} valid partial decryptions, {threshold} needed")
        self.have = have
        self.threshold = threshold


class OutOfRange(BallotCryptoError):
    """A decrypted value above the bound its discrete logarithm was searched to."""
