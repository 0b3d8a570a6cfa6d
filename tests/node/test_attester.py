"""The attester: one-time codes go only to the phone network, only phone_id is kept.

A fake clock and a recording sender stand for time and the phone network, so every rule
(attempts, expiry, resend interval) is checked without sleeping.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import votingcontract
from chain.keys import PrivateKey
from node.attester import (
    RESEND_INTERVAL_S,
    Attester,
    DevOutboxSender,
    read_outbox_code,
)
from node.errors import RpcError, RpcErrorCode

PEPPER = b"pepper-for-tests-only"
CHAIN_ID = "votechain-test"
ATTESTER_KEY = PrivateKey.from_seed(b"a" * 32)
VOTER_KEY = PrivateKey.from_seed(b"v" * 32).public_key
PHONE = "+82 10-1234-5678"
E164 = "+821012345678"


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, e164: str, text: str) -> None:
        self.sent.append((e164, text))

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
    return Attester(ATTESTER_KEY, PEPPER, CHAIN_ID, sender, clock, code_ttl_s=300, max_attempts=3)


def expect_refusal(call: object, code: RpcErrorCode) -> RpcError:
    with pytest.raises(RpcError) as info:
        call()  # type: ignore[operator]
    assert info.value.code == code, info.value.message
    return info.value


def every_attribute_value(obj: object, depth: int = 0) -> list[object]:
    """All values reachable through the attributes, dicts and lists of `obj`."""
    if depth > 4:
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
        if child is obj:
            continue
        values.extend(every_attribute_value(child, depth + 1))
    return values


def test_the_code_goes_to_the_sender_only_and_start_returns_the_phone_id(
    attester: Attester, sender: RecordingSender
) -> None:
    phone_id = attester.start(PHONE)
    assert phone_id == votingcontract.phone_id(PEPPER, E164)
    assert len(sender.sent) == 1
    number, text = sender.sent[0]
    assert number == E164
    code = sender.last_code()
    assert text.endswith(code)
    assert len(code) == 6 and code.isdigit()
    assert code not in phone_id.hex()


def test_only_the_phone_id_is_kept_never_the_number_or_the_code(
    attester: Attester, sender: RecordingSender
) -> None:
    attester.start(PHONE)
    code = sender.last_code()
    attester.sender = RecordingSender()  # the sender is the phone network, not the attester
    kept = every_attribute_value(attester)
    texts = [v for v in kept if isinstance(v, str)]
    blobs = [v for v in kept if isinstance(v, bytes)]
    assert not any("1012345678" in t for t in texts), texts
    assert not any(code in t for t in texts), "the code is kept in clear"
    assert not any(b"1012345678" in b or code.encode() in b for b in blobs)
    assert votingcontract.phone_id(PEPPER, E164) in blobs


def test_a_wrong_code_counts_attempts_and_says_how_many_are_left(
    attester: Attester, sender: RecordingSender
) -> None:
    attester.start(PHONE)
    wrong = "000000" if sender.last_code() != "000000" else "111111"
    first = expect_refusal(
        lambda: attester.finish(PHONE, wrong, VOTER_KEY, 1), RpcErrorCode.BAD_CODE
    )
    assert "2 attempts left" in first.message
    second = expect_refusal(
        lambda: attester.finish(PHONE, wrong, VOTER_KEY, 1), RpcErrorCode.BAD_CODE
    )
    assert "1 attempts left" in second.message
    # the right code still works while attempts remain
    tx = attester.finish(PHONE, sender.last_code(), VOTER_KEY, 1)
    assert tx.kind == "enroll_voter"


def test_max_attempts_voids_the_code(attester: Attester, sender: RecordingSender) -> None:
    attester.start(PHONE)
    right = sender.last_code()
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(attester.max_attempts):
        expect_refusal(lambda: attester.finish(PHONE, wrong, VOTER_KEY, 1), RpcErrorCode.BAD_CODE)
    expect_refusal(
        lambda: attester.finish(PHONE, right, VOTER_KEY, 1), RpcErrorCode.TOO_MANY_ATTEMPTS
    )
    # voided: even the right code no longer works, the citizen must start again
    expect_refusal(lambda: attester.finish(PHONE, right, VOTER_KEY, 1), RpcErrorCode.BAD_CODE)


def test_a_code_expires_after_its_ttl(
    attester: Attester, sender: RecordingSender, clock: FakeClock
) -> None:
    attester.start(PHONE)
    clock.now_s += attester.code_ttl_s + 1
    expect_refusal(
        lambda: attester.finish(PHONE, sender.last_code(), VOTER_KEY, 1),
        RpcErrorCode.CODE_EXPIRED,
    )
    expect_refusal(
        lambda: attester.finish(PHONE, sender.last_code(), VOTER_KEY, 1), RpcErrorCode.BAD_CODE
    )


def test_a_code_just_inside_its_ttl_still_works(
    attester: Attester, sender: RecordingSender, clock: FakeClock
) -> None:
    attester.start(PHONE)
    clock.now_s += attester.code_ttl_s
    assert attester.finish(PHONE, sender.last_code(), VOTER_KEY, 1).kind == "enroll_voter"


def test_a_new_code_only_after_the_resend_interval_and_it_replaces_the_old(
    attester: Attester, sender: RecordingSender, clock: FakeClock
) -> None:
    attester.start(PHONE)
    old = sender.last_code()
    clock.now_s += RESEND_INTERVAL_S - 1
    error = expect_refusal(lambda: attester.start(PHONE), RpcErrorCode.TOO_MANY_ATTEMPTS)
    assert f"{RESEND_INTERVAL_S} s" in error.message
    assert len(sender.sent) == 1
    clock.now_s += 1
    attester.start(PHONE)
    assert len(sender.sent) == 2
    new = sender.last_code()
    if new != old:
        expect_refusal(lambda: attester.finish(PHONE, old, VOTER_KEY, 1), RpcErrorCode.BAD_CODE)
    assert attester.finish(PHONE, new, VOTER_KEY, 1).kind == "enroll_voter"


def test_finish_without_start_is_a_bad_code(attester: Attester) -> None:
    error = expect_refusal(
        lambda: attester.finish(PHONE, "123456", VOTER_KEY, 1), RpcErrorCode.BAD_CODE
    )
    assert "start again" in error.message


@pytest.mark.parametrize(
    "phone", ["", "12345", "010-1234-5678", "+0123456789", "+82 10 abcd", "+1"]
)
def test_a_bad_number_is_bad_phone_and_nothing_is_sent(
    attester: Attester, sender: RecordingSender, phone: str
) -> None:
    expect_refusal(lambda: attester.start(phone), RpcErrorCode.BAD_PHONE)
    expect_refusal(lambda: attester.finish(phone, "123456", VOTER_KEY, 1), RpcErrorCode.BAD_PHONE)
    assert sender.sent == []


def test_finish_returns_an_enroll_tx_signed_by_the_attester_for_the_phone_id(
    attester: Attester, sender: RecordingSender
) -> None:
    attester.start(PHONE)
    tx = attester.finish("0082-10-1234-5678", f" {sender.last_code()} ", VOTER_KEY, 42)
    tx.verify(CHAIN_ID)
    assert tx.signer == ATTESTER_KEY.public_key
    assert tx.nonce == 42 and tx.chain_id == CHAIN_ID
    body = votingcontract.decode_body(tx.kind, tx.body)
    assert body == votingcontract.EnrollVoter(
        phone_id=votingcontract.phone_id(PEPPER, E164), voter_key=VOTER_KEY
    )
    # the code is used up
    expect_refusal(
        lambda: attester.finish(PHONE, sender.last_code(), VOTER_KEY, 43), RpcErrorCode.BAD_CODE
    )


def test_the_dev_outbox_writes_private_files_that_read_outbox_code_reads(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    attester = Attester(ATTESTER_KEY, PEPPER, CHAIN_ID, DevOutboxSender(outbox), FakeClock())
    assert read_outbox_code(outbox, E164) is None
    attester.start(PHONE)
    path = outbox / f"{E164}.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    code = read_outbox_code(outbox, E164)
    assert code is not None and len(code) == 6
    assert attester.finish(PHONE, code, VOTER_KEY, 1).kind == "enroll_voter"
    assert [p.name for p in outbox.iterdir()] == [f"{E164}.txt"], "no temporary files left"


def test_codes_to_all_numbers_together_are_capped_per_minute(
    clock: FakeClock, sender: RecordingSender
) -> None:
    """The per-number interval does not stop a flood to many numbers: a global cap does."""
    capped = Attester(ATTESTER_KEY, PEPPER, CHAIN_ID, sender, clock, max_codes_per_minute=3)
    for i in range(3):
        capped.start(f"+8210000000{i:02d}")
    expect_refusal(lambda: capped.start("+821000000099"), RpcErrorCode.BUSY)
    clock.now_s += 61
    capped.start("+821000000099")
    assert len(sender.sent) == 4
