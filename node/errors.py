"""The RPC's own error codes, defined once; the voting state machine's reason codes
(votingcontract.reasons) are passed through unchanged where a transaction is refused."""

from __future__ import annotations

from enum import StrEnum

from chain.errors import VotechainError


class RpcErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    """The body is not the JSON (or hex, or msgpack) the endpoint expects."""
    BODY_TOO_LARGE = "body_too_large"
    WRONG_CHAIN = "wrong_chain"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED_TX = "malformed_tx"
    ALREADY_COMMITTED = "already_committed"
    REFUSED = "refused"
    """The state machine would refuse the transaction now; `reason` says why."""
    BUSY = "busy"
    """The mempool is full, or the node's heavy-read pool is; retry after Retry-After."""
    SIGNER_BUSY = "signer_busy"
    """The signing key has its quota of transactions waiting; retry once they commit."""
    NOT_FOUND = "not_found"
    TIMEOUT = "timeout"
    """wait=commit gave up; the transaction may still commit (poll GET /v1/tx/{id})."""
    BAD_PHONE = "bad_phone"
    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    """The attester sends codes only to the country codes of attester.allowed_country_codes."""
    BAD_CODE = "bad_code"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    """Attester: a code was sent to this number too recently, or this client asked too often
    (per-client token bucket); retry after Retry-After."""
    LOCKED_OUT = "locked_out"
    """Attester: the number used its wrong-code budget; no code is checked or sent for it
    until Retry-After."""
    CODE_EXPIRED = "code_expired"
    """Attester: the session expired, was used up, or never existed; start again."""
    SEND_FAILED = "send_failed"
    """Attester: the SMS gateway did not take the message; nothing was sent, retry later."""
    WRONG_ATTESTER = "wrong_attester"
    """Attester: the session was started at another attester instance (its token names
    it); send finish there, or start again here (docs/adr/008)."""
    NOT_PERMITTED = "not_permitted"
    BAD_REQUEST_SIGNATURE = "bad_request_signature"
    """A signed read request (POST /v1/history) whose signature does not verify."""
    STALE_REQUEST = "stale_request"
    """A signed read request whose timestamp_ms is outside the node's freshness window."""
    INTERNAL = "internal"
    """The node failed on the request (a bug); its log has the traceback."""
    BEHIND = "behind"
    """This node is behind the cluster (its height is below what peers showed, it is
    fetching blocks, or it is changing views): a refusal from it may be stale, and it
    cannot confirm a commit soon. Retry on another node, or here after Retry-After."""
    CANNOT_COMMIT = "cannot_commit"
    """wait=commit on a node that cannot commit now (fewer than a quorum of validators
    connected, or a view change that has not ended); retry on another node."""
    STOPPING = "stopping"
    """The node is shutting down; a waiting transaction may still commit (ask another node)."""
    RATE_LIMITED = "rate_limited"
    """Validator RPC: this client (its address, or X-Forwarded-For from a trusted proxy)
    sent more transactions or heavy reads than its token bucket allows; retry after
    Retry-After (rpc.client_* settings)."""
    BAD_IMAGE = "bad_image"
    """PUT /v1/images/{sha256}: the bytes are not the image the poll names (another hash
    or size, or not the PNG, JPEG or WebP it says); nothing was stored."""
    REPLAYED_REQUEST = "replayed_request"
    """A signed request (an organisation's roll request to the attester) whose key and
    nonce were already received: sign a new one (docs/adr/007)."""


HTTP_STATUS = {
    RpcErrorCode.BAD_REQUEST: 400,
    RpcErrorCode.BODY_TOO_LARGE: 413,
    RpcErrorCode.WRONG_CHAIN: 400,
    RpcErrorCode.BAD_SIGNATURE: 400,
    RpcErrorCode.MALFORMED_TX: 400,
    RpcErrorCode.ALREADY_COMMITTED: 409,
    RpcErrorCode.REFUSED: 422,
    RpcErrorCode.BUSY: 503,
    RpcErrorCode.SIGNER_BUSY: 429,
    RpcErrorCode.NOT_FOUND: 404,
    RpcErrorCode.TIMEOUT: 504,
    RpcErrorCode.BAD_PHONE: 400,
    RpcErrorCode.COUNTRY_NOT_ALLOWED: 400,
    RpcErrorCode.BAD_CODE: 403,
    RpcErrorCode.TOO_MANY_ATTEMPTS: 429,
    RpcErrorCode.LOCKED_OUT: 429,
    RpcErrorCode.CODE_EXPIRED: 410,
    RpcErrorCode.SEND_FAILED: 503,
    RpcErrorCode.WRONG_ATTESTER: 421,
    RpcErrorCode.NOT_PERMITTED: 403,
    RpcErrorCode.BAD_REQUEST_SIGNATURE: 403,
    RpcErrorCode.STALE_REQUEST: 403,
    RpcErrorCode.INTERNAL: 500,
    RpcErrorCode.BEHIND: 503,
    RpcErrorCode.CANNOT_COMMIT: 503,
    RpcErrorCode.STOPPING: 503,
    RpcErrorCode.RATE_LIMITED: 429,
    RpcErrorCode.BAD_IMAGE: 422,
    RpcErrorCode.REPLAYED_REQUEST: 409,
}

RETRYABLE = frozenset(
    {RpcErrorCode.BUSY, RpcErrorCode.BEHIND, RpcErrorCode.CANNOT_COMMIT, RpcErrorCode.STOPPING}
)
"""Codes that say "not now, not here": the same request may succeed later or on another
node. They are answered 503 with Retry-After; clients try the next node of the cluster."""


class RpcError(VotechainError):
    """An error the RPC reports as {"error": code, "message": ..., "reason": ...}."""

    def __init__(
        self,
        code: RpcErrorCode,
        message: str,
        reason: str | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.reason = code, message, reason
        self.retry_after_s = retry_after_s
        """Seconds after which the same request may succeed (sent as Retry-After)."""

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]

    def to_dict(self) -> dict[str, str]:
        body = {"error": self.code.value, "message": self.message}
        if self.reason is not None:
            body["reason"] = self.reason
        return body
