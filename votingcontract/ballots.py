"""cast_ballot: the rules a ballot must pass, and how an accepted ballot is counted.

Tallies are stored counters, so results are a read. Each voter's counted ballot is kept
under ballot/<poll_id><voter_id>; a revote subtracts it from the tallies before adding
the new one, so only the last ballot counts and no voter is ever counted twice. In a
weighted poll a ballot adds the voter's weight (from the roll entry that admitted them)
and the record keeps that weight, so a revote takes back exactly what it added.
"""

from __future__ import annotations

from chain import encoding
from chain.state import OverlayState, StateView
from chain.tx import Transaction
from votingcontract import geofence, identity, secret_polls, state_keys
from votingcontract.bodies import CastBallot
from votingcontract.context import BlockContext
from votingcontract.reasons import ReasonCode, Refused
from votingcontract.records import (
    BallotRecord,
    ParticipationRecord,
    PollRecord,
    add_to_count,
    read_ballot,
    read_poll,
)
from votingcontract.voterkeys import read_key_at, validate_key_is_active


def process_cast_ballot(
    state: OverlayState, context: BlockContext, tx: Transaction, body: CastBallot
) -> None:
    poll = read_poll(state, body.poll_id)
    if poll is None:
        raise Refused(ReasonCode.UNKNOWN_POLL)
    phone_id = check_voter(state, poll, tx.signer, context.timestamp_ms)
    validate_poll_is_open(poll, context.timestamp_ms)
    secret_polls.validate_key_ready(state, poll)
    weight = check_roll(state, poll, phone_id, tx.signer)
    validate_gates(poll, body, context.chain_id, tx.signer)
    voter_id = check_ticket(state, poll, body, context.chain_id, tx.signer, phone_id)
    validate_location(poll, body)
    secret_polls.validate_ballot_kind(poll, body)
    ciphertexts = None
    if poll.spec.secret is None:
        validate_selections(poll, body.selections)
    else:
        ciphertexts = secret_polls.check_encrypted_ballot(state, context, poll, body, tx.signer)
    previous = read_ballot(state, poll.poll_id, voter_id)
    if previous is not None and not poll.spec.revote:
        raise Refused(ReasonCode.DUPLICATE)
    blob = None
    if ciphertexts is not None:
        blob = secret_polls.process_encrypted_count(
            state,
            poll.poll_id,
            ciphertexts,
            None if previous is None else previous.ciphertexts,
            secret_polls.tracking_code(body),
            tx.tx_id,
        )
    process_count(state, context, tx, poll, body, voter_id, previous, weight, blob)


# Rules, in the order process_cast_ballot applies them.


def check_voter(state: StateView, poll: PollRecord, signer: bytes, now_ms: int) -> bytes | None:
    """The signer's phone_id, or None for an unenrolled voter in a ticket poll.

    key_pending for a replacement key still waiting, key_revoked for a replaced key (a
    known key never votes as an unenrolled one); not_enrolled for an unknown key unless
    the poll takes on-site tickets (a ticket stands in for phone verification).
    """
    key = read_key_at(state, signer, now_ms)
    if key is None:
        if poll.spec.access.tickets is None:
            raise Refused(ReasonCode.NOT_ENROLLED)
        return None
    validate_key_is_active(key)
    return key.phone_id


def validate_poll_is_open(poll: PollRecord, now_ms: int) -> None:
    status = poll.status(now_ms)
    if status == "closed":
        raise Refused(ReasonCode.CLOSED)
    if status == "upcoming":
        raise Refused(ReasonCode.NOT_OPEN)


def check_roll(
    state: StateView, poll: PollRecord, phone_id: bytes | None, signer: bytes
) -> int | None:
    """not_eligible unless the voter's phone_id or key is on the roll (if there is one).

    Returns the voter's weight in a weighted poll: the value of the entry that admitted
    them (the phone's entry before the key's, the order eligibility is checked in);
    None in an unweighted poll.
    """
    if poll.spec.access.roll is None:
        return None
    entries = [state_keys.roll_key(poll.poll_id, signer)]
    if phone_id is not None:
        entries.insert(0, state_keys.roll_phone(poll.poll_id, phone_id))
    for entry in entries:
        stored = state.get(entry)
        if stored is not None:
            if poll.spec.access.roll_weights is None:
                return None
            return encoding.expect_int(encoding.decode(stored), "roll weight", 1)
    raise Refused(ReasonCode.NOT_ELIGIBLE)


def validate_gates(poll: PollRecord, body: CastBallot, chain_id: str, signer: bytes) -> None:
    """bad_gate_proof unless each gate the poll has (password, then QR) signed the voter."""
    access = poll.spec.access
    if access.password is not None and not (
        body.password_proof is not None
        and identity.verify_gate(
            access.password[0], body.password_proof, chain_id, poll.poll_id, signer
        )
    ):
        raise Refused(ReasonCode.BAD_GATE_PROOF)
    if access.qr_gate_key is not None and not (
        body.qr_proof is not None
        and identity.verify_gate(access.qr_gate_key, body.qr_proof, chain_id, poll.poll_id, signer)
    ):
        raise Refused(ReasonCode.BAD_GATE_PROOF)


def check_ticket(
    state: StateView,
    poll: PollRecord,
    body: CastBallot,
    chain_id: str,
    signer: bytes,
    phone_id: bytes | None,
) -> bytes:
    """The voter_id the ballot counts under: the phone_id, or the ticket key without one.

    In a ticket poll: bad_ticket unless the ballot presents a registered ticket whose
    key signed the voter; ticket_used if the ticket was used before, unless by this same
    voter in a revote poll.
    """
    if poll.spec.access.tickets is None:
        if phone_id is None:
            raise AssertionError("check_voter lets only ticket polls through unenrolled")
        return phone_id
    ticket = body.ticket
    if ticket is None:
        raise Refused(ReasonCode.BAD_TICKET)
    stored = state.get(state_keys.ticket(poll.poll_id, ticket.key))
    if stored is None or not identity.verify_ticket(
        ticket.key, ticket.signature, chain_id, poll.poll_id, signer
    ):
        raise Refused(ReasonCode.BAD_TICKET)
    voter_id = ticket.key if phone_id is None else phone_id
    used_by = encoding.decode(stored)
    if used_by is not None and not (poll.spec.revote and used_by == voter_id):
        raise Refused(ReasonCode.TICKET_USED)
    return voter_id


def validate_location(poll: PollRecord, body: CastBallot) -> None:
    """outside_area unless a geofenced poll's ballot claims a point inside the fence."""
    fence = poll.spec.access.geofence
    if fence is None:
        return
    where = body.location
    if where is None or not geofence.is_inside(fence, where.lat_micro, where.lon_micro):
        raise Refused(ReasonCode.OUTSIDE_AREA)


def validate_selections(poll: PollRecord, selections: tuple[tuple[int, ...], ...]) -> None:
    """bad_selection_count, then unknown_option, then over_budget, then under_min_spend.

    One selection list per question, each with min..max indices; every index names an
    option; on a budget question the chosen costs sum to at most the cap and, if the
    question sets a minimum spend, to at least that share of the cap.
    """
    questions = poll.spec.questions
    if len(selections) != len(questions):
        raise Refused(ReasonCode.BAD_SELECTION_COUNT)
    for question, chosen in zip(questions, selections, strict=True):
        if not question.min_selections <= len(chosen) <= question.max_selections:
            raise Refused(ReasonCode.BAD_SELECTION_COUNT)
    for question, chosen in zip(questions, selections, strict=True):
        if any(index >= len(question.options) for index in chosen):
            raise Refused(ReasonCode.UNKNOWN_OPTION)
    for question, chosen in zip(questions, selections, strict=True):
        if question.budget_cap is not None:
            spent = sum(question.options[index].cost for index in chosen)
            if spent > question.budget_cap:
                raise Refused(ReasonCode.OVER_BUDGET)
    for question, chosen in zip(questions, selections, strict=True):
        if question.budget_cap is not None and question.min_spend_percent:
            spent = sum(question.options[index].cost for index in chosen)
            if spent * 100 < question.budget_cap * question.min_spend_percent:
                raise Refused(ReasonCode.UNDER_MIN_SPEND)


# Counting.


def process_count(
    state: OverlayState,
    context: BlockContext,
    tx: Transaction,
    poll: PollRecord,
    body: CastBallot,
    voter_id: bytes,
    previous: BallotRecord | None,
    weight: int | None,
    ciphertexts: bytes | None = None,
) -> None:
    """Replace the voter's counted ballot with this one and update every counter.

    weight: the voter's weight in a weighted poll, None in any other. ciphertexts: a
    secret poll's ballot (whose selections are empty), already in the encrypted tally.
    """
    poll_id = poll.poll_id
    if previous is None:
        add_to_count(state, state_keys.participants(poll_id), 1)
        add_to_count(state, state_keys.stat("participations"), 1)
    else:
        process_tally(state, poll_id, previous.selections, -1, previous.weight)
        if previous.weight is not None:
            add_to_count(state, state_keys.participant_weight(poll_id), -previous.weight)
    process_tally(state, poll_id, body.selections, +1, weight)
    if weight is not None:
        add_to_count(state, state_keys.participant_weight(poll_id), weight)
    ballot = BallotRecord(body.selections, context.height, tx.tx_id, weight, ciphertexts)
    state.set(state_keys.ballot(poll_id, voter_id), ballot.encode())
    entry = ParticipationRecord(voter_id, poll_id, context.height, tx.tx_id)
    state.set(state_keys.participation(voter_id, poll_id), entry.encode())
    if body.ticket is not None and poll.spec.access.tickets is not None:
        state.set(state_keys.ticket(poll_id, body.ticket.key), encoding.encode(voter_id))
    add_to_count(state, state_keys.stat("ballots"), 1)


def process_tally(
    state: OverlayState,
    poll_id: bytes,
    selections: tuple[tuple[int, ...], ...],
    sign: int,
    weight: int | None,
) -> None:
    """Add (sign +1) or take back (-1) one ballot: 1 per chosen option, or in a weighted
    poll the weight, with the option's ballot count moving by 1."""
    for question, chosen in enumerate(selections):
        for option in chosen:
            if weight is None:
                add_to_count(state, state_keys.tally(poll_id, question, option), sign)
                continue
            add_to_count(state, state_keys.tally(poll_id, question, option), sign * weight)
            add_to_count(state, state_keys.tally_ballots(poll_id, question, option), sign)
