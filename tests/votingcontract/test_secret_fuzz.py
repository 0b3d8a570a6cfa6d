"""Hostile encrypted ballots and trustee messages: whatever a voter or trustee sends, the
state machine answers with a receipt and never raises (a raise would stop every
validator at the same block). Fuzzing by hypothesis over valid messages made wrong.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import encoding
from votingcontract import CastBallot, queries
from votingcontract.bodies import decode_body
from votingcontract.reasons import ReasonCode

from .helpers import DAY_MS, Harness, policy_poll, question
from .secret_helpers import Trustees, encrypted_ballot, secret_poll

R = ReasonCode
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LEAVES = st.one_of(
    st.binary(max_size=40),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.none(),
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.binary(min_size=32, max_size=32), max_size=3),
)


class Scene:
    """A secret poll with its key, a voter's valid ballot, and a closed twin poll whose
    tally a trustee may decrypt: made once, copied per example."""

    def __init__(self) -> None:
        h = Harness.create()
        org = h.register_org("seoul-city")
        self.trustees = Trustees.make(2, 2, label="fuzz")
        spec = [question(options=("A", "B", "C")), question(options=("X", "Y"), min_selections=0)]
        body = secret_poll(policy_poll("seoul-city", h.now_ms, spec, revote=True), self.trustees)
        self.poll_id = h.create_poll(org, body)
        self.trustees.setup(h, self.poll_id)
        self.voter = h.enroll("fuzzer")
        self.ballot = encrypted_ballot(h, self.poll_id, self.voter, [(1,), (0,)])
        self.harness = h


@pytest.fixture(scope="module")
def scene() -> Scene:
    return Scene()


def _paths(value: Any, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    found = [prefix]
    if isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*prefix, i)))
    return found


def _mutate(value: Any, rng: random.Random, leaf: Any) -> Any:
    """One random edit somewhere in the nested arrays: replace, drop or repeat an item."""
    mutated = copy.deepcopy(value)
    path = rng.choice(_paths(mutated)[1:])
    parent = mutated
    for i in path[:-1]:
        parent = parent[i]
    action = rng.choice(("replace", "drop", "repeat"))
    if action == "replace":
        parent[path[-1]] = leaf
    elif action == "drop":
        del parent[path[-1]]
    else:
        parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
    return mutated


@given(st.randoms(use_true_random=False), LEAVES)
@FUZZ
def test_a_mangled_encrypted_ballot_is_refused_with_its_code_and_changes_nothing(
    scene: Scene, rng: random.Random, leaf: Any
) -> None:
    h = scene.harness
    assert scene.ballot.encrypted is not None
    mangled = _mutate(list(scene.ballot.encrypted), rng, leaf)
    body = CastBallot(scene.poll_id, (), encrypted=tuple(mangled))
    before = dict(h.state.items(b""))
    try:
        decoded = decode_body(body.KIND, body.encode())
    except encoding.DecodeError:
        return
    receipt = h.execute([h.sign(scene.voter, decoded)])[0]
    if receipt.code != "accepted":
        assert receipt.code in {R.MALFORMED_BALLOT, R.BAD_BALLOT_PROOF}, receipt
        assert dict(h.state.items(b"")) == before


@given(st.sampled_from(["key", "dealing", "check", "decrypt"]), st.binary(min_size=1, max_size=4))
@FUZZ
def test_a_trustee_message_with_flipped_bytes_never_stops_the_state_machine(
    scene: Scene, which: str, noise: bytes
) -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    trustees = Trustees.make(2, 2, label="fuzz-t")
    poll_id = h.create_poll(org, secret_poll(policy_poll("seoul-city", h.now_ms), trustees))
    steps = {"key": trustees.key_body, "dealing": trustees.dealing_body}
    done = ["key", "dealing", "check"][: ["key", "dealing", "check", "decrypt"].index(which)]
    for step in done:
        make = {"key": trustees.key_body, "dealing": trustees.dealing_body}.get(
            step, trustees.check_body
        )
        for j in (1, 2):
            assert h.submit(trustees.key(j), make(h, poll_id, j)).code == "accepted"
    if which == "decrypt":
        h.advance(DAY_MS)
        body = trustees.decrypt_body(h, poll_id, 1)
    elif which == "check":
        body = trustees.check_body(h, poll_id, 1)
    else:
        body = steps[which](h, poll_id, 1)
    data = bytearray(body.encode())
    for i, byte in enumerate(noise):
        data[(i * 7919 + byte) % len(data)] ^= byte or 1
    tx = h.sign_raw(trustees.key(1), body.KIND, bytes(data))
    receipt = h.execute([tx])[0]
    assert receipt.code in {
        "accepted",
        R.MALFORMED_BODY,
        R.BAD_TRUSTEE_PROOF,
        R.NOT_TRUSTEE,
        R.UNKNOWN_POLL,
        R.WRONG_PHASE,
    }, receipt
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    queries.poll_document(h.state, poll, h.now_ms)  # the views still read the state
