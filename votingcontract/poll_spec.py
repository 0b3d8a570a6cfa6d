"""The create_poll body: a poll's questions, options, schedule and access settings.

    create_poll = [kind, org_id, title, purpose, reference_url, opens_at_ms, closes_at_ms,
                   visibility, revote, [question, ...], access, secret?]
    question    = [text, [option, ...], min_selections, max_selections, budget | nil,
                   image?]
    option      = [text, cost, image?]
    access      = [roll | nil, password | nil, qr_gate_key | nil, tickets | nil,
                   geofence | nil]
    roll        = [[phone_id, ...], [voter_key, ...]]  (weighted: [..., ..., weights])
    weights     = [[phone_weight, ...], [key_weight, ...]]  (one per entry, in list order)
    password    = [gate_key, salt]
    tickets     = [ticket_key, ...]
    geofence    = [lat_micro, lon_micro, radius_m]
    image       = see images.py
    secret      = [[trustee_key, ...], threshold]   (an encrypted poll: secret_polls.py)

Fields marked ? form an optional tail (chain.encoding.expect_list_with_tail): added after
the first polls were written, they are left out when nil, so every older body decodes
and encodes exactly as before. A later optional field goes after them, never between.

`parse_dict` (JSON from the RPC, TOML from poll files) refuses a key it does not know at
every level, naming the nearest known one: DICT_KEYS of each class is that list.

Field limits are in limits.py; cross-field rules (min <= max <= options, costs only on
budget questions, schedule) are state machine rules in polls.py, not decoding rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from chain import encoding
from chain.errors import DecodeError
from chain.keys import PUBLIC_KEY_SIZE
from votingcontract import dicts, limits
from votingcontract.body_base import (
    BodyBase,
    expect_choice,
    expect_hash_list,
    expect_key,
    expect_key_list,
)
from votingcontract.images import ImageRef

POLL_KINDS = ("policy", "citizen")
VISIBILITIES = ("live", "after_close")
MAX_LAT_MICRO = 90_000_000
MAX_LON_MICRO = 180_000_000


@dataclass(frozen=True)
class Option:
    DICT_KEYS: ClassVar[tuple[str, ...]] = ("text", "cost", "image")

    text: str
    cost: int = 0
    """Project cost on a participatory-budget question; 0 on every other question."""
    image: ImageRef | None = None

    def to_value(self) -> list[Any]:
        image = None if self.image is None else self.image.to_value()
        return encoding.without_nil_tail([self.text, self.cost, image], 2)

    @classmethod
    def from_value(cls, value: Any, what: str) -> Option:
        f = encoding.expect_list_with_tail(value, 2, 1, what)
        return cls(
            encoding.expect_str(f[0], f"{what}.text", limits.MAX_OPTION_LENGTH),
            encoding.expect_int(f[1], f"{what}.cost", 0, limits.MAX_COST),
            None if f[2] is None else ImageRef.from_value(f[2], f"{what}.image"),
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text, "cost": self.cost}
        if self.image is not None:
            d["image"] = self.image.to_dict()
        return d

    @classmethod
    def parse_dict(cls, d: Any, what: str) -> Option:
        if isinstance(d, str):
            return cls(d)
        dicts.check_keys(d, cls.DICT_KEYS, f"{what}.")
        text = dicts.as_str(dicts.field(d, "text", what), f"{what}.text")
        image = dicts.optional(d, "image", what)
        return cls(
            text,
            dicts.as_int(dicts.optional(d, "cost", what, 0), f"{what}.cost"),
            None if image is None else ImageRef.parse_dict(image, f"{what}.image"),
        )


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[Option, ...]
    min_selections: int = 1
    max_selections: int = 1
    budget_cap: int | None = None
    """Set on a participatory-budget question: the chosen options' costs must fit under it."""
    image: ImageRef | None = None
    min_spend_percent: int = 0
    """Budget questions: the least share of budget_cap a ballot must spend (Decidim's
    minimum-budget rule), 0 for none. Decidim's minimum and maximum number of projects
    are min_selections and max_selections."""

    DICT_KEYS: ClassVar[tuple[str, ...]] = (
        "text",
        "options",
        "min_selections",
        "max_selections",
        "budget_cap",
        "min_spend_percent",
        "image",
    )

    @property
    def is_budget(self) -> bool:
        return self.budget_cap is not None

    def to_value(self) -> list[Any]:
        fields = [
            self.text,
            [o.to_value() for o in self.options],
            self.min_selections,
            self.max_selections,
            budget_to_value(self.budget_cap, self.min_spend_percent),
            None if self.image is None else self.image.to_value(),
        ]
        return encoding.without_nil_tail(fields, 5)

    @classmethod
    def from_value(cls, value: Any, what: str) -> Question:
        f = encoding.expect_list_with_tail(value, 5, 1, what)
        options = encoding.expect_array(f[1], f"{what}.options", limits.MAX_OPTIONS)
        if len(options) < limits.MIN_OPTIONS:
            raise DecodeError(
                f"{what}.options: at least {limits.MIN_OPTIONS} options, got {len(options)}"
            )
        cap, min_spend_percent = expect_budget(f[4], what)
        return cls(
            text=encoding.expect_str(f[0], f"{what}.text", limits.MAX_QUESTION_LENGTH),
            options=tuple(
                Option.from_value(o, f"{what}.options[{i}]") for i, o in enumerate(options)
            ),
            min_selections=encoding.expect_int(f[2], f"{what}.min_selections", 0, 255),
            max_selections=encoding.expect_int(f[3], f"{what}.max_selections", 0, 255),
            budget_cap=cap,
            image=None if f[5] is None else ImageRef.from_value(f[5], f"{what}.image"),
            min_spend_percent=min_spend_percent,
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "text": self.text,
            "options": [o.to_dict() for o in self.options],
            "min_selections": self.min_selections,
            "max_selections": self.max_selections,
        }
        if self.budget_cap is not None:
            d["budget_cap"] = self.budget_cap
        if self.min_spend_percent:
            d["min_spend_percent"] = self.min_spend_percent
        if self.image is not None:
            d["image"] = self.image.to_dict()
        return d

    @classmethod
    def parse_dict(cls, d: Any, what: str) -> Question:
        dicts.check_keys(d, cls.DICT_KEYS, f"{what}.")
        options = dicts.as_list(dicts.field(d, "options", what), f"{what}.options")
        cap = dicts.optional(d, "budget_cap", what)
        image = dicts.optional(d, "image", what)
        return cls(
            text=dicts.as_str(dicts.field(d, "text", what), f"{what}.text"),
            options=tuple(
                Option.parse_dict(o, f"{what}.options[{i}]") for i, o in enumerate(options)
            ),
            min_selections=dicts.as_int(
                dicts.optional(d, "min_selections", what, 1), f"{what}.min_selections"
            ),
            max_selections=dicts.as_int(
                dicts.optional(d, "max_selections", what, 1), f"{what}.max_selections"
            ),
            budget_cap=None if cap is None else dicts.as_int(cap, f"{what}.budget_cap"),
            image=None if image is None else ImageRef.parse_dict(image, f"{what}.image"),
            min_spend_percent=parse_min_spend(d, cap, what),
        )


# Participatory-budget rules (Decidim): how a question's budget is encoded.
#
#     budget = budget_cap | [budget_cap, min_spend_percent]
#
# The array form only when a minimum spend is set (1..100), so questions written before
# it existed keep their bytes, and each question has one encoding.


def budget_to_value(cap: int | None, min_spend_percent: int) -> Any:
    if min_spend_percent == 0:
        return cap
    return [cap, min_spend_percent]


def expect_budget(value: Any, what: str) -> tuple[int | None, int]:
    """(budget_cap or None, min_spend_percent) from the budget field of question `what`."""
    if value is None:
        return None, 0
    if not isinstance(value, list):
        return encoding.expect_int(value, f"{what}.budget_cap", 1, limits.MAX_COST), 0
    f = encoding.expect_list(value, 2, f"{what}.budget")
    return (
        encoding.expect_int(f[0], f"{what}.budget_cap", 1, limits.MAX_COST),
        encoding.expect_int(f[1], f"{what}.min_spend_percent", 1, 100),
    )


def parse_min_spend(d: Any, cap: Any, what: str) -> int:
    """A question's min_spend_percent from its dict form: 0 if absent; only with a cap."""
    value = dicts.optional(d, "min_spend_percent", what)
    if value is None:
        return 0
    if cap is None:
        raise ValueError(f"{what}.min_spend_percent: only a question with a budget_cap has one")
    return dicts.as_int(value, f"{what}.min_spend_percent")


@dataclass(frozen=True)
class Geofence:
    """A circle: centre in integer micro-degrees (WGS84), radius in whole metres."""

    lat_micro: int
    lon_micro: int
    radius_m: int

    def to_value(self) -> list[Any]:
        return [self.lat_micro, self.lon_micro, self.radius_m]

    @classmethod
    def from_value(cls, value: Any, what: str) -> Geofence:
        f = encoding.expect_list(value, 3, what)
        return cls(
            encoding.expect_int(f[0], f"{what}.lat_micro", -MAX_LAT_MICRO, MAX_LAT_MICRO),
            encoding.expect_int(f[1], f"{what}.lon_micro", -MAX_LON_MICRO, MAX_LON_MICRO),
            encoding.expect_int(f[2], f"{what}.radius_m", 1, limits.MAX_RADIUS_M),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"lat_micro": self.lat_micro, "lon_micro": self.lon_micro, "radius_m": self.radius_m}

    DICT_KEYS: ClassVar[tuple[str, ...]] = ("lat_micro", "lon_micro", "radius_m")

    @classmethod
    def parse_dict(cls, d: Any, what: str) -> Geofence:
        dicts.check_keys(d, cls.DICT_KEYS, f"{what}.")
        return cls(
            dicts.as_int(dicts.field(d, "lat_micro", what), f"{what}.lat_micro"),
            dicts.as_int(dicts.field(d, "lon_micro", what), f"{what}.lon_micro"),
            dicts.as_int(dicts.field(d, "radius_m", what), f"{what}.radius_m"),
        )


@dataclass(frozen=True)
class Access:
    """Who may vote. All None: a public poll. Every method that is set must be passed.

    roll: (phone_ids, voter_keys) initially on the roll; an empty roll is still a roll.
    password: (gate public key, scrypt salt). tickets: initially registered ticket keys.
    """

    roll: tuple[tuple[bytes, ...], tuple[bytes, ...]] | None = None
    password: tuple[bytes, bytes] | None = None
    qr_gate_key: bytes | None = None
    tickets: tuple[bytes, ...] | None = None
    geofence: Geofence | None = None
    roll_weights: Weights | None = None
    """Set on a weighted poll (only with a roll): each roll entry's weight, in list order."""

    @property
    def is_public(self) -> bool:
        return self == Access()

    def methods(self) -> list[str]:
        """Names of the access methods in use, for display."""
        named = [
            ("roll", self.roll),
            ("password", self.password),
            ("qr", self.qr_gate_key),
            ("tickets", self.tickets),
            ("geofence", self.geofence),
        ]
        return [name for name, setting in named if setting is not None] or ["public"]

    def to_value(self) -> list[Any]:
        return [
            None if self.roll is None else roll_to_value(self.roll, self.roll_weights),
            None if self.password is None else list(self.password),
            self.qr_gate_key,
            None if self.tickets is None else list(self.tickets),
            None if self.geofence is None else self.geofence.to_value(),
        ]

    @classmethod
    def from_value(cls, value: Any, what: str) -> Access:
        f = encoding.expect_list(value, 5, what)
        roll, weights = None, None
        if f[0] is not None:
            roll, weights = expect_roll(f[0], f"{what}.roll")
        password = None
        if f[1] is not None:
            p = encoding.expect_list(f[1], 2, f"{what}.password")
            password = (
                expect_key(p[0], f"{what}.password.gate_key"),
                encoding.expect_bytes(p[1], f"{what}.password.salt", limits.SALT_SIZE),
            )
        return cls(
            roll=roll,
            password=password,
            qr_gate_key=None if f[2] is None else expect_key(f[2], f"{what}.qr_gate_key"),
            tickets=None
            if f[3] is None
            else expect_key_list(f[3], f"{what}.tickets", limits.MAX_LIST_KEYS),
            geofence=None if f[4] is None else Geofence.from_value(f[4], f"{what}.geofence"),
            roll_weights=weights,
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"methods": self.methods()}
        if self.roll is not None:
            d["roll_phone_ids"] = [p.hex() for p in self.roll[0]]
            d["roll_voter_keys"] = [k.hex() for k in self.roll[1]]
            if self.roll_weights is not None:
                d["roll_weights"] = weights_to_dict(*self.roll, self.roll_weights)
        if self.password is not None:
            d["password_gate_key"] = self.password[0].hex()
            d["password_salt"] = self.password[1].hex()
        if self.qr_gate_key is not None:
            d["qr_gate_key"] = self.qr_gate_key.hex()
        if self.tickets is not None:
            d["ticket_keys"] = [t.hex() for t in self.tickets]
        if self.geofence is not None:
            d["geofence"] = self.geofence.to_dict()
        return d

    DICT_KEYS: ClassVar[tuple[str, ...]] = (
        "methods",
        "roll",
        "roll_phone_ids",
        "roll_voter_keys",
        "roll_weights",
        "password_gate_key",
        "password_salt",
        "qr_gate_key",
        "tickets",
        "ticket_keys",
        "geofence",
    )

    @classmethod
    def parse_dict(cls, d: Any, what: str) -> Access:
        """Keys: roll (bool) / roll_phone_ids / roll_voter_keys, password_gate_key +
        password_salt, qr_gate_key, tickets (bool) / ticket_keys, geofence {...};
        methods (what to_dict writes) must agree with them if given."""
        dicts.check_keys(d, cls.DICT_KEYS, f"{what}.")
        access = cls._parse_settings(d, what)
        methods = dicts.optional(d, "methods", what)
        if methods is not None and dicts.as_list(methods, f"{what}.methods") != access.methods():
            raise ValueError(
                f"{what}.methods: {methods} disagrees with the settings given, which make "
                f"{access.methods()}"
            )
        return access

    @classmethod
    def _parse_settings(cls, d: Any, what: str) -> Access:
        opt = dicts.optional
        phones = opt(d, "roll_phone_ids", what)
        keys = opt(d, "roll_voter_keys", what)
        weight_table = opt(d, "roll_weights", what)
        roll, weights = None, None
        if (
            opt(d, "roll", what, False)
            or phones is not None
            or keys is not None
            or weight_table is not None
        ):
            roll = (
                dicts.hex_list(phones or [], f"{what}.roll_phone_ids", 32),
                dicts.hex_list(keys or [], f"{what}.roll_voter_keys", PUBLIC_KEY_SIZE),
            )
            if weight_table is not None:
                weights = parse_weights(weight_table, *roll, f"{what}.roll_weights")
        password = None
        if opt(d, "password_gate_key", what) is not None:
            password = (
                dicts.as_hex(d["password_gate_key"], f"{what}.password_gate_key", 32),
                dicts.as_hex(
                    dicts.field(d, "password_salt", what),
                    f"{what}.password_salt",
                    limits.SALT_SIZE,
                ),
            )
        qr = opt(d, "qr_gate_key", what)
        tickets = opt(d, "ticket_keys", what)
        if tickets is None and opt(d, "tickets", what, False):
            tickets = []
        fence = opt(d, "geofence", what)
        return cls(
            roll=roll,
            password=password,
            qr_gate_key=None if qr is None else dicts.as_hex(qr, f"{what}.qr_gate_key", 32),
            tickets=None if tickets is None else dicts.hex_list(tickets, f"{what}.ticket_keys", 32),
            geofence=None if fence is None else Geofence.parse_dict(fence, f"{what}.geofence"),
            roll_weights=weights,
        )


# Weighted rolls (shareholders, delegates, apartment owners): each entry's weight rides
# in a third roll field (and a fourth extend_roll field), parallel to the entry lists,
# so unweighted rolls keep the bytes they always had.

Weights = tuple[tuple[int, ...], tuple[int, ...]]
"""(phone_weights, key_weights): one weight per phone id and per voter key, in order."""


def roll_to_value(
    roll: tuple[tuple[bytes, ...], tuple[bytes, ...]], weights: Weights | None
) -> Any:
    value: list[Any] = [list(roll[0]), list(roll[1])]
    if weights is not None:
        value.append(weights_to_value(weights))
    return value


def expect_roll(
    value: Any, what: str
) -> tuple[tuple[tuple[bytes, ...], tuple[bytes, ...]], Weights | None]:
    """(phone_ids, voter_keys) and their weights (None: unweighted) from a roll field."""
    f = encoding.expect_list_with_tail(value, 2, 1, what)
    roll = (
        expect_hash_list(f[0], f"{what}.phone_ids", limits.MAX_LIST_KEYS),
        expect_key_list(f[1], f"{what}.voter_keys", limits.MAX_LIST_KEYS),
    )
    weights = None if f[2] is None else expect_weights(f[2], f"{what}.weights", *roll)
    return roll, weights


def weights_to_value(weights: Weights) -> list[Any]:
    return [list(weights[0]), list(weights[1])]


def expect_weights(
    value: Any, what: str, phone_ids: tuple[bytes, ...], voter_keys: tuple[bytes, ...]
) -> Weights:
    """One weight 1..MAX_WEIGHT per listed phone id and voter key."""
    f = encoding.expect_list(value, 2, what)
    return (
        _expect_weight_list(f[0], f"{what}.phone_weights", len(phone_ids)),
        _expect_weight_list(f[1], f"{what}.key_weights", len(voter_keys)),
    )


def _expect_weight_list(value: Any, what: str, entries: int) -> tuple[int, ...]:
    items = encoding.expect_array(value, what, limits.MAX_LIST_KEYS)
    if len(items) != entries:
        raise DecodeError(f"{what}: one weight per roll entry, {entries}, got {len(items)}")
    return tuple(
        encoding.expect_int(w, f"{what}[{i}]", 1, limits.MAX_WEIGHT) for i, w in enumerate(items)
    )


def weights_to_dict(
    phone_ids: tuple[bytes, ...], voter_keys: tuple[bytes, ...], weights: Weights
) -> dict[str, int]:
    """{hex id: weight} for every entry: the form a person writes in a poll file."""
    table = {p.hex(): w for p, w in zip(phone_ids, weights[0], strict=True)}
    table.update({k.hex(): w for k, w in zip(voter_keys, weights[1], strict=True)})
    return table


def parse_weights(
    table: Any, phone_ids: tuple[bytes, ...], voter_keys: tuple[bytes, ...], what: str
) -> Weights:
    """Weights from a {hex id: weight} table naming exactly the listed entries."""
    if not isinstance(table, dict):
        raise ValueError(f"{what}: expected a table of id = weight, got {type(table).__name__}")
    named = {p.hex() for p in phone_ids} | {k.hex() for k in voter_keys}
    for key in table:
        if str(key).lower() not in named:
            raise ValueError(f"{what}: {key} is not a phone id or voter key of this roll")
    lowered = {str(k).lower(): v for k, v in table.items()}

    def weight(entry: bytes) -> int:
        if entry.hex() not in lowered:
            raise ValueError(f"{what}: no weight for roll entry {entry.hex()}")
        return dicts.as_int(lowered[entry.hex()], f"{what}.{entry.hex()}")

    return tuple(weight(p) for p in phone_ids), tuple(weight(k) for k in voter_keys)


@dataclass(frozen=True)
class SecretSpec:
    """An encrypted poll's trustees (Ed25519 keys; trustee j is trustees[j-1]) and the
    threshold k of them whose partial decryptions open the tally."""

    trustees: tuple[bytes, ...]
    threshold: int

    DICT_KEYS: ClassVar[tuple[str, ...]] = ("trustees", "threshold")

    def to_value(self) -> list[Any]:
        return [list(self.trustees), self.threshold]

    @classmethod
    def from_value(cls, value: Any, what: str) -> SecretSpec:
        f = encoding.expect_list(value, 2, what)
        trustees = expect_key_list(f[0], f"{what}.trustees", limits.MAX_TRUSTEES)
        if not trustees:
            raise DecodeError(f"{what}.trustees: at least one trustee")
        return cls(trustees, encoding.expect_int(f[1], f"{what}.threshold", 1, len(trustees)))

    def to_dict(self) -> dict[str, Any]:
        return {"trustees": [t.hex() for t in self.trustees], "threshold": self.threshold}

    @classmethod
    def parse_dict(cls, d: Any, what: str) -> SecretSpec:
        dicts.check_keys(d, cls.DICT_KEYS, f"{what}.")
        trustees = dicts.as_list(dicts.field(d, "trustees", what), f"{what}.trustees")
        return cls(
            tuple(
                dicts.as_hex(t, f"{what}.trustees[{i}]", PUBLIC_KEY_SIZE)
                for i, t in enumerate(trustees)
            ),
            dicts.as_int(dicts.field(d, "threshold", what), f"{what}.threshold"),
        )


@dataclass(frozen=True)
class CreatePoll(BodyBase):
    """Body of create_poll. The poll id is the create_poll transaction's tx_id."""

    KIND = "create_poll"
    DICT_KEYS: ClassVar[tuple[str, ...]] = (
        "kind",
        "org_id",
        "title",
        "purpose",
        "reference_url",
        "opens_at_ms",
        "closes_at_ms",
        "visibility",
        "revote",
        "questions",
        "access",
        "secret",
    )

    kind: str
    """"policy" (signed by a key of org_id) or "citizen" (signed by an enrolled voter)."""
    org_id: str
    """The running organisation for a policy poll; "" for a citizen poll."""
    title: str
    purpose: str
    reference_url: str
    opens_at_ms: int
    closes_at_ms: int
    visibility: str
    """"live": results readable while open; "after_close": only once closed."""
    revote: bool
    """True: a voter may vote again and only their last ballot counts."""
    questions: tuple[Question, ...]
    access: Access
    secret: SecretSpec | None = None
    """Set on an encrypted poll ("secret choices"); None: choices are public."""

    def to_value(self) -> list[Any]:
        value = [
            self.kind,
            self.org_id,
            self.title,
            self.purpose,
            self.reference_url,
            self.opens_at_ms,
            self.closes_at_ms,
            self.visibility,
            self.revote,
            [q.to_value() for q in self.questions],
            self.access.to_value(),
        ]
        if self.secret is not None:
            value.append(self.secret.to_value())
        return value

    @classmethod
    def from_value(cls, value: Any) -> CreatePoll:
        f = encoding.expect_list_with_tail(value, 11, 1, "create_poll")
        questions = encoding.expect_array(f[9], "create_poll.questions", limits.MAX_QUESTIONS)
        if not questions:
            raise DecodeError("create_poll.questions: at least one question")
        return cls(
            kind=expect_choice(f[0], "create_poll.kind", POLL_KINDS),
            org_id=encoding.expect_str(f[1], "create_poll.org_id", limits.MAX_ORG_ID_LENGTH),
            title=encoding.expect_str(f[2], "create_poll.title", limits.MAX_TITLE_LENGTH),
            purpose=encoding.expect_str(f[3], "create_poll.purpose", limits.MAX_PURPOSE_LENGTH),
            reference_url=encoding.expect_str(
                f[4], "create_poll.reference_url", limits.MAX_URL_LENGTH
            ),
            opens_at_ms=encoding.expect_int(f[5], "create_poll.opens_at_ms", 0, limits.MAX_TIME_MS),
            closes_at_ms=encoding.expect_int(
                f[6], "create_poll.closes_at_ms", 0, limits.MAX_TIME_MS
            ),
            visibility=expect_choice(f[7], "create_poll.visibility", VISIBILITIES),
            revote=encoding.expect_bool(f[8], "create_poll.revote"),
            questions=tuple(
                Question.from_value(q, f"create_poll.questions[{i}]")
                for i, q in enumerate(questions)
            ),
            access=Access.from_value(f[10], "create_poll.access"),
            secret=None if f[11] is None else SecretSpec.from_value(f[11], "create_poll.secret"),
        )

    def to_dict(self) -> dict[str, Any]:
        d = {
            "kind": self.kind,
            "org_id": self.org_id,
            "title": self.title,
            "purpose": self.purpose,
            "reference_url": self.reference_url,
            "opens_at_ms": self.opens_at_ms,
            "closes_at_ms": self.closes_at_ms,
            "visibility": self.visibility,
            "revote": self.revote,
            "questions": [q.to_dict() for q in self.questions],
            "access": self.access.to_dict(),
        }
        if self.secret is not None:
            d["secret"] = self.secret.to_dict()
        return d

    def images(self) -> list[tuple[str, ImageRef]]:
        """Every image the poll names, with where ("question 1", "question 1, option 2")."""
        found = []
        for q, question in enumerate(self.questions, start=1):
            if question.image is not None:
                found.append((f"question {q}", question.image))
            for o, option in enumerate(question.options, start=1):
                if option.image is not None:
                    found.append((f"question {q}, option {o}", option.image))
        return found

    @classmethod
    def parse_dict(cls, d: Any) -> CreatePoll:
        w = "create_poll"
        dicts.check_keys(d, cls.DICT_KEYS, f"{w}.")
        f, opt = dicts.field, dicts.optional
        questions = dicts.as_list(f(d, "questions", w), f"{w}.questions")
        return cls(
            kind=dicts.as_str(f(d, "kind", w), f"{w}.kind"),
            org_id=dicts.as_str(opt(d, "org_id", w, ""), f"{w}.org_id"),
            title=dicts.as_str(f(d, "title", w), f"{w}.title"),
            purpose=dicts.as_str(opt(d, "purpose", w, ""), f"{w}.purpose"),
            reference_url=dicts.as_str(opt(d, "reference_url", w, ""), f"{w}.reference_url"),
            opens_at_ms=dicts.as_int(f(d, "opens_at_ms", w), f"{w}.opens_at_ms"),
            closes_at_ms=dicts.as_int(f(d, "closes_at_ms", w), f"{w}.closes_at_ms"),
            visibility=dicts.as_str(opt(d, "visibility", w, "live"), f"{w}.visibility"),
            revote=dicts.as_bool(opt(d, "revote", w, False), f"{w}.revote"),
            questions=tuple(
                Question.parse_dict(q, f"{w}.questions[{i}]") for i, q in enumerate(questions)
            ),
            access=Access.parse_dict(opt(d, "access", w, {}), f"{w}.access"),
            secret=None
            if opt(d, "secret", w, None) is None
            else SecretSpec.parse_dict(d["secret"], f"{w}.secret"),
        )
