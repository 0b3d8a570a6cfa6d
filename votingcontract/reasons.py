"""Reason codes: the one list of why the voting state machine refuses a transaction.

A receipt's `code` is "accepted" or one of these values. The values are part of the
protocol (they are hashed into the receipts root), so they never change once released;
the descriptions are for people and may be reworded. RPC, CLI and web UI all print
`describe(code)`, so a citizen reads the same sentence everywhere.
"""

from __future__ import annotations

from enum import StrEnum

from chain.errors import VotechainError
from votingcontract import limits

ACCEPTED = "accepted"
"""The receipt code of a transaction that was executed and changed state."""


class ReasonCode(StrEnum):
    """Why a transaction was refused. A refused transaction writes nothing."""

    MALFORMED_BODY = "malformed_body"
    UNKNOWN_KIND = "unknown_kind"
    NOT_AUTHORIZED = "not_authorized"
    KEY_REVOKED = "key_revoked"
    UNKNOWN_ORG = "unknown_org"
    ORG_EXISTS = "org_exists"
    KEY_IN_USE = "key_in_use"
    ALREADY_ENROLLED = "already_enrolled"
    NOT_ENROLLED = "not_enrolled"
    TOO_MANY_OPEN_POLLS = "too_many_open_polls"
    INVALID_POLL = "invalid_poll"
    BAD_SCHEDULE = "bad_schedule"
    UNKNOWN_POLL = "unknown_poll"
    NOT_APPLICABLE = "not_applicable"
    ALREADY_OPEN = "already_open"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    NOT_ELIGIBLE = "not_eligible"
    BAD_GATE_PROOF = "bad_gate_proof"
    BAD_TICKET = "bad_ticket"
    TICKET_USED = "ticket_used"
    OUTSIDE_AREA = "outside_area"
    BAD_SELECTION_COUNT = "bad_selection_count"
    UNKNOWN_OPTION = "unknown_option"
    OVER_BUDGET = "over_budget"
    DUPLICATE = "duplicate"
    LIST_FULL = "list_full"
    KEY_PENDING = "key_pending"
    UNDER_MIN_SPEND = "under_min_spend"
    WEIGHT_CONFLICT = "weight_conflict"
    WEIGHTS_MISMATCH = "weights_mismatch"
    AWAITING_KEY = "awaiting_key"
    MALFORMED_BALLOT = "malformed_ballot"
    BAD_BALLOT_PROOF = "bad_ballot_proof"
    NOT_TRUSTEE = "not_trustee"
    WRONG_PHASE = "wrong_phase"
    BAD_TRUSTEE_PROOF = "bad_trustee_proof"

    @property
    def description(self) -> str:
        """One line for people: what went wrong, in the voter's or operator's terms."""
        return DESCRIPTIONS[self]


DESCRIPTIONS: dict[ReasonCode, str] = {
    ReasonCode.MALFORMED_BODY: "the transaction body does not decode as this kind's structure",
    ReasonCode.UNKNOWN_KIND: "the voting state machine has no transaction of this kind",
    ReasonCode.NOT_AUTHORIZED: "the signing key does not hold the role this transaction needs",
    ReasonCode.KEY_REVOKED: "the signing key was revoked or replaced by a newer enrollment",
    ReasonCode.UNKNOWN_ORG: "no organisation is registered under this id",
    ReasonCode.ORG_EXISTS: "an organisation is already registered under this id",
    ReasonCode.KEY_IN_USE: "this key already belongs to another organisation or phone",
    ReasonCode.ALREADY_ENROLLED: "this key is already the active or pending key of this phone",
    ReasonCode.NOT_ENROLLED: "the signing key is not enrolled as a voter",
    ReasonCode.TOO_MANY_OPEN_POLLS: "this citizen already runs the most open polls allowed",
    ReasonCode.INVALID_POLL: "the poll's questions, options or access settings are inconsistent",
    ReasonCode.BAD_SCHEDULE: "the opening and closing times are inconsistent or already past",
    ReasonCode.UNKNOWN_POLL: "no poll exists with this id",
    ReasonCode.NOT_APPLICABLE: "nothing to change: no such access method, active key or "
    "pending key change",
    ReasonCode.ALREADY_OPEN: "the poll has opened; its voter roll can no longer change",
    ReasonCode.NOT_OPEN: "the poll has not opened yet",
    ReasonCode.CLOSED: "the poll is closed",
    ReasonCode.NOT_ELIGIBLE: "the voter is not on this poll's voter roll",
    ReasonCode.BAD_GATE_PROOF: "the password or QR code proof is missing or wrong",
    ReasonCode.BAD_TICKET: "the on-site ticket is missing, unknown or wrongly signed",
    ReasonCode.TICKET_USED: "this on-site ticket has already been used by another voter",
    ReasonCode.OUTSIDE_AREA: "the claimed location is missing or outside the poll's area",
    ReasonCode.BAD_SELECTION_COUNT: "too few or too many options chosen for a question",
    ReasonCode.UNKNOWN_OPTION: "a chosen option does not exist in the question",
    ReasonCode.OVER_BUDGET: "the chosen projects cost more than the budget cap",
    ReasonCode.DUPLICATE: "this phone has already voted in this poll, which allows no revote",
    ReasonCode.LIST_FULL: "the poll's voter roll or ticket list would exceed its cap "
    f"(citizen polls: {limits.MAX_ROLL_ENTRIES_CITIZEN:,} roll entries, "
    f"{limits.MAX_TICKETS_CITIZEN:,} tickets; policy polls: "
    f"{limits.MAX_ROLL_ENTRIES_POLICY:,} and {limits.MAX_TICKETS_POLICY:,})",
    ReasonCode.KEY_PENDING: "this key replaces the phone's previous key and becomes active "
    f"{limits.KEY_REPLACEMENT_DELAY_MS // 3_600_000} hours after its enrollment; until then "
    "the previous key stays active and its holder may cancel the change",
    ReasonCode.UNDER_MIN_SPEND: "the chosen projects spend less than the share of the budget "
    "this question requires",
    ReasonCode.WEIGHT_CONFLICT: "a roll entry is already listed, or listed twice, with another "
    "weight; a voter's weight is fixed once listed",
    ReasonCode.AWAITING_KEY: "the poll's choices are secret and its trustees have not yet "
    "finished setting up its key, so it takes no ballot yet",
    ReasonCode.MALFORMED_BALLOT: "the ballot does not fit the poll: plain choices for a secret "
    "poll, encrypted ones for a public poll, or ciphertexts and proofs of the wrong shape",
    ReasonCode.BAD_BALLOT_PROOF: "a proof of the encrypted ballot does not verify: it may "
    "choose too many or too few options, spend over the budget, or belong to another voter",
    ReasonCode.NOT_TRUSTEE: "the signing key is not the trustee this step names for this poll",
    ReasonCode.WRONG_PHASE: "this trustee step is out of order or already done (keys, then "
    "dealings, then checks; decryption only once the poll has closed)",
    ReasonCode.BAD_TRUSTEE_PROOF: "a trustee's key, dealing, complaint or partial decryption "
    "does not verify",
    ReasonCode.WEIGHTS_MISMATCH: "the roll entries carry weights and the poll's roll is not "
    "weighted, or the roll is weighted and they carry none",
}


def describe(code: str) -> str:
    """The human sentence for a receipt code ("accepted" or a ReasonCode value)."""
    if code == ACCEPTED:
        return "the transaction was accepted"
    try:
        return ReasonCode(code).description
    except ValueError:
        return f"unknown code {code!r}"


class Refused(VotechainError):
    """Raised inside the state machine by a `validate_*`/`check_*` rule that fails.

    apply_transaction turns it into a receipt carrying `reason` only (a receipt holds a
    code, never text); `detail` names the field and why, for people: the CLI runs the
    same rules before submitting (votingcontract.poll_problem) and prints it.
    """

    def __init__(self, reason: ReasonCode, detail: str | None = None) -> None:
        super().__init__(f"{reason.value}: {detail or reason.description}")
        self.reason = reason
        self.detail = detail

    def within(self, where: str) -> Refused:
        """The same refusal, its detail prefixed by where it happened ("question 2")."""
        return Refused(self.reason, f"{where}: {self.detail or self.reason.description}")
