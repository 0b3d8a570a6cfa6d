"""The seed's cases, end to end: what a city, a district office and a citizen do."""

from __future__ import annotations

from chain.keys import PrivateKey
from chain.tx import Transaction
from votingcontract import (
    Access,
    CastBallot,
    ClosePoll,
    EnrollVoter,
    ExtendRoll,
    IssueTickets,
    Ticket,
    gate_signature,
    password_gate_key,
    queries,
    ticket_signature,
)
from votingcontract.reasons import ReasonCode

from .helpers import (
    DAY_MS,
    HOUR_MS,
    Harness,
    budget_question,
    citizen_poll,
    phone_id_of,
    policy_poll,
    question,
    seeded_key,
)

R = ReasonCode


def _enroll_many(h: Harness, labels: list[str]) -> list[PrivateKey]:
    keys = [seeded_key(f"voter-{label}") for label in labels]
    txs = [
        h.sign(h.attester, EnrollVoter(phone_id_of(label), key.public_key))
        for label, key in zip(labels, keys, strict=True)
    ]
    assert all(r.accepted for r in h.execute(txs))
    return keys


def test_policy_poll_68_84_14_119_shows_mvoting_percentages_after_close() -> None:
    h = Harness.create()
    city = h.register_org("seoul-city")
    body = policy_poll(
        "seoul-city",
        h.now_ms,
        questions=[question("Best use of the plaza?", ("Market", "Park", "Parking", "Concerts"))],
        visibility="after_close",
        lasts_ms=HOUR_MS,
    )
    poll_id = h.create_poll(city, body)
    counts = [68, 84, 14, 119]
    choices = [option for option, n in enumerate(counts) for _ in range(n)]
    voters = _enroll_many(h, [f"citizen-{i}" for i in range(len(choices))])
    ballots: list[Transaction] = [
        h.sign(voter, CastBallot(poll_id, ((choice,),)))
        for voter, choice in zip(voters, choices, strict=True)
    ]
    assert all(r.accepted for r in h.execute(ballots))

    hidden = queries.results(h.state, poll_id, h.now_ms)
    assert hidden is not None and not hidden.visible and hidden.questions == ()
    h.advance(HOUR_MS)
    shown = queries.results(h.state, poll_id, h.now_ms)
    assert shown is not None and shown.visible and shown.status == "closed"
    assert shown.participants == 285
    options = shown.questions[0].options
    assert [o.count for o in options] == counts
    assert [o.to_dict()["percent"] for o in options] == ["23.86", "29.47", "4.91", "41.75"]


def test_participatory_budget_funds_the_most_voted_projects_under_the_cap() -> None:
    h = Harness.create()
    district = h.register_org("eunpyeong-gu", "district_office")
    projects = budget_question([5_000, 3_000, 4_000, 1_500], cap=9_000, max_selections=3)
    poll_id = h.create_poll(
        district, policy_poll("eunpyeong-gu", h.now_ms, questions=[projects], lasts_ms=DAY_MS)
    )
    voters = _enroll_many(h, [f"resident-{i}" for i in range(6)])
    picks = [(0, 1), (0, 1), (0, 3), (1, 2), (2, 3), (0,)]
    receipts = h.execute(
        [h.sign(v, CastBallot(poll_id, (p,))) for v, p in zip(voters, picks, strict=True)]
    )
    assert all(r.accepted for r in receipts)
    over = h.submit(h.enroll("greedy"), CastBallot(poll_id, ((0, 1, 2),)))  # 12,000 > 9,000
    assert over.code == R.OVER_BUDGET
    h.advance(DAY_MS)
    result = queries.results(h.state, poll_id, h.now_ms)
    assert result is not None
    q = result.questions[0]
    # votes: 0 -> 4, 1 -> 3, 2 -> 2, 3 -> 2; fund 0 (5000), 1 (3000); 2 (4000) does not
    # fit in the 1000 left, neither does 3 (1500)
    assert [o.count for o in q.options] == [4, 3, 2, 2]
    assert q.funded == (0, 1) and q.funded_cost == 8_000
    assert [o.funded for o in q.options] == [True, True, False, False]


def test_password_poll_for_a_meeting() -> None:
    h = Harness.create()
    office = h.register_org("seoul-education", "education_office")
    salt = b"meeting-salt-001"
    gate = password_gate_key("hangang 2026", salt)
    poll_id = h.create_poll(
        office,
        policy_poll("seoul-education", h.now_ms, access=Access(password=(gate.public_key, salt))),
    )
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None and poll.spec.access.password == (gate.public_key, salt)
    # a participant's client derives the key from the password and the salt in the poll
    member = h.enroll("member")
    derived = password_gate_key("hangang 2026", poll.spec.access.password[1])
    proof = gate_signature(derived, h.chain_id, poll_id, member.public_key)
    assert h.submit(member, CastBallot(poll_id, ((0,),), proof)).accepted
    guesser = h.enroll("guesser")
    bad = gate_signature(password_gate_key("hangang 2025", salt), h.chain_id, poll_id, b"x" * 32)
    assert h.submit(guesser, CastBallot(poll_id, ((0,),), bad)).code == R.BAD_GATE_PROOF


def test_roll_restricted_staff_poll() -> None:
    h = Harness.create()
    office = h.register_org("jongno-gu", "district_office")
    staff = ["kim", "lee", "park"]
    roll = Access(roll=((phone_id_of("kim"), phone_id_of("lee")), ()))
    poll_id = h.create_poll(
        office,
        policy_poll(
            "jongno-gu",
            h.now_ms,
            access=roll,
            opens_in_ms=HOUR_MS,
            questions=[question("Office dinner?", ("Friday", "Thursday"))],
        ),
    )
    assert h.submit(office, ExtendRoll(poll_id, (phone_id_of("park"),), ())).accepted
    keys = _enroll_many(h, [*staff, "outsider"])
    h.advance(HOUR_MS)
    receipts = h.execute([h.sign(k, CastBallot(poll_id, ((0,),))) for k in keys])
    assert [r.code for r in receipts] == ["accepted"] * 3 + [R.NOT_ELIGIBLE]
    result = queries.results(h.state, poll_id, h.now_ms)
    assert result is not None and result.participants == 3


def test_on_site_ticket_poll_without_phone_verification() -> None:
    h = Harness.create()
    civic = h.register_org("mapo-residents", "civic_group")
    tickets = [seeded_key(f"ticket-{i}") for i in range(3)]
    first_two = tuple(t.public_key for t in tickets[:2])
    poll_id = h.create_poll(
        civic,
        policy_poll("mapo-residents", h.now_ms, access=Access(tickets=first_two)),
    )
    assert h.submit(civic, IssueTickets(poll_id, (tickets[2].public_key,))).accepted

    def ballot(voter: PrivateKey, ticket: PrivateKey, choice: int) -> CastBallot:
        sig = ticket_signature(ticket, h.chain_id, poll_id, voter.public_key)
        return CastBallot(poll_id, ((choice,),), ticket=Ticket(ticket.public_key, sig))

    walk_ins = [seeded_key(f"walk-in-{i}") for i in range(4)]  # never enrolled
    assert h.submit(walk_ins[0], ballot(walk_ins[0], tickets[0], 0)).accepted
    assert h.submit(walk_ins[1], ballot(walk_ins[1], tickets[1], 1)).accepted
    assert h.submit(walk_ins[2], ballot(walk_ins[2], tickets[0], 1)).code == R.TICKET_USED
    assert h.submit(walk_ins[0], ballot(walk_ins[0], tickets[0], 1)).code == R.TICKET_USED
    assert h.submit(walk_ins[3], ballot(walk_ins[3], tickets[2], 0)).accepted
    # re-issuing a used ticket does not make it fresh again
    assert h.submit(civic, IssueTickets(poll_id, (tickets[0].public_key,))).accepted
    assert h.submit(walk_ins[2], ballot(walk_ins[2], tickets[0], 1)).code == R.TICKET_USED
    result = queries.results(h.state, poll_id, h.now_ms)
    assert result is not None and result.participants == 3
    assert [o.count for o in result.questions[0].options] == [2, 1]
    # the ticket stands in for the phone in the participation history
    history = queries.participation_history(h.state, tickets[1].public_key)
    assert [e.poll_id for e in history] == [poll_id]


def test_citizen_poll_among_ourselves() -> None:
    h = Harness.create()
    creator = h.enroll("apartment-rep")
    poll_id = h.create_poll(
        creator,
        citizen_poll(
            h.now_ms,
            questions=[question("Repaint the playground?", ("Yes", "No"))],
            revote=True,
        ),
    )
    neighbours = _enroll_many(h, ["n1", "n2", "n3"])
    h.execute([h.sign(n, CastBallot(poll_id, ((i % 2,),))) for i, n in enumerate(neighbours)])
    assert h.submit(neighbours[1], CastBallot(poll_id, ((0,),))).accepted  # changed mind
    assert h.submit(creator, ClosePoll(poll_id)).accepted
    result = queries.results(h.state, poll_id, h.now_ms)
    assert result is not None and result.status == "closed"
    assert [o.count for o in result.questions[0].options] == [3, 0]
    listed = queries.list_polls(
        h.state, h.now_ms, kind="citizen", creator=phone_id_of("apartment-rep")
    )
    assert [p.poll_id for p in listed] == [poll_id]
    assert queries.stats(h.state).polls_citizen == 1
