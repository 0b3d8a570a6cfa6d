"""Poll definition files (TOML) for `votechain poll create`.

The file holds the fields of votingcontract's create_poll body (docs/PROTOCOL.md
section 11) with conveniences a person can write by hand, turned into the body here:

    opens_at = "2026-12-01T09:00:00+09:00"   (or opens_at_ms, or opens_in_minutes = 0)
    closes_at = "2026-12-08T18:00:00+09:00"  (or closes_at_ms, or duration_minutes)
    [access]
    password = "a secret"     -> a fresh salt and the scrypt gate key; the password stays here
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


@dataclass
class PreparedPoll:
    body: Any
    qr_seed: bytes | None = None
    ticket_keys: list[PrivateKey] = field(default_factory=list)


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
        salt = secrets.token_bytes(SALT_SIZE)
        access["password_gate_key"] = votingcontract.password_gate_key(
            str(password), salt
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
