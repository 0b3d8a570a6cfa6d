"""What a voter reads when the chain will not take their key: the real cause (replaced by
a newer enrolment, still waiting to take over, never enrolled) and what to do, instead of
a generic refusal. The node's own answer stays in the error's code and reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.client import RpcClient, RpcFailure
from cli.txs import submit
from node.errors import RpcErrorCode
from votingcontract.reasons import ReasonCode

KEY_REASONS = frozenset(
    {ReasonCode.KEY_REVOKED.value, ReasonCode.KEY_PENDING.value, ReasonCode.NOT_ENROLLED.value}
)


def submit_as_voter(client: RpcClient, key: PrivateKey, tx: Transaction) -> dict[str, Any]:
    """cli.txs.submit, with a refusal of the signing key explained (explain_key_refusal)."""
    try:
        return submit(client, tx)
    except RpcFailure as exc:
        raise explain_key_refusal(client, key, exc) from exc


def explain_key_refusal(client: RpcClient, key: PrivateKey, exc: RpcFailure) -> RpcFailure:
    """`exc` again, its message saying why this key cannot act when the key is the cause
    (a ballot refused key_revoked, key_pending or not_enrolled; a history read refused
    not_permitted); any other failure unchanged."""
    about_key = exc.reason in KEY_REASONS or exc.code == RpcErrorCode.NOT_PERMITTED.value
    if not about_key:
        return exc
    try:
        status: dict[str, Any] = client.get(f"/v1/voters/{key.public_key.hex()}")
    except RpcFailure as lookup:
        if lookup.code != RpcErrorCode.NOT_FOUND.value:
            return exc
        status = {"status": "unknown"}
    message = key_cause(status)
    if message is None:
        return exc
    return RpcFailure(message, exc.code, exc.reason or _reason_of(status), exc.retry_after_s)


def key_cause(status: dict[str, Any]) -> str | None:
    """One sentence for a key that cannot act, from GET /v1/voters/{key}; None for an
    active key (then the key is not the cause)."""
    state = status.get("status")
    if state == "revoked":
        # The node does not say when: once the phone's record is rewritten, the chain's
        # state no longer holds the time this key stopped counting.
        return (
            "key_revoked: this key was replaced by a newer enrolment of its phone (or "
            "its own enrolment, still waiting, was cancelled or displaced): it can no longer "
            "vote or read the phone's history. Use the phone's current key, or enrol this "
            "one again (`votechain enroll --phone NUMBER --key KEY_FILE`)"
        )
    if state == "pending":
        return (
            f"key_pending: this key replaces its phone's earlier key at "
            f"{utc(status.get('effective_at_ms'))}; until then the earlier key votes and the "
            "chain refuses this one"
        )
    if state == "unknown":
        return (
            "not_enrolled: this key was never enrolled for a phone: enrol it first "
            "(`votechain enroll --phone NUMBER --key KEY_FILE`)"
        )
    return None


def utc(ms: object) -> str:
    if not isinstance(ms, int):
        return "the end of the waiting period"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _reason_of(status: dict[str, Any]) -> str | None:
    return {
        "revoked": ReasonCode.KEY_REVOKED.value,
        "pending": ReasonCode.KEY_PENDING.value,
        "unknown": ReasonCode.NOT_ENROLLED.value,
    }.get(str(status.get("status")))
