"""Phone numbers to roll phone_ids, for registered organisations only (docs/adr/007).

An office builds a voter roll from phone numbers it already holds, but a roll on chain
takes phone_ids, HMACs under the attester's pepper. The attester answers

    POST /v1/roll/phone-ids   {"org_id", "key", "timestamp_ms", "nonce", "phones", "signature"}
                              -> {"phone_ids": [hex, ...]}   (same order as "phones")

for a request signed by an active key of the organisation:

    signature = Ed25519(org key,
                        tagged_hash(CLIENT_REQUEST, encode(["roll-phone-ids-request",
                            chain_id, org_id, key, timestamp_ms, nonce, [phone, ...]])))

with phones already in E.164 form. This module holds the request's format and the
attester's rules (freshness, signature, replay, the validators' word on the key, the
per-organisation daily quota, the audit line); node/attester_service.py does the I/O.
Clocks are injected, so every rule is tested without waiting. No phone number is ever
logged, counted or kept: the audit says which organisation and key asked for how many.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import votingcontract
from chain import encoding
from chain.hashing import Domain, tagged_hash
from chain.keys import PrivateKey, verify_signature
from node.errors import RpcError, RpcErrorCode
from node.jsonbody import hex_field
from votingcontract import limits

ROLL_REQUEST_TAG = "roll-phone-ids-request"
ROLL_REQUEST_WINDOW_MS = 5 * 60 * 1000
"""timestamp_ms may be this far from the attester's clock either way; within it a nonce is
remembered, so a captured request cannot be answered twice."""
MAX_ROLL_PHONES = limits.MAX_LIST_KEYS
"""Numbers in one request: one answer fills one extend_roll (or a create_poll's roll)."""
MAX_ROLL_BODY_BYTES = 64 * 1024
"""1,000 numbers of up to 16 characters in JSON, with room to spare."""
NONCE_BYTES = 16
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
DAY_S = 86_400.0
MAX_REMEMBERED_NONCES = 100_000
"""Live nonces kept; past it new requests are refused busy until old ones expire (the
per-client buckets keep an honest load far below it)."""

audit_log = logging.getLogger("votechain.attester.audit")


@dataclass(frozen=True)
class RollRequest:
    org_id: str
    key: bytes
    timestamp_ms: int
    nonce: bytes
    phones: tuple[str, ...]
    signature: bytes


def roll_request_hash(
    chain_id: str, org_id: str, key: bytes, timestamp_ms: int, nonce: bytes, phones: Sequence[str]
) -> bytes:
    """What the organisation's key signs (docs/PROTOCOL.md section 14.5)."""
    statement = encoding.encode(
        [ROLL_REQUEST_TAG, chain_id, org_id, key, timestamp_ms, nonce, list(phones)]
    )
    return tagged_hash(Domain.CLIENT_REQUEST, statement)


def sign_roll_request(
    key: PrivateKey,
    chain_id: str,
    org_id: str,
    phones: Sequence[str],
    timestamp_ms: int,
    nonce: bytes,
) -> dict[str, Any]:
    """The JSON body of POST /v1/roll/phone-ids."""
    digest = roll_request_hash(chain_id, org_id, key.public_key, timestamp_ms, nonce, phones)
    return {
        "org_id": org_id,
        "key": key.public_key.hex(),
        "timestamp_ms": timestamp_ms,
        "nonce": nonce.hex(),
        "phones": list(phones),
        "signature": key.sign(digest).hex(),
    }


def parse_roll_request(
    document: dict[str, Any], allowed_country_codes: Sequence[str]
) -> RollRequest:
    """The request's fields, or an RpcError naming the one that is wrong. A bad number is
    named by its index, never echoed: error answers end up in logs."""
    org_id = document.get("org_id")
    if not (
        isinstance(org_id, str)
        and 0 < len(org_id) <= limits.MAX_ORG_ID_LENGTH
        and set(org_id) <= limits.ORG_ID_ALPHABET
    ):
        raise RpcError(
            RpcErrorCode.BAD_REQUEST,
            f"field 'org_id' must be an organisation id (1 to {limits.MAX_ORG_ID_LENGTH} "
            "characters of a-z 0-9 - _ .)",
        )
    timestamp_ms = document.get("timestamp_ms")
    if not (
        isinstance(timestamp_ms, int)
        and not isinstance(timestamp_ms, bool)
        and 0 <= timestamp_ms < 2**63
    ):
        raise RpcError(RpcErrorCode.BAD_REQUEST, "field 'timestamp_ms' must be an integer >= 0")
    phones = document.get("phones")
    if not isinstance(phones, list) or not 1 <= len(phones) <= MAX_ROLL_PHONES:
        raise RpcError(
            RpcErrorCode.BAD_REQUEST,
            f"field 'phones' must be a list of 1 to {MAX_ROLL_PHONES} phone numbers",
        )
    for index, phone in enumerate(phones):
        _check_phone(index, phone, allowed_country_codes)
    if len(set(phones)) != len(phones):
        raise RpcError(RpcErrorCode.BAD_REQUEST, "field 'phones' names a number twice")
    return RollRequest(
        org_id,
        hex_field(document, "key", PUBLIC_KEY_BYTES),
        timestamp_ms,
        hex_field(document, "nonce", NONCE_BYTES),
        tuple(phones),
        hex_field(document, "signature", SIGNATURE_BYTES),
    )


def check_roll_request(request: RollRequest, chain_id: str, now_ms: int) -> None:
    """STALE_REQUEST outside the window, BAD_REQUEST_SIGNATURE unless `key` signed it.
    (Whether `key` is an active key of `org_id` is the validators' answer.)"""
    skew_ms = request.timestamp_ms - now_ms
    if abs(skew_ms) > ROLL_REQUEST_WINDOW_MS:
        raise RpcError(
            RpcErrorCode.STALE_REQUEST,
            f"timestamp_ms is {skew_ms / 1000:+.0f} s from the attester's clock; a request "
            f"must be signed within {ROLL_REQUEST_WINDOW_MS // 1000} s of it (check your clock)",
        )
    digest = roll_request_hash(
        chain_id, request.org_id, request.key, request.timestamp_ms, request.nonce, request.phones
    )
    if not verify_signature(request.key, request.signature, digest):
        raise RpcError(
            RpcErrorCode.BAD_REQUEST_SIGNATURE,
            "the signature is not the key's over this roll request on this chain "
            "(docs/PROTOCOL.md section 14.5)",
        )


def org_key_is_active(answer: Any, org_id: str, key: bytes) -> bool:
    """Whether one validator's GET /v1/orgs/{org_id} answer lists `key` as active."""
    if not isinstance(answer, dict) or answer.get("org_id") != org_id:
        return False
    keys = answer.get("keys")
    if not isinstance(keys, list):
        return False
    return any(
        isinstance(entry, dict) and entry.get("key") == key.hex() and entry.get("active") is True
        for entry in keys
    )


def confirmations_needed(validator_count: int) -> int:
    """f + 1: at least one honest validator says the key is the organisation's."""
    return (validator_count - 1) // 3 + 1


@dataclass
class _Bucket:
    tokens: float
    updated_s: float


class RollIdIssuer:
    """The attester's state for roll requests: nonces seen, each organisation's quota."""

    def __init__(
        self,
        pepper: bytes,
        chain_id: str,
        phones_per_org_per_day: int,
        clock_s: Callable[[], float],
        wall_ms: Callable[[], int],
    ) -> None:
        self.pepper, self.chain_id = pepper, chain_id
        self.per_day = phones_per_org_per_day
        self.clock_s, self.wall_ms = clock_s, wall_ms
        self.issued: dict[str, int] = {}
        """phone_ids answered, by organisation (exported at /metrics)."""
        self.requests: dict[str, int] = {}
        self.refusals: dict[str, int] = {}
        """Roll requests refused, by error code."""
        self._nonces: dict[tuple[bytes, bytes], int] = {}
        """(key, nonce) -> wall ms after which the request is stale anyway."""
        self._quotas: dict[str, _Bucket] = {}

    def check(self, document: dict[str, Any], allowed_country_codes: Sequence[str]) -> RollRequest:
        """Everything the attester decides alone: format, freshness, signature, replay."""
        request = parse_roll_request(document, allowed_country_codes)
        now_ms = self.wall_ms()
        check_roll_request(request, self.chain_id, now_ms)
        self._remember(request, now_ms)
        return request

    def issue(self, request: RollRequest) -> list[bytes]:
        """The phone_ids, once the validators confirmed the key: spends the quota, counts
        and writes the audit line (organisation, key, how many; never a number)."""
        self._spend(request.org_id, len(request.phones))
        phone_ids = [votingcontract.phone_id(self.pepper, phone) for phone in request.phones]
        self.issued[request.org_id] = self.issued.get(request.org_id, 0) + len(phone_ids)
        self.requests[request.org_id] = self.requests.get(request.org_id, 0) + 1
        audit_log.info(
            "roll phone ids issued: org %s key %s count %d",
            request.org_id,
            request.key.hex()[:16],
            len(phone_ids),
        )
        return phone_ids

    def refused(self, error: RpcError, request: RollRequest | None) -> None:
        """Count a refusal; the audit names the organisation when the request said one."""
        self.refusals[error.code.value] = self.refusals.get(error.code.value, 0) + 1
        if request is not None:
            audit_log.warning(
                "roll phone ids refused: org %s key %s count %d: %s",
                request.org_id,
                request.key.hex()[:16],
                len(request.phones),
                error.code.value,
            )

    def _remember(self, request: RollRequest, now_ms: int) -> None:
        if len(self._nonces) >= MAX_REMEMBERED_NONCES:
            self._nonces = {k: v for k, v in self._nonces.items() if v >= now_ms}
        seen = (request.key, request.nonce)
        if seen in self._nonces:
            raise RpcError(
                RpcErrorCode.REPLAYED_REQUEST,
                "this signed request (its key and nonce) was already received; sign a new one "
                "with a fresh nonce",
            )
        if len(self._nonces) >= MAX_REMEMBERED_NONCES:
            raise RpcError(
                RpcErrorCode.BUSY,
                "the attester holds too many recent roll requests; retry in a minute",
                retry_after_s=60,
            )
        # Remembered until the request would be stale anyway, so memory is bounded by
        # what the window lets through.
        self._nonces[seen] = request.timestamp_ms + ROLL_REQUEST_WINDOW_MS

    def _spend(self, org_id: str, count: int) -> None:
        """A token bucket of `per_day` numbers per organisation, refilled evenly over a day;
        a request takes all its numbers or none."""
        now = self.clock_s()
        bucket = self._quotas.get(org_id)
        if bucket is None:
            bucket = self._quotas[org_id] = _Bucket(float(self.per_day), now)
        else:
            elapsed_s = max(0.0, now - bucket.updated_s)
            bucket.tokens = min(self.per_day, bucket.tokens + elapsed_s * self.per_day / DAY_S)
            bucket.updated_s = now
        if count <= bucket.tokens:
            bucket.tokens -= count
            return
        if count > self.per_day:
            wait_s = int(DAY_S)
        else:
            wait_s = max(1, math.ceil((count - bucket.tokens) * DAY_S / self.per_day))
        raise RpcError(
            RpcErrorCode.TOO_MANY_ATTEMPTS,
            f"organisation {org_id} may turn {self.per_day} numbers into phone ids per day "
            f"here; {int(bucket.tokens)} are left now, this request has {count}: retry in "
            f"{wait_s} s or ask the attester's operator to raise roll_phones_per_org_per_day",
            retry_after_s=wait_s,
        )


def _check_phone(index: int, phone: Any, allowed_country_codes: Sequence[str]) -> None:
    what = f"phones[{index}]"
    if not isinstance(phone, str):
        raise RpcError(RpcErrorCode.BAD_PHONE, f"{what} must be a string")
    try:
        normalised = votingcontract.normalise_e164(phone)
    except ValueError:
        normalised = None
    if normalised != phone:
        raise RpcError(
            RpcErrorCode.BAD_PHONE,
            f"{what} is not a phone number in E.164 form (+, country code, 8 to 15 digits in "
            "all, nothing else)",
        )
    if not any(phone.startswith("+" + code) for code in allowed_country_codes):
        raise RpcError(
            RpcErrorCode.COUNTRY_NOT_ALLOWED,
            f"{what} has a country code this attester does not serve (only "
            + " or ".join("+" + code for code in allowed_country_codes)
            + "): it could never enroll here",
        )
