"""The attester's rules: verify a phone by one-time code in a session, then sign enroll_voter.

The clock and the code sender are injected, so every limit is tested with a fake clock.
node/attester_service.py puts this behind HTTP and submits the transactions.

What stops whom (docs/OPERATIONS.md "Security" gives the figures):
- `start` answers every valid number alike: a random session token, never the phone_id,
  and it never reads the chain, so it tells nobody whether a number is enrolled.
- Each session has its own code (8 digits) and its own attempt counter: a stranger's wrong
  guesses in other sessions never void a citizen's pending code.
- A wrong-guess budget per number across all sessions and codes (wrong_guess_budget per
  wrong_guess_window_s), then a lockout for wrong_guess_window_s: a brute force gets at
  most `budget` guesses per window whatever the number of sessions. The price: a stranger
  can lock a number out for a day (a delay, never a takeover).
- The resend interval per number holds across sessions; a global cap bounds codes per
  minute to all numbers together; codes go only to allowed country codes.

Kept in memory: phone_id, a salted hash of each code, and the number itself only inside
a live session (the notice after `finish` goes to it); expired sessions are swept.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import votingcontract
from chain.keys import PrivateKey
from chain.tx import Transaction
from node.errors import RpcError, RpcErrorCode
from node.senders import CodeSender, SendFailed

log = logging.getLogger("votechain.attester")

CODE_DIGITS = 8
SESSION_TOKEN_BYTES = 16
GLOBAL_WINDOW_S = 60
RETRY_SEND_AFTER_S = 30
SWEEP_EVERY_S = 1.0
"""Requests sweep expired state at most this often (a sweep walks every number kept)."""


@dataclass(frozen=True)
class AttesterLimits:
    """The attester's limits; cluster.toml [attester] sets them (node/config.py)."""

    code_ttl_s: int = 300
    max_attempts: int = 5
    wrong_guess_budget: int = 10
    wrong_guess_window_s: int = 86_400
    resend_interval_s: int = 60
    max_codes_per_minute: int = 60
    allowed_country_codes: tuple[str, ...] = ("82",)

    def shared_by(self, instances: int) -> AttesterLimits:
        """This instance's share when `instances` attesters run (docs/adr/008).

        Each keeps its counts in memory, so k instances with the whole budget each would
        give an attacker k times the guesses at one number per window, and k times the
        codes per minute. The cluster-wide figures are split instead: together the
        instances allow at most the configured budget (config refuses fewer units than
        instances). The resend interval is a time, not a count, and stays per instance."""
        return replace(
            self,
            wrong_guess_budget=max(1, self.wrong_guess_budget // instances),
            max_codes_per_minute=max(1, self.max_codes_per_minute // instances),
        )


def session_attester(session: str) -> str | None:
    """The id of the attester instance that handed out `session` (its token is
    "<id>.<random>"), or None for a token without one."""
    attester_id, dot, _ = session.partition(".")
    if not dot or not _is_instance_id(attester_id):
        return None
    return attester_id


def _is_instance_id(text: str) -> bool:
    return 1 <= len(text) <= 32 and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


@dataclass(frozen=True)
class Started:
    session: str
    expires_in_s: int


@dataclass(frozen=True)
class Verified:
    """A session whose code was right; the enrollment is being submitted."""

    session: str
    phone_id: bytes
    e164: str
    voter_key: bytes


@dataclass
class _Session:
    phone_id: bytes
    e164: str
    code_hash: bytes
    salt: bytes
    expires_s: float
    reference: str
    """The sender's reference of the message that carried the code (for `discard`)."""
    attempts: int = 0
    completing: bool = False


@dataclass
class _Number:
    """What the attester remembers of one phone_id across sessions."""

    last_code_s: float | None = None
    wrong_guesses_s: list[float] = field(default_factory=list)
    locked_until_s: float = 0.0


class Attester:
    def __init__(
        self,
        key: PrivateKey,
        pepper: bytes,
        chain_id: str,
        sender: CodeSender,
        clock_s: Callable[[], float],
        limits: AttesterLimits | None = None,
        instance_id: str = "attester",
    ) -> None:
        self.key, self.pepper, self.chain_id, self.sender = key, pepper, chain_id, sender
        self.instance_id = instance_id
        """Prefixes every session token, so a finish sent to another instance is told where
        its session lives (sessions live in one instance's memory)."""
        self.clock_s = clock_s
        self.limits = limits or AttesterLimits()
        self.counts: Counter[str] = Counter()
        """codes_sent, send_failures, wrong_guesses, lockouts, enrollments, notices_sent."""
        self.limit_trips: Counter[str] = Counter()
        """Refusals by kind: resend_interval, global, country, locked_out, session_attempts
        (the service adds client_start and client_finish)."""
        self._sessions: dict[str, _Session] = {}
        self._numbers: dict[bytes, _Number] = {}
        self._recent_sends_s: list[float] = []
        self._last_sweep_s = float("-inf")

    @property
    def code_ttl_s(self) -> int:
        return self.limits.code_ttl_s

    # --- start ---------------------------------------------------------------------------

    async def start(self, phone: str) -> Started:
        """Send a code to `phone` in a new session; the answer is the same for every number."""
        e164 = self._normalise(phone)
        phone_id = votingcontract.phone_id(self.pepper, e164)
        now = self.clock_s()
        self.sweep(force=False)
        number = self._numbers.setdefault(phone_id, _Number())
        self._check_not_locked(number, phone_id, now)
        if number.last_code_s is not None:
            wait_s = number.last_code_s + self.limits.resend_interval_s - now
            if wait_s > 0:
                self.trip("resend_interval", phone_id)
                raise RpcError(
                    RpcErrorCode.TOO_MANY_ATTEMPTS,
                    f"a code was sent to this number less than {self.limits.resend_interval_s} s "
                    "ago; use it, or wait before asking again",
                    retry_after_s=_whole_s(wait_s),
                )
        # A cap on codes to all numbers together: the gateway costs money and is a spam
        # vector that neither the per-number interval nor per-client buckets bound.
        self._recent_sends_s = [t for t in self._recent_sends_s if now - t < GLOBAL_WINDOW_S]
        if len(self._recent_sends_s) >= self.limits.max_codes_per_minute:
            self.trip("global", phone_id)
            raise RpcError(
                RpcErrorCode.BUSY,
                "too many codes are being sent right now; retry in a minute",
                retry_after_s=_whole_s(self._recent_sends_s[0] + GLOBAL_WINDOW_S - now),
            )
        # Reserve before the send awaits, so concurrent starts cannot pass the checks
        # together; undone if the gateway fails (a failed send is not a sent code).
        previous_s = number.last_code_s
        number.last_code_s = now
        self._recent_sends_s.append(now)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        try:
            reference = await self.sender.send(e164, f"votechain verification code: {code}")
        except SendFailed as exc:
            number.last_code_s = previous_s
            if now in self._recent_sends_s:
                self._recent_sends_s.remove(now)
            self.counts["send_failures"] += 1
            raise RpcError(
                RpcErrorCode.SEND_FAILED,
                "the code could not be sent (the SMS gateway did not take it); nothing was "
                "sent, try again shortly",
                retry_after_s=RETRY_SEND_AFTER_S,
            ) from exc
        salt = secrets.token_bytes(16)
        session = f"{self.instance_id}.{secrets.token_urlsafe(SESSION_TOKEN_BYTES)}"
        self._sessions[session] = _Session(
            phone_id, e164, _hash(salt, code), salt, now + self.limits.code_ttl_s, reference
        )
        self.counts["codes_sent"] += 1
        return Started(session, self.limits.code_ttl_s)

    # --- finish --------------------------------------------------------------------------

    def verify(self, session: str, code: str, voter_key: bytes) -> Verified:
        """Check the session's code; the session stays until `complete` or `release`."""
        now = self.clock_s()
        self.sweep(force=False)
        pending = self._sessions.get(session)
        if pending is not None and now > pending.expires_s:
            self._end_session(session)
            pending = None
        if pending is None:
            elsewhere = session_attester(session)
            if elsewhere is not None and elsewhere != self.instance_id:
                raise RpcError(
                    RpcErrorCode.WRONG_ATTESTER,
                    f"this session was started at attester {elsewhere}, not here "
                    f"({self.instance_id}), and lives only in its memory: send finish to "
                    f"{elsewhere}, or start again",
                )
            raise RpcError(
                RpcErrorCode.CODE_EXPIRED,
                "no such session: it expired, was used up, or never existed; start again",
            )
        if pending.completing:
            raise RpcError(
                RpcErrorCode.TOO_MANY_ATTEMPTS,
                "this session's enrollment is being submitted; wait for that answer",
                retry_after_s=1,
            )
        number = self._numbers.setdefault(pending.phone_id, _Number())
        self._check_not_locked(number, pending.phone_id, now)
        if hmac.compare_digest(_hash(pending.salt, code.strip()), pending.code_hash):
            pending.completing = True
            return Verified(session, pending.phone_id, pending.e164, voter_key)
        pending.attempts += 1
        self.counts["wrong_guesses"] += 1
        self._count_wrong_guess(number, pending.phone_id, now)
        if number.locked_until_s > now:
            self._check_not_locked(number, pending.phone_id, now)
        left = self.limits.max_attempts - pending.attempts
        if left <= 0:
            self._end_session(session)
            self.trip("session_attempts", pending.phone_id)
            raise RpcError(
                RpcErrorCode.TOO_MANY_ATTEMPTS,
                "wrong code, and this session has no attempts left; start again",
            )
        raise RpcError(RpcErrorCode.BAD_CODE, f"wrong code; {left} attempts left in this session")

    def enroll_tx(self, verified: Verified, nonce: int) -> Transaction:
        body = votingcontract.EnrollVoter(phone_id=verified.phone_id, voter_key=verified.voter_key)
        return Transaction.create(self.key, self.chain_id, body.KIND, body.encode(), nonce)

    def complete(self, verified: Verified) -> None:
        """The enrollment committed: the session and its code are used up."""
        self._end_session(verified.session)
        self.counts["enrollments"] += 1

    def release(self, verified: Verified) -> None:
        """The enrollment did not commit: the right code may be tried again in this session."""
        pending = self._sessions.get(verified.session)
        if pending is not None:
            pending.completing = False

    async def send_notice(self, e164: str, effective_at_ms: int | None) -> bool:
        """Tell the number that a new device was registered; False if the send failed."""
        when = (
            datetime.fromtimestamp(effective_at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
            if effective_at_ms
            else "the end of its waiting period"
        )
        text = (
            "votechain: a new device was registered for this phone number. It replaces your "
            f"old device at {when} unless you cancel it from the old device."
        )
        try:
            await self.sender.send(e164, text)
        except SendFailed:
            self.counts["notice_failures"] += 1
            return False
        self.counts["notices_sent"] += 1
        return True

    # --- limits and housekeeping -------------------------------------------------------------

    def trip(self, kind: str, phone_id: bytes | None = None, client: str | None = None) -> None:
        """Count and log a limit that refused a request; the number only as a short hash."""
        self.limit_trips[kind] += 1
        number = f" number #{phone_id[:3].hex()}" if phone_id is not None else ""
        who = f" client {client}" if client is not None else ""
        log.warning("attester limit tripped: %s%s%s", kind, number, who)

    def sweep(self, force: bool = True) -> None:
        """Forget expired sessions (their outbox files go too) and numbers with no state;
        requests call it unforced, so a flood of them walks the table once a second."""
        now = self.clock_s()
        if not force and now - self._last_sweep_s < SWEEP_EVERY_S:
            return
        self._last_sweep_s = now
        for session in [s for s, v in self._sessions.items() if now > v.expires_s]:
            self._end_session(session)
        live = {s.phone_id for s in self._sessions.values()}
        window_s = self.limits.wrong_guess_window_s
        for phone_id, number in list(self._numbers.items()):
            number.wrong_guesses_s = [t for t in number.wrong_guesses_s if now - t < window_s]
            quiet = (
                number.last_code_s is None
                or now - number.last_code_s >= self.limits.resend_interval_s
            )
            if (
                phone_id not in live
                and quiet
                and not number.wrong_guesses_s
                and number.locked_until_s <= now
            ):
                del self._numbers[phone_id]

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    def _count_wrong_guess(self, number: _Number, phone_id: bytes, now: float) -> None:
        window_s = self.limits.wrong_guess_window_s
        number.wrong_guesses_s = [t for t in number.wrong_guesses_s if now - t < window_s]
        number.wrong_guesses_s.append(now)
        if len(number.wrong_guesses_s) >= self.limits.wrong_guess_budget:
            number.locked_until_s = now + window_s
            number.wrong_guesses_s = []
            self.counts["lockouts"] += 1
            for session in [s for s, v in self._sessions.items() if v.phone_id == phone_id]:
                self._end_session(session)

    def _check_not_locked(self, number: _Number, phone_id: bytes, now: float) -> None:
        if number.locked_until_s > now:
            self.trip("locked_out", phone_id)
            wait_s = number.locked_until_s - now
            raise RpcError(
                RpcErrorCode.LOCKED_OUT,
                f"too many wrong codes for this number; it is locked for {_whole_s(wait_s)} s "
                "more (if this was not you, someone tried to take over your number: your "
                "enrollment is unchanged)",
                retry_after_s=_whole_s(wait_s),
            )

    def _end_session(self, session: str) -> None:
        pending = self._sessions.pop(session, None)
        if pending is not None:
            self.sender.discard(pending.e164, pending.reference)

    def _normalise(self, phone: str) -> str:
        try:
            e164 = votingcontract.normalise_e164(phone)
        except ValueError as exc:
            raise RpcError(RpcErrorCode.BAD_PHONE, str(exc)) from exc
        allowed = self.limits.allowed_country_codes
        if not any(e164.startswith("+" + code) for code in allowed):
            self.trip("country")
            raise RpcError(
                RpcErrorCode.COUNTRY_NOT_ALLOWED,
                "this service sends codes only to numbers with country code "
                + " or ".join("+" + code for code in allowed),
            )
        return e164


def _hash(salt: bytes, code: str) -> bytes:
    return hashlib.sha256(salt + code.encode()).digest()


def _whole_s(seconds: float) -> int:
    return max(1, int(-(-seconds // 1)))
