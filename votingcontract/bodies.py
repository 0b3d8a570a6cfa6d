"""Transaction bodies: one frozen dataclass per transaction kind, and the kind registry.

Each body's bytes are chain.encoding.encode(body.to_value()), a fixed-order array:

    register_org   = [org_id, name, category, [key, ...]]
    add_org_key    = [org_id, key]
    revoke_org_key = [org_id, key]
    enroll_voter   = [phone_id, voter_key]
    cancel_key_change = []
    create_poll    = see poll_spec.py
    close_poll     = [poll_id]
    extend_poll    = [poll_id, closes_at_ms]
    extend_roll    = [poll_id, [phone_id, ...], [voter_key, ...]]
                     (weighted poll: [..., weights] as in a create_poll roll)
    issue_tickets  = [poll_id, [ticket_key, ...]]
    cast_ballot    = [poll_id, [[option_index, ...] per question], password_proof | nil,
                      qr_proof | nil, [ticket_key, ticket_signature] | nil,
                      [lat_micro, lon_micro] | nil, encrypted?]
    encrypted      = [encrypted question, ...]   (a secret poll's ballot; selections [])
    trustee_key, trustee_dealing, trustee_check, trustee_decrypt: see trustee_bodies.py
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, ClassVar

from chain import encoding
from chain.errors import DecodeError
from chain.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE
from votingcontract import dicts, limits
from votingcontract.body_base import (
    HASH_SIZE,
    BodyBase,
    expect_choice,
    expect_hash,
    expect_hash_list,
    expect_key,
    expect_key_list,
)
from votingcontract.limits import MAX_OPTIONS
from votingcontract.poll_spec import (
    MAX_LAT_MICRO,
    MAX_LON_MICRO,
    CreatePoll,
    Weights,
    expect_weights,
    parse_weights,
    weights_to_dict,
    weights_to_value,
)
from votingcontract.trustee_bodies import TrusteeCheck, TrusteeDealing, TrusteeDecrypt, TrusteeKey

ORG_CATEGORIES = (
    "city_department",
    "district_office",
    "education_office",
    "public_body",
    "civic_group",
)


def _expect_org_id(value: Any, what: str) -> str:
    org_id = encoding.expect_str(value, what, limits.MAX_ORG_ID_LENGTH)
    if not org_id or not set(org_id) <= limits.ORG_ID_ALPHABET:
        raise DecodeError(f"{what}: {org_id!r} must be 1+ characters of a-z 0-9 - _ .")
    return org_id


@dataclass(frozen=True)
class RegisterOrg(BodyBase):
    """Admin registers an organisation that may run policy polls."""

    KIND = "register_org"
    org_id: str
    name: str
    category: str
    keys: tuple[bytes, ...]

    def to_value(self) -> list[Any]:
        return [self.org_id, self.name, self.category, list(self.keys)]

    @classmethod
    def from_value(cls, value: Any) -> RegisterOrg:
        f = encoding.expect_list(value, 4, cls.KIND)
        keys = expect_key_list(f[3], "register_org.keys", limits.MAX_ORG_KEYS)
        if not keys:
            raise DecodeError("register_org.keys: at least one key")
        return cls(
            _expect_org_id(f[0], "register_org.org_id"),
            encoding.expect_str(f[1], "register_org.name", limits.MAX_NAME_LENGTH),
            expect_choice(f[2], "register_org.category", ORG_CATEGORIES),
            keys,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "name": self.name,
            "category": self.category,
            "keys": [k.hex() for k in self.keys],
        }

    @classmethod
    def parse_dict(cls, d: Any) -> RegisterOrg:
        w = cls.KIND
        dicts.check_keys(d, ("org_id", "name", "category", "keys"), f"{w}.")
        return cls(
            dicts.as_str(dicts.field(d, "org_id", w), f"{w}.org_id"),
            dicts.as_str(dicts.field(d, "name", w), f"{w}.name"),
            dicts.as_str(dicts.field(d, "category", w), f"{w}.category"),
            dicts.hex_list(dicts.field(d, "keys", w), f"{w}.keys", PUBLIC_KEY_SIZE),
        )


@dataclass(frozen=True)
class OrgKeyChange(BodyBase):
    """Shared shape of add_org_key and revoke_org_key: [org_id, key]."""

    org_id: str
    key: bytes

    def to_value(self) -> list[Any]:
        return [self.org_id, self.key]

    @classmethod
    def from_value(cls, value: Any) -> OrgKeyChange:
        f = encoding.expect_list(value, 2, cls.KIND)
        return cls(_expect_org_id(f[0], f"{cls.KIND}.org_id"), expect_key(f[1], f"{cls.KIND}.key"))

    def to_dict(self) -> dict[str, Any]:
        return {"org_id": self.org_id, "key": self.key.hex()}

    @classmethod
    def parse_dict(cls, d: Any) -> OrgKeyChange:
        w = cls.KIND
        dicts.check_keys(d, ("org_id", "key"), f"{w}.")
        return cls(
            dicts.as_str(dicts.field(d, "org_id", w), f"{w}.org_id"),
            dicts.as_hex(dicts.field(d, "key", w), f"{w}.key", PUBLIC_KEY_SIZE),
        )


@dataclass(frozen=True)
class AddOrgKey(OrgKeyChange):
    """Admin adds a key to a registered organisation."""

    KIND = "add_org_key"


@dataclass(frozen=True)
class RevokeOrgKey(OrgKeyChange):
    """Admin revokes an organisation key; it can no longer create or manage polls."""

    KIND = "revoke_org_key"


@dataclass(frozen=True)
class EnrollVoter(BodyBase):
    """Attester binds phone_id (HMAC of the phone number) to a voter key."""

    KIND = "enroll_voter"
    phone_id: bytes
    voter_key: bytes

    def to_value(self) -> list[Any]:
        return [self.phone_id, self.voter_key]

    @classmethod
    def from_value(cls, value: Any) -> EnrollVoter:
        f = encoding.expect_list(value, 2, cls.KIND)
        return cls(
            expect_hash(f[0], "enroll_voter.phone_id"), expect_key(f[1], "enroll_voter.voter_key")
        )

    def to_dict(self) -> dict[str, Any]:
        return {"phone_id": self.phone_id.hex(), "voter_key": self.voter_key.hex()}

    @classmethod
    def parse_dict(cls, d: Any) -> EnrollVoter:
        w = cls.KIND
        dicts.check_keys(d, ("phone_id", "voter_key"), f"{w}.")
        return cls(
            dicts.as_hex(dicts.field(d, "phone_id", w), f"{w}.phone_id", HASH_SIZE),
            dicts.as_hex(dicts.field(d, "voter_key", w), f"{w}.voter_key", PUBLIC_KEY_SIZE),
        )


@dataclass(frozen=True)
class CancelKeyChange(BodyBase):
    """A phone's active key cancels the key replacement waiting to take over from it.

    The body is empty: the signer's phone is the one whose replacement is dropped, so
    nobody can cancel another phone's change, and the transaction names no phone_id.
    """

    KIND = "cancel_key_change"

    def to_value(self) -> list[Any]:
        return []

    @classmethod
    def from_value(cls, value: Any) -> CancelKeyChange:
        encoding.expect_list(value, 0, cls.KIND)
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return {}

    @classmethod
    def parse_dict(cls, d: Any) -> CancelKeyChange:
        if not isinstance(d, dict):
            raise ValueError(f"{cls.KIND}: expected a table/object, got {type(d).__name__}")
        dicts.check_keys(d, (), f"{cls.KIND}.")
        return cls()


@dataclass(frozen=True)
class ClosePoll(BodyBase):
    """The poll's manager closes it now (early close, or cancel before it opens)."""

    KIND = "close_poll"
    poll_id: bytes

    def to_value(self) -> list[Any]:
        return [self.poll_id]

    @classmethod
    def from_value(cls, value: Any) -> ClosePoll:
        f = encoding.expect_list(value, 1, cls.KIND)
        return cls(expect_hash(f[0], "close_poll.poll_id"))

    def to_dict(self) -> dict[str, Any]:
        return {"poll_id": self.poll_id.hex()}

    @classmethod
    def parse_dict(cls, d: Any) -> ClosePoll:
        dicts.check_keys(d, ("poll_id",), f"{cls.KIND}.")
        return cls(dicts.as_hex(dicts.field(d, "poll_id", cls.KIND), "poll_id", HASH_SIZE))


@dataclass(frozen=True)
class ExtendPoll(BodyBase):
    """The poll's manager moves closes_at later, before it passes."""

    KIND = "extend_poll"
    poll_id: bytes
    closes_at_ms: int

    def to_value(self) -> list[Any]:
        return [self.poll_id, self.closes_at_ms]

    @classmethod
    def from_value(cls, value: Any) -> ExtendPoll:
        f = encoding.expect_list(value, 2, cls.KIND)
        return cls(
            expect_hash(f[0], "extend_poll.poll_id"),
            encoding.expect_int(f[1], "extend_poll.closes_at_ms", 0, limits.MAX_TIME_MS),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"poll_id": self.poll_id.hex(), "closes_at_ms": self.closes_at_ms}

    @classmethod
    def parse_dict(cls, d: Any) -> ExtendPoll:
        w = cls.KIND
        dicts.check_keys(d, ("poll_id", "closes_at_ms"), f"{w}.")
        return cls(
            dicts.as_hex(dicts.field(d, "poll_id", w), "poll_id", HASH_SIZE),
            dicts.as_int(dicts.field(d, "closes_at_ms", w), "closes_at_ms"),
        )


@dataclass(frozen=True)
class ExtendRoll(BodyBase):
    """The poll's manager adds phone ids and voter keys to its roll before it opens."""

    KIND = "extend_roll"
    poll_id: bytes
    phone_ids: tuple[bytes, ...]
    voter_keys: tuple[bytes, ...]
    weights: Weights | None = None
    """The entries' weights, for a weighted poll's roll (and only for one)."""

    def to_value(self) -> list[Any]:
        fields: list[Any] = [self.poll_id, list(self.phone_ids), list(self.voter_keys)]
        if self.weights is not None:
            fields.append(weights_to_value(self.weights))
        return fields

    @classmethod
    def from_value(cls, value: Any) -> ExtendRoll:
        f = encoding.expect_list_with_tail(value, 3, 1, cls.KIND)
        phone_ids = expect_hash_list(f[1], "extend_roll.phone_ids", limits.MAX_LIST_KEYS)
        voter_keys = expect_key_list(f[2], "extend_roll.voter_keys", limits.MAX_LIST_KEYS)
        return cls(
            expect_hash(f[0], "extend_roll.poll_id"),
            phone_ids,
            voter_keys,
            None
            if f[3] is None
            else expect_weights(f[3], "extend_roll.weights", phone_ids, voter_keys),
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "poll_id": self.poll_id.hex(),
            "phone_ids": [p.hex() for p in self.phone_ids],
            "voter_keys": [k.hex() for k in self.voter_keys],
        }
        if self.weights is not None:
            d["weights"] = weights_to_dict(self.phone_ids, self.voter_keys, self.weights)
        return d

    DICT_KEYS: ClassVar[tuple[str, ...]] = ("poll_id", "phone_ids", "voter_keys", "weights")

    @classmethod
    def parse_dict(cls, d: Any) -> ExtendRoll:
        w = cls.KIND
        dicts.check_keys(d, cls.DICT_KEYS, f"{w}.")
        phone_ids = dicts.hex_list(dicts.optional(d, "phone_ids", w, []), "phone_ids", HASH_SIZE)
        voter_keys = dicts.hex_list(
            dicts.optional(d, "voter_keys", w, []), "voter_keys", PUBLIC_KEY_SIZE
        )
        table = dicts.optional(d, "weights", w)
        return cls(
            dicts.as_hex(dicts.field(d, "poll_id", w), "poll_id", HASH_SIZE),
            phone_ids,
            voter_keys,
            None if table is None else parse_weights(table, phone_ids, voter_keys, "weights"),
        )


@dataclass(frozen=True)
class IssueTickets(BodyBase):
    """The poll's manager registers more single-use on-site ticket keys."""

    KIND = "issue_tickets"
    poll_id: bytes
    ticket_keys: tuple[bytes, ...]

    def to_value(self) -> list[Any]:
        return [self.poll_id, list(self.ticket_keys)]

    @classmethod
    def from_value(cls, value: Any) -> IssueTickets:
        f = encoding.expect_list(value, 2, cls.KIND)
        return cls(
            expect_hash(f[0], "issue_tickets.poll_id"),
            expect_key_list(f[1], "issue_tickets.ticket_keys", limits.MAX_LIST_KEYS),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"poll_id": self.poll_id.hex(), "ticket_keys": [t.hex() for t in self.ticket_keys]}

    @classmethod
    def parse_dict(cls, d: Any) -> IssueTickets:
        w = cls.KIND
        dicts.check_keys(d, ("poll_id", "ticket_keys"), f"{w}.")
        return cls(
            dicts.as_hex(dicts.field(d, "poll_id", w), "poll_id", HASH_SIZE),
            dicts.hex_list(dicts.field(d, "ticket_keys", w), "ticket_keys", PUBLIC_KEY_SIZE),
        )


@dataclass(frozen=True)
class Ticket:
    """An on-site ticket presented with a ballot: its key and its signature."""

    key: bytes
    signature: bytes


@dataclass(frozen=True)
class Location:
    """A client-claimed position in integer micro-degrees."""

    lat_micro: int
    lon_micro: int


@dataclass(frozen=True)
class CastBallot(BodyBase):
    """A voter's ballot: chosen option indices per question, plus the proofs the poll needs."""

    KIND = "cast_ballot"
    poll_id: bytes
    selections: tuple[tuple[int, ...], ...]
    """Per question, the chosen option indices in strictly ascending order."""
    password_proof: bytes | None = None
    qr_proof: bytes | None = None
    ticket: Ticket | None = None
    location: Location | None = None
    encrypted: tuple[Any, ...] | None = None
    """A secret poll's ballot: one encrypted question array (PROTOCOL.md 15.9) per
    question, decoded against the poll's questions by secret_polls.py; None otherwise."""

    def to_value(self) -> list[Any]:
        value = [
            self.poll_id,
            [list(s) for s in self.selections],
            self.password_proof,
            self.qr_proof,
            None if self.ticket is None else [self.ticket.key, self.ticket.signature],
            None if self.location is None else [self.location.lat_micro, self.location.lon_micro],
        ]
        if self.encrypted is not None:
            value.append(list(self.encrypted))
        return value

    @classmethod
    def from_value(cls, value: Any) -> CastBallot:
        f = encoding.expect_list_with_tail(value, 6, 1, cls.KIND)
        w = cls.KIND
        return cls(
            poll_id=expect_hash(f[0], f"{w}.poll_id"),
            selections=_expect_selections(f[1], f"{w}.selections"),
            password_proof=None
            if f[2] is None
            else encoding.expect_bytes(f[2], f"{w}.password_proof", SIGNATURE_SIZE),
            qr_proof=None
            if f[3] is None
            else encoding.expect_bytes(f[3], f"{w}.qr_proof", SIGNATURE_SIZE),
            ticket=None if f[4] is None else _expect_ticket(f[4], f"{w}.ticket"),
            location=None if f[5] is None else _expect_location(f[5], f"{w}.location"),
            encrypted=None
            if f[6] is None
            else tuple(encoding.expect_array(f[6], f"{w}.encrypted", limits.MAX_QUESTIONS)),
        )

    def encrypted_bytes(self) -> bytes | None:
        """The canonical bytes of the encrypted questions: what the tracking code hashes."""
        return None if self.encrypted is None else encoding.encode(list(self.encrypted))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "poll_id": self.poll_id.hex(),
            "selections": [list(s) for s in self.selections],
        }
        if self.password_proof is not None:
            d["password_proof"] = self.password_proof.hex()
        if self.qr_proof is not None:
            d["qr_proof"] = self.qr_proof.hex()
        if self.ticket is not None:
            d["ticket_key"] = self.ticket.key.hex()
            d["ticket_signature"] = self.ticket.signature.hex()
        if self.location is not None:
            d["location"] = {
                "lat_micro": self.location.lat_micro,
                "lon_micro": self.location.lon_micro,
            }
        encrypted = self.encrypted_bytes()
        if encrypted is not None:
            d["encrypted"] = encrypted.hex()
        return d

    DICT_KEYS: ClassVar[tuple[str, ...]] = (
        "poll_id",
        "selections",
        "password_proof",
        "qr_proof",
        "ticket_key",
        "ticket_signature",
        "location",
        "encrypted",
    )

    @classmethod
    def parse_dict(cls, d: Any) -> CastBallot:
        w = cls.KIND
        dicts.check_keys(d, cls.DICT_KEYS, f"{w}.")
        opt = dicts.optional
        selections = dicts.as_list(dicts.field(d, "selections", w), f"{w}.selections")
        ticket = None
        if opt(d, "ticket_key", w) is not None:
            ticket = Ticket(
                dicts.as_hex(d["ticket_key"], "ticket_key", PUBLIC_KEY_SIZE),
                dicts.as_hex(dicts.field(d, "ticket_signature", w), "ticket_signature"),
            )
        where = opt(d, "location", w)
        location = None
        if where is not None:
            dicts.check_keys(where, ("lat_micro", "lon_micro"), "location.")
            location = Location(
                dicts.as_int(dicts.field(where, "lat_micro", "location"), "location.lat_micro"),
                dicts.as_int(dicts.field(where, "lon_micro", "location"), "location.lon_micro"),
            )
        pw, qr = opt(d, "password_proof", w), opt(d, "qr_proof", w)
        return cls(
            encrypted=_parse_encrypted(opt(d, "encrypted", w)),
            poll_id=dicts.as_hex(dicts.field(d, "poll_id", w), "poll_id", HASH_SIZE),
            selections=tuple(
                tuple(dicts.as_int(i, f"{w}.selections[{q}]") for i in dicts.as_list(s, w))
                for q, s in enumerate(selections)
            ),
            password_proof=None if pw is None else dicts.as_hex(pw, "password_proof"),
            qr_proof=None if qr is None else dicts.as_hex(qr, "qr_proof"),
            ticket=ticket,
            location=location,
        )


def _expect_selections(value: Any, what: str) -> tuple[tuple[int, ...], ...]:
    per_question = encoding.expect_array(value, what, limits.MAX_QUESTIONS)
    result = []
    for q, chosen in enumerate(per_question):
        label = f"{what}[{q}]"  # once per question, not once per chosen index
        items = encoding.expect_array(chosen, label, MAX_OPTIONS)
        indices = tuple(encoding.expect_int(i, label, 0, MAX_OPTIONS - 1) for i in items)
        if any(a >= b for a, b in itertools.pairwise(indices)):
            raise DecodeError(f"{what}[{q}]: option indices must be strictly ascending")
        result.append(indices)
    return tuple(result)


def _parse_encrypted(text: Any) -> tuple[Any, ...] | None:
    """The dict form's "encrypted": hex of the canonical encoding of the question array."""
    if text is None:
        return None
    data = dicts.as_hex(text, "encrypted")
    try:
        value = encoding.decode(data)
    except DecodeError as exc:
        raise ValueError(f"encrypted: {exc}") from exc
    if not isinstance(value, list):
        raise ValueError("encrypted: expected the encoding of an array of questions")
    return tuple(value)


def _expect_ticket(value: Any, what: str) -> Ticket:
    f = encoding.expect_list(value, 2, what)
    return Ticket(
        expect_key(f[0], f"{what}.key"),
        encoding.expect_bytes(f[1], f"{what}.signature", SIGNATURE_SIZE),
    )


def _expect_location(value: Any, what: str) -> Location:
    f = encoding.expect_list(value, 2, what)
    return Location(
        encoding.expect_int(f[0], f"{what}.lat_micro", -MAX_LAT_MICRO, MAX_LAT_MICRO),
        encoding.expect_int(f[1], f"{what}.lon_micro", -MAX_LON_MICRO, MAX_LON_MICRO),
    )


Body = (
    RegisterOrg
    | AddOrgKey
    | RevokeOrgKey
    | EnrollVoter
    | CancelKeyChange
    | CreatePoll
    | ClosePoll
    | ExtendPoll
    | ExtendRoll
    | IssueTickets
    | CastBallot
    | TrusteeKey
    | TrusteeDealing
    | TrusteeCheck
    | TrusteeDecrypt
)

POLL_BODIES = (
    ClosePoll,
    ExtendPoll,
    ExtendRoll,
    IssueTickets,
    CastBallot,
    TrusteeKey,
    TrusteeDealing,
    TrusteeCheck,
    TrusteeDecrypt,
)
"""The kinds whose body names an existing poll (`poll_id`): their receipts carry it."""

BODY_TYPES: dict[str, type[Body]] = {
    cls.KIND: cls
    for cls in (
        RegisterOrg,
        AddOrgKey,
        RevokeOrgKey,
        EnrollVoter,
        CancelKeyChange,
        CreatePoll,
        ClosePoll,
        ExtendPoll,
        ExtendRoll,
        IssueTickets,
        CastBallot,
        TrusteeKey,
        TrusteeDealing,
        TrusteeCheck,
        TrusteeDecrypt,
    )
}
"""Every transaction kind the voting state machine executes, by kind name."""


def decode_body(kind: str, data: bytes) -> Body:
    """Decode `data` as the body of `kind`. KeyError for an unknown kind; DecodeError."""
    return BODY_TYPES[kind].decode(data)


def body_from_dict(kind: str, d: Any) -> Body:
    """A body from plain JSON/TOML data; ValueError for an unknown kind or a bad field."""
    if kind not in BODY_TYPES:
        raise ValueError(f"unknown transaction kind {kind!r}; known: {', '.join(BODY_TYPES)}")
    return BODY_TYPES[kind].from_dict(d)
