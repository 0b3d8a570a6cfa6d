"""What a trustee does next for a poll, from what the chain holds and its secrets file.

Each function here reads a `PollCrypto` (the chain's view of the poll's key generation
and tally) and returns either the body to post or a `Waiting` saying for whom; the
secrets come from the trustee's secrets file (trustee_state.py), which draws and saves
what is missing before the body exists, so a body made twice is the same body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from ballotcrypto import decryption, dkg, group
from ballotcrypto.decryption import PartialDecryption
from ballotcrypto.dkg import Complaint, Dealing, TransportKey
from ballotcrypto.dleq import DleqProof
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.errors import InvalidShare
from ballotcrypto.group import Point
from chain.encoding import encode
from cli.errors import CliError
from cli.trustee_state import Draw, TrusteeSecrets
from votingcontract.trustee_bodies import TrusteeCheck, TrusteeDealing, TrusteeDecrypt, TrusteeKey

NOT_A_TRUSTEE = "not_a_trustee"
NOTHING_TO_DO = "nothing_to_do"
Body = TrusteeKey | TrusteeDealing | TrusteeCheck | TrusteeDecrypt


@dataclass(frozen=True)
class PollCrypto:
    """A secret poll's key generation and tally as the chain holds them (node RPC
    /v1/polls/{id} and /v1/polls/{id}/crypto, read by trustee_view.py)."""

    chain_id: str
    poll_id: bytes
    trustees: tuple[bytes, ...]
    threshold: int
    phase: str
    """"keys", "dealings", "checks", "ready" or "failed"."""
    transport_keys: dict[int, TransportKey]
    dealings: dict[int, Dealing]
    checks: dict[int, tuple[int, ...]]
    """Trustee -> the dealers its upheld complaints named, for each check on chain."""
    qualified: tuple[int, ...]
    verification_keys: dict[int, Point]
    closed: bool
    tally: tuple[Ciphertext, ...] | None
    """The encrypted tally, every question's options in order; None when not read."""
    partials: tuple[int, ...]
    decrypted: bool

    @property
    def size(self) -> int:
        return len(self.trustees)

    def index_of(self, public_key: bytes) -> int:
        """The 1-based number of the trustee with `public_key`, or CliError."""
        if public_key not in self.trustees:
            raise CliError(
                f"key {public_key.hex()[:16]}... is not a trustee of poll "
                f"{self.poll_id.hex()[:16]}; its trustees are "
                + ", ".join(f"{j}: {t.hex()[:16]}..." for j, t in enumerate(self.trustees, 1)),
                NOT_A_TRUSTEE,
            )
        return self.trustees.index(public_key) + 1

    def missing(self, posted: Collection[int]) -> list[int]:
        """The trustees (numbers) not in `posted`."""
        return [j for j in range(1, self.size + 1) if j not in posted]


@dataclass(frozen=True)
class Waiting:
    """Nothing to post: the step awaits `what` (a step's name) from `trustees`, or, with
    no trustees, `what` says why there is nothing to do."""

    what: str
    trustees: tuple[int, ...] = ()


@dataclass(frozen=True)
class Step:
    """A body to post and one line saying what it is."""

    body: Body
    summary: str


def next_setup_step(
    crypto: PollCrypto, me: int, state: TrusteeSecrets, draw: Draw
) -> Step | Waiting:
    """This trustee's next key-generation step: its transport key, then its dealing once
    every key is on chain, then its check once every dealing is."""
    poll = crypto.poll_id.hex()
    if crypto.phase in ("ready", "failed"):
        return Waiting(f"the key set-up is over ({crypto.phase})")
    if crypto.closed:
        raise CliError(
            f"poll {poll[:16]} closed before its key set-up finished ({crypto.phase} phase): "
            "it never took a ballot, and the chain takes no more set-up steps for it",
            NOTHING_TO_DO,
        )
    if me not in crypto.transport_keys:
        kept = state.ensure_transport(poll, me, draw)
        key = dkg.make_transport_key(
            crypto.chain_id, crypto.poll_id, me, kept.transport_secret, kept.transport_nonce
        )
        return Step(TrusteeKey(crypto.poll_id, key), "transport key")
    _check_own_transport_key(crypto, me, state)
    if len(crypto.transport_keys) < crypto.size:
        return Waiting("transport keys", tuple(crypto.missing(crypto.transport_keys)))
    if me not in crypto.dealings:
        kept = state.ensure_dealing(poll, crypto.threshold, crypto.size, draw)
        assert kept.coefficients and kept.coefficient_nonce and kept.ephemerals
        keys = [crypto.transport_keys[j].public for j in range(1, crypto.size + 1)]
        dealing = dkg.deal(
            crypto.chain_id,
            crypto.poll_id,
            me,
            kept.coefficients,
            keys,
            kept.coefficient_nonce,
            kept.ephemerals,
        )
        return Step(TrusteeDealing(crypto.poll_id, dealing), "dealing")
    if len(crypto.dealings) < crypto.size:
        return Waiting("dealings", tuple(crypto.missing(crypto.dealings)))
    if me not in crypto.checks:
        complaints = _complaints(crypto, me, state, draw)
        what = (
            "check: every share dealt to this trustee matches"
            if not complaints
            else "check with complaints about trustee(s) "
            + ", ".join(str(c.dealer) for c in complaints)
        )
        return Step(TrusteeCheck(crypto.poll_id, tuple(complaints)), what)
    return Waiting("checks", tuple(crypto.missing(crypto.checks)))


def my_secret_share(crypto: PollCrypto, me: int, state: TrusteeSecrets) -> int:
    """s_j (K2): the sum of the shares the qualified dealers sent this trustee, checked
    against the verification key S_j the chain computed."""
    kept = state.poll(crypto.poll_id.hex())
    if kept is None:
        raise CliError(
            f"{state.path} holds no secrets for poll {crypto.poll_id.hex()[:16]}: without "
            "this trustee's transport secret its share cannot be read (the poll needs "
            f"{crypto.threshold} of its {crypto.size} trustees)"
        )
    shares = [
        dkg.receive_share(
            crypto.chain_id, crypto.poll_id, crypto.dealings[i], me, kept.transport_secret
        )
        for i in crypto.qualified
    ]
    share = dkg.secret_share(shares)
    expected = crypto.verification_keys.get(me)
    if expected is not None and group.base_mul(share) != expected:
        raise CliError(
            f"the share this trustee computes does not match its verification key on chain "
            f"(trustee {me}); is {state.path} the secrets file this key set the poll up with?"
        )
    return share


def tally_hash(tally: Sequence[Ciphertext]) -> str:
    """What a partial decryption's nonces are tied to (trustee_state.Decryption)."""
    return hashlib.sha256(encode([c.to_value() for c in tally])).hexdigest()


def decrypt_step(
    crypto: PollCrypto,
    me: int,
    state: TrusteeSecrets,
    draw: Draw,
    progress: Callable[[int], None] = lambda done: None,
) -> Step | Waiting:
    """This trustee's partial decryption of the tally, once the poll has closed."""
    if crypto.phase != "ready":
        raise CliError(
            f"poll {crypto.poll_id.hex()[:16]} has no joint key (phase {crypto.phase}): "
            "there is nothing to decrypt",
            NOTHING_TO_DO,
        )
    if not crypto.closed or crypto.tally is None:
        raise CliError(
            f"poll {crypto.poll_id.hex()[:16]} is still open: trustees decrypt its tally "
            "after it closes",
            NOTHING_TO_DO,
        )
    if me in crypto.partials:
        return Waiting("its partial decryption is already on chain")
    share = my_secret_share(crypto, me, state)
    kept = state.ensure_decryption(
        crypto.poll_id.hex(), tally_hash(crypto.tally), len(crypto.tally), draw
    )
    assert kept.decryption is not None
    shares: list[Point] = []
    proofs: list[DleqProof] = []
    for i, (ciphertext, w) in enumerate(zip(crypto.tally, kept.decryption.nonces, strict=True)):
        one = decryption.partial_decrypt(
            crypto.chain_id, crypto.poll_id, me, share, [ciphertext], [w]
        )
        shares.extend(one.shares)
        proofs.extend(one.proofs)
        progress(i + 1)
    partial = PartialDecryption(me, tuple(shares), tuple(proofs))
    return Step(
        TrusteeDecrypt(crypto.poll_id, partial),
        f"partial decryption of {len(crypto.tally)} ciphertexts",
    )


def _check_own_transport_key(crypto: PollCrypto, me: int, state: TrusteeSecrets) -> None:
    """The key on chain must be this file's: a secrets file lost and made again cannot
    read the shares dealt to the old key, and must not pretend to."""
    kept = state.poll(crypto.poll_id.hex())
    on_chain = crypto.transport_keys[me].public
    if kept is None or group.base_mul(kept.transport_secret) != on_chain:
        raise CliError(
            f"trustee {me}'s transport key on chain is not the one in {state.path}: this "
            "secrets file did not post it, so it cannot read this trustee's shares. Use the "
            "secrets file kept when the key was posted; without it this trustee cannot "
            f"decrypt (the poll needs {crypto.threshold} of its {crypto.size} trustees)"
        )


def _complaints(crypto: PollCrypto, me: int, state: TrusteeSecrets, draw: Draw) -> list[Complaint]:
    """A complaint about each dealer whose share to `me` does not match its commitments
    (dkg.complain reveals only that share's pad key)."""
    kept = state.poll(crypto.poll_id.hex())
    assert kept is not None
    bad = []
    for dealer in range(1, crypto.size + 1):
        try:
            dkg.receive_share(
                crypto.chain_id, crypto.poll_id, crypto.dealings[dealer], me, kept.transport_secret
            )
        except InvalidShare:
            bad.append(dealer)
    if not bad:
        return []
    kept = state.ensure_complaint_nonces(crypto.poll_id.hex(), bad, draw)
    return [
        dkg.complain(
            crypto.chain_id,
            crypto.poll_id,
            crypto.dealings[dealer],
            me,
            kept.transport_secret,
            kept.complaint_nonces[dealer],
        )
        for dealer in bad
    ]
