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
    [[questions]] image = "photos/park.png", options = [{ text = "..", image = ".." }]
                              -> the image's sha256, size and type go in the body; the
                                 bytes are uploaded to the nodes once the poll commits

A key the file does not know is refused, naming the nearest one (FILE_KEYS).
    roll_phones = ["010-1234-5678", "+821022223333"]
    roll_file = "voters.csv"  -> numbers (typed, or a .csv/.xlsx column) that the attester
                                 turns into phone ids for the poll's organisation; only
                                 the phone ids reach the chain (docs/adr/007)
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
from chain.tx import MAX_TX_BYTES
from cli.roll_numbers import (
    DEFAULT_COUNTRY_CODE,
    PhoneIdSource,
    RollNumbers,
    numbers_from_list,
    read_roll_file,
)
from votingcontract import limits
from votingcontract.dicts import unknown_key
from votingcontract.images import ImageRef
from votingcontract.limits import SALT_SIZE
from votingcontract.poll_spec import Access, CreatePoll, Geofence, Option, Question, SecretSpec

MIN_PASSWORD_CHARACTERS = 16
MIN_PASSWORD_DISTINCT = 8
PASSPHRASE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
"""31 characters that cannot be mistaken for one another when read aloud or copied."""
PASSPHRASE_GROUPS = 4
PASSPHRASE_GROUP_LENGTH = 4
"""4 groups of 4: 16 characters, log2(31) * 16 = 79 bits."""


@dataclass(frozen=True)
class ImageFile:
    """An image file named in a poll file, and the reference the body carries for it."""

    path: Path
    ref: ImageRef
    data: bytes


@dataclass
class PreparedPoll:
    body: Any
    qr_seed: bytes | None = None
    ticket_keys: list[PrivateKey] = field(default_factory=list)
    generated_password: str | None = None
    images: list[ImageFile] = field(default_factory=list)
    """Image files the poll names, to upload once it has committed (one per hash)."""
    roll_numbers: int = 0
    """Phone numbers the file named (after de-duplication), now phone ids on the roll."""
    duplicate_numbers: int = 0
    extra_phone_ids: list[bytes] = field(default_factory=list)
    """Roll phone ids that do not fit in the create_poll transaction: `poll create` adds
    them with extend_roll transactions right after it, before the poll opens."""
    extra_weights: dict[bytes, int] | None = None
    """A weighted roll's weight of each of extra_phone_ids; None for an unweighted roll."""


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


def load_poll_file(
    path: Path, now_ms: int | None = None, phone_ids: PhoneIdSource | None = None
) -> PreparedPoll:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read poll file {path}: {exc}") from exc
    return prepare_poll(
        document,
        int(time.time() * 1000) if now_ms is None else now_ms,
        base_dir=path.parent,
        phone_ids=phone_ids,
    )


def prepare_poll(
    document: dict[str, Any],
    now_ms: int,
    base_dir: Path | None = None,
    phone_ids: PhoneIdSource | None = None,
) -> PreparedPoll:
    """The create_poll body of a poll file. Roll numbers (roll_phones, roll_file; a file
    is read relative to `base_dir`) need `phone_ids`, which asks the attester."""
    check_file_keys(document)
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
    elif ticket_count is not None:
        # `tickets = true`: a ticket poll with no tickets yet (`poll tickets` issues them)
        access["tickets"] = ticket_count
    roll = _roll_numbers(access, base_dir or Path.cwd())
    d["access"] = access
    if roll is not None:
        # the rest of the file is checked before any number goes to the attester
        votingcontract.CreatePoll.from_dict({**d, "access": {**access, "roll": True}})
        _put_roll_phone_ids(d, roll, prepared, phone_ids, now_ms)
    _put_images(d, base_dir or Path.cwd(), prepared)
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


# --- rolls from phone numbers (docs/POLL_FILES.md "Rolls from phone numbers") ------------

ROLL_NUMBER_KEYS = ("roll_phones", "roll_file", "roll_country_code")
"""[access] keys of a roll given as phone numbers (file only; never in the body)."""
TX_ENVELOPE_MARGIN = 1024
"""Bytes kept free for the transaction around the body (chain id, keys, signature)."""
PHONE_ID_ENCODED = 34
"""A phone id in the body: 32 bytes with a 2-byte msgpack bin header."""
LEAD_MS = 5 * 60_000
LEAD_MS_PER_EXTENSION = 2_000
"""A poll whose roll needs extend_roll transactions must open at least LEAD_MS plus this
per transaction after now: extend_roll is refused once the poll is open."""


def _roll_numbers(access: dict[str, Any], base_dir: Path) -> RollNumbers | None:
    typed = access.pop("roll_phones", None)
    file_name = access.pop("roll_file", None)
    country_code = access.pop("roll_country_code", DEFAULT_COUNTRY_CODE)
    if typed is None and file_name is None:
        return None
    if not isinstance(country_code, str) or not country_code.isdigit():
        raise ValueError('access.roll_country_code must be digits in quotes, e.g. "82"')
    parts = []
    if typed is not None:
        parts.append(numbers_from_list(typed, country_code, "access.roll_phones"))
    if file_name is not None:
        if not isinstance(file_name, str) or not file_name:
            raise ValueError('access.roll_file must be a file name in quotes, e.g. "voters.csv"')
        parts.append(read_roll_file(base_dir / file_name, country_code))
    numbers = dict.fromkeys(n for part in parts for n in part.numbers)
    repeated = sum(p.duplicates for p in parts) + sum(len(p.numbers) for p in parts)
    return _weighted_numbers(
        access, RollNumbers(tuple(numbers), repeated - len(numbers), parts[-1].weights), parts
    )


def _weighted_numbers(
    access: dict[str, Any], roll: RollNumbers, parts: list[RollNumbers]
) -> RollNumbers:
    """A roll of numbers is weighted when its file has a weight column (docs/POLL_FILES.md);
    then every number needs a weight, and the poll's roll is weighted (roll_weights)."""
    if roll.weights is None:
        if access.get("roll_weights") is not None:
            raise ValueError(
                "a weighted roll (roll_weights) needs a weight for every phone number: give "
                "the numbers in a roll_file with a weight column (or drop roll_weights)"
            )
        return roll
    if len(parts) > 1:
        raise ValueError(
            "roll_phones carry no weights: with a weighted roll_file (a weight column), put "
            "every number in the file"
        )
    table = access.get("roll_weights")
    if table is None:
        access["roll_weights"] = {}
    elif not isinstance(table, dict):
        raise ValueError("access.roll_weights must be a table of hex id = weight")
    return roll


def _put_roll_phone_ids(
    d: dict[str, Any],
    roll: RollNumbers,
    prepared: PreparedPoll,
    phone_ids: PhoneIdSource | None,
    now_ms: int,
) -> None:
    if d.get("kind") != "policy" or not isinstance(d.get("org_id"), str):
        raise ValueError(
            "roll_phones and roll_file need a policy poll with its org_id: the attester turns "
            "numbers into phone ids for registered organisations only (docs/adr/007); a "
            "citizen poll's roll takes roll_voter_keys or roll_phone_ids"
        )
    if phone_ids is None:
        raise ValueError("this poll's roll is phone numbers, which need the attester")
    access = d["access"]
    given = access.get("roll_phone_ids") or []
    if not isinstance(given, list):
        raise ValueError("access.roll_phone_ids must be a list of hex phone ids")
    given = [p.lower() if isinstance(p, str) else p for p in given]
    total = len(given) + len(roll.numbers)
    keep = _fitting_phone_ids(d, total)
    if keep < total:
        _check_time_to_extend(d, total, total - keep, now_ms)
    converted = [p.hex() for p in phone_ids(d["org_id"], roll.numbers)]
    all_ids = list(dict.fromkeys([*given, *converted]))
    access["roll_phone_ids"] = all_ids[:keep]
    prepared.extra_phone_ids = [bytes.fromhex(p) for p in all_ids[keep:]]
    if roll.weights is not None:
        weights = _roll_weights(access, converted, roll.weights)
        keys = [k.lower() for k in access.get("roll_voter_keys") or [] if isinstance(k, str)]
        access["roll_weights"] = {p: weights[p] for p in [*all_ids[:keep], *keys] if p in weights}
        unweighted = [p for p in all_ids if p not in weights]
        if unweighted:
            raise ValueError(f"access.roll_weights: no weight for roll entry {unweighted[0]}")
        prepared.extra_weights = {bytes.fromhex(p): weights[p] for p in all_ids[keep:]}
    prepared.roll_numbers = len(roll.numbers)
    prepared.duplicate_numbers = roll.duplicates


def _roll_weights(
    access: dict[str, Any], converted: list[str], weights: tuple[int, ...]
) -> dict[str, int]:
    """{hex id: weight}: the file's weights for its numbers' phone ids, with the poll file's
    roll_weights table for the ids and keys it lists itself; ValueError on a conflict."""
    table = {str(k).lower(): v for k, v in (access.get("roll_weights") or {}).items()}
    for phone_id, weight in zip(converted, weights, strict=True):
        if table.setdefault(phone_id, weight) != weight:
            raise ValueError(
                "a phone number of the roll file is also in roll_phone_ids with another "
                "weight in roll_weights: a voter has one weight"
            )
    return table


def _fitting_phone_ids(d: dict[str, Any], total: int) -> int:
    """How many of `total` roll phone ids the create_poll transaction can carry (phone
    ids are all 32 bytes, so stand-ins measure it before the attester is asked; in a
    weighted roll each with the largest weight's bytes)."""
    access = d["access"]
    keys = access.get("roll_voter_keys") or []
    keep = max(0, min(total, limits.MAX_LIST_KEYS - len(keys)))
    table = access.get("roll_weights")
    while True:
        stand_ins = [i.to_bytes(32, "big").hex() for i in range(keep)]
        sized = {**access, "roll_phone_ids": stand_ins}
        if table is not None:
            listed = {str(k).lower() for k in keys}
            key_weights = {str(k).lower(): v for k, v in table.items() if str(k).lower() in listed}
            sized["roll_weights"] = {**key_weights, **dict.fromkeys(stand_ins, limits.MAX_WEIGHT)}
        body = votingcontract.CreatePoll.from_dict({**d, "access": sized})
        excess = len(body.encode()) - (MAX_TX_BYTES - TX_ENVELOPE_MARGIN)
        if excess <= 0 or keep == 0:
            return keep
        keep = max(0, keep - (excess // PHONE_ID_ENCODED + 1))


def _check_time_to_extend(d: dict[str, Any], total: int, extra: int, now_ms: int) -> None:
    extensions = -(-extra // limits.MAX_LIST_KEYS)
    lead_ms = LEAD_MS + extensions * LEAD_MS_PER_EXTENSION
    if d["opens_at_ms"] < now_ms + lead_ms:
        raise ValueError(
            f"this roll of {total} phone ids needs {extensions} extend_roll transaction(s) "
            "after create_poll, and a roll can only grow before the poll opens: set opens_at "
            f"(or opens_in_minutes) at least {-(-lead_ms // 60_000)} minutes from now"
        )


# --- the keys a poll file may hold (docs/POLL_FILES.md) ----------------------------------

FILE_KEYS: dict[str, tuple[str, ...]] = {
    "top": (
        *CreatePoll.DICT_KEYS,
        "opens_at",
        "opens_in_minutes",
        "closes_at",
        "duration_minutes",
    ),
    "access": (
        *(k for k in Access.DICT_KEYS if k != "methods"),
        "password",
        "qr",
        *ROLL_NUMBER_KEYS,
    ),
    "question": Question.DICT_KEYS,
    "option": Option.DICT_KEYS,
    "geofence": Geofence.DICT_KEYS,
    "secret": SecretSpec.DICT_KEYS,
}
"""Every key a poll file may hold, per table: the body's own keys (poll_spec's DICT_KEYS)
and the file-only conveniences this module turns into them. A key elsewhere is refused."""


def check_file_keys(document: dict[str, Any]) -> None:
    """ValueError naming the first unknown key of the file and the nearest known one
    ('unknown key "access.pasword"; did you mean "password"?'); questions and options are
    counted from 1, as the file is read."""
    _check(document, "top", "")
    access = document.get("access")
    if isinstance(access, dict):
        _check(access, "access", "access.")
        if isinstance(access.get("geofence"), dict):
            _check(access["geofence"], "geofence", "access.geofence.")
    if isinstance(document.get("secret"), dict):
        _check(document["secret"], "secret", "secret.")
    questions = document.get("questions")
    if not isinstance(questions, list):
        return
    for q, question in enumerate(questions, start=1):
        if not isinstance(question, dict):
            continue
        _check(question, "question", "", f"question {q}")
        options = question.get("options")
        for o, option in enumerate(options if isinstance(options, list) else [], start=1):
            if isinstance(option, dict):
                _check(option, "option", "", f"question {q}, option {o}")


def _check(table: dict[str, Any], kind: str, prefix: str, where: str = "") -> None:
    for key in table:
        if key not in FILE_KEYS[kind]:
            raise ValueError(unknown_key(str(key), FILE_KEYS[kind], prefix, where))


# --- images (docs/POLL_FILES.md "Images") ---------------------------------------------


def _put_images(d: dict[str, Any], base_dir: Path, prepared: PreparedPoll) -> None:
    """Replace each `image = "file"` of a question or option by the file's reference."""
    questions = d.get("questions")
    if not isinstance(questions, list):
        return
    found: dict[bytes, ImageFile] = {}
    new_questions = []
    for q, question in enumerate(questions, start=1):
        if not isinstance(question, dict):
            new_questions.append(question)
            continue
        question = dict(question)
        if isinstance(question.get("image"), str):
            question["image"] = _image_ref(base_dir, question["image"], f"question {q}", found)
        options = question.get("options")
        if isinstance(options, list):
            question["options"] = [
                {
                    **option,
                    "image": _image_ref(
                        base_dir, option["image"], f"question {q}, option {o}", found
                    ),
                }
                if isinstance(option, dict) and isinstance(option.get("image"), str)
                else option
                for o, option in enumerate(options, start=1)
            ]
        new_questions.append(question)
    d["questions"] = new_questions
    prepared.images = list(found.values())


def _image_ref(
    base_dir: Path, name: str, where: str, found: dict[bytes, ImageFile]
) -> dict[str, Any]:
    path = base_dir / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{where}: cannot read image {name}: {exc.strerror or exc}") from exc
    ref = ImageRef.of_bytes(data, f"{where}: image {name}")
    found.setdefault(ref.sha256, ImageFile(path, ref, data))
    return ref.to_dict()
