"""The attester's rules (issue 9, findings 3 and 4): sessions, guess budgets, limits, senders.

A fake clock and a recording sender stand for time and the phone network, so every limit
is checked without sleeping. Each attack of the issue is replayed here and shown to fail.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import votingcontract
from chain.keys import PrivateKey
from node.attester import CODE_DIGITS, Attester, AttesterLimits, Started
from node.errors import RpcError, RpcErrorCode
from node.ratelimit import TokenBuckets
from node.senders import DevOutboxSender, SendFailed, outbox_messages, read_outbox_code
from tests.node.fake_clock import FakeClock

PEPPER = b"pepper-for-tests-only"
CHAIN_ID = "votechain-test"
ATTESTER_KEY = PrivateKey.from_seed(b"a" * 32)
VOTER_KEY = PrivateKey.from_seed(b"v" * 32).public_key
ATTACKER_KEY = PrivateKey.from_seed(b"x" * 32).public_key
PHONE = "+82 10-1234-5678"
E164 = "+821012345678"
LIMITS = AttesterLimits(
    code_ttl_s=300,
    max_attempts=3,
    wrong_guess_budget=7,
    wrong_guess_window_s=86_400,
    resend_interval_s=60,
    max_codes_per_minute=1000,
)


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.discarded: list[str] = []
        self.failing = False

    async def send(self, e164: str, text: str) -> str:
        if self.failing:
            raise SendFailed("gateway down")
        self.sent.append((e164, text))
        return str(len(self.sent))

    def discard(self, e164: str, reference: str) -> None:
        self.discarded.append(reference)

    async def close(self) -> None:
        return None

    def last_code(self) -> str:
        return self.sent[-1][1].split()[-1]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def attester(clock: FakeClock, sender: RecordingSender) -> Attester:
    return Attester(ATTESTER_KEY, PEPPER, CHAIN_ID, sender, clock, LIMITS)


def refused(call: object, code: RpcErrorCode) -> RpcError:
    with pytest.raises(RpcError) as info:
        call()  # type: ignore[operator]
    assert info.value.code == code, info.value.message
    return info.value


async def refused_async(awaitable: object, code: RpcErrorCode) -> RpcError:
    with pytest.raises(RpcError) as info:
        await awaitable  # type: ignore[misc]
    assert info.value.code == code, info.value.message
    return info.value


def wrong(code: str) -> str:
    return "00000000" if code != "00000000" else "11111111"


def every_attribute_value(obj: object, depth: int = 0) -> list[object]:
    """All values reachable through the attributes, dicts and lists of `obj`."""
    if depth > 5:
        return []
    values: list[object] = [obj]
    children: list[object] = []
    if isinstance(obj, dict):
        children = [*obj.keys(), *obj.values()]
    elif isinstance(obj, list | tuple | set):
        children = list(obj)
    elif hasattr(obj, "__dict__"):
        children = list(vars(obj).values())
    for child in children:
        if child is not obj:
            values.extend(every_attribute_value(child, depth + 1))
    return values


# --- sessions --------------------------------------------------------------------------


async def test_start_returns_a_random_session_never_the_phone_id(
    attester: Attester, sender: RecordingSender
) -> None:
    started = await attester.start(PHONE)
    assert isinstance(started, Started) and started.expires_in_s == LIMITS.code_ttl_s
    phone_id = votingcontract.phone_id(PEPPER, E164)
    assert phone_id.hex() not in started.session and len(started.session) >= 20
    assert [number for number, _ in sender.sent] == [E164]
    code = sender.last_code()
    assert len(code) == CODE_DIGITS == 8 and code.isdigit()
    other = await attester.start("+821099990000")
    assert other.session != started.session


async def test_the_code_is_kept_only_as_a_salted_hash_and_the_number_only_while_a_session_lives(
    attester: Attester, sender: RecordingSender
) -> None:
    started = await attester.start(PHONE)
    code = sender.last_code()
    attester.sender = RecordingSender()  # the sender is the phone network, not the attester
    kept = every_attribute_value(attester)
    assert not any(isinstance(v, str) and code in v for v in kept), "the code is kept in clear"
    assert not any(isinstance(v, bytes) and code.encode() in v for v in kept)
    verified = attester.verify(started.session, code, VOTER_KEY)
    attester.complete(verified)
    kept = every_attribute_value(attester)
    assert not any(isinstance(v, str) and "1012345678" in v for v in kept)


async def test_a_wrong_code_counts_against_its_session_and_says_how_many_are_left(
    attester: Attester, sender: RecordingSender
) -> None:
    started = await attester.start(PHONE)
    code = sender.last_code()
    first = refused(
        lambda: attester.verify(started.session, wrong(code), VOTER_KEY), RpcErrorCode.BAD_CODE
    )
    assert "2 attempts left" in first.message
    verified = attester.verify(started.session, code, VOTER_KEY)
    assert attester.enroll_tx(verified, 1).kind == "enroll_voter"


async def test_a_session_is_void_after_max_attempts(
    attester: Attester, sender: RecordingSender
) -> None:
    started = await attester.start(PHONE)
    code = sender.last_code()
    for _ in range(LIMITS.max_attempts - 1):
        refused(
            lambda: attester.verify(started.session, wrong(code), VOTER_KEY), RpcErrorCode.BAD_CODE
        )
    refused(
        lambda: attester.verify(started.session, wrong(code), VOTER_KEY),
        RpcErrorCode.TOO_MANY_ATTEMPTS,
    )
    refused(lambda: attester.verify(started.session, code, VOTER_KEY), RpcErrorCode.CODE_EXPIRED)


async def test_strangers_wrong_guesses_leave_the_victims_session_intact(
    attester: Attester, sender: RecordingSender, clock: FakeClock
) -> None:
    """Finding 4: before, 6 wrong finish calls from anyone voided a victim's pending code."""
    victim = await attester.start(PHONE)
    victim_code = sender.last_code()
    # guessed session tokens: refused, and they touch no session and no number's budget
    for guess in ["x", victim.session + "A", "0" * len(victim.session)] * 5:
        refused(
            lambda guess=guess: attester.verify(guess, "12345678", ATTACKER_KEY),
            RpcErrorCode.CODE_EXPIRED,
        )
    # the stranger's own session for the same number (after the resend interval)
    clock.now_s += LIMITS.resend_interval_s
    stranger = await attester.start(PHONE)
    for _ in range(LIMITS.max_attempts):
        with pytest.raises(RpcError):
            attester.verify(stranger.session, wrong(victim_code), ATTACKER_KEY)
    assert attester.counts["wrong_guesses"] == LIMITS.max_attempts  # guessed tokens count none
    verified = attester.verify(victim.session, victim_code, VOTER_KEY)
    assert verified.voter_key == VOTER_KEY


async def test_the_resend_interval_per_number_holds_across_sessions(
    attester: Attester, sender: RecordingSender, clock: FakeClock
) -> None:
    await attester.start(PHONE)
    clock.now_s += LIMITS.resend_interval_s - 1
    error = await refused_async(attester.start("0082-10-1234-5678"), RpcErrorCode.TOO_MANY_ATTEMPTS)
    assert error.retry_after_s == 1
    assert len(sender.sent) == 1
    clock.now_s += 1
    await attester.start(PHONE)
    assert len(sender.sent) == 2


async def test_a_session_expires_after_the_code_ttl(
    attester: Attester, sender: RecordingSender, clock: FakeClock
) -> None:
    started = await attester.start(PHONE)
    clock.now_s += LIMITS.code_ttl_s
    attester.verify(started.session, sender.last_code(), VOTER_KEY)  # just inside
    late = await attester.start("+821055550000")
    clock.now_s += LIMITS.code_ttl_s + 1
    refused(
        lambda: attester.verify(late.session, sender.last_code(), VOTER_KEY),
        RpcErrorCode.CODE_EXPIRED,
    )


# --- finding 3: brute force across sessions ------------------------------------------------


async def test_brute_force_of_one_number_across_many_sessions_stops_at_the_budget(
    attester: Attester, sender: RecordingSender, clock: FakeClock
) -> None:
    """Finding 3: before, 57 codes and 285 guesses in 10.7 s; now `budget` guesses a day."""
    guesses = 0
    locked: RpcError | None = None
    for _ in range(100):  # far more sessions than the budget allows
        try:
            started = await attester.start(PHONE)
        except RpcError as error:
            locked = error
            break
        for _ in range(LIMITS.max_attempts):
            guesses += 1
            with pytest.raises(RpcError) as answer:
                attester.verify(started.session, f"{guesses:08d}", ATTACKER_KEY)
            if answer.value.code == RpcErrorCode.LOCKED_OUT:  # this guess was the last one
                break
            assert answer.value.code in (RpcErrorCode.BAD_CODE, RpcErrorCode.TOO_MANY_ATTEMPTS)
        clock.now_s += LIMITS.resend_interval_s
    assert guesses == LIMITS.wrong_guess_budget > LIMITS.max_attempts
    assert attester.counts["wrong_guesses"] == LIMITS.wrong_guess_budget
    assert locked is not None and locked.code == RpcErrorCode.LOCKED_OUT
    assert locked.status == 429 and locked.retry_after_s is not None
    assert locked.retry_after_s > LIMITS.wrong_guess_window_s - 3600
    assert "locked" in locked.message
    assert attester.counts["lockouts"] == 1
    # locked: even the right code of a live session is no longer checked
    assert attester.session_count == 0
    # after the lockout the number may ask again
    clock.now_s += LIMITS.wrong_guess_window_s
    started = await attester.start(PHONE)
    attester.verify(started.session, sender.last_code(), VOTER_KEY)


async def test_wrong_guesses_older_than_the_window_no_longer_count(
    attester: Attester, sender: RecordingSender, clock: FakeClock
) -> None:
    for _ in range(2):
        started = await attester.start(PHONE)
        for _ in range(LIMITS.max_attempts):
            with pytest.raises(RpcError):
                attester.verify(started.session, wrong(sender.last_code()), ATTACKER_KEY)
        clock.now_s += LIMITS.wrong_guess_window_s  # each batch in its own day
    assert attester.counts["lockouts"] == 0
    started = await attester.start(PHONE)
    attester.verify(started.session, sender.last_code(), VOTER_KEY)


# --- finding 4: pumping ------------------------------------------------------------------


async def test_codes_to_all_numbers_together_are_capped_per_minute(
    clock: FakeClock, sender: RecordingSender
) -> None:
    capped = Attester(
        ATTESTER_KEY, PEPPER, CHAIN_ID, sender, clock, AttesterLimits(max_codes_per_minute=3)
    )
    for i in range(3):
        await capped.start(f"+8210000000{i:02d}")
    error = await refused_async(capped.start("+821000000099"), RpcErrorCode.BUSY)
    assert error.retry_after_s == 60
    assert capped.limit_trips["global"] == 1
    clock.now_s += 61
    await capped.start("+821000000099")
    assert len(sender.sent) == 4


@pytest.mark.parametrize("phone", ["+1 202 555 0100", "+44 20 7946 0000", "+8613800138000"])
async def test_numbers_outside_the_allowed_country_codes_are_refused_and_nothing_is_sent(
    attester: Attester, sender: RecordingSender, phone: str
) -> None:
    error = await refused_async(attester.start(phone), RpcErrorCode.COUNTRY_NOT_ALLOWED)
    assert "+82" in error.message and error.status == 400
    assert sender.sent == [] and attester.limit_trips["country"] == 1


@pytest.mark.parametrize(
    "phone", ["", "12345", "010-1234-5678", "+0123456789", "+82 10 abcd", "+1", "+" + "1" * 999]
)
async def test_a_bad_number_is_bad_phone_and_nothing_is_sent(
    attester: Attester, sender: RecordingSender, phone: str
) -> None:
    await refused_async(attester.start(phone), RpcErrorCode.BAD_PHONE)
    assert sender.sent == []


def test_token_buckets_allow_a_burst_then_one_per_interval_per_client(clock: FakeClock) -> None:
    buckets = TokenBuckets(burst=3, per_hour=60, clock_s=clock)
    assert [buckets.take("pump") for _ in range(3)] == [None, None, None]
    assert buckets.take("pump") == 60
    assert buckets.take("citizen") is None, "another client is not throttled"
    clock.now_s += 59
    assert buckets.take("pump") == 1
    clock.now_s += 1
    assert buckets.take("pump") is None


def test_token_buckets_stay_bounded_under_many_clients(clock: FakeClock) -> None:
    buckets = TokenBuckets(burst=2, per_hour=60, clock_s=clock, max_clients=100)
    for i in range(1000):
        buckets.take(f"10.0.{i // 256}.{i % 256}")
    assert len(buckets) <= 100


# --- senders -------------------------------------------------------------------------------


async def test_a_failed_send_is_a_retryable_error_and_not_a_sent_code(
    attester: Attester, sender: RecordingSender
) -> None:
    sender.failing = True
    error = await refused_async(attester.start(PHONE), RpcErrorCode.SEND_FAILED)
    assert error.status == 503 and error.retry_after_s
    assert attester.counts["codes_sent"] == 0 and attester.counts["send_failures"] == 1
    assert attester.session_count == 0
    sender.failing = False
    await attester.start(PHONE)  # the failed send used no resend interval
    assert attester.counts["codes_sent"] == 1


async def test_the_dev_outbox_file_is_private_and_gone_once_its_code_is_used(
    tmp_path: Path, clock: FakeClock
) -> None:
    outbox = tmp_path / "outbox"
    attester = Attester(ATTESTER_KEY, PEPPER, CHAIN_ID, DevOutboxSender(outbox), clock, LIMITS)
    assert read_outbox_code(outbox, E164) is None
    started = await attester.start(PHONE)
    [path] = outbox.iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    code = read_outbox_code(outbox, E164)
    assert code is not None and len(code) == CODE_DIGITS
    attester.complete(attester.verify(started.session, code, VOTER_KEY))
    assert list(outbox.iterdir()) == [], "a used code leaves no file behind"


async def test_the_dev_outbox_file_is_gone_once_its_code_expires_or_its_session_is_void(
    tmp_path: Path, clock: FakeClock
) -> None:
    outbox = tmp_path / "outbox"
    attester = Attester(ATTESTER_KEY, PEPPER, CHAIN_ID, DevOutboxSender(outbox), clock, LIMITS)
    await attester.start(PHONE)
    clock.now_s += LIMITS.code_ttl_s + 1
    attester.sweep()
    assert list(outbox.iterdir()) == []
    started = await attester.start("+821055551234")
    for _ in range(LIMITS.max_attempts):
        with pytest.raises(RpcError):
            attester.verify(started.session, "99999999x", VOTER_KEY)
    assert list(outbox.iterdir()) == []


async def test_a_pending_enrollment_sends_the_number_a_notice(
    tmp_path: Path, clock: FakeClock
) -> None:
    outbox = tmp_path / "outbox"
    attester = Attester(ATTESTER_KEY, PEPPER, CHAIN_ID, DevOutboxSender(outbox), clock, LIMITS)
    assert await attester.send_notice(E164, 1_800_000_000_000)
    [notice] = outbox_messages(outbox, E164)
    assert "new device" in notice and "2027-01-15 08:00 UTC" in notice
    assert "old device" in notice and read_outbox_code(outbox, E164) is None


async def test_finish_yields_an_enroll_tx_signed_by_the_attester_for_the_phone_id(
    attester: Attester, sender: RecordingSender
) -> None:
    started = await attester.start(PHONE)
    verified = attester.verify(started.session, f" {sender.last_code()} ", VOTER_KEY)
    refused(
        lambda: attester.verify(started.session, sender.last_code(), VOTER_KEY),
        RpcErrorCode.TOO_MANY_ATTEMPTS,  # being submitted: one enrollment per session
    )
    tx = attester.enroll_tx(verified, 42)
    tx.verify(CHAIN_ID)
    assert tx.signer == ATTESTER_KEY.public_key and tx.nonce == 42
    body = votingcontract.decode_body(tx.kind, tx.body)
    assert body == votingcontract.EnrollVoter(
        phone_id=votingcontract.phone_id(PEPPER, E164), voter_key=VOTER_KEY
    )
    attester.release(verified)  # the validators did not commit it: the code may be retried
    attester.complete(attester.verify(started.session, sender.last_code(), VOTER_KEY))
    refused(
        lambda: attester.verify(started.session, sender.last_code(), VOTER_KEY),
        RpcErrorCode.CODE_EXPIRED,
    )
