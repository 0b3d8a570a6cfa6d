"""votingcontract: the voting state machine. Pure and deterministic: no I/O, no clock,
no randomness, no floats.

The node and the verifier call:

    genesis_writes(genesis) -> WriteSet                         initial state
    execute_block(state, BlockContext, txs) -> (receipts, writes)  one block
    apply_transaction(overlay, BlockContext, tx, position) -> Receipt

Transaction bodies (bodies.py, poll_spec.py), the state layout (state_keys.py), the
rules (roles.py, polls.py, ballots.py), results maths (results.py) and reason codes
(reasons.py) are specified in docs/PROTOCOL.md section 11. queries.py holds the
read-only queries; identity.py the phone id, gate key and ticket helpers clients use.
"""

from votingcontract.bodies import (
    BODY_TYPES,
    AddOrgKey,
    Body,
    CancelKeyChange,
    CastBallot,
    ClosePoll,
    EnrollVoter,
    ExtendPoll,
    ExtendRoll,
    IssueTickets,
    Location,
    RegisterOrg,
    RevokeOrgKey,
    Ticket,
    body_from_dict,
    decode_body,
)
from votingcontract.context import BlockContext
from votingcontract.execute import apply_transaction, execute_block
from votingcontract.identity import (
    gate_signature,
    normalise_e164,
    password_gate_key,
    phone_id,
    qr_gate_key,
    ticket_signature,
)
from votingcontract.poll_spec import Access, CreatePoll, Geofence, Option, Question, SecretSpec
from votingcontract.polls import poll_problem
from votingcontract.queries import (
    KeyStatus,
    get_org,
    get_poll,
    key_status,
    list_orgs,
    list_polls,
    participation_history,
    phone_id_of_key,
    results,
    stats,
)
from votingcontract.reasons import ACCEPTED, ReasonCode, describe
from votingcontract.receipts import Receipt
from votingcontract.roles import genesis_writes
from votingcontract.trustee_bodies import TrusteeCheck, TrusteeDealing, TrusteeDecrypt, TrusteeKey

__all__ = [
    "ACCEPTED",
    "BODY_TYPES",
    "Access",
    "AddOrgKey",
    "BlockContext",
    "Body",
    "CancelKeyChange",
    "CastBallot",
    "ClosePoll",
    "CreatePoll",
    "EnrollVoter",
    "ExtendPoll",
    "ExtendRoll",
    "Geofence",
    "IssueTickets",
    "KeyStatus",
    "Location",
    "Option",
    "Question",
    "ReasonCode",
    "Receipt",
    "RegisterOrg",
    "RevokeOrgKey",
    "SecretSpec",
    "Ticket",
    "TrusteeCheck",
    "TrusteeDealing",
    "TrusteeDecrypt",
    "TrusteeKey",
    "apply_transaction",
    "body_from_dict",
    "decode_body",
    "describe",
    "execute_block",
    "gate_signature",
    "genesis_writes",
    "get_org",
    "get_poll",
    "key_status",
    "list_orgs",
    "list_polls",
    "normalise_e164",
    "participation_history",
    "password_gate_key",
    "phone_id",
    "phone_id_of_key",
    "poll_problem",
    "qr_gate_key",
    "results",
    "stats",
    "ticket_signature",
]
