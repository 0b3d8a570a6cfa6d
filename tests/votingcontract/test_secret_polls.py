"""Secret polls: the trustees' key generation, encrypted ballots, decryption (issue 16).

Each rule of PROTOCOL.md 11.6 for trustee_key, trustee_dealing, trustee_check,
trustee_decrypt and an encrypted cast_ballot, with the code its refusal carries.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ballotcrypto.group import L
from chain import encoding
from chain.errors import DecodeError
from votingcontract import Access, CastBallot, ClosePoll, queries
from votingcontract.bodies import body_from_dict, decode_body
from votingcontract.poll_spec import Question, SecretSpec
from votingcontract.reasons import ReasonCode
from votingcontract.secret_polls import find_tracking, tracking_code

from .helpers import DAY_MS, Harness, budget_question, policy_poll, question, seeded_key
from .secret_helpers import Trustees, encrypted_ballot, encrypted_questions, secret_poll

R = ReasonCode


@pytest.fixture
def h() -> Harness:
    return Harness.create()


def _org(h: Harness) -> Any:
    if queries.get_org(h.state, "seoul-city") is None:
        return h.register_org("seoul-city")
    from .helpers import seeded_key as key

    return key("org-seoul-city-0")


def _secret_poll(h: Harness, trustees: Trustees, **kwargs: Any) -> bytes:
    kwargs.setdefault("questions", [question(options=("A", "B", "C", "D"))])
    body = secret_poll(policy_poll("seoul-city", h.now_ms, **kwargs), trustees)
    return h.create_poll(_org(h), body)


def _ready_poll(h: Harness, trustees: Trustees | None = None, **kwargs: Any) -> bytes:
    trustees = trustees or Trustees.make(3, 2)
    poll_id = _secret_poll(h, trustees, **kwargs)
    trustees.setup(h, poll_id)
    return poll_id


def _phase(h: Harness, poll_id: bytes) -> str:
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    return str(queries.poll_document(h.state, poll, h.now_ms)["secret"]["phase"])


def _counts(h: Harness, poll_id: bytes) -> list[list[int]]:
    results = queries.results(h.state, poll_id, h.now_ms)
    assert results is not None and results.visible
    return [[o.count for o in q.options] for q in results.questions]


# Creating a secret poll.


def test_a_secret_poll_says_so_and_waits_for_its_key(h: Harness) -> None:
    trustees = Trustees.make(3, 2)
    poll_id = _secret_poll(h, trustees)
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    document = queries.poll_document(h.state, poll, h.now_ms)
    assert document["choices"] == "secret"
    assert document["secret"]["phase"] == "keys"
    assert document["secret"]["threshold"] == 2
    voter = h.enroll("alice")
    assert h.submit(voter, CastBallot(poll_id, ((0,),))).code == R.AWAITING_KEY


def test_a_public_poll_says_its_choices_are_public(h: Harness) -> None:
    poll_id = h.create_poll(_org(h), policy_poll("seoul-city", h.now_ms))
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    assert queries.poll_document(h.state, poll, h.now_ms)["choices"] == "public"
    assert "secret" not in queries.poll_document(h.state, poll, h.now_ms)


def test_a_trustee_listed_twice_or_a_weighted_roll_is_an_invalid_poll(h: Harness) -> None:
    org = _org(h)
    key = seeded_key("trustee-x").public_key
    twice = replace(policy_poll("seoul-city", h.now_ms), secret=SecretSpec((key, key), 1))
    assert h.submit(org, twice).code == R.INVALID_POLL
    weighted = replace(
        policy_poll(
            "seoul-city",
            h.now_ms,
            access=Access(roll=((), ()), roll_weights=((), ())),
        ),
        secret=SecretSpec((key,), 1),
    )
    assert h.submit(org, weighted).code == R.INVALID_POLL


def test_a_poll_whose_encrypted_ballot_would_not_fit_a_transaction_is_invalid(
    h: Harness,
) -> None:
    org = _org(h)
    big = [question(options=[f"option {i}" for i in range(50)]) for _ in range(6)]
    body = replace(
        policy_poll("seoul-city", h.now_ms, questions=big), secret=Trustees.make(1, 1).spec
    )
    assert h.submit(org, body).code == R.INVALID_POLL
    fits = replace(body, questions=tuple(big[:4]))
    assert h.submit(org, fits).code == "accepted"


def test_a_threshold_above_the_trustees_or_no_trustee_does_not_decode() -> None:
    key = seeded_key("t").public_key
    body = replace(policy_poll("seoul-city", 0), secret=SecretSpec((key,), 1))
    value = body.to_value()
    value[11] = [[key], 2]
    with pytest.raises(DecodeError, match=r"create_poll\.secret\.threshold"):
        type(body).from_value(value)
    value[11] = [[], 0]
    with pytest.raises(DecodeError, match="at least one trustee"):
        type(body).from_value(value)
    value[11] = None
    with pytest.raises(DecodeError, match="trailing optional field is nil"):
        type(body).from_value(value)


# The key generation.


def test_the_key_is_made_in_three_steps_and_each_step_waits_for_every_trustee(
    h: Harness,
) -> None:
    trustees = Trustees.make(3, 2)
    poll_id = _secret_poll(h, trustees)
    assert h.submit(trustees.key(1), trustees.key_body(h, poll_id, 1)).code == "accepted"
    assert h.submit(trustees.key(1), trustees.key_body(h, poll_id, 1)).code == R.WRONG_PHASE
    for j in (2, 3):
        assert h.submit(trustees.key(j), trustees.key_body(h, poll_id, j)).code == "accepted"
    assert _phase(h, poll_id) == "dealings"
    assert h.submit(trustees.key(1), trustees.key_body(h, poll_id, 1)).code == R.WRONG_PHASE
    for j in (1, 2):
        assert h.submit(trustees.key(j), trustees.dealing_body(h, poll_id, j)).code == "accepted"
    assert h.submit(trustees.key(1), trustees.check_body(h, poll_id, 1)).code == R.WRONG_PHASE
    assert h.submit(trustees.key(3), trustees.dealing_body(h, poll_id, 3)).code == "accepted"
    assert _phase(h, poll_id) == "checks"
    for j in (1, 2, 3):
        assert h.submit(trustees.key(j), trustees.check_body(h, poll_id, j)).code == "accepted"
    assert _phase(h, poll_id) == "ready"
    assert h.submit(trustees.key(2), trustees.check_body(h, poll_id, 2)).code == R.WRONG_PHASE


def test_only_the_trustee_a_step_names_may_sign_it(h: Harness) -> None:
    trustees = Trustees.make(3, 2)
    poll_id = _secret_poll(h, trustees)
    stranger = seeded_key("not a trustee")
    assert h.submit(stranger, trustees.key_body(h, poll_id, 1)).code == R.NOT_TRUSTEE
    assert h.submit(trustees.key(2), trustees.key_body(h, poll_id, 1)).code == R.NOT_TRUSTEE


def test_a_trustee_step_on_a_public_or_unknown_poll_is_refused(h: Harness) -> None:
    trustees = Trustees.make(1, 1)
    public = h.create_poll(_org(h), policy_poll("seoul-city", h.now_ms))
    assert h.submit(trustees.key(1), trustees.key_body(h, public, 1)).code == R.NOT_APPLICABLE
    unknown = bytes(32)
    assert h.submit(trustees.key(1), trustees.key_body(h, unknown, 1)).code == R.UNKNOWN_POLL


def test_a_transport_key_whose_proof_fails_is_refused(h: Harness) -> None:
    trustees = Trustees.make(2, 1)
    poll_id = _secret_poll(h, trustees)
    body = trustees.key_body(h, poll_id, 1)
    forged = replace(
        body,
        transport_key=replace(
            body.transport_key,
            proof=replace(body.transport_key.proof, v=(body.transport_key.proof.v + 1) % L),
        ),
    )
    assert h.submit(trustees.key(1), forged).code == R.BAD_TRUSTEE_PROOF
    assert h.submit(trustees.key(1), body).code == "accepted"


def test_a_transport_key_for_another_poll_is_refused(h: Harness) -> None:
    trustees = Trustees.make(2, 1)
    first = _secret_poll(h, trustees)
    second = _secret_poll(h, trustees)
    copied = replace(trustees.key_body(h, first, 1), poll_id=second)
    assert h.submit(trustees.key(1), copied).code == R.BAD_TRUSTEE_PROOF


def test_a_dealing_of_the_wrong_shape_is_refused(h: Harness) -> None:
    trustees = Trustees.make(3, 2)
    poll_id = _secret_poll(h, trustees)
    for j in (1, 2, 3):
        h.submit(trustees.key(j), trustees.key_body(h, poll_id, j))
    body = trustees.dealing_body(h, poll_id, 1)
    short = replace(body, dealing=replace(body.dealing, shares=body.dealing.shares[:2]))
    assert h.submit(trustees.key(1), short).code == R.BAD_TRUSTEE_PROOF
    assert h.submit(trustees.key(1), body).code == "accepted"


def test_a_dealer_caught_by_a_complaint_is_left_out_and_the_rest_make_the_key(
    h: Harness,
) -> None:
    trustees = Trustees.make(3, 2)
    trustees.corrupt_shares = {3: {1}}
    poll_id = _ready_poll(h, trustees)
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    secret = queries.poll_document(h.state, poll, h.now_ms)["secret"]
    assert secret["phase"] == "ready"
    assert secret["qualified"] == [1, 2]
    voters = [h.enroll(name) for name in ("alice", "bob", "carol")]
    for voter, choice in zip(voters, (0, 2, 2), strict=True):
        assert h.submit(voter, encrypted_ballot(h, poll_id, voter, [(choice,)])).code == "accepted"
    h.advance(DAY_MS)
    # Trustee 3 dealt badly but still holds shares from the qualified dealers.
    assert trustees.decrypt(h, poll_id, 3).code == "accepted"
    assert trustees.decrypt(h, poll_id, 1).code == "accepted"
    assert _counts(h, poll_id) == [[1, 0, 2, 0]]


def test_a_complaint_against_an_honest_dealer_is_refused(h: Harness) -> None:
    trustees = Trustees.make(2, 1)
    poll_id = _secret_poll(h, trustees)
    for make in (trustees.key_body, trustees.dealing_body):
        for j in (1, 2):
            h.submit(trustees.key(j), make(h, poll_id, j))
    liar = Trustees(trustees.keys, 1, trustees.label, corrupt_shares={})
    from ballotcrypto import dkg

    dealing = liar.dealings(h, poll_id)[1]
    complaint = dkg.complain(h.chain_id, poll_id, dealing, 1, liar.transport_secret(1), 7)
    body = replace(trustees.check_body(h, poll_id, 1), complaints=(complaint,))
    assert h.submit(trustees.key(1), body).code == R.BAD_TRUSTEE_PROOF


def test_too_few_qualified_dealers_fail_the_setup_and_the_poll_takes_no_ballot(
    h: Harness,
) -> None:
    trustees = Trustees.make(3, 2)
    trustees.corrupt_shares = {2: {1}, 3: {1}}
    poll_id = _ready_poll(h, trustees)
    assert _phase(h, poll_id) == "failed"
    voter = h.enroll("alice")
    assert h.submit(voter, CastBallot(poll_id, ((0,),))).code == R.AWAITING_KEY
    h.advance(DAY_MS)
    results = queries.results(h.state, poll_id, h.now_ms)
    assert results is not None
    document = results.to_dict()
    assert document["key_phase"] == "failed" and "awaiting_trustees" not in document


def test_the_key_cannot_be_made_once_the_poll_has_closed(h: Harness) -> None:
    trustees = Trustees.make(1, 1)
    poll_id = _secret_poll(h, trustees)
    h.advance(DAY_MS)
    assert h.submit(trustees.key(1), trustees.key_body(h, poll_id, 1)).code == R.CLOSED
    results = queries.results(h.state, poll_id, h.now_ms)
    assert results is not None
    document = results.to_dict()
    assert document["key_phase"] == "keys" and "awaiting_trustees" not in document


# Ballots.


def test_a_plain_ballot_in_a_secret_poll_and_an_encrypted_one_in_a_public_poll_are_malformed(
    h: Harness,
) -> None:
    secret = _ready_poll(h)
    public = h.create_poll(_org(h), policy_poll("seoul-city", h.now_ms))
    voter = h.enroll("alice")
    assert h.submit(voter, CastBallot(secret, ((0,),))).code == R.MALFORMED_BALLOT
    encrypted = encrypted_ballot(h, secret, voter, [(0,)])
    assert h.submit(voter, replace(encrypted, poll_id=public)).code == R.MALFORMED_BALLOT
    both = replace(encrypted, selections=((0,),))
    assert h.submit(voter, both).code == R.MALFORMED_BALLOT
    assert queries.results(h.state, secret, h.now_ms).participants == 0  # type: ignore[union-attr]


def test_an_encrypted_ballot_of_the_wrong_shape_is_malformed(h: Harness) -> None:
    poll_id = _ready_poll(h)
    voter = h.enroll("alice")
    good = encrypted_ballot(h, poll_id, voter, [(1,)])
    assert good.encrypted is not None
    question_value = good.encrypted[0]
    assert h.submit(voter, replace(good, encrypted=())).code == R.MALFORMED_BALLOT
    two = (question_value, question_value)
    assert h.submit(voter, replace(good, encrypted=two)).code == R.MALFORMED_BALLOT
    fewer = [question_value[0][:3], question_value[1][:3], *question_value[2:]]
    assert h.submit(voter, replace(good, encrypted=(fewer,))).code == R.MALFORMED_BALLOT
    not_a_point = [[[b"\xff" * 32, c[1]] for c in question_value[0]], *question_value[1:]]
    assert h.submit(voter, replace(good, encrypted=(not_a_point,))).code == R.MALFORMED_BALLOT
    in_clear = [[[bytes(32), c[1]] for c in question_value[0]], *question_value[1:]]
    assert h.submit(voter, replace(good, encrypted=(in_clear,))).code == R.MALFORMED_BALLOT
    assert h.submit(voter, good).code == "accepted"


def test_a_tampered_proof_or_ciphertext_is_refused_and_changes_nothing(h: Harness) -> None:
    poll_id = _ready_poll(h)
    voter = h.enroll("alice")
    good = encrypted_ballot(h, poll_id, voter, [(1,)])
    assert good.encrypted is not None
    cts, proofs, count, budget = good.encrypted[0]
    swapped = [[cts[1], cts[0], *cts[2:]], proofs, count, budget]
    assert h.submit(voter, replace(good, encrypted=(swapped,))).code == R.BAD_BALLOT_PROOF
    bumped_c = (int.from_bytes(proofs[0][0][0], "little") + 1) % L
    bad_proof = [[bumped_c.to_bytes(32, "little"), proofs[0][0][1]], proofs[0][1]]
    forged = [cts, [bad_proof, *proofs[1:]], count, budget]
    assert h.submit(voter, replace(good, encrypted=(forged,))).code == R.BAD_BALLOT_PROOF
    before = h.state.get(b"etally/" + poll_id)
    assert h.submit(voter, good).code == "accepted"
    assert h.state.get(b"etally/" + poll_id) != before


def test_a_ballot_copied_into_another_voters_transaction_or_poll_is_refused(
    h: Harness,
) -> None:
    trustees = Trustees.make(3, 2)
    poll_id = _ready_poll(h, trustees)
    other_poll = _ready_poll(h, trustees)
    alice, mallory = h.enroll("alice"), h.enroll("mallory")
    alices = encrypted_ballot(h, poll_id, alice, [(2,)])
    assert h.submit(alice, alices).code == "accepted"
    assert h.submit(mallory, alices).code == R.BAD_BALLOT_PROOF
    assert h.submit(alice, replace(alices, poll_id=other_poll)).code == R.BAD_BALLOT_PROOF


def test_a_second_ballot_without_revote_is_a_duplicate(h: Harness) -> None:
    poll_id = _ready_poll(h)
    voter = h.enroll("alice")
    assert h.submit(voter, encrypted_ballot(h, poll_id, voter, [(0,)])).code == "accepted"
    assert h.submit(voter, encrypted_ballot(h, poll_id, voter, [(1,)])).code == R.DUPLICATE


def test_a_tracking_code_finds_the_ballot(h: Harness) -> None:
    poll_id = _ready_poll(h)
    voter = h.enroll("alice")
    ballot = encrypted_ballot(h, poll_id, voter, [(3,)])
    tx = h.sign(voter, ballot)
    assert h.execute([tx])[0].code == "accepted"
    assert find_tracking(h.state, tracking_code(ballot)) == tx.tx_id


def test_an_encrypted_ballot_and_the_trustee_bodies_round_trip_through_their_dicts(
    h: Harness,
) -> None:
    trustees = Trustees.make(2, 2)
    poll_id = _ready_poll(h, trustees)
    voter = h.enroll("alice")
    ballot = encrypted_ballot(h, poll_id, voter, [(1,)])
    h.advance(DAY_MS)
    bodies = [
        ballot,
        trustees.key_body(h, poll_id, 1),
        trustees.dealing_body(h, poll_id, 1),
        trustees.check_body(h, poll_id, 1),
        trustees.decrypt_body(h, poll_id, 1),
    ]
    for body in bodies:
        assert decode_body(body.KIND, body.encode()) == body
        assert body_from_dict(body.KIND, body.to_dict()) == body


# Decryption.


def test_decryption_waits_for_close_and_k_minus_1_trustees_cannot_open_the_tally(
    h: Harness,
) -> None:
    trustees = Trustees.make(3, 2)
    poll_id = _ready_poll(h, trustees)
    voter = h.enroll("alice")
    assert h.submit(voter, encrypted_ballot(h, poll_id, voter, [(0,)])).code == "accepted"
    assert trustees.decrypt(h, poll_id, 1).code == R.WRONG_PHASE
    h.submit(_org(h), ClosePoll(poll_id))
    assert trustees.decrypt(h, poll_id, 1).code == "accepted"
    assert trustees.decrypt(h, poll_id, 1).code == R.WRONG_PHASE
    results = queries.results(h.state, poll_id, h.now_ms)
    assert results is not None
    assert not results.visible
    assert results.to_dict()["awaiting_trustees"] == {"partials": 1, "threshold": 2}
    assert results.participants == 1


def test_a_wrong_partial_decryption_is_named_and_the_honest_trustees_still_finish(
    h: Harness,
) -> None:
    trustees = Trustees.make(3, 2)
    poll_id = _ready_poll(h, trustees)
    voters = [h.enroll(name) for name in ("alice", "bob")]
    for voter in voters:
        assert h.submit(voter, encrypted_ballot(h, poll_id, voter, [(1,)])).code == "accepted"
    h.advance(DAY_MS)
    tx = h.sign(trustees.key(2), trustees.decrypt_body(h, poll_id, 2, wrong=True))
    [receipt] = h.execute([tx])
    assert receipt.code == R.BAD_TRUSTEE_PROOF
    assert tx.signer == trustees.key(2).public_key  # the receipt's transaction names it
    assert trustees.decrypt(h, poll_id, 1).code == "accepted"
    assert trustees.decrypt(h, poll_id, 3).code == "accepted"
    assert _counts(h, poll_id) == [[0, 2, 0, 0]]
    assert trustees.decrypt(h, poll_id, 2).code == "accepted"  # late, still checked
    assert _counts(h, poll_id) == [[0, 2, 0, 0]]


def test_a_partial_decryption_of_the_wrong_length_is_refused(h: Harness) -> None:
    trustees = Trustees.make(1, 1)
    poll_id = _ready_poll(h, trustees)
    h.advance(DAY_MS)
    body = trustees.decrypt_body(h, poll_id, 1)
    short = replace(
        body,
        partial=replace(
            body.partial, shares=body.partial.shares[:1], proofs=body.partial.proofs[:1]
        ),
    )
    assert h.submit(trustees.key(1), short).code == R.BAD_TRUSTEE_PROOF


# Same ballots, same results.


SHAPES: dict[str, dict[str, Any]] = {
    "single": {"questions": [question(options=("A", "B", "C", "D"))]},
    "multi": {
        "questions": [
            question(options=("A", "B", "C", "D", "E"), min_selections=2, max_selections=3)
        ]
    },
    "survey": {
        "questions": [
            question(options=("A", "B")),
            question(options=("X", "Y", "Z"), min_selections=0, max_selections=3),
        ]
    },
    "budget": {
        "questions": [replace(budget_question([30, 50, 20, 40], 100), min_spend_percent=50)]
    },
    "revote": {"questions": [question(options=("A", "B", "C"))], "revote": True},
}
BALLOTS: dict[str, list[tuple[str, list[tuple[int, ...]]]]] = {
    "single": [("a", [(0,)]), ("b", [(3,)]), ("c", [(3,)])],
    "multi": [("a", [(0, 1)]), ("b", [(1, 2, 4)]), ("c", [(3, 4)])],
    "survey": [("a", [(0,), ()]), ("b", [(1,), (0, 1, 2)]), ("c", [(1,), (2,)])],
    "budget": [("a", [(0, 1)]), ("b", [(1, 2)]), ("c", [(0, 3)])],
    "revote": [("a", [(0,)]), ("b", [(1,)]), ("a", [(2,)]), ("b", [(2,)]), ("c", [(1,)])],
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_secret_poll_gives_the_results_a_public_poll_gives_the_same_ballots(
    h: Harness, shape: str
) -> None:
    trustees = Trustees.make(3, 2)
    public = h.create_poll(_org(h), policy_poll("seoul-city", h.now_ms, **SHAPES[shape]))
    secret = _ready_poll(h, trustees, **SHAPES[shape])
    voters = {name: h.enroll(name) for name in dict(BALLOTS[shape])}
    for name, chosen in BALLOTS[shape]:
        voter = voters[name]
        plain = CastBallot(public, tuple(tuple(c) for c in chosen))
        assert h.submit(voter, plain).code == "accepted"
        assert h.submit(voter, encrypted_ballot(h, secret, voter, chosen)).code == "accepted"
    h.advance(DAY_MS)
    assert trustees.decrypt(h, secret, 2).code == "accepted"
    assert trustees.decrypt(h, secret, 3).code == "accepted"
    public_results = queries.results(h.state, public, h.now_ms)
    secret_results = queries.results(h.state, secret, h.now_ms)
    assert public_results is not None and secret_results is not None
    expected = public_results.to_dict()
    got = secret_results.to_dict()
    assert got.pop("choices") == "secret"
    assert got.pop("key_phase") == "ready"
    expected.pop("choices")
    assert "key_phase" not in expected
    got.pop("poll_id"), expected.pop("poll_id")
    assert got == expected


def test_the_encrypted_questions_of_another_chain_do_not_verify(h: Harness) -> None:
    poll_id = _ready_poll(h)
    voter = h.enroll("alice")
    questions = encrypted_questions(h, poll_id, voter.public_key, [(0,)], chain_id="elsewhere")
    ballot = CastBallot(poll_id, (), encrypted=tuple(questions))
    assert h.submit(voter, ballot).code == R.BAD_BALLOT_PROOF
    assert encoding.decode(ballot.encode())[6] == questions


# Properties over random polls and ballots.


Case = tuple[list[Question], bool, list[tuple[int, list[tuple[int, ...]]]]]


@st.composite
def polls_and_ballots(
    draw: st.DrawFn,
) -> tuple[list[Question], bool, list[tuple[int, list[tuple[int, ...]]]]]:
    """Up to 2 questions of 2-4 options with random bounds, a revote flag, and up to 5
    ballots of up to 3 voters (valid choices only: what the chain accepts)."""
    questions = []
    for _ in range(draw(st.integers(1, 2))):
        options = draw(st.integers(2, 4))
        most = draw(st.integers(1, options))
        least = draw(st.integers(0, most))
        questions.append(
            question(
                options=[f"o{i}" for i in range(options)], min_selections=least, max_selections=most
            )
        )
    revote = draw(st.booleans())
    ballots = []
    for _ in range(draw(st.integers(1, 5))):
        voter = draw(st.integers(0, 2))
        chosen = []
        for q in questions:
            size = draw(st.integers(q.min_selections, q.max_selections))
            picked = draw(
                st.lists(
                    st.integers(0, len(q.options) - 1), min_size=size, max_size=size, unique=True
                )
            )
            chosen.append(tuple(sorted(picked)))
        ballots.append((voter, chosen))
    return questions, revote, ballots


@given(polls_and_ballots())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_poll_counts_the_same_secret_or_public(
    case: Case,
) -> None:
    questions, revote, ballots = case
    h = Harness.create()
    trustees = Trustees.make(2, 2)
    public = h.create_poll(_org(h), policy_poll("seoul-city", h.now_ms, questions, revote=revote))
    secret = _ready_poll(h, trustees, questions=questions, revote=revote)
    voters = [h.enroll(f"v{i}") for i in range(3)]
    for voter, chosen in ballots:
        plain = h.submit(voters[voter], CastBallot(public, tuple(chosen)))
        encrypted = h.submit(voters[voter], encrypted_ballot(h, secret, voters[voter], chosen))
        assert encrypted.code == plain.code
    h.advance(DAY_MS)
    assert trustees.decrypt(h, secret, 1).code == "accepted"
    assert trustees.decrypt(h, secret, 2).code == "accepted"
    assert _counts(h, secret) == _counts(h, public)
