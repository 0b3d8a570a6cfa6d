"""Roles: genesis admins and attesters, organisations and their keys, voter enrollment.

A phone's first enrollment takes effect at once; a later one waits (voterkeys.py) and
the phone's active key may cancel it with cancel_key_change.

Each process_* function applies one transaction kind to a per-transaction overlay. It
runs that kind's rules in the order docs/PROTOCOL.md section 11 lists them; the first
rule that fails raises Refused and the overlay is discarded.
"""

from __future__ import annotations

from chain import encoding
from chain.genesis import Genesis
from chain.state import OverlayState, StateView, WriteSet
from chain.tx import Transaction
from votingcontract import limits, state_keys
from votingcontract.bodies import (
    AddOrgKey,
    CancelKeyChange,
    EnrollVoter,
    RegisterOrg,
    RevokeOrgKey,
)
from votingcontract.context import BlockContext
from votingcontract.reasons import ReasonCode, Refused
from votingcontract.records import (
    TRUE,
    OrgKeyRecord,
    OrgRecord,
    PhoneRecord,
    Replacement,
    VoterKeyRecord,
    add_to_count,
    is_set,
    read_org,
    read_org_key,
)
from votingcontract.voterkeys import read_key_at, read_phone_at, validate_key_is_active


def genesis_writes(genesis: Genesis) -> WriteSet:
    """The state genesis creates: its admin and attester keys."""
    writes: dict[bytes, bytes | None] = {}
    for key in genesis.admins:
        writes[state_keys.admin(key)] = TRUE
    for attester in genesis.attesters:
        writes[state_keys.attester(attester.public_key)] = encoding.encode(attester.name)
    return sorted(writes.items())


def process_register_org(
    state: OverlayState, context: BlockContext, tx: Transaction, body: RegisterOrg
) -> None:
    validate_admin(state, tx.signer)
    if read_org(state, body.org_id) is not None:
        raise Refused(ReasonCode.ORG_EXISTS)
    if len(set(body.keys)) != len(body.keys):
        raise Refused(ReasonCode.KEY_IN_USE)
    for key in body.keys:
        validate_org_key_unused(state, key)
    record = OrgRecord(body.name, body.category, context.height)
    state.set(state_keys.org(body.org_id), record.encode())
    for key in body.keys:
        state.set(state_keys.org_key(key), OrgKeyRecord(body.org_id, True).encode())
    add_to_count(state, state_keys.stat("orgs"), 1)


def process_add_org_key(
    state: OverlayState, context: BlockContext, tx: Transaction, body: AddOrgKey
) -> None:
    validate_admin(state, tx.signer)
    validate_org_exists(state, body.org_id)
    validate_org_key_unused(state, body.key)
    state.set(state_keys.org_key(body.key), OrgKeyRecord(body.org_id, True).encode())


def process_revoke_org_key(
    state: OverlayState, context: BlockContext, tx: Transaction, body: RevokeOrgKey
) -> None:
    validate_admin(state, tx.signer)
    validate_org_exists(state, body.org_id)
    record = read_org_key(state, body.key)
    if record is None or record.org_id != body.org_id or not record.active:
        raise Refused(ReasonCode.NOT_APPLICABLE)
    state.set(state_keys.org_key(body.key), OrgKeyRecord(body.org_id, False).encode())


def process_enroll_voter(
    state: OverlayState, context: BlockContext, tx: Transaction, body: EnrollVoter
) -> None:
    """First key of a phone: active at once. Later keys: the phone's replacement, active
    KEY_REPLACEMENT_DELAY_MS after this block's time; a replacement still waiting is
    dropped (its key revoked) and the clock starts again."""
    if not is_set(state, state_keys.attester(tx.signer)):
        raise Refused(ReasonCode.NOT_AUTHORIZED)
    now_ms = context.timestamp_ms
    existing = read_key_at(state, body.voter_key, now_ms)
    if existing is not None:
        if existing.phone_id == body.phone_id and existing.status != "revoked":
            raise Refused(ReasonCode.ALREADY_ENROLLED)
        raise Refused(ReasonCode.KEY_IN_USE)
    phone = read_phone_at(state, body.phone_id, now_ms)
    if phone is None:
        record = PhoneRecord(body.voter_key, context.height, 1)
        add_to_count(state, state_keys.stat("voters"), 1)
    else:
        effective_at_ms = now_ms + limits.KEY_REPLACEMENT_DELAY_MS
        replacement = Replacement(body.voter_key, context.height, effective_at_ms)
        record = PhoneRecord(
            phone.active_key, phone.enrolled_height, phone.enrollments + 1, replacement
        )
    state.set(state_keys.phone(body.phone_id), record.encode())
    state.set(state_keys.voter_key(body.voter_key), VoterKeyRecord(body.phone_id).encode())


def process_cancel_key_change(
    state: OverlayState, context: BlockContext, tx: Transaction, body: CancelKeyChange
) -> None:
    """The phone's active key drops the replacement waiting to take over from it."""
    signer = read_key_at(state, tx.signer, context.timestamp_ms)
    if signer is None:
        raise Refused(ReasonCode.NOT_ENROLLED)
    validate_key_is_active(signer)
    phone = signer.phone
    if phone.replacement is None:
        raise Refused(ReasonCode.NOT_APPLICABLE)
    kept = PhoneRecord(phone.active_key, phone.enrolled_height, phone.enrollments)
    state.set(state_keys.phone(signer.phone_id), kept.encode())


# Rules shared by several kinds.


def validate_admin(state: StateView, signer: bytes) -> None:
    """Refused not_authorized unless `signer` is a genesis admin key."""
    if not is_set(state, state_keys.admin(signer)):
        raise Refused(ReasonCode.NOT_AUTHORIZED)


def validate_org_exists(state: StateView, org_id: str) -> None:
    if read_org(state, org_id) is None:
        raise Refused(ReasonCode.UNKNOWN_ORG)


def validate_org_key_unused(state: StateView, key: bytes) -> None:
    """Refused key_in_use if `key` was ever an organisation key (revoked ones included)."""
    if read_org_key(state, key) is not None:
        raise Refused(ReasonCode.KEY_IN_USE)


def check_org_signer(state: StateView, org_id: str, signer: bytes) -> None:
    """Refused unless `signer` is an active key of `org_id`.

    not_authorized if the key belongs to no organisation or to another one;
    key_revoked if it is a revoked key of this one.
    """
    record = read_org_key(state, signer)
    if record is None or record.org_id != org_id:
        raise Refused(ReasonCode.NOT_AUTHORIZED)
    if not record.active:
        raise Refused(ReasonCode.KEY_REVOKED)


def check_voter_signer(state: StateView, signer: bytes, now_ms: int) -> bytes:
    """The phone_id of a voter key active at `now_ms`.

    not_enrolled for a key never enrolled; key_pending for a replacement still waiting;
    key_revoked for a replaced key.
    """
    key = read_key_at(state, signer, now_ms)
    if key is None:
        raise Refused(ReasonCode.NOT_ENROLLED)
    validate_key_is_active(key)
    return key.phone_id
