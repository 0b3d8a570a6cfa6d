"""A secret poll's key generation and tally as the node shows them, read for trustees,
and the lines every command prints about it ("awaiting trustees 2, 3").

GET /v1/polls/{id}/crypto answers votingcontract.secret_polls.crypto_document: messages
as hex of their canonical encodings, decoded here with ballotcrypto's own decoders, so
a node that serves something malformed is refused with the field it got wrong.
"""

from __future__ import annotations

from typing import Any

from ballotcrypto import elgamal, group
from ballotcrypto.dkg import Dealing, TransportKey
from ballotcrypto.elgamal import Ciphertext
from chain import encoding
from chain.errors import DecodeError
from cli.client import RpcClient
from cli.errors import CliError
from cli.ids import fetch_poll
from cli.trustee_steps import PollCrypto

NOT_SECRET = "not_secret"
STEP_NAMES = {"keys": "transport key", "dealings": "dealing", "checks": "check"}


def read_crypto(
    client: RpcClient, typed_poll_id: str, chain_id: str, with_tally: bool = False
) -> PollCrypto:
    """The poll's PollCrypto; CliError for a poll whose choices are public."""
    poll = fetch_poll(client, typed_poll_id)
    if poll.get("choices") != "secret" or not isinstance(poll.get("secret"), dict):
        raise CliError(
            f"poll {poll['poll_id'][:16]} has public choices: it has no trustees", NOT_SECRET
        )
    document = client.get(f"/v1/polls/{poll['poll_id']}/crypto")
    try:
        return crypto_of(poll, document, chain_id, with_tally)
    except (DecodeError, KeyError, TypeError, ValueError) as exc:
        raise CliError(f"the node's key-generation record of the poll is malformed: {exc}") from exc


def crypto_of(
    poll: dict[str, Any], document: dict[str, Any], chain_id: str, with_tally: bool = True
) -> PollCrypto:
    """PollCrypto from GET /v1/polls/{id} and GET /v1/polls/{id}/crypto."""
    secret = poll["secret"]
    keys = {
        j: TransportKey.from_value(encoding.decode(bytes.fromhex(text)))
        for j, text in enumerate(document["transport_keys"], start=1)
        if text is not None
    }
    dealings = {
        j: Dealing.from_value(encoding.decode(bytes.fromhex(text)))
        for j, text in enumerate(document["dealings"], start=1)
        if text is not None
    }
    checks = {
        j: tuple(int(d) for d in named)
        for j, named in enumerate(document["checks"], start=1)
        if named is not None
    }
    tally: tuple[Ciphertext, ...] | None = None
    if with_tally:
        raw = encoding.decode(bytes.fromhex(document["encrypted_tally"]))
        if not isinstance(raw, list):
            raise DecodeError("encrypted_tally: expected an array of ciphertexts")
        tally = tuple(
            elgamal.decode_ciphertext(c, f"encrypted_tally[{i}]") for i, c in enumerate(raw)
        )
    return PollCrypto(
        chain_id=chain_id,
        poll_id=bytes.fromhex(poll["poll_id"]),
        trustees=tuple(bytes.fromhex(t) for t in secret["trustees"]),
        threshold=int(secret["threshold"]),
        phase=str(secret["phase"]),
        transport_keys=keys,
        dealings=dealings,
        checks=checks,
        qualified=tuple(secret.get("qualified") or ()),
        verification_keys={
            j: group.point_from_bytes(bytes.fromhex(k), f"verification_keys[{j}]")
            for j, k in enumerate(secret.get("verification_keys") or [], start=1)
            if k is not None
        },
        closed=poll.get("status") == "closed",
        tally=tally,
        partials=tuple(secret.get("partials") or ()),
        decrypted=bool(secret.get("decrypted")),
    )


def awaited_text(crypto: PollCrypto) -> str:
    """One line: what the poll waits for now, and from which trustees."""
    return summary_line(
        crypto.phase,
        crypto.size,
        crypto.threshold,
        _posted(crypto),
        crypto.closed,
        list(crypto.partials),
        crypto.decrypted,
    )


def summary_line(
    phase: str,
    size: int,
    threshold: int,
    posted: list[int],
    closed: bool,
    partials: list[int],
    decrypted: bool,
) -> str:
    """The same line from a poll's JSON view (`secret`) or from a PollCrypto."""
    waiting = [j for j in range(1, size + 1) if j not in posted]
    if phase in STEP_NAMES and closed:
        return (
            f"key set-up never finished: the poll closed in the {phase} phase, so it took no "
            "ballot and will have no totals"
        )
    if phase in STEP_NAMES:
        names = ", ".join(str(j) for j in waiting)
        return (
            f"key set-up: {phase} phase, {len(posted)} of {size} trustees posted their "
            f"{STEP_NAMES[phase]}; awaiting trustee(s) {names} (`votechain trustee setup`)"
        )
    if phase == "failed":
        return (
            f"key set-up FAILED: fewer than {threshold} trustees' dealings qualified; this "
            "poll can never take a ballot"
        )
    if decrypted:
        return f"results decrypted by trustee(s) {', '.join(map(str, partials))}"
    if not closed:
        return (
            f"key ready: the poll takes encrypted ballots; {threshold} of its {size} trustees "
            "decrypt the totals after it closes"
        )
    return (
        f"awaiting trustees ({len(partials)} of {threshold}): {threshold} of the {size} "
        "trustees must post their partial decryption (`votechain trustee decrypt`)"
    )


def poll_secret_line(poll: dict[str, Any]) -> str:
    """`poll show`/`results`: the line about a secret poll's trustees, from its JSON."""
    secret = poll["secret"]
    size = len(secret["trustees"])
    return summary_line(
        secret["phase"],
        size,
        secret["threshold"],
        list(secret.get("posted") or []),
        poll.get("status") == "closed",
        list(secret.get("partials") or []),
        bool(secret.get("decrypted")),
    )


def status_document(crypto: PollCrypto) -> dict[str, Any]:
    """`trustee status`: the poll's phase and each trustee's steps."""
    disqualified = {d for named in crypto.checks.values() for d in named}
    trustees = []
    for j, key in enumerate(crypto.trustees, start=1):
        check: str | None = None
        if j in crypto.checks:
            named = crypto.checks[j]
            check = "ok" if not named else "complained: " + ", ".join(map(str, named))
        trustees.append(
            {
                "trustee": j,
                "public_key": key.hex(),
                "transport_key": j in crypto.transport_keys,
                "dealing": j in crypto.dealings,
                "check": check,
                "qualified": None
                if crypto.phase not in ("ready", "failed")
                else j in crypto.qualified,
                "disqualified": j in disqualified,
                "partial": j in crypto.partials,
            }
        )
    summary = {
        "poll_id": crypto.poll_id.hex(),
        "phase": crypto.phase,
        "threshold": crypto.threshold,
        "trustees": crypto.size,
        "posted": _posted(crypto),
        "awaiting": [j for j in range(1, crypto.size + 1) if j not in _posted(crypto)]
        if crypto.phase in STEP_NAMES
        else [],
        "qualified": list(crypto.qualified),
        "closed": crypto.closed,
        "partials": list(crypto.partials),
        "decrypted": crypto.decrypted,
        "line": awaited_text(crypto),
    }
    lines = [
        f"poll {crypto.poll_id.hex()}: secret choices, {crypto.threshold} of {crypto.size} "
        "trustees decrypt",
        awaited_text(crypto),
    ]
    if crypto.phase in ("ready", "failed"):
        lines.append(f"qualified dealers: {', '.join(map(str, crypto.qualified)) or 'none'}")
    if crypto.closed and crypto.phase == "ready":
        lines.append(
            f"partial decryptions in: {', '.join(map(str, crypto.partials)) or 'none'}; "
            f"results {'decrypted' if crypto.decrypted else 'not decrypted yet'}"
        )
    return {"summary": summary, "trustees": trustees, "lines": lines}


def _posted(crypto: PollCrypto) -> list[int]:
    step: dict[str, Any] = {
        "keys": crypto.transport_keys,
        "dealings": crypto.dealings,
        "checks": crypto.checks,
    }
    done = step.get(crypto.phase, crypto.checks)
    return sorted(done)
