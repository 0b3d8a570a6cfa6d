"""Partial decryption by trustees, its proof, and the combination of any k shares.

Trustee j with secret share s_j and verification key S_j = s_j·G (dkg.py, K3) answers a
ciphertext (alpha, beta) with D_j = s_j·alpha and a Chaum-Pedersen proof (dleq.py, domain
DECRYPTION_SHARE, context [chain_id, poll_id, j, "decryption"]) that log_G S_j = log_alpha D_j.
From valid shares of any set J of k trustees:

    λ_j = Π_{m∈J, m≠j} m·(m - j)⁻¹ mod L                                     (P1)
    m·G = beta - Σ_{j∈J} λ_j·D_j                                                 (P2)

and m by a bounded discrete log (dlog.py). A partial decryption is
[trustee, [D_1, …], [proof_1, …]], one D and one proof per ciphertext of the tally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ballotcrypto import dleq, group
from ballotcrypto.context import Purpose, TrusteeContext
from ballotcrypto.dkg import MAX_TRUSTEES
from ballotcrypto.dleq import DleqProof
from ballotcrypto.dlog import BoundedLog
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.errors import InvalidDecryptionShare, NotEnoughShares
from ballotcrypto.group import L, Point
from chain.encoding import Value, expect_array, expect_int, expect_list
from chain.hashing import Domain

MAX_CIPHERTEXTS = 4096
"""Options of a poll, all questions together, that one partial decryption may cover."""


@dataclass(frozen=True, slots=True)
class PartialDecryption:
    trustee: int
    shares: tuple[Point, ...]
    proofs: tuple[DleqProof, ...]

    def to_value(self) -> list[Value]:
        return [
            self.trustee,
            [share.encoding for share in self.shares],
            [proof.to_value() for proof in self.proofs],
        ]

    @classmethod
    def from_value(cls, value: Any) -> PartialDecryption:
        fields = expect_list(value, 3, "partial decryption")
        trustee = expect_int(
            fields[0], "partial decryption.trustee", minimum=1, maximum=MAX_TRUSTEES
        )
        shares = expect_array(fields[1], "partial decryption.shares", MAX_CIPHERTEXTS)
        proofs = expect_array(fields[2], "partial decryption.proofs", MAX_CIPHERTEXTS)
        return cls(
            trustee,
            tuple(
                group.point_from_bytes(s, f"partial decryption.shares[{i}]", allow_identity=True)
                for i, s in enumerate(shares)
            ),
            tuple(
                dleq.decode_proof(p, f"partial decryption.proofs[{i}]")
                for i, p in enumerate(proofs)
            ),
        )


@dataclass(frozen=True, slots=True)
class TallyOutcome:
    """What the trustees' shares gave: the counts when k valid shares were there, else
    None ("awaiting trustees"); every rejected share with its reason."""

    counts: tuple[int, ...] | None
    valid: tuple[int, ...]
    rejected: tuple[tuple[int, str], ...]


def partial_decrypt(
    chain_id: str,
    poll_id: bytes,
    trustee: int,
    secret_share: int,
    ciphertexts: Sequence[Ciphertext],
    nonces: Sequence[int],
) -> PartialDecryption:
    """Trustee's D_j and proof for each ciphertext; one fresh nonce per ciphertext."""
    if len(nonces) != len(ciphertexts):
        raise ValueError(f"{len(nonces)} nonces for {len(ciphertexts)} ciphertexts")
    context = TrusteeContext(chain_id, poll_id, trustee, Purpose.DECRYPTION)
    shares, proofs = [], []
    for ciphertext, w in zip(ciphertexts, nonces, strict=True):
        share = group.mul(secret_share, ciphertext.alpha)
        shares.append(share)
        proofs.append(
            dleq.prove(Domain.DECRYPTION_SHARE, context, secret_share, ciphertext.alpha, share, w)
        )
    return PartialDecryption(trustee, tuple(shares), tuple(proofs))


def validate_partial(
    chain_id: str,
    poll_id: bytes,
    verification_key: Point,
    ciphertexts: Sequence[Ciphertext],
    partial: PartialDecryption,
) -> None:
    """Raises InvalidDecryptionShare naming the trustee and the first bad ciphertext."""
    if len(partial.shares) != len(ciphertexts) or len(partial.proofs) != len(ciphertexts):
        raise InvalidDecryptionShare(
            partial.trustee,
            f"{len(partial.shares)} shares and {len(partial.proofs)} proofs "
            f"for {len(ciphertexts)} ciphertexts",
        )
    context = TrusteeContext(chain_id, poll_id, partial.trustee, Purpose.DECRYPTION)
    for i, (ciphertext, share, proof) in enumerate(
        zip(ciphertexts, partial.shares, partial.proofs, strict=True)
    ):
        if not dleq.verify(
            Domain.DECRYPTION_SHARE, context, verification_key, ciphertext.alpha, share, proof
        ):
            raise InvalidDecryptionShare(partial.trustee, f"the proof of ciphertext {i} fails")


def lagrange_at_zero(indices: Sequence[int]) -> dict[int, int]:
    """λ_j of (P1) for each j of `indices` (distinct, 1-based)."""
    if len(set(indices)) != len(indices) or any(j % L == 0 for j in indices):
        raise ValueError(f"trustee indices {list(indices)} are not distinct and nonzero")
    coefficients = {}
    for j in indices:
        numerator, denominator = 1, 1
        for m in indices:
            if m != j:
                numerator = numerator * m % L
                denominator = denominator * (m - j) % L
        coefficients[j] = numerator * group.inverse(denominator) % L
    return coefficients


def combine(
    ciphertexts: Sequence[Ciphertext], partials: Sequence[PartialDecryption], threshold: int
) -> list[Point]:
    """m·G for each ciphertext (P2) from already validated partials of at least
    `threshold` distinct trustees (the first `threshold` by index are used)."""
    by_trustee = {partial.trustee: partial for partial in partials}
    if len(by_trustee) < threshold:
        raise NotEnoughShares(len(by_trustee), threshold)
    chosen = sorted(by_trustee)[:threshold]
    lambdas = lagrange_at_zero(chosen)
    points = []
    for i, ciphertext in enumerate(ciphertexts):
        mask = group.IDENTITY
        for j in chosen:
            mask = group.add(mask, group.mul(lambdas[j], by_trustee[j].shares[i]))
        points.append(group.sub(ciphertext.beta, mask))
    return points


def tally(
    chain_id: str,
    poll_id: bytes,
    ciphertexts: Sequence[Ciphertext],
    partials: Sequence[PartialDecryption],
    verification_keys: Mapping[int, Point],
    threshold: int,
    table: BoundedLog,
) -> TallyOutcome:
    """Validate every partial (a wrong one is named and left out), then decrypt the
    counts from `threshold` valid ones, or report that too few are valid."""
    valid: list[PartialDecryption] = []
    rejected: list[tuple[int, str]] = []
    seen: set[int] = set()
    for partial in partials:
        if partial.trustee in seen:
            rejected.append((partial.trustee, "a second partial decryption"))
            continue
        seen.add(partial.trustee)
        key = verification_keys.get(partial.trustee)
        if key is None:
            rejected.append((partial.trustee, "not a trustee of this poll"))
            continue
        try:
            validate_partial(chain_id, poll_id, key, ciphertexts, partial)
        except InvalidDecryptionShare as exc:
            rejected.append((partial.trustee, str(exc)))
            continue
        valid.append(partial)
    indices = tuple(sorted(p.trustee for p in valid))
    if len(valid) < threshold:
        return TallyOutcome(None, indices, tuple(rejected))
    points = combine(ciphertexts, valid, threshold)
    return TallyOutcome(tuple(table.log(point) for point in points), indices, tuple(rejected))
