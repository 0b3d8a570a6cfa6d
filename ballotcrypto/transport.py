"""How a dealer's share travels to its recipient: over the chain, under a one-time pad.

Every trustee first posts a transport key T_j = t_j·G with a Schnorr proof (dkg.py). A
dealer i sends s = f_i(j) to trustee j as [E, z] with a fresh ephemeral secret e:

    E = e·G,  K = e·T_j  (= t_j·E, what the recipient computes)                (T1)
    pad = int_le(H(SHARE_PAD, encode([chain_id, poll_id, i, j, E, T_j, K, 0]))
              || H(SHARE_PAD, encode([chain_id, poll_id, i, j, E, T_j, K, 1]))) mod L  (T2)
    z = s + pad mod L                                                         (T3)

512 hashed bits reduced modulo L make the pad uniform to within 2^-259, so z says
nothing of s to anyone without K. No symmetric cipher or MAC: the dealer's transaction
is signed, and the share is checked against the dealer's commitments (vss.py).

If the share does not match, trustee j complains by revealing K with a Chaum-Pedersen
proof that log_G T_j = log_E K (dleq.py, domain SHARE_KEY_REVEAL, purpose "reveal");
anyone then recomputes s by (T2)-(T3) and checks it: either the dealer is disqualified,
or the complaint is false, and everyone can tell which. The reveal exposes only that
one share, which its dealer knew anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from ballotcrypto import dleq, group
from ballotcrypto.context import Purpose, TrusteeContext
from ballotcrypto.dleq import DleqProof
from ballotcrypto.group import L, Point
from chain.encoding import Value, encode
from chain.hashing import Domain, tagged_hash


@dataclass(frozen=True, slots=True)
class PadKeyReveal:
    """K with the proof that it is t_j·E for the recipient's transport key T_j."""

    pad_key: Point
    proof: DleqProof


def encrypt_share(
    chain_id: str,
    poll_id: bytes,
    dealer: int,
    recipient: int,
    transport_key: Point,
    share: int,
    e: int,
) -> tuple[Point, int]:
    """(E, z) of (T1)-(T3); `e` is the dealer's fresh secret, used once."""
    ephemeral = group.base_mul(e)
    pad_key = group.mul(e, transport_key)
    pad = _pad(chain_id, poll_id, dealer, recipient, ephemeral, transport_key, pad_key)
    return ephemeral, (share + pad) % L


def decrypt_share(
    chain_id: str,
    poll_id: bytes,
    dealer: int,
    recipient: int,
    transport_secret: int,
    ephemeral: Point,
    masked: int,
) -> int:
    """s from [E, z] with the recipient's transport secret t_j."""
    transport_key = group.base_mul(transport_secret)
    pad_key = group.mul(transport_secret, ephemeral)
    return (
        masked - _pad(chain_id, poll_id, dealer, recipient, ephemeral, transport_key, pad_key)
    ) % L


def reveal_pad_key(
    chain_id: str, poll_id: bytes, recipient: int, transport_secret: int, ephemeral: Point, w: int
) -> PadKeyReveal:
    """The recipient's K = t_j·E with its proof (nonce `w`, used once)."""
    pad_key = group.mul(transport_secret, ephemeral)
    context = TrusteeContext(chain_id, poll_id, recipient, Purpose.REVEAL)
    proof = dleq.prove(Domain.SHARE_KEY_REVEAL, context, transport_secret, ephemeral, pad_key, w)
    return PadKeyReveal(pad_key, proof)


def open_revealed_share(
    chain_id: str,
    poll_id: bytes,
    dealer: int,
    recipient: int,
    transport_key: Point,
    ephemeral: Point,
    masked: int,
    reveal: PadKeyReveal,
) -> int | None:
    """The share a complaint reveals, or None if the reveal's proof fails (then the
    complaint is void and the recipient, not the dealer, is at fault)."""
    context = TrusteeContext(chain_id, poll_id, recipient, Purpose.REVEAL)
    if not dleq.verify(
        Domain.SHARE_KEY_REVEAL, context, transport_key, ephemeral, reveal.pad_key, reveal.proof
    ):
        return None
    pad = _pad(chain_id, poll_id, dealer, recipient, ephemeral, transport_key, reveal.pad_key)
    return (masked - pad) % L


def _pad(
    chain_id: str,
    poll_id: bytes,
    dealer: int,
    recipient: int,
    ephemeral: Point,
    transport_key: Point,
    pad_key: Point,
) -> int:
    """(T2)."""
    fields: list[Value] = [chain_id, poll_id, dealer, recipient, ephemeral.encoding]
    fields += [transport_key.encoding, pad_key.encoding]
    wide = b"".join(tagged_hash(Domain.SHARE_PAD, encode([*fields, half])) for half in (0, 1))
    return int.from_bytes(wide, "little") % L
