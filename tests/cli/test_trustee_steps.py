"""A trustee's steps without a cluster (issue 16): the secrets file is written before a
body exists and a rerun after a crash makes the same body; three trustees set up a 2-of-3
key in memory and two of them decrypt a tally; a dealer's bad share draws a complaint."""

from __future__ import annotations

import dataclasses
import itertools
import json
import stat
from pathlib import Path

import pytest

from ballotcrypto import decryption, dkg, elgamal, group
from ballotcrypto.dkg import Dealing, EncryptedShare
from ballotcrypto.dlog import BoundedLog
from chain.errors import KeyFileError
from chain.keys import PrivateKey
from cli.errors import CliError
from cli.trustee_state import TrusteeSecrets, draw_scalar
from cli.trustee_steps import PollCrypto, Step, Waiting, decrypt_step, next_setup_step

CHAIN = "test-chain"
POLL = bytes(range(32))


def counter(start: int) -> itertools.count[int]:
    return itertools.count(start)


def draws(start: int):  # type: ignore[no-untyped-def]
    numbers = counter(start)
    return lambda: next(numbers)


def crypto(keys: list[PrivateKey], threshold: int = 2) -> PollCrypto:
    return PollCrypto(
        chain_id=CHAIN,
        poll_id=POLL,
        trustees=tuple(k.public_key for k in keys),
        threshold=threshold,
        phase="keys",
        transport_keys={},
        dealings={},
        checks={},
        qualified=(),
        verification_keys={},
        closed=False,
        tally=None,
        partials=(),
        decrypted=False,
    )


def secrets_file(tmp_path: Path, key: PrivateKey, name: str) -> TrusteeSecrets:
    return TrusteeSecrets.create(tmp_path / f"{name}.secrets.json", key.public_key.hex())


def apply(view: PollCrypto, me: int, step: Step) -> PollCrypto:
    """What the chain would record for `step` (the state machine's rules are tested in
    tests/votingcontract; here only what a trustee reads back matters)."""
    body = step.body
    if hasattr(body, "transport_key"):
        return dataclasses.replace(
            view, transport_keys={**view.transport_keys, me: body.transport_key}
        )
    if hasattr(body, "dealing"):
        return dataclasses.replace(view, dealings={**view.dealings, me: body.dealing})
    if hasattr(body, "complaints"):
        named = tuple(c.dealer for c in body.complaints)
        return dataclasses.replace(view, checks={**view.checks, me: named})
    return dataclasses.replace(view, partials=(*view.partials, me))


def test_a_crash_after_the_secrets_are_saved_makes_the_same_bodies_again(tmp_path: Path) -> None:
    keys = [PrivateKey.generate() for _ in range(3)]
    view = crypto(keys)
    state = secrets_file(tmp_path, keys[0], "t1")
    first = next_setup_step(view, 1, state, draw_scalar)
    assert isinstance(first, Step)
    # The process dies before sending: a new one reads the file and draws nothing new.
    again = next_setup_step(
        view, 1, TrusteeSecrets.load(state.path, keys[0].public_key.hex()), draws(7)
    )
    assert isinstance(again, Step) and again.body.encode() == first.body.encode()

    view = apply(view, 1, first)
    for j in (2, 3):
        other = secrets_file(tmp_path, keys[j - 1], f"t{j}")
        step = next_setup_step(view, j, other, draw_scalar)
        assert isinstance(step, Step)
        view = apply(view, j, step)
    dealing = next_setup_step(view, 1, state, draw_scalar)
    assert isinstance(dealing, Step) and dealing.summary == "dealing"
    reloaded = TrusteeSecrets.load(state.path, keys[0].public_key.hex())
    redone = next_setup_step(view, 1, reloaded, draws(99))
    assert isinstance(redone, Step) and redone.body.encode() == dealing.body.encode()
    document = json.loads(state.path.read_text())
    assert len(document["polls"][POLL.hex()]["coefficients"]) == 2
    assert stat.S_IMODE(state.path.stat().st_mode) == 0o600


def test_three_trustees_set_up_a_2_of_3_key_and_two_of_them_decrypt(tmp_path: Path) -> None:
    keys = [PrivateKey.generate() for _ in range(3)]
    states = {j: secrets_file(tmp_path, keys[j - 1], f"t{j}") for j in (1, 2, 3)}
    view = crypto(keys)
    posted = next_setup_step(view, 1, states[1], draw_scalar)
    assert isinstance(posted, Step)
    waited = next_setup_step(apply(view, 1, posted), 1, states[1], draw_scalar)
    assert waited == Waiting("transport keys", (2, 3))
    for _phase in ("keys", "dealings", "checks"):
        for j in (1, 2, 3):
            step = next_setup_step(view, j, states[j], draw_scalar)
            assert isinstance(step, Step), step
            view = apply(view, j, step)
    assert all(c == () for c in view.checks.values())
    assert next_setup_step(view, 1, states[1], draw_scalar) == Waiting("checks", ())
    qualified = [view.dealings[i] for i in (1, 2, 3)]
    public_key = dkg.joint_public_key(qualified)
    view = dataclasses.replace(
        view,
        phase="ready",
        qualified=(1, 2, 3),
        verification_keys={j: dkg.verification_key(qualified, j) for j in (1, 2, 3)},
    )
    votes = [[1, 0], [0, 1], [1, 0]]
    tally = [
        elgamal.total(elgamal.encrypt(public_key, v[o], draw_scalar()) for v in votes)
        for o in range(2)
    ]
    with pytest.raises(CliError, match="still open"):
        decrypt_step(view, 1, states[1], draw_scalar)
    view = dataclasses.replace(view, closed=True, tally=tuple(tally))
    partials = []
    for j in (1, 3):
        step = decrypt_step(view, j, states[j], draw_scalar)
        assert isinstance(step, Step)
        partials.append(step.body.partial)  # type: ignore[union-attr]
        view = apply(view, j, step)
    assert decrypt_step(view, 1, states[1], draw_scalar) == Waiting(
        "its partial decryption is already on chain"
    )
    outcome = decryption.tally(
        CHAIN, POLL, tally, partials, view.verification_keys, 2, BoundedLog(3)
    )
    assert outcome.counts == (2, 1)


def test_a_dealer_whose_share_does_not_match_draws_a_complaint(tmp_path: Path) -> None:
    keys = [PrivateKey.generate() for _ in range(3)]
    states = {j: secrets_file(tmp_path, keys[j - 1], f"t{j}") for j in (1, 2, 3)}
    view = crypto(keys)
    for _phase in ("keys", "dealings"):
        for j in (1, 2, 3):
            step = next_setup_step(view, j, states[j], draw_scalar)
            assert isinstance(step, Step)
            view = apply(view, j, step)
    honest = view.dealings[2]
    wrong = honest.shares[0]
    cheating = Dealing(
        2,
        honest.commitments,
        honest.proof,
        (EncryptedShare(wrong.ephemeral, (wrong.masked + 1) % group.L), *honest.shares[1:]),
    )
    view = dataclasses.replace(view, dealings={**view.dealings, 2: cheating})
    check = next_setup_step(view, 1, states[1], draw_scalar)
    assert isinstance(check, Step) and "complaints about trustee(s) 2" in check.summary
    (complaint,) = check.body.complaints  # type: ignore[union-attr]
    assert dkg.complaint_upheld(CHAIN, POLL, cheating, complaint, view.transport_keys[1].public)
    # Trustee 3 got a good share from 2: no complaint.
    other = next_setup_step(view, 3, states[3], draw_scalar)
    assert isinstance(other, Step) and other.body.complaints == ()  # type: ignore[union-attr]


def test_a_secrets_file_that_did_not_post_the_key_on_chain_is_refused(tmp_path: Path) -> None:
    keys = [PrivateKey.generate() for _ in range(2)]
    view = crypto(keys, threshold=1)
    lost = secrets_file(tmp_path, keys[0], "lost")
    view = apply(view, 1, next_setup_step(view, 1, lost, draw_scalar))  # type: ignore[arg-type]
    fresh = secrets_file(tmp_path, keys[0], "fresh")
    fresh.ensure_transport(POLL.hex(), 1, draw_scalar)
    with pytest.raises(CliError, match="transport key on chain is not the one in"):
        next_setup_step(view, 1, fresh, draw_scalar)


def test_the_secrets_file_is_never_overwritten_and_names_its_key(tmp_path: Path) -> None:
    key, other = PrivateKey.generate(), PrivateKey.generate()
    state = secrets_file(tmp_path, key, "t")
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        TrusteeSecrets.create(state.path, key.public_key.hex())
    with pytest.raises(KeyFileError, match="belongs to trustee key"):
        TrusteeSecrets.load(state.path, other.public_key.hex())


def test_decryption_nonces_are_reused_for_the_same_tally_only(tmp_path: Path) -> None:
    key = PrivateKey.generate()
    state = secrets_file(tmp_path, key, "t")
    state.ensure_transport(POLL.hex(), 1, draw_scalar)
    first = state.ensure_decryption(POLL.hex(), "aa", 2, draw_scalar).decryption
    same = state.ensure_decryption(POLL.hex(), "aa", 2, draw_scalar).decryption
    other = state.ensure_decryption(POLL.hex(), "bb", 2, draw_scalar).decryption
    assert first == same and other is not None and other.nonces != first.nonces  # type: ignore[union-attr]


def test_a_poll_closed_before_its_key_was_ready_takes_no_more_steps(tmp_path: Path) -> None:
    keys = [PrivateKey.generate() for _ in range(2)]
    view = dataclasses.replace(crypto(keys), closed=True)
    state = secrets_file(tmp_path, keys[0], "t1")
    with pytest.raises(CliError, match="closed before its key set-up finished"):
        next_setup_step(view, 1, state, draw_scalar)
    assert state.poll(POLL.hex()) is None  # nothing drawn for a step that cannot be posted
