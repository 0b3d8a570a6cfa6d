"""Poll definition files (TOML) for `votechain poll create`.

The file holds the fields of votingcontract's create_poll body (docs/PROTOCOL.md
section 11) with conveniences a person can write by hand, turned into the body here:

    opens_at = "2026-12-01T09:00:00+09:00"   (or opens_at_ms, or opens_in_minutes = 0)
    closes_at = "2026-12-08T18:00:00+09:00"  (or closes_at_ms, or duration_minutes)
    [access]
    password = "a long passphrase, 16+ characters"
                              -> a fresh salt and the scrypt gate key; the password stays here
    password = "generate"     -> a random passphrase (80 bits), printed once for the organiser
    qr = true                 -> a fresh 32-byte QR seed, printed for the QR code
    tickets = 50              -> 50 fresh ticket keys, written to a file for printing
"""

from __future__ import annotations

import secrets
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import votingcontract
from chain.keys import PrivateKey
from votingcontract.limits import SALT_SIZE

MIN_PASSWORD_CHARACTERS = 16
MIN_PASSWORD_DISTINCT = 8
PASSPHRASE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
"""31 characters that cannot be mistaken for one another when read aloud or copied."""
PASSPHRASE_GROUPS = 4
PASSPHRASE_GROUP_LENGTH = 4
"""4 groups of 4: 16 characters, log2(31) * 16 = 79 bits."""


@dataclass
class PreparedPoll:
    body: Any
    qr_seed: bytes | None = None
    ticket_keys: list[PrivateKey] = field(default_factory=list)
    generated_password: str | None = None


def password_problem(password: str) -> str | None:
    """Why `password` is too weak to gate a poll, or None.

    A password poll publishes its scrypt salt and gate public key on the chain, so anyone
    can try passwords offline at scrypt speed, with no rate limit (a 4-digit PIN fell in
    4,832 tries). Only a password with enough entropy holds; we cannot measure entropy,
    so we ask for length and variety, which a passphrase of four or more words has.
    """
    if len(password) < MIN_PASSWORD_CHARACTERS:
        return (
            f"the poll password has {len(password)} characters; use at least "
            f"{MIN_PASSWORD_CHARACTERS} (a passphrase of 4 or more words), or write "
            'password = "generate" for a random one'
        )
    if len(set(password)) < MIN_PASSWORD_DISTINCT:
        return (
            f"the poll password uses only {len(set(password))} different characters; "
            f'use at least {MIN_PASSWORD_DISTINCT}, or write password = "generate"'
        )
    return None


def generate_passphrase() -> str:
    """A random passphrase such as "k7rm-q2xw-9fht-bz4n" (79 bits)."""
    groups = (
        "".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(PASSPHRASE_GROUP_LENGTH))
        for _ in range(PASSPHRASE_GROUPS)
    )
    return "-".join(groups)


def load_poll_file(path: Path, now_ms: int | None = None) -> PreparedPoll:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read poll file {path}: {exc}") from exc
    return prepare_poll(document, int(time.time() * 1000) if now_ms is None else now_ms)


def prepare_poll(document: dict[str, Any], now_ms: int) -> PreparedPoll:
    d = dict(document)
    d["opens_at_ms"] = _time_ms(d, "opens_at", now_ms, now_ms)
    d["closes_at_ms"] = _time_ms(d, "closes_at", now_ms, None, start_ms=d["opens_at_ms"])
    access = dict(d.get("access", {}))
    prepared = PreparedPoll(body=None)
    password = access.pop("password", None)
    if password is not None:
        password = str(password)
        if password == "generate":
            password = prepared.generated_password = generate_passphrase()
        problem = password_problem(password)
        if problem is not None:
            raise ValueError(problem)
        salt = secrets.token_bytes(SALT_SIZE)
        access["password_gate_key"] = votingcontract.password_gate_key(
            password, salt
        ).public_key.hex()
        access["password_salt"] = salt.hex()
    if access.pop("qr", False):
        prepared.qr_seed = secrets.token_bytes(32)
        access["qr_gate_key"] = votingcontract.qr_gate_key(prepared.qr_seed).public_key.hex()
    ticket_count = access.pop("tickets", None)
    if isinstance(ticket_count, int) and not isinstance(ticket_count, bool):
        prepared.ticket_keys = [PrivateKey.generate() for _ in range(ticket_count)]
        access["ticket_keys"] = [k.public_key.hex() for k in prepared.ticket_keys]
    d["access"] = access
    prepared.body = votingcontract.CreatePoll.from_dict(d)
    return prepared


def _time_ms(
    d: dict[str, Any], name: str, now_ms: int, default: int | None, start_ms: int | None = None
) -> int:
    if f"{name}_ms" in d:
        return int(d.pop(f"{name}_ms"))
    if name in d:
        value = d.pop(name)
        if isinstance(value, datetime):
            return int(value.timestamp() * 1000)
        return int(datetime.fromisoformat(str(value)).timestamp() * 1000)
    if name == "opens_at" and "opens_in_minutes" in d:
        return now_ms + int(d.pop("opens_in_minutes")) * 60_000
    if name == "closes_at" and "duration_minutes" in d and start_ms is not None:
        return start_ms + int(d.pop("duration_minutes")) * 60_000
    if default is None:
        raise ValueError(f"the poll file needs {name} (or {name}_ms, or duration_minutes)")
    return default
