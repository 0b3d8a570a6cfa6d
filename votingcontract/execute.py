"""Running transactions and blocks: the one entry point the node and the verifier share.

apply_transaction gives each transaction a child overlay, decodes its body, runs its
kind's process_* function and commits the overlay only if no rule refused it. A refused
transaction leaves state untouched and gets a receipt with the reason. execute_block
runs a block's transactions in order and returns their receipts and the block's sorted
write set; it never raises for a bad transaction.

The caller has already checked each envelope (chain.tx.Transaction.verify: version,
chain id, signature) and that no tx_id repeats on the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chain.errors import DecodeError
from chain.state import OverlayState, StateView, WriteSet
from chain.tx import Transaction
from votingcontract import ballots, polls, roles, secret_polls
from votingcontract.bodies import BODY_TYPES, POLL_BODIES, Body, decode_body
from votingcontract.context import BlockContext
from votingcontract.reasons import ACCEPTED, ReasonCode, Refused
from votingcontract.receipts import Receipt

Processor = Callable[[OverlayState, BlockContext, Transaction, Any], bytes | None]

PROCESSORS: dict[str, Processor] = {
    "register_org": roles.process_register_org,
    "add_org_key": roles.process_add_org_key,
    "revoke_org_key": roles.process_revoke_org_key,
    "enroll_voter": roles.process_enroll_voter,
    "cancel_key_change": roles.process_cancel_key_change,
    "create_poll": polls.process_create_poll,
    "close_poll": polls.process_close_poll,
    "extend_poll": polls.process_extend_poll,
    "extend_roll": polls.process_extend_roll,
    "issue_tickets": polls.process_issue_tickets,
    "cast_ballot": ballots.process_cast_ballot,
    "trustee_key": secret_polls.process_trustee_key,
    "trustee_dealing": secret_polls.process_trustee_dealing,
    "trustee_check": secret_polls.process_trustee_check,
    "trustee_decrypt": secret_polls.process_trustee_decrypt,
}
"""The process_* function of each transaction kind."""

if set(PROCESSORS) != set(BODY_TYPES):
    raise AssertionError("every body kind needs exactly one processor")


def apply_transaction(
    state: OverlayState, context: BlockContext, tx: Transaction, position: int
) -> Receipt:
    """Execute one verified transaction on `state`; return its receipt.

    Accepted: its writes are committed into `state`. Refused: `state` is unchanged.
    """
    if tx.kind not in PROCESSORS:
        return Receipt(tx.tx_id, position, ReasonCode.UNKNOWN_KIND.value)
    try:
        body = decode_body(tx.kind, tx.body)
    except DecodeError:
        return Receipt(tx.tx_id, position, ReasonCode.MALFORMED_BODY.value)
    named_poll = calculate_named_poll(body)
    overlay = state.child()
    try:
        created = PROCESSORS[tx.kind](overlay, context, tx, body)
    except Refused as refusal:
        return Receipt(tx.tx_id, position, refusal.reason.value, named_poll)
    overlay.commit()
    return Receipt(tx.tx_id, position, ACCEPTED, created if created is not None else named_poll)


def execute_block(
    state: StateView, context: BlockContext, transactions: Sequence[Transaction]
) -> tuple[list[Receipt], WriteSet]:
    """Run a block's transactions in order on top of `state` (which is not modified).

    Returns one receipt per transaction, in order, and the block's sorted write set,
    ready for chain.state.next_app_hash and the store.
    """
    overlay = OverlayState(state)
    receipts = [
        apply_transaction(overlay, context, tx, position)
        for position, tx in enumerate(transactions)
    ]
    return receipts, overlay.write_set()


def calculate_named_poll(body: Body) -> bytes | None:
    """The poll a decoded body names, for its receipt (create_poll names none yet)."""
    if isinstance(body, POLL_BODIES):
        return body.poll_id
    return None
