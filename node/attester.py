"""The attester role: verify a phone by one-time code, then enroll the voter's key.

Only phone_id = HMAC-SHA256(pepper, normalised E.164 number) leaves this module; codes
are kept in memory keyed by phone_id, as a salted hash, and expire. The number itself
is handed only to the code sender (the phone network). The development sender stands
for the phone network: it writes each message to its own outbox folder, one file per
number, so that the CLI and tests can read the code; production configs leave it off.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import votingcontract
from chain.keys import PrivateKey
from chain.tx import Transaction
from node.errors import RpcError, RpcErrorCode

CODE_DIGITS = 6
RESEND_INTERVAL_S = 20
RATE_WINDOW_S = 60


class CodeSender(Protocol):
    def send(self, e164: str, text: str) -> None: ...


class DevOutboxSender:
    """Writes `<outbox>/<number>.txt`; the newest message replaces the previous one."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def send(self, e164: str, text: str) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.outbox / f"{e164}.txt"
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text + "\n")
        temporary.replace(path)


def read_outbox_code(outbox: Path, e164: str) -> str | None:
    """The code in the development outbox for a number (CLI and tests)."""
    path = outbox / f"{e164}.txt"
    if not path.exists():
        return None
    digits = [word for word in path.read_text().split() if word.isdigit()]
    return digits[-1] if digits else None


@dataclass
class _Pending:
    code_hash: bytes
    salt: bytes
    expires_s: float
    sent_s: float
    attempts: int = 0


class Attester:
    def __init__(
        self,
        key: PrivateKey,
        pepper: bytes,
        chain_id: str,
        sender: CodeSender,
        clock_s: Callable[[], float],
        code_ttl_s: int = 300,
        max_attempts: int = 5,
        max_codes_per_minute: int = 60,
    ) -> None:
        self.key, self.pepper, self.chain_id, self.sender = key, pepper, chain_id, sender
        self.clock_s, self.code_ttl_s, self.max_attempts = clock_s, code_ttl_s, max_attempts
        self.max_codes_per_minute = max_codes_per_minute
        self._pending: dict[bytes, _Pending] = {}
        self._recent_sends: list[float] = []

    def start(self, phone: str) -> bytes:
        """Send a code to `phone`; returns its phone_id."""
        e164 = self._normalise(phone)
        phone_id = votingcontract.phone_id(self.pepper, e164)
        now = self.clock_s()
        self._expire(now)
        previous = self._pending.get(phone_id)
        if previous is not None and now - previous.sent_s < RESEND_INTERVAL_S:
            raise RpcError(
                RpcErrorCode.TOO_MANY_ATTEMPTS,
                f"a code was sent less than {RESEND_INTERVAL_S} s ago; wait before asking again",
            )
        # A cap on codes sent to all numbers together: the SMS gateway costs money and
        # is a spam vector; the per-number interval alone does not bound it.
        self._recent_sends = [t for t in self._recent_sends if now - t < RATE_WINDOW_S]
        if len(self._recent_sends) >= self.max_codes_per_minute:
            raise RpcError(
                RpcErrorCode.BUSY, "too many codes are being sent right now; retry in a minute"
            )
        self._recent_sends.append(now)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = secrets.token_bytes(16)
        self._pending[phone_id] = _Pending(_hash(salt, code), salt, now + self.code_ttl_s, now)
        self.sender.send(e164, f"votechain verification code: {code}")
        return phone_id

    def finish(self, phone: str, code: str, voter_key: bytes, nonce: int) -> Transaction:
        """Check the code; return the signed enroll_voter transaction."""
        e164 = self._normalise(phone)
        phone_id = votingcontract.phone_id(self.pepper, e164)
        now = self.clock_s()
        pending = self._pending.get(phone_id)
        if pending is None:
            raise RpcError(RpcErrorCode.BAD_CODE, "no code was sent to this number; start again")
        if now > pending.expires_s:
            del self._pending[phone_id]
            raise RpcError(RpcErrorCode.CODE_EXPIRED, "the code has expired; ask for a new one")
        if pending.attempts >= self.max_attempts:
            del self._pending[phone_id]
            raise RpcError(RpcErrorCode.TOO_MANY_ATTEMPTS, "too many wrong codes; start again")
        pending.attempts += 1
        if not hmac.compare_digest(_hash(pending.salt, code.strip()), pending.code_hash):
            left = self.max_attempts - pending.attempts
            raise RpcError(RpcErrorCode.BAD_CODE, f"wrong code; {left} attempts left")
        del self._pending[phone_id]
        body = votingcontract.EnrollVoter(phone_id=phone_id, voter_key=voter_key)
        return Transaction.create(self.key, self.chain_id, body.KIND, body.encode(), nonce)

    def _normalise(self, phone: str) -> str:
        try:
            return votingcontract.normalise_e164(phone)
        except ValueError as exc:
            raise RpcError(RpcErrorCode.BAD_PHONE, str(exc)) from exc

    def _expire(self, now: float) -> None:
        for phone_id in [p for p, v in self._pending.items() if now > v.expires_s]:
            del self._pending[phone_id]


def _hash(salt: bytes, code: str) -> bytes:
    return hashlib.sha256(salt + code.encode()).digest()
