"""The genesis document: who validates, who administers, who attests phone numbers.

genesis = [version, chain_id, genesis_time_ms, validators, admins, attesters]
validators = [[name, public_key], ...]   (order defines replica ids)
admins     = [public_key, ...]
attesters  = [[name, public_key], ...]

genesis_hash = tagged_hash(GENESIS, encode(genesis)); block 1's prev_hash is the genesis
hash. Operators keep it as genesis.json (hex keys); its hash is what an auditor pins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from chain import encoding
from chain.certificate import MAX_VALIDATORS, ValidatorSet
from chain.errors import DecodeError, InvalidGenesis
from chain.hashing import Domain, tagged_hash
from chain.keys import PUBLIC_KEY_SIZE
from chain.tx import MAX_CHAIN_ID_LENGTH

GENESIS_VERSION = 1
MAX_NAME_LENGTH = 128


@dataclass(frozen=True)
class NamedKey:
    name: str
    public_key: bytes


@dataclass(frozen=True)
class Genesis:
    chain_id: str
    genesis_time_ms: int
    validators: tuple[NamedKey, ...]
    admins: tuple[bytes, ...]
    attesters: tuple[NamedKey, ...]

    def __post_init__(self) -> None:
        if not self.chain_id or len(self.chain_id) > MAX_CHAIN_ID_LENGTH:
            raise InvalidGenesis(f"chain_id must be 1..{MAX_CHAIN_ID_LENGTH} characters")
        if not self.validators:
            raise InvalidGenesis("genesis lists no validators")
        keys = [v.public_key for v in self.validators]
        if len(set(keys)) != len(keys):
            raise InvalidGenesis("genesis lists a validator key twice")
        if not self.admins:
            raise InvalidGenesis("genesis lists no admin key")
        self._check_decodable()

    def _check_decodable(self) -> None:
        """Refuse here what `decode` would refuse, so a stored genesis always reopens."""
        if not 0 <= self.genesis_time_ms < 2**64:
            raise InvalidGenesis(f"genesis_time_ms {self.genesis_time_ms} is not a u64")
        lists = {"validators": self.validators, "admins": self.admins, "attesters": self.attesters}
        for what, items in lists.items():
            if len(items) > MAX_VALIDATORS:
                raise InvalidGenesis(f"genesis lists {len(items)} {what}, at most {MAX_VALIDATORS}")
        for named in (*self.validators, *self.attesters):
            if len(named.name) > MAX_NAME_LENGTH:
                raise InvalidGenesis(
                    f"name {named.name[:16]!r}... is longer than {MAX_NAME_LENGTH} characters"
                )
        keys = [k.public_key for k in (*self.validators, *self.attesters)] + list(self.admins)
        if any(len(key) != PUBLIC_KEY_SIZE for key in keys):
            raise InvalidGenesis(f"every public key must be {PUBLIC_KEY_SIZE} bytes")

    @cached_property
    def validator_set(self) -> ValidatorSet:
        return ValidatorSet(tuple(v.public_key for v in self.validators))

    def to_value(self) -> list[Any]:
        return [
            GENESIS_VERSION,
            self.chain_id,
            self.genesis_time_ms,
            [[v.name, v.public_key] for v in self.validators],
            list(self.admins),
            [[a.name, a.public_key] for a in self.attesters],
        ]

    def encode(self) -> bytes:
        return encoding.encode(self.to_value())

    @cached_property
    def genesis_hash(self) -> bytes:
        return tagged_hash(Domain.GENESIS, self.encode())

    @classmethod
    def from_value(cls, value: Any) -> Genesis:
        f = encoding.expect_list(value, 6, "genesis")
        version = encoding.expect_int(f[0], "genesis.version")
        if version != GENESIS_VERSION:
            raise DecodeError(f"genesis.version: unknown version {version}")
        admins = encoding.expect_array(f[4], "genesis.admins", MAX_VALIDATORS)
        chain_id = encoding.expect_str(f[1], "genesis.chain_id", MAX_CHAIN_ID_LENGTH)
        genesis_time_ms = encoding.expect_int(f[2], "genesis.genesis_time_ms")
        validators = _named_keys(f[3], "genesis.validators")
        admin_keys = tuple(
            encoding.expect_bytes(a, "genesis.admin", PUBLIC_KEY_SIZE) for a in admins
        )
        attesters = _named_keys(f[5], "genesis.attesters")
        try:
            return cls(chain_id, genesis_time_ms, validators, admin_keys, attesters)
        except InvalidGenesis as exc:
            # Well-formed but inconsistent (no validators, a key twice, an empty chain id):
            # still bytes that are not a genesis, so a decoder's one error (found by
            # fuzzing: tests/fuzz/regressions/genesis/).
            raise DecodeError(f"genesis: {exc}") from exc

    @classmethod
    def decode(cls, data: bytes) -> Genesis:
        return cls.from_value(encoding.decode(data))

    def to_json(self) -> str:
        document = {
            "version": GENESIS_VERSION,
            "chain_id": self.chain_id,
            "genesis_time_ms": self.genesis_time_ms,
            "validators": [
                {"name": v.name, "public_key": v.public_key.hex()} for v in self.validators
            ],
            "admins": [a.hex() for a in self.admins],
            "attesters": [
                {"name": a.name, "public_key": a.public_key.hex()} for a in self.attesters
            ],
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Genesis:
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict):
                raise InvalidGenesis("genesis.json must hold a JSON object")
            # Files written before the field existed have no version: they are version 1.
            version = doc.get("version", GENESIS_VERSION)
            if version != GENESIS_VERSION:
                raise InvalidGenesis(
                    f"genesis.json has version {version!r}; this program reads version "
                    f"{GENESIS_VERSION}"
                )
            return cls(
                chain_id=str(doc["chain_id"]),
                genesis_time_ms=int(doc["genesis_time_ms"]),
                validators=tuple(
                    NamedKey(str(v["name"]), _hex_key(v["public_key"])) for v in doc["validators"]
                ),
                admins=tuple(_hex_key(a) for a in doc["admins"]),
                attesters=tuple(
                    NamedKey(str(a["name"]), _hex_key(a["public_key"])) for a in doc["attesters"]
                ),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidGenesis(f"genesis.json is malformed: {exc}") from exc


def _named_keys(value: Any, what: str) -> tuple[NamedKey, ...]:
    items = encoding.expect_array(value, what, MAX_VALIDATORS)
    keys = []
    for item in items:
        pair = encoding.expect_list(item, 2, what)
        keys.append(
            NamedKey(
                encoding.expect_str(pair[0], f"{what}.name", MAX_NAME_LENGTH),
                encoding.expect_bytes(pair[1], f"{what}.public_key", PUBLIC_KEY_SIZE),
            )
        )
    return tuple(keys)


def _hex_key(text: Any) -> bytes:
    key = bytes.fromhex(str(text))
    if len(key) != PUBLIC_KEY_SIZE:
        raise ValueError(f"public key {text!r} is not {PUBLIC_KEY_SIZE} bytes of hex")
    return key
