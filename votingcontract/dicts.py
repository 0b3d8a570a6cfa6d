"""Readers for plain dicts (JSON from RPC, TOML from `votechain poll create`).

Bodies and records convert to and from dicts with bytes as lowercase hex. These
readers raise ValueError with the field's path, so a person editing a TOML file sees
"questions[1].options: expected a list, got str" rather than a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any


def field(d: Any, name: str, what: str) -> Any:
    """d[name], or ValueError if `d` is not a dict or lacks `name`."""
    if not isinstance(d, dict):
        raise ValueError(f"{what}: expected a table/object, got {type(d).__name__}")
    if name not in d:
        raise ValueError(f"{what}: missing field {name!r}")
    return d[name]


def optional(d: Any, name: str, what: str, default: Any = None) -> Any:
    """d.get(name, default), or ValueError if `d` is not a dict."""
    if not isinstance(d, dict):
        raise ValueError(f"{what}: expected a table/object, got {type(d).__name__}")
    return d.get(name, default)


def check_keys(d: Any, allowed: Collection[str], prefix: str, where: str = "") -> None:
    """ValueError naming the first key of `d` not in `allowed`, and the nearest allowed one.

    A misspelt key must not pass silently: `pasword = ...` ignored would create a public
    poll that can never be edited. `prefix` is put before the key ("access."), `where`
    after it ("question 2"), so the message points where a person would look.
    """
    if not isinstance(d, dict):
        raise ValueError(
            f"{prefix.rstrip('.') or where}: expected a table/object, got {type(d).__name__}"
        )
    for key in d:
        if key not in allowed:
            raise ValueError(unknown_key(str(key), allowed, prefix, where))


def unknown_key(key: str, allowed: Collection[str], prefix: str = "", where: str = "") -> str:
    """'unknown key "access.pasword"; did you mean "password"?' (check_keys' message)."""
    place = f" in {where}" if where else ""
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    if not close:  # "lon" for "lon_micro": too short for difflib's ratio, still clear
        close = [k for k in sorted(allowed) if key and (k.startswith(key) or key.startswith(k))]
    hint = f'did you mean "{close[0]}"?' if close else f"known keys: {', '.join(sorted(allowed))}"
    return f'unknown key "{prefix}{key}"{place}; {hint}'


def as_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected a string, got {type(value).__name__}")
    return value


def as_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: expected an integer, got {type(value).__name__}")
    return value


def as_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what}: expected true or false, got {type(value).__name__}")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{what}: expected a list, got {type(value).__name__}")
    return list(value)


def as_hex(value: Any, what: str, length: int | None = None) -> bytes:
    """Bytes from a hex string (an optional 0x prefix is allowed)."""
    text = as_str(value, what)
    if text.startswith(("0x", "0X")):
        text = text[2:]
    try:
        data = bytes.fromhex(text)
    except ValueError as exc:
        raise ValueError(f"{what}: {value!r} is not hex") from exc
    if length is not None and len(data) != length:
        raise ValueError(f"{what}: expected {length} bytes of hex, got {len(data)}")
    return data


def hex_list(value: Any, what: str, length: int) -> tuple[bytes, ...]:
    return tuple(as_hex(v, f"{what}[{i}]", length) for i, v in enumerate(as_list(value, what)))
