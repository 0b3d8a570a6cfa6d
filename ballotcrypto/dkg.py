"""Threshold key generation without a dealer: k of n trustees, verifiable shares.

The joint-Feldman protocol of Pedersen (EUROCRYPT '91) as Belenios' threshold mode runs
it, on the chain as a bulletin board. Trustees are numbered 1..n in the poll's spec.

1. Transport key: trustee j posts T_j = t_j·G with a Schnorr proof (purpose
   "transport-key"). Shares for j are encrypted to T_j (transport.py).
2. Dealing: trustee i picks secret coefficients a_{i,0..k-1} and posts a `Dealing`: the
   commitments C_{i,m} = a_{i,m}·G (vss.py), a Schnorr proof of a_{i,0} (purpose
   "coefficient"), and for every trustee j = 1..n (itself included) the share
   f_i(j) encrypted to T_j.
3. Checking: trustee j decrypts each share and checks it against the dealer's
   commitments (V2); for a share that fails it posts a `Complaint` revealing the pad key.
   Anyone judges a complaint (transport.open_revealed_share): an upheld complaint
   disqualifies the dealer.
4. The qualified dealers Q (valid dealings, no upheld complaint; at least k of them) fix
       Y = Σ_{i∈Q} C_{i,0}                      the poll's public key         (K1)
       s_j = Σ_{i∈Q} f_i(j)                     trustee j's secret share      (K2)
       S_j = Σ_{i∈Q} Σ_m j^m·C_{i,m} = s_j·G    trustee j's verification key  (K3)
   Any k of the s_j determine x = Σ_{i∈Q} a_{i,0} by Lagrange interpolation at 0; no
   k - 1 of them say anything about it.

Every message here is a frozen dataclass with `to_value` (the array its canonical
encoding holds) and a `from_value` that refuses malformed input naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ballotcrypto import dleq, group, schnorr, transport, vss
from ballotcrypto.context import Purpose, TrusteeContext
from ballotcrypto.errors import InvalidBallotProof, InvalidShare, MalformedCrypto
from ballotcrypto.group import IDENTITY, L, Point
from ballotcrypto.schnorr import SchnorrProof
from ballotcrypto.transport import PadKeyReveal
from chain.encoding import Value, expect_array, expect_int, expect_list

MAX_TRUSTEES = 64
"""More trustees than a city's election board has members; bounds every array here."""


@dataclass(frozen=True, slots=True)
class TransportKey:
    """[trustee, T_j, proof]: step 1."""

    trustee: int
    public: Point
    proof: SchnorrProof

    def to_value(self) -> list[Value]:
        return [self.trustee, self.public.encoding, self.proof.to_value()]

    @classmethod
    def from_value(cls, value: Any) -> TransportKey:
        fields = expect_list(value, 3, "transport key")
        return cls(
            _trustee(fields[0], "transport key.trustee"),
            group.point_from_bytes(fields[1], "transport key.public"),
            schnorr.decode_proof(fields[2], "transport key.proof"),
        )


@dataclass(frozen=True, slots=True)
class EncryptedShare:
    """[E, z] of transport.py for one recipient."""

    ephemeral: Point
    masked: int

    def to_value(self) -> list[Value]:
        return [self.ephemeral.encoding, group.scalar_to_bytes(self.masked)]


@dataclass(frozen=True, slots=True)
class Dealing:
    """[dealer, [C_0..C_{k-1}], proof of a_0, [share for 1, …, share for n]]: step 2."""

    dealer: int
    commitments: tuple[Point, ...]
    proof: SchnorrProof
    shares: tuple[EncryptedShare, ...]

    def to_value(self) -> list[Value]:
        return [
            self.dealer,
            [c.encoding for c in self.commitments],
            self.proof.to_value(),
            [share.to_value() for share in self.shares],
        ]

    @classmethod
    def from_value(cls, value: Any) -> Dealing:
        fields = expect_list(value, 4, "dealing")
        dealer = _trustee(fields[0], "dealing.dealer")
        raw_commitments = expect_array(fields[1], "dealing.commitments", MAX_TRUSTEES)
        raw_shares = expect_array(fields[3], "dealing.shares", MAX_TRUSTEES)
        shares = []
        for j, raw in enumerate(raw_shares, start=1):
            pair = expect_list(raw, 2, f"dealing.shares[{j}]")
            shares.append(
                EncryptedShare(
                    group.point_from_bytes(pair[0], f"dealing.shares[{j}].ephemeral"),
                    group.scalar_from_bytes(pair[1], f"dealing.shares[{j}].masked"),
                )
            )
        return cls(
            dealer,
            tuple(
                group.point_from_bytes(c, f"dealing.commitments[{m}]")
                for m, c in enumerate(raw_commitments)
            ),
            schnorr.decode_proof(fields[2], "dealing.proof"),
            tuple(shares),
        )


@dataclass(frozen=True, slots=True)
class Complaint:
    """[dealer, recipient, K, proof]: step 3, a recipient's complaint about a share."""

    dealer: int
    recipient: int
    reveal: PadKeyReveal

    def to_value(self) -> list[Value]:
        return [
            self.dealer,
            self.recipient,
            self.reveal.pad_key.encoding,
            self.reveal.proof.to_value(),
        ]

    @classmethod
    def from_value(cls, value: Any) -> Complaint:
        fields = expect_list(value, 4, "complaint")
        return cls(
            _trustee(fields[0], "complaint.dealer"),
            _trustee(fields[1], "complaint.recipient"),
            PadKeyReveal(
                group.point_from_bytes(fields[2], "complaint.pad_key"),
                dleq.decode_proof(fields[3], "complaint.proof"),
            ),
        )


def make_transport_key(
    chain_id: str, poll_id: bytes, trustee: int, transport_secret: int, w: int
) -> TransportKey:
    context = TrusteeContext(chain_id, poll_id, trustee, Purpose.TRANSPORT_KEY)
    return TransportKey(
        trustee, group.base_mul(transport_secret), schnorr.prove(context, transport_secret, w)
    )


def validate_transport_key(chain_id: str, poll_id: bytes, key: TransportKey) -> None:
    context = TrusteeContext(chain_id, poll_id, key.trustee, Purpose.TRANSPORT_KEY)
    if not schnorr.verify(context, key.public, key.proof):
        raise InvalidBallotProof(f"transport key of trustee {key.trustee}")


def deal(
    chain_id: str,
    poll_id: bytes,
    dealer: int,
    coefficients: Sequence[int],
    transport_keys: Sequence[Point],
    w: int,
    ephemerals: Sequence[int],
) -> Dealing:
    """Step 2 for `dealer`: `coefficients` (k secret scalars, a_0 nonzero), the
    trustees' transport keys in index order, a Schnorr nonce `w` and one fresh
    ephemeral secret per recipient."""
    if len(ephemerals) != len(transport_keys):
        raise ValueError(f"{len(ephemerals)} ephemerals for {len(transport_keys)} trustees")
    if coefficients[0] % L == 0:
        raise ValueError("the constant coefficient must not be 0")
    context = TrusteeContext(chain_id, poll_id, dealer, Purpose.COEFFICIENT)
    shares = []
    for j, (key, e) in enumerate(zip(transport_keys, ephemerals, strict=True), start=1):
        share = vss.evaluate(coefficients, j)
        ephemeral, masked = transport.encrypt_share(chain_id, poll_id, dealer, j, key, share, e)
        shares.append(EncryptedShare(ephemeral, masked))
    return Dealing(
        dealer,
        vss.commitments(coefficients),
        schnorr.prove(context, coefficients[0], w),
        tuple(shares),
    )


def validate_dealing(
    chain_id: str, poll_id: bytes, dealing: Dealing, threshold: int, trustees: int
) -> None:
    """The checks anyone can make on a dealing: its shape and its proof of a_0."""
    if len(dealing.commitments) != threshold:
        raise MalformedCrypto(
            f"dealing of trustee {dealing.dealer}: {len(dealing.commitments)} commitments "
            f"for a threshold of {threshold}"
        )
    if len(dealing.shares) != trustees:
        raise MalformedCrypto(
            f"dealing of trustee {dealing.dealer}: {len(dealing.shares)} shares "
            f"for {trustees} trustees"
        )
    context = TrusteeContext(chain_id, poll_id, dealing.dealer, Purpose.COEFFICIENT)
    if not schnorr.verify(context, dealing.commitments[0], dealing.proof):
        raise InvalidBallotProof(f"dealing of trustee {dealing.dealer}: proof of a_0")


def receive_share(
    chain_id: str, poll_id: bytes, dealing: Dealing, recipient: int, transport_secret: int
) -> int:
    """Recipient's share f_dealer(recipient), or InvalidShare naming the dealer (step 3)."""
    encrypted = _share_for(dealing, recipient)
    share = transport.decrypt_share(
        chain_id,
        poll_id,
        dealing.dealer,
        recipient,
        transport_secret,
        encrypted.ephemeral,
        encrypted.masked,
    )
    if not vss.share_matches(dealing.commitments, recipient, share):
        raise InvalidShare(dealing.dealer, recipient, "does not match the dealer's commitments")
    return share


def complain(
    chain_id: str,
    poll_id: bytes,
    dealing: Dealing,
    recipient: int,
    transport_secret: int,
    w: int,
) -> Complaint:
    encrypted = _share_for(dealing, recipient)
    reveal = transport.reveal_pad_key(
        chain_id, poll_id, recipient, transport_secret, encrypted.ephemeral, w
    )
    return Complaint(dealing.dealer, recipient, reveal)


def complaint_upheld(
    chain_id: str,
    poll_id: bytes,
    dealing: Dealing,
    complaint: Complaint,
    recipient_transport_key: Point,
) -> bool:
    """True if the complaint shows the dealer's share wrong (the dealer is out); False
    if the share was right or the reveal's proof fails (the complaint is void)."""
    if complaint.dealer != dealing.dealer:
        raise ValueError(f"complaint about {complaint.dealer} judged on {dealing.dealer}")
    encrypted = _share_for(dealing, complaint.recipient)
    share = transport.open_revealed_share(
        chain_id,
        poll_id,
        dealing.dealer,
        complaint.recipient,
        recipient_transport_key,
        encrypted.ephemeral,
        encrypted.masked,
        complaint.reveal,
    )
    if share is None:
        return False
    return not vss.share_matches(dealing.commitments, complaint.recipient, share)


def joint_public_key(qualified: Iterable[Dealing]) -> Point:
    """Y (K1). The identity would be a key all know: refused."""
    key = IDENTITY
    for dealing in qualified:
        key = group.add(key, dealing.commitments[0])
    if key == IDENTITY:
        raise ValueError("the joint public key is the identity")
    return key


def secret_share(shares: Iterable[int]) -> int:
    """s_j (K2) from the shares trustee j received from the qualified dealers."""
    return sum(shares) % L


def verification_key(qualified: Iterable[Dealing], trustee: int) -> Point:
    """S_j (K3), computed by anyone from the qualified dealings."""
    key = IDENTITY
    for dealing in qualified:
        key = group.add(key, vss.share_point(dealing.commitments, trustee))
    return key


def _share_for(dealing: Dealing, recipient: int) -> EncryptedShare:
    if not 1 <= recipient <= len(dealing.shares):
        raise MalformedCrypto(
            f"dealing of trustee {dealing.dealer} has no share for trustee {recipient}"
        )
    return dealing.shares[recipient - 1]


def _trustee(value: Any, what: str) -> int:
    return expect_int(value, what, minimum=1, maximum=MAX_TRUSTEES)
