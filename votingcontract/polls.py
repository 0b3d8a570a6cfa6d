"""Polls: create_poll, close_poll, extend_poll, extend_roll, issue_tickets.

A poll's id is the tx_id of its create_poll transaction. Its manager is any active key
of its organisation (policy poll) or the active key of the creator's phone (citizen
poll, so a voter who re-enrolls keeps managing their polls). Rules run in the order
docs/PROTOCOL.md section 11 lists them.
"""

from __future__ import annotations

from chain import encoding
from chain.state import OverlayState, StateView
from chain.tx import Transaction
from votingcontract import limits, secret_polls, state_keys
from votingcontract.bodies import ClosePoll, ExtendPoll, ExtendRoll, IssueTickets
from votingcontract.context import BlockContext
from votingcontract.poll_images import (
    process_image_index,
    validate_image_index,
    validate_poll_images,
)
from votingcontract.poll_spec import CreatePoll, Question, Weights
from votingcontract.reasons import ReasonCode, Refused
from votingcontract.records import (
    TRUE,
    PollRecord,
    add_to_count,
    is_set,
    read_count,
    read_poll,
    stored_spec,
)
from votingcontract.roles import check_org_signer, check_voter_signer, validate_org_exists
from votingcontract.voterkeys import read_key_at, validate_key_is_active

UNUSED_TICKET = encoding.encode(None)


def process_create_poll(
    state: OverlayState, context: BlockContext, tx: Transaction, body: CreatePoll
) -> bytes:
    """Create the poll; returns its id."""
    creator_phone_id = check_creator(state, body, tx.signer, context.timestamp_ms)
    validate_poll_content(body)
    validate_image_index(state, body)
    validate_schedule(body, context.timestamp_ms)
    if creator_phone_id is not None:
        validate_citizen_poll_cap(state, creator_phone_id, context.timestamp_ms)
    poll_id = tx.tx_id
    if is_set(state, state_keys.poll(poll_id)):
        raise Refused(ReasonCode.DUPLICATE)
    record = PollRecord(
        poll_id=poll_id,
        spec=stored_spec(body),
        creator_key=tx.signer,
        creator_phone_id=creator_phone_id,
        created_height=context.height,
        closes_at_ms=body.closes_at_ms,
        closed_early_at_ms=None,
    )
    state.set(state_keys.poll(poll_id), record.encode())
    process_image_index(state, body)
    secret_polls.process_secret_poll_created(state, poll_id, body)
    if body.access.roll is not None:
        process_roll_additions(state, record, *body.access.roll, body.access.roll_weights)
    if body.access.tickets is not None:
        process_ticket_additions(state, record, body.access.tickets)
    if creator_phone_id is None:
        add_to_count(state, state_keys.stat("polls_policy"), 1)
    else:
        process_citizen_poll_index(state, creator_phone_id, poll_id, context.timestamp_ms)
        add_to_count(state, state_keys.stat("polls_citizen"), 1)
    return poll_id


def process_close_poll(
    state: OverlayState, context: BlockContext, tx: Transaction, body: ClosePoll
) -> None:
    poll = check_managed_poll(state, body.poll_id, tx.signer, context.timestamp_ms)
    if poll.status(context.timestamp_ms) == "closed":
        raise Refused(ReasonCode.CLOSED)
    closed = PollRecord(
        poll.poll_id,
        poll.spec,
        poll.creator_key,
        poll.creator_phone_id,
        poll.created_height,
        poll.closes_at_ms,
        closed_early_at_ms=context.timestamp_ms,
    )
    state.set(state_keys.poll(poll.poll_id), closed.encode())


def process_extend_poll(
    state: OverlayState, context: BlockContext, tx: Transaction, body: ExtendPoll
) -> None:
    poll = check_managed_poll(state, body.poll_id, tx.signer, context.timestamp_ms)
    if poll.status(context.timestamp_ms) == "closed":
        raise Refused(ReasonCode.CLOSED)
    if body.closes_at_ms <= poll.closes_at_ms:
        raise Refused(ReasonCode.BAD_SCHEDULE)
    extended = PollRecord(
        poll.poll_id,
        poll.spec,
        poll.creator_key,
        poll.creator_phone_id,
        poll.created_height,
        body.closes_at_ms,
        poll.closed_early_at_ms,
    )
    state.set(state_keys.poll(poll.poll_id), extended.encode())


def process_extend_roll(
    state: OverlayState, context: BlockContext, tx: Transaction, body: ExtendRoll
) -> None:
    poll = check_managed_poll(state, body.poll_id, tx.signer, context.timestamp_ms)
    if poll.spec.access.roll is None:
        raise Refused(ReasonCode.NOT_APPLICABLE)
    status = poll.status(context.timestamp_ms)
    if status == "closed":
        raise Refused(ReasonCode.CLOSED)
    if status == "open":
        raise Refused(ReasonCode.ALREADY_OPEN)
    if (body.weights is None) != (poll.spec.access.roll_weights is None):
        raise Refused(ReasonCode.WEIGHTS_MISMATCH)
    process_roll_additions(state, poll, body.phone_ids, body.voter_keys, body.weights)


def process_issue_tickets(
    state: OverlayState, context: BlockContext, tx: Transaction, body: IssueTickets
) -> None:
    poll = check_managed_poll(state, body.poll_id, tx.signer, context.timestamp_ms)
    if poll.spec.access.tickets is None:
        raise Refused(ReasonCode.NOT_APPLICABLE)
    if poll.status(context.timestamp_ms) == "closed":
        raise Refused(ReasonCode.CLOSED)
    process_ticket_additions(state, poll, body.ticket_keys)


# Rules, in the order process_create_poll applies them.


def check_creator(state: StateView, body: CreatePoll, signer: bytes, now_ms: int) -> bytes | None:
    """Who may create this poll. Returns the creator's phone_id for a citizen poll.

    policy: unknown_org, then not_authorized / key_revoked for the signing key.
    citizen: not_enrolled / key_pending / key_revoked for the signing key.
    """
    if body.kind == "policy":
        validate_org_exists(state, body.org_id)
        check_org_signer(state, body.org_id, signer)
        return None
    return check_voter_signer(state, signer, now_ms)


def validate_poll_content(body: CreatePoll) -> None:
    """invalid_poll unless title, org_id, every question and the images are consistent;
    the refusal's detail names the field (questions counted from 1, as people do)."""
    if all(ch in limits.WHITESPACE for ch in body.title):
        raise Refused(ReasonCode.INVALID_POLL, "title: has no character other than whitespace")
    if body.kind == "citizen" and body.org_id != "":
        raise Refused(
            ReasonCode.INVALID_POLL, f'org_id: a citizen poll has org_id "", not "{body.org_id}"'
        )
    for number, question in enumerate(body.questions, start=1):
        try:
            validate_question(question)
        except Refused as refusal:
            raise refusal.within(f"question {number}") from None
    validate_poll_images(body)
    secret_polls.validate_secret_spec(body)


def validate_question(question: Question) -> None:
    """0 <= min <= max, 1 <= max <= options; costs > 0 exactly on budget questions."""
    count = len(question.options)
    least, most = question.min_selections, question.max_selections
    if least > most:
        raise Refused(
            ReasonCode.INVALID_POLL, f"min_selections {least} is more than max_selections {most}"
        )
    if most < 1:
        raise Refused(ReasonCode.INVALID_POLL, "max_selections is 0; it must be at least 1")
    if most > count:
        raise Refused(
            ReasonCode.INVALID_POLL, f"max_selections {most} is more than its {count} options"
        )
    for number, option in enumerate(question.options, start=1):
        if question.is_budget and option.cost < 1:
            raise Refused(
                ReasonCode.INVALID_POLL,
                f"option {number}: costs 0; on a budget question every option costs at least 1",
            )
        if not question.is_budget and option.cost != 0:
            raise Refused(
                ReasonCode.INVALID_POLL,
                f"option {number}: costs {option.cost}, but only a question with a "
                "budget_cap has costs",
            )
    validate_min_spend(question)


def validate_min_spend(question: Question) -> None:
    """A minimum spend some ballot can reach: the max_selections dearest projects cost
    at least the minimum (a poll that refuses every ballot helps nobody)."""
    if question.budget_cap is None or question.min_spend_percent == 0:
        return
    dearest = sorted((o.cost for o in question.options), reverse=True)
    reachable = sum(dearest[: question.max_selections])
    if reachable * 100 < question.budget_cap * question.min_spend_percent:
        raise Refused(
            ReasonCode.INVALID_POLL,
            f"min_spend_percent {question.min_spend_percent}: the {question.max_selections} "
            f"dearest projects cost {reachable}, less than {question.min_spend_percent}% of "
            f"the budget of {question.budget_cap}, so no ballot could be accepted",
        )


def validate_schedule(body: CreatePoll, now_ms: int) -> None:
    """bad_schedule unless opens_at < closes_at and closes_at is still ahead."""
    if not body.opens_at_ms < body.closes_at_ms:
        raise Refused(ReasonCode.BAD_SCHEDULE, "closes_at: is not after opens_at")
    if body.closes_at_ms <= now_ms:
        raise Refused(ReasonCode.BAD_SCHEDULE, "closes_at: has already passed")


def validate_citizen_poll_cap(state: StateView, phone_id: bytes, now_ms: int) -> None:
    """too_many_open_polls if the phone already has the maximum not-yet-closed polls."""
    if len(calculate_live_citizen_polls(state, phone_id, now_ms)) >= limits.MAX_OPEN_CITIZEN_POLLS:
        raise Refused(ReasonCode.TOO_MANY_OPEN_POLLS)


def calculate_live_citizen_polls(state: StateView, phone_id: bytes, now_ms: int) -> list[bytes]:
    """Ids of the phone's citizen polls that are upcoming or open at `now_ms`."""
    live = []
    prefix = state_keys.citizen_open_prefix(phone_id)
    for key, _ in state.items(prefix):
        poll = read_poll(state, key[len(prefix) :])
        if poll is not None and poll.status(now_ms) != "closed":
            live.append(poll.poll_id)
    return live


def check_managed_poll(state: StateView, poll_id: bytes, signer: bytes, now_ms: int) -> PollRecord:
    """The poll, if it exists (unknown_poll) and `signer` manages it.

    policy poll: the signer must be an active key of its organisation;
    citizen poll: the signer must be the creator's phone's key active at `now_ms`
    (not_authorized; key_pending for its waiting replacement; key_revoked for a
    replaced key of that phone).
    """
    poll = read_poll(state, poll_id)
    if poll is None:
        raise Refused(ReasonCode.UNKNOWN_POLL)
    if poll.creator_phone_id is None:
        check_org_signer(state, poll.spec.org_id, signer)
        return poll
    key = read_key_at(state, signer, now_ms)
    if key is None or key.phone_id != poll.creator_phone_id:
        raise Refused(ReasonCode.NOT_AUTHORIZED)
    validate_key_is_active(key)
    return poll


# State changes.


def process_roll_additions(
    state: OverlayState,
    poll: PollRecord,
    phone_ids: tuple[bytes, ...],
    voter_keys: tuple[bytes, ...],
    weights: Weights | None = None,
) -> None:
    """Put the listed ids and keys on the roll; list_full if that would pass its cap.

    Only entries not on the roll yet count (a repeat is a no-op), so the stored count
    is the roll's size and the cap check reads one counter, however long the roll.
    A weighted roll stores each entry's weight as its value; weight_conflict if an
    entry is listed again with another weight (a voter's weight never changes).
    """
    poll_id = poll.poll_id
    entries = [state_keys.roll_phone(poll_id, p) for p in phone_ids]
    entries += [state_keys.roll_key(poll_id, k) for k in voter_keys]
    values = [TRUE] * len(entries)
    if weights is not None:
        values = [encoding.encode(w) for w in (*weights[0], *weights[1])]
        validate_roll_weights(state, entries, values)
    added = calculate_absent_keys(state, entries)
    cap = limits.MAX_ROLL_ENTRIES_POLICY
    if poll.creator_phone_id is not None:
        cap = limits.MAX_ROLL_ENTRIES_CITIZEN
    validate_list_cap(state, state_keys.roll_count(poll_id), len(added), cap)
    value_of = dict(zip(entries, values, strict=True))
    for key in added:
        state.set(key, value_of[key])
    if added:
        add_to_count(state, state_keys.roll_count(poll_id), len(added))


def validate_roll_weights(state: StateView, entries: list[bytes], values: list[bytes]) -> None:
    """weight_conflict unless each entry has one weight: within the list and on the roll."""
    seen: dict[bytes, bytes] = {}
    for key, value in zip(entries, values, strict=True):
        if seen.setdefault(key, value) != value:
            raise Refused(ReasonCode.WEIGHT_CONFLICT)
        stored = state.get(key)
        if stored is not None and stored != value:
            raise Refused(ReasonCode.WEIGHT_CONFLICT)


def process_ticket_additions(
    state: OverlayState, poll: PollRecord, ticket_keys: tuple[bytes, ...]
) -> None:
    """Register tickets; list_full if that would pass the poll's cap.

    A ticket registered before keeps its state (used stays used) and does not count again.
    """
    poll_id = poll.poll_id
    added = calculate_absent_keys(state, [state_keys.ticket(poll_id, k) for k in ticket_keys])
    cap = limits.MAX_TICKETS_POLICY
    if poll.creator_phone_id is not None:
        cap = limits.MAX_TICKETS_CITIZEN
    validate_list_cap(state, state_keys.ticket_count(poll_id), len(added), cap)
    for key in added:
        state.set(key, UNUSED_TICKET)
    if added:
        add_to_count(state, state_keys.ticket_count(poll_id), len(added))


def calculate_absent_keys(state: StateView, keys: list[bytes]) -> list[bytes]:
    """The keys not yet in state, each once, in list order."""
    return [key for key in dict.fromkeys(keys) if not is_set(state, key)]


def validate_list_cap(state: StateView, counter: bytes, added: int, cap: int) -> None:
    """list_full if `added` more entries would take the counter past `cap`."""
    if read_count(state, counter) + added > cap:
        raise Refused(ReasonCode.LIST_FULL)


def process_citizen_poll_index(
    state: OverlayState, phone_id: bytes, poll_id: bytes, now_ms: int
) -> None:
    """Drop the phone's index entries of closed polls, then add the new poll."""
    live = set(calculate_live_citizen_polls(state, phone_id, now_ms))
    prefix = state_keys.citizen_open_prefix(phone_id)
    for key, _ in list(state.items(prefix)):
        if key[len(prefix) :] not in live:
            state.delete(key)
    state.set(state_keys.citizen_open(phone_id, poll_id), TRUE)


def poll_problem(body: CreatePoll, now_ms: int) -> str | None:
    """What the stateless create_poll rules (content, images, schedule) would refuse
    `body` for at `now_ms`, as "code: field: why", or None. A receipt carries only the
    code; the CLI runs this before submitting so a person learns the field and the why."""
    try:
        validate_poll_content(body)
        validate_schedule(body, now_ms)
    except Refused as refusal:
        return f"{refusal.reason.value}: {refusal.detail or refusal.reason.description}"
    return None
