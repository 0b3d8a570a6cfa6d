"""Secret polls' exact terms, as an outside verifier reads them from PROTOCOL.md: the
ballot size bound of 15.12 to the byte, what create_poll says of a refused secret spec,
the key generation's view at every phase, and complaints that break 11.6's rules.
(Survivors of `make mutation PKG=votingcontract` on secret_polls.py.)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chain import encoding
from votingcontract import Access, Option, Question, queries
from votingcontract.poll_spec import SecretSpec
from votingcontract.polls import poll_problem
from votingcontract.reasons import ReasonCode
from votingcontract.secret_polls import encrypted_ballot_bound, secret_status

from .helpers import DAY_MS, Harness, budget_question, policy_poll, question, seeded_key
from .secret_helpers import Trustees, encrypted_ballot, secret_poll

R = ReasonCode


def bound_from_the_spec(questions: list[Question]) -> int:
    """PROTOCOL.md 15.12 read literally (34 per point or scalar, 3 per array header)."""

    def proof(b: int) -> int:
        return 3 + b * 71

    def bits(n: int) -> int:
        return 9 + n * (71 + proof(2))

    total = 3
    for q in questions:
        o = len(q.options)
        least, most = q.min_selections, q.max_selections
        count = proof(min(most, o) - least + 1) if least > 0 or most < o else 0
        budget = 0
        if q.budget_cap is not None:
            cap = q.budget_cap
            floor = (cap * q.min_spend_percent + 99) // 100
            costs = sum(option.cost for option in q.options)
            lower = 1 if floor == 0 else bits(max(1, (costs - floor).bit_length()))
            budget = 3 + bits(max(1, cap.bit_length())) + lower
        total += 6 + o * 71 + 3 + o * proof(2) + 1 + count + 1 + budget
    return total


SHAPES: dict[str, list[Question]] = {
    "single of 4": [question(options=("A", "B", "C", "D"))],
    "multi 2-3 of 5": [question(options="ABCDE", min_selections=2, max_selections=3)],
    "any of 3 (no count proof)": [question(options="XYZ", min_selections=0, max_selections=3)],
    "budget, no floor": [budget_question([30, 50, 20, 40], 100)],
    "budget with a floor": [replace(budget_question([30, 50, 20, 40], 100), min_spend_percent=50)],
    "two questions": [question(options="AB"), question(options="XYZ", max_selections=2)],
    "budget of 1, all of it spent": [
        replace(budget_question([1, 1], 1, max_selections=1), min_spend_percent=100)
    ],
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_ballot_size_bound_is_15_12s_arithmetic_and_holds_a_real_ballot(shape: str) -> None:
    questions = SHAPES[shape]
    bound = encrypted_ballot_bound(questions)
    assert bound == bound_from_the_spec(questions)
    h = Harness.create()
    org = h.register_org("seoul-city")
    trustees = Trustees.make(1, 1, label="bound")
    poll_id = h.create_poll(
        org, secret_poll(policy_poll("seoul-city", h.now_ms, questions), trustees)
    )
    trustees.setup(h, poll_id)
    voter = h.enroll("sizer")
    chosen: list[tuple[int, ...]] = [tuple(range(max(q.min_selections, 1))) for q in questions]
    if questions[0].budget_cap is not None:
        chosen = [(0, 1)] if questions[0].budget_cap >= 80 else [(0,)]
    ballot = encrypted_ballot(h, poll_id, voter, chosen)
    assert ballot.encrypted is not None
    assert len(encoding.encode(list(ballot.encrypted))) <= bound
    assert h.submit(voter, ballot).code == "accepted"


def test_the_single_choice_bound_in_bytes() -> None:
    # 3 + (6 + 4·71 + 3 + 4·145 + 1 + 74 + 1) = 952: pinned, as an outsider computes it.
    assert encrypted_ballot_bound(SHAPES["single of 4"]) == 952


def test_a_refused_secret_spec_says_which_rule_it_breaks() -> None:
    key = seeded_key("spec-trustee").public_key
    twice = replace(policy_poll("seoul-city", 0), secret=SecretSpec((key, key), 1))
    assert poll_problem(twice, 0) == "invalid_poll: secret.trustees: a trustee is listed twice"
    weighted = replace(
        policy_poll("seoul-city", 0, access=Access(roll=((), ()), roll_weights=((), ()))),
        secret=SecretSpec((key,), 1),
    )
    assert poll_problem(weighted, 0) == (
        "invalid_poll: secret: a poll with secret choices cannot weight its roll"
    )
    big = [question(options=[f"option {i}" for i in range(50)]) for _ in range(6)]
    too_big = replace(policy_poll("seoul-city", 0, big), secret=SecretSpec((key,), 1))
    size = f"{encrypted_ballot_bound(big):,}"
    assert poll_problem(too_big, 0) == (
        f"invalid_poll: secret: an encrypted ballot could take {size} bytes, more than the "
        "60,000 a transaction leaves for it; use fewer options or questions, or a smaller "
        "budget"
    )
    one_option_fewer = replace(too_big, questions=tuple(big[:4]))
    assert poll_problem(one_option_fewer, 0) is None


def _status(h: Harness, poll_id: bytes) -> dict[str, Any]:
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    status = secret_status(h.state, poll)
    assert status is not None
    return status


def test_the_key_generations_view_names_who_took_each_step() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    trustees = Trustees.make(3, 2, label="view")
    poll_id = h.create_poll(org, secret_poll(policy_poll("seoul-city", h.now_ms), trustees))
    first = _status(h, poll_id)
    assert first == {
        "trustees": [k.public_key.hex() for k in trustees.keys],
        "threshold": 2,
        "phase": "keys",
        "posted": [],
        "qualified": None,
        "public_key": None,
        "verification_keys": [],
        "partials": [],
        "decrypted": False,
    }
    h.submit(trustees.key(2), trustees.key_body(h, poll_id, 2))
    assert _status(h, poll_id)["posted"] == [2]
    for j in (1, 3):
        h.submit(trustees.key(j), trustees.key_body(h, poll_id, j))
    assert (_status(h, poll_id)["phase"], _status(h, poll_id)["posted"]) == ("dealings", [])
    h.submit(trustees.key(3), trustees.dealing_body(h, poll_id, 3))
    assert _status(h, poll_id)["posted"] == [3]
    for j in (1, 2):
        h.submit(trustees.key(j), trustees.dealing_body(h, poll_id, j))
    h.submit(trustees.key(1), trustees.check_body(h, poll_id, 1))
    assert (_status(h, poll_id)["phase"], _status(h, poll_id)["posted"]) == ("checks", [1])
    for j in (2, 3):
        h.submit(trustees.key(j), trustees.check_body(h, poll_id, j))
    ready = _status(h, poll_id)
    assert ready["phase"] == "ready" and ready["posted"] == [1, 2, 3]
    assert ready["qualified"] == [1, 2, 3]
    assert ready["public_key"] == h.state.get(b"pollkey/" + poll_id)[-32:].hex()  # type: ignore[index]
    assert len(ready["verification_keys"]) == 3 and None not in ready["verification_keys"]
    h.advance(DAY_MS)
    trustees.decrypt(h, poll_id, 3)
    assert (_status(h, poll_id)["partials"], _status(h, poll_id)["decrypted"]) == ([3], False)
    trustees.decrypt(h, poll_id, 1)
    assert (_status(h, poll_id)["partials"], _status(h, poll_id)["decrypted"]) == ([3, 1], True)


@pytest.fixture
def dealt() -> tuple[Harness, Trustees, bytes]:
    """Three trustees whose dealer 3 gave trustee 1 a wrong share; every dealing in."""
    h = Harness.create()
    org = h.register_org("seoul-city")
    trustees = Trustees.make(3, 2, label="complaints")
    trustees.corrupt_shares = {3: {1}}
    poll_id = h.create_poll(org, secret_poll(policy_poll("seoul-city", h.now_ms), trustees))
    for make in (trustees.key_body, trustees.dealing_body):
        for j in (1, 2, 3):
            assert h.submit(trustees.key(j), make(h, poll_id, j)).code == "accepted"
    return h, trustees, poll_id


def test_a_complaint_must_be_the_signers_own_and_name_its_dealer_once(
    dealt: tuple[Harness, Trustees, bytes],
) -> None:
    h, trustees, poll_id = dealt
    honest = trustees.check_body(h, poll_id, 1)
    [complaint] = honest.complaints
    assert complaint.dealer == 3
    twice = replace(honest, complaints=(complaint, complaint))
    assert h.submit(trustees.key(1), twice).code == R.BAD_TRUSTEE_PROOF
    as_trustee_2 = replace(honest, complaints=(replace(complaint, recipient=2),))
    assert h.submit(trustees.key(1), as_trustee_2).code == R.BAD_TRUSTEE_PROOF
    by_another = replace(honest, complaints=(complaint,))
    assert h.submit(trustees.key(2), by_another).code == R.BAD_TRUSTEE_PROOF
    no_such_dealer = replace(honest, complaints=(replace(complaint, dealer=4),))
    assert h.submit(trustees.key(1), no_such_dealer).code == R.BAD_TRUSTEE_PROOF
    assert h.submit(trustees.key(1), honest).code == "accepted"
    setup = queries.get_poll(h.state, poll_id)
    assert setup is not None
    for j in (2, 3):
        assert h.submit(trustees.key(j), trustees.check_body(h, poll_id, j)).code == "accepted"
    assert _status(h, poll_id)["qualified"] == [1, 2]


def test_a_complaint_against_the_first_dealer_is_judged_like_any_other() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    trustees = Trustees.make(3, 2, label="first-dealer")
    trustees.corrupt_shares = {1: {2}}
    poll_id = h.create_poll(org, secret_poll(policy_poll("seoul-city", h.now_ms), trustees))
    trustees.setup(h, poll_id)
    assert _status(h, poll_id)["qualified"] == [2, 3]


def test_a_trustee_outside_the_list_is_not_one() -> None:
    h = Harness.create()
    org = h.register_org("seoul-city")
    trustees = Trustees.make(2, 1, label="outside")
    poll_id = h.create_poll(org, secret_poll(policy_poll("seoul-city", h.now_ms), trustees))
    body = trustees.key_body(h, poll_id, 1)
    third = replace(body, transport_key=replace(body.transport_key, trustee=3))
    assert h.submit(trustees.key(1), third).code == R.NOT_TRUSTEE
    stranger = seeded_key("not listed")
    check = replace(trustees.check_body(h, poll_id, 1), complaints=())
    assert h.submit(stranger, check).code == R.NOT_TRUSTEE


def test_the_ballot_options_bound_counts_each_option_of_a_long_question() -> None:
    wide = [Question("Pick", tuple(Option(f"o{i}") for i in range(20)), 1, 20)]
    assert encrypted_ballot_bound(wide) == bound_from_the_spec(wide)


def test_hostile_trustee_bodies_are_refused_naming_the_field() -> None:
    """The dict forms (JSON from the RPC, a trustee's files) and the array forms."""
    from votingcontract.bodies import body_from_dict, decode_body

    def refusal(kind: str, d: Any) -> str:
        with pytest.raises(ValueError) as caught:
            body_from_dict(kind, d)
        return str(caught.value)

    poll = "ab" * 32
    assert refusal("trustee_key", {"poll_id": poll}) == "trustee_key: missing field 'transport_key'"
    assert refusal("trustee_key", {"poll_id": "ab", "transport_key": "00"}) == (
        "poll_id: expected 32 bytes of hex, got 1"
    )
    assert "trustee_dealing.dealng" in refusal("trustee_dealing", {"poll_id": poll, "dealng": ""})
    assert refusal("trustee_decrypt", {"poll_id": poll, "partial": "zz"}) == (
        "partial: 'zz' is not hex"
    )
    assert refusal("trustee_decrypt", {"poll_id": poll, "partial": "c1"}).startswith("partial: ")
    assert refusal("trustee_check", {"poll_id": poll, "complaints": ["zz"]}) == (
        "complaints[0]: 'zz' is not hex"
    )
    assert body_from_dict("trustee_check", {"poll_id": poll}).to_dict() == {
        "poll_id": poll,
        "complaints": [],
    }
    seventeen = encoding.encode([bytes(32), [[1, 1, bytes(32), [bytes(32)] * 2]] * 17])
    with pytest.raises(encoding.DecodeError, match=r"^trustee_check\.complaints: "):
        decode_body("trustee_check", seventeen)
