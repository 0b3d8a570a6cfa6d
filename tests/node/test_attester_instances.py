"""Several attester instances (issue 14, "enrollment that does not stop"; docs/adr/008).

cluster.toml lists them as [[attesters]]; each hands out session tokens naming itself,
tells a finish for another instance's session where that session lives, and enforces
its share of the cluster-wide guess budget and code cap, so k instances together allow
what one did. The real-process test is tests/cluster/test_attester_instances.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chain.keys import PrivateKey
from node.attester import Attester, AttesterLimits, session_attester
from node.config import ConfigError, load_config
from node.errors import RpcError, RpcErrorCode
from tests.node.fake_clock import FakeClock

PEPPER = b"pepper-for-tests-only"
KEY = PrivateKey.from_seed(b"a" * 32)
VOTER = PrivateKey.from_seed(b"v" * 32).public_key
PHONE = "+821012345678"
LIMITS = AttesterLimits(max_attempts=3, wrong_guess_budget=10, max_codes_per_minute=60)

NODES = """
[[nodes]]
id = "n1"
peer_port = 7001
rpc_port = 8001
"""
TWO = """
[[attesters]]
id = "a1"
host = "10.0.0.5"
port = 8100

[[attesters]]
id = "a2"
host = "10.0.0.6"
port = 8100
"""


class Sender:
    def __init__(self) -> None:
        self.codes: list[str] = []

    async def send(self, e164: str, text: str) -> str:
        self.codes.append(text.split()[-1])
        return str(len(self.codes))

    def discard(self, e164: str, reference: str) -> None:
        return None

    async def close(self) -> None:
        return None


def instance(attester_id: str, clock: FakeClock, sender: Sender, instances: int) -> Attester:
    limits = LIMITS.shared_by(instances)
    return Attester(KEY, PEPPER, "votechain-test", sender, clock, limits, attester_id)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cluster.toml"
    path.write_text(text)
    return path


# --- cluster.toml --------------------------------------------------------------------------


def test_attesters_are_listed_with_their_own_addresses_and_logs(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, NODES + TWO))
    assert [(a.attester_id, a.url) for a in config.attester_addresses] == [
        ("a1", "http://10.0.0.5:8100"),
        ("a2", "http://10.0.0.6:8100"),
    ]
    assert config.attester.url == "http://10.0.0.5:8100", "the first, for one-address callers"
    assert config.attester_log_path_of("a2") == tmp_path / "data-logs" / "a2.log"
    assert config.attester_address("a2").host == "10.0.0.6"
    with pytest.raises(ConfigError, match="lists attesters a1, a2: name one with --id"):
        config.attester_address(None)
    with pytest.raises(ConfigError, match="no attester 'a3'"):
        config.attester_address("a3")


def test_without_a_list_there_is_one_attester_as_before(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, NODES + "[attester]\nport = 8200\n"))
    [only] = config.attester_addresses
    assert (only.attester_id, only.url) == ("attester", "http://127.0.0.1:8200")
    assert config.attester_address(None) == only
    assert config.attester_log_path_of(only.attester_id) == config.attester_log_path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (NODES + "[attester]\nport = 8200\n" + TWO, "give each instance's host and port"),
        (NODES + '[[attesters]]\nid = "a.1"\nport = 8100\n', "it prefixes session tokens"),
        (NODES + '[[attesters]]\nid = ""\nport = 8100\n', "ASCII letters"),
        (NODES + "[[attesters]]\nport = 8100\n", "ASCII letters, digits"),
        (NODES + '[[attesters]]\nid = "a1"\nport = "x"\n', "port must be 1..65535"),
        (NODES + '[[attesters]]\nid = "a1"\nport = 8100\npepper = "x"\n', "unknown keys"),
        (NODES + '[[attesters]]\nid = "n1"\nport = 8100\n', "ids must be unique"),
        ("attesters = []\n" + NODES, "at least one attester"),
        (
            NODES + "[attester]\nwrong_guess_budget = 1\n" + TWO,
            "wrong_guess_budget (1) is split among the 2 attesters",
        ),
        (
            NODES + "[attester]\nmax_codes_per_minute = 1\n" + TWO,
            "max_codes_per_minute (1) is split",
        ),
    ],
)
def test_bad_attester_lists_are_refused_naming_what_is_wrong(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(write(tmp_path, text))


# --- sessions name their attester ------------------------------------------------------------


async def test_a_session_names_its_attester_and_another_one_says_where_it_lives() -> None:
    clock, sender = FakeClock(), Sender()
    a1, a2 = instance("a1", clock, sender, 2), instance("a2", clock, sender, 2)
    started = await a2.start(PHONE)
    assert started.session.startswith("a2.") and session_attester(started.session) == "a2"
    with pytest.raises(RpcError) as elsewhere:
        a1.verify(started.session, sender.codes[-1], VOTER)
    assert elsewhere.value.code == RpcErrorCode.WRONG_ATTESTER and elsewhere.value.status == 421
    assert "started at attester a2, not here (a1)" in elsewhere.value.message
    assert "send finish to a2, or start again" in elsewhere.value.message
    # the wrong instance changed nothing: the right code still works where the session is
    assert a1.counts["wrong_guesses"] == 0
    verified = a2.verify(started.session, sender.codes[-1], VOTER)
    assert verified.voter_key == VOTER


def test_an_unknown_session_without_another_attesters_name_is_code_expired() -> None:
    a1 = instance("a1", FakeClock(), Sender(), 2)
    for session in ["a1.gone", "no-dot-token", "bad id!.x", ""]:
        with pytest.raises(RpcError) as expired:
            a1.verify(session, "12345678", VOTER)
        assert expired.value.code == RpcErrorCode.CODE_EXPIRED, session
    assert session_attester("bad id!.x") is None and session_attester("x" * 33 + ".y") is None


# --- the budgets are shared, not multiplied --------------------------------------------------


def test_each_instance_gets_its_share_of_the_cluster_wide_figures() -> None:
    assert LIMITS.shared_by(1) == LIMITS
    two = LIMITS.shared_by(2)
    assert (two.wrong_guess_budget, two.max_codes_per_minute) == (5, 30)
    three = LIMITS.shared_by(3)
    assert (three.wrong_guess_budget, three.max_codes_per_minute) == (3, 20)
    assert (three.max_attempts, three.resend_interval_s) == (3, LIMITS.resend_interval_s)


async def test_guessing_at_one_number_across_two_attesters_gets_at_most_the_budget() -> None:
    """Before, each instance kept the whole budget: two gave an attacker twice the guesses."""
    clock, sender = FakeClock(), Sender()
    attesters = [instance("a1", clock, sender, 2), instance("a2", clock, sender, 2)]
    guesses = 0
    for attester in attesters:
        for _ in range(20):  # far more sessions than any budget allows
            try:
                started = await attester.start(PHONE)
            except RpcError as error:
                assert error.code == RpcErrorCode.LOCKED_OUT
                break
            for _ in range(LIMITS.max_attempts):
                guesses += 1
                with pytest.raises(RpcError) as answer:
                    attester.verify(started.session, f"{guesses:08d}", VOTER)
                if answer.value.code == RpcErrorCode.LOCKED_OUT:
                    break
            clock.now_s += LIMITS.resend_interval_s
    assert guesses == LIMITS.wrong_guess_budget == 10
    assert [a.counts["lockouts"] for a in attesters] == [1, 1]
