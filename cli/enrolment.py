"""Enrolment from the CLI: the cluster's attester instances tried in turn, a finish sent
back to the instance that holds its session, and the one-step enrol-then-vote of
`votechain vote --phone` (docs/adr/008).

A session lives in the memory of the attester that started it; its token names that
attester ("<id>.<random>", node/attester.py). So `start` may go to any instance (the next
one when one is down or cannot send), and `finish` goes to the one the token names.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import votingcontract
from chain.errors import VotechainError
from chain.keys import PrivateKey
from cli import common
from cli.client import UNREACHABLE, RpcClient, RpcFailure
from cli.txs import describe_receipt
from node.attester import CODE_DIGITS, session_attester
from node.errors import RpcErrorCode
from node.senders import read_outbox_code

START_NEXT_CODES = frozenset(
    {
        UNREACHABLE,
        RpcErrorCode.BUSY.value,
        RpcErrorCode.SEND_FAILED.value,
        RpcErrorCode.INTERNAL.value,
        RpcErrorCode.LOCKED_OUT.value,
    }
)
"""A start refused with one of these goes to the next attester. A lockout is per instance
and each holds only its share of the number's guess budget, so asking the next one gives
an attacker nothing the budget did not already allow (docs/adr/008)."""
FINISH_TIMEOUT_S = 60.0
"""The attester waits for the enrolment to commit (commit_wait_timeout_s and a grace)."""
VISIBLE_TIMEOUT_S = 30.0
"""How long `vote --phone` waits for its node to show the committed enrolment."""
VISIBLE_POLL_S = 0.2


@dataclass(frozen=True)
class AttesterTarget:
    attester_id: str | None
    """None: an --attester URL, whose id the CLI does not know."""
    url: str

    @property
    def name(self) -> str:
        return f"attester {self.attester_id}" if self.attester_id else f"the attester {self.url}"


def attesters_of(args: argparse.Namespace) -> list[AttesterTarget]:
    """--attester URL alone, or every attester of the cluster file in its order."""
    if getattr(args, "attester", None):
        return [AttesterTarget(None, args.attester.rstrip("/"))]
    config = common.config_of(args)
    return [AttesterTarget(a.attester_id, a.url) for a in config.attester_addresses]


def start_session(attesters: list[AttesterTarget], phone: str) -> tuple[str, AttesterTarget]:
    """A new session at the first attester that can send a code; the others are said on
    stderr as they fail."""
    failures: list[RpcFailure] = []
    for target in attesters:
        try:
            answer = RpcClient(target.url).post("/v1/enroll/start", {"phone": phone})
        except RpcFailure as exc:
            if exc.code not in START_NEXT_CODES and not exc.code.startswith("http_5"):
                raise
            failures.append(exc)
            if target is not attesters[-1]:
                print(f"{target.name}: {exc}; trying the next attester", file=sys.stderr)
            continue
        return str(answer["session"]), target
    last = failures[-1]
    if len(attesters) == 1:
        raise last
    raise RpcFailure(
        f"none of the {len(attesters)} attesters could send a code; the last said: {last}",
        last.code,
        last.reason,
        last.retry_after_s,
    )


def finish_session(
    attesters: list[AttesterTarget],
    session: str,
    code: str,
    key: PrivateKey,
    started_at: AttesterTarget | None = None,
) -> dict[str, Any]:
    """Finish `session` at the attester that started it (`started_at`, else the one its
    token names)."""
    target = started_at or _holder(attesters, session)
    document = {"session": session, "code": code, "voter_key": key.public_key.hex()}
    try:
        result: dict[str, Any] = RpcClient(target.url, timeout_s=FINISH_TIMEOUT_S).post(
            "/v1/enroll/finish", document
        )
    except RpcFailure as exc:
        if exc.code != UNREACHABLE:
            raise
        raise RpcFailure(
            f"{target.name}, which started this session, cannot be reached ({exc}); a session "
            "lives only in the memory of the attester that started it: start again with "
            "--phone (another attester sends a new code)"
        ) from exc
    return result


def _holder(attesters: list[AttesterTarget], session: str) -> AttesterTarget:
    named = session_attester(session)
    if named is None or (len(attesters) == 1 and attesters[0].attester_id is None):
        return attesters[0]
    for target in attesters:
        if target.attester_id == named:
            return target
    listed = ", ".join(str(t.attester_id) for t in attesters)
    raise ValueError(
        f"session {session} was started at attester {named}, which the cluster file does not "
        f"list (it lists {listed}): give --attester with its URL, or start again with --phone"
    )


def enroll_key(
    args: argparse.Namespace,
    key: PrivateKey,
    phone: str | None,
    session: str | None,
    code: str | None,
) -> dict[str, Any]:
    """Start a session (unless `session` is given), get its code, and finish it: the
    attester's answer (the committed enroll_voter, voter_status, the old key's fate)."""
    attesters = attesters_of(args)
    started_at = None
    if session is None:
        if phone is None:
            raise ValueError("give --phone to start, or --session and --code to finish")
        session, started_at = start_session(attesters, phone)
        print(f"session {session}: {started_at.name} sent a code to {phone}", file=sys.stderr)
        code = code or code_from_outbox(args, phone) or ask_code(phone, session)
    elif code is None:
        raise ValueError("--session needs --code")
    return finish_session(attesters, session, code, key, started_at)


def key_change_lines(result: dict[str, Any]) -> list[str]:
    """What an accepted enrolment did to the phone's earlier keys, for people."""
    if not result.get("replaces_old_key") and result.get("voter_status") != "pending":
        return []
    at = utc(result.get("old_key_revoked_at_ms") or result.get("effective_at_ms"))
    return [
        f"this phone already had a key: that old key is revoked at {at} and this key votes "
        "from then, unless the old key's holder cancels with `votechain enroll cancel --key "
        "OLD_KEY_FILE` (a notice was sent to the phone). Until then the old key keeps voting "
        "and the chain refuses this one (key_pending). A key that was still waiting to "
        "replace the old one is revoked now."
    ]


def ensure_enrolled(args: argparse.Namespace, client: RpcClient, key: PrivateKey) -> bool:
    """`vote --phone`: enrol `key` unless the node already knows it, then wait until the
    node the ballot goes to shows it active. False (and why, on stderr) if the key cannot
    vote yet: the enrolment was refused, or it replaces the phone's key after a wait."""
    if _voter_status(client, key) is not None:
        return True  # enrolled already (a pending or revoked key's ballot says why)
    result = enroll_key(args, key, args.phone, args.session, args.code)
    accepted = bool(result.get("receipt", {}).get("accepted"))
    print(f"enrolment: {describe_receipt(result)}", file=sys.stderr)
    for line in key_change_lines(result):
        print(line, file=sys.stderr)
    if not accepted or result.get("voter_status") == "pending":
        print("not voting: this key cannot vote yet", file=sys.stderr)
        return False
    wait_until_active(client, key, int(result.get("height") or 0))
    return True


def wait_until_active(client: RpcClient, key: PrivateKey, height: int) -> None:
    """Wait until `client`'s node shows `key` active: the attester saw the enrolment
    commit at some validator, and this node may apply that block a moment later."""
    deadline = time.monotonic() + VISIBLE_TIMEOUT_S
    while time.monotonic() < deadline:
        status = _voter_status(client, key, quiet=True)
        if status is not None and status.get("status") == "active":
            return
        time.sleep(VISIBLE_POLL_S)
    raise RpcFailure(
        f"the enrolment committed at height {height}, but {client.base_url} does not show "
        f"the key active after {VISIBLE_TIMEOUT_S:.0f} s; vote again without --phone shortly",
        RpcErrorCode.BEHIND.value,
    )


def _voter_status(client: RpcClient, key: PrivateKey, quiet: bool = False) -> Any:
    """GET /v1/voters/{key}, or None for a key the node does not know."""
    try:
        return client.get(f"/v1/voters/{key.public_key.hex()}")
    except RpcFailure as exc:
        if exc.code == RpcErrorCode.NOT_FOUND.value or quiet:
            return None
        raise


def code_from_outbox(args: argparse.Namespace, phone: str) -> str | None:
    """The code in the development outbox (a local cluster's attesters write it there)."""
    try:
        config = common.config_of(args)
        e164 = votingcontract.normalise_e164(phone)
    except (ValueError, OSError, VotechainError):
        return None
    outbox = config.attester_outbox
    code = read_outbox_code(outbox, e164, CODE_DIGITS)
    if code is not None:
        print(f"(development outbox {outbox}: code {code})", file=sys.stderr)
    return code


def ask_code(phone: str, session: str) -> str:
    if not sys.stdin.isatty():
        raise ValueError(
            f"no code given: rerun with --session {session} --code CODE once the SMS arrives"
        )
    return input(f"code sent to {phone}: ").strip()


def utc(ms: object) -> str:
    if not isinstance(ms, int):
        return "the end of the waiting period"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
