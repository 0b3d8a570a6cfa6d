"""What a proof is bound to, so that it verifies in one place only.

Every challenge hashes a context before its statement. A voter's proofs name the chain,
the poll, the voter's key and the place in the ballot (question, option), so a ballot
copied into another voter's transaction, another poll or another chain fails. A
trustee's proofs name the chain, the poll and the trustee's index.
"""

from __future__ import annotations

from dataclasses import dataclass

from chain.encoding import Value

NO_OPTION = 0xFFFF
"""The `option` of a proof about a whole question (its selection count, its budget)."""


@dataclass(frozen=True, slots=True)
class BallotContext:
    """Where a voter's proof belongs: [chain_id, poll_id, voter_key, question, option]."""

    chain_id: str
    poll_id: bytes
    voter_key: bytes
    question: int
    option: int = NO_OPTION

    def at(self, question: int, option: int = NO_OPTION) -> BallotContext:
        """The same ballot, another place in it."""
        return BallotContext(self.chain_id, self.poll_id, self.voter_key, question, option)

    def fields(self) -> list[Value]:
        return [self.chain_id, self.poll_id, self.voter_key, self.question, self.option]


class Purpose:
    """What a trustee's proof is for: the last field of its context, so a proof made for
    one step of the protocol never verifies as another's."""

    TRANSPORT_KEY = "transport-key"
    """Knowledge of the secret of the key shares are encrypted to (Schnorr)."""
    COEFFICIENT = "coefficient"
    """Knowledge of the constant term of the trustee's polynomial (Schnorr)."""
    DECRYPTION = "decryption"
    """A partial decryption of the tally (Chaum-Pedersen)."""
    REVEAL = "reveal"
    """A recipient's revealed pad key of a share it complains about (Chaum-Pedersen)."""


@dataclass(frozen=True, slots=True)
class TrusteeContext:
    """Where a trustee's proof belongs: [chain_id, poll_id, trustee, purpose]; `trustee`
    is the 1-based index of the trustee that makes the proof."""

    chain_id: str
    poll_id: bytes
    trustee: int
    purpose: str

    def fields(self) -> list[Value]:
        return [self.chain_id, self.poll_id, self.trustee, self.purpose]


Context = BallotContext | TrusteeContext
