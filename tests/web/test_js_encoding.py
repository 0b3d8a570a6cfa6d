"""The browser's modules (webapp/static/js/) make and read the chain's bytes exactly as
Python does, in real headless Chromium: canonical encoding and its refusals, every kind
of transaction a citizen's browser signs (same seed, same nonce: same bytes and tx_id,
through WebCrypto's Ed25519 and through the vendored fallback), the statements it signs,
and Ed25519 verification by PROTOCOL.md section 3's rule."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

import votingcontract
from chain import encoding
from chain.errors import DecodeError
from chain.keys import SEED_SIZE, PrivateKey, verify_signature
from chain.tx import Transaction
from node.client_auth import history_request_hash
from tests.chain.test_ed25519_rules import IDENTITY, IDENTITY_NON_CANONICAL, SPECCHECK
from tests.web.conftest import OpenPage
from tests.web.js_modules import module_server, run, wait_ready
from votingcontract import identity, limits, poll_spec
from votingcontract.bodies import ORG_CATEGORIES
from votingcontract.identity import (
    gate_signature,
    gate_statement,
    password_gate_key,
    ticket_signature,
    ticket_statement,
)
from votingcontract.images import IMAGE_TYPES
from votingcontract.receipts import CODES

CHAIN_ID = "votechain-web-test"
SEED = bytes([0x01]) * 32
POLL_ID = bytes(range(32)).hex()
U64_MAX = 2**64 - 1
TIME_MAX = 2**63 - 1


@pytest.fixture
def page(open_page: OpenPage) -> Iterator[Page]:
    with module_server() as url:
        yield wait_ready(open_page(url + "/modules.html"))


# --- canonical encoding ----------------------------------------------------------------


def wire(value: Any) -> Any:
    """A value as JSON the page turns back into the same value (bytes and big integers
    have no JSON form of their own)."""
    if isinstance(value, bool) or value is None:
        return {"v": value}
    if isinstance(value, int):
        return {"i": str(value)}
    if isinstance(value, bytes):
        return {"b": value.hex()}
    if isinstance(value, str):
        return {"s": value}
    return [wire(item) for item in value]


FROM_WIRE = """
const fromWire = (x) => Array.isArray(x) ? x.map(fromWire)
  : "i" in x ? (Number.isSafeInteger(Number(x.i)) ? Number(x.i) : BigInt(x.i))
  : "b" in x ? vc.bytes.fromHex(x.b) : "s" in x ? x.s : x.v;
"""

EDGE_INTEGERS = [
    0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 - 1, 2**53, 2**63, U64_MAX,
    -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**53), -(2**63),
]  # fmt: skip
EDGE_VALUES: list[Any] = [
    *EDGE_INTEGERS,
    True,
    False,
    None,
    "",
    "a" * 31,
    "a" * 32,
    "a" * 255,
    "a" * 256,
    "a" * 65536,
    "é",
    "é" * 32,
    "투표 🗳️",
    "\U0010ffff",
    b"",
    b"\x00" * 255,
    b"\x00" * 256,
    b"\xff" * 65536,
    [],
    list(range(15)),
    list(range(16)),
    [0] * 65536,
    [[[[]]]],
    [1, "two", b"three", [None, True, [-(2**63)]]],
]


def test_every_edge_value_encodes_to_pythons_bytes_and_decodes_back(page: Page) -> None:
    got = run(
        page,
        FROM_WIRE
        + """return args[0].map((item) => {
          const bytes = vc.encoding.encode(fromWire(item));
          const again = vc.encoding.encode(vc.encoding.decode(bytes));
          return [vc.bytes.toHex(bytes), vc.bytes.toHex(again)];
        });""",
        [wire(v) for v in EDGE_VALUES],
    )
    for value, (encoded, reencoded) in zip(EDGE_VALUES, got, strict=True):
        expected = encoding.encode(value).hex()
        assert encoded == expected, f"{str(value)[:40]!r}: browser wrote {encoded[:40]}"
        assert reencoded == expected, f"{str(value)[:40]!r} did not decode back"


def test_nesting_is_limited_at_32_arrays_counting_the_outermost(page: Page) -> None:
    got = run(
        page,
        """const nest = (n) => n === 0 ? 1 : [nest(n - 1)];
        const tryIt = (f) => { try { f(); return "ok"; } catch (e) { return e.message; } };
        const deep32 = vc.encoding.encode(nest(32));
        return [vc.bytes.toHex(deep32), tryIt(() => vc.encoding.encode(nest(33))),
                tryIt(() => vc.encoding.decode(vc.bytes.fromHex("91".repeat(33) + "01")))];""",
    )
    assert got[0] == encoding.encode(_nest(32)).hex()
    assert "nested deeper than 32" in got[1]
    assert "nested deeper than 32" in got[2]


def _nest(depth: int) -> Any:
    return 1 if depth == 0 else [_nest(depth - 1)]


REFUSED_ENCODINGS = [
    ("d005", "5 as int 8"),
    ("cc05", "5 as uint 8"),
    ("cd00c8", "200 as uint 16"),
    ("cf0000000000000005", "5 as uint 64"),
    ("d3ffffffffffffffff", "-1 as int 64"),
    ("d0e0", "-32 as int 8"),
    ("d90161", "a 1-byte str as str 8"),
    ("c5000161", "a 1-byte bin as bin 16"),
    ("dc000101", "a 1-item array as array 16"),
    ("0000", "trailing bytes"),
    ("81a16101", "a map"),
    ("80", "an empty map"),
    ("cb3ff0000000000000", "float 64"),
    ("ca3f800000", "float 32"),
    ("d40100", "fixext 1"),
    ("c7010100", "ext 8"),
    ("d6ff00000000", "a timestamp extension"),
    ("a2c328", "invalid UTF-8"),
    ("a3eda080", "a UTF-16 surrogate in UTF-8"),
    ("a2c080", "an overlong NUL"),
    ("c1", "the never-used byte"),
    ("92", "a truncated array"),
    ("", "nothing"),
    ("ddffffffff", "an array claiming 2^32 - 1 items"),
    ("dbffffffff61", "a str claiming 4 GiB"),
    ("c6ffffffff00", "a bin claiming 4 GiB"),
]


def test_the_decoder_refuses_every_non_canonical_or_foreign_encoding(page: Page) -> None:
    for hex_bytes, _ in REFUSED_ENCODINGS:
        with pytest.raises(DecodeError):
            encoding.decode(bytes.fromhex(hex_bytes))  # the test's premise: Python refuses
    got = run(
        page,
        """return args[0].map((hex) => {
          try { vc.encoding.decode(vc.bytes.fromHex(hex)); return null; }
          catch (e) { return [e.name, e.message]; } });""",
        [h for h, _ in REFUSED_ENCODINGS],
    )
    for (hex_bytes, what), answer in zip(REFUSED_ENCODINGS, got, strict=True):
        assert answer is not None, f"the browser accepted {what} ({hex_bytes})"
        assert answer[0] == "DecodeError", f"{what}: {answer}"


def test_values_without_an_encoding_are_refused_naming_why(page: Page) -> None:
    got = run(
        page,
        """const tryIt = (v) => { try { vc.encoding.encode(v); return null; }
                                   catch (e) { return e.message; } };
        return [tryIt(1.5), tryIt({a: 1}), tryIt(undefined), tryIt(2 ** 64),
                tryIt(2n ** 64n), tryIt(-(2n ** 63n) - 1n), tryIt("\\ud800"),
                tryIt(new Uint16Array(2)), tryIt(new Map())];""",
    )
    assert "floats" in got[0]
    assert "map" in got[1]
    assert "undefined" in got[2]
    assert "bigint" in got[3]
    assert "64-bit range" in got[4] and "64-bit range" in got[5]
    assert "surrogate" in got[6]
    assert "Uint16Array" in got[7]
    assert None not in got


# --- protocol constants ------------------------------------------------------------------


def test_limits_and_codes_are_pythons(page: Page) -> None:
    got = run(page, "return Object.fromEntries(Object.entries(vc.limits));")
    names = [n for n in got if n.isupper() and hasattr(limits, n) and n != "ORG_ID_ALPHABET"]
    assert len(names) >= 18
    for name in names:
        assert int(got[name]) == getattr(limits, name), name
    assert set(got["ORG_ID_ALPHABET"]) == limits.ORG_ID_ALPHABET
    assert got["MAX_LAT_MICRO"] == poll_spec.MAX_LAT_MICRO
    assert got["MAX_LON_MICRO"] == poll_spec.MAX_LON_MICRO
    assert tuple(got["POLL_KINDS"]) == poll_spec.POLL_KINDS
    assert tuple(got["VISIBILITIES"]) == poll_spec.VISIBILITIES
    assert tuple(got["IMAGE_TYPES"]) == IMAGE_TYPES
    assert tuple(got["ORG_CATEGORIES"]) == ORG_CATEGORIES
    assert set(got["RECEIPT_CODES"]) == CODES


# --- transactions ------------------------------------------------------------------------

IMAGE = {"sha256": "ab" * 32, "size": 1_048_576, "type": "image/webp"}
KEY_A, KEY_B = "11" * 32, "22" * 32
BODIES: list[tuple[str, dict[str, Any]]] = [
    ("cast_ballot", {"poll_id": POLL_ID, "selections": [[0]]}),
    ("cast_ballot", {"poll_id": POLL_ID, "selections": [[]]}),
    (
        "cast_ballot",
        {
            "poll_id": POLL_ID,
            "selections": [list(range(50)), [0, 49], *([[7]] * 18)],
            "password_proof": "aa" * 64,
            "qr_proof": "bb" * 64,
            "ticket_key": KEY_A,
            "ticket_signature": "cc" * 64,
            "location": {"lat_micro": -90_000_000, "lon_micro": 180_000_000},
        },
    ),
    (
        "create_poll",
        {
            "kind": "citizen",
            "title": "우리 아파트 놀이터",
            "opens_at_ms": 1_764_000_000_000,
            "closes_at_ms": 1_764_086_400_000,
            "questions": [{"text": "어느 쪽?", "options": ["그네", "미끄럼틀"]}],
        },
    ),
    (
        "create_poll",
        {
            "kind": "citizen",
            "org_id": "",
            "title": "é" * 200,
            "purpose": "🗳️" * 1000,
            "reference_url": "https://example.org/" + "x" * 480,
            "opens_at_ms": 0,
            "closes_at_ms": TIME_MAX,
            "visibility": "after_close",
            "revote": True,
            "questions": [
                {
                    "text": "Projects",
                    "options": [
                        {"text": "Park", "cost": 10**15, "image": IMAGE},
                        {"text": "Library", "cost": 1},
                        "Bench",
                    ],
                    "min_selections": 0,
                    "max_selections": 255,
                    "budget_cap": 10**15,
                    "min_spend_percent": 100,
                    "image": {"sha256": "cd" * 32, "size": 1, "type": "image/png"},
                },
                {
                    "text": "Budget without a minimum",
                    "options": [{"text": "A", "cost": 5}, {"text": "B", "cost": 6}],
                    "budget_cap": 10,
                    "min_spend_percent": 0,
                },
                *[{"text": f"Q{i}", "options": ["yes", "no"]} for i in range(18)],
            ],
            "access": {
                "roll_phone_ids": ["33" * 32, "44" * 32],
                "roll_voter_keys": [KEY_A],
                "roll_weights": {"33" * 32: 1, "44" * 32: 1_000_000, KEY_A.upper(): 3},
                "password_gate_key": KEY_B,
                "password_salt": "55" * 16,
                "qr_gate_key": "0x" + KEY_A,
                "tickets": True,
                "geofence": {"lat_micro": -37_566_535, "lon_micro": -126_977_969, "radius_m": 1},
                "methods": ["roll", "password", "qr", "tickets", "geofence"],
            },
        },
    ),
    (
        "create_poll",
        {
            "kind": "citizen",
            "title": "Members only",
            "opens_at_ms": 2**32,
            "closes_at_ms": 2**53,
            "questions": [{"text": "Chair", "options": ["A", "B"]}],
            "access": {"roll": True, "ticket_keys": [KEY_A, KEY_B]},
        },
    ),
    ("close_poll", {"poll_id": POLL_ID}),
    ("extend_poll", {"poll_id": POLL_ID, "closes_at_ms": TIME_MAX}),
    ("extend_roll", {"poll_id": POLL_ID, "phone_ids": ["33" * 32], "voter_keys": []}),
    (
        "extend_roll",
        {
            "poll_id": POLL_ID,
            "phone_ids": ["33" * 32],
            "voter_keys": [KEY_A, KEY_B],
            "weights": {"33" * 32: 2, KEY_A: 1, KEY_B: 1_000_000},
        },
    ),
    ("issue_tickets", {"poll_id": POLL_ID, "ticket_keys": [KEY_A] * 3}),
    ("cancel_key_change", {}),
]
NONCES = [0, 127, 2**32, TIME_MAX, U64_MAX]

SIGN_ALL = """
const [chainId, seedHex, cases, nonces] = args;
const out = {};
for (const prefer of ["webcrypto", "noble"]) {
  const signer = await vc.ed25519.signerFromSeed(vc.bytes.fromHex(seedHex), {prefer});
  out[prefer] = {kind: signer.kind, txs: []};
  for (const [i, [kind, dict]] of cases.entries()) {
    const body = vc.bodies.buildBody(kind, dict);
    const signed = await vc.tx.signTransaction(
      signer, chainId, kind, body, nonces[i % nonces.length]);
    out[prefer].txs.push([vc.bytes.toHex(signed.bytes), vc.bytes.toHex(signed.txId)]);
  }
}
return out;
"""


def test_every_kind_a_citizen_sends_signs_to_pythons_bytes_and_tx_id(page: Page) -> None:
    got = run(page, SIGN_ALL, CHAIN_ID, SEED.hex(), BODIES, NONCES)
    key = PrivateKey.from_seed(SEED)
    assert got["webcrypto"]["kind"] == "webcrypto"  # Chromium has WebCrypto Ed25519
    assert got["noble"]["kind"] == "noble"
    kinds = {kind for kind, _ in BODIES}
    assert kinds == {
        "cast_ballot",
        "create_poll",
        "close_poll",
        "extend_poll",
        "extend_roll",
        "issue_tickets",
        "cancel_key_change",
    }
    assert kinds == set(run(page, "return vc.bodies.CITIZEN_KINDS;"))
    for i, (kind, dict_form) in enumerate(BODIES):
        body = votingcontract.body_from_dict(kind, dict_form).encode()
        tx = Transaction.create(key, CHAIN_ID, kind, body, NONCES[i % len(NONCES)])
        for signer in ("webcrypto", "noble"):
            tx_hex, tx_id = got[signer]["txs"][i]
            assert tx_hex == tx.encode().hex(), f"{kind} #{i} through {signer}"
            assert tx_id == tx.tx_id.hex(), f"{kind} #{i} through {signer}"


HOSTILE: list[tuple[str, Any, str]] = [
    ("cast_ballot", {"poll_id": POLL_ID, "selections": [[1, 0]]}, "strictly ascending"),
    ("cast_ballot", {"poll_id": POLL_ID, "selections": [[1, 1]]}, "strictly ascending"),
    ("cast_ballot", {"poll_id": POLL_ID, "selections": [[50]]}, "selections[0]"),
    ("cast_ballot", {"poll_id": POLL_ID, "selections": [[0]] * 21}, "selections"),
    ("cast_ballot", {"poll_id": POLL_ID[:-2], "selections": [[0]]}, "poll_id"),
    ("cast_ballot", {"poll_id": POLL_ID, "selections": [[True]]}, "selections[0]"),
    ("cast_ballot", {"poll_id": POLL_ID, "selections": [[0]], "pasword_proof": "aa"}, "pasword"),
    (
        "cast_ballot",
        {"poll_id": POLL_ID, "selections": [[0]], "qr_proof": "aa" * 63},
        "qr_proof",
    ),
    (
        "cast_ballot",
        {
            "poll_id": POLL_ID,
            "selections": [[0]],
            "location": {"lat_micro": 90_000_001, "lon_micro": 0},
        },
        "lat_micro",
    ),
    ("create_poll", {"kind": "citizen", "title": "x" * 201}, "questions"),
    ("close_poll", {"poll_id": "zz" * 32}, "poll_id"),
    ("close_poll", [], "close_poll"),
    ("extend_poll", {"poll_id": POLL_ID, "closes_at_ms": 2**63}, "closes_at_ms"),
    ("extend_poll", {"poll_id": POLL_ID, "closes_at_ms": -1}, "closes_at_ms"),
    ("extend_roll", {"poll_id": POLL_ID, "phone_ids": ["33" * 32], "weights": {}}, "weights"),
    ("issue_tickets", {"poll_id": POLL_ID, "ticket_keys": [KEY_A] * 1001}, "ticket_keys"),
    ("cancel_key_change", {"x": 1}, "cancel_key_change.x"),
]


def _poll(**changes: Any) -> dict[str, Any]:
    poll: dict[str, Any] = {
        "kind": "citizen",
        "title": "T",
        "opens_at_ms": 0,
        "closes_at_ms": 1,
        "questions": [{"text": "Q", "options": ["a", "b"]}],
    }
    poll.update(changes)
    return poll


def _question(**changes: Any) -> dict[str, Any]:
    return _poll(questions=[{"text": "Q", "options": ["a", "b"], **changes}])


def _access(**settings: Any) -> dict[str, Any]:
    return _poll(access=settings)


ROLL = ["33" * 32]
HOSTILE += [
    ("create_poll", _poll(title="x" * 201), "title"),
    ("create_poll", _poll(title="é" * 201), "title"),
    ("create_poll", _poll(kind="referendum"), "kind"),
    ("create_poll", _poll(visibility="never"), "visibility"),
    ("create_poll", _poll(revote=1), "revote"),
    ("create_poll", _poll(opens_at_ms=1.5), "opens_at_ms"),
    ("create_poll", _poll(questions=[]), "questions"),
    ("create_poll", _poll(questions=[{"text": "Q", "options": ["only"]}]), "options"),
    ("create_poll", _question(options=["a"] * 51), "options"),
    ("create_poll", _question(min_spend_percent=5), "min_spend_percent"),
    ("create_poll", _question(budget_cap=0), "budget_cap"),
    ("create_poll", _question(budget_cap=9, min_spend_percent=101), "min_spend_percent"),
    ("create_poll", _question(max_selections=256), "max_selections"),
    ("create_poll", _question(options=[{"text": "a", "cost": 10**15 + 1}, "b"]), "cost"),
    ("create_poll", _question(image={**IMAGE, "type": "image/gif"}), "type"),
    ("create_poll", _question(image={**IMAGE, "size": 0}), "size"),
    ("create_poll", _question(txt="x"), "txt"),
    ("create_poll", _access(pasword_gate_key=KEY_A), "pasword_gate_key"),
    ("create_poll", _access(password_gate_key=KEY_A), "password_salt"),
    ("create_poll", _access(password_gate_key=KEY_A, password_salt="55" * 15), "password_salt"),
    ("create_poll", _access(roll_phone_ids=ROLL, roll_weights={"44" * 32: 1}), "roll_weights"),
    ("create_poll", _access(roll_phone_ids=ROLL, roll_weights={ROLL[0]: 0}), "phone_weights"),
    ("create_poll", _access(geofence={"lat_micro": 0, "lon_micro": 0, "radius_m": 0}), "radius_m"),
    ("create_poll", _access(qr_gate_key=KEY_A, methods=["public"]), "methods"),
]


def test_bodies_python_refuses_are_refused_naming_the_field(page: Page) -> None:
    for kind, dict_form, _ in HOSTILE:
        with pytest.raises(ValueError):
            votingcontract.body_from_dict(kind, dict_form)  # the premise: Python refuses
    got = run(
        page,
        """return args[0].map(([kind, dict]) => {
          try { vc.bodies.buildBody(kind, dict); return null; }
          catch (e) { return [e.name, e.message]; } });""",
        [[kind, d] for kind, d, _ in HOSTILE],
    )
    for (kind, dict_form, field), answer in zip(HOSTILE, got, strict=True):
        assert answer is not None, f"the browser built {kind} from {str(dict_form)[:80]}"
        assert answer[0] == "BodyError", answer
        assert field in answer[1], f"{kind}: {answer[1]!r} does not name {field}"


def test_a_body_with_a_non_canonical_selection_does_not_decode(page: Page) -> None:
    value: list[Any] = [bytes(32), [[1, 0]], None, None, None, None]
    got = run(
        page,
        """try { vc.bodies.decodeBody("cast_ballot", vc.bytes.fromHex(args[0])); return null; }
        catch (e) { return e.message; }""",
        encoding.encode(value).hex(),
    )
    assert got is not None and "strictly ascending" in got


# --- statements ----------------------------------------------------------------------------


def test_gate_ticket_and_history_statements_are_pythons(page: Page) -> None:
    voter = PrivateKey.from_seed(SEED)
    gate = PrivateKey.from_seed(hashlib.sha256(b"qr code").digest())
    got = run(
        page,
        """const [chainId, pollHex, seedHex, gateSeedHex, ts] = args;
        const voter = await vc.ed25519.signerFromSeed(vc.bytes.fromHex(seedHex));
        const gate = await vc.ed25519.signerFromSeed(vc.bytes.fromHex(gateSeedHex));
        const poll = vc.bytes.fromHex(pollHex);
        const g = await vc.statements.gateStatement(chainId, poll, voter.publicKey);
        const t = await vc.statements.ticketStatement(chainId, poll, voter.publicKey);
        return {gate: vc.bytes.toHex(g), ticket: vc.bytes.toHex(t),
                proof: vc.bytes.toHex(await gate.sign(g)),
                history: await vc.statements.historyRequest(voter, chainId, ts, {limit: 5})};""",
        CHAIN_ID,
        POLL_ID,
        SEED.hex(),
        hashlib.sha256(b"qr code").digest().hex(),
        1_764_000_000_123,
    )
    poll = bytes.fromhex(POLL_ID)
    assert got["gate"] == gate_statement(CHAIN_ID, poll, voter.public_key).hex()
    assert got["ticket"] == ticket_statement(CHAIN_ID, poll, voter.public_key).hex()
    assert got["proof"] == gate_signature(gate, CHAIN_ID, poll, voter.public_key).hex()
    history = got["history"]
    assert history["voter_key"] == voter.public_key.hex()
    assert (history["timestamp_ms"], history["from"], history["limit"]) == (1_764_000_000_123, 0, 5)
    digest = history_request_hash(CHAIN_ID, voter.public_key, 1_764_000_000_123)
    assert verify_signature(voter.public_key, bytes.fromhex(history["signature"]), digest)


# --- Ed25519 -----------------------------------------------------------------------------


def test_verification_gives_section_3s_answer_on_every_speccheck_vector(page: Page) -> None:
    cases = [(c.public_key, c.signature, c.message, c.accepted) for c in SPECCHECK]
    trivial = (IDENTITY + bytes(32)).hex()
    cases += [
        (IDENTITY.hex(), trivial, "", True),  # small-order key: a trivial signature verifies
        (IDENTITY_NON_CANONICAL.hex(), trivial, "00", True),  # y >= p is reduced
        (IDENTITY.hex(), (IDENTITY_NON_CANONICAL + bytes(32)).hex(), "", False),  # R as bytes
    ]
    got = run(
        page,
        """const h = vc.bytes.fromHex;
        return Promise.all(args[0].map(([a, s, m]) => vc.ed25519.verify(h(a), h(s), h(m))));""",
        cases,
    )
    for (key, signature, message, accepted), answer in zip(cases, got, strict=True):
        expected = verify_signature(
            bytes.fromhex(key), bytes.fromhex(signature), bytes.fromhex(message)
        )
        assert expected is accepted  # the premise: Python gives the documented answer
        assert answer is accepted, f"key {key[:16]}, signature {signature[:16]}"


def test_a_key_made_in_the_browser_is_non_extractable_and_kept_in_indexeddb(page: Page) -> None:
    got = run(
        page,
        """const made = await vc.keystore.createKey("voter");
        const loaded = await vc.keystore.loadKey("voter");
        const message = new Uint8Array(32).fill(7);
        let exported = "refused";
        try { await crypto.subtle.exportKey("pkcs8", loaded.secret); exported = "exported"; }
        catch (e) {}
        const fallback = await vc.keystore.createKey("fallback", {prefer: "noble"});
        let again = "created";
        try { await vc.keystore.createKey("voter"); } catch (e) { again = e.name; }
        const replaced = await vc.keystore.createKey("voter", {replace: true});
        const kept = await vc.keystore.loadKey("voter");
        const result = {kind: made.kind, same: vc.bytes.toHex(made.publicKey) ===
                          vc.bytes.toHex(loaded.publicKey),
                        extractable: loaded.secret.extractable, exported,
                        publicKey: vc.bytes.toHex(loaded.publicKey),
                        signature: vc.bytes.toHex(await loaded.sign(message)),
                        fallbackKind: (await vc.keystore.loadKey("fallback")).kind,
                        fallbackKey: vc.bytes.toHex(fallback.publicKey), again,
                        replaced: vc.bytes.toHex(replaced.publicKey) ===
                          vc.bytes.toHex(kept.publicKey)};
        await vc.keystore.deleteKey("voter");
        result.afterDelete = await vc.keystore.loadKey("voter");
        return result;""",
    )
    assert got["kind"] == "webcrypto" and got["same"]
    assert got["extractable"] is False and got["exported"] == "refused"
    signature = bytes.fromhex(got["signature"])
    assert verify_signature(bytes.fromhex(got["publicKey"]), signature, bytes([7]) * 32)
    assert got["fallbackKind"] == "noble" and got["fallbackKey"] != got["publicKey"]
    assert got["afterDelete"] is None
    assert got["again"] == "KeyExists" and got["replaced"]  # no overwrite by mistake


PASSWORDS = ["correct horse", "\u1112\u1161\u11ab\uae00", "한글", "🗳️ p@ss wörd", "x" * 300]
"""The second is "한글" decomposed (NFD): NFC makes it the third, so both open the gate."""


def test_password_gate_keys_and_proofs_are_pythons(page: Page) -> None:
    salt = bytes(range(16))
    voter = PrivateKey.from_seed(SEED)
    poll = bytes.fromhex(POLL_ID)
    got = run(
        page,
        """const [passwords, saltHex, chainId, pollHex, voterHex] = args;
        const h = vc.bytes.fromHex;
        const out = [];
        for (const password of passwords) {
          const gate = await vc.gatekeys.passwordGateKey(password, h(saltHex));
          const proof = await vc.gatekeys.gateProof(gate, chainId, h(pollHex), h(voterHex));
          out.push([vc.bytes.toHex(gate.publicKey), vc.bytes.toHex(proof)]);
        }
        const ticket = await vc.ed25519.signerFromSeed(new Uint8Array(32).fill(9));
        const ticketSig = await vc.gatekeys.ticketProof(ticket, chainId, h(pollHex), h(voterHex));
        const refusals = [];
        for (const [password, salt] of [["", saltHex], ["pw", "00"]]) {
          try { await vc.gatekeys.passwordGateKey(password, h(salt)); refusals.push(null); }
          catch (e) { refusals.push(e.message); }
        }
        return {out, ticket: vc.bytes.toHex(ticketSig), refusals, scrypt: vc.gatekeys.SCRYPT};""",
        PASSWORDS,
        salt.hex(),
        CHAIN_ID,
        POLL_ID,
        voter.public_key.hex(),
    )
    for password, (public_key, proof) in zip(PASSWORDS, got["out"], strict=True):
        gate = password_gate_key(password, salt)
        assert public_key == gate.public_key.hex(), password
        assert proof == gate_signature(gate, CHAIN_ID, poll, voter.public_key).hex(), password
    assert got["out"][1] == got["out"][2]
    ticket = PrivateKey.from_seed(bytes([9]) * 32)
    assert got["ticket"] == ticket_signature(ticket, CHAIN_ID, poll, voter.public_key).hex()
    assert "empty" in got["refusals"][0] and "16 bytes" in got["refusals"][1]
    scrypt = got["scrypt"]
    assert (scrypt["N"], scrypt["r"], scrypt["p"], scrypt["dkLen"]) == (
        identity.SCRYPT_N,
        identity.SCRYPT_R,
        identity.SCRYPT_P,
        SEED_SIZE,
    )


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(
        ["int", "big", "str", "bytes", "bool", "nil", "array"] if depth < 3 else ["int", "str"]
    )
    if kind == "int":
        return rng.choice([rng.randint(-40, 300), rng.randint(-(2**31) - 2, 2**32 + 2)])
    if kind == "big":
        return rng.choice([rng.randint(-(2**63), 2**64 - 1), rng.randint(-(2**53), 2**53)])
    if kind == "str":
        return "".join(
            chr(
                rng.choice(
                    [rng.randint(32, 126), rng.randint(0xA0, 0xD7FF), rng.randint(0xE000, 0x10FFFF)]
                )
            )
            for _ in range(rng.choice([0, 5, 31, 32, 90]))
        )
    if kind == "bytes":
        return rng.randbytes(rng.choice([0, 1, 255, 256, 300]))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "nil":
        return None
    return [_random_value(rng, depth + 1) for _ in range(rng.choice([0, 1, 2, 15, 16]))]


def test_random_values_encode_as_python_does(page: Page) -> None:
    rng = random.Random(15)
    values = [_random_value(rng) for _ in range(200)]
    got = run(
        page,
        FROM_WIRE
        + """return args[0].map((item) => {
          const bytes = vc.encoding.encode(fromWire(item));
          return vc.bytes.toHex(vc.encoding.encode(vc.encoding.decode(bytes)));
        });""",
        [wire(v) for v in values],
    )
    for value, encoded in zip(values, got, strict=True):
        assert encoded == encoding.encode(value).hex(), str(value)[:80]


def test_without_webcrypto_ed25519_the_page_falls_back_to_the_vendored_library(
    page: Page,
) -> None:
    """A browser whose WebCrypto has no Ed25519 (as before Chrome 137, Firefox 129)."""
    page.context.add_init_script(
        """for (const name of ["generateKey", "importKey"]) {
          const original = crypto.subtle[name].bind(crypto.subtle);
          crypto.subtle[name] = (...args) => JSON.stringify(args).includes("Ed25519")
            ? Promise.reject(new DOMException("Ed25519", "NotSupportedError"))
            : original(...args);
        }"""
    )
    page.reload()
    wait_ready(page)
    got = run(
        page,
        """const made = await vc.keystore.createKey("voter");
        const seeded = await vc.ed25519.signerFromSeed(vc.bytes.fromHex(args[0]));
        const message = new Uint8Array(32).fill(3);
        return {has: await vc.ed25519.hasWebCryptoEd25519(), made: made.kind,
                seeded: seeded.kind, publicKey: vc.bytes.toHex(made.publicKey),
                signature: vc.bytes.toHex(await (await vc.keystore.loadKey("voter")).sign(message)),
                seededSignature: vc.bytes.toHex(await seeded.sign(message))};""",
        SEED.hex(),
    )
    assert got["has"] is False and got["made"] == "noble" and got["seeded"] == "noble"
    message = bytes([3]) * 32
    assert verify_signature(
        bytes.fromhex(got["publicKey"]), bytes.fromhex(got["signature"]), message
    )
    assert got["seededSignature"] == PrivateKey.from_seed(SEED).sign(message).hex()
